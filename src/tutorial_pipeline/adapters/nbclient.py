"""nbclient's exit-time kernel cleanup.

nbclient (0.10) registers a private ``_cleanup_kernel`` with ``atexit`` for every client. The
build runs many clients and shuts each kernel down itself: the registration of one whose
kernel is gone (or never started) prints a stray traceback at interpreter exit.
"""

from __future__ import annotations

import atexit

from . import Upstream

UPSTREAM = (Upstream("nbclient.client:NotebookClient._cleanup_kernel"),)


def forget_exit_cleanup(client) -> None:
    """Drop ``client``'s exit-time kernel cleanup (its kernel is already shut down)."""
    atexit.unregister(client._cleanup_kernel)
