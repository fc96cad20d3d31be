"""MkDocs hook (named in ``mkdocs.yml``): tutorials are executed as part of ``mkdocs build``.

* ``on_config``: keeps mkdocs-jupyter's rendering cache beside the tutorial cache.
* ``on_files``: brings every tutorial's executed notebook up to date (cached, in parallel,
  each page rendered ahead as soon as its tutorial has run: `tutorial_pipeline.prerender`)
  and adds it as ``tutorials/<name>.ipynb`` for mkdocs-jupyter to render; adds the gallery
  (``tutorials/index.md``) with its thumbnails, the build report and the vendored MathJax;
  fits the nav, which is the learning path, to the pages that exist. A failing tutorial
  aborts the build, naming its file, line and exception.
* ``on_page_markdown``: writes the learning path (the nav) into the home page.
* ``on_page_content``: rebuilds each tutorial page (see `tutorial_pipeline.html`), writes its
  figures and downloads next to it, and puts the run box at its top and the downloads at
  its bottom; marks every page that has math, so that only those load MathJax.
* ``on_page_context``: a tutorial's edit link and "last updated" date are its script's.
* ``on_post_build``: TeX in the search index becomes plain text.

Settings come from the environment: ``TUTORIAL_CACHE_DIR`` (default ``.cache/tutorials``),
``TUTORIAL_CELL_TIMEOUT`` (seconds, default 120), ``TUTORIAL_JOBS`` (default: one per core),
``TUTORIAL_FORKSERVER`` (``0``: launch every kernel rather than fork it, see
`tutorial_pipeline.forkserver`), ``TUTORIAL_TARGET`` (the execution target's name, see
`tutorial_pipeline.target`) and ``TUTORIAL_EXECUTE`` (``never``: execute nothing, and fail
listing every tutorial without a valid cache entry: a render from merged shards).
"""

from __future__ import annotations

import html as html_escape
import importlib.util
import json
import logging
import os
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.toc import get_toc

from tutorial_pipeline import (
    apiref,
    bound,
    publish,  # issue 9: cross-references, code links, API index
)
from tutorial_pipeline.adapters import git_revision
from tutorial_pipeline.cache import PAGES, environment_fingerprint, reported_versions
from tutorial_pipeline.errors import TutorialError
from tutorial_pipeline.gallery import Tutorial, describe, render_gallery, thumbnail
from tutorial_pipeline.html import render_notebook_html, toc_tokens
from tutorial_pipeline.pipeline import (
    DEFAULT_TIMEOUT,
    TutorialBuildError,
    build_tutorials,
    discover,
)
from tutorial_pipeline.prerender import Prerender, strictness
from tutorial_pipeline.refresh import refresh_result
from tutorial_pipeline.report import render_report
from tutorial_pipeline.target import device_type
from tutorial_pipeline.target import label as target_label

GALLERY_URI = "tutorials/index.md"
REPORT_URI = "tutorials/report.md"
#: Where the home page shows the learning path.
PATH_MARKER = "<!-- learning-path -->"

log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")
_state: dict = {"tutorials": {}, "nav": []}


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _cache_dir(config) -> Path:
    return Path(os.environ.get("TUTORIAL_CACHE_DIR") or _root(config) / ".cache/tutorials")


def on_config(config):
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None:  # its rendered pages, beside the notebooks they come from
        jupyter.config["cache_dir"] = str(_cache_dir(config).resolve() / PAGES)
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
    cache_dir = _cache_dir(config).resolve()
    timeout = float(os.environ.get("TUTORIAL_CELL_TIMEOUT") or DEFAULT_TIMEOUT)
    jobs = int(os.environ.get("TUTORIAL_JOBS") or 0) or None
    scripts = discover(_root(config) / "tutorials")
    environment = environment_fingerprint()
    apiref.use_memo(cache_dir, environment)
    # issue 16: which tutorials are strict (a reST or printed warning fails), by mkdocs.yml.
    strict = strictness(config, _root(config) / "tutorials")
    # Each page is rendered as soon as its tutorial has run, beside the ones still running.
    ahead = Prerender.for_config(
        config,
        scripts=scripts,
        tutorials_dir=_root(config) / "tutorials",
        files=files,
        pages=cache_dir / "pages",
        cache_root=cache_dir,
    )
    try:
        results = build_tutorials(
            scripts,
            cache_dir=cache_dir,
            timeout=timeout,
            jobs=jobs,
            environment=environment,
            execute=os.environ.get("TUTORIAL_EXECUTE") or "auto",
            on_executed=ahead.submit if ahead else None,
            strict=strict,
        )
        # Each cached run with the script's text as it is now: prose is not in the key.
        results = [refresh_result(r, strict=strict, cache_root=cache_dir) for r in results]
    except TutorialBuildError as exc:
        raise PluginError(str(exc)) from None
    except TutorialError as exc:  # the prose of a tutorial that did not need to run again
        raise PluginError(exc.report()) from None
    finally:
        if ahead is not None:
            ahead.close(cancel=sys.exc_info()[0] is not None)
        apiref.save_memo()
    tutorials = [publish.with_thumbnail_path(describe(r), config.docs_dir) for r in results]
    _state["tutorials"] = {f"tutorials/{t.stem}.ipynb": t for t in tutorials}
    # issue 9 (publish.py): the published notebooks resolve cross-references site-wide.
    _state["tutorials_dir"] = _root(config) / "tutorials"
    index = publish.site_index(_state["tutorials"], files, _state["tutorials_dir"])
    # Real files under a source folder of their own (not File.generated): mkdocs-jupyter
    # wraps each notebook's File and reads it through the path it derives from src_dir.
    pages = cache_dir / "pages"
    truncations = {}
    for uri, tutorial in _state["tutorials"].items():
        shown = bound.publish_page(tutorial.result, pages, src_uri=uri, index=index)
        truncations[tutorial.stem] = shown
        files.append(File(uri, str(pages), config.site_dir, config.use_directory_urls))
        if tutorial.figure is not None:
            uri = f"tutorials/thumbnails/{tutorial.stem}.png"
            files.append(File.generated(config, uri, content=_thumbnail(cache_dir, tutorial)))
    sections = publish.gallery_sections(tutorials, _state["tutorials_dir"])  # issue 9
    files.append(_generated_page(config, GALLERY_URI, render_gallery(sections)))
    report = render_report(
        tutorials,
        reported_versions(),
        unresolved=index.unresolved,
        warnings=index.warnings,
        truncations=truncations,
    )
    files.append(_generated_page(config, REPORT_URI, report))
    api_index = publish.render_api_index(publish.api_uses(_state["tutorials"], pages))  # issue 9
    files.append(_generated_page(config, publish.API_INDEX_URI, api_index))
    for file in _mathjax_files(config):
        files.append(file)
    # (mkdocs-jupyter makes the notebooks documentation pages only after this event.)
    pages_available = {file.src_uri for file in files.documentation_pages()}
    pages_available |= set(_state["tutorials"])
    publish.log_problems(index, files)  # issue 16: tolerated warnings (INFO), broken links
    config.nav = _fit_nav(config.nav or [], pages_available, list(_state["tutorials"]))
    _state["nav"] = config.nav
    return files


def _generated_page(config, uri: str, markdown: str) -> File:
    """A page the build writes; a nav without it (a test site's) is no error."""
    return File.generated(config, uri, content=markdown, inclusion=InclusionLevel.NOT_IN_NAV)


def _thumbnail(cache_dir: Path, tutorial: Tutorial) -> bytes:
    """The tutorial's gallery thumbnail, scaled once per executed notebook and kept."""
    path = cache_dir / "thumbnails" / f"{tutorial.stem}-{tutorial.result.record.key}.png"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(thumbnail(tutorial.figure))
    return path.read_bytes()


# -- The learning path -------------------------------------------------------------------------


def _entry(item) -> tuple[str | None, object]:
    if isinstance(item, dict):
        ((title, value),) = item.items()
        return title, value
    return None, item


def _fit_nav(nav: list, available: set[str], tutorials: list[str]) -> list:
    """The nav with the pages that do not exist (yet) left out, and every tutorial that it
    does not place added in a "More tutorials" section before the gallery's section."""

    def fit(items: list) -> list:
        kept = []
        for item in items:
            title, value = _entry(item)
            if isinstance(value, list):
                if children := fit(value):
                    kept.append({title: children})
            elif value in available or "://" in str(value):
                kept.append(item)
            else:
                log.info("The nav names %s, which does not exist (yet): left out", value)
        return kept

    def named(items: list) -> set[str]:
        found = set()
        for item in items:
            _, value = _entry(item)
            found |= named(value) if isinstance(value, list) else {value}
        return found

    nav = fit(nav)
    unplaced = [uri for uri in tutorials if uri not in named(nav)]
    if unplaced:
        log.info("Tutorials not on the learning path (mkdocs.yml nav): %s", ", ".join(unplaced))
        at = next((i for i, item in enumerate(nav) if GALLERY_URI in named([item])), len(nav))
        scripts = {uri: t.result.script for uri, t in _state["tutorials"].items()}
        nav[at:at] = publish.nav_groups(unplaced, scripts, _state["tutorials_dir"])  # issue 9
    return nav


def _learning_path(nav: list) -> str:
    """The nav's sections as a table: posts to read, then tutorials to work through."""
    rows = ["| Step | Read | Then do |", "| --- | --- | --- |"]
    for item in nav:
        section, pages = _entry(item)
        if not isinstance(pages, list):
            continue
        read, do = [], []
        for page in pages:
            title, uri = _entry(page)
            tutorial = _state["tutorials"].get(uri)
            if tutorial is not None:
                do.append(f"[{title or tutorial.title}]({uri})")
            elif str(uri).startswith("posts/"):
                read.append(f"[{title or Path(uri).stem}]({uri})")
        if read or do:
            rows.append(f"| {section} | {', '.join(read)} | {', '.join(do)} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page, config, files):
    if PATH_MARKER in markdown:
        return markdown.replace(PATH_MARKER, _learning_path(_state["nav"]))
    return markdown


# -- Tutorial pages --------------------------------------------------------------------------


def _colab_url(config, stem: str) -> str | None:
    """Colab's GitHub form, for the executed notebook on the branch the site is published to."""
    match = re.match(r"https://github\.com/([^/]+/[^/]+?)/?$", config.repo_url or "")
    branch = (config.extra or {}).get("notebooks_branch")
    if not match or not branch:
        return None
    return (
        f"https://colab.research.google.com/github/{match.group(1)}/blob/{branch}"
        f"/tutorials/{stem}/{stem}.ipynb"
    )


def _run_box(tutorial: Tutorial, colab: str | None) -> str:
    record = tutorial.result.record
    stem = html_escape.escape(tutorial.stem)
    colab_link = f', or <a href="{colab}">open it in Colab</a>' if colab else ""
    return (
        '<div class="admonition abstract tutorial-meta" data-search-exclude>'
        '<p class="admonition-title">Run it yourself</p>'
        f'<p>Download <a href="{stem}.py" download>{stem}.py</a> (run it with '
        f"<code>python {stem}.py</code>) or the executed notebook "
        f'<a href="{stem}.ipynb" download>{stem}.ipynb</a>{colab_link}. '
        "Every output below comes from executing this script for the site's build (it runs "
        "again whenever the script or an installed package changes): the page ran in "
        f"{record.seconds:.1f} s on {html_escape.escape(target_label(record.target))}"
        f"{_not_counted(record)} with a peak memory of {record.peak_memory / 2**20:.0f} MB."
        f"{_published_from(tutorial)}</p></div>\n"
    )


def _published_from(tutorial: Tutorial) -> str:
    """For a tutorial that asks to be published from an accelerator's run: which run this is."""
    wanted, target = tutorial.result.wanted, tutorial.result.record.target
    if not wanted:
        return ""
    if device_type(target) == wanted:
        return (
            f" The tutorial asks for its page to come from a run on a {wanted.upper()} device, "
            "since its lesson is that device's numbers: this is that run."
        )
    return (
        f" The tutorial asks for its page to come from a run on a {wanted.upper()} device; "
        f"this build had no such run, so the numbers below are the {target_label(target)}'s."
    )


def _not_counted(record) -> str:
    """What the run time leaves out: imports done before the tutorial ran (forkserver.py)."""
    if not record.preloaded:
        return ""
    names = [f"<code>{html_escape.escape(name)}</code>" for name in record.preloaded]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f", not counting the import of {listed} (the build imports "
        f"{'it' if len(names) == 1 else 'those'} once for all tutorials),"
    )


def _downloads(tutorial: Tutorial, colab: str | None) -> str:
    stem = html_escape.escape(tutorial.stem)
    links = [
        f'<a class="md-button" href="{stem}.py" download>Download {stem}.py</a>',
        f'<a class="md-button" href="{stem}.ipynb" download>Download {stem}.ipynb</a>',
    ]
    if colab:
        links.append(f'<a class="md-button" href="{colab}">Open in Colab</a>')
    return f'\n<p class="tutorial-downloads" data-search-exclude>{" ".join(links)}</p>\n'


def _write_beside(page, name: str, data: bytes) -> None:
    """Write a file next to ``page``'s HTML (figures and downloads)."""
    target = Path(page.file.abs_dest_path).parent / name
    if not target.is_file() or target.read_bytes() != data:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def on_page_content(html: str, page, config, files):
    tutorial: Tutorial | None = _state["tutorials"].get(page.file.src_uri)
    if tutorial is not None:
        rendered = render_notebook_html(html, page_name=tutorial.stem)
        for name, data in rendered.figures.items():
            _write_beside(page, name, data)
        # issue 9 (publish.py): the published notebook; the script less its ignore blocks;
        # the prose's images and downloads; code links, line numbers and the API list.
        published = Path(page.file.abs_src_path)
        notebook = publish.read_notebook(published)
        for name, data in publish.page_files(notebook, tutorial.result.script).items():
            _write_beside(page, name, data)
        script = publish.downloadable_script(tutorial.result.script)
        _write_beside(page, f"{tutorial.stem}.py", script)
        # The download is the whole notebook; the page shows long outputs in part (bound.py).
        whole = Path(page.file.src_dir) / bound.DOWNLOADS / page.file.src_uri
        _write_beside(page, f"{tutorial.stem}.ipynb", whole.read_bytes())
        colab = _colab_url(config, tutorial.stem)
        html = publish.decorate_page(rendered.html, notebook, api_index="../api-index/")
        # The run box right under the title (the notebook's first heading), downloads last.
        if "</h1>" in html:
            html = html.replace("</h1>", "</h1>\n" + _run_box(tutorial, colab), 1)
        else:
            html = _run_box(tutorial, colab) + html
        html += _downloads(tutorial, colab)
        page.toc = get_toc(toc_tokens(html))  # the headings as shown, code included
    # Only pages with math load MathJax (docs/overrides/main.html reads this).
    page.meta["math"] = 'class="arithmatex"' in html
    return html


def on_page_context(context, page, config, nav):
    tutorial: Tutorial | None = _state["tutorials"].get(page.file.src_uri)
    if getattr(page.file, "generated_by", None):
        page.edit_url = None  # the gallery and the report are written by the build
    elif tutorial is not None:
        script = tutorial.result.script.relative_to(_root(config)).as_posix()
        if page.edit_url:  # .../edit/main/docs/tutorials/x.ipynb -> .../edit/main/tutorials/x.py
            docs = Path(config.docs_dir).name + "/" + page.file.src_uri
            page.edit_url = page.edit_url.removesuffix(docs) + script
        if date := _revision_date(config, tutorial.result.script):
            page.meta["git_revision_date_localized"] = date
    return context


def _revision_date(config, script: Path) -> str | None:
    """The script's last commit date, as mkdocs-git-revision-date-localized-plugin shows a
    page's (that plugin dates the files under docs/; a tutorial page's source is its script)."""
    plugin = config.plugins.get("git-revision-date-localized")
    if plugin is None:
        return None
    return git_revision.revision_date(plugin, script)


# -- Search ----------------------------------------------------------------------------------

_TEX = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]|\\begin\{([A-Za-z]+\*?)\}(.+?)\\end\{\3\}", re.S)
# Symbols as themselves; Greek letters and other commands by name (alpha), as readers type them.
_TEX_SYMBOLS = {
    "partial": "∂", "cdot": "·", "times": "\u00d7", "sum": "Σ", "sqrt": "√", "nabla": "∇",
    "approx": "≈", "le": "≤", "ge": "≥", "leq": "≤", "geq": "≥", "to": "→", "infty": "∞",
    "in": "∈", "ldots": "…", "dots": "…",
}  # fmt: skip


def _plain_tex(match: re.Match) -> str:
    """A TeX formula as readable plain text, for search results: ``\\frac{a}{b}`` -> a/b."""
    tex = match.group(1) or match.group(2) or match.group(4)
    tex = re.sub(r"\\\\|&amp;|&", " ", tex)  # line breaks and alignment points (escaped)
    tex = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2", tex)
    tex = re.sub(r"\\(?:text|mathrm|mathbf|operatorname)\{([^{}]*)\}", r"\1", tex)
    tex = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX_SYMBOLS.get(m.group(1), m.group(1)), tex)
    tex = re.sub(r"\\[,;:! ]", " ", tex).replace("{", "").replace("}", "")
    return " ".join(tex.split())


@event_priority(-100)  # after the search plugin has written its index
def on_post_build(config):
    index = Path(config.site_dir) / "search" / "search_index.json"
    if not index.is_file():
        return
    data = json.loads(index.read_text(encoding="utf-8"))
    for doc in data.get("docs", []):
        for key in ("title", "text"):
            if key in doc:
                doc[key] = _TEX.sub(_plain_tex, doc[key])
    index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
