"""Posts show only snippet files, and the doctests of those files really check the output."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest
from conftest import ROOT

POSTS = sorted((ROOT / "docs").rglob("*.md"))
SNIPPETS = sorted((ROOT / "snippets").rglob("*.pycon"))
_FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)
_INCLUDE = re.compile(r'^\s*--8<-- "(?P<path>[^"]+)"\s*$')


@pytest.mark.parametrize("post", POSTS, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_every_code_block_is_an_included_snippet(post: Path):
    for block in _FENCE.findall(post.read_text(encoding="utf-8")):
        match = _INCLUDE.match(block)
        assert match, f"{post.name}: code pasted into the page instead of included:\n{block}"
        assert (ROOT / match["path"]).is_file()


def test_every_snippet_is_shown_in_a_post():
    included = {
        match["path"]
        for post in POSTS
        for block in _FENCE.findall(post.read_text(encoding="utf-8"))
        if (match := _INCLUDE.match(block))
    }
    unused = {str(s.relative_to(ROOT)) for s in SNIPPETS} - included
    assert not unused, f"snippets that no post shows: {sorted(unused)}"


def test_why_pytorch_has_at_least_three_snippets():
    text = (ROOT / "docs/posts/why-pytorch.md").read_text(encoding="utf-8")
    assert len(re.findall(r'--8<-- "snippets/', text)) >= 3


@pytest.mark.parametrize(
    "snippet",
    ["snippets/computational_graph/derivative.pycon", "snippets/tensors_reference/creation.pycon"],
)
def test_one_changed_character_in_a_shown_output_fails(snippet: str, tmp_path: Path):
    text = (ROOT / snippet).read_text(encoding="utf-8")
    assert doctest.testfile(str(ROOT / snippet), module_relative=False, verbose=False).failed == 0
    # Change the last digit of the first output line that has one.
    lines = text.splitlines(keepends=True)
    index = next(
        i
        for i, line in enumerate(lines)
        if not line.startswith((">>>", "...")) and re.search(r"\d", line)
    )
    position = max(i for i, ch in enumerate(lines[index]) if ch.isdigit())
    digit = lines[index][position]
    lines[index] = (
        lines[index][:position] + str((int(digit) + 1) % 10) + lines[index][position + 1 :]
    )
    mutated = tmp_path / Path(snippet).name
    mutated.write_text("".join(lines), encoding="utf-8")
    result = doctest.testfile(str(mutated), module_relative=False, verbose=False, report=False)
    assert result.failed == 1


def test_the_install_post_names_every_package_the_tutorials_import():
    """What a reader installs (the install post) is the tutorials' dependency group."""
    import tomllib

    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    wanted = {
        re.split(r"[=<>!~ ]", item)[0]
        for item in groups["tutorials"]
        if isinstance(item, str) and not item.startswith(("torch==", "torchvision=="))
    }
    command = (ROOT / "snippets/install/tutorial_packages.sh").read_text()
    installed = set(re.search(r"pip3 install (.+)", command).group(1).split())
    assert installed == wanted
