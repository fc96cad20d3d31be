"""Benchmarks of the build and the test suite (`nox -s bench`): figures, not pass/fail tests.

Works on a copy of the repository in a temporary folder, so the developer's cache and site
are left alone, and prints one table:

* cold build: `mkdocs build` with an empty tutorial cache (every tutorial executes);
* no-change rebuild: the same build again;
* one-tutorial rebuild: after appending a comment to one tutorial;
* plain mkdocs build: the same pages with the executed notebooks placed in docs/ and the
  pipeline hook removed, i.e. mkdocs-material + mkdocs-jupyter alone (timed on its second
  run, so that mkdocs-jupyter's own render cache is as warm as in the no-change rebuild);
* the test suite with `-n auto` and with `-n 0` (skip with --no-tests).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPY = ["mkdocs.yml", "pyproject.toml", "docs", "snippets", "src", "tests", "tutorials"]


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def plain_project(project: Path, cache: Path, target: Path) -> Path:
    """The same site without the pipeline: executed notebooks as plain docs pages."""
    shutil.copytree(project, target, ignore=shutil.ignore_patterns(".cache", "site"))
    config = yaml.safe_load((target / "mkdocs.yml").read_text())
    config.pop("hooks")
    config.pop("watch", None)
    tutorials = []
    for notebook in sorted((cache / "pages/tutorials").glob("*.ipynb")):
        shutil.copy(notebook, target / "docs/tutorials" / notebook.name)
        tutorials.append(f"tutorials/{notebook.name}")
    (target / "docs/tutorials/report.md").write_text("# Build report\n")
    for entry in config["nav"]:
        if isinstance(entry, dict) and "Tutorials" in entry:
            entry["Tutorials"] = tutorials + entry["Tutorials"]
    # MathJax as plain files, as the hook would add them.
    import mathjax

    es5 = Path(mathjax.__file__).parent / "static/mathjax/es5"
    (target / "docs/assets/mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copy(es5 / "tex-chtml.js", target / "docs/assets/mathjax/tex-chtml.js")
    (target / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="skip the test-suite timings")
    args = parser.parse_args()

    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        for name in COPY:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, project / name)
            else:
                shutil.copy(source, project / name)
        (project / "docs/tutorials").mkdir(exist_ok=True)
        cache = project / ".cache/tutorials"
        env["TUTORIAL_CACHE_DIR"] = str(cache)
        build = [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", "site"]

        rows.append(("cold build (all tutorials execute)", timed(build, project, env)))
        rows.append(("no-change rebuild", timed(build, project, env)))
        first = sorted((project / "tutorials").glob("[0-9]*.py"))[0]
        first.write_text(first.read_text() + "\n# edited for the benchmark\n")
        rows.append((f"one-tutorial rebuild ({first.name} edited)", timed(build, project, env)))
        plain = plain_project(project, cache, Path(tmp) / "plain")
        timed(build, plain, env)  # fills mkdocs-jupyter's own render cache, as above
        rows.append(("plain mkdocs build of the same pages", timed(build, plain, env)))

        if not args.no_tests:
            pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            rows.append(("test suite, -n auto", timed([*pytest, "-n", "auto"], ROOT, env)))
            rows.append(("test suite, -n 0", timed([*pytest, "-n", "0"], ROOT, env)))

    cpu = f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    print(f"\nBenchmarks on {platform.node() or 'this machine'} ({cpu})\n")
    width = max(len(name) for name, _ in rows)
    print(f"| {'what'.ljust(width)} | seconds |")
    print(f"| {'-' * width} | ------: |")
    for name, seconds in rows:
        print(f"| {name.ljust(width)} | {seconds:7.1f} |")


if __name__ == "__main__":
    main()
