"""The build pipeline's behaviour, on small tutorials written by the tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import conftest
import nbformat
import pytest
from conftest import ROOT

from tutorial_pipeline import TutorialBuildError, build_tutorials
from tutorial_pipeline import cache as cache_module
from tutorial_pipeline.convert import LINE_KEY, script_to_notebook, visible_source
from tutorial_pipeline.errors import TutorialError

pytestmark = pytest.mark.docs


def write_tutorial(folder: Path, name: str, body: str, title: str = "A tutorial") -> Path:
    path = folder / name
    underline = "=" * len(title)
    path.write_text(f'"""\n{title}\n{underline}\n\nProse.\n"""\n\n' + textwrap.dedent(body))
    return path


def executed(results) -> set[str]:
    return {result.stem for result in results if result.executed}


@pytest.fixture
def two_tutorials(tmp_path):
    folder = tmp_path / "tutorials"
    folder.mkdir()
    first = write_tutorial(folder, "first.py", "# %%\n# Cell\n# ----\nprint('one')\n")
    second = write_tutorial(folder, "second.py", "# %%\n# Cell\n# ----\nprint('two')\n")
    return [first, second], tmp_path / "cache"


def test_cache_reruns_only_what_changed(two_tutorials):
    scripts, cache = two_tutorials
    assert executed(build_tutorials(scripts, cache_dir=cache, environment="env-a")) == {
        "first",
        "second",
    }
    assert executed(build_tutorials(scripts, cache_dir=cache, environment="env-a")) == set()

    scripts[0].write_text(scripts[0].read_text().replace("'one'", "'one, edited'"))
    results = build_tutorials(scripts, cache_dir=cache, environment="env-a")
    assert executed(results) == {"first"}
    notebook = nbformat.read(results[0].notebook_path, as_version=4)
    assert notebook.cells[-1].outputs[0].text == "one, edited\n"

    # A changed dependency fingerprint re-runs everything.
    assert executed(build_tutorials(scripts, cache_dir=cache, environment="env-b")) == {
        "first",
        "second",
    }


def test_pipeline_change_reruns_everything(two_tutorials, monkeypatch):
    scripts, cache = two_tutorials
    build_tutorials(scripts, cache_dir=cache, environment="env")
    monkeypatch.setattr(cache_module, "glue_fingerprint", lambda: "edited pipeline")
    assert executed(build_tutorials(scripts, cache_dir=cache, environment="env")) == {
        "first",
        "second",
    }


def test_fingerprint_covers_installed_packages(monkeypatch):
    installed = cache_module.installed_distributions()
    assert any(name.startswith("torch==") for name in installed)
    assert any(name.startswith("torchvision==") for name in installed)
    before = cache_module.environment_fingerprint()
    monkeypatch.setattr(
        cache_module, "installed_distributions", lambda: [*installed, "numpy==0.0.1"]
    )
    assert cache_module.environment_fingerprint() != before


def test_installed_distributions_read_from_headers_match_importlib_metadata():
    # The fingerprint reads Name and Version from each METADATA's headers (fast); it must
    # name exactly what importlib.metadata's full parse names.
    import importlib.metadata

    parsed = {
        f"{dist.metadata['Name'].lower().replace('_', '-')}=={dist.version}"
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    }
    assert cache_module.installed_distributions() == sorted(parsed)


def test_execution_modules_are_parsed_again_when_a_module_is_written(tmp_path, monkeypatch):
    glue = tmp_path / "tutorial_pipeline"
    shutil.copytree(cache_module.GLUE_DIR, glue, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache_module, "GLUE_DIR", glue)
    first = cache_module.execution_modules()
    assert cache_module.execution_modules() == first  # answered from the memo
    (glue / "late.py").write_text("VALUE = 1\n")
    execute = glue / "execute.py"
    execute.write_text(execute.read_text() + "\n\ndef _late():\n    from . import late\n")
    assert cache_module.execution_modules() == sorted([*first, "late.py"])


def test_failure_names_file_line_and_exception_and_is_not_cached(tmp_path):
    body = "# %%\n# Cell\n# ----\nx = 1\nraise RuntimeError('planted')\n"
    bad = write_tutorial(tmp_path, "bad.py", body)
    with pytest.raises(TutorialBuildError) as info:
        build_tutorials([bad], cache_dir=tmp_path / "cache", environment="env")
    (failure,) = info.value.failures
    assert failure.path == bad and failure.line == 12
    assert str(failure) == f"{bad}:12: RuntimeError: planted"
    assert str(failure) in str(info.value)
    assert not list((tmp_path / "cache").rglob("bad-*")), "a failed run never lands in the cache"

    bad.write_text(bad.read_text().replace("raise RuntimeError('planted')", "print(x)"))
    (result,) = build_tutorials([bad], cache_dir=tmp_path / "cache", environment="env")
    assert result.executed


def test_error_inside_a_function_points_at_the_raising_line(tmp_path):
    body = """\
    # %%
    # Define
    # ------
    def explode():
        raise ValueError("deep")

    # %%
    # Call
    # ----
    explode()
    """
    script = write_tutorial(tmp_path, "deep.py", body)
    with pytest.raises(TutorialBuildError) as info:
        build_tutorials([script], cache_dir=tmp_path / "cache", environment="env")
    (failure,) = info.value.failures
    assert (failure.line, failure.message) == (12, "ValueError: deep")


def test_endless_cell_is_stopped_by_the_timeout(tmp_path):
    body = "# %%\n# Loop\n# ----\nwhile True:\n    pass\n"
    script = write_tutorial(tmp_path, "endless.py", body)
    with pytest.raises(TutorialBuildError) as info:
        build_tutorials([script], cache_dir=tmp_path / "cache", environment="env", timeout=3)
    (failure,) = info.value.failures
    assert failure.line == 11
    assert failure.message.startswith("TimeoutError: the cell starting here ran longer than 3 s")


def test_printed_warning_fails_the_build(tmp_path):
    body = "# %%\n# Warn\n# ----\nimport warnings\nwarnings.warn('old API', DeprecationWarning)\n"
    script = write_tutorial(tmp_path, "warns.py", body)
    with pytest.raises(TutorialBuildError, match="DeprecationWarning: old API"):
        build_tutorials([script], cache_dir=tmp_path / "cache", environment="env")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("print('no docstring')\n", "1: no docstring: a tutorial opens with a docstring"),
        ('""""""\nprint(1)\n', "1: the docstring has no title"),
        ('"""\nTitle\n=====\n"""\nprint(\n', r"5: SyntaxError: '\(' was never closed"),
    ],
    ids=["no-docstring", "empty-docstring", "syntax-error"],
)
def test_scripts_that_cannot_be_tutorials_get_a_clear_error(tmp_path, source, message):
    script = tmp_path / "broken.py"
    script.write_text(source)
    with pytest.raises(TutorialError, match=message):
        script_to_notebook(script)


def test_ignore_blocks_run_but_are_hidden_and_config_comments_are_stripped(tmp_path):
    body = """\
    # %%
    # Cell
    # ----
    # sphinx_gallery_thumbnail_number = 2
    x = 1
    # sphinx_gallery_start_ignore
    print("only when built")
    # sphinx_gallery_end_ignore
    print(x)
    """
    script = write_tutorial(tmp_path, "tidy.py", body)
    notebook = script_to_notebook(script)
    (code,) = [cell for cell in notebook.cells if cell.cell_type == "code"]
    # sphinx-gallery runs an ignore block: the cell that runs keeps it, line for line...
    assert code.source.splitlines() == [
        "x = 1",
        "# sphinx_gallery_start_ignore",
        'print("only when built")',
        "# sphinx_gallery_end_ignore",
        "print(x)",
    ]
    assert code.metadata[LINE_KEY] == 12  # the line of `x = 1` in the script
    # ...and the published page and downloads show the cell without it (publish.py).
    assert visible_source(code) == "x = 1\nprint(x)"
    assert notebook.cells[0].source.strip().startswith("# A tutorial")
    assert "sphinx_gallery" not in "".join(
        c.source for c in notebook.cells if c.cell_type == "markdown"
    )


def mkdocs_project(tmp_path: Path, tutorials: dict[str, str]) -> Path:
    """A small site with the real mkdocs.yml's hook, plugins and extensions."""
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["hooks"] = [str(ROOT / "src/tutorial_pipeline/mkdocs_hook.py")]
    config["nav"] = [{"Home": "index.md"}, {"Tutorials": [{"Build report": "tutorials/report.md"}]}]
    config["theme"]["custom_dir"] = str(ROOT / "docs/overrides")
    config.pop("extra_javascript", None)
    config.pop("watch", None)
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/index.md").write_text("# Home\n")
    (tmp_path / "tutorials").mkdir()
    for name, body in tutorials.items():
        write_tutorial(tmp_path / "tutorials", name, body)
    return tmp_path


def mkdocs_build(project: Path) -> subprocess.CompletedProcess:
    return conftest.mkdocs_build(project, cache=project / ".cache/tutorials")


def test_planted_failure_fails_mkdocs_build_and_publishes_no_page(tmp_path):
    project = mkdocs_project(
        tmp_path,
        {
            "ok.py": "# %%\n# Fine\n# ----\nprint('fine')\n",
            "bad.py": "# %%\n# Broken\n# ------\nraise RuntimeError('planted')\n",
        },
    )
    result = mkdocs_build(project)
    assert result.returncode != 0
    assert "tutorials/bad.py:11: RuntimeError: planted" in result.stderr + result.stdout
    assert not (project / "site/tutorials/bad").exists()


def test_pages_are_rendered_as_their_tutorials_finish(tmp_path):
    """prerender.py: each page goes into mkdocs-jupyter's cache while the other tutorials
    run, cross-references included, so no page is rendered after the last one finishes."""
    project = mkdocs_project(
        tmp_path,
        {
            "first.py": "# %%\n# First\n# -----\n# Then read :doc:`second`.\nprint('one')\n",
            "second.py": "# %%\n# Second\n# ------\nimport time\ntime.sleep(2)\nprint('two')\n",
        },
    )
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    for name in ("first", "second"):
        assert (
            f"Cache hit: {project}/.cache/tutorials/pages/tutorials/{name}.ipynb" in result.stderr
        )
    assert "Cache miss" not in result.stderr  # what mkdocs-jupyter logs when it renders
    page = (project / "site/tutorials/first/index.html").read_text()
    assert 'href="../second/"' in page and "one" in page


def test_mkdocs_build_renders_a_tutorial_page(tmp_path):
    body = """\
    # %%
    # A figure
    # --------
    # .. note::
    #    Notes become admonitions.
    import matplotlib.pyplot as plt

    print("printed output")
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    plt.show()
    """
    project = mkdocs_project(tmp_path, {"demo.py": body})
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    page = (project / "site/tutorials/demo/index.html").read_text()
    assert "printed output" in page
    assert '<div class="admonition note"><p class="admonition-title">Note</p>' in page
    assert 'src="demo-figure-1.png"' in page and "data:image/png" not in page
    assert (project / "site/tutorials/demo/demo-figure-1.png").read_bytes()[:4] == b"\x89PNG"
    assert "<style" not in page and "<clipboard-copy" not in page
    assert "cdnjs" not in page and "googleapis" not in page
    assert (project / "site/tutorials/demo/demo.py").read_text().startswith('"""')
    nbformat.validate(nbformat.read(project / "site/tutorials/demo/demo.ipynb", as_version=4))
    report = (project / "site/tutorials/report/index.html").read_text()
    assert "executed in this build" in report and 'href="../demo/"' in report

    again = mkdocs_build(project)
    assert again.returncode == 0, again.stderr
    assert "demo.py: up to date" in again.stderr
    report = (project / "site/tutorials/report/index.html").read_text()
    assert "up to date (cached)" in report


def test_cache_keeps_a_few_runs_per_tutorial(two_tutorials):
    scripts, cache = two_tutorials
    for environment in ["env-1", "env-2", "env-3", "env-4"]:
        build_tutorials(scripts[:1], cache_dir=cache, environment=environment)
    assert len(list(cache.glob("entries/first-*/notebook.ipynb"))) == cache_module.KEEP_PER_TUTORIAL
    assert len(list(cache.glob("entries/first-*/record.json"))) == cache_module.KEEP_PER_TUTORIAL
    # The newest runs are the ones kept: the last two environments are still cached.
    assert not executed(build_tutorials(scripts[:1], cache_dir=cache, environment="env-4"))
    assert not executed(build_tutorials(scripts[:1], cache_dir=cache, environment="env-3"))


# --- Running with sphinx-gallery's semantics --------------------------------------------


def test_title_is_the_first_underlined_heading_and_config_is_kept(tmp_path):
    script = tmp_path / "late_title.py"
    script.write_text(
        '""".. _late-title:\n\n`Back <index.html>`_ | `Next <next.html>`_\n\n'
        "The real title\n==============\n\nWhat the reader learns. More prose.\n"
        '"""\n# sphinx_gallery_thumbnail_number = 2\n\n# %%\nprint(1)\n'
    )
    notebook = script_to_notebook(script)
    meta = notebook.metadata["sphinx_gallery"]
    assert meta["title"] == "The real title"
    assert meta["intro"] == "What the reader learns. More prose."
    assert meta["thumbnail_number"] == 2


def test_solution_cells_are_tagged_and_collapsed(tmp_path):
    body = """\
    # %%
    # Exercise
    # --------
    answer = None

    # %% tags=["solution"]
    # Reference solution.
    answer = 42
    """
    script = write_tutorial(tmp_path, "exercise.py", body)
    starter, solution = [c for c in script_to_notebook(script).cells if c.cell_type == "code"]
    assert "tags" not in starter.metadata
    assert solution.metadata["tags"] == ["solution"]
    assert solution.metadata["jupyter"] == {"source_hidden": True}
    assert solution.source == "answer = 42"


def test_kernel_runs_in_the_script_folder_with_helpers_importable(tmp_path):
    folder = tmp_path / "tutorials"
    folder.mkdir()
    (folder / "_helpers.py").write_text("VALUE = 42\n")
    (folder / "data.txt").write_text("read from next to the script\n")
    body = """\
    # %%
    # Semantics
    # ---------
    import os
    from pathlib import Path

    import _helpers

    print(Path(__file__).name, Path(os.getcwd()).name, _helpers.VALUE)
    print(Path("data.txt").read_text().strip())
    print(os.environ["OMP_NUM_THREADS"], os.environ["TQDM_NCOLS"])
    """
    script = write_tutorial(folder, "semantics.py", body)
    (result,) = build_tutorials([script], cache_dir=tmp_path / "cache", environment="env", jobs=1)
    (cell,) = [c for c in nbformat.read(result.notebook_path, 4).cells if c.cell_type == "code"]
    threads = str(result.record.threads)
    assert cell.outputs[0].text == (
        f"semantics.py tutorials 42\nread from next to the script\n{threads} 80\n"
    )
    assert cell.execution_count == 1, "the pipeline's own setup cell is not counted"
    assert sorted(p.name for p in folder.iterdir()) == ["_helpers.py", "data.txt", "semantics.py"]


def test_a_tutorial_that_writes_next_to_itself_is_reported(tmp_path):
    body = "# %%\n# Save\n# ----\nopen('model.pt', 'w').write('weights')\n"
    script = write_tutorial(tmp_path, "litter.py", body)
    with pytest.raises(TutorialBuildError, match=r"wrote next to itself \(model\.pt in"):
        build_tutorials([script], cache_dir=tmp_path / "cache", environment="env")


def test_progress_bar_is_kept_as_its_final_line(tmp_path):
    body = """\
    # %%
    # Progress
    # --------
    from tqdm import tqdm

    for step in tqdm(range(50), desc="epochs", mininterval=0):
        pass
    """
    script = write_tutorial(tmp_path, "bar.py", body)
    (result,) = build_tutorials([script], cache_dir=tmp_path / "cache", environment="env")
    (cell,) = [c for c in nbformat.read(result.notebook_path, 4).cells if c.cell_type == "code"]
    text = "".join(o.text for o in cell.outputs if o.output_type == "stream")
    assert "\r" not in text
    (line,) = text.strip().splitlines()
    assert re.fullmatch(r"epochs: 100%\|█+\| 50/50", line) and len(line) == 80


# --- Reliability ---------------------------------------------------------------------------


def _build_in_subprocess(
    tmp_path: Path, scripts: list[Path], prefix: list[str] | None = None, **env: str
) -> tuple[subprocess.CompletedProcess, float]:
    code = (
        "import sys\nfrom tutorial_pipeline import TutorialBuildError\ntry:\n"
        + textwrap.indent(_build_code(tmp_path, scripts, jobs=1), "    ")
        + "except TutorialBuildError as exc:\n    sys.exit(str(exc))\n"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [*(prefix or []), sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, time.perf_counter() - started


def _build_code(tmp_path: Path, scripts: list[Path], *, jobs: int) -> str:
    """Python source that builds ``scripts`` into ``tmp_path / "cache"``."""
    return (
        "from pathlib import Path\nfrom tutorial_pipeline import build_tutorials\n"
        f"build_tutorials([Path(p) for p in {[str(s) for s in scripts]!r}],"
        f" cache_dir=Path({str(tmp_path / 'cache')!r}), jobs={jobs})\n"
    )


def _interrupt_build(
    code: str, started: Callable[[], bool], *, settle: float, env: dict | None = None
) -> tuple[float, int, str]:
    """Run ``code`` as a terminal would, press Ctrl-C ``settle`` seconds after ``started()``
    holds, and return how long it took to exit after that, its exit code and its stderr."""
    import signal

    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        # A shell's background job ignores SIGINT; a terminal's Ctrl-C does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not started() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert started(), "the build got where Ctrl-C is pressed"
    time.sleep(settle)
    process.send_signal(signal.SIGINT)
    interrupted = time.perf_counter()
    _, stderr = process.communicate(timeout=90)
    return time.perf_counter() - interrupted, process.returncode, stderr


@pytest.fixture
def sleepy_tutorials(tmp_path):
    folder = tmp_path / "tutorials"
    folder.mkdir()
    body = "# %%\n# Sleep\n# -----\nimport time\ntime.sleep(30)\n"
    return [write_tutorial(folder, f"{name}.py", body) for name in ("a", "b", "c")]


def test_a_kernel_that_cannot_start_fails_fast_naming_tutorial_and_cause(
    tmp_path, sleepy_tutorials
):
    # A kernel that exits before it answers, whether launched (`python -m
    # ipykernel_launcher`) or forked (the fork server runs the same module in the child).
    broken = tmp_path / "broken-kernel"
    broken.mkdir()
    (broken / "ipykernel_launcher.py").write_text("import os\nos._exit(3)\n")
    pythonpath = os.pathsep.join([str(broken), os.environ.get("PYTHONPATH", "")])
    result, seconds = _build_in_subprocess(tmp_path, sleepy_tutorials, PYTHONPATH=pythonpath)
    assert result.returncode != 0 and seconds < 60
    assert result.stderr.strip().splitlines() == [
        "1 tutorial(s) failed:",
        f"{sleepy_tutorials[0]}: KernelStartError: the Jupyter kernel could not start or did "
        "not answer within 30 s (RuntimeError: Kernel died before replying to kernel_info)",
    ]


def test_a_build_without_a_loopback_interface_runs_its_kernels(tmp_path):
    """Kernels talk to the build over Unix sockets (execute.kernel_transport), so a build in a
    network namespace with no interface at all runs them; only a tutorial's own networking
    (tutorial 12's processes) needs 127.0.0.1, and fails with its own error without it."""
    import shutil

    if not shutil.which("unshare") or subprocess.run(["unshare", "-rn", "true"]).returncode:
        pytest.fail("this test needs `unshare -rn` (util-linux, user namespaces)")
    folder = tmp_path / "tutorials"
    folder.mkdir()
    scripts = [
        write_tutorial(folder, f"{name}.py", f"# %%\n# Cell\n# ----\nprint({name!r})\n")
        for name in ("a", "b")
    ]
    result, _ = _build_in_subprocess(tmp_path, scripts, prefix=["unshare", "-rn"])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def test_damaged_cache_entries_are_executed_again(two_tutorials, caplog):
    scripts, cache = two_tutorials
    build_tutorials(scripts, cache_dir=cache, environment="env")
    (first,) = cache.glob("entries/first-*/notebook.ipynb")
    (second,) = cache.glob("entries/second-*/record.json")
    first.write_bytes(first.read_bytes()[:100])  # a truncated notebook
    second.write_text("{not json")  # a damaged record
    with caplog.at_level("INFO", logger="mkdocs.plugins.tutorial_pipeline"):
        results = build_tutorials(scripts, cache_dir=cache, environment="env")
    assert executed(results) == {"first", "second"}
    damaged = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(damaged) == 2
    assert executed(build_tutorials(scripts, cache_dir=cache, environment="env")) == set()


def test_stale_tutorials_run_longest_first_by_their_last_run(tmp_path, caplog):
    folder = tmp_path / "tutorials"
    folder.mkdir()
    quick = write_tutorial(folder, "a_quick.py", "# %%\n# Cell\n# ----\nprint('quick')\n")
    slow = write_tutorial(folder, "b_slow.py", "# %%\n# Cell\n# ----\nimport time\ntime.sleep(2)\n")
    cache = tmp_path / "cache"
    build_tutorials([quick, slow], cache_dir=cache, environment="env-a", jobs=1)
    # Which one took longer is read from the cache, not assumed: a run's time includes its
    # kernel's start, which a machine busy with other builds can stretch past b_slow's sleep.
    seconds = {
        p.name: cache_module.NotebookCache(cache).last_seconds(p.stem) for p in (quick, slow)
    }
    assert seconds["b_slow.py"] >= 2  # it slept that long
    longest_first = sorted(seconds, key=lambda name: -seconds[name])
    new = write_tutorial(folder, "c_new.py", "# %%\n# Cell\n# ----\nprint('new')\n")

    # Another environment: every tutorial is stale, and the past runs tell their lengths.
    with caplog.at_level("INFO", logger="mkdocs.plugins.tutorial_pipeline"):
        results = build_tutorials([quick, slow, new], cache_dir=cache, environment="env-b", jobs=1)
    started = [
        r.getMessage().split(":")[0] for r in caplog.records if r.getMessage().endswith("executing")
    ]
    # The one never run comes first (its cost is unknown), then the longest known.
    assert started == ["c_new.py", *longest_first]
    assert [result.stem for result in results] == ["a_quick", "b_slow", "c_new"]
    assert executed(results) == {"a_quick", "b_slow", "c_new"}


def test_ctrl_c_stops_the_build_within_seconds_and_caches_nothing(tmp_path, sleepy_tutorials):
    cache = tmp_path / "cache"
    seconds, returncode, stderr = _interrupt_build(
        _build_code(tmp_path, sleepy_tutorials, jobs=2),
        lambda: len(list(cache.glob("*.lock"))) >= 2,  # both running tutorials have started
        settle=3,
    )
    # Stopped, not waited for: well under the 30 s the running tutorials sleep (a bound in
    # seconds of its own would fail now and then on a machine busy with other builds).
    assert seconds < 15, stderr
    assert returncode != 0 and "KeyboardInterrupt" in stderr
    assert not list(cache.rglob("*.ipynb")), "nothing half-done is cached"
    assert not (cache / "c.lock").exists(), "no tutorial starts after Ctrl-C"
    deadline = time.monotonic() + 5
    while _processes_in(sleepy_tutorials[0].parent) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_in(sleepy_tutorials[0].parent), "no kernel is left running"


def test_ctrl_c_while_the_fork_server_imports_stops_at_once(tmp_path):
    # A library that takes a minute to import, preloaded because both tutorials import it.
    library = tmp_path / "library"
    library.mkdir()
    (library / "slow_library.py").write_text("import time\ntime.sleep(60)\n")
    folder = tmp_path / "tutorials"
    folder.mkdir()
    body = "# %%\n# Import\n# ------\nimport slow_library\n"
    scripts = [write_tutorial(folder, f"{name}.py", body) for name in ("a", "b")]
    code = (
        "from tutorial_pipeline import forkserver\n"
        "forkserver.PRELOADABLE = forkserver.PRELOADABLE | {'slow_library'}\n"
    ) + _build_code(tmp_path, scripts, jobs=2)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(library), str(ROOT / "src")])}
    seconds, returncode, stderr = _interrupt_build(
        code,
        lambda: bool(_processes_running("forkserver.py", "slow_library")),  # importing it
        settle=1,
        env=env,
    )
    assert seconds < 30, stderr  # not waited for: the import takes 60 s
    assert returncode != 0 and "KeyboardInterrupt" in stderr
    assert not list((tmp_path / "cache").rglob("*.ipynb"))
    assert not _processes_running("forkserver.py", "slow_library"), "the fork server is gone"


def _processes(match: Callable[[Path], bool]) -> list[int]:
    """The processes whose /proc folder ``match`` accepts (one that exits meanwhile is not)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if match(proc):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _processes_running(*words: str) -> list[int]:
    """The processes whose command line holds each of ``words``."""
    return _processes(
        lambda proc: all(w.encode() in (proc / "cmdline").read_bytes() for w in words)
    )


def _processes_in(folder: Path) -> list[int]:
    """The processes whose working directory is ``folder`` (kernels run in theirs)."""
    return _processes(lambda proc: Path(os.readlink(proc / "cwd")) == folder)


def test_editing_a_data_file_reruns_the_tutorials_beside_it(two_tutorials):
    scripts, cache = two_tutorials
    data = scripts[0].parent / "table.csv"
    data.write_text("a,b\n1,2\n")
    build_tutorials(scripts, cache_dir=cache, environment="env")
    data.write_text("a,b\n1,3\n")
    assert executed(build_tutorials(scripts, cache_dir=cache, environment="env")) == {
        "first",
        "second",
    }


def test_a_helper_module_reruns_only_the_tutorials_that_import_it(two_tutorials):
    scripts, cache = two_tutorials
    helper = scripts[0].parent / "_only_first.py"
    helper.write_text("VALUE = 1\n")
    scripts[0].write_text(scripts[0].read_text() + "import _only_first\n")
    build_tutorials(scripts, cache_dir=cache, environment="env")
    helper.write_text("VALUE = 2\n")
    assert executed(build_tutorials(scripts, cache_dir=cache, environment="env")) == {"first"}


# --- kernels forked from a preloaded process (forkserver.py) --------------------------------

_KERNEL_PROBE = """\
# %%
# What the kernel sees
# --------------------
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

import _helper

plt = __import__("matplotlib.pyplot").pyplot
print(sys.argv, __file__)
print([p.replace(str(Path(__file__).resolve().parent), "<here>") for p in sys.path[:3]])
print(Path.cwd() == Path(__file__).resolve().parent, os.getpgid(0) == os.getpid())
print(os.environ["PYTHONPATH"].split(os.pathsep)[0] == str(Path(__file__).resolve().parent))
print(sorted(set(os.environ) - {"JPY_PARENT_PID"} - set(os.environ["OUTSIDE"].split(","))))
print(signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGCHLD), sys.stdin.read())
print(subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True).stdout)
print(_helper.VALUE, np.arange(3).sum(), hash("same seed in every kernel"))
plt.plot([1, 2])
"""


def _probe_build(tmp_path: Path, name: str, monkeypatch, **env) -> list[list[str]]:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "_helper.py").write_text("VALUE = 'helper'\n")
    scripts = [
        write_tutorial(folder, "a.py", "import sys\nPRELOADED = 'numpy' in sys.modules\n"),
        write_tutorial(folder, "b.py", _KERNEL_PROBE),
    ]
    scripts[0].write_text(scripts[0].read_text() + "import numpy\nprint(PRELOADED)\n")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("OUTSIDE", ",".join(os.environ))
    results = build_tutorials(scripts, cache_dir=tmp_path / f"{name}-cache", environment="env")
    outputs = []
    for result in results:
        (cell,) = [c for c in nbformat.read(result.notebook_path, 4).cells if c.cell_type == "code"]
        outputs.append([o.get("text") or sorted(o.get("data", {})) for o in cell.outputs])
    monkeypatch.delenv("OUTSIDE")
    return outputs


def test_forked_kernels_see_what_launched_kernels_see(tmp_path, monkeypatch, capfd):
    forked = _probe_build(tmp_path, "forked", monkeypatch)
    # A kernel prints this when it has no parent to watch (`ipython kernel` run by hand).
    assert "Ctrl-C will not work" not in capfd.readouterr().out
    launched = _probe_build(tmp_path, "launched", monkeypatch, TUTORIAL_FORKSERVER="0")
    # Forked: numpy was imported before the tutorial ran (two tutorials import it).
    assert forked[0] == ["True\n"] and launched[0] == ["False\n"]
    assert forked[1] == launched[1]
    text = forked[1][0]
    assert text.startswith("['b.py'] b.py\n")  # as sphinx-gallery runs it, no path (issue 16)
    assert "True True\nTrue\n" in text
    assert "<built-in function default_int_handler> 0 \n" in text  # SIGCHLD: SIG_DFL
    assert "b'42\\n'\nhelper 3 " in text
    assert sorted(forked[1][-1]) == ["image/png", "text/plain"], "the figure is captured"


def test_a_forked_kernel_that_dies_is_reported_and_the_others_run(tmp_path):
    folder = tmp_path / "tutorials"
    folder.mkdir()
    dies = write_tutorial(folder, "dies.py", "# %%\n# Die\n# ---\nimport os\nos._exit(1)\n")
    lives = write_tutorial(folder, "lives.py", "# %%\n# Live\n# ----\nprint('alive')\n")
    started = time.perf_counter()
    with pytest.raises(TutorialBuildError, match=r"dies\.py:11: DeadKernelError") as error:
        build_tutorials([dies, lives], cache_dir=tmp_path / "cache", environment="env")
    assert time.perf_counter() - started < 60
    assert "lives.py" not in str(error.value)
    assert len(list((tmp_path / "cache").glob("entries/lives-*/notebook.ipynb"))) == 1


def test_a_fork_server_that_is_gone_fails_the_launch_loudly(tmp_path):
    from tutorial_pipeline.forkserver import ForkServer, ForkServerError

    server = ForkServer(env=dict(os.environ), preload=[])
    server._process.kill()
    server._process.wait()
    cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", str(tmp_path / "k.json")]
    with pytest.raises(ForkServerError, match="exited with code -9"):
        server.launch(cmd, env=dict(os.environ), cwd=str(tmp_path))
    server.close()
