"""Render each tutorial's page while the other tutorials are still running.

mkdocs renders pages only after ``on_files``, that is after the last tutorial has run, and
mkdocs-jupyter's rendering of a notebook takes about half a second: a cold build of 14
tutorials ended with seven seconds of rendering on one core, while the other core, and
before that the core the last tutorial's kernel had left, sat idle. `Prerender` takes each
tutorial as soon as it has run, publishes its notebook (`publish.publish_notebook`, with a
site index made from the tutorials' unexecuted notebooks, which hold the same headings and
labels) and renders it into mkdocs-jupyter's own cache, in one background thread.

With a single tutorial to run there is nothing to overlap, and the index would cost more
than it saves, so the first tutorial waits for a second one before anything is rendered.

It is speculative and cannot make a page wrong: mkdocs-jupyter's cache is keyed on the
published notebook's bytes and its settings, so if ``on_files`` publishes different bytes
(a cross-reference resolved differently), the entry is simply not used and the page is
rendered as usual; any error here only logs, and the normal render raises it again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import bound, publish
from .adapters import mkdocs_jupyter
from .cache import write_atomic
from .convert import script_to_notebook, strict_tutorial
from .pipeline import PARSE_LOCK, TutorialResult
from .refresh import refresh_result

log = logging.getLogger("mkdocs.plugins.tutorial_pipeline")


def strictness(config, tutorials_dir: Path) -> Callable[[Path], bool]:
    """Which scripts are this site's own, strict ones: ``extra.strict_tutorials`` in
    mkdocs.yml (`convert.strict_tutorial`)."""
    patterns = (config.extra or {}).get("strict_tutorials") or []
    return lambda script: strict_tutorial(script, tutorials_dir, patterns)


class Prerender:
    """A background renderer of executed tutorials into mkdocs-jupyter's cache."""

    def __init__(
        self,
        jupyter_config,
        *,
        scripts: list[Path],
        tutorials_dir: Path,
        files,
        pages,
        cache_root: Path,
        strict: Callable[[Path], bool],
    ):
        self.config = jupyter_config
        self.cache_root = cache_root
        self.strict = strict
        self.scripts = scripts
        self.tutorials_dir = tutorials_dir
        self.files = files
        self.pages = pages
        self._index: publish.SiteIndex | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prerender")
        self._lock = threading.Lock()
        self._first: TutorialResult | None = None  # held until a second tutorial has run
        self._started = False

    @classmethod
    def for_config(cls, config, **kwargs) -> Prerender | None:
        """A renderer for this site, or None where mkdocs-jupyter would not use its work
        (it is not installed, executes notebooks itself, or has its cache turned off)."""
        jupyter = config.plugins.get("mkdocs-jupyter")
        if jupyter is None or jupyter.config.get("execute") or not jupyter.config.get("cache"):
            return None
        return cls(jupyter.config, strict=strictness(config, kwargs["tutorials_dir"]), **kwargs)

    def submit(self, result: TutorialResult) -> None:
        with self._lock:
            if not self._started and self._first is None:
                self._first = result
                return
            queued = [result] if self._started else [self._first, result]
            self._started, self._first = True, None
        for each in queued:
            self._pool.submit(self._render, each)

    def close(self, *, cancel: bool = False, lone: bool = False) -> None:
        """Wait for the renders under way (and, unless ``cancel``, those queued); a lone
        tutorial is left to the normal render, unless ``lone`` (a shard, which renders no
        site, renders every page it ran)."""
        with self._lock:
            held, self._first = self._first, None
        if held is not None and lone and not cancel:
            self._pool.submit(self._render, held)
        self._pool.shutdown(wait=True, cancel_futures=cancel)

    def _site_index(self) -> publish.SiteIndex:
        if self._index is None:
            index = publish.SiteIndex()
            for script in self.scripts:
                with PARSE_LOCK:
                    notebook = script_to_notebook(script)
                key = publish.tutorial_key(script, self.tutorials_dir)
                index.add_tutorial(f"tutorials/{script.stem}.ipynb", notebook, key=key)
            publish.add_pages(index, self.files)
            self._index = index
        return self._index

    def _render(self, result: TutorialResult) -> None:
        try:
            self._render_page(result)
        except Exception as exc:  # the page is rendered again, as usual, and fails there
            log.debug("%s: could not render ahead (%s: %s)", result.stem, type(exc).__name__, exc)

    def _render_page(self, result: TutorialResult) -> None:
        uri = f"tutorials/{result.stem}.ipynb"
        index = self._site_index()
        with PARSE_LOCK:  # code links parse the code (ast), which is not thread-safe here
            result = refresh_result(result, strict=self.strict, cache_root=self.cache_root)
            bound.publish_page(result, self.pages, src_uri=uri, index=index)
        source = self.pages / uri
        cache_path = mkdocs_jupyter.cache_path(source, self.config)
        if cache_path.exists():
            return
        entry = mkdocs_jupyter.render(source, self.config)
        # Atomic: the page build may look for the entry at any moment.
        write_atomic(cache_path, json.dumps(entry))
