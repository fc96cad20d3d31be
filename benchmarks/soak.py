"""Soak the build and the test suite (`nox -s soak -- --builds N [--tests M]`): find the
failures that happen once in a while.

Runs, one after another, N builds of the whole site (`mkdocs build --strict`, as `nox -s
docs` runs it), each from an empty tutorial cache into a site folder of its own, then M runs
of the test suite as `nox -s tests` runs it (`pytest -n auto --dist worksteal`; M defaults to
N). For every run it prints whether it passed, and for a failed one the failing tutorial or
test and the first error line. It also prints every traceback, ``Exception ignored``, C++
``terminate called`` and fatal error that a run printed even if it passed (a thread that died
in a kernel, a worker torn down badly): the test suite runs with ``-rA`` so that the output
pytest captured from passing tests is printed, and searched, too.

The full log of every run that failed or printed such a line is kept in the folder named at
the start (``.cache/soak/<UTC date and time>/`` unless ``--logs`` says otherwise), beside
``summary.txt``, a copy of what was printed. The exit status is 1 if any run failed or
printed a stray traceback.

A clean soak is not proof that a flake is gone (30 clean builds happen 14% of the time at a
1-in-16 failure rate): it finds failures; a reproducer proves them fixed.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Lines that start a report of something that went wrong, in a run that passed or not.
_STRAY = re.compile(
    r"^(?P<line>.*?(?:Traceback \(most recent call last\):|Exception ignored in"
    r"|Exception in thread|terminate called|Fatal Python error|Segmentation fault"
    r"|core dumped|pure virtual method called).*)$",
    re.M,
)
#: A tutorial's failure as the pipeline reports it: ``tutorials/x.py:12: Error: message``.
_TUTORIAL_ERROR = re.compile(r"^(?:ERROR\s+-\s+)?(?P<where>\S+\.py(?::\d+)?): (?P<what>.+)$")
#: pytest's short summary lines.
_PYTEST_FAILED = re.compile(r"^(?:FAILED|ERROR) (?P<test>\S+)(?: - (?P<what>.*))?$")
_PYTEST_COUNTS = re.compile(r"^=+ (?P<counts>.*\d+ (?:passed|failed|error).*?) =+$")
#: Where a traceback ends: the first line that is not indented, a frame or a caret line.
_FRAME = re.compile(r"^(?:\s|\[rank\d+\]:\s|File |\^|~|During handling|The above exception)")


@dataclass
class Outcome:
    """What one run printed, in short."""

    passed: bool
    failure: str = ""  # the failing tutorial or test and the first error line
    strays: list[str] = field(default_factory=list)  # one line per stray report, with a count
    counts: str = ""  # pytest's tally ("512 passed in 101.2s")


def stray_reports(log: str) -> list[str]:
    """One line per report of something that went wrong, however the run ended: a traceback
    is shown by its exception line (after the ``Exception in thread ...`` or ``Exception
    ignored in ...`` line that introduced it), other reports by their own line; repeats are
    counted."""
    lines = log.splitlines()
    reports: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        if not _STRAY.match(line):
            continue
        if "Traceback (most recent call last)" not in line:
            reports.append((index, line.strip()))
            continue
        prefix = line[: line.index("Traceback")]
        ending = next(
            (
                later.strip()
                for later in lines[index + 1 : index + 400]
                if later.startswith(prefix)
                and later[len(prefix) :].strip()
                and not _FRAME.match(later[len(prefix) :])
            ),
            "(no exception line)",
        )
        if reports and reports[-1][0] == index - 1 and "Traceback" not in reports[-1][1]:
            reports[-1] = (index, f"{reports[-1][1]} Traceback: {ending}")
        else:
            reports.append((index, f"Traceback: {ending}"))
    counts: dict[str, int] = {}
    for _, text in reports:
        counts[text] = counts.get(text, 0) + 1
    return [text if count == 1 else f"{text} (x{count})" for text, count in counts.items()]


def examine_build(log: str, returncode: int) -> Outcome:
    """A build's outcome: the first tutorial error it names, else its first error line."""
    outcome = Outcome(passed=returncode == 0, strays=stray_reports(log))
    if outcome.passed:
        return outcome
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        match = _TUTORIAL_ERROR.match(line)
        if match and re.search(r"(?:^|/)tutorials/", match["where"]):
            outcome.failure = f"{match['where']}: {match['what']}"
            return outcome
    first = next(
        (line for line in lines if re.search(r"\b(?:ERROR|WARNING)\b|Error|Aborted", line)),
        lines[-1] if lines else f"no output, exit status {returncode}",
    )
    outcome.failure = first
    return outcome


def examine_tests(log: str, returncode: int) -> Outcome:
    """A test run's outcome: its failed tests, each with its first error line, and tally."""
    outcome = Outcome(passed=returncode == 0, strays=stray_reports(log))
    lines = log.splitlines()
    counts = [m["counts"] for line in lines if (m := _PYTEST_COUNTS.match(line.strip()))]
    outcome.counts = counts[-1] if counts else ""
    if outcome.passed:
        return outcome
    failed = [
        f"{m['test']}: {m['what'] or 'see the log'}"
        for line in lines
        if (m := _PYTEST_FAILED.match(line.strip()))
    ]
    outcome.failure = "; ".join(failed) or next(
        (line.strip() for line in reversed(lines) if line.strip()),
        f"no output, exit status {returncode}",
    )
    return outcome


def run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> tuple[str, int]:
    """Run ``command``, returning its output (stdout and stderr, interleaved) and status."""
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout or ""
        output = output.decode(errors="replace") if isinstance(output, bytes) else output
        return f"{output}\nsoak: stopped after {timeout:g} s", -1
    return result.stdout, result.returncode


def machine() -> str:
    """The machine, Python and torch, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        torch = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch = "not installed"
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, torch {torch}"
    )


def revision(project: Path) -> str:
    """The git commit being soaked, and whether the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=project, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=project,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "not a git checkout"
    return f"{head or 'unknown'}{' with uncommitted changes' if dirty else ''}"


class Report:
    """Prints each line and keeps a copy for ``summary.txt``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)
        (self.folder / "summary.txt").write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def soak_one(
    kind: str, number: int, total: int, command: list[str], *, cwd, env, timeout, report, keep
) -> Outcome:
    started = time.perf_counter()
    log, returncode = run(command, cwd=cwd, env=env, timeout=timeout)
    seconds = time.perf_counter() - started
    outcome = (examine_build if kind == "build" else examine_tests)(log, returncode)
    status = "passed" if outcome.passed else "FAILED"
    tally = f" ({outcome.counts})" if outcome.counts else ""
    line = f"{kind} {number}/{total}: {status} in {seconds:.0f} s{tally}"
    report(f"{line}: {outcome.failure}" if outcome.failure else line)
    for stray in outcome.strays:
        report(f"    stray: {stray}")
    if not outcome.passed or outcome.strays:
        path = keep / f"{kind}-{number}.log"
        path.write_text(f"$ {' '.join(command)}\n{log}", encoding="utf-8")
        report(f"    log: {path}")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--builds", type=int, default=3, help="cold builds of the site (3)")
    parser.add_argument("--tests", type=int, help="test-suite runs (default: as many as builds)")
    parser.add_argument("--logs", type=Path, help="folder for the logs (.cache/soak/<when>)")
    parser.add_argument(
        "--project", type=Path, default=ROOT, help="the project to build (this repository)"
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds one run may take (3600)"
    )
    args = parser.parse_args(argv)
    tests = args.builds if args.tests is None else args.tests
    project = args.project.resolve()
    now = datetime.datetime.now(datetime.UTC)
    logs = (args.logs or project / ".cache" / "soak" / now.strftime("%Y%m%d-%H%M%S")).resolve()
    logs.mkdir(parents=True, exist_ok=True)
    report = Report(logs)
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "NO_MKDOCS_2_WARNING": "1"}

    report(f"soak of {project.name} at {revision(project)}, {now:%Y-%m-%d %H:%M} UTC")
    report(f"machine: {machine()}")
    report(f"{args.builds} cold builds, then {tests} test-suite runs; logs of failures: {logs}")
    builds: list[Outcome] = []
    for number in range(1, args.builds + 1):
        with tempfile.TemporaryDirectory(prefix="soak-build-") as scratch:
            build_env = {**env, "TUTORIAL_CACHE_DIR": str(Path(scratch) / "cache")}
            command = [sys.executable, "-m", "mkdocs", "build", "--strict"]
            command += ["-d", str(Path(scratch) / "site")]
            builds.append(
                soak_one(
                    "build",
                    number,
                    args.builds,
                    command,
                    cwd=project,
                    env=build_env,
                    timeout=args.timeout,
                    report=report,
                    keep=logs,
                )
            )
    suites: list[Outcome] = []
    for number in range(1, tests + 1):
        command = [sys.executable, "-m", "pytest", "-n", "auto", "--dist", "worksteal", "-rA"]
        suites.append(
            soak_one(
                "tests",
                number,
                tests,
                command,
                cwd=project,
                env=env,
                timeout=args.timeout,
                report=report,
                keep=logs,
            )
        )

    runs = builds + suites
    strays = sum(len(outcome.strays) for outcome in runs)
    report(
        f"summary: builds {sum(o.passed for o in builds)}/{len(builds)} passed, "
        f"test runs {sum(o.passed for o in suites)}/{len(suites)} passed, "
        f"{strays} stray report(s); logs: {logs}"
    )
    return 0 if all(o.passed for o in runs) and not strays else 1


if __name__ == "__main__":
    sys.exit(main())
