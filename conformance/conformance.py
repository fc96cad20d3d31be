"""Conformance with sphinx-gallery (`nox -s conformance`): its own examples, built twice.

sphinx-gallery's source distribution (the version pinned in pyproject.toml, downloaded once
with pip into ``.cache/conformance/``: a package registry is the only network this needs)
ships its documentation's examples (``examples/``) and its test project's
(``sphinx_gallery/tests/tinybuild/``). Each gallery of them is built twice:

* with Sphinx and sphinx-gallery, configured as sphinx-gallery's "Getting started" configures
  them: ``extensions = ["sphinx_gallery.gen_gallery"]`` and ``examples_dirs`` /
  ``gallery_dirs``, every other option at its default;
* with this project: the scripts as ``tutorials/`` of a site with this project's
  ``mkdocs.yml``, ``mkdocs build --strict``.

Then every example page is compared, field by field: the title, the headings, the prose (as
a sequence of words and punctuation), inline and display math, each code cell's code, its
captured output and its number of figures (and whether the output sits above the code), the
tags, and the thumbnail (which figure it is, or the default). A script that fails in
sphinx-gallery must fail here at the same line (this site fails the build, with file and
line, where sphinx-gallery writes the traceback into the page). A script that imports a
package this project does not ship is listed and skipped, as are files that are not examples
under sphinx-gallery's default options.

Before comparing, both sides are normalised where this site differs by design, each for a
reason listed in `NORMALISATIONS` (for instance, config comments are hidden here, as
sphinx-gallery hides them with ``remove_config_comments``). The differences that remain are
expected only where `EXPECTED` lists them with a reason; the run fails on any other
difference, and on an expected one that no longer occurs. It prints one line per page and
``k/n pages equivalent``, and writes every field of every page to ``report.json``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutorial_pipeline.bound import bound_text

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".cache" / "conformance"
TINYBUILD = "sphinx_gallery/tests/tinybuild"
#: The galleries built: a name, the examples folder in the sdist, the folder (under the
#: Sphinx source) where sphinx-gallery writes it.
GALLERIES = [
    ("examples", "examples", "auto_examples"),
    ("tinybuild", f"{TINYBUILD}/examples", "auto_tinybuild"),
    ("tinybuild_README_header", f"{TINYBUILD}/examples_README_header", "auto_readme_header"),
    ("tinybuild_with_rst", f"{TINYBUILD}/examples_with_rst", "auto_with_rst"),
]
#: Example folders of the test project that sphinx-gallery's default options cannot build.
NOT_BUILT = {
    f"{TINYBUILD}/examples_rst_index": (
        "has a hand-written index.rst instead of a GALLERY_HEADER: needs conf.py's "
        "copyfile_regex (with default options sphinx-gallery refuses the folder)"
    ),
}
#: Why each normalisation is made before comparing (see `normalise_output`, `_code`).
NORMALISATIONS = {
    "config comments": (
        "this site hides `# sphinx_gallery_...` comments in the code shown, as sphinx-gallery "
        "does with remove_config_comments = True (its default shows them), and shows no "
        "code block where a block holds nothing else"
    ),
    "paths": (
        "a path of the build machine in an output is shown by its name in the script's "
        "folder (sys.argv[0], a warning's file): no page here holds a path of the machine"
    ),
    "addresses": "memory addresses in a repr (0x7f...) differ from run to run on both sides",
    "long outputs": (
        "this site's pages show an output over 200 lines by its first and last lines and one "
        "line saying how many are left out (the downloadable notebook has them all); "
        "sphinx-gallery's output is cut by the same function before comparing, so the lines "
        "shown and the count left out must match"
    ),
}
#: Differences that remain, by page and field, with the reason. A page listed here is not
#: counted as equivalent.
_NOT_RUN = (
    "sphinx-gallery runs only the scripts that its filename_pattern matches, by default those "
    "whose name starts with plot, and shows this one unexecuted; this site runs every "
    "tutorial (as sphinx-gallery does with filename_pattern = '.*' in conf.py)"
)
EXPECTED: dict[str, dict[str, str]] = {
    "examples/no_output/just_code.py": {"cells": _NOT_RUN, "output_first": _NOT_RUN},
    "examples/plot_0_sin.py": {
        "prose": (
            "its :ref: names the page of no_output/plot_syntaxerror.py, which fails by design: "
            "sphinx-gallery writes a page with the traceback, this site fails the build, so "
            "the run builds the site without it and the reference shows as its text"
        )
    },
    "tinybuild/local_module.py": {
        "title": (
            "its docstring has no title: sphinx-gallery writes a page without one, MkDocs "
            "gives every page a title (here from the file name)"
        )
    },
    "tinybuild/plot_animation.py": {
        "error": (
            "its text links to `mylink`_, a target that the test project's conf.py defines "
            "in rst_prolog; without it docutils reports an error (level 3), which Sphinx shows "
            "as red text and this site refuses, with the file and line"
        )
    },
    "tinybuild/plot_pickle.py": {
        "error": (
            "it asserts that __file__ is not set: sphinx-gallery leaves it unset, this site "
            "sets it, so that a tutorial finds the files beside it as `python script.py` does"
        )
    },
}


# -- The sources ---------------------------------------------------------------------------


def sdist(version: str) -> Path:
    """sphinx-gallery's source distribution of ``version``, unpacked (downloaded once)."""
    folder = WORK / f"sphinx_gallery-{version}"
    if folder.is_dir():
        return folder
    WORK.mkdir(parents=True, exist_ok=True)
    archive = WORK / f"sphinx_gallery-{version}.tar.gz"
    if not archive.is_file():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             ":all:", f"sphinx-gallery=={version}", "--dest", str(WORK)],
            check=True,
        )  # fmt: skip
    with tarfile.open(archive) as tar:
        tar.extractall(WORK, filter="data")
    return folder


def imports(script: Path) -> set[str]:
    import ast

    try:
        tree = ast.parse(script.read_bytes())
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def missing_packages(script: Path) -> list[str]:
    """Top-level packages the script imports that are not installed here (not shipped)."""
    local = {p.stem for p in script.parent.glob("*.py")}
    return sorted(
        name
        for name in imports(script) - local
        if name not in sys.stdlib_module_names and importlib.util.find_spec(name) is None
    )


@dataclass
class Gallery:
    name: str
    source: Path  # the examples folder in the sdist
    target: str  # sphinx-gallery's gallery_dirs entry
    scripts: list[Path] = field(default_factory=list)  # the examples both sides build
    skipped: dict[str, str] = field(default_factory=dict)  # relative path -> why


def prepare(source_root: Path, work: Path) -> list[Gallery]:
    """Copy each gallery's examples into ``work/examples/<name>``, less the skipped ones."""
    galleries = []
    for name, relative, target in GALLERIES:
        gallery = Gallery(name, source_root / relative, target)
        copy = work / "examples" / name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(gallery.source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        for path in sorted(copy.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(copy).as_posix()
            if path.suffix != ".py" and path.name not in ("GALLERY_HEADER.rst", "README.rst",
                                                            "README.txt"):  # fmt: skip
                if path.suffix in (".m", ".jl", ".cpp", ".rst"):
                    gallery.skipped[rel] = (
                        "not an example with default options: needs conf.py's example_extensions"
                    )
                continue
            if path.suffix != ".py" or path.name == "__init__.py":
                continue
            missing = missing_packages(path)
            if missing:
                gallery.skipped[rel] = (
                    "imports " + ", ".join(missing) + ", which this project does not ship"
                )
                path.unlink()
                continue
            gallery.scripts.append(path)
        galleries.append(gallery)
    return galleries


# -- Sphinx --------------------------------------------------------------------------------


def build_sphinx(galleries: list[Gallery], source_root: Path, work: Path) -> Path:
    """Build every gallery with Sphinx and sphinx-gallery; return the Sphinx source folder."""
    doc = work / "sphinx" / "doc"
    shutil.rmtree(work / "sphinx", ignore_errors=True)
    doc.mkdir(parents=True)
    # The test project's static files (its thumbnail_path names one of them).
    shutil.copytree(
        source_root / TINYBUILD / "doc/_static_nonstandard", doc / "_static_nonstandard"
    )
    dirs = [os.path.relpath(work / "examples" / g.name, doc) for g in galleries]
    (doc / "conf.py").write_text(
        '"""sphinx-gallery as its Getting started configures it."""\n\n'
        'extensions = ["sphinx_gallery.gen_gallery"]\n'
        f"sphinx_gallery_conf = {{\n    'examples_dirs': {dirs!r},\n"
        f"    'gallery_dirs': {[g.target for g in galleries]!r},\n}}\n",
        encoding="utf-8",
    )
    toctree = "\n".join(f"   {g.target}/index" for g in galleries)
    (doc / "index.rst").write_text(
        f"Conformance\n===========\n\n.. toctree::\n\n{toctree}\n", encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(doc), str(work / "sphinx/html")],
        capture_output=True,
        text=True,
        cwd=work,
    )
    (work / "sphinx/build.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    # sphinx-gallery ends with an error when an example fails: the pages are written by then.
    if not (work / "sphinx/html/index.html").is_file():
        raise SystemExit(f"the Sphinx build failed:\n{result.stdout}\n{result.stderr}")
    return doc


# -- This project --------------------------------------------------------------------------


def build_site(
    gallery: Gallery, source_root: Path, work: Path, failing: set[str]
) -> tuple[Path, dict[str, str]]:
    """Build ``gallery`` with this project, less the scripts that fail in sphinx-gallery
    (they fail this build: `failures` builds each alone) and any that fail here (then built
    again without them). Returns the project folder and, for each script that failed here,
    ``file:line: error``."""
    import yaml

    project = work / "site" / gallery.name
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["hooks"] = [str(ROOT / "src/tutorial_pipeline/mkdocs_hook.py")]
    config["theme"]["custom_dir"] = str(ROOT / "docs/overrides")
    config["nav"] = [{"Home": "index.md"}, {"All tutorials": "tutorials/index.md"}]
    config["extra_css"] = ["assets/site.css"]
    config.pop("extra_javascript", None)
    config.pop("watch", None)
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config))
    (project / "docs/assets").mkdir(parents=True)
    shutil.copy(ROOT / "docs/assets/site.css", project / "docs/assets/site.css")
    (project / "docs/index.md").write_text("# Home\n", encoding="utf-8")
    # thumbnail_path is relative to the docs folder here, as to conf.py's folder there.
    shutil.copytree(
        source_root / TINYBUILD / "doc/_static_nonstandard", project / "docs/_static_nonstandard"
    )
    tutorials = project / "tutorials"
    shutil.copytree(work / "examples" / gallery.name, tutorials)
    for rel in failing:
        (tutorials / rel).unlink()
    failed_here: dict[str, str] = {}
    while True:
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict"],
            cwd=project,
            capture_output=True,
            text=True,
            env={**os.environ, "TUTORIAL_CACHE_DIR": str(project / ".cache")},
        )
        (project / "build.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        if result.returncode == 0:
            return project, failed_here
        found = re.findall(r"^tutorials/(\S+\.py):(\d+): (.*)$", result.stderr, re.M)
        fresh = {rel: f"{Path(rel).name}:{line}: {message}" for rel, line, message in found}
        if not fresh or set(fresh) <= set(failed_here):
            raise SystemExit(f"this project's build of {gallery.name} failed:\n{result.stderr}")
        for rel, where in fresh.items():
            failed_here.setdefault(rel, where)
            (tutorials / rel).unlink(missing_ok=True)


def failures(scripts: list[Path], work: Path) -> dict[str, str]:
    """Build each of ``scripts`` alone with this project: script -> ``file:line: error``."""
    from tutorial_pipeline import TutorialBuildError, build_tutorials

    found = {}
    for script in scripts:
        try:
            build_tutorials([script], cache_dir=work / "failing-cache", jobs=1, strict=False)
        except TutorialBuildError as exc:
            (failure,) = exc.failures
            found[script.name] = f"{script.name}:{failure.line}: {failure.message}"
        else:
            found[script.name] = "(built without error)"
    return found


# -- Reading the pages ---------------------------------------------------------------------


@dataclass
class Cell:
    code: str
    figures: int = 0
    side_by_side: bool = False  # several figures in a row (sphinx-gallery's multi_image)
    output: str = ""
    html: bool = False


@dataclass
class Page:
    title: str = ""
    headings: list[list] = field(default_factory=list)  # [level, text]
    prose: list[str] = field(default_factory=list)  # words and punctuation
    inline_math: list[str] = field(default_factory=list)
    display_math: list[str] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    output_first: bool = False
    tags: str = ""
    thumbnail: str = ""
    error: str = ""  # where the script fails, if it does


_CONFIG_COMMENT = re.compile(r"^[ \t]*#\s*sphinx_gallery_[A-Za-z0-9_]+.*\n?", re.M)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def _text(element) -> str:
    return " ".join(element.get_text(" ").split())


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def _tex(text: str) -> str:
    text = text.strip()
    for opening, closing in [("\\(", "\\)"), ("\\[", "\\]")]:
        if text.startswith(opening) and text.endswith(closing):
            text = text[len(opening) : -len(closing)]
    text = re.sub(r"\\(?:begin|end)\{(?:equation\*?|split|align\*?|aligned)\}", " ", text)
    return " ".join(text.split())


def _code(text: str, *, sphinx: bool) -> str:
    if sphinx:  # NORMALISATIONS["config comments"]
        text = _CONFIG_COMMENT.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def normalise_output(text: str, script: str) -> str:
    """NORMALISATIONS["paths"] and ["addresses"]; trailing spaces and blank lines."""
    text = re.sub(r"(?:/[^\s'\"/:]+)+/(" + re.escape(script) + r")\b", r"\1", text)
    text = _ADDRESS.sub("0x…", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def read_sphinx_page(path: Path, script: str) -> Page:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    body = soup.select_one('div[role="main"]') or soup.body
    for junk in body.select(
        "div.sphx-glr-download-link-note, p.sphx-glr-timing, div.sphx-glr-footer, "
        "p.sphx-glr-signature, a.headerlink, div.sphx-glr-footer-example"
    ):
        junk.decompose()
    page = Page()
    for tags in body.select("p.sphx-glr-example-tags"):
        page.tags = _text(tags).replace("\N{LABEL}", "").strip()
        tags.decompose()
    seen_code = False
    for element in body.find_all(True):
        classes = element.get("class") or []
        if _add_heading(page, element):
            continue
        if element.name == "div" and "highlight-Python" in classes:
            _add_code(page, _code(element.select_one("pre").get_text(), sphinx=True), seen_code)
            seen_code = True
        elif element.name == "img" and {"sphx-glr-single-img", "sphx-glr-multi-img"} & set(classes):
            cell = _current(page)
            cell.figures += 1
            cell.side_by_side = cell.side_by_side or "sphx-glr-multi-img" in classes
        elif element.name == "div" and "sphx-glr-script-out" in classes:
            cell = _current(page)
            text = element.select_one("pre").get_text()
            # NORMALISATIONS["long outputs"]
            shown = bound_text(text) or text
            cell.output = "\n".join(filter(None, [cell.output, shown]))
            if element.select_one("div.highlight-pytb") or "highlight-pytb" in classes:
                page.error = _sphinx_error(text, script)
        elif element.name == "div" and "output_html" in classes:
            _current(page).html = True
        elif element.name == "span" and "math" in classes:
            page.inline_math.append(_tex(element.get_text()))
        elif element.name == "div" and "math" in classes:
            page.display_math.append(_tex(element.get_text()))
    page.output_first = bool(page.cells) and not seen_code_first(body)
    # NORMALISATIONS["config comments"]: a block of them alone is no cell here.
    page.cells = [c for c in page.cells if c.code or c.figures or c.output or c.html]
    for cell in page.cells:
        cell.output = normalise_output(cell.output, script)
    _strip_for_prose(
        body,
        "div.highlight-Python, div.sphx-glr-script-out, img, div.output_html, span.math, "
        "div.math, h1, h2, h3, h4, h5, h6",
    )
    page.prose = _tokens(_text(body))
    return page


def seen_code_first(body) -> bool:
    """Whether the page's first gallery code block comes before its first output."""
    for element in body.find_all(True):
        classes = element.get("class") or []
        if element.name == "div" and "highlight-Python" in classes:
            return True
        if {
            "sphx-glr-script-out",
            "output_html",
            "sphx-glr-single-img",
            "sphx-glr-multi-img",
        } & set(classes):
            return False
    return True


def _add_heading(page: Page, element) -> bool:
    """The page's title (its first h1) or one more heading, if ``element`` is a heading."""
    if element.name not in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return False
    if element.name == "h1" and not page.title:
        page.title = _text(element)
    elif element.name != "h1":
        page.headings.append([int(element.name[1]), _text(element)])
    return True


def _current(page: Page) -> Cell:
    """The cell an output belongs to: the last code cell, or (an output above the code) a
    cell whose code is about to come."""
    if not page.cells:
        page.cells.append(Cell(""))
    return page.cells[-1]


def _add_code(page: Page, code: str, seen_code: bool) -> None:
    if page.cells and not seen_code and not page.cells[-1].code:
        page.cells[-1].code = code  # its outputs came first
    else:
        page.cells.append(Cell(code))


def _sphinx_error(traceback: str, script: str) -> str:
    frames = re.findall(r'File "[^"]*?' + re.escape(script) + r'", line (\d+)', traceback)
    last = traceback.strip().splitlines()[-1] if traceback.strip() else ""
    return f"{script}:{frames[-1] if frames else '?'}: {last}"


def _strip_for_prose(body, selector: str) -> None:
    for element in body.select(selector):
        element.decompose()


def read_site_page(path: Path, script: str) -> Page:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    body = soup.select_one("article")
    for junk in body.select(
        "div.tutorial-meta, p.tutorial-downloads, p.api-list, a.headerlink, aside, "
        "a.md-content__button, h2#apis-used"
    ):
        junk.decompose()
    page = Page()
    for tags in body.select("p.tutorial-tags"):
        page.tags = _text(tags)
        tags.decompose()
    seen_code = False
    for element in body.find_all(True):
        classes = element.get("class") or []
        if _add_heading(page, element):
            continue
        if element.name == "div" and "language-python" in classes:
            _add_code(page, _code(element.select_one("pre").get_text(), sphinx=False), seen_code)
            seen_code = True
        elif element.name == "div" and "nb-output" in classes:
            cell = _current(page)
            cell.figures += len(element.select("figure.nb-figure"))
            cell.side_by_side = cell.side_by_side or bool(element.select("div.nb-figures-row"))
            texts = [pre.get_text() for pre in element.select("pre")]
            cell.output = "\n".join(filter(None, [cell.output, *texts]))
            cell.html = cell.html or bool(element.select("div.nb-rich"))
        elif element.name == "span" and "arithmatex" in classes:
            tex = element.get_text()
            target = page.inline_math if tex.strip().startswith("\\(") else page.display_math
            target.append(_tex(tex))
    page.output_first = bool(page.cells) and not _site_code_first(body)
    for cell in page.cells:
        cell.output = normalise_output(cell.output, script)
    _strip_for_prose(
        body, "div.language-python, div.nb-output, span.arithmatex, h1, h2, h3, h4, h5, h6"
    )
    page.prose = _tokens(_text(body))
    return page


def _site_code_first(body) -> bool:
    for element in body.find_all(True):
        classes = element.get("class") or []
        if element.name == "div" and "language-python" in classes:
            return True
        if element.name == "div" and "nb-output" in classes:
            return False
    return True


# -- Thumbnails ----------------------------------------------------------------------------


def _pixels(data: bytes):
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA").tobytes(), image.size


def sphinx_thumbnail(doc: Path, gallery: Gallery, rel: str) -> str:
    """Which image sphinx-gallery's thumbnail of ``rel`` was scaled from."""
    import tempfile

    from sphinx_gallery import glr_path_static
    from sphinx_gallery.utils import scale_image

    folder = doc / gallery.target / Path(rel).parent / "images"
    stem = Path(rel).stem
    thumb = folder / "thumb" / f"sphx_glr_{stem}_thumb.png"
    if not thumb.is_file():
        return "none"
    wanted = _pixels(thumb.read_bytes())
    candidates = {
        f"figure {int(p.stem.rsplit('_', 1)[1])}": p
        for p in sorted(folder.glob(f"sphx_glr_{stem}_[0-9][0-9][0-9].png"))
    }
    candidates["default"] = Path(glr_path_static()) / "no_image.png"
    candidates["broken"] = Path(glr_path_static()) / "broken_example.png"
    for static in (doc / "_static_nonstandard").glob("*.png"):
        candidates[f"file {static.name}"] = static
    with tempfile.TemporaryDirectory() as scratch:
        for label, path in candidates.items():
            scaled = Path(scratch) / f"{len(label)}-{path.name}"
            scale_image(str(path), str(scaled), 400, 280)
            if _pixels(scaled.read_bytes()) == wanted:
                return label
    return "unknown"


def site_thumbnail(project: Path, stem: str) -> str:
    """Which image this site's thumbnail of ``stem`` was scaled from."""
    from tutorial_pipeline.gallery import thumbnail

    thumb = project / "site/tutorials/thumbnails" / f"{stem}.png"
    if not thumb.is_file():
        return "default"
    data = thumb.read_bytes()
    page = project / "site/tutorials" / stem
    for path in sorted(
        page.glob(f"{stem}-figure-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1])
    ):
        if thumbnail(path.read_bytes()) == data:
            return f"figure {int(path.stem.rsplit('-', 1)[1])}"
    for static in (project / "docs/_static_nonstandard").glob("*.png"):
        if thumbnail(static.read_bytes()) == data:
            return f"file {static.name}"
    return "unknown"


# -- Comparing -----------------------------------------------------------------------------


FIELDS = ("title", "headings", "prose", "inline_math", "display_math", "cells", "output_first",
          "tags", "thumbnail", "error")  # fmt: skip


def compare(sphinx: Page, site: Page) -> dict[str, str]:
    """The fields that differ, each with a short description."""
    differences = {}
    for name in FIELDS:
        left, right = getattr(sphinx, name), getattr(site, name)
        if name == "cells":
            left, right = [asdict(c) for c in left], [asdict(c) for c in right]
        if left != right:
            differences[name] = _describe(name, left, right)
    return differences


def _describe(name: str, left, right) -> str:
    if name == "prose":
        index = next(
            (i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b),
            min(len(left), len(right)),
        )
        return (
            f"Sphinx: ...{' '.join(left[max(0, index - 6) : index + 8])}... | "
            f"here: ...{' '.join(right[max(0, index - 6) : index + 8])}..."
        )
    if name == "cells":
        if len(left) != len(right):
            return f"{len(left)} cells in Sphinx, {len(right)} here"
        for number, (a, b) in enumerate(zip(left, right, strict=True), 1):
            keys = [k for k in a if a[k] != b[k]]
            if keys:
                key = keys[0]
                return f"cell {number}, {key}: Sphinx {a[key]!r} | here {b[key]!r}"
    return f"Sphinx {left!r} | here {right!r}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=WORK / "run", help="where to build")
    parser.add_argument(
        "--reuse-sphinx", action="store_true", help="keep the last Sphinx build (while iterating)"
    )
    arguments = parser.parse_args()
    version = importlib.metadata.version("sphinx-gallery")
    source_root = sdist(version)
    work = arguments.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    galleries = prepare(source_root, work)
    print(f"sphinx-gallery {version}, Sphinx {importlib.metadata.version('sphinx')}: building")
    doc = work / "sphinx" / "doc"
    if not (arguments.reuse_sphinx and (work / "sphinx/html/index.html").is_file()):
        doc = build_sphinx(galleries, source_root, work)
    html = work / "sphinx/html"
    results: dict[str, dict] = {}
    for gallery in galleries:
        copy = work / "examples" / gallery.name
        sphinx_pages = {}
        for script in gallery.scripts:
            rel = script.relative_to(copy).as_posix()
            page = html / gallery.target / Path(rel).with_suffix(".html")
            sphinx_pages[rel] = read_sphinx_page(page, script.name)
            sphinx_pages[rel].thumbnail = sphinx_thumbnail(doc, gallery, rel)
        failing = {rel for rel, page in sphinx_pages.items() if page.error}
        project, failed_here = build_site(gallery, source_root, work, failing)
        errors = failures([copy / rel for rel in sorted(failing)], work)
        for script in gallery.scripts:
            rel = script.relative_to(copy).as_posix()
            key = f"{gallery.name}/{rel}"
            sphinx_page = sphinx_pages[rel]
            if rel in failing or rel in failed_here:
                # Where it fails, not the wording of the error.
                error = errors.get(script.name) or failed_here[rel]
                site_page = Page(error=error.split(": ", 1)[0])
                sphinx_page = Page(error=sphinx_page.error.split(": ", 1)[0])
            else:
                site_page = read_site_page(
                    project / "site/tutorials" / script.stem / "index.html", script.name
                )
                site_page.thumbnail = site_thumbnail(project, script.stem)
            differences = compare(sphinx_page, site_page)
            results[key] = {
                "differences": differences,
                "sphinx": asdict(sphinx_page),
                "site": asdict(site_page),
                "failing": rel in failing,
                "error here": failed_here.get(rel) or errors.get(script.name, ""),
            }
    skipped = {f"{g.name}/{rel}": why for g in galleries for rel, why in g.skipped.items()}
    skipped.update({folder: why for folder, why in NOT_BUILT.items()})
    (work / "report.json").write_text(
        json.dumps({"pages": results, "skipped": skipped}, indent=1, ensure_ascii=False),
        encoding="utf-8",
    )
    return summarise(results, skipped)


def summarise(results: dict[str, dict], skipped: dict[str, str]) -> int:
    """Print every page's verdict and the totals; 1 if a difference is not in `EXPECTED`
    or an expected one no longer occurs."""
    unexpected, stale = [], []
    counts = {"equivalent": 0, "fail alike": 0, "different": 0}
    for key, result in results.items():
        found = result["differences"]
        expected = EXPECTED.get(key, {})
        if not found and result["failing"]:
            counts["fail alike"] += 1
            print(f"  fails alike  {key}: {result['error here']}")
        elif not found:
            counts["equivalent"] += 1
            print(f"  equivalent   {key}")
        else:
            counts["different"] += 1
            print(f"  different    {key}")
            for name, description in found.items():
                reason = expected.get(name)
                print(f"      {'expected' if reason else 'UNEXPECTED'} {name}: {description[:300]}")
                if reason:
                    print(f"          why: {reason}")
                else:
                    unexpected.append((key, name))
        stale += [(key, name) for name in expected if name not in found]
    for key, why in skipped.items():
        print(f"  skipped      {key}: {why}")
    pages = counts["equivalent"] + counts["different"]
    print(
        f"{counts['equivalent']}/{pages} pages equivalent; {counts['fail alike']} scripts that "
        "fail in sphinx-gallery fail here at the same line; "
        f"{len(skipped)} files or folders skipped"
    )
    for key, name in stale:
        print(f"STALE: {key} {name} is listed in EXPECTED but no longer differs")
    if unexpected:
        print(f"{len(unexpected)} unexpected differences")
    return 1 if unexpected or stale else 0


if __name__ == "__main__":
    sys.exit(main())
