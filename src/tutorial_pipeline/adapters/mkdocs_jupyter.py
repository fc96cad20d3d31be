"""mkdocs-jupyter's render cache, filled ahead of the page build (`prerender`).

mkdocs-jupyter (0.26) keys its cache of rendered notebooks with a private function and
reads an entry as ``{"content", "toc_tokens", "title"}``; a page rendered ahead is only used
if it is written exactly where, and as, mkdocs-jupyter looks for it.
"""

from __future__ import annotations

from pathlib import Path

from . import Upstream

UPSTREAM = (
    Upstream("mkdocs_jupyter.plugin:_compute_cache_key", ("nb_path", "config", "exec_nb")),
    Upstream("mkdocs_jupyter.plugin:_get_cache_path", ("cache_dir", "cache_key")),
    Upstream("mkdocs_jupyter.plugin:_get_nb_toc_tokens", ("fpath", "toc_depth")),
    Upstream("mkdocs_jupyter.convert:nb2html", ("nb_path", "execute")),
)

#: mkdocs-jupyter's settings that its render takes (plugin.py, ``on_pre_page``).
RENDER_OPTIONS = (
    "kernel_name",
    "theme",
    "allow_errors",
    "show_input",
    "no_input",
    "no_prompt",
    "remove_tag_config",
    "highlight_extra_classes",
    "include_requirejs",
    "custom_mathjax_url",
)


def cache_path(source: Path, config) -> Path:
    """Where mkdocs-jupyter looks for the rendering of the notebook at ``source``."""
    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    return _get_cache_path(config["cache_dir"], _compute_cache_key(str(source), config, False))


def render(source: Path, config) -> dict:
    """The cache entry mkdocs-jupyter would write for ``source``: its HTML, TOC and title."""
    from mkdocs_jupyter import convert
    from mkdocs_jupyter.plugin import _get_nb_toc_tokens

    body = convert.nb2html(
        str(source), execute=False, **{name: config[name] for name in RENDER_OPTIONS}
    )
    toc_tokens, title = _get_nb_toc_tokens(str(source), config["toc_depth"])
    return {"content": body, "toc_tokens": toc_tokens, "title": title}
