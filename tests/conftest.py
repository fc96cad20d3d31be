"""Shared fixtures: the offline guard, the repository's paths, a cache of executed notebooks.

Only the standard library, pytest and torch are imported here, so that the `gpu` session
runs on a machine that has no site toolchain.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted(p for p in (ROOT / "tutorials").glob("*.py") if not p.name.startswith("_"))
OFFLINE = Path(__file__).resolve().parent / "offline"

# Every process the tests start (scripts, kernels, mkdocs) loads offline/sitecustomize.py.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(OFFLINE), *filter(None, [os.environ.get("PYTHONPATH")])]
)
# Material prints a banner about its successor on every build; builds here stay quiet.
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
# Jupyter warns that its config paths will move unless this is set (warnings are errors here).
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
# ...and so does this process.
_spec = importlib.util.spec_from_file_location("offline_guard", OFFLINE / "sitecustomize.py")
offline_guard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline_guard)


# The `gpu` session runs on a machine with torch and pytest but no site toolchain: the
# modules that import it are not even collected there (their tests are marked `docs`).
collect_ignore = (
    ["test_pipeline.py", "test_site.py"] if importlib.util.find_spec("mkdocs") is None else []
)


def mkdocs_build(
    project: Path, *, cache: Path, site: Path | str = "site"
) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``project`` into ``site``, executing tutorials into (or
    reusing them from) the tutorial cache ``cache``."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project,
        env={**os.environ, "TUTORIAL_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
    )


def run_folder(tmp_path_factory) -> Path:
    """The temporary folder that every xdist worker of this test run shares."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


def built_once(tmp_path_factory, name: str, build: Callable[[Path], str | None]) -> Path:
    """The folder ``name``, filled by ``build(folder)`` (which returns None, or why it failed)
    in one xdist worker of this run; the others wait for it and use its result, or fail with
    the same message."""
    from filelock import FileLock

    root = run_folder(tmp_path_factory)
    folder, failed, done = root / name, root / f"{name}.failed", root / f"{name}.done"
    with FileLock(root / f"{name}.lock"):
        if not (done.exists() or failed.exists()):
            folder.mkdir(exist_ok=True)
            error = build(folder)
            (failed if error else done).write_text(error or "", encoding="utf-8")
    if failed.exists():
        pytest.fail(failed.read_text(encoding="utf-8"), pytrace=False)
    return folder


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One cache of executed notebooks for the whole run, shared by the xdist workers, so a
    tutorial executed by its notebook test is not executed again by the site build."""
    path = run_folder(tmp_path_factory) / "tutorial-cache"
    path.mkdir(exist_ok=True)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that read this run's executed tutorials (the site's, the notebook runs) go
    first. ``nox -s tests`` runs ``--dist worksteal``, which hands each worker a contiguous
    share: the first worker then builds the site while the others run the rest, and take
    over its queue's tail when they are done. (In collection order these tests came last,
    and one worker built the site while the other sat idle.)"""
    items.sort(key=lambda item: "shared_cache" not in getattr(item, "fixturenames", ()))
