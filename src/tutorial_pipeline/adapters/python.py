"""CPython's own internals.

A forked kernel (`forkserver`) ends with ``os._exit`` so that nothing of the server's state
is cleaned up twice; the exit functions the kernel itself registered must still run first,
and ``atexit._run_exitfuncs`` is how the interpreter runs them. The fork server's child
runs in a bare interpreter that does not import this package, so it calls it directly:
this entry only checks that the interpreter still has it.
"""

from __future__ import annotations

from . import Upstream

UPSTREAM = (Upstream("atexit:_run_exitfuncs"),)
