"""Turn a sphinx-gallery script into a Jupyter notebook.

sphinx-gallery's own parser splits the script into text and code blocks and its notebook
writer turns the blocks into cells (reStructuredText prose becomes Markdown). On top of
that this module:

* refuses, with the file and line, a script that does not compile or has no titled docstring;
* strips ignore blocks (``# sphinx_gallery_start_ignore`` ... ``end_ignore``) and in-file
  config comments (``# sphinx_gallery_thumbnail_number = 2``), which the stock converter
  leaves in the notebook;
* records, in each code cell's metadata, the script line that the cell starts on, so that an
  error raised while the notebook runs can be reported as ``tutorials/x.py:LINE``.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path

import nbformat

from .errors import TutorialError

#: Key under which a code cell's metadata holds the script line of its first line.
LINE_KEY = "script_line"

_TITLE_UNDERLINE = re.compile(r"^(=+|-+|~+|\*+|#+)\s*$")


def check_script(path: Path) -> str:
    """Return the script's source, or raise `TutorialError` if it cannot be a tutorial."""
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise TutorialError(path, exc.lineno or 1, f"SyntaxError: {exc.msg}") from None
    docstring = ast.get_docstring(tree, clean=True)
    if docstring is None:
        raise TutorialError(
            path,
            1,
            "no docstring: a tutorial opens with a docstring whose first lines are its title "
            "underlined with '=' (sphinx-gallery format)",
        )
    lines = [line for line in docstring.splitlines() if line.strip()]
    if len(lines) < 2 or not _TITLE_UNDERLINE.match(lines[1]):
        raise TutorialError(
            path,
            1,
            "the docstring has no title: its first line must be the title, underlined with '='",
        )
    return source


def _strip_code(content: str, first_line: int) -> tuple[str, int] | None:
    """Drop ignore blocks and config comments from one code block.

    Returns the cell source (stripped as sphinx-gallery strips it) and the script line of its
    first line, or None when nothing is left. Lines are removed whole, so the remaining lines
    keep their script line numbers.
    """
    from sphinx_gallery.py_source_parser import (
        END_IGNORE_FLAG,
        INFILE_CONFIG_PATTERN,
        START_IGNORE_FLAG,
    )

    kept: list[tuple[int, str]] = []
    ignoring = False
    for offset, line in enumerate(content.splitlines()):
        if re.match(START_IGNORE_FLAG, line):
            ignoring = True
        elif ignoring:
            ignoring = not re.match(END_IGNORE_FLAG, line)
        elif not INFILE_CONFIG_PATTERN.match(line + "\n"):
            kept.append((first_line + offset, line))
    if ignoring:
        raise TutorialError(None, first_line, "sphinx_gallery_start_ignore without an end_ignore")
    while kept and not kept[0][1].strip():
        kept.pop(0)
    while kept and not kept[-1][1].strip():
        kept.pop()
    if not kept:
        return None
    return "\n".join(line for _, line in kept), kept[0][0]


def script_to_notebook(path: Path) -> nbformat.NotebookNode:
    """Convert the sphinx-gallery script at ``path`` into an (unexecuted) notebook."""
    from sphinx_gallery import gen_gallery
    from sphinx_gallery.notebook import jupyter_notebook
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    path = Path(path)
    check_script(path)
    _, blocks = split_code_and_text_blocks(path)
    kept_blocks = []
    start_lines = []
    for block in blocks:
        if block.type == "code":
            try:
                stripped = _strip_code(block.content, block.lineno)
            except TutorialError as exc:
                raise TutorialError(path, exc.line, exc.message) from None
            if stripped is None:
                continue
            content, line = stripped
            block = block._replace(content=content)
            start_lines.append(line)
        kept_blocks.append(block)

    gallery_conf = copy.deepcopy(gen_gallery.DEFAULT_GALLERY_CONF)
    raw = jupyter_notebook(kept_blocks, gallery_conf, path.parent)
    raw["nbformat_minor"] = 4
    notebook = nbformat.reads(json.dumps(raw), as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code_cells) == len(start_lines), "one code cell per code block"
    for cell, line in zip(code_cells, start_lines, strict=True):
        cell.metadata = {LINE_KEY: line}
    return notebook
