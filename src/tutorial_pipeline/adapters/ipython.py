"""IPython's names for a kernel's cells.

IPython (8/9) compiles each cell under a made-up file name and keeps, in its compiler's
private ``_filename_map``, which execution count each name belongs to: the only way from a
warning's or a frame's file name back to the cell, hence to the script's line.

The kernel's setup (`execute._kernel_setup`) runs in the kernel, which does not import this
package: `execute._setup_source` sends `cell_numbers`'s source with it.
"""

from __future__ import annotations

from . import Upstream

UPSTREAM = (
    Upstream("IPython.core.compilerop:CachingCompiler", instance_attribute="_filename_map"),
)


def cell_numbers(shell) -> dict:
    """A cell's compiled file name -> its execution count, kept up to date by IPython."""
    return shell.compile._filename_map
