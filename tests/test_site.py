"""The real site: `mkdocs build --strict` succeeds and every tutorial page is complete."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import ROOT, TUTORIALS, built_once, mkdocs_build

from tutorial_pipeline.cache import imported_modules

pytestmark = pytest.mark.docs


@pytest.fixture(scope="session")
def site(tmp_path_factory, shared_cache) -> Path:
    """The site, built once per test run (by one xdist worker; the others wait for it)."""

    def build(site_dir: Path) -> str | None:
        result = mkdocs_build(ROOT, cache=shared_cache, site=site_dir)
        if result.returncode != 0:
            return f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
        return None

    return built_once(tmp_path_factory, "site", build)


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def executed_notebook(site: Path, stem: str):
    import nbformat

    return nbformat.read(site / "tutorials" / stem / f"{stem}.ipynb", as_version=4)


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_page_holds_outputs_figures_and_downloads(site: Path, script: Path):
    stem = script.stem
    html = page(site, f"tutorials/{stem}")
    notebook = executed_notebook(site, stem)
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]

    printed = [out.text for out in outputs if out.output_type == "stream" and out.name == "stdout"]
    assert printed, "the page shows printed output"
    first_line = next(line for text in printed for line in text.splitlines() if line.strip())
    assert first_line.strip()[:40].replace("&", "&amp;").replace("<", "&lt;") in html

    images = [out for out in outputs if "image/png" in out.get("data", {})]
    figures = sorted((site / "tutorials" / stem).glob(f"{stem}-figure-*.png"))
    assert len(figures) == len(images)
    if "plt.show()" in script.read_text():
        assert figures, "a tutorial that draws a figure shows it"
    for figure in figures:
        assert figure.read_bytes()[:4] == b"\x89PNG"
        assert f'src="{figure.name}"' in html

    assert "Traceback (most recent call last)" not in html
    assert "data:image/png;base64" not in html
    assert (site / "tutorials" / stem / f"{stem}.py").read_bytes() == script.read_bytes()
    assert f'href="{stem}.py"' in html and f'href="{stem}.ipynb"' in html
    run = re.search(
        r"the page ran in \d+\.\d s on [A-Z]+(?:, not counting the import of (.+?) \(the build "
        r"imports (?:it|those) once for all tutorials\),)? with a peak memory of \d+ MB",
        html,
    )
    assert run, "the run box states the run time, device and memory"
    if run.group(1):  # the kernel was forked: the imports it did not pay are its own
        named = re.findall(r"<code>([\w.]+)</code>", run.group(1))
        assert named and set(named) <= imported_modules(script)


def test_report_lists_every_tutorial_with_time_and_memory(site: Path):
    html = page(site, "tutorials/report")
    for script in TUTORIALS:
        row = re.search(rf'<tr>\s*<td><a href="\.\./{script.stem}/">.*?</tr>', html, re.S)
        assert row, f"{script.stem} is on the report"
        assert re.search(r"\d+\.\d s</td>\s*<td[^>]*>\d+ MB", row.group(0))
        # the device it ran on and the CPU threads its kernel was given
        assert re.search(r"<td[^>]*>(?:CPU|CUDA|MPS|XPU)</td>\s*<td[^>]*>\d+</td>", row.group(0))
    assert "torch 2.14.1" in html
    forked = [
        s.stem
        for s in TUTORIALS
        if "not counting the import of" in page(site, f"tutorials/{s.stem}")
    ]
    if forked:  # the pages say their run time leaves imports out; the report says why
        assert "The kernels are forked from one process" in html


CODE_BLOCK = re.compile(
    r'<div class="language-python highlight"><pre><span></span><code>(.*?)</code></pre></div>', re.S
)


def article(html: str) -> str:
    """The page's content, without Material's header, nav and footer."""
    return html[html.index("<article") : html.index("</article>")]


def test_tutorial_pages_weigh_like_posts(site: Path):
    """No notebook bloat (CSS, wrappers, hidden copies of the code, base64 figures): outside
    its code blocks a tutorial page weighs at most twice 'Why PyTorch', and its code blocks
    hold nothing but the code in Pygments' token spans (the posts' full highlighting)."""
    post = len((site / "posts/why-pytorch/index.html").read_bytes())
    too_heavy = {}
    for script in TUTORIALS:
        html = page(site, f"tutorials/{script.stem}")
        for block in CODE_BLOCK.findall(html):
            assert set(re.findall(r"</?([a-z]+)", block)) <= {"span", "a"}, script.stem
        rest = len(CODE_BLOCK.sub("", html).encode())
        if rest > 2 * post:
            too_heavy[script.stem] = rest
    assert not too_heavy, f"'Why PyTorch' is {post} bytes; outside code, these weigh more than 2x"


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_pages_are_laid_out_like_posts(site: Path, script: Path):
    """Material's code blocks with full highlighting, outputs in its result boxes, no
    notebook furniture (prompts, JupyterLab classes, tab stops, styles, scripts)."""
    content = article(page(site, f"tutorials/{script.stem}"))
    assert CODE_BLOCK.search(content)
    assert '<span class="n">' in content and '<span class="p">' in content
    assert '<div class="result nb-output no-copy" data-search-exclude>' in content
    for furniture in ("jp-", "In&nbsp;[", "In [", "tabindex", "<style", "<script", "¶</a>"):
        assert furniture not in content, furniture
    notebook = executed_notebook(site, script.stem)
    solutions = [c for c in notebook.cells if "solution" in c.metadata.get("tags", [])]
    assert content.count('<details class="solution">') == len(solutions)
    assert "<details open" not in content


def test_gallery_has_a_card_with_a_picture_for_every_tutorial(site: Path):
    gallery = page(site, "tutorials")
    cards = re.findall(
        r'<li>\s*<p><img class="tutorial-card__thumbnail" src="([^"]+)" alt=""[^>]*></p>\s*'
        r'<p><a class="tutorial-card__title" href="([^"]+)/">([^<]+)</a></p>\s*<p>(.+?)</p>\s*'
        r'<p><span class="tutorial-card__meta">Runs in \d+\.\d s on [A-Z]+</span></p>',
        gallery,
        re.S,
    )
    assert [href for _, href, _, _ in cards] == [script.stem for script in TUTORIALS]
    for image, _, title, summary in cards:
        assert (site / "tutorials" / image).resolve().is_file(), image
        assert title.strip() and summary.strip()
    assert 'href="tutorials/"' in page(site, "."), "the home page links to the gallery"


def test_mathjax_loads_only_on_pages_with_math(site: Path):
    with_math = set()
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        has_math = 'class="arithmatex"' in html
        assert has_math == ("mathjax/tex-chtml.js" in html), path.relative_to(site)
        if has_math:
            with_math.add(path.parent.relative_to(site).as_posix())
    assert {"posts/computational-graph", "tutorials/02_autograd"} <= with_math
    assert "posts/tensors-reference" not in with_math


def test_search_finds_sections_without_prompts_pilcrows_tex_or_the_report(site: Path):
    import json

    docs = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))["docs"]
    assert not [d["title"] for d in docs if "¶" in d["title"]]
    tex = re.compile(r"\\\(|\\\[|\\begin\{|\\frac|In \[\d+\]:")
    assert not [d["location"] for d in docs if tex.search(d["text"] + d["title"])]
    locations = [d["location"] for d in docs]
    assert not [loc for loc in locations if loc.startswith(("tutorials/report/", "tutorials/#"))]
    assert "tutorials/" not in locations, "the gallery repeats the tutorials' summaries"
    for script in TUTORIALS:
        sections = [loc for loc in locations if loc.startswith(f"tutorials/{script.stem}/#")]
        assert len(sections) >= 3, f"{script.stem} is indexed by section"


def test_learning_path_links_every_page_and_next_follows_it(site: Path):
    """Following "Next" from the home page visits every post and tutorial once, and the home
    page's learning path links each of them."""
    expected = {f"posts/{p.stem}" for p in (ROOT / "docs/posts").glob("*.md")}
    expected |= {f"tutorials/{p.stem}" for p in TUTORIALS}
    home = page(site, ".")
    path_table = home[home.index('id="a-path-through-the-material"') :]
    for name in expected:
        assert f'href="{name}/"' in path_table, name
    visited, current = [], "."
    while match := re.search(
        r'<a href="([^"]+)" class="md-footer__link md-footer__link--next"', page(site, current)
    ):
        current = os.path.normpath(os.path.join(current, match.group(1)))
        visited.append(current)
    assert len(visited) == len(set(visited))
    assert expected <= set(visited)


def test_tutorial_pages_can_be_run_and_shared(site: Path):
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    repo = config["repo_url"].rstrip("/")
    owner_repo = repo.removeprefix("https://github.com/")
    branch = config["extra"]["notebooks_branch"]
    for script in TUTORIALS:
        stem = script.stem
        html = page(site, f"tutorials/{stem}")
        assert html.count(f'href="{stem}.py" download') >= 2, "downloads at the top and bottom"
        assert html.count(f'href="{stem}.ipynb" download') >= 2
        assert f'href="{repo}/edit/main/tutorials/{stem}.py"' in html
        assert f'href="{repo}/raw/main/tutorials/{stem}.py"' in html
        colab = f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}"
        assert f'href="{colab}/tutorials/{stem}/{stem}.ipynb"' in html
        assert "md-source-file__fact" in html, "a last-updated date"
    site_url = config["site_url"]
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert f"<loc>{site_url}tutorials/{TUTORIALS[0].stem}/</loc>" in sitemap
    sub_path = "/" + site_url.split("://", 1)[1].split("/", 1)[1]
    not_found = (site / "404.html").read_text(encoding="utf-8")
    assert f'href="{sub_path}assets/stylesheets/' in not_found


def test_site_loads_nothing_from_other_hosts(site: Path):
    # (A canonical link names the page's address on the deployed site; it loads nothing.)
    remote = re.compile(
        r'<(?:script|img)[^>]+src="(?:https?:)?//|<link(?![^>]*rel="canonical")[^>]+href="(?:https?:)?//',
        re.I,
    )
    offenders = [
        str(path.relative_to(site))
        for path in site.rglob("*.html")
        if remote.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert (site / "assets/mathjax/tex-chtml.js").is_file()
    assert list((site / "assets/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))


def test_posts_show_their_snippets(site: Path):
    """Each included snippet's first line appears, highlighted, in its post."""
    for post in sorted((ROOT / "docs/posts").glob("*.md")):
        text = post.read_text(encoding="utf-8")
        includes = re.findall(r'--8<-- "(snippets/[^"]+)"', text)
        html = page(site, f"posts/{post.stem}")
        for include in includes:
            first = (ROOT / include).read_text(encoding="utf-8").splitlines()[0]
            words = re.findall(r"\w+", first)
            assert all(word in html for word in words), f"{include} is shown in {post.name}"


def test_posts_and_tutorials_are_searchable(site: Path):
    import json

    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    posts = {f"posts/{p.stem}/" for p in (ROOT / "docs/posts").glob("*.md")}
    tutorials = {f"tutorials/{p.stem}/" for p in TUTORIALS}
    assert posts | tutorials <= locations


def test_a_page_that_asks_for_a_gpu_run_says_which_run_it_shows(site: Path):
    """08's lesson is a GPU's numbers (# sphinx_gallery_publish_target = "cuda"): its page is
    published from a GPU run where the build has one, and says which run it shows."""
    html = page(site, "tutorials/08_accelerators")
    shown = re.search(
        r"The tutorial asks for its page to come from a run on a CUDA device(?:, since its "
        r"lesson is that device's numbers: this is that run|; this build had no such run, so "
        r"the numbers below are the (CPU[^']*)'s)\.",
        html,
    )
    assert shown, "the run box says which run the page shows"
    ran_on = re.search(r"the page ran in \d+\.\d s on ([^<,]+?)(?:,| with)", html).group(1)
    assert ran_on.startswith("CPU") == bool(shown.group(1))
    report = page(site, "tutorials/report")
    assert "asks for a CUDA run" in report
