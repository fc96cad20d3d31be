"""Split the stale tutorials of a build over machines, longest first.

Each machine (a CI runner, a shard) executes its share into a cache of its own; the shares
are merged by copying entry folders (`cache.merge`) and a render that executes nothing
(``TUTORIAL_EXECUTE=never``) publishes the site from them.

The share comes from longest-processing-time-first packing: the tutorials sorted by how
long they take, each given to the shard with the least work so far. How long a tutorial
takes is its newest run in the cache (on the same device type), else the committed timings
file (``.tutorial_durations``, refreshed with ``--write-timings``), else the median of the
others. Packing is deterministic (ties go by name, then to the lowest shard), so every
runner that computes the plan from the same cache and timings gets the same shares.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from .cache import NotebookCache

#: The committed timings file, at the repository's root (not in tutorials/: every file there
#: is part of the cache keys of the tutorials beside it).
TIMINGS_FILE = ".tutorial_durations"
_SHARD = re.compile(r"^(\d+)/(\d+)$")


class ShardError(ValueError):
    """A malformed ``--shard I/N``."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3): the second of three shards."""
    match = _SHARD.match(text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ShardError(f"--shard {text!r}: write I/N with 1 <= I <= N, such as 2/3")
    return int(match.group(1)), int(match.group(2))


def read_timings(path: Path, kind: str = "cpu") -> dict[str, float]:
    """Seconds per tutorial stem on device type ``kind`` from a timings file (``{"cpu":
    {"01_tensors": 3.2, ...}, "cuda": {...}}``), or {} if there is none."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {str(stem): float(seconds) for stem, seconds in data.get(kind, {}).items()}


def write_timings(path: Path, seconds: dict[str, float], kind: str = "cpu") -> None:
    """Write ``seconds`` (stem -> seconds on device type ``kind``) into the timings file,
    over its current entries for that type."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    merged = {**data.get(kind, {}), **{stem: round(t, 1) for stem, t in seconds.items()}}
    data[kind] = dict(sorted(merged.items()))
    path.write_text(json.dumps(dict(sorted(data.items())), indent=2) + "\n", encoding="utf-8")


def estimates(
    stems: list[str], cache: NotebookCache, timings: dict[str, float], target: str
) -> dict[str, float]:
    """How long each of ``stems`` is expected to take on ``target`` (see the module doc)."""
    known: dict[str, float] = {}
    for stem in stems:
        seconds = cache.last_seconds(stem, target)
        if seconds is not None:
            known[stem] = seconds
        elif stem in timings:
            known[stem] = timings[stem]
    fallback = statistics.median(known.values()) if known else 1.0
    return {stem: known.get(stem, fallback) for stem in stems}


def pack(seconds: dict[str, float], shards: int) -> list[list[str]]:
    """Longest-processing-time-first: each tutorial, longest first, to the least-loaded
    shard. Returns each shard's stems, longest first."""
    loads = [0.0] * shards
    shares: list[list[str]] = [[] for _ in range(shards)]
    for stem in sorted(seconds, key=lambda s: (-seconds[s], s)):
        emptiest = min(range(shards), key=lambda i: (loads[i], i))
        shares[emptiest].append(stem)
        loads[emptiest] += seconds[stem]
    return shares


def makespan(seconds: dict[str, float], shares: list[list[str]]) -> float:
    """The longest shard's total."""
    return max((sum(seconds[s] for s in share) for share in shares), default=0.0)


def lower_bound(seconds: dict[str, float], shards: int) -> float:
    """No packing beats max(longest tutorial, total / shards)."""
    if not seconds:
        return 0.0
    return max(max(seconds.values()), sum(seconds.values()) / shards)


@dataclass(frozen=True)
class ShardPlan:
    """The shares of ``shards`` machines for one target."""

    target: str
    stale: list[str]
    seconds: dict[str, float]
    shares: list[list[str]]

    def as_json(self) -> dict:
        """For CI: the stale tutorials and a matrix with one entry per shard that has work."""
        total = len(self.shares)
        include = [
            {
                "shard": f"{index}/{total}",
                "tutorials": " ".join(share),
                "estimated_seconds": round(sum(self.seconds[s] for s in share), 1),
            }
            for index, share in enumerate(self.shares, start=1)
            if share
        ]
        return {
            "target": self.target,
            "stale": self.stale,
            "estimated_makespan": round(makespan(self.seconds, self.shares), 1),
            "matrix": {"include": include},
        }


def plan_shards(
    stale: list[str], cache: NotebookCache, *, timings: dict[str, float], target: str, shards: int
) -> ShardPlan:
    seconds = estimates(stale, cache, timings, target)
    return ShardPlan(target, stale, seconds, pack(seconds, shards))
