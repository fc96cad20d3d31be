"""Every use of another package's internals goes through one adapter module per package
(src/tutorial_pipeline/adapters/), and each adapter's upstream names are still there."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from tutorial_pipeline import adapters

pytestmark = pytest.mark.docs

SOURCES = Path(adapters.__file__).resolve().parent.parent
ADAPTERS = sorted(info.name for info in pkgutil.iter_modules([str(Path(adapters.__file__).parent)]))
UPSTREAM = [
    pytest.param(name, upstream, id=upstream.name)
    for name in ADAPTERS
    for upstream in importlib.import_module(f"tutorial_pipeline.adapters.{name}").UPSTREAM
]


@pytest.mark.parametrize(("adapter", "upstream"), UPSTREAM)
def test_the_upstream_names_each_adapter_uses_are_still_there(adapter, upstream):
    problem = upstream.problem()
    assert problem is None, (
        f"{problem}: an upgrade changed what src/tutorial_pipeline/adapters/{adapter}.py "
        "relies on; adapt that module (and its UPSTREAM list) to the new version"
    )


def test_a_changed_upstream_is_reported_with_its_name():
    gone = adapters.Upstream("json:not_there")
    assert gone.problem().startswith("json:not_there is gone (AttributeError")
    changed = adapters.Upstream("json:dumps", ("something", "else"))
    assert changed.problem() == (
        "json:dumps now takes ('obj', 'skipkeys', 'ensure_ascii', 'check_circular', "
        "'allow_nan', 'cls', 'indent', 'separators', 'default', 'sort_keys', 'kw'), "
        "not ('something', 'else')"
    )


def test_no_module_outside_the_adapters_touches_what_they_wrap():
    """The private names the adapters use, and the packages whose internals they wrap, are
    named nowhere else in the pipeline."""
    private = {param.values[1].name.rpartition(":")[2].rpartition(".")[2] for param in UPSTREAM}
    private = {name for name in private if name.startswith("_")}
    wrapped = {"sphinx_gallery", "mkdocs_jupyter", "mkdocs_git_revision_date_localized_plugin"}
    # The fork server's child runs in a bare interpreter that cannot import this package
    # (adapters/python.py says so): the one call of a CPython internal outside the adapters.
    allowed = {("forkserver.py", "_run_exitfuncs")}
    offenders = []
    for path in sorted(SOURCES.glob("*.py")):
        text = path.read_text()
        for name in private:
            if re.search(rf"\b{re.escape(name)}\b", text) and (path.name, name) not in allowed:
                offenders.append(f"{path.name}: {name}")
        for package in wrapped:
            if re.search(rf"^\s*(?:from|import) {package}\b", text, re.M):
                offenders.append(f"{path.name}: imports {package}")
    assert not offenders, offenders
