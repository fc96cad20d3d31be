"""One build across many machines: targets in the cache key, self-contained entries that
merge, the execute-nothing render, shards packed longest first, and the workflows that run
them (issue 15). Everything here runs on one CPU machine; other targets are named with
``TUTORIAL_TARGET`` (``cpu:<runner>``), and a GPU run is stood for by an entry made for
the GPU target's key."""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import conftest
import nbformat
import pytest
import yaml
from conftest import ROOT
from test_pipeline import executed, mkdocs_project, write_tutorial

from tutorial_pipeline import TutorialBuildError, build_tutorials, shards
from tutorial_pipeline import cache as cache_module
from tutorial_pipeline.__main__ import build_parser
from tutorial_pipeline.cache import NotebookCache, check_entry
from tutorial_pipeline.pipeline import threads_per_kernel

pytestmark = pytest.mark.docs

CELL = "# %%\n# Cell\n# ----\n"


def cli(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m tutorial_pipeline ARGS`` in ``project`` (what the nox sessions run)."""
    return subprocess.run(
        [sys.executable, "-m", "tutorial_pipeline", *args],
        cwd=project,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )


def tutorials(tmp_path: Path, **bodies: str) -> list[Path]:
    """Tutorials in ``tmp_path/tutorials`` (caches go beside that folder, not in it)."""
    folder = tmp_path / "tutorials"
    folder.mkdir(parents=True, exist_ok=True)
    return [write_tutorial(folder, f"{name}.py", body) for name, body in bodies.items()]


def entries(cache: Path) -> dict[str, Path]:
    return {p.name: p for p in (cache / "entries").iterdir() if not p.name.startswith(".")}


# --- Targets ---------------------------------------------------------------------------------


def test_the_target_is_in_the_key_and_the_record(tmp_path, monkeypatch):
    (script,) = tutorials(tmp_path, t=CELL + "print('x')\n")
    cache = tmp_path / "cache"
    (first,) = build_tutorials([script], cache_dir=cache, environment="env")
    assert first.executed and first.record.target == "cpu"
    assert first.record.threads == threads_per_kernel()

    # Another runner: its runs never serve this one, nor the reverse.
    monkeypatch.setenv("TUTORIAL_TARGET", "cpu:runner-b")
    (other,) = build_tutorials([script], cache_dir=cache, environment="env")
    assert other.executed and other.record.target == "cpu:runner-b"
    assert other.record.key != first.record.key
    monkeypatch.delenv("TUTORIAL_TARGET")
    (again,) = build_tutorials([script], cache_dir=cache, environment="env")
    assert not again.executed and again.record.key == first.record.key

    # The threads a kernel gets change what it prints, so they are in the key too.
    monkeypatch.setenv("TUTORIAL_THREADS", str(threads_per_kernel() + 1))
    (threads,) = build_tutorials([script], cache_dir=cache, environment="env")
    assert threads.executed and threads.record.key != first.record.key


def test_a_target_this_machine_cannot_run_fails_in_seconds_with_one_line(tmp_path):
    tutorials(tmp_path, t=CELL + "print('x')\n")
    started = time.perf_counter()
    result = cli(tmp_path, "execute", env={"TUTORIAL_TARGET": "cuda:Imaginary GPU"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: target 'cuda:Imaginary GPU' needs a cuda device, and this machine has none"
    ]
    asked = cli(tmp_path, "execute", "--device", "cuda")
    assert asked.returncode == 2 and len(asked.stderr.strip().splitlines()) == 1
    assert asked.stderr.strip() == (
        "error: this job asks for a cuda device (--device cuda) and this machine has none"
    )
    assert time.perf_counter() - started < 30  # seconds each here; generous for a busy machine
    assert not (tmp_path / ".cache").exists(), "nothing ran"


def test_a_cpu_target_hides_the_gpus_from_the_kernel(tmp_path):
    (script,) = tutorials(
        tmp_path, t=CELL + "import os\nprint(repr(os.environ['CUDA_VISIBLE_DEVICES']))\n"
    )
    (result,) = build_tutorials([script], cache_dir=tmp_path / "cache", environment="env")
    notebook = nbformat.read(result.notebook_path, as_version=4)
    assert notebook.cells[-1].outputs[0].text == "''\n"


# --- Entries that travel and merge ------------------------------------------------------------


def test_an_entry_is_a_folder_named_by_its_key_with_no_path_of_the_machine(tmp_path):
    (script,) = tutorials(tmp_path / "somewhere-on-this-machine", t=CELL + "print('x')\n")
    (result,) = build_tutorials([script], cache_dir=tmp_path / "cache", environment="env")
    (entry,) = entries(tmp_path / "cache").values()
    assert entry.name == f"t-{result.record.key}"
    assert sorted(p.name for p in entry.iterdir()) == ["notebook.ipynb", "record.json"]
    record = json.loads((entry / "record.json").read_text())
    assert record["target"] == "cpu" and record["key"] == result.record.key
    assert "notebook" not in record
    for file in entry.iterdir():
        assert str(tmp_path) not in file.read_text(), f"{file.name} names a path of the machine"
    assert check_entry(entry) == result.record


def test_merge_copies_good_entries_and_refuses_bad_ones_with_one_line_each(tmp_path):
    scripts = tutorials(tmp_path, **{name: CELL + f"print({name!r})\n" for name in "abc"})
    one, two = tmp_path / "one", tmp_path / "two"
    build_tutorials(scripts[:2], cache_dir=one, environment="env")
    build_tutorials(scripts[2:], cache_dir=two, environment="env")
    good = entries(one)
    (damaged,) = [p for name, p in good.items() if name.startswith("b-")]
    notebook = damaged / "notebook.ipynb"
    notebook.write_text(notebook.read_text().replace("'b'", "'B'"))  # an edited output
    (renamed,) = entries(two).values()
    renamed.rename(renamed.with_name("c-" + "0" * 64))  # a folder not named by its key

    into = tmp_path / "merged"
    result = cli(tmp_path, "merge", "--into", str(into), str(one), str(two))
    assert result.returncode == 1
    refused = result.stderr.strip().splitlines()
    assert len(refused) == 2
    assert refused[0].startswith(f"refused: {damaged}: ") and "SHA-256" in refused[0]
    assert refused[1].startswith("refused: ") and "does not match the record's key" in refused[1]
    assert [name[:2] for name in entries(into)] == ["a-"]
    assert "1 entries copied, 0 already there, 2 refused" in result.stdout

    # The same entry again is no conflict; the same key with other bytes is.
    again = cli(tmp_path, "merge", "--into", str(into), str(one))
    assert "0 entries copied, 1 already there" in again.stdout
    (a_entry,) = [p for name, p in entries(one).items() if name.startswith("a-")]
    text = (a_entry / "notebook.ipynb").read_text().replace("'a'", "'A'")
    (a_entry / "notebook.ipynb").write_text(text)
    record = json.loads((a_entry / "record.json").read_text())
    record["sha256"] = cache_module._sha256_file(a_entry / "notebook.ipynb")
    (a_entry / "record.json").write_text(json.dumps(record))
    clash = cli(tmp_path, "merge", "--into", str(into), str(one))
    assert clash.returncode == 1
    assert "already holds key" in clash.stderr and "with other bytes" in clash.stderr


def test_never_mode_lists_every_missing_tutorial_with_key_and_target_at_once(tmp_path):
    scripts = tutorials(tmp_path, a=CELL + "import time\ntime.sleep(30)\n", b=CELL + "pass\n")
    started = time.perf_counter()
    with pytest.raises(TutorialBuildError) as info:
        build_tutorials(scripts, cache_dir=tmp_path / "cache", environment="env", execute="never")
    assert time.perf_counter() - started < 10
    lines = str(info.value).splitlines()
    assert lines[0] == "2 tutorial(s) failed:"
    for script, line in zip(scripts, lines[1:], strict=True):
        assert re.fullmatch(
            rf"{re.escape(str(script))}: no valid cache entry \(key [0-9a-f]{{12}}, target cpu\) "
            r"and TUTORIAL_EXECUTE=never",
            line,
        ), line


# --- Publishing an accelerator's run ----------------------------------------------------------


def _forge_gpu_run(cache: Path, script: Path, record, name: str = "Test GPU") -> None:
    """Stand for a run on a CUDA runner: the CPU run's notebook, stored under the key and
    target a CUDA build of this script would have (a CPU machine cannot make a real one)."""
    notebook = nbformat.read(record.notebook_path, as_version=4)
    target = f"cuda:{name}"
    key = cache_module.cache_key(
        script,
        environment="env",
        timeout=120.0,
        target=target,
        threads=record.threads,
    )
    NotebookCache(cache).store(
        script.stem,
        key,
        notebook,
        target=target,
        threads=record.threads,
        seconds=0.5,
        peak_memory=record.peak_memory,
        device="cuda",
        executed_at=record.executed_at,
    )


def test_a_tutorial_that_asks_for_a_gpu_run_is_published_from_one_when_it_exists(tmp_path):
    wants, plain = tutorials(
        tmp_path,
        wants='# sphinx_gallery_publish_target = "cuda"\n' + CELL + "print(1)\n",
        plain=CELL + "print(2)\n",
    )
    cache = tmp_path / "cache"
    first = build_tutorials([wants, plain], cache_dir=cache, environment="env")
    assert [r.record.target for r in first] == ["cpu", "cpu"]  # no GPU run: the CPU's
    assert first[0].wanted == "cuda" and first[1].wanted is None
    for result in first:
        _forge_gpu_run(cache, result.script, result.record)

    second = build_tutorials([wants, plain], cache_dir=cache, environment="env")
    assert [r.record.target for r in second] == ["cuda:Test GPU", "cpu"]
    assert not executed(second)
    # In never mode the GPU run is enough, with no CPU run at all.
    shutil.rmtree(first[0].notebook_path.parent)
    (published,) = build_tutorials([wants], cache_dir=cache, environment="env", execute="never")
    assert published.record.target == "cuda:Test GPU"
    # An edit makes the GPU run stale: it is not published for the new script.
    wants.write_text(wants.read_text().replace("print(1)", "print(10)"))
    (edited,) = build_tutorials([wants], cache_dir=cache, environment="env")
    assert edited.executed and edited.record.target == "cpu"


def test_a_bad_publish_target_fails_with_its_file(tmp_path):
    (bad,) = tutorials(
        tmp_path, bad="# sphinx_gallery_publish_target = 'cpu'\n" + CELL + "print(1)\n"
    )
    with pytest.raises(TutorialBuildError, match=r"bad\.py: sphinx_gallery_publish_target"):
        build_tutorials([bad], cache_dir=tmp_path / "cache", environment="env")


# --- Shards -----------------------------------------------------------------------------------


def test_longest_first_packing_is_deterministic_and_near_the_bound():
    seconds = {"a": 10.0, "b": 9.0, "c": 5.0, "d": 5.0, "e": 4.0, "f": 1.0}
    shares = shards.pack(seconds, 3)
    assert shares == [["a", "f"], ["b", "e"], ["c", "d"]]
    # 13 s is also the best any split of these achieves; no split beats 34 s / 3.
    assert shards.makespan(seconds, shares) == 13.0
    assert shards.lower_bound(seconds, 3) == pytest.approx(34 / 3)
    assert shards.pack(seconds, 3) == shares
    assert sorted(stem for share in shares for stem in share) == sorted(seconds)
    assert shards.pack(seconds, 8)[6:] == [[], []]
    assert (
        shards.lower_bound(seconds, 8) == 10.0 == shards.makespan(seconds, shards.pack(seconds, 8))
    )


def test_estimates_come_from_the_cache_then_the_timings_file_then_the_median(tmp_path):
    scripts = tutorials(tmp_path, **{n: CELL + "print(1)\n" for n in "abc"})
    cache = tmp_path / "cache"
    build_tutorials(scripts[:1], cache_dir=cache, environment="env")
    ran = NotebookCache(cache).last_seconds("a", "cpu")
    timings = tmp_path / shards.TIMINGS_FILE
    shards.write_timings(timings, {"a": 99.0, "b": 7.0})
    shards.write_timings(timings, {"b": 60.0}, "cuda")
    assert shards.read_timings(timings) == {"a": 99.0, "b": 7.0}
    got = shards.estimates(
        ["a", "b", "c"], NotebookCache(cache), shards.read_timings(timings), "cpu"
    )
    assert got == {"a": ran, "b": 7.0, "c": (ran + 7.0) / 2}
    assert NotebookCache(cache).last_seconds("a", "cuda:x") is None


def test_a_malformed_shard_is_one_line(tmp_path):
    (tmp_path / "tutorials").mkdir()
    result = cli(tmp_path, "execute", "--shard", "4/3")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --shard '4/3': write I/N with 1 <= I <= N, such as 2/3"


# --- The proof on one machine: three shards, merged, rendered executing nothing ----------------

#: Tutorials of different lengths, with a figure, a helper module and a data file.
PROOF = {
    "a_plot.py": CELL
    + "import matplotlib.pyplot as plt\nimport time\ntime.sleep(1.5)\n"
    + "fig, ax = plt.subplots(figsize=(2, 2))\nax.plot([0, 1], [1, 0])\nplt.show()\n",
    "b_helper.py": CELL + "import _helper\nprint(_helper.VALUE * 2)\n",
    "c_data.py": CELL + "from pathlib import Path\nprint(Path('numbers.csv').read_text())\n",
    "d_sleep.py": CELL + "import time\ntime.sleep(1)\nprint('slept')\n",
    "e_quick.py": CELL + "print(sum(range(10)))\n",
}
_MEASURED = re.compile(
    r"ran in \d+\.\d s|peak memory of \d+ MB|Runs in \d+\.\d s|\d+\.\d s</td>|\d+ MB</td>"
    r"|executed in this build|up to date \(cached\)|\d{4}-\d\d-\d\d \d\d:\d\d"
    r"|, not counting the import of .*? once for all tutorials\),"
    r"|\d+\.\d s of execution in total"
    r"|\d\d:\d\d:\d\d UTC"  # "last updated": the build's time, as the project has no git
)


def proof_project(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    project = mkdocs_project(tmp_path, PROOF)
    (project / "tutorials/_helper.py").write_text("VALUE = 21\n")
    (project / "tutorials/numbers.csv").write_text("1,2,3\n")
    return project


def pages(site: Path) -> dict[str, str]:
    """Each tutorial page and the report, with the run's measured figures masked."""
    found = {}
    for name in [*(Path(n).stem for n in PROOF), "report"]:
        html = (site / "tutorials" / name / "index.html").read_text()
        found[name] = _MEASURED.sub("<measured>", html)
    return found


def render(project: Path, *, site: str = "site", **env: str) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``project`` with the build settings in ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", site],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def site_workflow() -> dict:
    return yaml.safe_load((ROOT / ".github/workflows/site.yml").read_text())


def nox_args(job: str, session: str) -> list[str]:
    """The arguments the site workflow's ``job`` passes to ``nox -s session --``."""
    for step in site_workflow()["jobs"][job]["steps"]:
        match = re.search(rf"nox -s {session} -- (.+?)(?:;|$)", step.get("run", ""), re.M)
        if match:
            return match.group(1).split()
    raise AssertionError(f"the {job} job runs no `nox -s {session}`")


def test_three_shards_merged_render_the_single_machine_site(tmp_path):
    single = proof_project(tmp_path / "single")
    result = conftest.mkdocs_build(single, cache=single / ".cache/tutorials")
    assert result.returncode == 0, result.stderr
    expected = pages(single / "site")

    # CI's jobs, one after another, with the arguments the workflow passes.
    project = proof_project(tmp_path / "sharded")
    env = {"TUTORIAL_CACHE_DIR": str(project / ".cache/tutorials")}
    plan_args = [a.replace('"${SHARDS}"', "3") for a in nox_args("plan", "plan")]
    plan_args = [a for a in plan_args if "GITHUB_OUTPUT" not in a and a != "--github-output"]
    plan = cli(project, "plan", *plan_args, env=env)
    assert plan.returncode == 0, plan.stderr
    matrix = json.loads(plan.stdout)["matrix"]["include"]
    assert [entry["shard"] for entry in matrix] == ["1/3", "2/3", "3/3"]
    made: list[set[str]] = []
    for index, entry in enumerate(matrix):
        cache = tmp_path / f"runner-{index}"  # each runner starts from an empty cache
        args = [
            a.replace('"${SHARD}"', entry["shard"]).replace(
                '"shards/cpu-${INDEX}"', f"shards/cpu-{index}"
            )
            for a in nox_args("execute", "execute")
        ]
        run = cli(project, "execute", *args, env={"TUTORIAL_CACHE_DIR": str(cache)})
        assert run.returncode == 0, run.stderr
        names = {name.rsplit("-", 1)[0] for name in entries(project / f"shards/cpu-{index}")}
        assert names == set(entry["tutorials"].split())
        made.append(names)
    assert sum(len(m) for m in made) == len(PROOF), "the shares are disjoint"
    assert set().union(*made) == {Path(n).stem for n in PROOF}

    started = time.perf_counter()
    merged = cli(project, "merge", *nox_args("render", "merge")[:1], env=env)
    assert merged.returncode == 0, merged.stderr
    built = render(project, TUTORIAL_EXECUTE="never", **env)
    assert built.returncode == 0, built.stderr
    assert "executing" not in built.stderr
    # Each shard rendered the pages it ran: the render only reads them.
    assert built.stderr.count("Cache hit:") == len(PROOF) and "Cache miss" not in built.stderr
    assert time.perf_counter() - started < 120
    rendered = pages(project / "site")
    for name, html in expected.items():
        assert rendered[name] == html, "\n".join(
            difflib.unified_diff(html.splitlines(), rendered[name].splitlines(), lineterm="", n=1)
        )

    # Another target: the merged entries serve it nothing.
    other = {"TUTORIAL_TARGET": "cpu:another-runner", **env}
    never = render(project, site="site-never", TUTORIAL_EXECUTE="never", **other)
    assert never.returncode != 0
    for name in PROOF:
        assert re.search(
            rf"tutorials/{re.escape(name)}: no valid cache entry \(key [0-9a-f]{{12}}, "
            r"target cpu:another-runner\)",
            never.stderr,
        ), never.stderr
    normal = render(project, site="site-other", **other)
    assert normal.returncode == 0, normal.stderr
    assert normal.stderr.count(": executing") == len(PROOF)


def test_a_damaged_artifact_is_refused_then_executed_or_listed_missing(tmp_path):
    project = proof_project(tmp_path)
    shard = cli(
        project,
        "execute",
        "--out",
        "shards/cpu-0",
        env={"TUTORIAL_CACHE_DIR": str(tmp_path / "runner")},
    )
    assert shard.returncode == 0, shard.stderr
    (damaged,) = [p for n, p in entries(project / "shards/cpu-0").items() if n.startswith("e_")]
    (damaged / "notebook.ipynb").write_bytes(b"{}")
    merged = cli(project, "merge", "shards")
    assert merged.returncode == 1
    assert merged.stderr.strip().splitlines() == [
        f"refused: shards/cpu-0/entries/{damaged.name}: the notebook does not match the "
        "SHA-256 in its record"
    ]
    never = render(project, TUTORIAL_EXECUTE="never")
    assert never.returncode != 0
    assert re.search(
        r"1 tutorial\(s\) failed:\ntutorials/e_quick\.py: no valid cache entry", never.stderr
    )
    normal = conftest.mkdocs_build(project, cache=project / ".cache/tutorials")
    assert normal.returncode == 0, normal.stderr
    assert "e_quick.py: executing" in normal.stderr and normal.stderr.count(": executing") == 1


# --- The workflows ------------------------------------------------------------------------------


def _nox_sessions() -> set[str]:
    import ast

    tree = ast.parse((ROOT / "noxfile.py").read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("nox.session" in ast.unparse(d) for d in node.decorator_list)
    }


@pytest.mark.parametrize("workflow", ["site.yml", "tests.yml"])
def test_every_workflow_command_is_a_real_session_with_arguments_it_accepts(workflow):
    jobs = yaml.safe_load((ROOT / ".github/workflows" / workflow).read_text())["jobs"]
    sessions = _nox_sessions()
    values = {"SHARDS": "3", "SHARD": "1/3", "GITHUB_OUTPUT": "out"}
    seen = 0
    for job in jobs.values():
        for step in job["steps"]:
            for name, args in re.findall(r"nox -s (\w+)(?: -- ([^;\n]+))?", step.get("run", "")):
                seen += 1
                assert name in sessions, f"{workflow}: nox -s {name} is no session"
                if name in {"plan", "execute", "merge"}:
                    words = [
                        re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), "x"), w).strip('"')
                        for w in args.split()
                    ]
                    build_parser().parse_args([name, *words])
    assert seen


def test_the_render_runs_only_after_its_shards_and_tolerates_skipped_ones():
    jobs = site_workflow()["jobs"]
    assert set(jobs["render"]["needs"]) == {"plan", "execute", "gpu"}
    condition = jobs["render"]["if"]
    assert "always()" in condition and "skipped" in condition
    assert jobs["gpu"]["if"] == "vars.GPU_RUNNER != ''"
    render_env = [s.get("env", {}) for s in jobs["render"]["steps"]]
    assert {"TUTORIAL_EXECUTE": "never"} in render_env
    download = [s for s in jobs["render"]["steps"] if "download-artifact" in s.get("uses", "")]
    assert download[0]["with"]["merge-multiple"] is True


@pytest.mark.parametrize("workflow", ["site.yml", "tests.yml"])
def test_workflows_pin_actions_and_drop_credentials(workflow):
    text = (ROOT / ".github/workflows" / workflow).read_text()
    data = yaml.safe_load(text)
    assert data["permissions"] == {}
    for job in data["jobs"].values():
        for step in job["steps"]:
            uses = step.get("uses")
            if uses:
                assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", uses), uses
            if uses and uses.startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    for line in re.findall(r"uses: \S+@[0-9a-f]{40}.*", text):
        assert re.search(r"# v\d+\.\d+\.\d+$", line), f"the tag beside the SHA: {line}"
