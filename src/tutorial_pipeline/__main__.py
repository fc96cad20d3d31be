"""The build's steps on the command line, for CI and for running a shard by hand.

    python -m tutorial_pipeline plan --shards 3          # stale tutorials and their shares (JSON)
    python -m tutorial_pipeline execute --shard 2/3      # execute one share into the cache
    python -m tutorial_pipeline merge shards/*           # merge caches, checking every entry

The nox sessions ``plan``, ``execute`` and ``merge`` run these; ``TUTORIAL_EXECUTE=never nox -s
docs`` then renders the site from the merged cache without executing anything. Settings
are the build's (``TUTORIAL_CACHE_DIR``, ``TUTORIAL_CELL_TIMEOUT``, ``TUTORIAL_JOBS``,
``TUTORIAL_TARGET``: see `tutorial_pipeline.mkdocs_hook`). Errors print one line and exit 1
(a tutorial failed, an entry was refused) or 2 (a wrong argument, a target this machine
cannot run).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from pathlib import Path

from . import apiref, shards
from . import cache as cache_module
from . import target as targets
from .errors import TutorialError
from .pipeline import (
    DEFAULT_TIMEOUT,
    TutorialBuildError,
    build_tutorials,
    discover,
    make_plan,
    threads_per_kernel,
)
from .prerender import strictness

log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")


def _settings(root: Path) -> tuple[Path, float]:
    cache_dir = Path(os.environ.get("TUTORIAL_CACHE_DIR") or root / ".cache/tutorials")
    timeout = float(os.environ.get("TUTORIAL_CELL_TIMEOUT") or DEFAULT_TIMEOUT)
    return cache_dir.resolve(), timeout


def _target(device: str | None) -> str:
    """The build's target, checked against the device type a job asks for."""
    if device and device != "cpu" and not os.environ.get(targets.ENV_VAR):
        try:
            targets.resolve(device)  # at once where the machine has no such device
        except targets.TargetError:
            raise targets.TargetError(
                f"this job asks for a {device} device (--device {device}) and this machine has none"
            ) from None
    target = targets.resolve()
    if device and targets.device_type(target) != device:
        raise targets.TargetError(
            f"this job asks for a {device} target and this machine's is {target}"
            + ("" if device == "cpu" else f" (no {device} device here)")
        )
    return target


def _shard_plan(root: Path, *, shards_count: int, target: str) -> shards.ShardPlan:
    scripts = discover(root / "tutorials")
    cache_dir, timeout = _settings(root)
    cache = cache_module.NotebookCache(cache_dir)
    plan = make_plan(
        scripts,
        cache,
        environment=cache_module.environment_fingerprint(),
        timeout=timeout,
        target=target,
        threads=threads_per_kernel(),
    )
    timings = shards.read_timings(root / shards.TIMINGS_FILE, targets.device_type(target))
    stale = [script.stem for script in plan.stale]
    return shards.plan_shards(stale, cache, timings=timings, target=target, shards=shards_count)


def cmd_plan(args) -> int:
    target = _target(args.device)
    plan = _shard_plan(args.root, shards_count=args.shards, target=target)
    data = plan.as_json()
    print(json.dumps(data, indent=2))
    if args.github_output:  # a step's outputs: the matrix, and whether there is work
        with open(args.github_output, "a", encoding="utf-8") as handle:
            handle.write(f"matrix={json.dumps(data['matrix'], separators=(',', ':'))}\n")
            handle.write(f"stale={' '.join(data['stale'])}\n")
            handle.write(f"any={'true' if data['stale'] else 'false'}\n")
    return 0


def _site_config(root: Path):
    """The site's MkDocs config, as the build sees it (the hook puts mkdocs-jupyter's cache in
    the tutorial cache, as the site build does)."""
    from mkdocs.config import load_config

    config = load_config(str(root / "mkdocs.yml"))
    return config.plugins.on_config(config)


def _prerenderer(config, root: Path, scripts: list[Path], cache_dir: Path):
    """A renderer of each executed tutorial's page into mkdocs-jupyter's cache (in the
    build's cache folder, ``html/``), as the site build does, so that the render job that
    merges the shards finds every page rendered; None where the site would not use it."""
    from mkdocs.structure.files import get_files

    from .prerender import Prerender

    return Prerender.for_config(
        config,
        scripts=scripts,
        tutorials_dir=root / "tutorials",
        files=get_files(config),
        pages=cache_dir / "pages",
        cache_root=cache_dir,
    )


def _derived(cache_dir: Path) -> set[Path]:
    """The derived files of a cache (`cache.DERIVED`): rendered pages, refreshed notebooks."""
    return {
        path
        for folder, pattern in cache_module.DERIVED.items()
        for path in (cache_dir / folder).glob(pattern)
    }


def cmd_execute(args) -> int:
    target = _target(args.device)
    root = args.root
    scripts = discover(root / "tutorials")
    if args.shard:
        index, count = shards.parse_shard(args.shard)
        plan = _shard_plan(root, shards_count=count, target=target)
        share = set(plan.shares[index - 1])
        log.info(
            "shard %d/%d on %s: %s", index, count, target, " ".join(plan.shares[index - 1]) or "-"
        )
        scripts = [script for script in scripts if script.stem in share]
    cache_dir, timeout = _settings(root)
    jobs = int(os.environ.get("TUTORIAL_JOBS") or 0) or None
    derived_before = _derived(cache_dir)
    config = _site_config(root)
    every = discover(root / "tutorials")
    ahead = None if args.no_render else _prerenderer(config, root, every, cache_dir)
    environment = cache_module.environment_fingerprint()
    apiref.use_memo(cache_dir, environment)
    try:
        results = build_tutorials(
            scripts,
            cache_dir=cache_dir,
            timeout=timeout,
            jobs=jobs,
            environment=environment,
            target=target,
            on_executed=ahead.submit if ahead else None,
            strict=strictness(config, root / "tutorials"),
        )
    finally:
        if ahead is not None:
            ahead.close(cancel=sys.exc_info()[0] is not None, lone=True)
        apiref.save_memo()
    executed = [r for r in results if r.executed]
    log.info("executed %d tutorial(s), %d up to date", len(executed), len(results) - len(executed))
    if args.out:
        entries = Path(args.out) / cache_module.ENTRIES
        entries.mkdir(parents=True, exist_ok=True)
        for result in executed:
            folder = result.notebook_path.parent
            shutil.copytree(folder, entries / folder.name, dirs_exist_ok=True)
        made = sorted(_derived(cache_dir) - derived_before)
        for path in made:
            copy = Path(args.out) / path.relative_to(cache_dir)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
        for memo in cache_dir.glob("apiref-*.json"):
            shutil.copyfile(memo, Path(args.out) / memo.name)
        log.info(
            "copied the %d entries and %d rendered pages and refreshed notebooks made here to %s",
            len(executed),
            len(made),
            args.out,
        )
    if args.write_timings:
        cache = cache_module.NotebookCache(cache_dir)
        seconds = {
            s.stem: t
            for s in discover(root / "tutorials")
            if (t := cache.last_seconds(s.stem, target)) is not None
        }
        shards.write_timings(root / shards.TIMINGS_FILE, seconds, targets.device_type(target))
        log.info("wrote the run times of %d tutorial(s) to %s", len(seconds), shards.TIMINGS_FILE)
    return 0


def cmd_merge(args) -> int:
    into = Path(args.into or _settings(args.root)[0])
    report = cache_module.merge(into, [Path(s) for s in args.sources])
    for line in report.refused:
        print(f"refused: {line}", file=sys.stderr)
    print(
        f"merged into {into}: {len(report.copied)} entries copied, {len(report.present)} "
        f"already there, {len(report.refused)} refused; {report.derived} rendered pages and "
        "refreshed notebooks copied"
    )
    return 1 if report.refused else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tutorial_pipeline", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="the stale tutorials and each shard's share")
    plan.add_argument("--shards", type=int, default=1)
    plan.add_argument("--device", help="the device type this job must run (cpu, cuda)")
    plan.add_argument("--github-output", help="also write matrix/stale/any to this file")
    plan.set_defaults(run=cmd_plan)
    execute = commands.add_parser("execute", help="execute stale tutorials into the cache")
    execute.add_argument("--shard", help="I/N: only the I-th of N shares")
    execute.add_argument("--device", help="the device type this job must run (cpu, cuda)")
    execute.add_argument("--out", help="also copy the entries made here into this folder")
    execute.add_argument(
        "--write-timings",
        action="store_true",
        help=f"record the tutorials' run times in {shards.TIMINGS_FILE}",
    )
    execute.add_argument(
        "--no-render",
        action="store_true",
        help="do not render the executed tutorials' pages into the cache",
    )
    execute.set_defaults(run=cmd_execute)
    merge = commands.add_parser("merge", help="merge caches, refusing entries that fail checks")
    merge.add_argument("sources", nargs="+", help="caches, or folders of caches")
    merge.add_argument("--into", help="the cache to merge into (default: the build's)")
    merge.set_defaults(run=cmd_merge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.root = args.root.resolve()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        return args.run(args)
    except (targets.TargetError, shards.ShardError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TutorialBuildError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except TutorialError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
