"""MkDocs hook (named in ``mkdocs.yml``): tutorials are executed as part of ``mkdocs build``.

* ``on_config``: lists ``tutorials/*.py`` into the "Tutorials" section of the nav.
* ``on_files``: brings every tutorial's executed notebook up to date (cached, in parallel)
  and adds it as ``tutorials/<name>.ipynb`` for mkdocs-jupyter to render; adds the build
  report page and the vendored MathJax. A failing tutorial aborts the build, naming its
  file, line and exception.
* ``on_page_content``: slims each tutorial page (see `tutorial_pipeline.html`), writes its
  figures and downloads next to it, and heads it with its run time and download links.

Settings come from the environment: ``TUTORIAL_CACHE_DIR`` (default ``.cache/tutorials``),
``TUTORIAL_CELL_TIMEOUT`` (seconds, default 120) and ``TUTORIAL_JOBS`` (default: one per core).
"""

from __future__ import annotations

import html as html_escape
import importlib.util
import os
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

from tutorial_pipeline.cache import reported_versions
from tutorial_pipeline.html import slim_notebook_html
from tutorial_pipeline.pipeline import (
    DEFAULT_TIMEOUT,
    TutorialBuildError,
    TutorialResult,
    build_tutorials,
    discover,
)
from tutorial_pipeline.report import render_report

TUTORIALS_SECTION = "Tutorials"
REPORT_URI = "tutorials/report.md"

_state: dict = {"results": {}}


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _tutorial_scripts(config) -> list[Path]:
    return discover(_root(config) / "tutorials")


def on_config(config):
    uris = [f"tutorials/{script.stem}.ipynb" for script in _tutorial_scripts(config)]
    for entry in config.nav or []:
        if isinstance(entry, dict) and TUTORIALS_SECTION in entry:
            section = entry[TUTORIALS_SECTION] or []
            entry[TUTORIALS_SECTION] = uris + [item for item in section if item not in uris]
            break
    else:
        raise PluginError(f"mkdocs.yml: the nav needs a '{TUTORIALS_SECTION}' section")
    return config


def _mathjax_files(config) -> list[File]:
    """MathJax 3 (tex-chtml and its fonts) from the django-static-mathjax package."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise PluginError("MathJax is missing: install the 'docs' dependency group")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    sources = [es5 / "tex-chtml.js", *sorted((es5 / "output/chtml/fonts/woff-v2").glob("*.woff"))]
    return [
        File.generated(config, "assets/mathjax/" + str(p.relative_to(es5)), abs_src_path=str(p))
        for p in sources
    ]


@event_priority(100)  # before mkdocs-jupyter wraps the notebooks it finds
def on_files(files: Files, config) -> Files:
    cache_dir = Path(os.environ.get("TUTORIAL_CACHE_DIR") or _root(config) / ".cache/tutorials")
    timeout = float(os.environ.get("TUTORIAL_CELL_TIMEOUT") or DEFAULT_TIMEOUT)
    jobs = int(os.environ.get("TUTORIAL_JOBS") or 0) or None
    try:
        results = build_tutorials(
            _tutorial_scripts(config), cache_dir=cache_dir.resolve(), timeout=timeout, jobs=jobs
        )
    except TutorialBuildError as exc:
        raise PluginError(str(exc)) from None
    _state["results"] = {f"tutorials/{r.stem}.ipynb": r for r in results}
    # Real files under a source folder of their own (not File.generated): mkdocs-jupyter
    # wraps each notebook's File and reads it through the path it derives from src_dir.
    pages = cache_dir.resolve() / "pages"
    for uri, result in _state["results"].items():
        _sync(result.notebook_path, pages / uri)
        files.append(File(uri, str(pages), config.site_dir, config.use_directory_urls))
    files.append(
        File.generated(config, REPORT_URI, content=render_report(results, reported_versions()))
    )
    for file in _mathjax_files(config):
        files.append(file)
    return files


def _sync(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` unless it already holds the same bytes."""
    data = source.read_bytes()
    if not target.is_file() or target.read_bytes() != data:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _write_beside(page, name: str, data: bytes) -> None:
    """Write a file next to ``page``'s HTML (figures and downloads)."""
    target = Path(page.file.abs_dest_path).parent / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _header(result: TutorialResult) -> str:
    record = result.record
    device = record.device or "cpu"
    stem = html_escape.escape(result.stem)
    return (
        '<div class="tutorial-meta admonition abstract">'
        '<p class="admonition-title">Run it yourself</p>'
        f'<p>Download <a href="{stem}.py" download>{stem}.py</a> (run it with '
        f"<code>python {stem}.py</code>) or the executed notebook "
        f'<a href="{stem}.ipynb" download>{stem}.ipynb</a>. '
        "Every output below comes from executing this script for the site's build (it runs "
        "again whenever the script or an installed package changes): the page ran in "
        f"{record.seconds:.1f} s on {device.upper()} with a peak memory of "
        f"{record.peak_memory / 2**20:.0f} MB.</p></div>\n"
    )


def on_page_content(html: str, page, config, files):
    result: TutorialResult | None = _state["results"].get(page.file.src_uri)
    if result is None:
        return html
    slim = slim_notebook_html(html, page_name=result.stem)
    root = get_relative_url(".", page.url).rstrip("/") + "/"
    site = Path(config.site_dir)
    for name, text in slim.shared.items():
        target = site / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    for name, data in slim.figures.items():
        _write_beside(page, name, data)
    _write_beside(page, f"{result.stem}.py", result.script.read_bytes())
    _write_beside(page, f"{result.stem}.ipynb", result.notebook_path.read_bytes())
    body = slim.html.replace("{{root}}", root)
    # Right under the title, which is the notebook's first heading.
    if "</h1>" in body:
        return body.replace("</h1>", "</h1>\n" + _header(result), 1)
    return _header(result) + body
