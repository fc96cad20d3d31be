"""Benchmarks of the build and the test suite (`nox -s bench`): figures, not pass/fail tests.

Works on copies of the repository in a temporary folder, so the developer's cache and site
are left alone, and prints one table:

* cold build: `mkdocs build` with an empty tutorial cache (every tutorial executes);
* no-change rebuild: the same build again;
* the author's loop (issue 18): a word of prose changed in one tutorial (nothing executes),
  then one printed line added to it (it executes);
* plain mkdocs build: the same pages with the executed notebooks placed in docs/ and the
  pipeline hook removed, i.e. mkdocs-material + mkdocs-jupyter alone (timed on its second
  run, so that mkdocs-jupyter's own render cache is as warm as in the no-change rebuild);
* the peers, on copies of the same tutorials: mkdocs-gallery (sphinx-gallery's MkDocs port,
  which executes the scripts one after another in its own process), installed into a
  throwaway folder, and mkdocs-jupyter executing the unexecuted notebooks itself
  (`execute: true`);
* the limit: the tutorials' standalone run times (`python tutorials/x.py`, each with the
  threads a build kernel gets) summed and divided by the build's parallel jobs, plus the
  plain build: what a build with no overhead at all would take;
* every tutorial stale with their past runs in the cache (here the cell timeout changes, as a
  package upgrade or a pipeline change would): the build runs the longest first;
* the test suite as `nox -s tests` runs it (`-n auto --dist worksteal`) and with `-n 0` (skip
  with --no-tests), against the cold build;
* the build across machines (issue 15): from the run times the cold build recorded, the
  longest-first packing's makespan for 1, 2, 4, 8 and 16 shards against the lower bound
  max(longest tutorial, total / N) (goal: <= 1.1x), and the local proof of CI's site
  workflow: three shards one after another, each into an empty cache, then the merge and the
  render that executes nothing (goal: merge + render <= 1.3x the no-change rebuild).
  ``--shards-only`` runs just the cold build, the no-change rebuild and these.

Cold means cold for everyone: each peer build and each standalone run gets an empty
torch.compile cache (``TORCHINDUCTOR_CACHE_DIR``, ``TRITON_CACHE_DIR``), as each of our kernels
does. Otherwise they would reuse the kernels compiled by an earlier run in the default folder
under /tmp, and tutorial 08's compile would take a second instead of ten.

A shared virtual machine's speed drifts by tens of percent within an hour, so with
``--rounds N`` the cold build and the peers are built N times, one after another in turn
(ours, mkdocs-gallery, mkdocs-jupyter, ours, ...), each time from scratch, and the table
shows each one's median with every run in brackets.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPY = [
    "mkdocs.yml",
    "pyproject.toml",
    ".tutorial_durations",
    "docs",
    "snippets",
    "src",
    "tests",
    "tutorials",
]
MKDOCS_GALLERY = "mkdocs-gallery==0.10.4"


class PeerFailed(Exception):
    """A peer's build failed: reported in its row, the other figures still print."""


def fresh(project: Path) -> None:
    """Remove what a build leaves behind that would let the next one skip work: the site,
    our tutorial cache and mkdocs-jupyter's (``.cache``), and mkdocs-gallery's output, whose
    checksums make it skip unchanged scripts."""
    for leftover in ("site", ".cache", "docs/generated"):
        shutil.rmtree(project / leftover, ignore_errors=True)


def median_row(name: str, runs: list[float]) -> tuple[str, float]:
    if len(runs) == 1:
        return name, runs[0]
    listed = ", ".join(f"{run:.1f}" for run in runs)
    return f"{name} (median of {len(runs)}: {listed})", statistics.median(runs)


def timed(command: list[str], cwd: Path, env: dict[str, str], *, peer: bool = False) -> float:
    """Seconds ``command`` took, with empty torch.compile caches."""
    with tempfile.TemporaryDirectory(prefix="bench-compile-") as compile_cache:
        env = {
            **env,
            "TORCHINDUCTOR_CACHE_DIR": f"{compile_cache}/torchinductor",
            "TRITON_CACHE_DIR": f"{compile_cache}/triton",
        }
        started = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
    if result.returncode != 0:
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        if peer:
            print(f"{' '.join(command)} failed in {cwd}:\n{output}", file=sys.stderr)
            last = [line for line in output.splitlines() if line.strip()][-1:]
            raise PeerFailed(last[0][:80] if last else "failed")
        sys.exit(f"{' '.join(command)} failed:\n{output}")
    return elapsed


def _nav_with_tutorials(config: dict, tutorials: list) -> None:
    for entry in config["nav"]:
        if isinstance(entry, dict) and "Tutorials" in entry:
            entry["Tutorials"] = tutorials + [
                item for item in entry["Tutorials"] or [] if "report" not in str(item)
            ]
            if not entry["Tutorials"]:
                entry["Tutorials"] = tutorials


def _without_pipeline(project: Path, target: Path) -> dict:
    """A copy of ``project`` with the hook removed; returns its config to edit."""
    shutil.copytree(project, target, ignore=shutil.ignore_patterns(".cache", "site"))
    config = yaml.safe_load((target / "mkdocs.yml").read_text())
    config.pop("hooks", None)
    config.pop("watch", None)
    config["strict"] = False  # the peers' pages link differently; only the timing counts
    config.pop("validation", None)
    # MathJax as plain files, as the hook would add them.
    import mathjax

    es5 = Path(mathjax.__file__).parent / "static/mathjax/es5"
    (target / "docs/assets/mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copy(es5 / "tex-chtml.js", target / "docs/assets/mathjax/tex-chtml.js")
    return config


def _save(config: dict, target: Path) -> None:
    (target / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def plain_project(project: Path, cache: Path, target: Path) -> Path:
    """The same site without the pipeline: executed notebooks as plain docs pages."""
    config = _without_pipeline(project, target)
    (target / "docs/tutorials").mkdir(parents=True, exist_ok=True)
    tutorials = []
    for notebook in sorted((cache / "pages/tutorials").glob("*.ipynb")):
        shutil.copy(notebook, target / "docs/tutorials" / notebook.name)
        tutorials.append(f"tutorials/{notebook.name}")
    _nav_with_tutorials(config, tutorials)
    _save(config, target)
    return target


def jupyter_execute_project(project: Path, target: Path) -> Path:
    """mkdocs-jupyter executing the (unexecuted) notebooks itself, one after another."""
    sys.path.insert(0, str(project / "src"))
    import nbformat

    from tutorial_pipeline import discover
    from tutorial_pipeline.convert import script_to_notebook

    config = _without_pipeline(project, target)
    (target / "docs/tutorials").mkdir(parents=True, exist_ok=True)
    tutorials = []
    for script in discover(project / "tutorials"):
        nbformat.write(script_to_notebook(script), target / f"docs/tutorials/{script.stem}.ipynb")
        tutorials.append(f"tutorials/{script.stem}.ipynb")
        for helper in script.parent.glob("_*.py"):  # helper modules, next to the notebooks
            shutil.copy(helper, target / "docs/tutorials" / helper.name)
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocs-jupyter" in plugin:
            plugin["mkdocs-jupyter"]["execute"] = True
    _nav_with_tutorials(config, tutorials)
    _save(config, target)
    return target


def gallery_project(project: Path, target: Path, peers: Path) -> Path:
    """mkdocs-gallery building the same scripts (installed into ``peers``)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(peers),
            MKDOCS_GALLERY,
        ],
        check=True,
    )
    config = _without_pipeline(project, target)
    examples = target / "gallery_src"
    shutil.copytree(project / "tutorials", examples)
    (examples / "README.md").write_text("# Tutorials\n")
    config["plugins"].append(
        {
            "gallery": {
                "examples_dirs": "gallery_src",
                "gallery_dirs": "docs/generated/gallery",
                "filename_pattern": ".*",
                "ignore_pattern": r"/_",
            }
        }
    )
    _nav_with_tutorials(config, ["generated/gallery"])
    _save(config, target)
    return target


def standalone_seconds(project: Path, env: dict[str, str], threads: int) -> float:
    """The tutorials run one by one as plain scripts, summed."""
    sys.path.insert(0, str(project / "src"))
    from tutorial_pipeline import discover

    total = 0.0
    run_env = {**env, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": str(threads)}
    for script in discover(project / "tutorials"):
        with tempfile.TemporaryDirectory() as cwd:
            total += timed([sys.executable, str(script)], Path(cwd), run_env)
    return total


def author_loop(project: Path, build: list[str], env: dict, no_change: float) -> list:
    """An author's two edits of one tutorial (02_autograd, else the first), each timed as a
    build: a word of prose (nothing executes: goal <= 1.3x the no-change rebuild), then one
    printed line (it executes: goal <= its run time + the no-change rebuild + 2 s)."""
    from tutorial_pipeline.cache import NotebookCache

    scripts = sorted((project / "tutorials").glob("[0-9]*.py"))
    script = next((s for s in scripts if s.name == "02_autograd.py"), scripts[0])
    lines = script.read_text().split("\n")
    # The first prose line after the title's underline: a word more.
    at = next(i for i in range(3, len(lines)) if lines[i].strip() and lines[i - 1].strip() == "")
    lines[at] += " Edited."
    script.write_text("\n".join(lines))
    prose = timed(build, project, env)
    script.write_text(script.read_text() + '\nprint("edited for the benchmark")\n')
    code = timed(build, project, env)
    ran = NotebookCache(Path(env["TUTORIAL_CACHE_DIR"])).records(script.stem)[0].seconds
    budget = ran + no_change + 2
    return [
        (f"prose-only edit ({script.name})", prose, f"{prose / no_change:.2f}x no-change"),
        (
            f"code edit ({script.name}; it ran {ran:.1f} s)",
            code,
            f"{code / budget:.2f}x run + no-change + 2 s",
        ),
    ]


def shard_figures(cache: Path) -> list[tuple[str, float, str]]:
    """The packing's makespan against the lower bound, for the run times in ``cache``."""
    from tutorial_pipeline import shards
    from tutorial_pipeline.cache import NotebookCache

    store = NotebookCache(cache)
    stems = sorted({p.name.rsplit("-", 1)[0] for p in store.entries.iterdir()})
    seconds = {stem: store.last_seconds(stem, "cpu") for stem in stems}
    rows = []
    for count in (1, 2, 4, 8, 16):
        packed = shards.makespan(seconds, shards.pack(seconds, count))
        bound = shards.lower_bound(seconds, count)
        rows.append((f"{count} shard(s): packed makespan (bound {bound:.1f} s)", packed,
                     f"{packed / bound:.2f}x bound"))  # fmt: skip
    return rows


def three_shard_proof(
    project: Path, build: list[str], env: dict[str, str], no_change: float
) -> list:
    """CI's site workflow on this machine: three shards one after another, each from an empty
    cache, then the merge and the render that executes nothing."""
    fresh(project)
    shutil.rmtree(project / "shards", ignore_errors=True)
    cli = [sys.executable, "-m", "tutorial_pipeline"]
    cache = env["TUTORIAL_CACHE_DIR"]
    rows, shard_seconds = [], []
    for index in range(1, 4):
        runner = {**env, "TUTORIAL_CACHE_DIR": str(project / f".cache/runner-{index}")}
        command = [*cli, "execute", "--shard", f"{index}/3", "--out", f"shards/cpu-{index}"]
        shard_seconds.append(timed(command, project, runner))
    each = ", ".join(f"{seconds:.1f}" for seconds in shard_seconds)
    rows.append((f"three shards, one after another ({each})", sum(shard_seconds), ""))
    merge = timed([*cli, "merge", "shards"], project, {**env, "TUTORIAL_CACHE_DIR": cache})
    render = timed(build, project, {**env, "TUTORIAL_EXECUTE": "never"})
    rows.append(("merge the shards' entries", merge, ""))
    rows.append(("render, executing nothing (TUTORIAL_EXECUTE=never)", render, ""))
    rows.append(
        ("merge + render", merge + render, f"{(merge + render) / no_change:.2f}x no-change")
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="skip the test-suite timings")
    parser.add_argument("--no-peers", action="store_true", help="skip mkdocs-gallery/-jupyter")
    parser.add_argument("--only", help="comma-separated tutorial stems (a quick check)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="cold builds of ours and each peer (median)"
    )
    parser.add_argument(
        "--shards-only",
        action="store_true",
        help="only the cold build, the no-change rebuild and the figures across machines",
    )
    args = parser.parse_args()

    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        for name in COPY:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, project / name)
            elif source.is_file():
                shutil.copy(source, project / name)
        if args.only:
            keep = set(args.only.split(","))
            for script in (project / "tutorials").glob("[0-9]*.py"):
                if script.stem not in keep:
                    script.unlink()
        cache = project / ".cache/tutorials"
        env["TUTORIAL_CACHE_DIR"] = str(cache)
        loose = [sys.executable, "-m", "mkdocs", "build", "--no-strict", "-d", "site"]
        # With --only, the posts link to tutorials that are not there: not strict then.
        build = loose if args.only else [*loose[:-3], "--strict", "-d", "site"]

        sys.path.insert(0, str(project / "src"))
        from tutorial_pipeline.pipeline import default_jobs, threads_per_kernel

        jobs = int(env.get("TUTORIAL_JOBS") or 0) or default_jobs()
        threads = threads_per_kernel()

        colds = [timed(build, project, env)]
        plain = plain_project(project, cache, Path(tmp) / "plain")
        timed(loose, plain, env)  # fills mkdocs-jupyter's own render cache, as above
        # A few seconds each, so taken three times in turn: the medians, and every run.
        no_changes, plains = [], []
        for _ in range(3):
            no_changes.append(timed(build, project, env))
            plains.append(timed(loose, plain, env))
        name, no_change = median_row("no-change rebuild", no_changes)
        plain_name, plain_seconds = median_row("plain mkdocs build of the same pages", plains)
        rows.append((name, no_change, f"{no_change / plain_seconds:.2f}x plain"))
        rows.append((plain_name, plain_seconds, ""))
        rows += author_loop(project, build, env, no_change)
        shard_rows = shard_figures(cache)
        if args.shards_only:
            rows.insert(0, ("cold build (all tutorials execute)", colds[0], ""))
            print_table(rows + shard_rows + three_shard_proof(project, build, env, no_change))
            return
        standalone = standalone_seconds(project, env, threads)

        peers: list[tuple[str, Path, dict]] = []
        if not args.no_peers:
            installed = Path(tmp) / "peers"
            gallery_env = {
                **env,
                "PYTHONPATH": os.pathsep.join([str(installed), env.get("PYTHONPATH", "")]),
            }
            peers = [
                (
                    "peer: mkdocs-gallery, cold",
                    gallery_project(project, Path(tmp) / "gallery", installed),
                    gallery_env,
                ),
                (
                    "peer: mkdocs-jupyter execute: true, cold",
                    jupyter_execute_project(project, Path(tmp) / "jupyter"),
                    env,
                ),
            ]
        peer_runs: dict[str, list[float] | str] = {name: [] for name, _, _ in peers}
        for round_ in range(args.rounds):
            if round_:  # ours again, from scratch, between the peers' runs
                fresh(project)
                colds.append(timed(build, project, env))
            for name, target, peer_env in peers:
                if isinstance(peer_runs[name], str):
                    continue
                fresh(target)
                try:
                    peer_runs[name].append(timed(loose, target, peer_env, peer=True))
                except PeerFailed as exc:
                    peer_runs[name] = str(exc)

        name, cold = median_row("cold build (all tutorials execute)", colds)
        rows.insert(0, (name, cold, "1.00x"))
        # Every key changes, the past runs stay: the longest tutorials start first.
        from tutorial_pipeline.pipeline import DEFAULT_TIMEOUT

        restale = {**env, "TUTORIAL_CELL_TIMEOUT": str(DEFAULT_TIMEOUT + 1)}
        seconds = timed(build, project, restale)
        rows.insert(1, ("all stale, past runs cached", seconds, f"{seconds / cold:.2f}x cold"))
        limit = standalone / jobs + plain_seconds
        rows.append((f"tutorials standalone, summed ({threads} thread(s) each)", standalone, ""))
        rows.append(
            (f"limit: standalone / {jobs} jobs + plain build", limit, f"{cold / limit:.2f}x")
        )
        for name, runs in peer_runs.items():
            if isinstance(runs, str):
                rows.append((f"{name}: FAILED ({runs})", float("nan"), ""))
            else:
                name, seconds = median_row(name, runs)
                rows.append((name, seconds, f"{cold / seconds:.2f}x"))

        if not args.no_tests:
            pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            seconds = timed([*pytest, "-n", "auto", "--dist", "worksteal"], ROOT, env)
            rows.append(
                ("test suite, as nox -s tests runs it", seconds, f"{seconds / cold:.2f}x cold")
            )
            rows.append(("test suite, -n 0", timed([*pytest, "-n", "0"], ROOT, env), ""))
        rows += shard_rows + three_shard_proof(project, build, env, no_change)
    print_table(rows)


def print_table(rows: list[tuple[str, float, str]]) -> None:
    cpu = f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    print(f"\nBenchmarks on {platform.node() or 'this machine'} ({cpu})\n")
    print(
        "Ratios: ours / peer for the peers, ours / limit for the limit, tests / cold build, "
        "packed makespan / lower bound, merge + render / no-change rebuild.\n"
    )
    width = max(len(name) for name, _, _ in rows)
    print(f"| {'what'.ljust(width)} | seconds | ratio |")
    print(f"| {'-' * width} | ------: | ----: |")
    for name, seconds, ratio in rows:
        print(f"| {name.ljust(width)} | {seconds:7.1f} | {ratio} |")


if __name__ == "__main__":
    main()
