"""Every tutorial runs, once per test run: through the notebook pipeline the site uses.

Executing each tutorial twice (as a script and as a notebook) doubled the suite's time, so
the default run executes the notebook once, into the cache the site test then reuses, and
proves that this run is the plain script's run: the notebook's code cells are the script's
statements, line for line and in order, and the kernel runs them as ``python script.py``
would (in the script's folder, ``__name__ == "__main__"``, ``__file__`` set; see
`tutorial_pipeline.execute`). The `gpu` session, which has no site toolchain, runs each
script as a reader would (``-m script``), on the GPU.
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from conftest import ROOT, TUTORIALS

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def run_script(script: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run a tutorial as a reader would, from an empty folder, with warnings as errors."""
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def describe_failure(script: Path, stderr: str) -> str:
    """``tutorials/x.py:LINE: <last line of the traceback>`` followed by the stderr tail."""
    frames = [m for m in _FRAME.finditer(stderr) if Path(m["file"]).resolve() == script.resolve()]
    line = frames[-1]["line"] if frames else "?"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "no output"
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    return f"{shown}:{line}: {last}\n\n" + "\n".join(lines[-40:])


@pytest.mark.script
@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_as_script(script: Path, tmp_path: Path):
    result = run_script(script, tmp_path)
    if result.returncode != 0:
        pytest.fail(describe_failure(script, result.stderr), pytrace=False)
    assert result.stdout.strip(), "a tutorial shows its results"
    assert list(tmp_path.iterdir()) == [], "tutorials write only into temporary folders"


def test_script_failure_names_file_line_and_exception(tmp_path: Path):
    script = tmp_path / "planted.py"
    script.write_text('"""\nPlanted\n=======\n"""\n\nx = 1\nraise RuntimeError("planted")\n')
    result = run_script(script, tmp_path)
    assert result.returncode != 0
    message = describe_failure(script, result.stderr).splitlines()[0]
    assert message.endswith("planted.py:7: RuntimeError: planted")


def code_lines(script: Path) -> dict[int, str]:
    """The script's lines that hold code (not the docstring, comments or blank lines)."""
    source = script.read_text(encoding="utf-8")
    docstring = ast.parse(source).body[0]
    skip = set(range(docstring.lineno, docstring.end_lineno + 1))
    lines: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,  # at the end of a file it sits on the line after the last one
            tokenize.ENDMARKER,
        ):
            continue
        for number in range(token.start[0], token.end[0] + 1):
            if number not in skip:
                lines[number] = source.splitlines()[number - 1]
    return lines


@pytest.mark.docs
@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_as_notebook_and_that_run_is_the_script(script: Path, shared_cache: Path):
    import nbformat

    from tutorial_pipeline import TutorialBuildError, build_tutorials
    from tutorial_pipeline.convert import LINE_KEY

    try:
        (result,) = build_tutorials([script], cache_dir=shared_cache, jobs=1)
    except TutorialBuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    notebook = nbformat.read(result.notebook_path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells)
    outputs = [output for cell in code_cells for output in cell.outputs]
    assert any(output.output_type == "stream" for output in outputs)
    assert not any(output.output_type == "error" for output in outputs)

    # The kernel executed the script's own statements, in the script's order: every code
    # line of the script is in the cell that starts at or above it, at the same offset.
    executed: dict[int, str] = {}
    for cell in code_cells:
        for offset, line in enumerate(cell.source.splitlines()):
            executed[cell.metadata[LINE_KEY] + offset] = line
    starts = [cell.metadata[LINE_KEY] for cell in code_cells]
    assert starts == sorted(starts), "cells run in the script's order"
    missing = {n: line for n, line in code_lines(script).items() if executed.get(n) != line}
    assert not missing, f"script lines the notebook did not run: {missing}"
