"""Links from names in a tutorial to their API reference pages, worked out offline.

Like sphinx-gallery's ``embed_code_links``: sphinx-gallery's `identify_names` finds the names a
script's code takes from its imports (``nn.Linear`` after ``from torch import nn`` is
``torch.nn.Linear``); a name links when it is a real torch, torchvision or Python standard
library object (checked by importing it, never by downloading an inventory) and its page
follows from the reference sites' URL patterns:

* torch: ``https://docs.pytorch.org/docs/stable/generated/torch.nn.Linear.html`` for functions
  and classes (a method: its class's page, ``#torch.nn.Module.parameters``), except the
  modules documented on one page (``data.html#torch.utils.data.DataLoader``) and a few
  objects with pages of their own (``tensors.html#torch.Tensor``);
* torchvision: ``https://docs.pytorch.org/vision/stable/generated/...``, models under
  ``models/generated/`` (a weights enum on its model builder's page);
* Python: ``https://docs.python.org/3/library/<module>.html#<module>.<name>``.

A tutorial's names and their pages are computed once, when the script is converted, and
kept in the notebook's metadata; `link_code` then wraps each highlighted name in the page's
code in a link, keeping Pygments' spans (and so the highlighting) inside the ``<a>``.
"""

from __future__ import annotations

import functools
import html
import importlib
import inspect
import json
import re
import sys
import threading
import types
from pathlib import Path

TORCH_DOCS = "https://docs.pytorch.org/docs/stable/"
VISION_DOCS = "https://docs.pytorch.org/vision/stable/"
PYTHON_DOCS = "https://docs.python.org/3/library/"

#: torch modules documented on one page (autoclass/autofunction), not in ``generated/``.
TORCH_MODULE_PAGES = {
    "torch.utils.data": "data.html",
    "torch.distributed": "distributed.html",
    "torch.multiprocessing": "multiprocessing.html",
    "torch.utils.checkpoint": "checkpoint.html",
    "torch.utils.tensorboard": "tensorboard.html",
    "torch.utils.benchmark": "benchmark_utils.html",
    "torch.amp": "amp.html",
    "torch.nn.init": "nn.init.html",
    "torch.testing": "testing.html",
    "torch.export": "export.html",
    "torch.backends": "backends.html",
    "torch.profiler": "profiler.html",
    "torch.fx": "fx.html",
    "torch.hub": "hub.html",
    "torch.library": "library.html",
    "torch.random": "random.html",
}
#: torch objects with a page (or anchor) of their own.
TORCH_OBJECT_PAGES = {
    "torch.Tensor": "tensors.html#torch.Tensor",
    "torch.device": "tensor_attributes.html#torch.device",
    "torch.dtype": "tensor_attributes.html#torch.dtype",
    "torch.layout": "tensor_attributes.html#torch.layout",
    "torch.memory_format": "tensor_attributes.html#torch.memory_format",
    "torch.Size": "size.html#torch.Size",
    "torch.autocast": "amp.html#torch.autocast",
    "torch.GradScaler": "amp.html#torch.amp.GradScaler",
}
#: Standard library modules never imported to check a name (they act when imported).
NEVER_IMPORT = {"antigravity", "this", "__main__", "idlelib", "turtle", "turtledemo", "tkinter"}


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def is_linkable_package(name: str) -> bool:
    top = _top(name)
    return top in ("torch", "torchvision") or (
        top in sys.stdlib_module_names and top not in NEVER_IMPORT and top != "builtins"
    )


_IMPORT_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4096)
def _lookup(fullname: str) -> tuple[object, str, str] | None:
    """The object named ``fullname``, the module it is read from and its path in that
    module: ``torch.nn.Linear`` -> (Linear, "torch.nn", "Linear"). None if it does not exist."""
    if not is_linkable_package(fullname):
        return None
    parts = fullname.split(".")
    module = None
    index = len(parts)
    while index > 0:
        try:
            # One import at a time: tutorials are converted in parallel threads, and two
            # threads importing torch at once see a partially initialised module.
            with _IMPORT_LOCK:
                module = importlib.import_module(".".join(parts[:index]))
            break
        except Exception:  # not a module (an attribute), or it fails to import
            index -= 1
    if module is None:
        return None
    obj: object = module
    for part in parts[index:]:
        try:
            obj = getattr(obj, part)
        except Exception:
            return None
    return obj, ".".join(parts[:index]), ".".join(parts[index:])


def _shortest_module(module: str, path: str, obj: object) -> str:
    """The shortest parent module that exposes the same object (``torch.nn.modules.linear``
    -> ``torch.nn``), as sphinx-gallery shortens them; documented names are the short ones."""
    first = path.split(".", 1)[0]
    parts = module.split(".")
    best = module
    for index in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:index])
        parent = sys.modules.get(candidate)
        try:
            same = getattr(parent, first) is getattr(sys.modules[module], first)
        except Exception:
            same = False
        if not same:
            break
        best = candidate
    return best


@functools.lru_cache(maxsize=4096)
def resolve(fullname: str) -> tuple[str, str] | None:
    """(canonical name, reference URL) of a torch, torchvision or stdlib object, or None."""
    found = _lookup(fullname)
    if found is None:
        return None
    obj, module, path = found
    if not path:  # a module
        return fullname, _module_url(fullname)
    module = _shortest_module(module, path, obj)
    name = f"{module}.{path}"
    url = _url(name, obj, module, path)
    return (name, url) if url else None


def _module_url(module: str) -> str:
    top = _top(module)
    if top == "torch":
        page = TORCH_MODULE_PAGES.get(module) or (module.removeprefix("torch.") + ".html")
        return TORCH_DOCS + ("torch.html" if module == "torch" else page)
    if top == "torchvision":
        return VISION_DOCS + module.removeprefix("torchvision.") + ".html"
    return f"{PYTHON_DOCS}{module.lower()}.html"


def _owner_is_class(module: str, path: str) -> bool:
    """``path`` is ``Class.attribute`` (documented on the class's page), not an attribute
    of some instance (``os.environ.get``), which has no reference page."""
    found = _lookup(f"{module}.{path.rsplit('.', 1)[0]}")
    return found is not None and inspect.isclass(found[0])


def _url(name: str, obj: object, module: str, path: str) -> str | None:
    if "." in path and not _owner_is_class(module, path):
        return None
    top = _top(name)
    if top == "torch":
        return _torch_url(name, obj, module, path)
    if top == "torchvision":
        owner = name.rsplit(".", 1)[0] if "." in path else name
        weights = re.search(r"^(.*)_(Quantized)?Weights$", owner.rsplit(".", 1)[-1])
        if weights and module.startswith("torchvision.models"):
            builder = f"{module}.{weights.group(1).lower()}"
            return _vision_page(builder, module) + "#" + owner
        if "." in path:
            return _vision_page(owner, module) + "#" + name
        return _vision_page(name, module) if callable(obj) else None
    return f"{PYTHON_DOCS}{module.lower()}.html#{name}"


def _vision_page(name: str, module: str) -> str:
    folder = "models/generated/" if module.startswith("torchvision.models") else "generated/"
    return f"{VISION_DOCS}{folder}{name}.html"


def _torch_url(name: str, obj: object, module: str, path: str) -> str | None:
    import torch

    if name in TORCH_OBJECT_PAGES:
        return TORCH_DOCS + TORCH_OBJECT_PAGES[name]
    for prefix, page in TORCH_MODULE_PAGES.items():
        if name == prefix or name.startswith(prefix + "."):
            return f"{TORCH_DOCS}{page}#{name}"
    if isinstance(obj, torch.dtype):
        return TORCH_DOCS + TORCH_OBJECT_PAGES["torch.dtype"]
    if not (callable(obj) or inspect.isclass(obj)):
        return None
    if name.startswith("torch.Tensor."):
        return f"{TORCH_DOCS}generated/{name}.html"
    if "." in path:  # an attribute of a class: on the class's page
        owner = f"{module}.{path.rsplit('.', 1)[0]}"
        found = _lookup(owner)
        if found is not None and inspect.isclass(found[0]):
            return f"{TORCH_DOCS}generated/{owner}.html#{name}"
    return f"{TORCH_DOCS}generated/{name}.html"


# -- A memo of lookups, kept between builds -------------------------------------------------
#
# Resolving a name imports its module, and the first torch name imports torch: seconds, in
# a build that only has to convert one edited script's prose. The answers depend only on the
# installed packages and this module, so the build keeps them in a file named by both
# (`use_memo`), and a conversion imports nothing for a name it has seen.

_MEMO: dict[str, list | None] = {}
_MEMO_FILE: list[Path | None] = [None]
_MEMO_LOCK = threading.Lock()


def version() -> str:
    """A hash of this module's code: a memo made by other code is not read."""
    import hashlib

    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def use_memo(cache_dir: Path, environment: str) -> None:
    """Read the memo kept in ``cache_dir`` for ``environment`` (a fingerprint of the installed
    packages) and this module's code, if there is one, and write to it in `save_memo`."""
    path = Path(cache_dir) / f"apiref-{environment[:16]}-{version()}.json"
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        loaded = {}
    with _MEMO_LOCK:
        _MEMO.clear()
        _MEMO.update(loaded)
        _MEMO_FILE[0] = path


def save_memo() -> None:
    """Write the memo back, if `use_memo` named a file and it learnt something."""
    path = _MEMO_FILE[0]
    if path is None:
        return
    with _MEMO_LOCK:
        data = json.dumps(_MEMO, sort_keys=True)
    from .cache import write_atomic

    try:
        if path.is_file() and path.read_text(encoding="utf-8") == data:
            return
        write_atomic(path, data)
    except OSError:  # a memo that cannot be written only costs the next build an import
        return


def _known(fullname: str) -> list | None:
    """[canonical name, URL, is it a module] for ``fullname``, or None: `resolve`, memoised."""
    if fullname in _MEMO:
        return _MEMO[fullname]
    resolved = resolve(fullname)
    answer = None
    if resolved is not None:
        answer = [*resolved, isinstance(_lookup(fullname)[0], types.ModuleType)]
    with _MEMO_LOCK:
        _MEMO[fullname] = answer
    return answer


def resolve_role(role: str, target: str, current_module: str = "") -> tuple[str, str] | None:
    """A ``:func:`` / ``:class:`` / ... target, looked up as Sphinx does: in the current module
    first, then as written."""
    candidates = [f"{current_module}.{target}"] if current_module else []
    candidates.append(target)
    for candidate in candidates:
        known = _known(candidate) if is_linkable_package(candidate) else None
        if known is not None:
            return known[0], known[1]
    return None


def code_names(code: list[str]) -> dict[str, list[str]]:
    """Names used in ``code`` (the cells of one script, in order) that resolve:
    ``{"nn.Linear": ["torch.nn.Linear", url], ...}``. Modules themselves are not linked."""
    import ast

    from .adapters.sphinx_gallery import name_finder

    finder = name_finder()
    for source in code:
        try:
            finder.visit(ast.parse(source))
        except SyntaxError:
            continue
    names: dict[str, list[str]] = {}
    for name, full_name, *_ in finder.get_mapping():
        if name in names or not is_linkable_package(full_name):
            continue
        known = _known(full_name)
        if known is None or known[2]:  # unresolved, or a module
            continue
        names[name] = known[:2]
    return dict(sorted(names.items()))


def is_api(fullname: str) -> bool:
    """Listed in the API index: torch and torchvision, not the standard library."""
    return _top(fullname) in ("torch", "torchvision")


# -- Pages ---------------------------------------------------------------------------------

_NAME_SPAN = r'<span class="n">([^<]*)</span>'
_DOT = r'<span class="o">\.</span>'
#: A dotted name as Pygments highlights it, not itself an attribute (``x.torch``).
_CHAIN = re.compile(rf"(?<!{_DOT}){_NAME_SPAN}(?:{_DOT}{_NAME_SPAN})*")
_PART = re.compile(_NAME_SPAN)


def link_code(code_html: str, names: dict[str, list[str]]) -> str:
    """Wrap each highlighted occurrence of a resolved name in a link to its reference page.

    ``code_html`` is Pygments' output (``<span class="n">nn</span><span class="o">.</span>...``);
    the longest name wins (``torch.nn.functional.relu`` before ``torch.nn``), and a name that is
    itself an attribute (``x.torch``) is left alone.
    """
    if not names:
        return code_html

    def link(match: re.Match) -> str:
        chain = match.group(0)
        parts = [(m.group(1), m.end()) for m in _PART.finditer(chain)]
        for count in range(len(parts), 0, -1):  # the longest dotted prefix that is a name
            name = ".".join(part for part, _ in parts[:count])
            if name in names:
                fullname, url = names[name]
                end = parts[count - 1][1]
                return (
                    f'<a href="{html.escape(url)}" class="api-link" '
                    f'title="{html.escape(fullname)}">{chain[:end]}</a>{chain[end:]}'
                )
        return chain

    return _CHAIN.sub(link, code_html)
