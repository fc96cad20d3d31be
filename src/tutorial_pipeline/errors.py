"""The one exception the pipeline raises for a broken tutorial."""

from __future__ import annotations

from pathlib import Path


class TutorialError(Exception):
    """A tutorial that cannot be converted or executed, located by file and line.

    ``str(error)`` reads ``tutorials/01_tensors.py:42: RuntimeError: planted``, the form
    editors and CI logs turn into a link; ``details`` holds the cleaned traceback if any.
    """

    def __init__(self, path: Path | None, line: int | None, message: str, details: str = ""):
        self.path = path
        self.line = line
        self.message = message
        self.details = details
        super().__init__(self.location + ": " + message)

    @property
    def location(self) -> str:
        where = _display_path(self.path) if self.path else "<tutorial>"
        return f"{where}:{self.line}" if self.line else where

    def report(self) -> str:
        """The one-line summary followed by the traceback, for build logs."""
        return f"{self}\n{self.details}".rstrip()


def _display_path(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
