"""Every use of another package's internals, one module per package.

The build leans on a few functions and attributes that their packages do not document as
API (mkdocs-jupyter's render cache, sphinx-gallery's parser, nbclient's and jupyter_client's
kernel handling, IPython's cell names, the git-revision plugin's dates). Each is reached
through the module here named after its package, and nowhere else, so an upgrade that moves
one breaks one small module. Each module lists what it uses in ``UPSTREAM`` (the dotted
name and the parameters it is called with); ``tests/test_adapters.py`` checks every entry
against the installed packages and fails naming the upstream function and this adapter.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    """One internal name another package must still have: ``module:attribute.path``, and
    the parameters (in order) it is called with, if it is called."""

    name: str
    parameters: tuple[str, ...] | None = None
    #: An attribute its instances (made with no arguments) must have.
    instance_attribute: str | None = None

    def find(self) -> object:
        module, _, path = self.name.partition(":")
        found: object = importlib.import_module(module)
        for part in filter(None, path.split(".")):
            found = getattr(found, part)
        return found

    def problem(self) -> str | None:
        """Why the installed package no longer offers this, or None."""
        try:
            found = self.find()
        except (ImportError, AttributeError) as exc:
            return f"{self.name} is gone ({type(exc).__name__}: {exc})"
        if self.instance_attribute is not None:
            try:
                instance = found()
            except Exception as exc:
                return f"{self.name}() fails ({type(exc).__name__}: {exc})"
            if not hasattr(instance, self.instance_attribute):
                return f"{self.name}() objects no longer have {self.instance_attribute}"
        if self.parameters is None:
            return None
        try:
            names = tuple(inspect.signature(found).parameters)
        except (TypeError, ValueError):
            return f"{self.name} is no longer a function"
        if names[: len(self.parameters)] != self.parameters:
            return f"{self.name} now takes {names}, not {self.parameters}"
        return None
