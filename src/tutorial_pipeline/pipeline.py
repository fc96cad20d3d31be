"""Build every tutorial: convert, execute in parallel, cache, and collect failures."""

from __future__ import annotations

import datetime
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .cache import NotebookCache, Record, cache_key, environment_fingerprint
from .convert import script_to_notebook
from .errors import TutorialError
from .execute import check_outputs, execute_notebook

log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")

DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class TutorialResult:
    """One tutorial of a build: where its executed notebook is and what running it cost."""

    script: Path
    record: Record
    executed: bool  # True: ran in this build; False: reused from the cache

    @property
    def stem(self) -> str:
        return self.script.stem

    @property
    def notebook_path(self) -> Path:
        return self.record.notebook_path


class TutorialBuildError(Exception):
    """One or more tutorials failed; ``failures`` holds each one's `TutorialError`."""

    def __init__(self, failures: list[TutorialError]):
        self.failures = failures
        summary = "\n".join(str(failure) for failure in failures)
        details = "\n\n".join(failure.report() for failure in failures)
        super().__init__(
            f"{len(failures)} tutorial(s) failed:\n{summary}\n\n{details}\n\n"
            f"{len(failures)} tutorial(s) failed:\n{summary}"
        )


def discover(directory: Path) -> list[Path]:
    """The tutorial scripts in ``directory``: every ``*.py`` not starting with ``_``, sorted."""
    return sorted(p for p in Path(directory).glob("*.py") if not p.name.startswith("_"))


def _build_one(
    script: Path, cache: NotebookCache, *, environment: str, timeout: float
) -> TutorialResult:
    key = cache_key(script, environment=environment, timeout=timeout)
    with cache.lock(script.stem):
        record = cache.load(script.stem, key)
        if record is not None:
            import nbformat

            check_outputs(nbformat.read(record.notebook_path, as_version=4), script)
            log.info("%s: up to date (ran in %.1f s)", script.name, record.seconds)
            return TutorialResult(script, record, executed=False)
        log.info("%s: executing", script.name)
        execution = execute_notebook(script_to_notebook(script), path=script, timeout=timeout)
        record = cache.store(
            script.stem,
            key,
            execution.notebook,
            seconds=execution.seconds,
            peak_memory=execution.peak_memory,
            device=execution.device,
            executed_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        )
        log.info(
            "%s: ran in %.1f s, peak memory %.0f MB",
            script.name,
            execution.seconds,
            execution.peak_memory / 2**20,
        )
        return TutorialResult(script, record, executed=True)


def build_tutorials(
    scripts: list[Path],
    *,
    cache_dir: Path,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int | None = None,
    environment: str | None = None,
) -> list[TutorialResult]:
    """Bring every script's executed notebook up to date, running stale ones in parallel.

    Raises `TutorialBuildError` naming every failed tutorial (file, line and exception);
    the tutorials that succeeded are cached all the same.
    """
    cache = NotebookCache(cache_dir)
    environment = environment if environment is not None else environment_fingerprint()
    jobs = jobs or os.cpu_count() or 1
    results: list[TutorialResult] = []
    failures: list[TutorialError] = []
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(scripts) or 1))) as pool:
        futures = [
            pool.submit(_build_one, script, cache, environment=environment, timeout=timeout)
            for script in scripts
        ]
        for future in futures:
            try:
                results.append(future.result())
            except TutorialError as exc:
                failures.append(exc)
    if failures:
        raise TutorialBuildError(failures)
    return results
