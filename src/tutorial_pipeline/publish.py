"""What the build does with executed notebooks once every page of the site is known.

The executed notebook in the cache is the record of the run: every line that ran, every
output the kernel produced. The notebook the site publishes (rendered as the page and offered
for download) is what sphinx-gallery would show of it:

* cross-references in the prose (``:ref:``, ``:doc:``, ...; `tutorial_pipeline.rst` writes
  them as ``[text](xref:N)``) become links to the page and anchor they name on this site; one
  that names nothing here (a label of another site) becomes its text and is listed, with its
  file and line, on the build report (`SiteIndex.unresolved`);
* relative links in the prose (``text <../page/>`_``) must name a page or file of this site:
  one that does not is a broken link (`broken_links`: a warning that fails a strict build,
  with the script's file and line), as it is in a post;
* code cells lose the lines that run but do not show (ignore blocks, config comments);
* each cell's result is what ``sphinx_gallery_capture_repr`` asks for (the first of
  ``_repr_html_``, ``__repr__``, ``__str__`` the object has; ``()``: none);
* each cell's outputs are in sphinx-gallery's order: its figures, then what it printed and
  its result's text, then its result's HTML; printed text that is only whitespace is not
  shown;
* the warnings that a tolerant build let through (reST warnings, unknown settings, warnings
  the code printed) are collected with file and line (`SiteIndex.warnings`), for the build
  log and the build report;

and the page gets, around mkdocs-jupyter's rendering (`decorate_page`): links from the names
in its code to their API reference, line numbers where ``sphinx_gallery_line_numbers`` asks,
Material's code style on the code blocks of the prose, a cell's figures side by side unless
``sphinx_gallery_multi_image(_block) = "single"``, the output above the code in a script of
a single code block, the tags of ``sphinx_gallery_tags`` and the list of the APIs it uses. The
site's API index page lists every torch API with the tutorials that use it, and tutorials
in subfolders with a gallery header (``GALLERY_HEADER.rst``, ``README.rst``, ``README.txt``)
form sections of the nav and of the gallery.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import apiref
from .cache import read_notebook
from .convert import (
    GALLERY_KEY,
    HIDDEN_KEY,
    LINE_KEY,
    PAGE_KEY,
    downloadable_script,
    visible_source,
    visible_start,
)
from .gallery import generated_page
from .pipeline import SECTION_HEADERS
from .rst import markdown_escape

__all__ = ["downloadable_script"]  # the script a reader downloads (convert.py)

#: Where the API index is, as a page of the site.
API_INDEX_URI = "tutorials/api-index.md"
#: sphinx-gallery's default ``capture_repr``.
DEFAULT_CAPTURE_REPR = ("_repr_html_", "__repr__")
_REPR_MIME = {"_repr_html_": "text/html", "__repr__": "text/plain", "__str__": "text/plain"}
_XREF = re.compile(r"\[((?:\\.|[^\\\]])*)\]\(xref:(\d+)\)")
_BLOCK_CONFIG = re.compile(r"^\s*#\s*sphinx_gallery_capture_repr_block\s*=\s*(.+?)\s*$", re.M)
_MULTI_IMAGE_BLOCK = re.compile(r"^\s*#\s*sphinx_gallery_multi_image_block\s*=\s*(.+?)\s*$", re.M)
#: Labels sphinx-gallery gives each example page: sphx_glr_<gallery folders>_<file>.py.
_EXAMPLE_LABEL = re.compile(r"^sphx_glr_\w+\.py$")
log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")
#: The prefix of a tolerated warning's log line: MkDocs fails a strict build on any WARNING
#: a plugin logs, so these are logged at INFO (and listed on the build report).
TOLERATED = "tolerated, as Sphinx renders it:"


def page_url(src_uri: str) -> str:
    """The URL (relative to the site root) of the page built from ``src_uri``, with MkDocs'
    directory URLs: ``tutorials/01_tensors.ipynb`` -> ``tutorials/01_tensors/``."""
    stem = posixpath.splitext(src_uri)[0]
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def relative_url(target: str, page: str) -> str:
    """``target`` (a site URL, maybe with ``#anchor``) as a link from the page at ``page``."""
    path, _, anchor = target.partition("#")
    if path == page:
        link = ""
    else:
        link = posixpath.relpath(path or ".", page or ".")
        link = "./" if link == "." else link + "/"
    return link + ("#" + anchor if anchor else "")


def _key(name: str) -> str:
    return " ".join(name.lower().split())


@dataclass
class SiteIndex:
    """What the site's pages offer as targets: labels, headings and documents."""

    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (url, title)
    headings: dict[str, tuple[str, str]] = field(default_factory=dict)
    docs: dict[str, tuple[str, str]] = field(default_factory=dict)
    unresolved: list[dict] = field(default_factory=list)  # file, line, role, target
    notebooks: dict = field(default_factory=dict)  # page URI -> executed notebook
    urls: set[str] = field(default_factory=set)  # every page and file of the site, as URLs
    stems: dict[str, str] = field(default_factory=dict)  # a tutorial's file stem -> its page
    warnings: list[dict] = field(default_factory=list)  # file, line, message: tolerated
    links: list[dict] = field(default_factory=list)  # file, line, uri, target: to check

    def add_tutorial(self, src_uri: str, notebook, *, key: str | None = None) -> None:
        """Add a tutorial page; ``key`` is its script's path under tutorials/, no suffix."""
        url = page_url(src_uri)
        gallery = notebook.metadata.get(GALLERY_KEY, {})
        page = notebook.metadata.get(PAGE_KEY, {})
        title = gallery.get("title") or posixpath.basename(url.rstrip("/"))
        for label in page.get("labels", []):
            self.labels.setdefault(
                _key(label["label"]),
                (f"{url}#{label['anchor']}", label.get("title") or label["label"]),
            )
        for heading in page.get("headings", []):
            self.headings.setdefault(
                _key(heading["title"]), (f"{url}#{heading['anchor']}", heading["title"])
            )
        stem = posixpath.splitext(posixpath.basename(src_uri))[0]
        for name in {stem, posixpath.splitext(src_uri)[0], key or stem}:
            self.docs.setdefault(name, (url, title))
        self.stems.setdefault(stem, url)
        self.urls.add(url)
        for name in page.get("files", {}):  # images and downloads, copied next to the page
            self.urls.add(url + name)
        for name in (f"{stem}.py", f"{stem}.ipynb"):
            self.urls.add(url + name)

    def add_page(self, src_uri: str, title: str) -> None:
        """Add a Markdown page of the site (a post, the home page)."""
        url = page_url(src_uri)
        name = posixpath.splitext(src_uri)[0]
        self.docs.setdefault(name, (url, title))
        self.docs.setdefault(posixpath.basename(name), (url, title))
        self.urls.add(url)

    def has_url(self, url: str) -> bool:
        """Whether ``url`` (relative to the site root, no anchor) is a page or file here."""
        url = url.lstrip("/")
        if url in ("", "."):
            return True
        candidates = {url, url.rstrip("/") + "/", url.removesuffix("index.html")}
        return any(candidate in self.urls for candidate in candidates)

    def resolve(self, role: str, target: str, page: str) -> tuple[str, str] | None:
        """(link from ``page``, title) of a cross-reference, or None if nothing matches."""
        found = None
        if role == "doc" or (role == "any" and _key(target) not in self.labels):
            found = self._doc(target, page)
        if found is None and role == "term":
            found = self.labels.get("term:" + _key(target))
        if found is None and role != "doc":
            found = self.labels.get(_key(target)) or self.headings.get(_key(target))
        if found is None and role in ("ref", "any"):
            found = self._example_label(target)
        if found is None:
            return None
        url, title = found
        return relative_url(url, page), title

    def _example_label(self, target: str) -> tuple[str, str] | None:
        """sphinx-gallery's label of an example page (``sphx_glr_auto_examples_plot_x.py``:
        its gallery folders, then its file name): the tutorial of that file name here, since
        page names are unique across folders."""
        match = _EXAMPLE_LABEL.match(target.strip())
        if match is None:
            return None
        name = target.strip()[len("sphx_glr_") : -len(".py")]
        stems = [s for s in self.stems if name == s or name.endswith("_" + s)]
        if not stems:
            return None
        url = self.stems[max(stems, key=len)]
        return next(((u, t) for u, t in self.docs.values() if u == url), (url, url))

    def _doc(self, target: str, page: str) -> tuple[str, str] | None:
        name = re.sub(r"\.(rst|txt|md|py|ipynb|html)$", "", target.strip().strip("/"))
        here = posixpath.dirname(page.rstrip("/"))
        for candidate in (
            name,
            posixpath.normpath(posixpath.join(here, name)),
            posixpath.basename(name),
        ):
            if candidate in self.docs:
                return self.docs[candidate]
        return None


_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


def site_index(tutorials: dict, files, tutorials_dir: Path) -> SiteIndex:
    """The targets of the site: every tutorial (``tutorials``: page URI -> gallery
    `Tutorial`) with its labels and headings, and every Markdown page of ``files``."""
    index = SiteIndex()
    for uri, tutorial in tutorials.items():
        notebook = read_notebook(tutorial.result.notebook_path)
        index.notebooks[uri] = notebook
        index.add_tutorial(uri, notebook, key=tutorial_key(tutorial.result.script, tutorials_dir))
    add_pages(index, files)
    return index


def tutorial_key(script: Path, tutorials_dir: Path) -> str:
    """A tutorial's name for ``:doc:``: its path under tutorials/, without the suffix."""
    try:
        relative = Path(script).resolve().relative_to(Path(tutorials_dir).resolve())
    except ValueError:
        return Path(script).stem
    return relative.with_suffix("").as_posix()


def add_pages(index: SiteIndex, files) -> None:
    """Add the Markdown pages of ``files`` (MkDocs `Files`) to ``index``, and every file of
    the site (pages, images, downloads, generated pages) as a URL links may point to."""
    for file in files:
        index.urls.add(file.url)
        index.urls.add(file.dest_uri)
    for file in files.documentation_pages():
        if not file.src_uri.endswith(".md") or file.abs_src_path is None:
            continue
        try:
            text = Path(file.abs_src_path).read_text(encoding="utf-8")
        except OSError:
            continue
        match = _H1.search(text)
        index.add_page(file.src_uri, match.group(1) if match else Path(file.src_uri).stem)


def write_published(result, target: Path, *, src_uri: str, index: SiteIndex) -> None:
    """Write the published notebook of ``result`` (a `TutorialResult`) to ``target``, unless
    it already holds the same bytes."""
    notebook = index.notebooks.get(src_uri) or read_notebook(result.notebook_path)
    published = publish_notebook(
        notebook, src_uri=src_uri, index=index, script=_shown(result.script)
    )
    collect_warnings(notebook, index, script=result.script)
    data = (nbformat.writes(published) + "\n").encode("utf-8")
    target = Path(target)
    if not target.is_file() or target.read_bytes() != data:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _shown(script: Path) -> str:
    try:
        return Path(script).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(script)


def api_uses(tutorials: dict, pages: Path) -> list[tuple[str, str, dict]]:
    """For the API index: each tutorial's title, link (from the index page) and API names."""
    uses = []
    for uri, tutorial in tutorials.items():
        path = Path(pages) / uri
        notebook = read_notebook(path if path.is_file() else tutorial.result.notebook_path)
        api = notebook.metadata.get(PAGE_KEY, {}).get("api", {})
        uses.append((tutorial.title, posixpath.basename(uri), api))
    return uses


def collect_warnings(notebook, index: SiteIndex, *, script: Path) -> None:
    """Add to ``index.warnings`` what a tolerant build let through in this tutorial: the
    reST warnings and unknown settings its conversion recorded, and the warnings its code
    printed (its page shows them, as sphinx-gallery's does)."""
    from .execute import warnings_of

    where = _shown(script)
    recorded = list(notebook.metadata.get(PAGE_KEY, {}).get("warnings") or [])
    for cell in notebook.cells:
        if cell.cell_type == "code":
            recorded += [
                {"line": w["line"], "message": w["message"]} for w in warnings_of(cell, script)
            ]
    for warning in recorded:
        index.warnings.append({"file": where, **warning})


def broken_links(index: SiteIndex, files=()) -> list[dict]:
    """The relative links of the tutorials' prose that name no page or file of the site
    (``files``: MkDocs `Files`, every file the site has once the build has added its own);
    each with its file, line and a message."""
    for file in files:
        index.urls.update((file.url, file.dest_uri))
    broken = []
    for link in index.links:
        if link["target"].startswith("..") or not index.has_url(link["target"]):
            message = f"the link '{link['uri']}' in the tutorial's text points to no page or "
            broken.append({**link, "message": message + "file of this site"})
    return broken


def log_problems(index: SiteIndex, files=()) -> None:
    """Log the tolerated warnings (INFO: a strict MkDocs build fails on any WARNING a plugin
    logs) and the broken links of the tutorials' prose (WARNING: a strict build fails, as it
    does on a broken link in a post), one line each, ``file:line: message``."""
    for warning in index.warnings:
        log.info("%s %s:%s: %s", TOLERATED, warning["file"], warning["line"], warning["message"])
    for link in broken_links(index, files):
        log.warning("%s:%s: %s", link["file"], link["line"], link["message"])


def _record_links(notebook, page: str, index: SiteIndex, where: str) -> None:
    """Note each relative link of the prose, as a site URL, for `broken_links`."""
    for link in notebook.metadata.get(PAGE_KEY, {}).get("links", []):
        uri = link["uri"].split("#", 1)[0].split("?", 1)[0]
        if not uri:
            continue
        if uri.startswith("/"):
            target = uri
        else:
            target = posixpath.normpath(posixpath.join(page or ".", uri))
            target += "/" if uri.endswith("/") and not target.endswith("/") else ""
        index.links.append(
            {"file": where, "line": link.get("line"), "uri": link["uri"], "target": target}
        )


def publish_notebook(
    notebook: nbformat.NotebookNode, *, src_uri: str, index: SiteIndex, script: Path | None = None
) -> nbformat.NotebookNode:
    """The notebook the site shows and offers for download (see the module docstring)."""
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    page = page_url(src_uri)
    references = notebook.metadata.get(PAGE_KEY, {}).get("references", [])
    where = str(script) if script is not None else src_uri
    _record_links(notebook, page, index, where)

    def link(match: re.Match) -> str:
        text, number = match.group(1), int(match.group(2))
        reference = references[number] if number < len(references) else {}
        resolved = index.resolve(reference.get("role", "ref"), reference.get("target", ""), page)
        if resolved is None:
            index.unresolved.append(
                {
                    "file": where,
                    "line": reference.get("line"),
                    "role": reference.get("role"),
                    "target": reference.get("target"),
                }
            )
            return text
        url, title = resolved
        if not reference.get("explicit"):
            text = markdown_escape(title)
        return f"[{text}]({url})"

    import ast

    gallery = notebook.metadata.get(GALLERY_KEY, {})
    capture = tuple(gallery.get("capture_repr", DEFAULT_CAPTURE_REPR))
    single = []  # the shown code cells (counted from 0) whose figures go one under the other
    shown = 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = _XREF.sub(link, cell.source)
        elif cell.cell_type == "code":
            block = _BLOCK_CONFIG.search(cell.source)
            cell_capture = tuple(ast.literal_eval(block.group(1))) if block else capture
            layout = _MULTI_IMAGE_BLOCK.search(cell.source)
            layout = ast.literal_eval(layout.group(1)) if layout else gallery.get("multi_image")
            start = visible_start(cell)
            cell.source = visible_source(cell)
            cell.metadata.pop(HIDDEN_KEY, None)
            if start is not None:
                cell.metadata[LINE_KEY] = start
            cell.outputs = _in_gallery_order(
                [
                    kept
                    for output in cell.get("outputs", [])
                    if (kept := _captured(output, cell_capture)) is not None
                ]
            )
            if cell.source.strip():
                if layout == "single":
                    single.append(shown)
                shown += 1
    notebook.metadata.setdefault(PAGE_KEY, {})["single_image_cells"] = single
    return notebook


def _in_gallery_order(outputs: list) -> list:
    """A cell's outputs as sphinx-gallery lays them out: figures, then the printed text and
    the result's text (none if that is only whitespace), then the result's HTML."""

    def kind(output) -> int:
        data = output.get("data", {})
        if output.get("output_type") == "display_data" and any(
            mime.startswith("image/") for mime in data
        ):
            return 0
        if output.get("output_type") == "execute_result" and "text/html" in data:
            return 2
        return 1

    text = "".join(
        o.get("text", "")
        if o.get("output_type") == "stream"
        else o.get("data", {}).get("text/plain", "")
        for o in outputs
        if kind(o) == 1
    )
    kept = [o for o in outputs if kind(o) != 1 or text.strip()]
    return sorted(kept, key=kind)


def _captured(output, capture: tuple[str, ...]):
    """An output as sphinx-gallery's ``capture_repr`` shows it: a cell's result (its last
    expression) keeps the representation of the first method in ``capture`` that it has."""
    if output.get("output_type") != "execute_result":
        return output
    for method in capture:
        mime = _REPR_MIME.get(method)
        if mime in output.get("data", {}):
            output.data = {mime: output.data[mime]}
            return output
    return None


def with_thumbnail_path(tutorial, docs_dir: Path):
    """``tutorial`` (a gallery `Tutorial`) with the thumbnail that
    ``# sphinx_gallery_thumbnail_path = 'path'`` names, relative to the docs folder as
    sphinx-gallery's is to ``conf.py``'s; ``thumbnail_number`` takes precedence, as there.
    A file that is not there leaves the default thumbnail, with a tolerated warning, as
    sphinx-gallery warns and uses its default."""
    import dataclasses

    notebook = read_notebook(tutorial.result.notebook_path)
    conf = notebook.metadata.get(GALLERY_KEY, {})
    if "thumbnail_path" not in conf or "thumbnail_number" in conf:
        return tutorial
    path = Path(docs_dir) / conf["thumbnail_path"]
    if not path.is_file():
        log.info(
            "%s %s: sphinx_gallery_thumbnail_path %r is not a file under %s/: default thumbnail",
            TOLERATED,
            _shown(tutorial.result.script),
            conf["thumbnail_path"],
            Path(docs_dir).name,
        )
        return dataclasses.replace(tutorial, figure=None)
    return dataclasses.replace(tutorial, figure=path.read_bytes())


def page_files(notebook, script: Path) -> dict[str, bytes]:
    """The files (images, downloads) the prose asks to have next to the page."""
    files = notebook.metadata.get(PAGE_KEY, {}).get("files", {})
    folder = Path(script).parent
    return {name: (folder / relative).read_bytes() for name, relative in files.items()}


# -- The page ------------------------------------------------------------------------------

_CODE_BLOCK = re.compile(
    r'(<div class="language-python highlight"><pre><span></span><code>)(.*?)(</code></pre></div>)',
    re.S,
)
_PROSE_CODE = re.compile(r'<div class="highlight"><pre>(?:<span></span>)?(.*?)</pre></div>', re.S)


_RESULT = '<div class="result nb-output'
_SPACE = re.compile(r"\s*")
_FIGURE_RUN = re.compile(
    r'<figure class="nb-figure">.*?</figure>(?:\s*<figure class="nb-figure">.*?</figure>)+', re.S
)


def decorate_page(page_html: str, notebook, *, api_index: str | None = None) -> str:
    """Code links, line numbers, Material code blocks in the prose, a cell's figures side by
    side (sphinx-gallery's ``multi_image``), the output first in a script of one code block,
    the tags and the API list."""
    from .html import _element_end

    meta = notebook.metadata.get(PAGE_KEY, {})
    gallery = notebook.metadata.get(GALLERY_KEY, {})
    names = meta.get("code_names", {})
    numbered = bool(gallery.get("line_numbers"))
    single = set(meta.get("single_image_cells", []))
    starts = [
        cell.metadata.get(LINE_KEY, 1)
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.source.strip()
    ]
    output_first = bool(meta.get("output_first")) and len(starts) == 1

    def code(match: re.Match, start: int | None) -> str:
        body = apiref.link_code(match.group(2), names)
        if numbered and start is not None:
            lines = body.split("\n")
            width = len(str(start + len(lines) - 1))
            body = "\n".join(
                f'<span class="linenos" data-linenos="{str(start + i).rjust(width)} "></span>{line}'
                for i, line in enumerate(lines)
            )
        return match.group(1) + body + match.group(3)

    def side_by_side(result: str) -> str:
        return _FIGURE_RUN.sub(
            lambda m: f'<div class="nb-figures-row">\n{m.group(0)}\n</div>', result
        )

    page_html = _PROSE_CODE.sub(
        r'<div class="highlight"><pre><span></span><code>\1</code></pre></div>', page_html
    )
    parts, position = [], 0
    for number, match in enumerate(_CODE_BLOCK.finditer(page_html)):
        block = code(match, starts[number] if number < len(starts) else None)
        parts.append(page_html[position : match.start()])
        position = match.end()
        gap = _SPACE.match(page_html, position).end() - position
        if not page_html.startswith(_RESULT, position + gap):
            parts.append(block)
            continue
        end = _element_end(page_html, position + gap)
        result = page_html[position + gap : end]
        if number not in single:
            result = side_by_side(result)
        parts += [result, "\n", block] if output_first else [block, "\n", result]
        position = end
    parts.append(page_html[position:])
    page_html = "".join(parts)
    tags = gallery.get("tags")
    if tags:
        listed = ", ".join(html.escape(str(tag)) for tag in tags)
        page_html += f'\n<p class="tutorial-tags">Tags: {listed}</p>\n'
    api = meta.get("api", {})
    if api:
        links = ", ".join(
            f'<a href="{html.escape(url)}"><code>{html.escape(name)}</code></a>'
            for name, url in api.items()
        )
        more = f' (<a href="{api_index}">where else each is used</a>)' if api_index else ""
        page_html += (
            '\n<h2 id="apis-used">APIs used on this page</h2>\n'
            f'<p class="api-list" data-search-exclude>{links}{more}.</p>\n'
        )
    return page_html


def render_api_index(tutorials: list[tuple[str, str, dict]]) -> str:
    """The API index page's Markdown: ``tutorials`` holds, for each tutorial, its title, its
    link from the index page and its ``api`` (full name -> reference URL)."""
    uses: dict[str, list[tuple[str, str]]] = {}
    urls: dict[str, str] = {}
    for title, link, api in tutorials:
        for name, url in api.items():
            uses.setdefault(name, []).append((title, link))
            urls[name] = url
    lines = [
        *generated_page("API index"),
        "Every PyTorch and torchvision API that the tutorials' code uses, with the tutorials",
        "that use it: the name links to its reference documentation, each tutorial to its page.",
        "",
    ]
    groups: dict[str, list[str]] = {}
    for name in sorted(uses, key=str.lower):
        groups.setdefault(name.rsplit(".", 1)[0], []).append(name)
    for group in sorted(groups):
        lines += [f"## `{group}`", ""]
        for name in groups[group]:
            pages = ", ".join(f"[{markdown_escape(t)}]({link})" for t, link in uses[name])
            lines.append(f"- [`{name}`]({urls[name]}){{ #{_anchor(name)} }}: {pages}")
        lines.append("")
    if not uses:
        lines += ["No tutorial uses a PyTorch API yet.", ""]
    return "\n".join(lines)


def _anchor(name: str) -> str:
    return "api-" + re.sub(r"[^\w-]", "-", name)


# -- Sections ------------------------------------------------------------------------------


def section_header(folder: Path) -> Path | None:
    """The gallery header of a subfolder of tutorials/, if it has one."""
    for name in SECTION_HEADERS:
        if (folder / name).is_file():
            return folder / name
    return None


def read_section(folder: Path) -> tuple[str, str]:
    """A section's title (its header's first underlined heading) and its description
    (the rest of the header, as Markdown)."""
    from .convert import _is_underline
    from .rst import render_fragment

    header = section_header(folder)
    if header is None:
        return folder.name, ""
    text = header.read_text(encoding="utf-8")
    lines = text.splitlines()
    for index in range(len(lines) - 1):
        title, under = lines[index].strip(), lines[index + 1].strip()
        if title and _is_underline(under) and len(under) >= len(title):
            rest = "\n".join(lines[index + 2 :]).strip()
            start = (
                index
                + 3
                + next((i for i, text in enumerate(lines[index + 2 :]) if text.strip()), 0)
            )
            return title, (render_fragment(rest, header, start) if rest else "")
    return folder.name, render_fragment(text, header) if text.strip() else ""


def gallery_sections(tutorials: list, root: Path) -> list:
    """Group the gallery's cards (`tutorial_pipeline.gallery.Tutorial`) by folder: the
    tutorials at the top of ``root`` first, without a title, then one section per subfolder."""
    from .gallery import Section

    groups: dict[Path, list] = {}
    for tutorial in tutorials:
        groups.setdefault(Path(tutorial.result.script).parent.resolve(), []).append(tutorial)
    root = Path(root).resolve()
    sections = [Section(None, "", groups.pop(root))] if root in groups else []
    for folder in sorted(groups):
        title, description = read_section(folder)
        sections.append(Section(title, description, groups[folder]))
    return sections


def nav_groups(unplaced: list[str], scripts: dict[str, Path], root: Path) -> list[dict]:
    """Nav sections for the tutorials the nav does not place: the top-level ones under
    "More tutorials", the others under their section's title."""
    root = Path(root).resolve()
    groups: dict[Path, list[str]] = {}
    for uri in unplaced:
        groups.setdefault(Path(scripts[uri]).parent.resolve(), []).append(uri)
    entries = [{"More tutorials": groups.pop(root)}] if root in groups else []
    for folder in sorted(groups):
        entries.append({read_section(folder)[0]: groups[folder]})
    return entries
