"""The execution target: where a tutorial's outputs were made.

A target names the device type the kernels run on and, for an accelerator, which one:
``cpu``, ``cuda:NVIDIA H100 80GB HBM3``. It is part of every cache key and record, so a
run made on a GPU runner never serves a CPU build, nor the reverse, and the build report and
each page say which machine produced them. The CPU threads a kernel gets also change what a
page prints (a reduction's rounding), so they are part of the key too (`cache.cache_key`).

``TUTORIAL_TARGET`` overrides the detected name, to name a runner (``cpu:ubuntu-4-core``) or,
in tests, to stand for another machine; its device type must be one this machine can run
(``cpu`` anywhere; ``cuda`` where torch sees a CUDA device), else the build stops at once
with one line. A CPU target on a machine that has a GPU hides the GPU from the kernels
(`hidden_devices`), so a CPU run is a CPU run wherever it happens.
"""

from __future__ import annotations

import os
import re

from .errors import TutorialError

ENV_VAR = "TUTORIAL_TARGET"
_NAME = re.compile(r"^([a-z][a-z0-9_]*)(?::(\S.*))?$")


class TargetError(TutorialError):
    """A target that is malformed or that this machine cannot run."""

    def __init__(self, message: str):
        super().__init__(None, None, message)

    def __str__(self) -> str:
        return self.message


def device_type(target: str) -> str:
    """``cuda`` for ``cuda:NVIDIA A10G``, ``cpu`` for ``cpu`` or ``cpu:runner``."""
    return target.split(":", 1)[0]


def _no_gpu_device_files() -> bool:
    """On Linux, whether the machine has no GPU device files at all (NVIDIA's, AMD's ROCm
    ``/dev/kfd``, the kernel's ``/dev/dri``): then torch can see no accelerator, and asking it
    (importing torch, seconds) is not needed. Elsewhere, or with any of them, torch is asked."""
    import sys
    from pathlib import Path

    return sys.platform == "linux" and not any(
        Path(node).exists() for node in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dri")
    )


def _available_accelerator() -> tuple[str, str | None]:
    """The accelerator torch would pick here, as (type, name), or ("cpu", None)."""
    try:
        import torch
    except ImportError:
        return "cpu", None
    accelerator = torch.accelerator.current_accelerator(check_available=True)
    if accelerator is None:
        return "cpu", None
    if accelerator.type == "cuda":
        return "cuda", torch.cuda.get_device_name(0)
    return accelerator.type, None


def detect() -> str:
    """This machine's target: ``cuda:<device name>`` (or another accelerator type) where torch
    finds one, else ``cpu``."""
    if _no_gpu_device_files():
        return "cpu"
    kind, name = _available_accelerator()
    return f"{kind}:{name}" if name else kind


def resolve(requested: str | None = None) -> str:
    """The target of this build: ``requested`` (or ``TUTORIAL_TARGET``) if given, after
    checking this machine can run its device type, else the detected one."""
    requested = requested if requested is not None else os.environ.get(ENV_VAR, "").strip()
    if not requested:
        return detect()
    match = _NAME.match(requested)
    if not match:
        raise TargetError(
            f"{requested!r} is not a target: write a device type, optionally with a name "
            "(cpu, cpu:<runner>, cuda:<device name>)"
        )
    wanted = match.group(1)
    if wanted != "cpu":
        have = "cpu" if _no_gpu_device_files() else _available_accelerator()[0]
        if have != wanted:
            raise TargetError(
                f"target {requested!r} needs a {wanted} device, and this machine has "
                + (f"only a {have} one" if have != "cpu" else "none")
            )
    return requested


def hidden_devices(target: str) -> dict[str, str]:
    """Environment for a kernel that must not see the accelerators (a CPU target)."""
    if device_type(target) != "cpu":
        return {}
    return {"CUDA_VISIBLE_DEVICES": "", "HIP_VISIBLE_DEVICES": ""}


def label(target: str) -> str:
    """How a page names a target: ``CPU``, ``CPU (ubuntu-4-core)``, ``NVIDIA A10G (CUDA)``."""
    kind, _, name = target.partition(":")
    if kind == "cpu":
        return f"CPU ({name})" if name else "CPU"
    return f"{name} ({kind.upper()})" if name else kind.upper()
