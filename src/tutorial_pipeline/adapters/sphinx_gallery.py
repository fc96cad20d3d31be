"""sphinx-gallery's parser, read as sphinx-gallery reads a script.

These functions and patterns are module-level names of sphinx-gallery (0.22) that its
documentation does not list as API. The pipeline uses sphinx-gallery's own parsing so that
a script splits into the same blocks, config and title here as there.
"""

from __future__ import annotations

from . import Upstream

UPSTREAM = (
    Upstream("sphinx_gallery.py_source_parser:split_code_and_text_blocks", ("source_file",)),
    Upstream("sphinx_gallery.py_source_parser:extract_file_config", ("content",)),
    Upstream("sphinx_gallery.py_source_parser:INFILE_CONFIG_PATTERN"),
    Upstream("sphinx_gallery.py_source_parser:START_IGNORE_FLAG"),
    Upstream("sphinx_gallery.py_source_parser:END_IGNORE_FLAG"),
    Upstream("sphinx_gallery.py_source_parser:IGNORE_BLOCK_PATTERN"),
    Upstream("sphinx_gallery.gen_rst:extract_intro_and_title", ("filename", "docstring")),
    Upstream("sphinx_gallery.notebook:jupyter_notebook_skeleton"),
    Upstream("sphinx_gallery.backreferences:NameFinder"),
)


def _parser():
    from sphinx_gallery import py_source_parser

    return py_source_parser


def split_code_and_text_blocks(path):
    return _parser().split_code_and_text_blocks(path)


def extract_file_config(content: str) -> dict:
    return _parser().extract_file_config(content)


def infile_config_pattern():
    """``# sphinx_gallery_<name> = <value>``: (name, ..., value)."""
    return _parser().INFILE_CONFIG_PATTERN


def ignore_flags() -> tuple[str, str]:
    """The start and end patterns of an ignore block."""
    return _parser().START_IGNORE_FLAG, _parser().END_IGNORE_FLAG


def ignore_block_pattern():
    return _parser().IGNORE_BLOCK_PATTERN


def extract_intro_and_title(path, docstring: str) -> tuple[str, str]:
    from sphinx_gallery.gen_rst import extract_intro_and_title

    return extract_intro_and_title(path, docstring)


def notebook_skeleton() -> dict:
    from sphinx_gallery.notebook import jupyter_notebook_skeleton

    return jupyter_notebook_skeleton()


def name_finder():
    """sphinx-gallery's visitor of the names a script's code uses (its backreferences)."""
    from sphinx_gallery.backreferences import NameFinder

    return NameFinder()
