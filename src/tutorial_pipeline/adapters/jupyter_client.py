"""jupyter_client's kernel start, taken over for a kernel forked from the fork server.

jupyter_client (8) has no hook to start a kernel's process some other way: the manager's
private ``_async_launch_kernel`` starts it through the provisioner, which records the
process; a process started by us must be recorded the same way, then the connection info
reconciled, as ``LocalProvisioner.launch_kernel`` and the manager do.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from . import Upstream

UPSTREAM = (
    Upstream(
        "jupyter_client.manager:AsyncKernelManager._async_launch_kernel", ("self", "kernel_cmd")
    ),
    Upstream("jupyter_client.manager:KernelManager._reconcile_connection_info", ("self", "info")),
    # What it sets, and so do we: process, pid, pgid, cwd.
    Upstream("jupyter_client.provisioning:LocalProvisioner.launch_kernel", ("self", "cmd")),
)


def manager_class(launch: Callable[[object, list[str], dict], object | None]) -> type:
    """An ``AsyncKernelManager`` whose kernel process comes from ``launch(manager, kernel_cmd,
    kwargs)``: a process object (with ``pid``, ``poll``, ``wait``, ``kill``, ``send_signal``)
    that it started, or None to start the kernel as jupyter_client does."""
    from jupyter_client import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    class Manager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
            provisioner = self.provisioner
            process = (
                launch(self, kernel_cmd, kw) if isinstance(provisioner, LocalProvisioner) else None
            )
            if process is None:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            # What LocalProvisioner.launch_kernel records, for a process it did not start.
            provisioner.process = process
            provisioner.pid = provisioner.pgid = process.pid  # its own session
            provisioner.cwd = kw.get("cwd") or os.getcwd()
            self._reconcile_connection_info(provisioner.connection_info)

    return Manager
