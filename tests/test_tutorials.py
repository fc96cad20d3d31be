"""Every tutorial runs: as a plain script (needs only the tutorial's own packages, so this
also runs on a GPU machine) and through the notebook pipeline the site uses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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


@pytest.mark.docs
@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_as_notebook(script: Path, shared_cache: Path):
    import nbformat

    from tutorial_pipeline import TutorialBuildError, build_tutorials

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
