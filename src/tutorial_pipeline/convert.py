"""Turn a sphinx-gallery script into a Jupyter notebook.

sphinx-gallery's own parser splits the script into text and code blocks and its notebook
writer turns the blocks into cells (reStructuredText prose becomes Markdown). On top of
that this module:

* refuses, with the file and line, a script that does not compile or has no titled docstring;
* strips ignore blocks (``# sphinx_gallery_start_ignore`` ... ``end_ignore``) and in-file
  config comments (``# sphinx_gallery_thumbnail_number = 2``), which the stock converter
  leaves in the notebook;
* records, in each code cell's metadata, the script line that the cell starts on, so that an
  error raised while the notebook runs can be reported as ``tutorials/x.py:LINE``;
* reads jupytext-style cell metadata on a separator line (``# %% tags=["solution"]``, which
  sphinx-gallery itself treats as a plain separator) into the code cell that follows: a cell
  tagged ``solution`` (an exercise's reference solution) is also marked ``source_hidden``,
  so Jupyter and the site show it collapsed;
* keeps what the page needs of the script in the notebook's metadata, under
  ``sphinx_gallery``: the title and one-line intro as sphinx-gallery extracts them, and the
  in-file config (``thumbnail_number``, ``line_numbers``, ``capture_repr``, ...).
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
#: Key of the notebook metadata that holds the title, intro and in-file config.
GALLERY_KEY = "sphinx_gallery"
#: The tag of an exercise's reference solution.
SOLUTION_TAG = "solution"

# sphinx-gallery's cell separators: "# %%" (anything may follow) or a line of 20+ '#'.
_SEPARATOR = re.compile(r"^(?:#{20,}.*|# ?%%.*)$")
# jupytext's cell metadata on a "# %%" line: tags=["a", "b"]
_TAGS = re.compile(r"\btags\s*=\s*(\[[^\]]*\])")


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
    try:
        title_and_intro(path, docstring)
    except TutorialError:
        raise
    except Exception as exc:  # sphinx-gallery's ExtensionError
        raise TutorialError(path, 1, f"the docstring has no title: {exc}".strip()) from None
    return source


def title_and_intro(path: Path, docstring: str) -> tuple[str, str]:
    """The title and one-line intro of a tutorial's docstring.

    The title is the first underlined heading, whatever reST comes before it (a row of links,
    a ``.. _label:`` target); the intro is the first paragraph after it that is not a
    directive. A docstring with no underlined heading falls back to sphinx-gallery's own rule
    (its first paragraph that is not a directive), which refuses an empty docstring.
    """
    from sphinx_gallery.gen_rst import extract_intro_and_title

    lines = docstring.splitlines()
    for index in range(len(lines) - 1):
        text, under = lines[index].rstrip(), lines[index + 1].rstrip()
        if text.strip() and _is_underline(under) and len(under) >= len(text.strip()):
            rest = "\n".join(lines[index + 2 :])
            paragraphs = [p.strip() for p in rest.split("\n\n") if p.strip()]
            prose = [p for p in paragraphs if not p.startswith("..") and not _is_underline(p)]
            intro = " ".join(prose[0].split()) if prose else text.strip()
            return text.strip(), intro
    if not docstring.strip():
        raise TutorialError(path, 1, "the docstring has no title")
    intro, title = extract_intro_and_title(path, docstring)
    return title, intro


def _is_underline(line: str) -> bool:
    """A reST section adornment: one punctuation character repeated (3 or more times)."""
    line = line.strip()
    return len(line) >= 3 and len(set(line)) == 1 and not line[0].isalnum() and line[0] != " "


def _cell_tags(lines: list[str], first_line: int) -> list[str]:
    """Tags given on the separator line that opens the cell starting at ``first_line``."""
    index = first_line - 2  # the line just above, 0-based
    while index >= 0 and lines[index].startswith("#") and not _SEPARATOR.match(lines[index]):
        index -= 1  # the text block's comment lines
    if index < 0 or not _SEPARATOR.match(lines[index]):
        return []
    match = _TAGS.search(lines[index])
    if not match:
        return []
    try:
        tags = json.loads(match.group(1))
    except json.JSONDecodeError:
        raise TutorialError(
            None, index + 1, f"cell tags must be a JSON list of strings: {match.group(1)}"
        ) from None
    return [str(tag) for tag in tags]


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
    source = check_script(path)
    lines = source.splitlines()
    file_conf, blocks = split_code_and_text_blocks(path)
    kept_blocks = []
    start_lines = []
    cell_tags = []
    for block in blocks:
        if block.type == "code":
            try:
                stripped = _strip_code(block.content, block.lineno)
                tags = _cell_tags(lines, block.lineno)
            except TutorialError as exc:
                raise TutorialError(path, exc.line, exc.message) from None
            if stripped is None:
                continue
            content, line = stripped
            block = block._replace(content=content)
            start_lines.append(line)
            cell_tags.append(tags)
        kept_blocks.append(block)

    gallery_conf = copy.deepcopy(gen_gallery.DEFAULT_GALLERY_CONF)
    raw = jupyter_notebook(kept_blocks, gallery_conf, path.parent)
    raw["nbformat_minor"] = 4
    notebook = nbformat.reads(json.dumps(raw), as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code_cells) == len(start_lines), "one code cell per code block"
    for cell, line, tags in zip(code_cells, start_lines, cell_tags, strict=True):
        cell.metadata = {LINE_KEY: line}
        if tags:
            cell.metadata["tags"] = tags
        if SOLUTION_TAG in tags:
            cell.metadata["jupyter"] = {"source_hidden": True}
    title, intro = title_and_intro(path, blocks[0].content)
    notebook.metadata[GALLERY_KEY] = {"title": title, "intro": intro, **file_conf}
    return notebook
