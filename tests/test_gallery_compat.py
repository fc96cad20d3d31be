"""sphinx-gallery compatibility: a script written for sphinx-gallery builds here unchanged.

``tests/gallery_compat/`` holds one small script per sphinx-gallery feature (none needs torch,
so they run in seconds). They are built together, through the real pipeline, in ONE
``mkdocs build --strict`` of a small site that uses the project's mkdocs.yml, and each page is
checked for what sphinx-gallery would show. The scripts in ``broken/`` (no gallery header, so
never part of that site) are built on their own and must each fail with file and line.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, TUTORIALS, built_once, mkdocs_build

from tutorial_pipeline import TutorialBuildError, TutorialError, build_tutorials, discover
from tutorial_pipeline.convert import script_to_notebook

pytestmark = pytest.mark.docs

COMPAT = Path(__file__).resolve().parent / "gallery_compat"
# Role, directive, substitution and link-target syntax that must never reach a page as text.
RAW_REST = re.compile(
    r":(?:[a-z]+:)+`|\.\. [a-z-]+::|\.\. _[\w-]+:|`_\b|`__\b|\|[a-z]+\||sphinx_gallery_\w+ ="
)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The compatibility scripts built as one small site, once per test run; returns the
    project folder."""
    return built_once(tmp_path_factory, "compat", _build_compat_site)


def _write_project(project: Path) -> None:
    """A site with the project's mkdocs.yml (the hook, the strict_tutorials setting), a home
    page and no tutorials yet."""
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["hooks"] = [str(ROOT / "src/tutorial_pipeline/mkdocs_hook.py")]
    config["theme"]["custom_dir"] = str(ROOT / "docs/overrides")
    config["nav"] = [
        {"Home": "index.md"},
        {
            "Reference": [
                {"All tutorials": "tutorials/index.md"},
                {"API index": "tutorials/api-index.md"},
                {"Build report": "tutorials/report.md"},
            ]
        },
    ]
    config.pop("extra_javascript", None)
    config.pop("extra_css", None)
    config.pop("watch", None)
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    (project / "docs").mkdir()
    (project / "docs/index.md").write_text("# Home\n\n## A path through the material\n")


def _build_compat_site(project: Path) -> str | None:
    _write_project(project)
    shutil.copytree(COMPAT, project / "tutorials", ignore=shutil.ignore_patterns("__pycache__"))
    # Written here rather than kept in the tree: a Latin-1 file is not a file ruff can read.
    (project / "tutorials" / "latin1_source.py").write_bytes(LATIN1_SCRIPT)
    (project / "docs/assets").mkdir()
    (project / "docs/assets/thumb.png").write_bytes(_png(40, 20))
    result = mkdocs_build(project, cache=project / ".cache")
    (project / "build.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        return f"the compatibility site did not build:\n{result.stdout}\n{result.stderr}"
    return None


def article(project: Path, page: str) -> str:
    text = (project / "site" / page / "index.html").read_text(encoding="utf-8")
    return text[text.index("<article") : text.index("</article>")]


def prose(page_html: str) -> str:
    """A page's text outside code, outputs and tags."""
    text = re.sub(r"<pre\b.*?</pre>|<code\b.*?</code>", " ", page_html, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


PAGES = [p.stem for p in sorted(COMPAT.glob("[!_]*.py"))] + ["in_section", "latin1_source"]
#: A script in Latin-1 with a PEP 263 coding line (written into the site by the fixture).
LATIN1_SCRIPT = (
    "# -*- coding: latin-1 -*-\n"
    '"""\nA script in Latin-1\n===================\n\n'
    "Its coding line names Latin-1, and Python reads caf\xe9 and na\xefve as it says.\n"
    '"""\n\nprint("caf\xe9", len("na\xefve"))\n'
).encode("latin-1")


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def build_log(project: Path) -> str:
    return (project / "build.log").read_text(encoding="utf-8")


@pytest.mark.parametrize("stem", PAGES)
def test_every_script_builds_into_a_page_without_raw_rest(site: Path, stem: str):
    page = article(site, f"tutorials/{stem}")
    assert "<h1" in page
    assert not RAW_REST.findall(prose(page)), f"raw reST on the {stem} page"
    assert "Traceback" not in page


def test_leading_rest_before_the_title_stays_as_prose(site: Path):
    page = article(site, "tutorials/leading_rest")
    links, title = page.index('href="../separators/"'), page.index("<h1")
    assert 'id="leading-rest"' in page and links < title
    assert ">Leading reST before the title<" in page
    gallery = article(site, "tutorials")
    assert "Leading reST before the title" in gallery


def test_both_cell_separators_split_cells(site: Path):
    page = article(site, "tutorials/separators")
    for text in ["after a percent separator", "after a hash-line separator", "tagged cell"]:
        assert text in page
    assert ">Percent separator<" in page and ">Hash-line separator<" in page
    assert '<details class="solution">' in page  # tags=["solution"]: a collapsed cell


def test_helper_module_data_file_and___file__(site: Path):
    assert "hello from the helper module 42" in article(site, "tutorials/helper_module")
    page = article(site, "tutorials/data_file")
    assert (
        "rows: [&#x27;alpha&#x27;, &#x27;beta&#x27;]" in page or "rows: ['alpha', 'beta']" in page
    )
    assert "script: data_file.py | data beside it: True" in page
    assert not (site / "site/tutorials/_compat_helpers").exists(), "a helper is not a page"
    # Names from the standard library link to its reference, Pygments' spans kept inside.
    assert (
        '<a href="https://docs.python.org/3/library/csv.html#csv.DictReader" class="api-link"'
        in page
    )
    assert re.search(r'class="api-link"[^>]*><span class="n">csv</span><span class="o">\.', page)


def test_headings_math_and_code(site: Path):
    page = article(site, "tutorials/rest_constructs")
    for level, title in [(2, "Math and code"), (3, "Third level"), (4, "Fourth level")]:
        assert re.search(rf"<h{level} id=\"[^\"]+\">{title}<", page)
    intro = page[page.index("Every construct") : page.index("Every construct") + 1500]
    assert intro.count('<span class="arithmatex">\\(') == 3, "three :math: roles, three formulas"
    assert r"\(a_1 * b_2\)" in intro
    assert (
        '<span class="arithmatex">\\begin{equation*}\\begin{split}\\hat{y} &amp;= W x + b' in page
    )
    assert 'python<span class="w"> </span>rest_constructs.py' in page  # code-block:: bash
    assert '<div class="highlight"><pre><span></span><code><span class="n">x</span>' in page
    assert '<span class="gp">&gt;&gt;&gt; </span>' in page  # a doctest block


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("note", "Note"),
        ("warning", "Warning"),
        ("note seealso", "See also"),
        ("tip", "Tip"),
        ("tip important", "Important"),
        ("tip hint", "Hint"),
        ("warning caution", "Caution"),
        ("danger", "Danger"),
        ("warning attention", "Attention"),
        ("danger error", "Error"),
        ("note", "A custom title"),
    ],
)
def test_admonitions_are_material_admonitions(site: Path, kind: str, title: str):
    page = article(site, "tutorials/rest_constructs")
    assert f'<div class="admonition {kind}"><p class="admonition-title">{title}</p>' in page


def test_images_figures_substitutions_links_and_downloads(site: Path):
    page = article(site, "tutorials/rest_constructs")
    folder = site / "site/tutorials/rest_constructs"
    assert '<img alt="An inline diagram" src="diagram.svg"' in page
    assert re.search(r'<figure class="rst-figure">\s*<p><img alt="The same diagram', page)
    assert "<figcaption>\n<p>The figure\N{RIGHT SINGLE QUOTATION MARK}s caption.</p>" in page
    assert (folder / "diagram.svg").read_bytes() == (COMPAT / "diagram.svg").read_bytes()
    assert "<em>compatibility suite</em>" in page
    assert '<a href="https://www.python.org">Python</a>' in page
    assert '<a href="https://docs.python.org/3/">the docs</a>' in page
    assert '<a href="https://www.python.org/dev/peps/">link</a>' in page
    assert '<a href="compat_data.csv">the data</a>' in page
    assert (folder / "compat_data.csv").read_bytes() == (COMPAT / "compat_data.csv").read_bytes()


def test_references_resolve_on_this_site(site: Path):
    page = article(site, "tutorials/rest_constructs")
    assert (
        'id="admonitions-label"' in page and '<a href="#admonitions-label">Admonitions</a>' in page
    )
    assert '<a href="../rest_targets/#compat-targets">Targets on another page</a>' in page
    assert '<a href="../rest_targets/#targets-section">its section</a>' in page
    assert '<a href="../rest_targets/#a-heading-to-link-to">A heading to link to</a>' in page
    assert '<a href="../rest_targets/">Targets on another page</a>' in page
    assert "stays text: some-other-site-label." in prose(page).replace("\n", " ")
    targets = article(site, "tutorials/rest_targets")
    assert 'id="compat-targets"' in targets and 'id="targets-section"' in targets
    report = article(site, "tutorials/report")
    row = re.search(r"<tr>\s*<td><code>([^<]*)</code></td>\s*<td>(.*?)</td>", report, re.S)
    line = next(
        number
        for number, text in enumerate((COMPAT / "rest_constructs.py").read_text().splitlines(), 1)
        if ":ref:`some-other-site-label`" in text
    )
    assert row and row.group(1) == f"tutorials/rest_constructs.py:{line}"
    assert "some-other-site-label" in row.group(2)


def test_api_roles_and_other_sphinx_markup(site: Path):
    page = article(site, "tutorials/rest_constructs")
    link = '<a href="https://docs.python.org/3/library/{}"><code>{}</code></a>'
    assert link.format("os.path.html#os.path.join", "os.path.join()") in page
    assert link.format("pathlib.html#pathlib.Path", "pathlib.Path") in page
    assert link.format("pathlib.html#pathlib.Path.read_text", "pathlib.Path.read_text()") in page
    assert link.format("json.html", "json") in page
    assert link.format("collections.html#collections.OrderedDict", "OrderedDict") in page
    assert "<code>numpy.linspace()</code>" in page  # another site's API: code, not a link
    assert "<li>a list after <code>rst-class</code></li>" in page
    assert "Only-html text is kept." in page and "Only-latex" not in page
    assert "<em>Added in version 1.0</em>: The versionadded note." in page
    assert "<dt>term</dt>" in page and "<th>A</th><th>B</th>" in page
    assert "<caption>A list table</caption>" in page
    assert (
        "<kbd>Ctrl+C</kbd>" in page and '<abbr title="graphics processing unit">GPU</abbr>' in page
    )
    assert "<blockquote>" in page and "A line block,<br/>two lines." in page


def test_thumbnail_number_picks_the_second_figure(site: Path):
    from PIL import Image

    with Image.open(site / "site/tutorials/thumbnails/thumbnail_config.png") as thumbnail:
        assert thumbnail.width / thumbnail.height > 2  # the 6 x 2 inch figure, not the square one


def test_line_numbers(site: Path):
    page = article(site, "tutorials/line_numbers")
    first = (COMPAT / "line_numbers.py").read_text().splitlines().index("first = 1") + 1
    numbers = re.findall(r'data-linenos="\s*(\d+) "', page)
    assert numbers == [str(n) for n in range(first, first + 3)]
    assert "data-linenos" not in article(site, "tutorials/separators")


def test_capture_repr(site: Path):
    page = article(site, "tutorials/capture_repr")
    assert "printed output is still shown" in page
    outputs = re.findall(r'<div class="[^"]*nb-output[^"]*"[^>]*>(.*?)</div>\n', page, re.S)
    shown = " ".join(outputs)
    assert "42" not in shown, "capture_repr = (): no result"
    assert "<b>rich-html-repr</b>" in shown, "_repr_html_ first"
    assert shown.count("plain-repr") == 1, "__repr__ only where the block asks for it"


def test_ignore_blocks_run_but_are_hidden(site: Path):
    page = article(site, "tutorials/ignore_blocks")
    assert "printed-by-hidden-code" in page and "visible cell uses computed-by-hidden-code" in page
    assert "HIDDEN_VALUE =" not in page and "start_ignore</span>" not in page
    folder = site / "site/tutorials/ignore_blocks"
    script = (folder / "ignore_blocks.py").read_text()
    assert "HIDDEN_VALUE =" not in script and "sphinx_gallery_start_ignore\n" not in script
    assert 'print("visible cell uses", HIDDEN_VALUE)' in script
    notebook = nbformat.read(folder / "ignore_blocks.ipynb", as_version=4)
    assert not any("HIDDEN_VALUE =" in cell.source for cell in notebook.cells)
    (cached,) = (site / ".cache").glob("entries/ignore_blocks-*/notebook.ipynb")
    assert "HIDDEN_VALUE =" in cached.read_text(), "the build ran the ignore block"


def test_sections_in_the_gallery_and_the_nav(site: Path):
    gallery = article(site, "tutorials")
    heading = gallery.index(">Section demo<")
    assert "form a <em>section</em> of the gallery" in gallery
    assert gallery.index('href="in_section/"') > heading > gallery.index('href="separators/"')
    nav = " ".join((site / "site/index.html").read_text().split())
    group = nav[nav.index("Section demo </label>") :]
    assert group.index('href="tutorials/in_section/"') < group.index("</nav>")
    assert nav.index("More tutorials </label>") < nav.index("Section demo </label>")


def test_api_index_page_exists(site: Path):
    page = article(site, "tutorials/api-index")
    assert "<h1" in page and "API index" in page


# -- Without a site build ---------------------------------------------------------------------


def test_scripts_sphinx_gallery_refuses_or_that_fail_name_file_and_line(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(COMPAT / "broken", broken)
    scripts = sorted(broken.glob("*.py"))
    with pytest.raises(TutorialBuildError) as info:
        build_tutorials(scripts, cache_dir=tmp_path / "cache", environment="env", jobs=1)
    failures = {Path(f.path).name: (f.line, f.message) for f in info.value.failures}
    assert failures == {
        "bad_config.py": (8, 'sphinx_gallery_thumbnail_number = "two": sphinx-gallery expects int'),
        "bad_rest.py": (5, 'reST: Unknown directive type "not-a-directive".'),
        "exits.py": (11, failures["exits.py"][1]),
        "failing.py": (12, "RuntimeError: planted failure"),
        "no_docstring.py": (1, failures["no_docstring.py"][1]),
        "unclosed_ignore.py": (8, "sphinx_gallery_start_ignore without an end_ignore"),
        "unknown_setting.py": (8, failures["unknown_setting.py"][1]),
    }
    assert failures["exits.py"][1].startswith("SystemExit: 0 (the script exits here: in sphinx-")
    assert failures["unknown_setting.py"][1].startswith(
        "sphinx_gallery_thumbnial_number: not a setting sphinx-gallery's docs list"
    )
    assert failures["no_docstring.py"][1].startswith("no docstring")
    failing = next(script for script in scripts if script.name == "failing.py")
    assert f"{failing}:12: RuntimeError: planted failure" in str(info.value)


def test_discover_finds_sections_after_the_top_level_tutorials(tmp_path):
    for path in [
        "a.py",
        "b.py",
        "_helper.py",
        "sub/x.py",
        "sub/GALLERY_HEADER.rst",
        "other/README.txt",
        "other/y.py",
        "data/z.py",
    ]:
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text('"""\nT\n=\n"""\n')
    names = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)]
    assert names == ["a.py", "b.py", "other/y.py", "sub/x.py"]  # data/ has no header
    (tmp_path / "sub/a.py").write_text("")
    with pytest.raises(TutorialBuildError, match="same file name"):
        discover(tmp_path)


def test_code_names_link_torch_apis_keeping_the_highlighting(tmp_path):
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    from tutorial_pipeline.apiref import link_code
    from tutorial_pipeline.publish import render_api_index

    script = tmp_path / "uses_torch.py"
    script.write_text(
        '"""\nUses torch\n==========\n\nSee :class:`torch.nn.Linear`.\n"""\n\n'
        "import torch\nfrom torch import nn\n\nlayer = nn.Linear(2, 2)\nx = torch.randn(3)\n"
    )
    notebook = script_to_notebook(script)
    meta = notebook.metadata["tutorial_page"]
    generated = "https://docs.pytorch.org/docs/stable/generated/"
    assert meta["code_names"]["nn.Linear"] == [
        "torch.nn.Linear",
        generated + "torch.nn.Linear.html",
    ]
    assert meta["api"] == {
        "torch.nn.Linear": generated + "torch.nn.Linear.html",
        "torch.randn": generated + "torch.randn.html",
    }
    code = highlight("layer = nn.Linear(2, 2)", PythonLexer(), HtmlFormatter(nowrap=True))
    linked = link_code(code, meta["code_names"])
    assert (
        f'<a href="{generated}torch.nn.Linear.html" class="api-link" title="torch.nn.Linear">'
        '<span class="n">nn</span><span class="o">.</span><span class="n">Linear</span></a>'
    ) in linked
    index = render_api_index([("Uses torch", "uses_torch.ipynb", meta["api"])])
    assert f"- [`torch.nn.Linear`]({generated}torch.nn.Linear.html)" in index
    assert "[Uses torch](uses_torch.ipynb)" in index


def test_the_sites_tutorials_have_no_unresolved_references_or_raw_rest():
    """Every cross-reference in the site's own tutorials names a page or label of the site."""
    from mkdocs.structure.files import File, Files

    from tutorial_pipeline.publish import SiteIndex, publish_notebook

    index = SiteIndex()
    notebooks = {}
    for script in TUTORIALS:
        uri = f"tutorials/{script.stem}.ipynb"
        notebooks[uri] = script_to_notebook(script)
        index.add_tutorial(uri, notebooks[uri], key=script.stem)
    docs = ROOT / "docs"
    pages = Files(
        [File(p.relative_to(docs).as_posix(), str(docs), "/site", True) for p in docs.rglob("*.md")]
    )
    for file in pages.documentation_pages():
        first = re.search(r"^#\s+(.+)$", Path(file.abs_src_path).read_text(), re.M)
        index.add_page(file.src_uri, first.group(1) if first else file.src_uri)
    for uri, notebook in notebooks.items():
        published = publish_notebook(notebook, src_uri=uri, index=index)
        for cell in published.cells:
            if cell.cell_type == "markdown":
                text = re.sub(r"```.*?```|`[^`]*`", "", cell.source, flags=re.S)
                assert not RAW_REST.findall(text), f"raw reST in {uri}: {RAW_REST.findall(text)}"
    assert index.unresolved == [], json.dumps(index.unresolved, indent=1)


# -- issue 16: what Sphinx and sphinx-gallery do with third-party scripts ----------------------


def _line_of(script: str, text: str) -> int:
    lines = (COMPAT / script).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def _code_cells(page: str) -> list[str]:
    """The page from each code block to the next: the code and the outputs under it."""
    return page.split('<div class="language-python highlight">')[1:]


def test_rest_warnings_render_as_sphinx_renders_them_and_are_listed(site: Path):
    page = article(site, "tutorials/short_underline")
    assert re.search(r"<h1[^>]*>A title with a short underline<", page)
    assert re.search(r"<h2[^>]*>A section with \*unclosed emphasis", page)  # the text as typed
    assert "rendered despite the warnings" in page
    underline, emphasis = 3, _line_of("short_underline.py", "*unclosed emphasis")
    log = build_log(site)
    for line, message in [
        (underline, "reST: Title underline too short."),
        (emphasis, "reST: Inline emphasis start-string without end-string."),
    ]:
        where = f"tutorials/short_underline.py:{line}"
        # One INFO line each (a WARNING would fail `mkdocs build --strict`).
        assert log.count(f"INFO    -  tolerated, as Sphinx renders it: {where}: {message}") == 1
        assert f"<code>{where}</code></td>\n<td>{message}</td>" in article(site, "tutorials/report")
    assert "WARNING" not in log


def test_a_strict_tutorial_fails_on_a_rest_warning():
    """This site's own tutorials (mkdocs.yml's strict_tutorials) keep failing on warnings."""
    with pytest.raises(TutorialError) as info:
        script_to_notebook(COMPAT / "short_underline.py", strict=True)
    assert (info.value.line, info.value.message) == (3, "reST: Title underline too short.")


def test_noqa_e501_comments_are_stripped_from_the_text(site: Path):
    page = article(site, "tutorials/short_underline")
    assert "E501" not in page
    assert "the comment that silences it is not part of the text.</p>" in page
    assert "may end with the comment that sphinx-gallery strips.</p>" in page


def test_scripts_run_as_sphinx_gallery_runs_them(site: Path):
    page = article(site, "tutorials/execution_semantics")
    text = html.unescape(page)
    assert "argv: ['execution_semantics.py']" in text  # argparse saw no arguments
    assert "epochs: 3" in text and "main: True" in text
    assert "input() refused: input() cannot be answered" in text
    assert str(site) not in page and str(ROOT) not in page  # no path of the machine


def test_figures_are_taken_when_each_cell_ends(site: Path):
    cells = _code_cells(article(site, "tutorials/figures"))
    # Deferred, finished, shown-then-closed, drawn on after plt.show().
    assert [cell.count('<figure class="nb-figure">') for cell in cells] == [0, 1, 0, 1]
    finished, _, drawn_after = cells[1], cells[2], cells[3]
    assert "lines on the figure: 3" in finished
    assert "lines: 2" in drawn_after  # plt.show() drew nothing: one figure, two lines
    # Figures first, then what the cell printed, as sphinx-gallery lays them out.
    assert drawn_after.index("nb-figure") < drawn_after.index("<code>printed before the figure")


def test_figures_of_one_cell_sit_side_by_side_unless_single(site: Path):
    cells = _code_cells(article(site, "tutorials/figure_layout"))
    assert re.search(
        r'<div class="nb-figures-row">\s*(<figure class="nb-figure">.*?</figure>\s*){2}</div>',
        cells[0],
        re.S,
    )
    assert "nb-figures-row" not in cells[1] and cells[1].count('class="nb-figure"') == 2


def test_tags_and_sphinx_gallery_labels(site: Path):
    page = article(site, "tutorials/figure_layout")
    assert '<p class="tutorial-tags">Tags: figures, layout</p>' in page
    # sphx_glr_<gallery folders>_<file>.py, sphinx-gallery's label of an example page.
    assert '<a href="../figures/">Figures as sphinx-gallery takes them</a>' in page


def test_one_code_block_shows_its_output_above_the_code(site: Path):
    page = article(site, "tutorials/single_block")
    assert page.index('class="nb-figure"') < page.index("one block, output first</code>")
    assert page.index("one block, output first</code>") < page.index("language-python highlight")


def test_printed_warnings_are_shown_and_listed_or_fail_a_strict_tutorial(site: Path):
    from tutorial_pipeline.execute import check_outputs

    line = _line_of("printed_warning.py", "warnings.warn(")
    page = html.unescape(article(site, "tutorials/printed_warning"))
    assert f"printed_warning.py:{line}: UserWarning: shown on the page" in page
    assert f"<code>tutorials/printed_warning.py:{line}</code>" in article(site, "tutorials/report")
    (cached,) = (site / ".cache").glob("entries/printed_warning-*/notebook.ipynb")
    notebook = nbformat.read(cached, as_version=4)
    check_outputs(notebook, COMPAT / "printed_warning.py", strict=False)
    with pytest.raises(TutorialError) as info:
        check_outputs(notebook, COMPAT / "printed_warning.py", strict=True)
    assert (info.value.line, info.value.message) == (
        line,
        "UserWarning: shown on the page (tutorials must run warning-free)",
    )


def test_stdout_and_stderr_read_in_the_order_written(site: Path):
    cell = _code_cells(article(site, "tutorials/printed_warning"))[1]
    written = re.findall(r"to (?:stdout|stderr) \d", cell.split("</code></pre></div>", 1)[1])
    assert written == [f"to {s} {n}" for n in range(3) for s in ("stdout", "stderr")]


def test_settings_sphinx_gallery_lists_work_or_are_accepted(site: Path):
    from PIL import Image

    notebook = script_to_notebook(COMPAT / "settings.py")
    assert notebook.metadata["sphinx_gallery"]["parallel"] is False
    with Image.open(site / "site/tutorials/thumbnails/settings.png") as thumbnail:
        assert thumbnail.size == (40, 20)  # sphinx_gallery_thumbnail_path
    line = _line_of("settings.py", "sphinx_gallery_not_a_setting")
    report = article(site, "tutorials/report")
    assert (
        f"<code>tutorials/settings.py:{line}</code></td>\n<td>sphinx_gallery_not_a_setting"
        in report
    )


def test_a_script_that_asks_to_run_alone_runs_alone():
    """``sphinx_gallery_parallel = False``: it waits for the running ones and holds off new."""
    import threading
    import time

    from tutorial_pipeline.execute import RunAlone

    runs = RunAlone()
    events: list[str] = []
    first_running, release_first = threading.Event(), threading.Event()

    def shared(name: str, hold: threading.Event | None = None):
        with runs.hold(alone=False):
            events.append(f"{name} starts")
            if hold is not None:
                first_running.set()
                hold.wait(10)
            events.append(f"{name} ends")

    def alone():
        with runs.hold(alone=True):
            events.append("alone starts")
            time.sleep(0.2)
            events.append("alone ends")

    threads = [threading.Thread(target=shared, args=("first", release_first))]
    threads[0].start()
    first_running.wait(10)
    threads.append(threading.Thread(target=alone))
    threads[1].start()
    time.sleep(0.2)  # the alone one now waits for the first
    threads.append(threading.Thread(target=shared, args=("second",)))
    threads[2].start()
    time.sleep(0.2)
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert events == [
        "first starts",
        "first ends",
        "alone starts",
        "alone ends",
        "second starts",
        "second ends",
    ]


def test_a_coding_line_is_honoured(site: Path):
    page = article(site, "tutorials/latin1_source")
    assert "Python reads caf\xe9 and na\xefve as it says." in page
    assert "caf\xe9 5" in page


def test_a_script_python_cannot_decode_fails_with_the_byte_offset(tmp_path):
    script = tmp_path / "not_utf8.py"
    data = '"""\nLatin-1, undeclared\n===================\n\n"""\n\nprint("caf\xe9")\n'
    script.write_bytes(data.encode("latin-1"))
    offset = data.index("\xe9")
    with pytest.raises(TutorialBuildError) as info:
        build_tutorials([script], cache_dir=tmp_path / "cache", environment="env", jobs=1)
    (failure,) = info.value.failures
    assert str(failure) == (
        f"{script}:7: SyntaxError: byte 0xe9 at offset {offset} does not decode as utf-8 "
        "(it has no PEP 263 coding line naming another encoding)"
    )
    assert not failure.details  # one line, no traceback of the pipeline


def test_a_broken_relative_link_in_a_tutorial_fails_the_strict_build(tmp_path):
    _write_project(tmp_path)
    (tmp_path / "tutorials").mkdir()
    shutil.copy(COMPAT / "links/broken_link.py", tmp_path / "tutorials")
    result = mkdocs_build(tmp_path, cache=tmp_path / ".cache")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    line = _line_of("links/broken_link.py", "`a missing page")  # where the link starts
    warnings = [text for text in output.splitlines() if text.startswith("WARNING")]
    assert warnings == [
        f"WARNING -  tutorials/broken_link.py:{line}: the link '../no-such-page/' in the "
        "tutorial's text points to no page or file of this site"
    ], output
    assert "Aborted with 1 warnings in strict mode" in output


@pytest.mark.parametrize("script", TUTORIALS, ids=[t.stem for t in TUTORIALS])
def test_the_sites_tutorials_are_strict_and_free_of_rest_warnings(script: Path):
    """mkdocs.yml names this site's tutorials as strict, and none has a reST warning."""
    import yaml

    from tutorial_pipeline.convert import strict_tutorial

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    patterns = config["extra"]["strict_tutorials"]
    assert strict_tutorial(script, ROOT / "tutorials", patterns)
    notebook = script_to_notebook(script, strict=True)
    assert notebook.metadata["tutorial_page"]["warnings"] == []
