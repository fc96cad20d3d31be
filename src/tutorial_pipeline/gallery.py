"""The tutorials gallery: one card per tutorial, as sphinx-gallery's index shows them.

Each card has a thumbnail (the figure that ``# sphinx_gallery_thumbnail_number = N`` picks,
else the tutorial's first figure, else a plain default), the title, the one-line summary
(the first sentence of the docstring's prose) and the run time. Cards are grouped in
sections; today every tutorial sits in one folder, so there is one section without a title.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass

import nbformat

from .cache import read_notebook
from .convert import GALLERY_KEY
from .pipeline import TutorialResult
from .target import label

#: The default thumbnail, a static file of the site (``docs/assets``).
DEFAULT_THUMBNAIL = "assets/thumbnail.svg"
#: Thumbnails are scaled down to this width (pixels): two cards side by side, at 2x.
THUMBNAIL_WIDTH = 480

_H1 = re.compile(r"^#\s+(.+?)\s*$", re.M)
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(])")


@dataclass(frozen=True)
class Tutorial:
    """What the gallery, the report and the nav show of one tutorial."""

    result: TutorialResult
    title: str
    summary: str  # Markdown, one sentence
    figure: bytes | None  # the thumbnail's figure, full size (PNG)

    @property
    def stem(self) -> str:
        return self.result.stem


@dataclass(frozen=True)
class Section:
    """A group of cards: sphinx-gallery's subfolder with its README's title and text."""

    title: str | None
    description: str
    tutorials: list[Tutorial]


def _summary(markdown: str) -> str:
    """The first sentence of the prose that follows the title, links reduced to their text."""
    after_title = _H1.split(markdown, maxsplit=1)[-1].strip()
    paragraph = " ".join(after_title.split("\n\n", 1)[0].split())
    sentence = _SENTENCE_END.split(paragraph, maxsplit=1)[0]
    return _LINK.sub(r"\1", sentence)


def _thumbnail_figure(notebook: nbformat.NotebookNode) -> bytes | None:
    figures = [
        output["data"]["image/png"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    if not figures:
        return None
    wanted = notebook.metadata.get(GALLERY_KEY, {}).get("thumbnail_number", 1)
    try:
        index = int(wanted) - 1 if int(wanted) > 0 else int(wanted)  # -1: the last one
        chosen = figures[index]
    except (ValueError, IndexError):
        chosen = figures[0]
    return base64.b64decode(chosen)


def describe(result: TutorialResult) -> Tutorial:
    """Read a tutorial's title, summary and thumbnail figure from its executed notebook."""
    notebook = read_notebook(result.notebook_path)
    # The title convert stored (sphinx-gallery's rule), the one every later stage reads.
    title = notebook.metadata.get(GALLERY_KEY, {}).get("title") or result.stem
    summary = ""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and _H1.search(cell.source):
            summary = _summary(cell.source)
            break
    return Tutorial(result, title, summary, _thumbnail_figure(notebook))


def thumbnail(figure: bytes) -> bytes:
    """``figure`` scaled down to the gallery's thumbnail width (PNG)."""
    from PIL import Image  # matplotlib's own dependency

    image = Image.open(io.BytesIO(figure))
    if image.width > THUMBNAIL_WIDTH:
        height = round(image.height * THUMBNAIL_WIDTH / image.width)
        image = image.resize((THUMBNAIL_WIDTH, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def thumbnail_uri(tutorial: Tutorial) -> str:
    """Where the site serves the tutorial's thumbnail (a site path)."""
    if tutorial.figure is None:
        return DEFAULT_THUMBNAIL
    return f"tutorials/thumbnails/{tutorial.stem}.png"


def _card(tutorial: Tutorial) -> str:
    record = tutorial.result.record
    uri = thumbnail_uri(tutorial)  # a site path; the gallery is tutorials/index.md
    image = uri.removeprefix("tutorials/") if uri.startswith("tutorials/") else "../" + uri
    return (
        f'-   <img class="tutorial-card__thumbnail" src="{image}" alt="" loading="lazy">\n\n'
        f"    [{tutorial.title}]({tutorial.stem}.ipynb){{ .tutorial-card__title }}\n\n"
        f"    {tutorial.summary}\n\n"
        f'    <span class="tutorial-card__meta">Runs in {record.seconds:.1f} s on '
        f"{label(record.target)}</span>\n"
    )


def generated_page(title: str, *, hide_toc: bool = False) -> list[str]:
    """The first lines of a page the build writes (gallery, report, API index): front matter
    that keeps it out of the search index, since it names every tutorial and would rank near
    the top for any of their titles, then its title."""
    hide = ["hide:", "  - toc"] if hide_toc else []
    return ["---", *hide, "search:", "  exclude: true", "---", "", f"# {title}", ""]


def render_gallery(sections: list[Section]) -> str:
    """The gallery page's Markdown (Material's grid cards, ``md_in_html``)."""
    lines = [
        *generated_page("Tutorials", hide_toc=True),
        "Every tutorial is a script you can download and run, executed for the site's build:",
        "each output on its page is what the code printed. Pick one by its picture, or follow",
        "them in order along the [learning path](../index.md) on the home page.",
        "",
    ]
    for section in sections:
        if section.title:
            lines += [f"## {section.title}", ""]
        if section.description:
            lines += [section.description, ""]
        lines += ['<div class="grid cards tutorial-gallery" markdown>', ""]
        lines += [_card(tutorial) for tutorial in section.tutorials]
        lines += ["</div>", ""]
    return "\n".join(lines)
