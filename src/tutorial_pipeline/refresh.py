"""Today's prose over the outputs of the last run of today's code.

The cache key covers what executes (`convert.execution_source`), not what is read: a prose
edit, a new title or intro leaves the key as it is, and the cached run is reused. The
cached notebook's text is the prose of the script that ran, though, and its cells remember
the script lines of that day. So the build publishes a *refreshed* notebook: the script
converted as it is now (its prose, title, headings, links and cell lines), with each code
cell's outputs taken from the cached run. A warning printed by the run names the script
line it came from; that line is moved with its cell, so ``tutorials/x.py:LINE`` stays right.

The cache entry is never changed (a merge checks its SHA-256): the refreshed notebook is
written beside the entries, under ``current/``, named by the script's bytes and the entry's
key, so a build that changes nothing converts nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import nbformat

from .cache import CURRENT, read_notebook, write_atomic
from .convert import LINE_KEY, script_to_notebook
from .errors import TutorialError

#: The notebook-level metadata the run itself wrote (the kernel's), kept from the run.
_RUN_METADATA = ("kernelspec", "language_info")


def _line_map(executed: list, fresh: list) -> dict[int, int]:
    """Old script line -> new script line, for every line of every code cell."""
    moved = {}
    for old, new in zip(executed, fresh, strict=True):
        old_start, new_start = old.metadata.get(LINE_KEY), new.metadata.get(LINE_KEY)
        if old_start is None or new_start is None:
            continue
        for offset in range(len(old.source.split("\n"))):
            moved[old_start + offset] = new_start + offset
    return moved


def _move_lines(text: str, script_name: str, moved: dict[int, int]) -> str:
    """``x.py:12`` -> ``x.py:15`` in a printed warning, for the script's own lines."""
    pattern = re.compile(rf"(?<![\w/.-]){re.escape(script_name)}:(\d+)")
    return pattern.sub(lambda m: f"{script_name}:{moved.get(int(m.group(1)), m.group(1))}", text)


def merge(
    fresh: nbformat.NotebookNode, executed: nbformat.NotebookNode, script: Path
) -> nbformat.NotebookNode:
    """``fresh`` (the script converted now) with the outputs of ``executed`` (its cached run,
    of the same code)."""
    runs = [cell for cell in executed.cells if cell.cell_type == "code"]
    cells = [cell for cell in fresh.cells if cell.cell_type == "code"]
    if [c.source for c in runs] != [c.source for c in cells]:
        raise TutorialError(
            script,
            None,
            "the script's code changed while the build ran (the run is of the code it had "
            "then): build again",
        )
    moved = _line_map(runs, cells)
    for run, cell in zip(runs, cells, strict=True):
        cell.execution_count = run.get("execution_count")
        cell.outputs = nbformat.from_dict(json.loads(json.dumps(run.get("outputs", []))))
        for output in cell.outputs:
            if output.get("output_type") == "stream":
                output.text = _move_lines(str(output.text), script.name, moved)
    for key in _RUN_METADATA:
        if key in executed.metadata:
            fresh.metadata[key] = executed.metadata[key]
    return fresh


def refreshed(script: Path, record, *, strict: bool, cache_root: Path) -> Path:
    """The path of ``record``'s run (a `cache.Record`) with ``script``'s text as it is now,
    made once per script text and run. Raises `TutorialError` where the script's prose
    does not convert (a reST error), naming its file and line."""
    script = Path(script)
    digest = hashlib.sha256(script.read_bytes() + f"\0{record.key}\0{strict}".encode()).hexdigest()[
        :24
    ]
    folder = Path(cache_root) / CURRENT
    target = folder / f"{script.stem}-{digest}.ipynb"
    if target.is_file():
        return target
    notebook = merge(
        script_to_notebook(script, strict=strict), read_notebook(record.notebook_path), script
    )
    write_atomic(target, nbformat.writes(notebook) + "\n")
    for older in folder.glob(f"{script.stem}-*.ipynb"):  # one per tutorial is enough
        if older != target and older.stem.rsplit("-", 1)[0] == script.stem:
            older.unlink(missing_ok=True)
    return target


def refresh_result(result, *, strict: bool | Callable[[Path], bool], cache_root: Path):
    """``result`` (a `pipeline.TutorialResult`) publishing its refreshed notebook."""
    if callable(strict):
        strict = strict(result.script)
    path = refreshed(result.script, result.record, strict=strict, cache_root=cache_root)
    return dataclasses.replace(result, notebook=path)
