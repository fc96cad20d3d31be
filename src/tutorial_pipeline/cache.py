"""A cache of executed notebooks, keyed by everything that can change a tutorial's output.

The key hashes the script's bytes, the pipeline's own code, the cell timeout and the
installed distributions (every ``name==version`` in the environment, torch and torchvision
among them, plus the Python version). Editing one tutorial changes only its key; upgrading
any package changes every key.

Entries are written atomically (temporary file, then rename) and only after a successful
run, so a failed or interrupted run never lands in the cache. The record holds the
notebook's SHA-256: an entry that cannot be read, or whose notebook does not match its
record (a full disk, an interrupted copy, a partial CI cache restore), is a miss, and the
tutorial runs again and replaces it. A lock per tutorial lets
several builds (``mkdocs serve`` and a test run, say) share one cache without running the
same tutorial twice.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from filelock import FileLock

GLUE_DIR = Path(__file__).resolve().parent
log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")

#: Cached runs kept per tutorial (older ones, from other scripts or environments, go).
KEEP_PER_TUTORIAL = 3

#: Packages named on the build report, in this order, when installed.
REPORTED_PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "scikit-learn")


def _sha256(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def installed_distributions() -> list[str]:
    """Every installed distribution as ``name==version``, sorted."""
    return sorted(
        {
            f"{dist.metadata['Name'].lower().replace('_', '-')}=={dist.version}"
            for dist in importlib.metadata.distributions()
            if dist.metadata["Name"]
        }
    )


def environment_fingerprint() -> str:
    """A hash of the interpreter and the installed distributions."""
    return _sha256(sys.version, platform.machine(), *installed_distributions())


#: The pipeline modules that decide what a notebook holds once executed. The others (page
#: slimming, report, hook) act on every build anyway and do not invalidate the cache.
EXECUTION_MODULES = (
    "cache.py",
    "convert.py",
    "errors.py",
    "execute.py",
    "pipeline.py",
    "rst.py",
    "apiref.py",
    "forkserver.py",
)


def glue_fingerprint() -> str:
    """A hash of the pipeline's execution code, so that changing it re-runs everything."""
    files = [GLUE_DIR / name for name in EXECUTION_MODULES]
    return _sha256(*(f"{p.name}\n{p.read_text(encoding='utf-8')}" for p in files))


def reported_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def companions(script: Path) -> list[Path]:
    """The files next to ``script`` that can change what it prints: the helper modules it
    imports (and those they import), and the data files beside it (not the other tutorials,
    nor helpers it does not import)."""
    folder = script.parent
    found: set[Path] = set()
    todo = [script]
    while todo:
        source = todo.pop()
        for name in _imported_names(source):
            helper = folder / f"{name}.py"
            if helper.is_file() and helper != script and helper not in found:
                found.add(helper)
                todo.append(helper)
    data = {p for p in folder.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc")}
    return sorted(found | data)


def imported_modules(path: Path) -> set[str]:
    """The modules ``path`` imports by absolute name (``import a.b``, ``from a.b import c``:
    ``a.b``), anywhere in the file."""
    import ast

    try:
        tree = ast.parse(path.read_bytes())
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _imported_names(path: Path) -> set[str]:
    """Top-level module names that ``path`` imports."""
    return {name.split(".")[0] for name in imported_modules(path)}


def cache_key(script: Path, *, environment: str, timeout: float) -> str:
    """Changes with the script, a helper module or data file next to it, the environment, the
    pipeline's execution code and the cell timeout."""
    beside = [f"{p.name}\n".encode() + p.read_bytes() for p in companions(script)]
    return _sha256(
        script.read_bytes(), *beside, environment, glue_fingerprint(), f"timeout={timeout!r}"
    )


@dataclass(frozen=True)
class Record:
    """What the cache knows about one executed tutorial."""

    stem: str
    key: str
    seconds: float
    peak_memory: int
    device: str | None
    executed_at: str
    notebook: str  # path of the executed notebook
    sha256: str = ""  # of the notebook file's bytes
    threads: int = 1  # CPU threads the kernel was given
    #: Modules the tutorial imports that were imported before it ran (a forked kernel):
    #: ``seconds`` does not include importing them.
    preloaded: list[str] = field(default_factory=list)

    @property
    def notebook_path(self) -> Path:
        return Path(self.notebook)


class NotebookCache:
    """Executed notebooks on disk: ``<root>/<stem>-<key>.ipynb`` plus a ``.json`` record."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _paths(self, stem: str, key: str) -> tuple[Path, Path]:
        base = self.root / f"{stem}-{key[:24]}"
        return base.with_suffix(".ipynb"), base.with_suffix(".json")

    def _prune(self, stem: str) -> None:
        """Keep the newest few runs of ``stem``: enough for builds with other environments
        (a second checkout, a test run) that share this cache to find theirs."""
        for record in _entries(self.root, stem)[KEEP_PER_TUTORIAL:]:
            record.unlink(missing_ok=True)
            record.with_suffix(".ipynb").unlink(missing_ok=True)

    def lock(self, stem: str) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(self.root / f"{stem}.lock")

    def has(self, stem: str, key: str) -> bool:
        """Whether an entry for ``key`` exists (unchecked: `load` checks it)."""
        return all(path.is_file() for path in self._paths(stem, key))

    def last_seconds(self, stem: str) -> float | None:
        """How long ``stem``'s newest cached run took, whatever its key, or None if it has
        none: a script edit, a package upgrade or a pipeline change makes a tutorial stale but
        leaves its past runs here (`KEEP_PER_TUTORIAL`), which tell roughly how long it takes."""
        for meta in _entries(self.root, stem):
            try:
                return float(json.loads(meta.read_text(encoding="utf-8"))["seconds"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return None

    def load(self, stem: str, key: str) -> Record | None:
        """The cached run of ``stem`` for ``key``, or None: absent, unreadable or damaged
        entries are misses (a damaged one is logged and removed)."""
        notebook, meta = self._paths(stem, key)
        if not (notebook.is_file() and meta.is_file()):
            return None
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            record = Record(**{**data, "notebook": str(notebook)})
            intact = record.key == key and record.sha256 == _sha256_file(notebook)
            if intact:
                nbformat.read(notebook, as_version=4)
        except Exception as exc:  # unreadable JSON, a record of another shape, a bad notebook
            intact, reason = False, f"{type(exc).__name__}"
        else:
            reason = "the notebook does not match its record"
        if not intact:
            log.info("%s: cache entry %s is damaged (%s); executing again", stem, meta.name, reason)
            meta.unlink(missing_ok=True)
            notebook.unlink(missing_ok=True)
            return None
        return record

    def store(
        self,
        stem: str,
        key: str,
        notebook: nbformat.NotebookNode,
        *,
        seconds: float,
        peak_memory: int,
        device: str | None,
        executed_at: str,
        threads: int = 1,
        preloaded: list[str] = (),
    ) -> Record:
        notebook_path, meta_path = self._paths(stem, key)
        text = nbformat.writes(notebook) + "\n"
        record = Record(
            stem,
            key,
            seconds,
            peak_memory,
            device,
            executed_at,
            str(notebook_path),
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            threads=threads,
            preloaded=list(preloaded),
        )
        self.root.mkdir(parents=True, exist_ok=True)
        # The notebook first, the record last: a record only exists for a complete notebook.
        _atomic_write(notebook_path, text)
        _atomic_write(meta_path, json.dumps(asdict(record), indent=2) + "\n")
        self._prune(stem)
        return record


def _entries(root: Path, stem: str) -> list[Path]:
    """The ``.json`` records of ``stem``'s cached runs, newest first."""
    records = [p for p in root.glob(f"{stem}-*.json") if p.stem.rsplit("-", 1)[0] == stem]
    return sorted(records, key=lambda p: p.stat().st_mtime, reverse=True)


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
