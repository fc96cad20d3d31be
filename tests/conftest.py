"""Shared fixtures: the offline guard, the repository's paths, a cache of executed notebooks.

Only the standard library, pytest and torch are imported here, so that the `gpu` session
runs on a machine that has no site toolchain.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
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


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One cache of executed notebooks for the whole run, shared by the xdist workers, so a
    tutorial executed by its notebook test is not executed again by the site build."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    path = root / "tutorial-cache"
    path.mkdir(exist_ok=True)
    return path
