"""Load a tutorial's exercise checkers without running the whole tutorial.

An exercise cell is self-contained (see README, "Exercises"): it imports what it uses, defines
a ``check_*`` function and the reader's starter, and calls the checker on the starter. Here
every cell of ``tutorials/<stem>.py`` that defines a ``check_*`` function is executed alone, in
a fresh namespace, with its output swallowed, and the checkers are returned by name, so a test
can call each one with a wrong answer and see it rejected. ``load_solution`` runs one exercise
cell with the reference solution after it, so a test can show the checker accepts that.

Only the standard library is used, so these tests also run in the `gpu` session.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# sphinx-gallery's cell separators: "# %%" (with anything after it) or a line of 20+ '#'.
_SEPARATOR = re.compile(r"^(# ?%%.*|#{20,}.*)$")


def cells(script: Path) -> list[tuple[int, str]]:
    """The script split at cell separators, as (first line number, source) pairs."""
    chunks: list[tuple[int, list[str]]] = [(1, [])]
    for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), start=1):
        if _SEPARATOR.match(line):
            chunks.append((number, []))
        chunks[-1][1].append(line)
    return [(start, "\n".join(lines) + "\n") for start, lines in chunks]


def _defines_checker(source: str) -> bool:
    tree = ast.parse(source)
    return any(
        isinstance(node, ast.FunctionDef) and node.name.startswith("check_") for node in tree.body
    )


def load_checkers(stem: str) -> Mapping[str, Callable[..., bool]]:
    """Every ``check_*`` function of ``tutorials/<stem>.py`` by name, loaded on first use: the
    exercise cells run their starters (a training step, Lightning's import), which a test
    worker that only collects the module, and runs none of its tests, should not pay for."""
    return _Checkers(stem)


class _Checkers(Mapping):
    def __init__(self, stem: str):
        self.stem = stem

    @functools.cached_property
    def _loaded(self) -> dict[str, Callable[..., bool]]:
        return _load_checkers(self.stem)

    def __getitem__(self, name: str) -> Callable[..., bool]:
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded)

    def __len__(self) -> int:
        return len(self._loaded)


def _load_checkers(stem: str) -> dict[str, Callable[..., bool]]:
    script = ROOT / "tutorials" / f"{stem}.py"
    checkers: dict[str, Callable[..., bool]] = {}
    for start, source in cells(script):
        if not _defines_checker(source):
            continue
        # Pad with blank lines so that tracebacks point at the script's own line numbers.
        # dont_inherit: this file's `from __future__ import annotations` must not leak into
        # the tutorial's code (a dataclass in an exercise cell would break).
        code = compile("\n" * (start - 1) + source, str(script), "exec", dont_inherit=True)
        namespace: dict = {"__name__": f"exercise_{stem}", "__file__": str(script)}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)
        checkers.update(
            {name: value for name, value in namespace.items() if name.startswith("check_")}
        )
    if not checkers:
        raise LookupError(f"{script.name} defines no check_* function in an exercise cell")
    return checkers


_SOLUTION = re.compile(r'^# ?%%.*tags=\["solution"\]')


def load_solution(stem: str, checker: str) -> dict:
    """The namespace of the exercise whose cell defines ``checker``, after that cell and the
    reference solution after it (``# %% tags=["solution"]``) ran, with their output
    swallowed: the test then calls the checker on the reference answer. The solution cell's own
    ``assert check_...(...)`` runs too, so a checker that rejects it fails here already."""
    script = ROOT / "tutorials" / f"{stem}.py"
    chunks = cells(script)
    for index, (_, source) in enumerate(chunks):
        tree = ast.parse(source)
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        if checker not in names:
            continue
        if index + 1 == len(chunks) or not _SOLUTION.match(chunks[index + 1][1]):
            raise LookupError(f"{script.name}: no solution cell after the one defining {checker}")
        namespace: dict = {"__name__": f"exercise_{stem}", "__file__": str(script)}
        with contextlib.redirect_stdout(io.StringIO()):
            for cell_start, cell_source in chunks[index : index + 2]:
                padded = "\n" * (cell_start - 1) + cell_source
                exec(compile(padded, str(script), "exec", dont_inherit=True), namespace)
        return namespace
    raise LookupError(f"{script.name} defines no {checker} in an exercise cell")


def run_quietly(checker: Callable[..., bool], *args) -> tuple[bool, str]:
    """Call ``checker`` and return its verdict with what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        verdict = checker(*args)
    return verdict, out.getvalue()
