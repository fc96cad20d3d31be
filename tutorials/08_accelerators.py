"""
Accelerators: device-agnostic code, mixed precision and torch.compile
=====================================================================

The same PyTorch program can run on a CPU, an NVIDIA or AMD GPU, an Apple GPU or an Intel GPU,
if it never hard-codes a device. This tutorial writes such code with ``torch.accelerator``,
moves models and batches efficiently, reads memory statistics, trains with mixed precision
using ``torch.autocast``, and measures what ``torch.compile`` buys on a small model.

**What you will learn**

* how to pick a device with ``torch.accelerator`` and fall back to the CPU
* how to move models and batches, and when ``pin_memory`` with ``non_blocking`` helps
* how to read accelerator memory statistics
* how ``torch.autocast`` (and ``torch.amp.GradScaler`` for float16) changes dtypes and training
* how to time ``torch.compile`` fairly: compile time apart from steady-state time

**Prerequisites**

* `Modules <../03_modules/>`_, `Data <../04_data/>`_ and `Training loops <../05_training/>`_

This page is built on whatever machine builds the site, which may have no GPU. Every section
still runs on a CPU, and says what a GPU run would add. Models are tiny and loops short so the
page runs in seconds; measure on your own model before drawing conclusions. Timings (lines
marked ``[timing]``) are the only numbers on this page that change from run to run.
"""

# %%
# Pick a device
# -------------
# ``torch.accelerator`` is the device-agnostic front door to whatever accelerator PyTorch was
# built for (CUDA, ROCm, MPS, XPU, ...). ``current_accelerator(check_available=True)`` returns
# ``None`` when there is none usable, and ``or torch.device("cpu")`` falls back to the CPU.
# Everything below uses ``device`` and never a hard-coded ``"cuda"``.
import torch

device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
on_accelerator = device.type != "cpu"
print(f"device: {device.type}")
print(f"accelerators visible: {torch.accelerator.device_count() if on_accelerator else 0}")
print(f"CPU threads: {torch.get_num_threads()}")

# %%
# Move the model, then the batches
# --------------------------------
# ``model.to(device)`` moves parameters and buffers in place. Tensors are *not* moved in place:
# ``x.to(device)`` returns a copy on the device (or ``x`` itself if it is already there). New
# tensors can be created directly on the device with ``device=``. All inputs of an operation
# must live on the same device, so results come back with ``.cpu()`` before printing or NumPy.
from sklearn.datasets import load_digits
from torch import nn

torch.manual_seed(0)
digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0  # (1797, 64)
y = torch.tensor(digits.target)

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
batch = X[:4].to(device)
noise = torch.zeros(4, 64, device=device)  # created on the device, no copy
logits = model(batch + noise)
print(f"parameters on: {next(model.parameters()).device.type}")
print(f"logits on    : {logits.device.type}, shape {tuple(logits.shape)}")
print(f"predictions  : {logits.argmax(1).cpu().tolist()}")

# %%
# Pinned memory and non-blocking copies
# -------------------------------------
# A copy from ordinary (pageable) CPU memory to a GPU has to wait. If the CPU tensor sits in
# *pinned* (page-locked) memory, ``x.to(device, non_blocking=True)`` returns at once and the
# copy overlaps with other work. ``DataLoader(pin_memory=True)`` pins each batch for you.
#
# Pinning only means something with an accelerator; on a CPU-only machine the ``DataLoader``
# would warn, and Apple's MPS backend does not support it yet, so the flag is computed.
from torch.utils.data import DataLoader, TensorDataset

pin = device.type not in ("cpu", "mps")
loader = DataLoader(
    TensorDataset(X, y),
    batch_size=256,
    shuffle=True,
    pin_memory=pin,
    generator=torch.Generator().manual_seed(0),
)
xb, yb = next(iter(loader))
print(f"pin_memory={pin}: batch is pinned: {xb.is_pinned()}")
xb, yb = xb.to(device, non_blocking=pin), yb.to(device, non_blocking=pin)
print(f"batch on {xb.device.type}: {tuple(xb.shape)}")

# %%
# .. warning::
#    ``non_blocking=True`` on a copy *from* the GPU to the CPU can hand you a tensor before the
#    data has arrived. Only read such a tensor after ``torch.accelerator.synchronize()``; a
#    plain ``.cpu()`` or ``.item()`` is always safe.
#
# Memory statistics
# -----------------
# On an accelerator, PyTorch's caching allocator keeps memory it has freed so it can reuse it.
# ``memory_allocated()`` counts what tensors currently use, ``memory_reserved()`` what the
# allocator holds, and ``max_memory_allocated()`` the peak since the last reset. The CPU has no
# such statistics, so on a CPU-only build of this page the cell says what a GPU run shows.
MiB = 2**20
if on_accelerator:
    ones = torch.ones(8, 8, device=device)
    ones @ ones  # warm-up: the matmul library allocates its workspace on first use
    torch.accelerator.empty_cache()
    torch.accelerator.reset_peak_memory_stats()
    base = torch.accelerator.memory_allocated()

    def used():
        return f"{(torch.accelerator.memory_allocated() - base) / MiB:.1f} MiB"

    big = torch.empty(1024, 1024, device=device)  # 4 MiB of float32
    print(f"allocated after a 4 MiB tensor: {used()}")
    temp = big @ big  # another 4 MiB
    print(f"allocated after a matmul      : {used()}")
    del temp, big
    print(f"allocated after freeing both  : {used()}")
    peak = torch.accelerator.max_memory_allocated() - base
    print(f"peak allocated                : {peak / MiB:.1f} MiB")
    print(f"reserved by the caching allocator: {torch.accelerator.memory_reserved() / MiB:.1f} MiB")
else:
    print("CPU only: no accelerator memory statistics.")
    print("On a GPU this cell prints the memory held by tensors before and after freeing them,")
    print("the peak, and what the caching allocator keeps reserved for reuse.")

# %%
# Mixed precision: what ``torch.autocast`` changes
# ------------------------------------------------
# Inside ``torch.autocast``, operations that are fast and safe in low precision (matrix
# multiplies, convolutions, linear layers) run in a 16-bit type, while the parameters stay in
# float32. bfloat16 has float32's range, so it needs no extra care; it is the choice on CPUs
# and recent GPUs. float16 has more precision but a small range, so small gradients can
# underflow to zero; training in float16 on CUDA uses a ``GradScaler``. This page picks float16
# on CUDA (to show the scaler) and bfloat16 everywhere else.
amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
print(f"autocast dtype: {amp_dtype}")

with torch.autocast(device_type=device.type, dtype=amp_dtype):
    hidden = model[0](xb)
    out = model(xb)
    loss = nn.functional.cross_entropy(out, yb)
print(f"parameters      : {model[0].weight.dtype}")
print(f"linear output   : {hidden.dtype}")
print(f"logits          : {out.dtype}")
print(f"cross-entropy   : {loss.dtype}")

with torch.no_grad():
    out32 = model(xb)
diff = (out.float() - out32).abs().max().item()
print(f"largest difference from float32 logits: {diff:.4f}")
assert 0 < diff < 0.1

# %%
# Mixed precision: a few training steps
# -------------------------------------
# The training step is unchanged apart from the ``autocast`` block around the forward pass
# and the loss. The backward pass runs outside it and uses the dtypes recorded in the forward
# pass. A ``GradScaler`` multiplies the loss before ``backward()`` and divides the gradients
# before the optimiser step; with ``enabled=False`` (bfloat16 here) every call passes through.
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
print(f"GradScaler enabled: {scaler.is_enabled()}")

for step, (xb, yb) in enumerate(loader):
    xb, yb = xb.to(device, non_blocking=pin), yb.to(device, non_blocking=pin)
    with torch.autocast(device_type=device.type, dtype=amp_dtype):
        loss = nn.functional.cross_entropy(model(xb), yb)
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    print(f"step {step}: loss {loss.item():.3f}, grad dtype {model[0].weight.grad.dtype}")

# %%
# ``torch.compile``: compile time and steady-state time
# -----------------------------------------------------
# ``torch.compile`` traces the model and generates fused kernels (C++ on the CPU, Triton on
# GPUs). The first call pays for the compilation; later calls reuse the kernels. Measure the
# two separately, or compilation will swamp the speed-up.
#
# On the CPU, compiling needs a C++ compiler such as ``gcc``; if none is installed the first
# call fails and the cell prints why, so the rest of the page still runs. Compiled kernels are
# normally cached on disk so a second run starts faster; this page points the cache at a
# temporary directory, so the compile time shown is a cold start.
import logging
import os
import shutil
import tempfile
import time

# CUDA builds of PyTorch log a harmless "No CUDA runtime is found" line when they compile
# on a machine without a GPU; keep it out of the page.
logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)

has_cxx = any(shutil.which(c) for c in ("g++", "c++", "clang++"))
print(f"C++ compiler (g++, c++ or clang++) on PATH: {has_cxx}")


def sync():
    if on_accelerator:
        torch.accelerator.synchronize()  # GPU work is asynchronous: wait before reading clocks


def best_times(jobs, calls=20, repeats=7):
    """Best seconds per call for each ``name: (fn, arg)`` in ``jobs``, after a warm-up call.

    The repeats of the jobs are interleaved, so a busy machine slows them all alike, and the
    minimum over repeats is the measurement least disturbed by other processes.
    """
    for fn, arg in jobs.values():
        fn(arg)
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(repeats):
        for name, (fn, arg) in jobs.items():
            sync()
            start = time.perf_counter()
            for _ in range(calls):
                fn(arg)
            sync()
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    return best


torch.manual_seed(0)
net = nn.Sequential(
    nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 256), nn.GELU(), nn.Linear(256, 10)
).to(device)
net.eval()
xs = X[:512].to(device)

# Inductor keeps its kernels in TORCHINDUCTOR_CACHE_DIR (Triton's GPU kernels under it, via
# TRITON_CACHE_DIR); both are restored afterwards.
cache_vars = ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR")
saved_env = {name: os.environ.get(name) for name in cache_vars}
with tempfile.TemporaryDirectory() as cache_dir, torch.no_grad():
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache_dir
    os.environ.pop("TRITON_CACHE_DIR", None)  # default: a folder inside cache_dir
    try:
        compiled = torch.compile(net)
        sync()
        start = time.perf_counter()
        out_compiled = compiled(xs)  # the first call compiles
        sync()
        compile_s = time.perf_counter() - start
    except RuntimeError as err:  # e.g. InvalidCxxCompiler: no working C++ compiler
        compiled = None
        print(f"torch.compile failed: {type(err).__name__}: {str(err).strip().splitlines()[0]}")
    if compiled is not None:
        torch.testing.assert_close(out_compiled, net(xs), rtol=1e-4, atol=1e-4)
        print("compiled output matches eager output: True")
        best = best_times({"eager": (net, xs), "compiled": (compiled, xs)})
        eager_s, compiled_s = best["eager"], best["compiled"]
        print(f"[timing] compile (first call): {compile_s:.1f} s")
        print(f"[timing] eager    per call   : {eager_s * 1e3:.3f} ms")
        print(f"[timing] compiled per call   : {compiled_s * 1e3:.3f} ms")
        print(f"[timing] speed-up            : {eager_s / compiled_s:.2f}x")
        saved = eager_s - compiled_s
        repay = f"{compile_s / saved:.0f}" if saved > 0 else "never (not faster here)"
        print(f"[timing] calls to repay compile: {repay}")
for name, value in saved_env.items():
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value

# %%
# .. note::
#    In this tiny model the matrix multiplies call the same library kernels compiled or not,
#    so any gain comes from fusing the bias additions and GELUs and from less per-operation
#    overhead. Models with many element-wise operations usually gain more. If the last line
#    says "never", compiling did not pay off for this model on this machine: that is a real
#    outcome, and the reason to measure.
#
# CPU versus accelerator
# ----------------------
# With an accelerator, the same two workloads (a matrix multiply and a forward-and-backward
# pass of an MLP) are timed on both devices. Small problems can run *faster* on the CPU,
# because every GPU kernel launch and synchronisation has a fixed cost; the larger the
# problem, the more that cost is amortised.


def workloads(d):
    """The same three workloads, with their inputs created on device ``d``."""
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 10)).to(d)
    return {
        "matmul 256x256": (lambda a: a @ a, torch.randn(256, 256, device=d)),
        "matmul 1024x1024": (lambda a: a @ a, torch.randn(1024, 1024, device=d)),
        "MLP fwd+bwd, 1797 digits": (lambda a: mlp(a).sum().backward(), X.to(d)),
    }


if on_accelerator:
    jobs = {
        (name, d.type): job
        for d in [torch.device("cpu"), device]
        for name, job in workloads(d).items()
    }
    times = best_times(jobs, calls=10, repeats=3)
    print(f"[timing] {'workload':26s} {'cpu ms':>9s} {device.type + ' ms':>9s} {'cpu/acc':>8s}")
    for name in dict.fromkeys(name for name, _ in times):
        t_cpu, t_acc = times[name, "cpu"], times[name, device.type]
        print(f"[timing] {name:26s} {t_cpu * 1e3:9.3f} {t_acc * 1e3:9.3f} {t_cpu / t_acc:7.1f}x")
else:
    print("No accelerator: the CPU-versus-accelerator table is skipped.")
    print("On a GPU this cell times a small and a large matrix multiply and an MLP training")
    print("step on both devices; the ratio column shows where the GPU starts to pay off.")

# %%
# Summary
# -------
# * ``torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")``
#   gives device-agnostic code; move the model once and every batch with ``.to(device)``.
# * ``pin_memory=True`` plus ``non_blocking=True`` overlaps host-to-device copies with compute.
# * ``torch.accelerator.memory_allocated()`` and friends report what tensors and the caching
#   allocator hold on the accelerator.
# * ``torch.autocast`` runs matrix multiplies in bfloat16 or float16 while the weights stay
#   float32; float16 training adds a ``torch.amp.GradScaler``.
# * ``torch.compile`` costs a one-off compilation; time it apart from the per-call speed.
#
# Where to go next
# ----------------
# `A digit classifier, end to end <../09_digit_classifier/>`_ puts data, model, training,
# evaluation and checkpointing together in one project.
