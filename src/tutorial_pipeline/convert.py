"""Turn a sphinx-gallery script into a Jupyter notebook.

sphinx-gallery's own parser splits the script into text and code blocks. On top of that
this module:

* reads the script as Python does: UTF-8, or the encoding its PEP 263 coding line names; a
  script that cannot be decoded is refused with the file, line and byte offset;
* refuses, with the file and line, a script that does not compile, has no titled docstring,
  an unmatched ignore flag, an in-file setting sphinx-gallery would refuse or one this site
  does not support (`check_config`);
* renders the text blocks with docutils (`tutorial_pipeline.rst`), as one reST document, into
  Markdown cells, instead of sphinx-gallery's regular-expression notebook writer, less the
  ``# noqa: E501`` comments sphinx-gallery strips from them; a ``strict`` conversion (this
  site's own tutorials) fails on a docutils warning, any other keeps it in the metadata
  (``tutorial_page.warnings``) and renders the page as Sphinx does;
* keeps ignore blocks (``# sphinx_gallery_start_ignore`` ... ``end_ignore``) and in-file
  config comments (``# sphinx_gallery_thumbnail_number = 2``) in the code that runs, as
  sphinx-gallery runs them, and records their script lines in the cell's metadata
  (``hidden_lines``): the published page and downloads leave them out
  (`tutorial_pipeline.publish`);
* records, in each code cell's metadata, the script line that the cell starts on, so that an
  error raised while the notebook runs can be reported as ``tutorials/x.py:LINE``;
* reads jupytext-style cell metadata on a separator line (``# %% tags=["solution"]``, which
  sphinx-gallery itself treats as a plain separator) into the code cell that follows: a cell
  tagged ``solution`` (an exercise's reference solution) is also marked ``source_hidden``,
  so Jupyter and the site show it collapsed;
* keeps what the page needs of the script in the notebook's metadata, under
  ``sphinx_gallery``: the title and one-line intro as sphinx-gallery extracts them, and the
  in-file config (``thumbnail_number``, ``line_numbers``, ``capture_repr``, ...); and under
  ``tutorial_page``: the cross-references, labels, headings and files of its prose and the
  API names its code uses (`tutorial_pipeline.apiref`).
"""

from __future__ import annotations

import ast
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
#: Key of a code cell's metadata: the script lines (first, last) it runs but does not show.
HIDDEN_KEY = "hidden_lines"
#: Key of the notebook metadata that holds what the prose and code link to.
PAGE_KEY = "tutorial_page"
#: The in-file settings (``# sphinx_gallery_<name> = <value>``) that sphinx-gallery's docs
#: list ("Configurations inside examples"), and the type each value must have. Each one
#: works here (see the README), or is refused by `check_config` with a line saying why.
_CONFIG_TYPES = {
    "thumbnail_number": int,
    "thumbnail_path": str,
    "failing_thumbnail": bool,
    "line_numbers": bool,
    "capture_repr": (tuple, list),
    "capture_repr_block": (tuple, list),
    "dummy_images": int,
    "multi_image": str,
    "multi_image_block": str,
    "tags": (list, tuple),
    "parallel": bool,
    # This site's own: the device type a page is published from when a run on it exists
    # (pipeline.PUBLISH_TARGET; README, "Build across machines"). sphinx-gallery ignores it.
    "publish_target": str,
}
#: Per-block flags (no value) that sphinx-gallery's docs list.
_FLAGS = {"defer_figures", "start_ignore", "end_ignore"}
#: sphinx-gallery removes this comment from the end of a text block's lines (its rst_blocks).
NOQA_E501 = re.compile(r"^(.*)( +# noqa: ?E501 *)$", re.M)
_REPR_METHODS = ("__repr__", "__str__", "_repr_html_")
_CONFIG_IN_TEXT = re.compile(r"^[ \t]*sphinx_gallery_\w+(?:[ \t]*=.*)?$", re.M)

# sphinx-gallery's cell separators: "# %%" (anything may follow) or a line of 20+ '#'.
_SEPARATOR = re.compile(r"^(?:#{20,}.*|# ?%%.*)$")
# jupytext's cell metadata on a "# %%" line: tags=["a", "b"]
_TAGS = re.compile(r"\btags\s*=\s*(\[[^\]]*\])")


def read_source(path: Path) -> str:
    """The script's text, decoded as Python decodes it: UTF-8 unless a PEP 263 coding line
    names another encoding (newlines as ``\\n``). A script Python could not decode is refused
    with its line and the offset of the first byte that does not decode."""
    import io
    import tokenize

    data = Path(path).read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown encoding, or a coding line against a BOM
        raise TutorialError(path, exc.lineno or 1, f"SyntaxError: {exc.msg}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        declared = (
            "its coding line declares " + encoding
            if encoding not in ("utf-8", "utf-8-sig")
            else "it has no PEP 263 coding line naming another encoding"
        )
        raise TutorialError(
            path,
            line,
            f"SyntaxError: byte 0x{data[exc.start]:02x} at offset {exc.start} does not "
            f"decode as {encoding} ({declared})",
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def strict_tutorial(script: Path, tutorials_dir: Path, patterns: list[str]) -> bool:
    """Whether ``script`` is held to this site's own standard (a reST warning or a printed
    warning fails the build): its path under ``tutorials_dir`` matches one of ``patterns``
    (``extra.strict_tutorials`` in mkdocs.yml; ``fnmatch`` patterns)."""
    import fnmatch

    try:
        relative = Path(script).resolve().relative_to(Path(tutorials_dir).resolve()).as_posix()
    except ValueError:
        relative = Path(script).name
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns)


def check_script(path: Path) -> str:
    """Return the script's source, or raise `TutorialError` if it cannot be a tutorial."""
    source = read_source(path)
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
    from .adapters.sphinx_gallery import extract_intro_and_title

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


def _code_cell(content: str, first_line: int) -> tuple[str, int, list[list[int]]] | None:
    """One code block as the cell that runs: its source (every line from the first to the last
    that is not blank, ignore blocks and config comments included, so that line offsets stay
    the script's), the script line it starts on and the (first, last) script lines to hide.
    None when nothing in it would run (blank lines and config comments only)."""
    from .adapters import sphinx_gallery

    start_ignore, end_ignore = sphinx_gallery.ignore_flags()
    infile_config = sphinx_gallery.infile_config_pattern()

    numbered = list(enumerate(content.split("\n"), start=first_line))
    while numbered and not numbered[0][1].strip():
        numbered.pop(0)
    while numbered and not numbered[-1][1].strip():
        numbered.pop()
    hidden: list[int] = []
    runs = False
    ignoring: int | None = None
    for number, line in numbered:
        if re.match(start_ignore, line):
            if ignoring is not None:
                raise TutorialError(
                    None, number, "sphinx_gallery_start_ignore inside an ignore block"
                )
            ignoring = number
            hidden.append(number)
        elif re.match(end_ignore, line):
            if ignoring is None:
                raise TutorialError(
                    None, number, "sphinx_gallery_end_ignore without a sphinx_gallery_start_ignore"
                )
            ignoring = None
            hidden.append(number)
        elif ignoring is not None:
            hidden.append(number)
            runs = runs or (bool(line.strip()) and not line.lstrip().startswith("#"))
        elif infile_config.match(line + "\n"):
            hidden.append(number)
        elif line.strip():
            runs = True
    if ignoring is not None:
        raise TutorialError(None, ignoring, "sphinx_gallery_start_ignore without an end_ignore")
    if not numbered or not runs:
        return None
    ranges: list[list[int]] = []
    for number in hidden:
        if ranges and ranges[-1][1] == number - 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    return "\n".join(line for _, line in numbered), numbered[0][0], ranges


def visible_source(cell) -> str:
    """A code cell's source without the lines it runs but does not show."""
    start = cell.metadata.get(LINE_KEY)
    hidden = cell.metadata.get(HIDDEN_KEY) or []
    if start is None or not hidden:
        return cell.source
    kept = [
        line
        for number, line in enumerate(cell.source.split("\n"), start=start)
        if not any(first <= number <= last for first, last in hidden)
    ]
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)


def visible_start(cell) -> int | None:
    """The script line of the first line `visible_source` shows."""
    start = cell.metadata.get(LINE_KEY)
    if start is None:
        return None
    hidden = cell.metadata.get(HIDDEN_KEY) or []
    for number, line in enumerate(cell.source.split("\n"), start=start):
        if line.strip() and not any(first <= number <= last for first, last in hidden):
            return number
    return start


def downloadable_script(path: Path) -> bytes:
    """The script a reader downloads: the file itself, less its ignore blocks (which
    sphinx-gallery runs but leaves out of the page and the downloads), in its own encoding."""
    import io
    import tokenize

    from .adapters.sphinx_gallery import ignore_block_pattern

    ignore_blocks = ignore_block_pattern()

    data = Path(path).read_bytes()
    text = read_source(path)
    stripped = ignore_blocks.sub("", text)
    if stripped == text:
        return data
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return stripped.encode(encoding)


def check_config(path: Path, lines: list[str], warnings: list[dict] | None = None) -> None:
    """Refuse in-file settings that sphinx-gallery refuses (it warns; a strict build fails),
    and a ``sphinx_gallery_<name>`` its docs do not list (sphinx-gallery ignores it: a strict
    conversion fails, a tolerant one adds it to ``warnings``)."""
    from .adapters.sphinx_gallery import infile_config_pattern

    infile_config = infile_config_pattern()

    for number, line in enumerate(lines, start=1):
        match = infile_config.match(line + "\n")
        if not match:
            continue
        name = match.group(1)
        if name not in _CONFIG_TYPES and name not in _FLAGS:
            message = (
                f"sphinx_gallery_{name}: not a setting sphinx-gallery's docs list for a "
                "script (Configurations inside examples), so nothing here reads it"
            )
            if warnings is None:
                raise TutorialError(path, number, message)
            warnings.append({"line": number, "message": message})
            continue
        if match.group(3) is None:
            if name not in _FLAGS:
                raise TutorialError(path, number, f"sphinx_gallery_{name} needs a value (= ...)")
            continue
        if name in _FLAGS:
            raise TutorialError(path, number, f"sphinx_gallery_{name} takes no value")
        value = match.group(3).strip()
        try:
            parsed = ast.literal_eval(value)
        except (SyntaxError, ValueError):
            raise TutorialError(
                path, number, f"sphinx_gallery_{name} = {value}: not a Python literal"
            ) from None
        expected = _CONFIG_TYPES.get(name)
        if expected is not None and (
            not isinstance(parsed, expected) or (expected is int and isinstance(parsed, bool))
        ):
            types = expected if isinstance(expected, tuple) else (expected,)
            raise TutorialError(
                path,
                number,
                f"sphinx_gallery_{name} = {value}: sphinx-gallery expects "
                + " or ".join(t.__name__ for t in types),
            )
        if name.startswith("capture_repr") and not all(m in _REPR_METHODS for m in parsed):
            raise TutorialError(
                path,
                number,
                f"sphinx_gallery_{name} = {value}: each entry must be one of "
                + ", ".join(_REPR_METHODS),
            )
        if name.startswith("multi_image") and parsed not in ("single", "multi"):
            raise TutorialError(
                path, number, f'sphinx_gallery_{name} = {value}: "single" or "multi"'
            )
        if name == "tags" and not all(isinstance(tag, str) for tag in parsed):
            raise TutorialError(path, number, f"sphinx_gallery_tags = {value}: strings only")


def _text_start(lines: list[str], lineno: int) -> int:
    """The script line of the first line of the text block sphinx-gallery says starts at
    ``lineno`` (it drops the comment lines that are blank)."""
    index = lineno - 1
    while index < len(lines) and re.fullmatch(r"#\s*", lines[index]):
        index += 1
    return index + 1


def _split_blocks(path: Path, source: str) -> tuple[dict, list]:
    """sphinx-gallery's split of the script into its in-file config and blocks. Its parser
    reads files as UTF-8: a script in another encoding is parsed from a UTF-8 copy."""
    import tempfile

    from .adapters.sphinx_gallery import split_code_and_text_blocks

    if path.read_bytes().replace(b"\r\n", b"\n") == source.encode("utf-8"):
        return split_code_and_text_blocks(path)
    with tempfile.TemporaryDirectory(prefix="tutorial-source-") as folder:
        copy = Path(folder) / path.name
        copy.write_text(source, encoding="utf-8")
        return split_code_and_text_blocks(copy)


def _code_cells(path: Path, lines: list[str], blocks: list) -> list[nbformat.NotebookNode | None]:
    """For each of sphinx-gallery's blocks, the code cell it becomes (None for a text block,
    or a code block in which nothing runs)."""
    cells: list[nbformat.NotebookNode | None] = []
    for block in blocks:
        if block.type == "text":
            cells.append(None)
            continue
        try:
            cell = _code_cell(block.content, block.lineno)
            tags = _cell_tags(lines, block.lineno)
        except TutorialError as exc:
            raise TutorialError(path, exc.line, exc.message) from None
        if cell is None:
            cells.append(None)
            continue
        content, line, hidden = cell
        code = nbformat.v4.new_code_cell(content)
        code.metadata = {LINE_KEY: line}
        if hidden:
            code.metadata[HIDDEN_KEY] = hidden
        if tags:
            code.metadata["tags"] = tags
        if SOLUTION_TAG in tags:
            code.metadata["jupyter"] = {"source_hidden": True}
        code.pop("id", None)
        cells.append(code)
    return cells


def execution_source(path: Path) -> str:
    """What of the script executes, as text for the cache key: each code cell's lines (the
    ones it hides included), where cells begin and end, their tags, and the in-file config.
    Not the prose, the title or the script lines the cells start on: a prose edit leaves it
    as it is, so the cached run is reused and only its text is refreshed
    (`tutorial_pipeline.refresh`). A script that is not a tutorial raises `TutorialError`."""
    path = Path(path)
    source = check_script(path)
    file_conf, blocks = _split_blocks(path, source)
    cells = []
    for code in _code_cells(path, source.splitlines(), blocks):
        if code is None:
            continue
        start = code.metadata[LINE_KEY]
        hidden = [[a - start, b - start] for a, b in code.metadata.get(HIDDEN_KEY, [])]
        cells.append(
            {"source": code.source, "tags": code.metadata.get("tags", []), "hidden": hidden}
        )
    return json.dumps({"config": file_conf, "cells": cells}, sort_keys=True, default=repr)


def script_to_notebook(path: Path, *, strict: bool = False) -> nbformat.NotebookNode:
    """Convert the sphinx-gallery script at ``path`` into an (unexecuted) notebook.

    ``strict`` (this site's own tutorials): a docutils warning in the prose, or an in-file
    setting sphinx-gallery does not know, fails as an error does. Otherwise each is kept in
    the notebook's ``tutorial_page.warnings`` (script line and message) and the page renders
    as Sphinx renders it, which without ``-W`` goes on past a warning."""
    from . import apiref
    from .adapters.sphinx_gallery import notebook_skeleton
    from .rst import docstring_lines, render_prose

    path = Path(path)
    source = check_script(path)
    lines = source.splitlines()
    file_conf, blocks = _split_blocks(path, source)
    warnings: list[dict] = []
    check_config(path, lines, None if strict else warnings)
    texts: list[tuple[str, int]] = []
    layout: list[tuple[str, object]] = []  # ("text", index in texts) or ("code", cell)
    for block, code in zip(blocks, _code_cells(path, lines, blocks), strict=True):
        if block.type == "text":
            if not texts:
                text, first = docstring_lines(source)
                texts.append((NOQA_E501.sub(r"\1", text), first))
            else:  # config comments in a text block are settings, not prose
                text = NOQA_E501.sub(r"\1", _CONFIG_IN_TEXT.sub("", block.content))
                texts.append((text, _text_start(lines, block.lineno)))
            layout.append(("text", len(texts) - 1))
        elif code is not None:
            layout.append(("code", code))

    prose = render_prose(path, texts, strict=strict)
    notebook = nbformat.from_dict(notebook_skeleton())
    notebook.nbformat_minor = 4
    for kind, item in layout:
        if kind == "code":
            notebook.cells.append(item)
        elif prose.cells[item]:
            notebook.cells.append(nbformat.v4.new_markdown_cell(prose.cells[item]))
    code_sources = [visible_source(c) for c in notebook.cells if c.cell_type == "code"]
    names = apiref.code_names(code_sources)
    title, intro = title_and_intro(path, blocks[0].content)
    notebook.metadata[GALLERY_KEY] = {"title": title, "intro": intro, **file_conf}
    api = dict(prose.api)
    for fullname, url in names.values():
        api.setdefault(fullname, [url])
    notebook.metadata[PAGE_KEY] = {
        "strict": strict,
        "warnings": sorted(warnings + prose.warnings, key=lambda w: w["line"] or 0),
        "links": prose.links,
        # sphinx-gallery shows the output above the code in a script of one code block.
        "output_first": len(blocks) <= 2,
        "references": prose.references,
        "labels": prose.labels,
        "headings": prose.headings,
        "files": prose.files,
        "code_names": names,
        "api": {name: api[name][0] for name in sorted(api) if apiref.is_api(name)},
    }
    for cell in notebook.cells:  # nbformat 4.4: no cell ids, so conversion is deterministic
        cell.pop("id", None)
    nbformat.validate(notebook)
    return notebook
