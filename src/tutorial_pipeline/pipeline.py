"""Build every tutorial: convert, execute in parallel, cache, and collect failures."""

from __future__ import annotations

import datetime
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from . import forkserver
from . import target as targets
from .cache import (
    NotebookCache,
    Record,
    cache_key,
    environment_fingerprint,
    imported_modules,
    read_notebook,
)
from .convert import script_to_notebook
from .errors import TutorialError
from .execute import (
    KernelStartError,
    RunAlone,
    Stop,
    base_environment,
    check_outputs,
    execute_notebook,
    runs_alone,
)
from .forkserver import ForkServer

log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")

DEFAULT_TIMEOUT = 120.0

#: Parsing and converting happen one at a time: CPython 3.11's ``ast.parse`` is not safe
#: in parallel threads ("AST constructor recursion depth mismatch"), and the API lookups
#: import modules. Both are short next to a run; the kernels still run in parallel.
PARSE_LOCK = threading.Lock()


@dataclass(frozen=True)
class TutorialResult:
    """One tutorial of a build: where its executed notebook is and what running it cost."""

    script: Path
    record: Record
    executed: bool  # True: ran in this build; False: reused from the cache
    #: The device type the tutorial asks its page to be published from
    #: (``# sphinx_gallery_publish_target = "cuda"``), or None.
    wanted: str | None = None
    #: The notebook the site publishes, if not the cached run's own: the run with the
    #: script's text as it is now (`tutorial_pipeline.refresh`).
    notebook: Path | None = None

    @property
    def stem(self) -> str:
        return self.script.stem

    @property
    def notebook_path(self) -> Path:
        return self.notebook or self.record.notebook_path


class TutorialBuildError(Exception):
    """One or more tutorials failed; ``failures`` holds each one's `TutorialError`."""

    def __init__(self, failures: list[TutorialError]):
        self.failures = failures
        summary = "\n".join(str(failure) for failure in failures)
        details = "\n\n".join(failure.report() for failure in failures if failure.details)
        text = f"{len(failures)} tutorial(s) failed:\n{summary}"
        super().__init__(f"{text}\n\n{details}\n\n{text}" if details else text)


#: The header files that make a subfolder of tutorials/ a gallery section (sphinx-gallery's).
SECTION_HEADERS = ("GALLERY_HEADER.rst", "README.rst", "README.txt")


def discover(directory: Path) -> list[Path]:
    """The tutorial scripts in ``directory``: every ``*.py`` not starting with ``_``, sorted,
    then those of each subfolder that has a gallery header (``GALLERY_HEADER.rst``,
    ``README.rst`` or ``README.txt``: a section, as in sphinx-gallery), folder by folder.
    Other subfolders (data, helpers) hold no tutorials. A page is named by its script's stem,
    so two tutorials with the same file name are refused."""
    directory = Path(directory)

    def scripts(folder: Path) -> list[Path]:
        return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))

    found = scripts(directory)
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        if not folder.name.startswith((".", "_")) and any(
            (folder / name).is_file() for name in SECTION_HEADERS
        ):
            found += scripts(folder)
    seen: dict[str, Path] = {}
    for script in found:
        if script.stem in seen:
            raise TutorialBuildError(
                [
                    TutorialError(
                        script,
                        None,
                        f"another tutorial has the same file name ({seen[script.stem]}): "
                        "each tutorial's page is named by its file name",
                    )
                ]
            )
        seen[script.stem] = script
    return found


def default_jobs() -> int:
    """Tutorials run at once: one per usable core."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def threads_per_kernel() -> int:
    """CPU threads per kernel (``TUTORIAL_THREADS`` overrides it): the cores divided by the
    kernels that run at once by default, one per core, whatever ``jobs`` a build asks for. A fixed
    count keeps a page's printed numbers identical from build to build (a reduction's float
    rounding depends on the thread count), and the tutorials' tiny models gain nothing from
    more threads (tutorial 08 measures it)."""
    configured = os.environ.get("TUTORIAL_THREADS")
    if configured:
        return max(1, int(configured))
    return max(1, (os.cpu_count() or 1) // default_jobs())


def start_fork_server(stale: list[Path], *, threads: int, target: str = "cpu") -> ForkServer | None:
    """A kernel fork server preloaded with what two or more of ``stale`` import, or None
    where kernels are launched as usual (see `forkserver`): fewer than two tutorials to
    run (one kernel gains nothing from it), or not on Linux."""
    if len(stale) < 2 or not forkserver.supported():
        return None
    counts = Counter(
        name
        for script in stale
        for name in imported_modules(script)
        if name.split(".")[0] in forkserver.PRELOADABLE
    )
    preload = sorted(name for name, count in counts.items() if count >= 2)
    log.info("kernels fork from a process that imported %s", ", ".join(preload) or "ipykernel")
    env = {**base_environment(threads=threads), **targets.hidden_devices(target)}
    return ForkServer(env=env, preload=preload)


def execution_order(
    scripts: list[Path], stale: list[Path], cache: NotebookCache, target: str = "cpu"
) -> list[Path]:
    """The order in which the build's workers take ``scripts``: the up-to-date ones first
    (they are only loaded), then the stale ones, longest first by their last cached run.

    Two kernels at a time finish together only if the long tutorials do not start last: in
    file order, a 12 s tutorial that starts when the others are done runs alone on one core
    while the other idles. Tutorials with no past run (a cold cache, a new tutorial) keep their
    file order, ahead of the known ones, as their cost is unknown."""
    fresh = [script for script in scripts if script not in stale]
    known = {script: cache.last_seconds(script.stem, target) for script in stale}
    unknown = [script for script in stale if known[script] is None]
    timed = sorted((s for s in stale if known[s] is not None), key=lambda s: -known[s])
    return fresh + unknown + timed


#: In-file setting (sphinx-gallery's comment style) naming the device type a tutorial's page
#: should be published from when a run on it exists: ``# sphinx_gallery_publish_target = "cuda"``.
PUBLISH_TARGET = "publish_target"
#: ``TUTORIAL_EXECUTE``: ``auto`` runs what is stale; ``never`` runs nothing and fails, listing
#: every tutorial without a valid cache entry (a render from merged shards).
EXECUTE_MODES = ("auto", "never")


def publish_target(script: Path) -> str | None:
    """The device type ``script`` asks its page to be published from, or None."""
    from .adapters.sphinx_gallery import extract_file_config
    from .convert import read_source

    wanted = extract_file_config(read_source(script)).get(PUBLISH_TARGET)
    if wanted is None:
        return None
    if not isinstance(wanted, str) or not wanted.isidentifier() or wanted == "cpu":
        raise TutorialError(
            script,
            None,
            f"sphinx_gallery_{PUBLISH_TARGET} = {wanted!r}: name an accelerator's device type, "
            'such as "cuda" (the page is published from a run on it when one exists)',
        )
    return wanted


class MissingEntries(TutorialError):
    """``TUTORIAL_EXECUTE=never`` and these tutorials have no valid cache entry."""


@dataclass(frozen=True)
class Plan:
    """What a build would do: every script's key for this build's target, the entry each page
    would be published from (None: it must execute), and the stale scripts."""

    target: str
    threads: int
    keys: dict[Path, str]
    published: dict[Path, Record | None]
    wanted: dict[Path, str | None]
    #: Scripts whose key cannot be computed (not a tutorial: a syntax error, no title...).
    errors: dict[Path, TutorialError]

    @property
    def stale(self) -> list[Path]:
        return [
            script
            for script, record in self.published.items()
            if record is None and script not in self.errors
        ]


def make_plan(
    scripts: list[Path],
    cache: NotebookCache,
    *,
    environment: str,
    timeout: float,
    target: str,
    threads: int,
) -> Plan:
    """Find each script's entry: a run on the device type it asks to be published from, when
    the cache holds a valid one for the script as it is now, else the run for this build's
    target (checked: a damaged entry is a miss)."""

    def key_for(script: Path, on: str, with_threads: int) -> str:
        return cache_key(
            script, environment=environment, timeout=timeout, target=on, threads=with_threads
        )

    keys, published, wanted, errors = {}, {}, {}, {}
    for script in scripts:
        try:
            keys[script] = key_for(script, target, threads)
            wanted[script] = publish_target(script)
        except TutorialError as exc:
            keys[script], published[script], wanted[script] = "", None, None
            errors[script] = exc
            continue
        record = None
        if wanted[script] and wanted[script] != targets.device_type(target):
            for other in cache.records(script.stem):
                if targets.device_type(other.target) == wanted[script] and other.key == key_for(
                    script, other.target, other.threads
                ):
                    record = cache.load(script.stem, other.key)
                    if record is not None:
                        break
        published[script] = record or cache.load(script.stem, keys[script])
    return Plan(target, threads, keys, published, wanted, errors)


def _build_one(
    script: Path,
    cache: NotebookCache,
    *,
    plan: Plan,
    timeout: float,
    stop: Stop,
    fork_server: ForkServer | None,
    on_executed: Callable[[TutorialResult], None] | None,
    strict: bool = True,
    alone: RunAlone | None = None,
) -> TutorialResult:
    if script in plan.errors:
        raise plan.errors[script]
    key, wanted = plan.keys[script], plan.wanted[script]
    record = plan.published[script]
    if record is not None and record.key != key:  # a run on another target, published as is
        check_outputs(read_notebook(record.notebook_path), script, strict=strict)
        log.info("%s: published from its run on %s", script.name, record.target)
        return TutorialResult(script, record, executed=False, wanted=wanted)
    with cache.lock(script.stem):
        record = cache.load(script.stem, key)
        if record is not None:
            check_outputs(read_notebook(record.notebook_path), script, strict=strict)
            log.info("%s: up to date (ran in %.1f s)", script.name, record.seconds)
            return TutorialResult(script, record, executed=False, wanted=wanted)
        log.info("%s: executing", script.name)
        with PARSE_LOCK:
            notebook = script_to_notebook(script, strict=strict)
        with (alone or RunAlone()).hold(alone=runs_alone(notebook)):  # issue 16
            execution = execute_notebook(
                notebook,
                path=script,
                timeout=timeout,
                threads=plan.threads,
                stop=stop,
                fork_server=fork_server,
                extra_env=targets.hidden_devices(plan.target),
            )
        ran_on = execution.device
        if ran_on is not None and ran_on != targets.device_type(plan.target):
            raise TutorialError(
                script,
                None,
                f"the tutorial ran on {ran_on} though the build's target is {plan.target}",
            )
        record = cache.store(
            script.stem,
            key,
            execution.notebook,
            target=plan.target,
            threads=plan.threads,
            seconds=execution.seconds,
            peak_memory=execution.peak_memory,
            device=execution.device,
            executed_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            preloaded=sorted(set(execution.preloaded) & imported_modules(script)),
        )
        log.info(
            "%s: ran in %.1f s, peak memory %.0f MB",
            script.name,
            execution.seconds,
            execution.peak_memory / 2**20,
        )
        result = TutorialResult(script, record, executed=True, wanted=wanted)
    if on_executed is not None:
        on_executed(result)
    return result


def build_tutorials(
    scripts: list[Path],
    *,
    cache_dir: Path,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int | None = None,
    environment: str | None = None,
    target: str | None = None,
    execute: str = "auto",
    on_executed: Callable[[TutorialResult], None] | None = None,
    strict: bool | Callable[[Path], bool] = True,
) -> list[TutorialResult]:
    """Bring every script's executed notebook up to date, running stale ones in parallel on
    ``target`` (default: ``TUTORIAL_TARGET``, else this machine's: `tutorial_pipeline.target`).
    ``on_executed`` is called with each tutorial that ran, as soon as it is cached (in a
    worker thread, while other tutorials may still be running). With ``execute="never"``
    nothing runs: a tutorial without a valid entry fails the build at once, all of them
    listed with their key and target. ``strict`` (all, or those scripts it says): a reST
    warning or a printed warning fails the tutorial, as it would a Sphinx build with ``-W``;
    other tutorials get Sphinx's tolerance (`convert`).

    Raises `TutorialBuildError` naming every failed tutorial (file, line and exception);
    the tutorials that succeeded are cached all the same. A kernel that cannot start stops
    the build at once (it is the machine's fault, and every other tutorial would wait for
    it too); so does Ctrl-C, which kills the running kernels and starts no other tutorial.
    """
    if execute not in EXECUTE_MODES:
        raise TutorialBuildError(
            [TutorialError(None, None, f"TUTORIAL_EXECUTE={execute!r}: use one of {EXECUTE_MODES}")]
        )
    try:
        target = targets.resolve(target)
        cache = NotebookCache(cache_dir)
        environment = environment if environment is not None else environment_fingerprint()
        plan = make_plan(
            scripts,
            cache,
            environment=environment,
            timeout=timeout,
            target=target,
            threads=threads_per_kernel(),
        )
    except TutorialError as exc:
        raise TutorialBuildError([exc]) from None
    if execute == "never" and (plan.stale or plan.errors):
        raise TutorialBuildError(
            [
                plan.errors.get(script)
                or MissingEntries(
                    script,
                    None,
                    f"no valid cache entry (key {plan.keys[script][:12]}, target {target}) and "
                    "TUTORIAL_EXECUTE=never",
                )
                for script in scripts
                if script in plan.errors or script in plan.stale
            ]
        )
    jobs = jobs or default_jobs()
    fork_server = start_fork_server(plan.stale, threads=plan.threads, target=plan.target)
    stop = Stop()
    alone = RunAlone()
    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(scripts) or 1)))
    submitted: dict[Path, Future] = {}
    try:
        submitted = {
            script: pool.submit(
                _build_one,
                script,
                cache,
                plan=plan,
                timeout=timeout,
                stop=stop,
                fork_server=fork_server,
                on_executed=on_executed,
                strict=strict(script) if callable(strict) else strict,
                alone=alone,
            )
            for script in execution_order(scripts, plan.stale, cache, target)
        }
        pending = set(submitted.values())
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            if any(isinstance(f.exception(), KernelStartError) for f in done if not f.cancelled()):
                stop.set()
                for future in pending:
                    future.cancel()
                break
    except BaseException:  # KeyboardInterrupt: stop now, keep nothing half-done
        stop.set()
        if fork_server is not None:
            fork_server.abort()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if fork_server is not None:
            fork_server.close()

    results: list[TutorialResult] = []
    failures: list[TutorialError] = []
    for future in (submitted[script] for script in scripts if script in submitted):
        if future.cancelled():
            continue
        exc = future.exception()
        if exc is None:
            results.append(future.result())
        elif isinstance(exc, TutorialError):
            failures.append(exc)
        else:
            raise exc
    if stop.is_set():
        starts = [f for f in failures if isinstance(f, KernelStartError)]
        failures = starts[:1] or failures
    if failures:
        raise TutorialBuildError(failures)
    return results
