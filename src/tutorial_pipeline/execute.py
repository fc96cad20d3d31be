"""Execute a tutorial's notebook in a Jupyter kernel and measure it.

Each notebook runs in a kernel of its own (launched, or forked from a process that has
imported the libraries the tutorials share: see `forkserver`), cell by cell, with a per-cell
timeout, the way sphinx-gallery runs a script: the working directory is the script's folder,
that folder is importable (a helper module next to the tutorial can be imported, also by
processes the tutorial starts) and ``__file__`` is the script's path. The build owns the
machine, so the kernel's environment also carries what a page should not: its share of the
CPU cores (``OMP_NUM_THREADS``), the progress-bar format (``TQDM_*``), compile caches in a
folder of its own, and no bytecode written into the source tree.

The kernel talks to the build over ZeroMQ's ``ipc`` transport (Unix sockets in a folder of
the run's own) where ZeroMQ has it: over ``tcp``, jupyter_client picks five free ports, closes
them and writes them down, and the kernel binds them a moment later, so anything on the
machine that binds a port in between (another build's kernel, a tutorial's own server) can
take one, and the kernel then dies at start or prints a heartbeat ``Address already in use``
traceback. A socket file in a private folder has no such window.

The run's wall time and the kernel's peak resident memory are measured. An exception, a
timeout, a dead kernel, a kernel that cannot start, an error output, a warning printed by a
cell, or a file the tutorial wrote next to itself becomes a `TutorialError` that names the
script file and line. Progress bars redrawn with ``\\r`` are kept as their final state.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .convert import LINE_KEY
from .errors import TutorialError
from .forkserver import kernel_manager_class

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


# Prepended to the notebook for the run and removed afterwards: sphinx-gallery's semantics.
# ``__spec__`` names ``__main__`` so that processes started with the spawn method do not run
# the whole notebook again (as they would re-run a script through ``__file__``): in a kernel,
# as in Jupyter, code that child processes need lives in an importable module.
# The logger line is build-machine noise: torch's C++-extension helper warns, the first time
# torch.compile loads it, that the machine has a CUDA compiler (CUDA_HOME) but no GPU; a
# reader's machine has either both or neither.
_SETUP = """\
import importlib.machinery as _m, logging as _l, sys as _s
__file__ = {file!r}
__spec__ = _m.ModuleSpec("__main__", None)
_s.path.insert(0, {folder!r})
_l.getLogger("torch.utils.cpp_extension").setLevel(_l.ERROR)
del _m, _l, _s"""

#: Seconds a new kernel has to answer before the build gives up on it.
KERNEL_STARTUP_TIMEOUT = 30

#: The progress-bar format of the pages: tqdm reads these when a bar is created. No timings
#: or rates, so the final state is the same in every build.
TQDM_ENVIRONMENT = {
    "TQDM_BAR_FORMAT": "{l_bar}{bar}| {n_fmt}/{total_fmt}{postfix}",
    "TQDM_NCOLS": "80",
}

# nbclient logs each start and, on a timeout, an error that our own TutorialError repeats.
_quiet_log = logging.getLogger("tutorial_pipeline.nbclient")
_quiet_log.setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Execution:
    """An executed notebook and what its run cost."""

    notebook: nbformat.NotebookNode
    seconds: float
    peak_memory: int
    device: str | None  # "cpu", "cuda", ...; None if the tutorial does not use torch
    preloaded: tuple[str, ...] = ()  # modules imported before the run (a forked kernel)


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


def base_environment(*, threads: int) -> dict[str, str]:
    """The environment every kernel of a build shares (the fork server starts with it)."""
    env = dict(os.environ)
    # Figures must be captured as notebook outputs, whatever backend the caller uses.
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    # The kernel's share of the cores, so that parallel kernels do not fight over them.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(threads)
    env.update(TQDM_ENVIRONMENT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def kernel_environment(script: Path, *, threads: int, scratch: Path) -> dict[str, str]:
    """The environment a tutorial's kernel runs with."""
    env = base_environment(threads=threads)
    # Helper modules next to the tutorial import in the kernel and in processes it starts.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(script.parent), *filter(None, [env.get("PYTHONPATH")])]
    )
    # torch.compile's caches: per run, so that a compile on the page is a real compile.
    env["TORCHINDUCTOR_CACHE_DIR"] = str(scratch / "torchinductor")
    env["TRITON_CACHE_DIR"] = str(scratch / "triton")
    return env


def coalesce_streams(notebook: nbformat.NotebookNode) -> None:
    """Merge each cell's consecutive stream outputs and keep only the last state of a line
    that was redrawn with ``\\r`` (a progress bar), as Jupyter and a terminal show it."""
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    CoalesceStreamsPreprocessor().preprocess(notebook, {})


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file below ``folder`` (bytecode aside)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def _wrote_beside(before: dict, after: dict) -> list[str]:
    """Files that appeared while the tutorial ran. Edits to existing files, and new tutorial
    scripts, are an author's work in progress (``mkdocs serve`` runs while they write), not
    the tutorial's output."""
    authored = re.compile(r"(?:.*/)?[^_/][^/]*\.py")
    return sorted(name for name in set(after) - set(before) if not authored.fullmatch(name))


class Stop:
    """A build-wide stop signal: set on Ctrl-C, it kills the running kernels and keeps new
    ones from starting."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._managers: set = set()

    def register(self, manager) -> None:
        with self._lock:
            self._managers.add(manager)

    def unregister(self, manager) -> None:
        with self._lock:
            self._managers.discard(manager)

    def set(self) -> None:
        self.event.set()
        with self._lock:
            managers = list(self._managers)
        for manager in managers:
            process = getattr(getattr(manager, "provisioner", None), "process", None)
            if process is not None and process.poll() is None:
                process.kill()

    def is_set(self) -> bool:
        return self.event.is_set()


_INTERRUPTED = "KeyboardInterrupt: the build was interrupted"


class Interrupted(TutorialError):
    """The build was interrupted (Ctrl-C) while this tutorial ran."""


class KernelStartError(TutorialError):
    """No kernel could be started or reached: the machine's fault, not the tutorial's."""


class KernelDied(TutorialError):
    """The kernel process exited mid-run (a crash, a signal, the out-of-memory killer)."""


def execute_notebook(
    notebook: nbformat.NotebookNode,
    *,
    path: Path,
    timeout: float,
    threads: int = 1,
    stop: Stop | None = None,
    fork_server=None,
) -> Execution:
    """Run every cell of ``notebook`` (a copy is executed); ``path`` names it in errors.

    Every failure is raised at once, a kernel that dies mid-run included: it crashed (a
    signal, the out-of-memory killer) while running the tutorial's code, and running it
    again would hide a crash that happens once in a while. Kernels do not die of port
    clashes here (see `kernel_transport`).
    """
    stop = stop or Stop()
    if stop.is_set():
        raise Interrupted(path, None, _INTERRUPTED)
    return _execute_once(
        notebook,
        path=path,
        timeout=timeout,
        threads=threads,
        stop=stop,
        fork_server=fork_server,
    )


def kernel_transport(km, folder: Path) -> None:
    """Connect ``km``'s kernel over ZeroMQ's ``ipc`` transport, through socket files
    ``<folder>/k-1`` to ``k-5`` (``folder`` is the run's own, created empty), where ZeroMQ
    supports it; else leave it on ``tcp`` (127.0.0.1 and ports picked by jupyter_client).

    Over ``tcp`` the ports are picked, released and bound by the kernel later, a window in
    which any process on the machine can take one; a file in a folder nobody else writes to
    cannot be taken. A Unix socket's path is limited to about 100 bytes: a longer ``folder``
    (a deep TMPDIR) keeps ``tcp``."""
    import zmq

    endpoint = folder / "k"
    if not zmq.has("ipc") or len(os.fsencode(endpoint)) > 90:
        return
    km.transport = "ipc"
    km.ip = str(endpoint)
    km.cache_ports = False  # jupyter_client's free-port bookkeeping is for tcp only


def _execute_once(
    notebook: nbformat.NotebookNode,
    *,
    path: Path,
    timeout: float,
    threads: int,
    stop: Stop,
    fork_server=None,
) -> Execution:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path).resolve()
    folder = path.parent
    executed = nbformat.reads(nbformat.writes(notebook), as_version=4)
    setup = _SETUP.format(file=str(path), folder=str(folder))
    executed.cells.insert(0, nbformat.v4.new_code_cell(setup))
    executed.cells.append(nbformat.v4.new_code_cell(_PROBE))
    running: dict[str, int] = {}

    def on_cell_start(cell, cell_index):
        if stop.is_set():
            raise Interrupted(path, _cell_line(cell), _INTERRUPTED)
        running["index"] = cell_index

    def current_line() -> int | None:
        index = running.get("index")
        return _cell_line(executed.cells[index]) if index is not None else None

    before = _snapshot(folder)
    with tempfile.TemporaryDirectory(prefix="tutorial-run-") as scratch:
        client = NotebookClient(
            executed,
            log=_quiet_log,
            # The kernel's own log only repeats, on a loopback-only run, that its TCP
            # sockets are unencrypted; errors in cells reach us as outputs, not as logs.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            timeout=timeout,
            startup_timeout=KERNEL_STARTUP_TIMEOUT,
            # Kill the kernel when done: a graceful shutdown waits on a cell stuck in a loop.
            shutdown_kernel="immediate",
            kernel_name="python3",
            allow_errors=False,
            record_timing=False,
            resources={"metadata": {"path": str(folder)}},
            on_cell_start=on_cell_start,
            kernel_manager_class=kernel_manager_class(),
        )
        # Kept: nbclient forgets its kernel manager when the kernel is shut down.
        km = client.km = client.create_kernel_manager()
        km.fork_server = fork_server
        sockets = Path(scratch) / "sockets"
        sockets.mkdir(mode=0o700)
        kernel_transport(km, sockets)
        stop.register(km)
        env = kernel_environment(path, threads=threads, scratch=Path(scratch))
        started = time.perf_counter()
        try:
            # A loop of our own, closed when done: the pipeline runs notebooks in threads.
            asyncio.run(client.async_execute(env=env, cwd=str(folder)))
        except Interrupted:
            raise
        except CellTimeoutError:
            raise TutorialError(
                path,
                current_line(),
                f"TimeoutError: the cell starting here ran longer than {timeout:g} s "
                "and was stopped",
            ) from None
        except DeadKernelError as exc:
            if stop.is_set():
                raise Interrupted(path, None, _INTERRUPTED) from None
            raise KernelDied(
                path, current_line(), f"DeadKernelError: the kernel died ({exc})"
            ) from None
        except CellExecutionError as exc:
            traceback = strip_ansi(exc.traceback)
            line = _locate(traceback, executed, current_line())
            raise TutorialError(path, line, f"{exc.ename}: {exc.evalue}", traceback) from None
        except Exception as exc:  # before the first cell ran: the kernel never came up
            if stop.is_set():
                raise Interrupted(path, None, "the build was stopped") from None
            if "index" in running:
                raise
            raise KernelStartError(
                path,
                None,
                f"KernelStartError: the Jupyter kernel could not start or did not answer "
                f"within {KERNEL_STARTUP_TIMEOUT} s ({type(exc).__name__}: {exc})",
            ) from None
        finally:
            stop.unregister(km)
            # nbclient registers a kernel cleanup to run at exit; the kernel is gone by now,
            # and a cleanup of a kernel that never started prints a stray traceback.
            atexit.unregister(client._cleanup_kernel)
        seconds = time.perf_counter() - started

    written = _wrote_beside(before, _snapshot(folder))
    if written:
        raise TutorialError(
            path,
            None,
            f"the tutorial wrote next to itself ({', '.join(written)} in {folder.name}/); "
            "write files into a tempfile.TemporaryDirectory() instead",
        )
    executed.cells.pop(0)
    probe = executed.cells.pop()
    for cell in executed.cells:  # number the cells as if the setup cell had not run
        if cell.cell_type == "code" and cell.execution_count:
            cell.execution_count -= 1
            for output in cell.outputs:
                if output.get("execution_count"):
                    output.execution_count -= 1
    measured = json.loads("".join(o.get("text", "") for o in probe.outputs))
    coalesce_streams(executed)
    check_outputs(executed, path)
    forked = km.forked
    peak_memory = measured["peak_memory"] + (forked.not_copied if forked else 0)
    preloaded = tuple(forked.preloaded) if forked else ()
    return Execution(executed, seconds, peak_memory, measured["device"], preloaded)
