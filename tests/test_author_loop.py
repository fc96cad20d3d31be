"""The author's loop (issue 18): what the cache key covers, and the render side's contact
with other packages."""

from __future__ import annotations

import html
import re
import shutil

import nbformat
import pytest
from test_pipeline import mkdocs_build, mkdocs_project

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


# --- A prose edit renders from the cached run ------------------------------------------------

LOOP = '''"""
The loop
========

First intro sentence.
"""

# %%
# First cell
# ----------
# Some prose about the first cell.
import warnings

print("first output")

# %%
# Second cell
# -----------
# Prose about the second cell.
warnings.warn("a warning from the second cell")
print("second output")
'''


def _executed(result) -> int:
    return len(re.findall(r": executing$", result.stderr, re.M))


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture
def loop_project(tmp_path):
    project = mkdocs_project(tmp_path, {})
    (project / "tutorials/loop.py").write_text(LOOP)
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    assert _executed(result) == 1
    return project


def test_a_prose_edit_renders_from_the_cached_run_with_the_new_text(loop_project):
    script = loop_project / "tutorials/loop.py"
    text = script.read_text()
    text = text.replace("The loop\n========", "The edited loop\n===============")
    text = text.replace("First intro sentence.", "A new intro.\n\nWith a second paragraph.")
    text = text.replace("# Prose about the second cell.", "# Rewritten prose.\n# Over\n# lines.")
    script.write_text(text)
    result = mkdocs_build(loop_project)
    assert result.returncode == 0, result.stderr
    assert _executed(result) == 0, "prose is not in the key"
    page = (loop_project / "site/tutorials/loop/index.html").read_text()
    assert "The edited loop" in page and "A new intro." in page and "Rewritten prose." in page
    assert "Prose about the second cell" not in page
    assert "second output" in page, "the outputs are the cached run's"
    # A warning names the script line it came from, moved with its cell.
    line = _line_of(text, "warnings.warn(")
    assert f"loop.py:{line}: UserWarning: a warning from the second cell" in html.unescape(page)
    download = nbformat.read(loop_project / "site/tutorials/loop/loop.ipynb", as_version=4)
    prose = "\n".join(c.source for c in download.cells if c.cell_type == "markdown")
    assert "Rewritten prose." in prose and "The edited loop" in prose
    report = (loop_project / "site/tutorials/report/index.html").read_text()
    assert f"loop.py:{line}" in report
    # A build that changes nothing converts nothing: the refreshed notebook is kept.
    (current,) = (loop_project / ".cache/tutorials/current").glob("loop-*.ipynb")
    made = current.stat().st_mtime_ns
    again = mkdocs_build(loop_project)
    assert _executed(again) == 0
    assert current.stat().st_mtime_ns == made


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('print("first output")', 'print("first output, edited")'),  # a code line
        ("import warnings", "import warnings  # sphinx_gallery_start_ignore\n"),
        (
            "# Some prose about the first cell.\n",
            "# Some prose.\n# sphinx_gallery_capture_repr = ()\n",
        ),
    ],
    ids=["code", "hidden-line", "in-file-config"],
)
def test_what_executes_changes_the_key(loop_project, old, new):
    script = loop_project / "tutorials/loop.py"
    script.write_text(script.read_text().replace(old, new, 1))
    result = mkdocs_build(loop_project)
    assert _executed(result) == 1, result.stderr


def test_a_prose_edit_that_breaks_the_rest_fails_with_its_line_without_executing(loop_project):
    script = loop_project / "tutorials/loop.py"
    text = (
        script.read_text()
        .replace("# Rewritten", "# Rewritten")
        .replace("# Prose about the second cell.", "# Prose with :unknownrole:`x`.")
    )
    script.write_text(text)
    result = mkdocs_build(loop_project)
    assert result.returncode != 0
    assert _executed(result) == 0
    line = _line_of(text, ":unknownrole:")
    assert f"tutorials/loop.py:{line}:" in result.stderr
