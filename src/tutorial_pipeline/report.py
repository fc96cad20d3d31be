"""The build report page: every tutorial with its status, run time and peak memory."""

from __future__ import annotations

import re

import nbformat

from .pipeline import TutorialResult

_H1 = re.compile(r"^#\s+(.+?)\s*$", re.M)


def notebook_title(result: TutorialResult) -> str:
    """The notebook's first level-1 heading (the tutorial's title), else the file name."""
    notebook = nbformat.read(result.notebook_path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = _H1.search(cell.source)
            if match:
                return match.group(1)
    return result.stem


def _when(timestamp: str) -> str:
    """``2026-11-22T05:40:35+00:00`` as ``2026-11-22 05:40``."""
    return timestamp.replace("T", " ")[:16]


def render_report(results: list[TutorialResult], versions: dict[str, str]) -> str:
    """Markdown for the report page."""
    lines = [
        "# Build report",
        "",
        "Every tutorial on this site is executed when the site is built; this page is written",
        "by that build. A tutorial runs again only when its script, the build pipeline or an",
        "installed package changes; otherwise its executed notebook is reused from the cache",
        "and the figures below are those of the run that produced it.",
        "",
        "| Tutorial | Status | Run time | Peak memory | Device | Executed at (UTC) |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for result in results:
        record = result.record
        status = "executed in this build" if result.executed else "up to date (cached)"
        lines.append(
            f"| [{notebook_title(result)}]({result.stem}.ipynb) | {status} "
            f"| {record.seconds:.1f} s | {record.peak_memory / 2**20:.0f} MB "
            f"| {(record.device or 'cpu').upper()} | {_when(record.executed_at)} |"
        )
    total = sum(r.record.seconds for r in results)
    lines += [
        "",
        f"**{len(results)} tutorials, {total:.1f} s of execution in total** (they run in "
        "parallel, one per core, so the build takes less wall time than this).",
        "",
        "Built with " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
        "",
    ]
    return "\n".join(lines)
