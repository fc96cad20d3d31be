"""The build report page: every tutorial with its status, run time and peak memory.

The page is kept out of the search index: its table names every tutorial, so it would rank
near the top for any of their titles.
"""

from __future__ import annotations

import html

from .gallery import Tutorial, generated_page
from .target import label


def _when(timestamp: str) -> str:
    """``2026-11-22T05:40:35+00:00`` as ``2026-11-22 05:40``."""
    return timestamp.replace("T", " ")[:16]


def render_report(
    tutorials: list[Tutorial],
    versions: dict[str, str],
    unresolved: list[dict] = (),
    warnings: list[dict] = (),
    truncations: dict[str, list] | None = None,
) -> str:
    """Markdown for the report page; ``unresolved`` lists the cross-references of the
    tutorials' prose that name nothing on this site (file, line, role, target), ``warnings``
    the warnings the build tolerated (file, line, message), and ``truncations`` the outputs
    each tutorial's page shows in part (`bound.Truncation`)."""
    results = [tutorial.result for tutorial in tutorials]
    lines = [
        *generated_page("Build report"),
        "Every tutorial on this site is executed when the site is built; this page is written",
        "by that build. A tutorial runs again only when its script, the build pipeline or an",
        "installed package changes; otherwise its executed notebook is reused from the cache",
        "and the figures below are those of the run that produced it.",
        "",
        "| Tutorial | Status | Run time | Peak memory | Target | Device | CPU threads "
        "| Executed at (UTC) |",
        "| --- | --- | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for tutorial in tutorials:
        result, record = tutorial.result, tutorial.result.record
        status = "executed in this build" if result.executed else "up to date (cached)"
        if result.wanted:
            status += f"; asks for a {result.wanted.upper()} run"
        lines.append(
            f"| [{tutorial.title}]({result.stem}.ipynb) | {status} "
            f"| {record.seconds:.1f} s | {record.peak_memory / 2**20:.0f} MB "
            f"| {label(record.target)} | {(record.device or 'cpu').upper()} | {record.threads} "
            f"| {_when(record.executed_at)} |"
        )
    total = sum(r.record.seconds for r in results)
    lines += [
        "",
        f"**{len(results)} tutorials, {total:.1f} s of execution in total** (they run in "
        "parallel, one per core, so the build takes less wall time than this). The build "
        "gives each tutorial's kernel its share of the CPU cores (the threads column, set "
        "through `OMP_NUM_THREADS`), so that parallel kernels do not fight over them.",
        "",
        "The target is the machine a tutorial's outputs were made on: the CPU, or a GPU "
        "named by its model. It is part of the cache key, so a run on one never stands in "
        "for a run on the other; a tutorial whose lesson is a GPU's numbers asks for its "
        'page to come from a GPU run (`# sphinx_gallery_publish_target = "cuda"`), which '
        "the site publishes when one exists, and its page says which run it shows.",
        "",
    ]
    if any(r.record.preloaded for r in results):
        lines += [
            "The kernels are forked from one process that has imported the libraries two or "
            "more tutorials use, so those imports happen once per build rather than once per "
            "tutorial. A run time therefore does not include importing them (the tutorial's "
            "page names them), while a peak memory does count them, all of them, including "
            "any the tutorial does not import.",
            "",
        ]
    lines += [
        "Built with " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
        "",
    ]
    # issue 9: cross-references that name nothing on this site render as their text.
    if unresolved:
        lines += [
            "## Unresolved references",
            "",
            "These references in the tutorials' text name no label or page of this site, so",
            "the pages show them as plain text:",
            "",
            "| Where | Reference |",
            "| --- | --- |",
        ]
        for item in unresolved:
            where = f"{item['file']}:{item['line']}"
            lines.append(f"| `{where}` | `:{item['role']}:` `{item['target']}` |")
        lines.append("")
    # issue 16: what Sphinx would have warned about and rendered anyway.
    if warnings:
        lines += [
            "## Tolerated warnings",
            "",
            "Sphinx, without `-W`, warns about these and renders the page anyway, and so does",
            "this build for tutorials that `strict_tutorials` in mkdocs.yml does not name:",
            "",
            "| Where | Warning |",
            "| --- | --- |",
        ]
        for item in warnings:
            message = html.escape(item["message"]).replace("|", "\\|")
            lines.append(f"| `{item['file']}:{item['line']}` | {message} |")
        lines.append("")
    shortened = [
        (tutorial, item)
        for tutorial in tutorials
        for item in (truncations or {}).get(tutorial.stem, [])
    ]
    if shortened:
        lines += [
            "## Outputs shown in part",
            "",
            "These outputs are too long to read on a page: the page shows their first and last",
            "lines (an image, a smaller copy), and the tutorial's downloadable notebook has",
            "them whole.",
            "",
            "| Where | Output | The page shows | Whole |",
            "| --- | --- | --- | ---: |",
        ]
        for tutorial, item in shortened:
            where = f"{tutorial.result.script.name}:{item.line}" if item.line else tutorial.stem
            lines.append(f"| `{where}` | {item.kind} | {item.shown} | {item.total} |")
        lines.append("")
    return "\n".join(lines)
