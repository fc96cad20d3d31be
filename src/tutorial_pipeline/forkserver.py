"""Start Jupyter kernels by forking a process that has already imported torch.

A fresh kernel spends seconds importing torch, torchvision, scikit-learn and matplotlib
before the first line of a tutorial runs; a build of many tutorials pays that once per
tutorial, which an in-process runner such as sphinx-gallery pays once in all. The fork
server pays it once per build too, and still gives every tutorial a kernel of its own:

* the build starts one server process, with the kernels' environment, which imports the
  modules that at least two of the tutorials to run import (from `PRELOADABLE` only:
  libraries whose import does not depend on running in a kernel), then waits;
* for each kernel the build sends the kernel command, environment and working directory;
  the server forks, and the child becomes ``python -m ipykernel_launcher ...`` exactly as
  a launched kernel would (own session, that environment and folder, ``sys.path`` and
  ``sys.argv`` as the launched kernel has them). The server imports ipykernel's modules
  too, but the kernel and its shell are created after the fork, so each starts fresh;
* the server reaps its children and reports their exit codes, so the kernel manager sees
  the kernel as a process it can poll, signal and kill like any other.

A tutorial thus finds some modules already imported, as in sphinx-gallery, which runs every
script in one process; everything else about its process is its own.

Only on Linux (fork after importing torch is not safe on macOS); elsewhere, with
``TUTORIAL_FORKSERVER=0``, or when fewer than two tutorials run, kernels are launched as
usual. This module's server half uses the standard library only: it runs in a bare
interpreter, loaded from its file (not imported from the package, which would put the
build's modules on the kernels' path).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import select
import signal
import socket
import sys
import threading
import time

#: Top-level packages the server may import before forking: heavy to import, and their
#: import does not look at whether it runs inside a Jupyter kernel (``tqdm.auto`` does,
#: for instance, so it is not here).
PRELOADABLE = frozenset(
    {"matplotlib", "numpy", "pandas", "PIL", "scipy", "sklearn", "torch", "torchaudio",
     "torchvision"}
)  # fmt: skip

#: How long the server may take to import the preloaded modules before the build gives up.
READY_TIMEOUT = 120.0

_LAUNCHER = "ipykernel_launcher"
_log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")

# Run by ``python -c``: drop the working directory from sys.path (as ipykernel_launcher
# does), load this file as a module without adding its folder to sys.path, and serve.
_BOOTSTRAP = """\
import importlib.util, sys
del sys.path[0]
spec = importlib.util.spec_from_file_location("_tutorial_forkserver", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.serve(int(sys.argv[2]), sys.argv[3:])
"""


# --- the server: runs in its own interpreter --------------------------------------------


def serve(fd: int, preload: list[str]) -> None:
    """Import ``preload``, report ready, then fork a kernel per request until EOF."""
    import importlib

    channel = socket.socket(fileno=fd)
    # Read at import by ipykernel (its parent-poller default): the kernels' parent is this
    # server, which lives as long as the build; a kernel whose parent is gone exits.
    os.environ["JPY_PARENT_PID"] = str(os.getpid())
    failed = {}
    for name in [*preload, "ipykernel.kernelapp", "ipykernel.ipkernel"]:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # the tutorial's own import will report it
            failed[name] = f"{type(exc).__name__}: {exc}"
    base_path = list(sys.path)
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    threads = len(os.listdir("/proc/self/task"))
    _send(channel, {"ready": True, "threads": threads, "failed": failed})

    children: set[int] = set()
    buffer = b""
    try:
        while True:
            readable, _, _ = select.select([channel], [], [], 0.1)
            for pid, code in _reap(children):
                _send(channel, {"exited": pid, "code": code})
            if not readable:
                continue
            data = channel.recv(1 << 16)
            if not data:  # the build closed its end (done, or gone)
                break
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, channel, base_path, inherited)
                children.add(pid)
                # The child shares this process's memory, but its resident set counts the
                # libraries' file-backed pages only once it touches them (a fork copies the
                # page tables of private memory only): what a launched kernel that imported
                # them would count, and the child does not, yet.
                not_copied = max(0, _resident("self") - _resident(str(pid)))
                _send(channel, {"pid": pid, "not_copied": not_copied})
    finally:
        for pid in children:  # kernels the build did not stop: it is gone
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


def _resident(pid: str) -> int:
    """Resident set size of a process, in bytes (0 if it cannot be read)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _send(channel: socket.socket, message: dict) -> None:
    channel.sendall(json.dumps(message).encode() + b"\n")


def _reap(children: set[int]) -> list[tuple[int, int]]:
    exited = []
    for pid in list(children):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            children.discard(pid)
            exited.append((pid, os.waitstatus_to_exitcode(status)))
    return exited


def _become_kernel(request: dict, channel, base_path: list[str], inherited: list[str]):
    """In the forked child: turn into ``python -m ipykernel_launcher <args>``. Never returns."""
    code = 1
    try:
        channel.close()
        os.setsid()  # as jupyter_client launches kernels: signals go to the kernel's group
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())  # this server, as in serve()
        # sys.path as `python -m` builds it: the working directory, PYTHONPATH, the rest.
        entries = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
        rest = [p for p in base_path if p not in inherited]
        sys.path[:] = [os.getcwd(), *entries, *rest]
        sys.argv = ["-m", *request["args"]]

        import runpy

        runpy.run_module(_LAUNCHER, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


# --- the build's side ---------------------------------------------------------------------


def supported() -> bool:
    """Whether kernels may be forked here (Linux, and not turned off)."""
    return sys.platform == "linux" and os.environ.get("TUTORIAL_FORKSERVER", "1") != "0"


class ForkServerError(RuntimeError):
    """The fork server could not start or has exited."""


class ForkServer:
    """A running fork server; `launch` starts a kernel from it. Thread-safe."""

    def __init__(self, *, env: dict[str, str], preload: list[str], python: str = sys.executable):
        import subprocess

        self.python = python
        self.preload = preload
        ours, theirs = socket.socketpair()
        self._channel = ours
        self._lock = threading.Lock()
        self._buffer = b""
        self._exits: dict[int, int] = {}
        self._ready: dict | None = None
        self._warned = False
        # Whether a kernel has been asked for, and whether the build was stopped: a server
        # that has forked nothing yet is killed on Ctrl-C rather than waited for.
        self._gate = threading.Lock()
        self._launched = False
        self._aborted = False
        self._process = subprocess.Popen(
            [python, "-c", _BOOTSTRAP, __file__, str(theirs.fileno()), *preload],
            env=env,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            # Ctrl-C in the terminal is the build's to handle: it stops the kernels itself.
            start_new_session=True,
        )
        theirs.close()

    def accepts(self, cmd: list[str]) -> bool:
        """Whether ``cmd`` is a kernel this server can become: ipykernel, same Python."""
        return (
            len(cmd) > 2
            and cmd[1:3] == ["-m", _LAUNCHER]
            and os.path.realpath(cmd[0]) == os.path.realpath(self.python)
        )

    def wait_ready(self) -> dict:
        """Block until the preloads are imported; the server's ready message."""
        with self._lock:
            deadline = time.monotonic() + READY_TIMEOUT
            while self._ready is None:
                self._receive(deadline)
            return self._ready

    def usable(self) -> bool:
        """Whether kernels can be forked: the server is ready and runs one thread (a fork
        copies only the calling thread; a library that started another at import makes
        forking unsafe, and kernels are then launched as usual)."""
        ready = self.wait_ready()
        if ready["threads"] != 1 and not self._warned:
            self._warned = True
            _log.warning(
                "kernels are launched, not forked: importing %s started %d threads",
                ", ".join(self.preload),
                ready["threads"],
            )
        return ready["threads"] == 1

    def preloaded(self) -> list[str]:
        """The modules of `preload` the server did import."""
        failed = self.wait_ready()["failed"]
        return [name for name in self.preload if name not in failed]

    def launch(self, cmd: list[str], *, env: dict[str, str], cwd: str) -> ForkedProcess:
        if not self.accepts(cmd):
            raise ForkServerError(f"not an ipykernel command for {self.python}: {cmd}")
        preloaded = self.preloaded()
        request = {"args": cmd[3:], "env": dict(env), "cwd": str(cwd)}
        with self._lock:
            try:
                with self._gate:
                    if self._aborted:
                        raise OSError("stopped")
                    self._launched = True
                    _send(self._channel, request)
            except OSError:
                raise ForkServerError(f"the kernel fork server is gone ({self._gone()})") from None
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                message = self._receive(deadline)
                if "pid" in message:
                    return ForkedProcess(self, message["pid"], message["not_copied"], preloaded)

    def returncode(self, pid: int) -> int | None:
        with self._lock:
            while self._receive(None, block=False):
                pass
            return self._exits.get(pid)

    def _receive(self, deadline: float | None, *, block: bool = True) -> dict | None:
        """Read one message (locked by the caller); exit reports are recorded on the way."""
        while b"\n" not in self._buffer:
            left = READY_TIMEOUT if deadline is None else deadline - time.monotonic()
            timeout = max(0.0, min(0.5, left)) if block else 0.0
            readable, _, _ = select.select([self._channel], [], [], timeout)
            if readable:
                data = self._channel.recv(1 << 16)
                if not data:
                    raise ForkServerError(f"the kernel fork server is gone ({self._gone()})")
                self._buffer += data
            elif not block:
                return None
            elif deadline is not None and time.monotonic() >= deadline:
                raise ForkServerError(f"the kernel fork server did not answer ({self._gone()})")
        line, self._buffer = self._buffer.split(b"\n", 1)
        message = json.loads(line)
        if "exited" in message:
            self._exits[message["exited"]] = message["code"]
        elif "ready" in message:
            self._ready = message
        return message

    def _gone(self) -> str:
        code = self._process.poll()
        return "still running" if code is None else f"it exited with code {code}"

    def abort(self) -> None:
        """On Ctrl-C: kill the server now if it has not forked a kernel yet (it may be in
        the middle of seconds of imports, which `close` would wait for), so that a launch
        waiting for it fails at once. Once kernels exist they are the build's to kill, and
        the server is stopped by `close` as usual."""
        with self._gate:
            self._aborted = True
            if not self._launched:
                self._process.kill()

    def close(self) -> None:
        """Stop the server (and any kernel still running from it)."""
        self._channel.close()
        try:
            self._process.wait(timeout=10)
        except Exception:
            self._process.kill()
            self._process.wait()


class ForkedProcess:
    """A kernel forked by the server, with the part of `subprocess.Popen` that
    jupyter_client's provisioner uses."""

    stdin = stdout = stderr = None

    def __init__(
        self, server: ForkServer, pid: int, not_copied: int = 0, preloaded: list[str] = ()
    ):
        self.server = server
        self.pid = pid
        self.returncode: int | None = None
        #: Bytes of the server's resident memory (the preloaded libraries) that the kernel's
        #: peak resident set does not count: added to it, the kernel is measured as if it
        #: had imported them itself.
        self.not_copied = not_copied
        #: The modules imported before the kernel started.
        self.preloaded = preloaded

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.returncode(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


@functools.cache
def kernel_manager_class():
    """An `AsyncKernelManager` that forks its kernel from ``self.fork_server`` when one is
    set and can start the kernel's command, and launches it as usual otherwise (the start
    itself goes through `adapters.jupyter_client`)."""
    from .adapters.jupyter_client import manager_class

    def launch(manager, kernel_cmd: list[str], kw: dict) -> ForkedProcess | None:
        server = manager.fork_server
        if not (server is not None and server.accepts(kernel_cmd) and server.usable()):
            return None
        manager.forked = server.launch(
            kernel_cmd, env=kw.get("env") or dict(os.environ), cwd=kw.get("cwd") or os.getcwd()
        )
        return manager.forked

    class ForkingKernelManager(manager_class(launch)):
        fork_server: ForkServer | None = None
        forked: ForkedProcess | None = None  # the kernel, if it was forked

    return ForkingKernelManager
