"""The real site: `mkdocs build --strict` succeeds and every tutorial page is complete."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TUTORIALS

pytestmark = pytest.mark.docs


@pytest.fixture(scope="session")
def site(tmp_path_factory, shared_cache) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site_dir)],
        cwd=ROOT,
        env={**os.environ, "TUTORIAL_CACHE_DIR": str(shared_cache)},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}")
    return site_dir


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
    assert re.search(r"the page ran in \d+\.\d s on [A-Z]+ with a peak memory of \d+ MB", html)


def test_report_lists_every_tutorial_with_time_and_memory(site: Path):
    html = page(site, "tutorials/report")
    for script in TUTORIALS:
        row = re.search(rf'<tr>\s*<td><a href="\.\./{script.stem}/">.*?</tr>', html, re.S)
        assert row, f"{script.stem} is on the report"
        assert re.search(r"\d+\.\d s</td>\s*<td[^>]*>\d+ MB", row.group(0))
    assert "torch 2.14.1" in html


def test_tutorial_pages_weigh_at_most_twice_a_post(site: Path):
    post = len((site / "posts/why-pytorch/index.html").read_bytes())
    sizes = {
        p.stem: len((site / "tutorials" / p.stem / "index.html").read_bytes()) for p in TUTORIALS
    }
    too_heavy = {stem: size for stem, size in sizes.items() if size > 2 * post}
    assert not too_heavy, f"'Why PyTorch' is {post} bytes; these pages weigh more than twice that"


def test_site_loads_nothing_from_other_hosts(site: Path):
    remote = re.compile(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', re.I)
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
