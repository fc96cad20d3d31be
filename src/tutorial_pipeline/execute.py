"""Execute a tutorial's notebook in a Jupyter kernel and measure it.

Each notebook runs in a kernel of its own (launched, or forked from a process that has
imported the libraries the tutorials share: see `forkserver`), cell by cell, with a per-cell
timeout, the way sphinx-gallery runs a script (its ``gen_rst.execute_script``; see
`_kernel_setup`): the working directory is the script's folder, that folder is importable
(a helper module next to the tutorial can be imported, also by processes the tutorial
starts), ``sys.argv`` is ``[script]``, ``__name__`` is ``"__main__"``, ``__doc__`` is empty
and ``input()`` raises. ``__file__`` is set too (sphinx-gallery leaves it unset), so that a
tutorial finds the files beside it as ``python script.py`` does; ``sys.argv[0]`` and
``__file__`` are the script's name in its folder, not a path of the build machine.

Figures are taken as sphinx-gallery's matplotlib scraper takes them: matplotlib runs with the
``agg`` backend, so ``plt.show()`` draws nothing; at the end of each cell every open figure
is saved as sphinx-gallery saves it and shown, then all are closed, unless the cell has a
``# sphinx_gallery_defer_figures`` comment, which leaves them open for the next cell.
``sys.exit()`` fails the build (in sphinx-gallery it ends the whole Sphinx build at once).

The build owns the machine, so the kernel's environment also carries what a page should not:
its share of the CPU cores (``OMP_NUM_THREADS``), the progress-bar format (``TQDM_*``),
compile caches in a folder of its own, and no bytecode written into the source tree.

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

from .adapters import nbclient as nbclient_adapter
from .convert import LINE_KEY, PAGE_KEY
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


def _kernel_setup(script: str, folder: str, starts: dict[int, int]) -> None:
    """Run in the kernel, before the tutorial's first cell: sphinx-gallery's semantics.

    ``script`` is the script's file name, ``folder`` its folder (the kernel's working
    directory), ``starts`` maps each code cell's execution count to its first script line.
    This function's source is sent to the kernel (`_setup_source`), so it imports what it
    uses and leaves nothing in the tutorial's namespace but what sphinx-gallery puts there.
    """
    import base64
    import importlib.abc
    import importlib.machinery
    import importlib.util
    import io
    import linecache
    import logging
    import os
    import re
    import sys
    import warnings

    shell = get_ipython()  # noqa: F821 (the kernel's builtin)
    namespace = shell.user_ns
    namespace["__file__"] = script
    # Processes started with the spawn method then do not run the whole notebook again (as
    # they would re-run a script through __file__): code they need lives in a module.
    namespace["__spec__"] = importlib.machinery.ModuleSpec("__main__", None)
    namespace["__doc__"] = ""  # sphinx-gallery's: print(__doc__) prints nothing

    def no_input(prompt=None):
        raise RuntimeError("input() cannot be answered: the site's build runs the script")

    namespace["input"] = no_input  # sphinx-gallery's: input() fails the example
    sys.argv[:] = [script]  # sphinx-gallery's default reset_argv: no arguments
    # A result's text is its __repr__(), as sphinx-gallery captures it (not IPython's
    # pretty-printed form).
    shell.display_formatter.formatters["text/plain"].pprint = False
    sys.path.insert(0, folder)
    # Build-machine noise: torch's C++-extension helper warns, the first time torch.compile
    # loads it, that the machine has a CUDA compiler (CUDA_HOME) but no GPU; a reader's
    # machine has either both or neither.
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)

    # sphinx-gallery selects agg with matplotlib.use("agg"), which also turns off pyplot's
    # fallback to another backend: the same rcParams here, set as matplotlib is imported
    # (or now, in a kernel forked from a process that imported it).
    def as_sphinx_gallery_left_it(matplotlib) -> None:
        matplotlib.rcParams["backend_fallback"] = False

    class AfterImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "matplotlib":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.loader is not None:
                run = spec.loader.exec_module

                def exec_module(module):
                    run(module)
                    as_sphinx_gallery_left_it(module)

                spec.loader.exec_module = exec_module
            return spec

    if "matplotlib" in sys.modules:
        as_sphinx_gallery_left_it(sys.modules["matplotlib"])
    else:
        sys.meta_path.insert(0, AfterImport())
    # plt.show() with agg: sphinx-gallery silences the same warning (scrapers.py).
    warnings.filterwarnings(
        "ignore", r"(?s).*(non-interactive, and thus cannot be shown|non-GUI backend)"
    )

    # What the script writes reads in the order it wrote it, as in sphinx-gallery's one
    # captured stream: stderr first sends what stdout holds, then itself (the kernel would
    # send each stream on its own timer).
    class InOrder:
        def __init__(self, stream, before):
            self._stream, self._before = stream, before

        def write(self, text):
            self._before.flush()
            written = self._stream.write(text)
            self._stream.flush()
            return written

        def writelines(self, lines):
            for line in lines:
                self.write(line)

        def __getattr__(self, name):
            return getattr(self._stream, name)

    sys.stderr = InOrder(sys.stderr, sys.stdout)

    # Warnings name the script and its line, as they do when the script runs as a file,
    # and no folder of the build machine (a library's file: its path in site-packages).
    cells = cell_numbers(shell)  # noqa: F821 (adapters/ipython.py, sent with this function)
    roots = sorted(
        {os.path.abspath(p) for p in sys.path if p and os.path.isdir(p)}, key=len, reverse=True
    )
    showwarning = warnings.showwarning

    def shown(filename: str) -> str:
        path = os.path.abspath(filename)
        for root in [os.path.abspath(folder), *roots]:
            if path.startswith(root + os.sep):
                return os.path.relpath(path, root)
        return os.path.basename(filename)

    def show_warning(message, category, filename, lineno, file=None, line=None):
        if line is None:
            line = linecache.getline(filename, lineno)
        count = cells.get(filename)
        if count in starts:
            filename, lineno = script, starts[count] + lineno - 1
        else:
            filename = shown(filename)
        showwarning(message, category, filename, lineno, file, line)

    warnings.showwarning = show_warning

    # Figures, as sphinx-gallery's matplotlib scraper takes them at the end of a code block.
    defer = re.compile(r"^[ \t]*#\s*sphinx_gallery_defer_figures[ \t]*$", re.M)
    deferring = [False]

    def before_cell(info):
        deferring[0] = bool(defer.search(info.raw_cell or ""))

    def take_figures():
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None or deferring[0] or not plt.get_fignums():
            return
        import matplotlib
        from IPython.display import display

        try:
            for number in plt.get_fignums():
                figure = plt.figure(number)
                options = {}
                for attribute in ("facecolor", "edgecolor"):
                    value = getattr(figure, "get_" + attribute)()
                    default = matplotlib.rcParams["figure." + attribute]
                    if matplotlib.colors.to_rgba(value) != matplotlib.colors.to_rgba(default):
                        options[attribute] = value
                png = io.BytesIO()
                figure.savefig(png, format="png", **options)
                data = {"image/png": base64.b64encode(png.getvalue()).decode("ascii")}
                data["text/plain"] = repr(figure)
                display(data, raw=True)
        finally:
            plt.close("all")

    def after_cell(result):
        error = getattr(result, "error_in_exec", None)
        if isinstance(error, SystemExit):  # IPython shows no frame: say which line it was
            where, frame = None, error.__traceback__
            while frame is not None:
                count = cells.get(frame.tb_frame.f_code.co_filename)
                if count in starts:
                    where = starts[count] + frame.tb_lineno - 1
                frame = frame.tb_next
            print(f"{_EXIT_MARK}{where}", file=sys.stderr)

    shell.events.register("pre_run_cell", before_cell)
    shell.events.register("post_execute", take_figures)
    shell.events.register("post_run_cell", after_cell)


_EXIT_MARK = "tutorial-pipeline: SystemExit raised at script line "
_EXIT_LINE = re.compile(re.escape(_EXIT_MARK) + r"(\d+)")


def _setup_source(script: Path, starts: dict[int, int]) -> str:
    """The setup cell: `_kernel_setup`'s source and the IPython adapter's function it uses,
    run in the kernel and then forgotten."""
    import inspect

    from .adapters.ipython import cell_numbers

    source = inspect.getsource(_kernel_setup).replace("_EXIT_MARK", repr(_EXIT_MARK))
    call = f"_kernel_setup({script.name!r}, {str(script.parent)!r}, {starts!r})"
    helper = inspect.getsource(cell_numbers)
    return f"{helper}\n{source}\n{call}\ndel _kernel_setup, cell_numbers"


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


def check_outputs(notebook: nbformat.NotebookNode, path: Path, *, strict: bool = True) -> None:
    """Refuse a notebook that holds an error output, or, if ``strict`` (this site's own
    tutorials), a printed warning. Elsewhere a warning is shown in the output, as
    sphinx-gallery shows it (`warnings_of` lists them). A strict check also refuses the
    docutils warnings and unknown settings a tolerant conversion recorded (a cached run of a
    tutorial that has since been made strict)."""
    recorded = notebook.metadata.get(PAGE_KEY, {}).get("warnings") or []
    if strict and recorded:
        raise TutorialError(path, recorded[0]["line"], recorded[0]["message"])
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                traceback = strip_ansi("\n".join(output.get("traceback", [])))
                line = _locate(traceback, notebook, _cell_line(cell))
                line, message = _error(cell, output.ename, output.evalue, line)
                raise TutorialError(path, line, message, traceback)
        if strict:
            for found in warnings_of(cell, path):
                raise TutorialError(
                    path,
                    found["line"],
                    f"{found['message']} (tutorials must run warning-free)",
                    found["text"],
                )


def _error(cell, ename: str, evalue: str, line: int | None) -> tuple[int | None, str]:
    """The script line and message of an error a cell raised."""
    message = f"{ename}: {evalue}"
    if ename != "SystemExit":
        return line, message
    printed = "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream"
    )
    exit_line = _EXIT_LINE.search(printed)
    return int(exit_line.group(1)) if exit_line else line, message + (
        " (the script exits here: in sphinx-gallery that ends the whole Sphinx build at once, "
        "leaving every page unwritten)"
    )


def warnings_of(cell, path: Path) -> list[dict]:
    """The warnings a code cell printed: script line (where the warning names the script,
    else the cell's first line), message, and the text it printed."""
    found = []
    for output in cell.get("outputs", []):
        if output.output_type != "stream" or output.name != "stderr":
            continue
        text = strip_ansi(output.text)
        for match in _WARNING_LINE.finditer(text):
            where = re.match(rf"{re.escape(Path(path).name)}:(\d+): ", match.group(0))
            found.append(
                {
                    "line": int(where.group(1)) if where else _cell_line(cell),
                    "message": f"{match.group(1)}: {match.group(2)}",
                    "text": text,
                }
            )
    return found


def base_environment(*, threads: int) -> dict[str, str]:
    """The environment every kernel of a build shares (the fork server starts with it)."""
    env = dict(os.environ)
    # Figures must be captured as notebook outputs, whatever backend the caller uses.
    # Figures: sphinx-gallery's backend; each cell's open figures are shown as it ends
    # (_kernel_setup).
    env["MPLBACKEND"] = "agg"
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    # The kernel's share of the cores, so that parallel kernels do not fight over them.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(threads)
    env.update(TQDM_ENVIRONMENT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The profiler's C++ library (Kineto) prints its own trace events (USDT lines with
    # timestamps) and, on a CUDA build without a GPU, a device-count error, to stderr at
    # every profile: build-machine log lines, not a tutorial's output.
    env.setdefault("KINETO_LOG_LEVEL", "6")
    return env


def kernel_environment(
    script: Path, *, threads: int, scratch: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment a tutorial's kernel runs with (``extra``: the target's, such as the
    accelerators a CPU run must not see)."""
    env = base_environment(threads=threads)
    env.update(extra or {})
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


class RunAlone:
    """``# sphinx_gallery_parallel = False``: the tutorial runs while no other one does, as
    sphinx-gallery runs such an example alone. Others run side by side (`shared`); one that
    must run alone (`alone`) waits for those running to end and keeps new ones waiting."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._running = 0
        self._alone = False
        self._waiting_alone = 0

    def hold(self, *, alone: bool):
        return self._Alone(self) if alone else self._Shared(self)

    class _Shared:
        def __init__(self, owner: RunAlone) -> None:
            self.owner = owner

        def __enter__(self):
            with self.owner._condition:
                self.owner._condition.wait_for(
                    lambda: not self.owner._alone and not self.owner._waiting_alone
                )
                self.owner._running += 1

        def __exit__(self, *exc):
            with self.owner._condition:
                self.owner._running -= 1
                self.owner._condition.notify_all()

    class _Alone:
        def __init__(self, owner: RunAlone) -> None:
            self.owner = owner

        def __enter__(self):
            with self.owner._condition:
                self.owner._waiting_alone += 1
                self.owner._condition.wait_for(
                    lambda: not self.owner._alone and not self.owner._running
                )
                self.owner._waiting_alone -= 1
                self.owner._alone = True

        def __exit__(self, *exc):
            with self.owner._condition:
                self.owner._alone = False
                self.owner._condition.notify_all()


def runs_alone(notebook: nbformat.NotebookNode) -> bool:
    """Whether the script asks to run alone (``# sphinx_gallery_parallel = False``)."""
    return notebook.metadata.get("sphinx_gallery", {}).get("parallel", True) is False


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
    extra_env: dict[str, str] | None = None,
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
        extra_env=extra_env,
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
    extra_env: dict[str, str] | None = None,
) -> Execution:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path).resolve()
    folder = path.parent
    executed = nbformat.reads(nbformat.writes(notebook), as_version=4)
    # Execution counts: the setup cell is 1, then every code cell that has code, in order
    # (nbclient skips empty ones).
    runs = [c for c in executed.cells if c.cell_type == "code" and c.source.strip()]
    starts = {count: _cell_line(c) for count, c in enumerate(runs, start=2) if _cell_line(c)}
    executed.cells.insert(0, nbformat.v4.new_code_cell(_setup_source(path, starts)))
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
        env = kernel_environment(path, threads=threads, scratch=Path(scratch), extra=extra_env)
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
            index = running.get("index")
            cell = executed.cells[index] if index is not None else {}
            line = _locate(traceback, executed, current_line())
            line, message = _error(cell, exc.ename, exc.evalue, line)
            raise TutorialError(path, line, message, traceback) from None
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
            nbclient_adapter.forget_exit_cleanup(client)
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
    check_outputs(executed, path, strict=executed.metadata.get(PAGE_KEY, {}).get("strict", True))
    forked = km.forked
    peak_memory = measured["peak_memory"] + (forked.not_copied if forked else 0)
    preloaded = tuple(forked.preloaded) if forked else ()
    return Execution(executed, seconds, peak_memory, measured["device"], preloaded)
