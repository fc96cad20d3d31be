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

from tutorial_pipeline import TutorialBuildError, build_tutorials, discover
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


def _build_compat_site(project: Path) -> str | None:
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
    shutil.copytree(COMPAT, project / "tutorials", ignore=shutil.ignore_patterns("__pycache__"))
    result = mkdocs_build(project, cache=project / ".cache")
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


PAGES = [p.stem for p in sorted(COMPAT.glob("[!_]*.py"))] + ["in_section"]


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
    assert "<figcaption>\n<p>The figure's caption.</p>" in page
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
        "failing.py": (12, "RuntimeError: planted failure"),
        "no_docstring.py": (1, failures["no_docstring.py"][1]),
        "unclosed_ignore.py": (8, "sphinx_gallery_start_ignore without an end_ignore"),
    }
    assert failures["no_docstring.py"][1].startswith("no docstring")
    assert f"{scripts[2]}:12: RuntimeError: planted failure" in str(info.value)


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
