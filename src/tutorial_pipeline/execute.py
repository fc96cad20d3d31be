"""Execute a tutorial's notebook in a Jupyter kernel and measure it.

Each notebook runs in a fresh kernel in an empty temporary directory, cell by cell, with a
per-cell timeout. The run's wall time and the kernel's peak resident memory are measured. An
exception, a timeout, a dead kernel, an error output or a warning printed by a cell becomes a
`TutorialError` that names the script file and line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .convert import LINE_KEY
from .errors import TutorialError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")
_WARNING_LINE = re.compile(r"^(?:.*:\d+: )?(\w*Warning): (.*)$", re.M)

# Appended to the notebook for the run and removed afterwards: the kernel's peak RSS in bytes
# (ru_maxrss is in KiB on Linux, bytes on macOS) and the accelerator torch would pick, if the
# tutorial imported torch.
_PROBE = """\
import json as _j, resource as _r, sys as _s
_t = _s.modules.get("torch")
_d = _t.accelerator.current_accelerator(check_available=True) if _t else None
_k = 1 if _s.platform == "darwin" else 1024
print(_j.dumps({
    "peak_memory": _r.getrusage(_r.RUSAGE_SELF).ru_maxrss * _k,
    "device": (_d.type if _d is not None else "cpu") if _t else None,
}))"""


# nbclient logs each start and, on a timeout, an error that our own TutorialError repeats.
_quiet_log = logging.getLogger("tutorial_pipeline.nbclient")
_quiet_log.setLevel(logging.CRITICAL)
_log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")


@dataclass(frozen=True)
class Execution:
    """An executed notebook and what its run cost."""

    notebook: nbformat.NotebookNode
    seconds: float
    peak_memory: int
    device: str | None  # "cpu", "cuda", ...; None if the tutorial does not use torch


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _cell_line(cell: nbformat.NotebookNode | None) -> int | None:
    return cell.metadata.get(LINE_KEY) if cell is not None else None


def _locate(traceback: str, notebook: nbformat.NotebookNode, fallback: int | None) -> int | None:
    """Map the innermost ``Cell In[n], line k`` frame of a traceback to a script line."""
    by_count = {
        cell.get("execution_count"): cell for cell in notebook.cells if cell.cell_type == "code"
    }
    for count, line in reversed(_CELL_FRAME.findall(traceback)):
        start = _cell_line(by_count.get(int(count)))
        if start is not None:
            return start + int(line) - 1
    return fallback


def check_outputs(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Refuse a notebook that holds an error output or a printed warning."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                traceback = strip_ansi("\n".join(output.get("traceback", [])))
                line = _locate(traceback, notebook, _cell_line(cell))
                raise TutorialError(path, line, f"{output.ename}: {output.evalue}", traceback)
            if output.output_type == "stream" and output.name == "stderr":
                match = _WARNING_LINE.search(strip_ansi(output.text))
                if match:
                    raise TutorialError(
                        path,
                        _cell_line(cell),
                        f"{match.group(1)}: {match.group(2)} (tutorials must run warning-free)",
                        strip_ansi(output.text),
                    )


def kernel_environment() -> dict[str, str]:
    """The environment a tutorial's kernel runs with."""
    env = dict(os.environ)
    # Figures must be captured as notebook outputs, whatever backend the caller uses.
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    return env


class KernelDied(TutorialError):
    """The kernel process exited mid-run (a crash, the out-of-memory killer, a port clash)."""


def execute_notebook(
    notebook: nbformat.NotebookNode, *, path: Path, timeout: float, attempts: int = 2
) -> Execution:
    """Run every cell of ``notebook`` (a copy is executed); ``path`` names it in errors.

    A kernel that dies is replaced and the notebook run again, ``attempts`` times in all:
    kernels started at the same moment can, rarely, pick the same TCP port. Any other
    failure is the tutorial's and is raised at once.
    """
    for attempt in range(1, attempts + 1):
        try:
            return _execute_once(notebook, path=path, timeout=timeout)
        except KernelDied as exc:
            if attempt == attempts:
                raise
            _log.warning("%s: %s; running it again in a new kernel", path.name, exc.message)
    raise AssertionError("unreachable")


def _execute_once(notebook: nbformat.NotebookNode, *, path: Path, timeout: float) -> Execution:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    executed = nbformat.reads(nbformat.writes(notebook), as_version=4)
    executed.cells.append(nbformat.v4.new_code_cell(_PROBE))
    running: dict[str, int] = {}

    def on_cell_start(cell, cell_index):
        running["index"] = cell_index

    def current_line() -> int | None:
        index = running.get("index")
        return _cell_line(executed.cells[index]) if index is not None else None

    with tempfile.TemporaryDirectory(prefix="tutorial-run-") as workdir:
        client = NotebookClient(
            executed,
            log=_quiet_log,
            # The kernel's own log only repeats, on a loopback-only run, that its TCP
            # sockets are unencrypted; errors in cells reach us as outputs, not as logs.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            timeout=timeout,
            # Kill the kernel when done: a graceful shutdown waits on a cell stuck in a loop.
            shutdown_kernel="immediate",
            kernel_name="python3",
            allow_errors=False,
            record_timing=False,
            resources={"metadata": {"path": workdir}},
            on_cell_start=on_cell_start,
        )
        started = time.perf_counter()
        try:
            # A loop of our own, closed when done: the pipeline runs notebooks in threads.
            asyncio.run(client.async_execute(env=kernel_environment(), cwd=workdir))
        except CellTimeoutError:
            raise TutorialError(
                path,
                current_line(),
                f"TimeoutError: the cell starting here ran longer than {timeout:g} s "
                "and was stopped",
            ) from None
        except DeadKernelError as exc:
            raise KernelDied(
                path, current_line(), f"DeadKernelError: the kernel died ({exc})"
            ) from None
        except CellExecutionError as exc:
            traceback = strip_ansi(exc.traceback)
            line = _locate(traceback, executed, current_line())
            raise TutorialError(path, line, f"{exc.ename}: {exc.evalue}", traceback) from None
        seconds = time.perf_counter() - started

    probe = executed.cells.pop()
    measured = json.loads("".join(o.get("text", "") for o in probe.outputs))
    check_outputs(executed, path)
    return Execution(executed, seconds, measured["peak_memory"], measured["device"])
