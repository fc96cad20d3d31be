"""The author's loop (issue 18): what the cache key covers, and the render side's contact
with other packages."""

from __future__ import annotations

import shutil

import pytest

from tutorial_pipeline import cache as cache_module

pytestmark = pytest.mark.docs


def test_the_modules_in_the_key_are_derived_from_what_execution_imports(tmp_path, monkeypatch):
    derived = set(cache_module.execution_modules())
    core = {"pipeline.py", "execute.py", "convert.py", "cache.py", "forkserver.py", "target.py"}
    assert core <= derived
    render_only = {"html.py", "publish.py", "gallery.py", "report.py", "mkdocs_hook.py"}
    assert not derived & render_only

    # A module the execution starts to import, even inside a function, joins the key.
    glue = tmp_path / "tutorial_pipeline"
    shutil.copytree(cache_module.GLUE_DIR, glue, ignore=shutil.ignore_patterns("__pycache__"))
    (glue / "newhelper.py").write_text("VALUE = 1\n")
    execute = glue / "execute.py"
    execute.write_text(execute.read_text() + "\n\ndef _uses():\n    from . import newhelper\n")
    monkeypatch.setattr(cache_module, "GLUE_DIR", glue)
    assert set(cache_module.execution_modules()) == derived | {"newhelper.py"}
    before = cache_module.glue_fingerprint()
    (glue / "newhelper.py").write_text("VALUE = 2\n")
    changed = cache_module.glue_fingerprint()
    assert changed != before
    (glue / "html.py").write_text("# a page-layout change\n")
    assert cache_module.glue_fingerprint() == changed, "page layout does not re-execute"
