"""Causes of rare failures, each forced on purpose, and the soak command that looks for more.

A flake is proven gone by a reproducer, not by a lucky soak: each test here creates the
condition that made a build fail once in a while, every time, and checks what happens.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time

import nbformat
import pytest
from conftest import ROOT
from test_pipeline import mkdocs_project, write_tutorial

from tutorial_pipeline import TutorialBuildError, build_tutorials

pytestmark = pytest.mark.docs


# --- Kernel ports -----------------------------------------------------------------------------


class PortThief:
    """Stands in for any other process on the machine: binds (and listens on) the ports
    jupyter_client picks for a kernel, in the moment between the pick and the kernel's own
    bind, which is when another kernel or a tutorial's server could take them."""

    def __init__(self, take: set[int] | None = None):
        self.take = take  # which picks to take, by their order (None: all of them)
        self.picks: list[int] = []
        self.held: list[socket.socket] = []

    def install(self, monkeypatch) -> None:
        from jupyter_client.connect import LocalPortCache

        original = LocalPortCache.find_available_port

        def pick(cache, ip: str) -> int:
            port = original(cache, ip)
            if self.take is None or len(self.picks) in self.take:
                self.held.append(socket.create_server((ip, port)))
            self.picks.append(port)
            return port

        monkeypatch.setattr(LocalPortCache, "find_available_port", pick)

    def release(self) -> None:
        for held in self.held:
            held.close()


@pytest.fixture
def thief(monkeypatch):
    thief = PortThief()
    yield thief
    thief.release()


def test_a_tcp_kernel_whose_heartbeat_port_is_taken_prints_the_reported_traceback(
    tmp_path, monkeypatch, thief
):
    """The window behind the ``ZMQError: Address already in use`` seen once in 32 builds:
    over tcp, jupyter_client picks the kernel's five ports (shell, iopub, stdin, heartbeat,
    control), releases them, and the kernel binds them later. A port taken meanwhile kills
    the kernel at start, or, for the heartbeat, which is bound last in a thread of its own,
    prints this traceback and the kernel goes on."""
    from jupyter_client import KernelManager

    thief.take = {3}  # the heartbeat's port
    thief.install(monkeypatch)
    km = KernelManager(kernel_name="python3")
    assert km.transport == "tcp"
    with open(tmp_path / "kernel-stderr.txt", "w") as stderr:
        km.start_kernel(stderr=stderr, extra_arguments=["--IPKernelApp.log_level=ERROR"])
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and km.is_alive():
                text = (tmp_path / "kernel-stderr.txt").read_text()
                if "Address already in use" in text:
                    break
                time.sleep(0.2)
        finally:
            km.shutdown_kernel(now=True)
    text = (tmp_path / "kernel-stderr.txt").read_text()
    assert len(thief.picks) == 5 and len(thief.held) == 1
    assert "Exception in thread Heartbeat" in text
    assert (
        f"zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:{thief.picks[3]}')"
        in text
    )


def _kernel_probe(name: str) -> str:
    return f"""\
    # %%
    # Where the kernel listens
    # ------------------------
    import json

    from ipykernel import get_connection_file

    # (sys.argv is the script's alone, as sphinx-gallery sets it: not the kernel's -f FILE)
    info = json.load(open(get_connection_file()))
    print("{name}", info["transport"], info["hb_port"])
    """


def test_build_kernels_pick_no_port_that_anyone_could_take(tmp_path, monkeypatch, thief, capfd):
    """The same thief, taking every port jupyter_client picks, against the pipeline's kernels,
    forked (two tutorials) and launched (one): they talk over Unix sockets in a folder of
    their run's own, so no port is picked, and nothing is printed but the pages' output."""
    thief.install(monkeypatch)
    folder = tmp_path / "tutorials"
    folder.mkdir()
    scripts = [write_tutorial(folder, f"{name}.py", _kernel_probe(name)) for name in "abc"]
    results = build_tutorials(scripts[:2], cache_dir=tmp_path / "cache", environment="env")
    results += build_tutorials(scripts[2:], cache_dir=tmp_path / "cache", environment="env")
    assert [result.executed for result in results] == [True, True, True]
    printed = []
    for result in results:
        notebook = nbformat.read(result.notebook_path, as_version=4)
        printed += [o.text for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert printed == ["a ipc 5\n", "b ipc 5\n", "c ipc 5\n"]
    assert thief.picks == [], "no TCP port was picked for a kernel"
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out


def test_kernels_need_no_network_at_all(tmp_path):
    """Without even a loopback interface (a fresh network namespace), a tutorial's kernel
    starts and runs: the build and its kernels share no TCP port."""
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rn", "true"]).returncode:
        pytest.fail("this test needs `unshare -rn` (util-linux, user namespaces)")
    script = write_tutorial(tmp_path, "offline.py", "# %%\n# Cell\n# ----\nprint(6 * 7)\n")
    code = textwrap.dedent(
        f"""\
        import socket
        from pathlib import Path
        from tutorial_pipeline.convert import script_to_notebook
        from tutorial_pipeline.execute import execute_notebook
        with socket.create_server(("127.0.0.1", 0)) as server:
            try:
                socket.create_connection(server.getsockname(), timeout=5)
            except OSError as exc:
                print("127.0.0.1:", exc.strerror)
        script = Path({str(script)!r})
        run = execute_notebook(script_to_notebook(script), path=script, timeout=60)
        print("printed:", run.notebook.cells[-1].outputs[0].text.strip())
        """
    )
    result = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", code], capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["127.0.0.1: Network is unreachable", "printed: 42"]
    assert "Traceback" not in result.stderr


def test_a_kernel_that_dies_is_reported_at_once_not_run_again(tmp_path, monkeypatch):
    """A kernel that dies mid-run crashed in the tutorial's code (a signal, the OOM killer):
    running it again would hide a crash that happens once in a while."""
    body = """\
    # %%
    # Count the runs, then die
    # ------------------------
    import os

    with open(os.environ["RUN_COUNTER"], "a") as counter:
        counter.write("run\\n")
    os._exit(1)
    """
    script = write_tutorial(tmp_path, "dies.py", body)
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("RUN_COUNTER", str(counter))
    with pytest.raises(TutorialBuildError, match=r"dies\.py:11: DeadKernelError: the kernel died"):
        build_tutorials([script], cache_dir=tmp_path / "cache", environment="env")
    assert counter.read_text() == "run\n", "the tutorial ran once"


# --- The soak command (benchmarks/soak.py) ------------------------------------------------


def _soak():
    """benchmarks/soak.py, loaded as the module ``soak`` (once)."""
    if "soak" not in sys.modules:
        spec = importlib.util.spec_from_file_location("soak", ROOT / "benchmarks" / "soak.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["soak"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["soak"]


# What the issue saw: a failed build (tutorial 12's worker aborted), and a build that passed
# while a kernel printed a heartbeat traceback.
FAILED_BUILD = """\
INFO    -  12_distributed.py: executing
terminate called without an active exception
ERROR   -  1 tutorial(s) failed:
tutorials/12_distributed.py:172: ProcessExitedException: process 1 terminated with signal SIGABRT

tutorials/12_distributed.py:172: ProcessExitedException: process 1 terminated with signal SIGABRT
Traceback (most recent call last):
  Cell In[7], line 6
    mp.spawn(spawn_worker, args=(WORLD_SIZE, port, str(out_dir)), nprocs=WORLD_SIZE)
torch.multiprocessing.spawn.ProcessExitedException: process 1 terminated with signal SIGABRT
Aborted with a BuildError!
"""
PASSED_BUILD_WITH_A_STRAY = """\
INFO    -  02_autograd.py: executing
Exception in thread Heartbeat:
Traceback (most recent call last):
  File "/venv/lib/python3.11/threading.py", line 1045, in _bootstrap_inner
    self.run()
  File "/venv/lib/python3.11/site-packages/ipykernel/heartbeat.py", line 106, in run
    self._bind_socket()
zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:41597')
INFO    -  Documentation built in 81.20 seconds
"""
FAILED_TESTS = """\
........F.....
FAILED tests/test_pipeline.py::test_ctrl_c - AssertionError: assert 6.1 < 5
======= 1 failed, 511 passed in 104.20s (0:01:44) =======
"""


def test_soak_names_the_failing_tutorial_its_error_and_the_strays_of_passing_runs():
    soak = _soak()
    failed = soak.examine_build(FAILED_BUILD, 1)
    assert not failed.passed
    assert failed.failure == (
        "tutorials/12_distributed.py:172: ProcessExitedException: process 1 terminated with "
        "signal SIGABRT"
    )
    assert failed.strays == [
        "terminate called without an active exception",
        "Traceback: torch.multiprocessing.spawn.ProcessExitedException: process 1 terminated "
        "with signal SIGABRT",
    ]
    passed = soak.examine_build(PASSED_BUILD_WITH_A_STRAY, 0)
    assert passed.passed and not passed.failure
    assert passed.strays == [
        "Exception in thread Heartbeat: Traceback: zmq.error.ZMQError: Address already in use "
        "(addr='tcp://127.0.0.1:41597')"
    ]
    tests = soak.examine_tests(FAILED_TESTS, 1)
    assert not tests.passed and tests.counts == "1 failed, 511 passed in 104.20s (0:01:44)"
    assert tests.failure == "tests/test_pipeline.py::test_ctrl_c: AssertionError: assert 6.1 < 5"
    assert soak.examine_tests("... 2 passed in 1.0s ...\n", 0).strays == []


def test_soak_runs_cold_builds_and_keeps_the_log_of_a_failing_one(tmp_path, capsys):
    (tmp_path / "project").mkdir()
    project = mkdocs_project(
        tmp_path / "project",
        {"bad.py": "# %%\n# Broken\n# ------\nraise RuntimeError('planted')\n"},
    )
    logs = tmp_path / "logs"
    status = _soak().main(
        ["--builds", "1", "--tests", "0", "--project", str(project), "--logs", str(logs)]
    )
    printed = capsys.readouterr().out.splitlines()
    assert status == 1
    assert printed[2].startswith("1 cold builds, then 0 test-suite runs; logs of failures: ")
    assert printed[3].startswith("build 1/1: FAILED in ")
    assert printed[3].endswith(" s: tutorials/bad.py:11: RuntimeError: planted")
    assert printed[-2:] == [
        f"    log: {logs / 'build-1.log'}",
        f"summary: builds 0/1 passed, test runs 0/0 passed, 0 stray report(s); logs: {logs}",
    ]
    kept = (logs / "build-1.log").read_text()
    assert kept.startswith("$ ") and "--strict" in kept.splitlines()[0]
    assert "RuntimeError: planted" in kept and "Aborted with a BuildError!" in kept
    assert (logs / "summary.txt").read_text().splitlines() == printed
    assert not (project / ".cache").exists(), "the cold build used a cache of its own"


# --- Tutorial 12's workers (tutorials/_distributed_helpers.py) -------------------------------

_GLOO_THREADS = {"gloo_tcp_loop", "pt_gloo_runloop"}

_THREAD_NAMES = """\
import os
def thread_names():
    names = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/comm") as comm:
            names.append(comm.read().strip())
    return sorted(names)
"""


@pytest.mark.parametrize("imported", ["before", "after"])
def test_a_group_kept_by_torch_distributed_nn_outlives_destroy_with_its_threads(imported):
    """Why tutorial 12's workers ran gloo's threads into the interpreter's exit: DDP imports
    torch.distributed.nn lazily, and when that happens after init_process_group its functions
    keep the group as a default argument, so destroy_process_group() cannot free it."""
    code = _THREAD_NAMES + textwrap.dedent(
        f"""\
        import gc
        import torch.distributed as dist
        if {imported == "before"!r}:
            import torch.distributed.nn
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        import torch.distributed.nn
        dist.destroy_process_group()
        gc.collect()
        print(" ".join(thread_names()))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    left = set(result.stdout.split()) & _GLOO_THREADS
    assert left == (set() if imported == "before" else _GLOO_THREADS)


@pytest.mark.parametrize("collector", ["on", "off"])
def test_tutorial_12_workers_end_with_no_thread_of_the_group_running(tmp_path, collector):
    """The tutorial's own workers, started as its spawn cell starts them (the parent holding
    the store): when train() returns, nothing of the process group runs in them any more,
    also with the garbage collector off, so that the group is not freed by a collection
    that happened to run in time (a reference cycle kept it alive)."""
    (tmp_path / "probe.py").write_text(
        _THREAD_NAMES
        + textwrap.dedent(
            f"""\
            import gc

            import _distributed_helpers as helpers

            def worker(rank, world_size, port, out_dir):
                if {collector == "off"!r}:
                    gc.disable()
                helpers.spawn_worker(rank, world_size, port, out_dir)
                with open(f"{{out_dir}}/threads-{{rank}}.txt", "w") as out:
                    out.write(" ".join(thread_names()))
            """
        )
    )
    code = textwrap.dedent(
        f"""\
        import torch.distributed as dist
        import torch.multiprocessing as mp
        import probe
        if __name__ == "__main__":
            store = dist.TCPStore("127.0.0.1", 0, 2, is_master=True, wait_for_workers=False)
            mp.spawn(probe.worker, args=(2, store.port, {str(tmp_path)!r}), nprocs=2)
        """
    )
    pythonpath = os.pathsep.join([str(ROOT / "tutorials"), str(tmp_path), os.environ["PYTHONPATH"]])
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": pythonpath, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    for rank in range(2):
        names = (tmp_path / f"threads-{rank}.txt").read_text().split()
        assert not set(names) & _GLOO_THREADS, names
    assert (tmp_path / "checkpoints" / "model.pt").is_file()
    assert "Traceback" not in result.stderr
