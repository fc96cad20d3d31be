"""Keep every page readable whatever a tutorial prints.

A cell that prints 300,000 lines would publish a page of many megabytes that no reader
scrolls through. The page shows a bounded copy of the published notebook, as Jupyter and VS
Code truncate long outputs; the downloadable notebook keeps everything:

* a text output (a stream, or a result's plain text) longer than `MAX_LINES` lines or
  `MAX_BYTES` bytes shows its first `HEAD_LINES` and last `TAIL_LINES` lines, with one line
  between them saying how much was left out and that the downloadable notebook has all of it
  (a single line too long for the byte limit keeps its first and last characters);
* a rich HTML result over the byte limit (a huge table) shows as its truncated plain text;
* a stream that is not text (bytes written to the standard output that do not decode, which
  arrive as replacement characters and control codes: at least 4 of them, and 5% of its
  characters) shows as one line saying so;
* an image output larger than `MAX_IMAGE_BYTES` or wider than `MAX_IMAGE_WIDTH` pixels is
  shown downscaled;
* once a page's text outputs pass `PAGE_BYTES`, each later long output keeps only a few lines
  at each end, so that a page stays under 1 MB of HTML.

Each truncation is recorded (`Truncation`) and listed on the build report.
"""

from __future__ import annotations

import base64
import copy
import io
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_LINES = 200
MAX_BYTES = 100_000
HEAD_LINES = 100
TAIL_LINES = 50
#: Past this many bytes of text outputs on one page, long outputs keep only this much.
PAGE_BYTES = 500_000
SMALL_HEAD, SMALL_TAIL = 10, 5
MAX_IMAGE_BYTES = 400_000
MAX_IMAGE_WIDTH = 1600

_LINE_KEY = "script_line"  # convert.LINE_KEY (not imported: convert pulls in docutils)


@dataclass(frozen=True)
class Truncation:
    """One output the page shows in part: the script line of its cell, what kind of output,
    and how much the page shows of how much."""

    line: int | None
    kind: str  # "text", "html" or "image"
    shown: str
    total: str


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1e6 else f"{count / 1e3:.0f} KB"


def _note(lines: int, size: int) -> str:
    what = f"{lines:,} lines" if lines else _size(size)
    return (
        f"[... {what} left out here: the downloadable notebook (.ipynb, at the end of the "
        "page) has the whole output ...]"
    )


def bound_text(
    text: str,
    *,
    max_lines: int = MAX_LINES,
    max_bytes: int = MAX_BYTES,
    head: int = HEAD_LINES,
    tail: int = TAIL_LINES,
) -> str | None:
    """``text`` with its middle left out if it is over the limits, else None."""
    lines = text.splitlines(keepends=True)
    if len(lines) <= max_lines and len(text.encode("utf-8")) <= max_bytes:
        return None
    if len(lines) > head + tail + 1:
        middle = _note(len(lines) - head - tail, 0) + "\n"
        shortened = "".join(lines[:head]) + middle + "".join(lines[-tail:])
        if len(shortened.encode("utf-8")) <= max_bytes:
            return shortened
    # Few but very long lines: keep characters from each end.
    first, last = max_bytes // 3, max_bytes // 6
    if len(text) <= first + last:
        return None
    left_out = len(text[first:-last].encode("utf-8"))
    return text[:first] + "\n" + _note(0, left_out) + "\n" + text[-last:]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\ufffd]")


def binary_note(text: str) -> str | None:
    """One line standing for ``text`` if it is not text, else None: bytes that do not decode
    arrive as replacement characters and control codes, many of them. A text with a few
    replacement characters (an unknown character shown as such) is text."""
    found = len(_CONTROL.findall(text))
    if found < 4 or found < 0.05 * len(text):
        return None
    return (
        f"[{len(text):,} characters of output that are not text ({found:,} undecodable bytes "
        "or control codes): the downloadable notebook (.ipynb) has them as received]\n"
    )


def _image(data: str) -> tuple[str, str, str] | None:
    """A PNG output's base64 data, downscaled if it is over the limits: (data, shown, total)."""
    from PIL import Image  # matplotlib's own dependency

    raw = base64.b64decode(data)
    image = Image.open(io.BytesIO(raw))
    if len(raw) <= MAX_IMAGE_BYTES and image.width <= MAX_IMAGE_WIDTH:
        return None
    scale = min(MAX_IMAGE_WIDTH / image.width, (MAX_IMAGE_BYTES / len(raw)) ** 0.5, 1.0)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    smaller = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    smaller.save(out, "PNG", optimize=True)
    shown = f"{size[0]}x{size[1]} px, {_size(out.tell())}"
    total = f"{image.width}x{image.height} px, {_size(len(raw))}"
    return base64.b64encode(out.getvalue()).decode("ascii"), shown, total


def bound_notebook(
    notebook: nbformat.NotebookNode,
) -> tuple[nbformat.NotebookNode, list[Truncation]]:
    """The page's copy of ``notebook``, with long outputs truncated and big images scaled
    down, and the list of what was changed. ``notebook`` itself is left as it is."""
    bounded = copy.deepcopy(notebook)
    truncations: list[Truncation] = []
    page_bytes = 0
    for cell in bounded.cells:
        if cell.cell_type != "code":
            continue
        line = cell.metadata.get(_LINE_KEY)
        for output in cell.get("outputs", []):
            limits = {}
            if page_bytes > PAGE_BYTES:  # past the page's budget: a few lines at each end
                small = SMALL_HEAD + SMALL_TAIL
                limits = {"max_lines": small, "max_bytes": 4096, "head": SMALL_HEAD,
                          "tail": SMALL_TAIL}  # fmt: skip
            if output.output_type == "stream":
                note = binary_note(str(output.text))
                if note is not None:
                    truncations.append(
                        Truncation(line, "binary", "one line", _size(len(output.text)))
                    )
                    output.text = note
                page_bytes += _bound_field(output, "text", line, truncations, limits)
                continue
            data = output.get("data", {})
            if "text/html" in data and len(str(data["text/html"]).encode()) > MAX_BYTES:
                plain = str(data.get("text/plain", ""))
                del data["text/html"]
                data["text/plain"] = bound_text(plain, **limits) or plain
                truncations.append(
                    Truncation(line, "html", "its plain text", _size(len(plain.encode())))
                )
            if "text/plain" in data:
                page_bytes += _bound_field(data, "text/plain", line, truncations, limits)
            if "image/png" in data:
                scaled = _image(data["image/png"])
                if scaled is not None:
                    data["image/png"], shown, total = scaled
                    output.setdefault("metadata", {}).pop("image/png", None)
                    truncations.append(Truncation(line, "image", shown, total))
    return bounded, truncations


def _bound_field(holder, key: str, line, truncations: list[Truncation], limits: dict) -> int:
    text = holder[key]
    text = "".join(text) if isinstance(text, list) else str(text)
    shortened = bound_text(text, **limits)
    if shortened is not None:
        holder[key] = shortened
        total_lines = len(text.splitlines())
        shown_lines = len(shortened.splitlines()) - 1
        truncations.append(
            Truncation(
                line,
                "text",
                f"{shown_lines:,} of {total_lines:,} lines",
                _size(len(text.encode("utf-8"))),
            )
        )
        return len(shortened.encode("utf-8"))
    return len(text.encode("utf-8"))


#: Where, under the build's page folder, the full published notebooks (the downloads) go.
DOWNLOADS = "downloads"


def publish_page(result, pages: Path, *, src_uri: str, index) -> list[Truncation]:
    """Publish ``result`` (a `TutorialResult`): the whole published notebook, the one a reader
    downloads, to ``pages/downloads/<src_uri>``, and the page's bounded copy, the one
    mkdocs-jupyter renders, to ``pages/<src_uri>``. Returns what the page shows in part."""
    from . import publish

    full = Path(pages) / DOWNLOADS / src_uri
    publish.write_published(result, full, src_uri=src_uri, index=index)
    bounded, truncations = bound_notebook(publish.read_notebook(full))
    data = (nbformat.writes(bounded) + "\n").encode("utf-8")
    target = Path(pages) / src_uri
    if not target.is_file() or target.read_bytes() != data:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return truncations
