"""A cache of executed notebooks, keyed by everything that can change a tutorial's output.

The key hashes the script's bytes, the helper modules and data files beside it, the
pipeline's own execution code, the cell timeout, the installed distributions (every
``name==version`` in the environment, torch and torchvision among them, plus the Python
version), the execution target (``cpu``, ``cuda:<device name>``: `tutorial_pipeline.target`)
and the CPU threads a kernel gets. Editing one tutorial changes only its key; upgrading any
package changes every key; a run on a GPU never serves a CPU build, nor the reverse.

An entry is a folder named by its tutorial and key, ``entries/<stem>-<key>/``, holding the
executed notebook and a record (``record.json``: target, threads, run time, peak memory, the
notebook's SHA-256, ...). It holds no path of the machine that made it and never changes once
written, so caches made on different machines merge by copying folders (`merge`), which
checks every entry against its record and refuses one that does not match.

Entries are written atomically (a temporary folder, then rename) and only after a successful
run, so a failed or interrupted run never lands in the cache. An entry that cannot be read,
or whose notebook does not match its record (a full disk, an interrupted copy, a partial CI
cache restore), is a miss, and the tutorial runs again and replaces it. A lock per tutorial
lets several builds (``mkdocs serve`` and a test run, say) share one cache without running
the same tutorial twice.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
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


_HEADER = re.compile(r"^(Name|Version):[ \t]*(\S.*?)\s*$", re.M)


def installed_distributions() -> list[str]:
    """Every installed distribution as ``name==version``, sorted. Read from the headers of
    each one's METADATA: `importlib.metadata`'s parse of the whole file (an email message)
    took a third of a second for an environment's 170 distributions, on every build."""
    found = set()
    for dist in importlib.metadata.distributions():
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
        headers = dict(_HEADER.findall(text.split("\n\n", 1)[0]))
        if headers.get("Name") and headers.get("Version"):
            found.add(f"{headers['Name'].lower().replace('_', '-')}=={headers['Version']}")
    return sorted(found)


def environment_fingerprint() -> str:
    """A hash of the interpreter (implementation, version, machine type: not its build date or
    compiler, which differ between runners of one locked environment) and the installed
    distributions."""
    return _sha256(
        platform.python_implementation(),
        platform.python_version(),
        platform.machine(),
        *installed_distributions(),
    )


#: Where the build executes tutorials: what it imports, directly or not, at module level or
#: inside a function, decides what an executed notebook holds. The other modules (page
#: layout, publishing, report, hook) act on every build anyway and do not invalidate it.
EXECUTION_ROOT = "pipeline.py"


def _module_file(dotted: str) -> str | None:
    """The file of the package's module ``dotted`` (``adapters.sphinx_gallery``), relative to
    the package, or None."""
    path = dotted.replace(".", "/")
    if (GLUE_DIR / path / "__init__.py").is_file():
        return f"{path}/__init__.py"
    if (GLUE_DIR / f"{path}.py").is_file():
        return f"{path}.py"
    return None


#: `execution_modules`' last answer, by the stat of every module of the package: a build
#: asks once per tutorial, and parsing the package each time took 0.3 s.
_MODULES_MEMO: dict[tuple, list[str]] = {}


def execution_modules() -> list[str]:
    """The files of the pipeline's modules that ``EXECUTION_ROOT`` imports, transitively
    (relative imports of this package found in the source, at module level or inside a
    function; subpackages and their ``__init__`` included), itself included: derived, so a
    module the execution starts to use is in the cache key without anyone listing it.
    Parsed again whenever a module of the package is added, removed or written."""
    signature = (
        str(GLUE_DIR),
        EXECUTION_ROOT,
        *(
            (str(path), stat.st_mtime_ns, stat.st_size)
            for path in sorted(GLUE_DIR.rglob("*.py"))
            for stat in [path.stat()]
        ),
    )
    if signature not in _MODULES_MEMO:
        _MODULES_MEMO.clear()
        _MODULES_MEMO[signature] = _parse_execution_modules()
    return list(_MODULES_MEMO[signature])


def _parse_execution_modules() -> list[str]:
    import ast

    found: set[str] = set()
    todo = [EXECUTION_ROOT.removesuffix(".py")]
    while todo:
        module = todo.pop()
        file = _module_file(module)
        if not module or file is None or file in found:
            continue
        found.add(file)
        package = module if file.endswith("__init__.py") else module.rpartition(".")[0]
        for node in ast.walk(ast.parse((GLUE_DIR / file).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            parts = target.split(".") if target else []
            todo += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
            todo += [".".join([*parts, alias.name]) for alias in node.names]
    return sorted(found)


def glue_fingerprint() -> str:
    """A hash of the pipeline's execution code, so that changing it re-runs everything."""
    return _sha256(
        *(
            f"{name}\n{(GLUE_DIR / name).read_text(encoding='utf-8')}"
            for name in execution_modules()
        )
    )


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


def cache_key(
    script: Path, *, environment: str, timeout: float, target: str = "cpu", threads: int = 1
) -> str:
    """Changes with what the script executes (its code cells, hidden lines and in-file
    config: `convert.execution_source`; not its prose, title or intro), a helper module or
    data file next to it, the environment, the pipeline's execution code, the cell timeout,
    the target and the kernel's CPU threads."""
    from .convert import execution_source

    beside = [f"{p.name}\n".encode() + p.read_bytes() for p in companions(script)]
    return _sha256(
        execution_source(script),
        *beside,
        environment,
        glue_fingerprint(),
        f"timeout={timeout!r}",
        f"target={target}",
        f"threads={threads}",
    )


#: The files of an entry folder.
NOTEBOOK, RECORD = "notebook.ipynb", "record.json"
#: The folder of a cache that holds its entries.
ENTRIES = "entries"
#: The folder of a cache that holds mkdocs-jupyter's rendered pages (its own cache, keyed by
#: a hash of the published notebook and the render settings: `prerender`).
PAGES = "html"
#: The folder of a cache that holds each run with its script's text as it is now (`refresh`),
#: named by the script's bytes and the entry's key.
CURRENT = "current"
#: Files a shard makes beside its entries, named by what they were made from, so that a copy
#: is never stale: a merge copies the ones the cache lacks.
DERIVED = {PAGES: "*.json", CURRENT: "*.ipynb"}


@dataclass(frozen=True)
class Record:
    """What the cache knows about one executed tutorial (``record.json``, less ``notebook``,
    which is where this machine keeps the entry)."""

    stem: str
    key: str
    target: str  # "cpu", "cuda:NVIDIA H100 80GB HBM3", ... (tutorial_pipeline.target)
    threads: int  # CPU threads the kernel was given
    seconds: float
    peak_memory: int
    device: str | None  # the device type torch picked in the kernel; None without torch
    executed_at: str
    sha256: str  # of the notebook file's bytes
    #: Modules the tutorial imports that were imported before it ran (a forked kernel):
    #: ``seconds`` does not include importing them.
    preloaded: list[str] = field(default_factory=list)
    notebook: str = ""  # path of the executed notebook on this machine (not stored)

    @property
    def notebook_path(self) -> Path:
        return Path(self.notebook)

    def stored(self) -> dict:
        data = asdict(self)
        del data["notebook"]
        return data


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """A notebook this build wrote (checked by its SHA-256, or named by its content):
    parsed, not validated again against nbformat's schema, which for a notebook of figures
    takes longer than everything else a no-change rebuild does with it."""
    return nbformat.v4.reads(Path(path).read_text(encoding="utf-8"))


class EntryError(Exception):
    """An entry folder that does not hold what its name and record say."""


def entry_name(stem: str, key: str) -> str:
    return f"{stem}-{key}"


def check_entry(folder: Path) -> Record:
    """The record of the entry in ``folder``, after checking that the folder is named by the
    record's tutorial and key and that the notebook is the one the record describes (its
    SHA-256) and readable. Raises `EntryError` saying what is wrong."""
    folder = Path(folder)
    notebook, meta = folder / NOTEBOOK, folder / RECORD
    if not (notebook.is_file() and meta.is_file()):
        missing = [p.name for p in (notebook, meta) if not p.is_file()]
        raise EntryError(f"{' and '.join(missing)} missing")
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        record = Record(**{**data, "notebook": str(notebook)})
    except (ValueError, TypeError) as exc:
        raise EntryError(f"unreadable record ({type(exc).__name__}: {exc})") from None
    if folder.name != entry_name(record.stem, record.key):
        raise EntryError(f"the folder's name does not match the record's key {record.key[:12]}")
    if _sha256_file(notebook) != record.sha256:
        raise EntryError("the notebook does not match the SHA-256 in its record")
    try:
        read_notebook(notebook)
    except Exception as exc:  # a notebook of the right hash but not a notebook
        raise EntryError(f"unreadable notebook ({type(exc).__name__})") from None
    return record


class NotebookCache:
    """Executed notebooks on disk: ``<root>/entries/<stem>-<key>/`` (see the module doc)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.entries = self.root / ENTRIES

    def folder(self, stem: str, key: str) -> Path:
        return self.entries / entry_name(stem, key)

    def lock(self, stem: str) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(self.root / f"{stem}.lock")

    def has(self, stem: str, key: str) -> bool:
        """Whether an entry for ``key`` exists (unchecked: `load` checks it)."""
        folder = self.folder(stem, key)
        return (folder / NOTEBOOK).is_file() and (folder / RECORD).is_file()

    def records(self, stem: str) -> list[Record]:
        """The readable records of ``stem``'s entries, newest first (unchecked)."""
        found = []
        for meta in self.entries.glob(f"{stem}-*/{RECORD}"):
            if meta.parent.name.rsplit("-", 1)[0] != stem:
                continue
            try:
                data = json.loads(meta.read_text(encoding="utf-8"))
                found.append(Record(**{**data, "notebook": str(meta.parent / NOTEBOOK)}))
            except (OSError, ValueError, TypeError):
                continue
        return sorted(found, key=lambda r: (r.executed_at, r.key), reverse=True)

    def last_seconds(self, stem: str, target: str | None = None) -> float | None:
        """How long ``stem``'s newest cached run took, whatever its key (on ``target``'s device
        type, if given), or None if it has none: a script edit, a package upgrade or a
        pipeline change makes a tutorial stale but leaves its past runs here
        (`KEEP_PER_TUTORIAL` per target), which tell roughly how long it takes."""
        records = self.records(stem)
        if target is not None:
            kind = target.split(":", 1)[0]
            records = [r for r in records if r.target.split(":", 1)[0] == kind]
        return records[0].seconds if records else None

    def load(self, stem: str, key: str) -> Record | None:
        """The cached run of ``stem`` for ``key``, or None: absent, unreadable or damaged
        entries are misses (a damaged one is logged and removed)."""
        folder = self.folder(stem, key)
        if not folder.is_dir():
            return None
        try:
            record = check_entry(folder)
        except EntryError as exc:
            log.info("%s: cache entry %s is damaged (%s); executing again", stem, folder.name, exc)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return record

    def store(
        self,
        stem: str,
        key: str,
        notebook: nbformat.NotebookNode,
        *,
        target: str,
        threads: int,
        seconds: float,
        peak_memory: int,
        device: str | None,
        executed_at: str,
        preloaded: list[str] = (),
    ) -> Record:
        folder = self.folder(stem, key)
        text = nbformat.writes(notebook) + "\n"
        record = Record(
            stem=stem,
            key=key,
            target=target,
            threads=threads,
            seconds=seconds,
            peak_memory=peak_memory,
            device=device,
            executed_at=executed_at,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            preloaded=list(preloaded),
            notebook=str(folder / NOTEBOOK),
        )
        self.entries.mkdir(parents=True, exist_ok=True)
        # Written whole in a temporary folder, then renamed: an entry is complete or absent.
        staging = Path(tempfile.mkdtemp(dir=self.entries, prefix=f".{folder.name}."))
        try:
            (staging / NOTEBOOK).write_text(text, encoding="utf-8", newline="\n")
            (staging / RECORD).write_text(
                json.dumps(record.stored(), indent=2) + "\n", encoding="utf-8", newline="\n"
            )
            shutil.rmtree(folder, ignore_errors=True)  # a damaged entry of the same key
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._prune(stem, target)
        return record

    def _prune(self, stem: str, target: str) -> None:
        """Keep the newest few runs of ``stem`` on ``target``: enough for builds with other
        environments (a second checkout, a test run) that share this cache to find theirs."""
        same = [r for r in self.records(stem) if r.target == target]
        for record in same[KEEP_PER_TUTORIAL:]:
            shutil.rmtree(record.notebook_path.parent, ignore_errors=True)


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class MergeReport:
    """What `merge` did: entries copied, entries already there, and entries refused (one
    line each, naming the entry and why)."""

    copied: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    derived: int = 0  # rendered pages and refreshed notebooks copied


def source_entries(source: Path) -> list[Path]:
    """The entry folders of ``source``: a cache (its ``entries/`` folder) or a folder of
    caches, such as the shards' artifacts downloaded side by side."""
    source = Path(source)
    if (source / ENTRIES).is_dir():
        return sorted(p for p in (source / ENTRIES).iterdir() if not p.name.startswith("."))
    if source.is_dir():
        return [entry for child in sorted(source.iterdir()) for entry in source_entries(child)]
    return []


def merge(into: Path, sources: list[Path]) -> MergeReport:
    """Copy every entry of ``sources`` into the cache at ``into``, checking each one first
    (`check_entry`). An entry that fails the check, or whose key is already in ``into`` (or
    earlier in ``sources``) with other bytes, is refused and not copied."""
    report = MergeReport()
    cache = NotebookCache(into)
    cache.entries.mkdir(parents=True, exist_ok=True)
    for source in sources:
        if not Path(source).is_dir():
            report.refused.append(f"{source}: no such folder")
            continue
        for entry in source_entries(source):
            try:
                record = check_entry(entry)
            except EntryError as exc:
                report.refused.append(f"{entry}: {exc}")
                continue
            target = cache.folder(record.stem, record.key)
            if target.is_dir():
                ours = (target / NOTEBOOK).read_bytes() if (target / NOTEBOOK).is_file() else b""
                if ours == (entry / NOTEBOOK).read_bytes():
                    report.present.append(entry.name)
                else:
                    report.refused.append(
                        f"{entry}: the cache already holds key {record.key[:12]} with other "
                        "bytes (two runs of one key: keep one)"
                    )
                continue
            staging = Path(tempfile.mkdtemp(dir=cache.entries, prefix=f".{entry.name}."))
            try:
                for name in (NOTEBOOK, RECORD):
                    shutil.copyfile(entry / name, staging / name)
                os.replace(staging, target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            report.copied.append(entry.name)
        report.derived += _merge_derived(cache.root, source)
    return report


def _merge_derived(into: Path, source: Path) -> int:
    """Copy the derived files of ``source`` (a cache or a folder of caches: `DERIVED`, the
    rendered pages and the refreshed notebooks) that the cache at ``into`` lacks. They are
    named by a hash of what they were made from, so one of another notebook is never used;
    one that cannot be read fails the render loudly. Also the API-lookup memos, merged."""
    source = Path(source)
    roots = [source] if (source / ENTRIES).is_dir() else sorted(p for p in source.iterdir())
    copied = 0
    for root in (r for r in roots if r.is_dir()):
        for folder, pattern in DERIVED.items():
            for made in sorted((root / folder).glob(pattern)):
                target = into / folder / made.name
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(made, target)
                    copied += 1
        for memo in root.glob("apiref-*.json"):
            _merge_memo(memo, into / memo.name)
    return copied


def _merge_memo(memo: Path, target: Path) -> None:
    """The union of two API-lookup memos of the same environment (`apiref.use_memo`)."""
    try:
        theirs = json.loads(memo.read_text(encoding="utf-8"))
        ours = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
    except ValueError:
        return  # a damaged memo only costs a lookup
    write_atomic(target, json.dumps({**theirs, **ours}, sort_keys=True))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file beside it, then a
    rename): a reader, or a build running at the same time, never sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
