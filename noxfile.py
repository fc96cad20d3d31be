"""Build, serve, test and lint PyTorch Fundamentals.  `nox -l` lists the sessions.

The sessions that need torch share one environment, `.nox/site`, so torch (a 5.5 GB CUDA
build) is installed once: the first session creates it and installs the `test` dependency
group (which includes `docs`) and this project; later sessions reuse it and install nothing
unless `pyproject.toml` changed. The `gpu` session uses the machine's own Python and torch.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
SITE_ENV = ROOT / ".nox" / "site"


def use_site_env(session: nox.Session) -> Path:
    """Create or update the shared environment, put it first on PATH for the commands this
    session runs, and return its bin directory (commands are called by their full path there,
    since nox looks programs up on its own PATH)."""
    python = SITE_ENV / "bin" / "python"
    if not python.exists():
        session.run(sys.executable, "-m", "venv", str(SITE_ENV), external=True)
        session.run(str(python), "-m", "pip", "install", "--upgrade", "pip", external=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = SITE_ENV / ".installed-from"
    if not stamp.exists() or stamp.read_text() != wanted:
        requirements = nox.project.dependency_groups(PYPROJECT, "test")
        session.run(
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            *requirements,
            "-e",
            str(ROOT),
            external=True,
        )
        stamp.write_text(wanted)
    else:
        session.log(f"{SITE_ENV} is up to date with pyproject.toml")
    session.env["VIRTUAL_ENV"] = str(SITE_ENV)
    session.env["PATH"] = os.pathsep.join([str(SITE_ENV / "bin"), os.environ.get("PATH", "")])
    # Jupyter's own deprecation notice about its config paths, silenced the way it asks.
    session.env["JUPYTER_PLATFORM_DIRS"] = "1"
    # Material's banner about its successor, printed on every build.
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    return SITE_ENV / "bin"


@nox.session(venv_backend="none", default=False)
def docs(session: nox.Session) -> None:
    """Build the site into site/, executing every stale tutorial (strict: warnings fail)."""
    bin_dir = use_site_env(session)
    session.run(bin_dir / "mkdocs", "build", "--strict", *session.posargs, external=True)


@nox.session(venv_backend="none", default=False)
def serve(session: nox.Session) -> None:
    """Serve the site on http://127.0.0.1:8000, rebuilding on change (edited tutorials re-run)."""
    bin_dir = use_site_env(session)
    session.run(bin_dir / "mkdocs", "serve", *session.posargs, external=True)


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Run the whole test suite in parallel: snippets, tutorials, site and pipeline."""
    bin_dir = use_site_env(session)
    # worksteal: each worker starts on a contiguous share of the tests, so the one that builds
    # the site (its tests come first, tests/conftest.py) is not waited for by the others.
    session.run(
        bin_dir / "pytest", "-n", "auto", "--dist", "worksteal", *session.posargs, external=True
    )


@nox.session(venv_backend="none", default=False)
def browser(session: nox.Session) -> None:
    """Build the site, then check in Chromium what a reader sees (tests/browser, Playwright).

    Uses the system Chromium (/usr/bin/chromium) where installed, else Playwright's own
    (`playwright install chromium`). Extra args go to pytest."""
    bin_dir = use_site_env(session)
    requirements = nox.project.dependency_groups(PYPROJECT, "browser")
    session.run(bin_dir / "python", "-m", "pip", "install", "--quiet", *requirements, external=True)
    site_dir = Path(os.environ.get("SITE_DIR", ROOT / "site"))
    session.env["SITE_DIR"] = str(site_dir)
    session.run(bin_dir / "mkdocs", "build", "--strict", "-d", str(site_dir), external=True)
    session.run(
        bin_dir / "pytest", "-m", "browser", "tests/browser", *session.posargs, external=True
    )


@nox.session(venv_backend="none", default=False)
def gpu(session: nox.Session) -> None:
    """On a CUDA machine with its own torch: snippets, tutorial scripts and GPU checks.

    Runs every test that needs no site toolchain with the machine's Python, so on the GPU;
    the tutorials' other packages (matplotlib, scikit-learn, ...) are installed if missing."""
    session.run(
        "python",
        "-c",
        "import torch; assert torch.cuda.is_available(), 'no CUDA device'",
        external=True,
    )
    # What the tutorials, snippets and tests import besides torch; only missing ones install.
    wanted = [
        *nox.project.dependency_groups(PYPROJECT, "tutorials"),
        "pytest",
        "pytest-xdist",
        "pytest-timeout",
    ]
    missing = [
        requirement
        for requirement in wanted
        if not requirement.startswith(("torch==", "torchvision==")) and not _installed(requirement)
    ]
    if missing:
        session.run("python", "-m", "pip", "install", *missing, external=True)
    session.env["PYTHONPATH"] = str(ROOT / "src")
    session.run(
        "python", "-m", "pytest", "-n", "auto", "-m", "not docs", *session.posargs, external=True
    )


def _installed(requirement: str) -> bool:
    """Whether the distribution a ``name==version`` requirement names is installed at all."""
    try:
        importlib.metadata.version(requirement.split("==")[0])
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff (pass --fix / format args through posargs)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", *session.posargs)
    session.run("ruff", "format", "--check", ".")


@nox.session(venv_backend="none", default=False)
def bench(session: nox.Session) -> None:
    """Time cold, no-change and one-tutorial builds, a plain build, and tests -n auto vs -n 0."""
    bin_dir = use_site_env(session)
    session.run(bin_dir / "python", "benchmarks/bench_build.py", *session.posargs, external=True)


@nox.session(venv_backend="none", default=False)
def soak(session: nox.Session) -> None:
    """Find rare failures: cold builds, then test-suite runs (`-- --builds N [--tests M]`).

    Runs them one after another, prints each failure and stray traceback, keeps the logs."""
    bin_dir = use_site_env(session)
    session.run(bin_dir / "python", "benchmarks/soak.py", *session.posargs, external=True)
