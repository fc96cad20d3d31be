"""
Accelerators: device-agnostic code, mixed precision and torch.compile
=====================================================================

The same PyTorch program can run on a CPU, an NVIDIA or AMD GPU, an Apple GPU or an Intel GPU,
if it never hard-codes a device. This tutorial writes such code with ``torch.accelerator``,
moves models and batches efficiently, measures memory, trains with mixed precision using
``torch.autocast`` and ``torch.amp.GradScaler``, measures how many CPU threads a tiny model
wants, and what ``torch.compile`` buys on a small model.

**What you will learn**

* how to pick a device with ``torch.accelerator`` and fall back to the CPU
* how to move models and batches, and when ``pin_memory`` with ``non_blocking`` helps
* how much memory a tensor takes, and how to read memory statistics
* how ``torch.autocast`` changes dtypes, why float16 underflows, and how ``GradScaler`` helps
* why the number of CPU threads matters for tiny models, and that the setting is process-wide
* how to time ``torch.compile`` fairly: compile time apart from steady-state time

**Prerequisites**

* `Modules <../03_modules/>`_, `Data <../04_data/>`_ and `Training loops <../05_training/>`_

This page's lesson is best read from a GPU run, and the site publishes one when its build
has one; otherwise the page comes from a CPU run (the box under the title says which). Every
section runs on a CPU too, and says what a GPU run adds. Models are tiny and loops short so
the page runs in seconds; measure on your own model before drawing conclusions. Timings
(lines marked ``[timing]``) are the only numbers on this page that change from run to run.
"""
# sphinx_gallery_publish_target = "cuda"

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
# tensors can be created directly on the device with ``device=``. The tensors an operation
# takes must live on the same device. NumPy only reads CPU memory, so ``.cpu()`` comes before
# ``.numpy()``; ``print`` and ``.tolist()`` copy a tensor to the CPU themselves.
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
print(f"predictions  : {logits.argmax(1).tolist()}")

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
# How much memory a tensor takes
# ------------------------------
# A tensor's data takes ``element_size()`` bytes per element times ``nelement()`` elements,
# on any device. The dtype matters as much as the shape: the same million elements take
# 4 MiB in float32, 2 MiB in bfloat16 and 8 MiB in int64.
MiB = 2**20


def nbytes(t):
    return t.element_size() * t.nelement()


for dtype in (torch.float32, torch.bfloat16, torch.int64, torch.bool):
    t = torch.empty(1024, 1024, dtype=dtype)
    print(f"1024x1024 {dtype!s:15s}: {t.element_size()} B/element -> {nbytes(t) / MiB:.0f} MiB")
assert nbytes(torch.empty(1024, 1024)) == 4 * MiB

# %%
# Memory statistics
# -----------------
# On an accelerator, PyTorch's caching allocator keeps memory it has freed so it can reuse it.
# ``memory_allocated()`` counts what tensors currently use, ``max_memory_allocated()`` the peak
# since the last reset, and ``memory_reserved()`` what the allocator holds. On the CPU, tensors
# come from the C library's allocator (``malloc``), and PyTorch keeps no such statistics for
# them; what the CPU can show is the process's *resident memory* (on Linux,
# ``/proc/self/statm``), which counts everything the process holds, not only tensors.
#
# The cell creates two 64 MiB tensors on ``device``, compares the statistics with
# ``element_size() * nelement()``, and frees them.
import os


def resident_memory():
    """This process's resident memory in bytes now, or None where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # macOS, Windows
        return None


if on_accelerator:
    torch.accelerator.empty_cache()
    torch.accelerator.reset_peak_memory_stats()
    base = torch.accelerator.memory_allocated()
rss_before = resident_memory()

big = torch.ones(4096, 4096, device=device)  # 16.8 million float32 values
doubled = big * 2  # another tensor of the same size
alive = nbytes(big) + nbytes(doubled)
print(f"two tensors on {device.type}: {alive / MiB:.0f} MiB by element_size() * nelement()")

if on_accelerator:
    used = torch.accelerator.memory_allocated() - base
    print(f"memory_allocated grew by     : {used / MiB:.0f} MiB")
    assert abs(used - alive) < MiB
    del big, doubled
    freed = torch.accelerator.memory_allocated() - base
    peak = torch.accelerator.max_memory_allocated() - base
    print(f"after freeing both           : {freed / MiB:.0f} MiB")
    print(f"peak (max_memory_allocated)  : {peak / MiB:.0f} MiB")
    print(f"still reserved for reuse     : {torch.accelerator.memory_reserved() / MiB:.0f} MiB")
elif rss_before is not None:
    rise = resident_memory() - rss_before
    print(f"resident memory grew by      : {rise / MiB:.0f} MiB")
    assert abs(rise - alive) < 8 * MiB  # the tensors, give or take the allocator's bookkeeping
    del big, doubled
    left = resident_memory() - rss_before
    print(f"after freeing both           : {left / MiB:.0f} MiB (large blocks go back to the OS)")
    assert left < alive / 2
else:
    del big, doubled

# %%
# Mixed precision: what ``torch.autocast`` changes
# ------------------------------------------------
# Inside ``torch.autocast``, operations that are fast and safe in low precision (matrix
# multiplies, convolutions, linear layers) run in a 16-bit type, while the parameters stay in
# float32 and precision-sensitive operations such as the loss stay in float32. bfloat16 has
# float32's range and fewer digits; it needs no extra care and is the usual choice on CPUs and
# recent GPUs.
with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
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
# float16's small range, and why it needs a scaler
# ------------------------------------------------
# float16 keeps more digits than bfloat16 but covers a much smaller range: its smallest value
# above zero is about 6e-8 (2^-24), and anything below half of that rounds to zero (*underflow*).
# Gradients are often that small, and a gradient that underflows is lost. A gradient *scaler*
# multiplies the loss by a large factor (65536 to start with) before ``backward()``, so the
# gradients are computed in a range float16 can hold, and divides them back in float32 before
# the optimiser uses them.
tiny = 1e-8
print(f"smallest float16 above zero: {2.0**-24:.2e}")
print(f"1e-8 in float32 : {torch.tensor(tiny).item():.3e}")
print(f"1e-8 in bfloat16: {torch.tensor(tiny, dtype=torch.bfloat16).item():.3e}")
print(f"1e-8 in float16 : {torch.tensor(tiny, dtype=torch.float16).item():.3e}  (underflow)")
assert torch.tensor(tiny, dtype=torch.float16) == 0
assert torch.tensor(tiny, dtype=torch.bfloat16) != 0

scaled = torch.tensor(tiny * 65536, dtype=torch.float16)  # what the scaler does
print(f"1e-8 * 65536 in float16, divided back in float32: {scaled.float().item() / 65536:.3e}")
assert scaled != 0

# %%
# Mixed precision: a few float16 training steps
# ---------------------------------------------
# The training step is unchanged apart from the ``autocast`` block around the forward pass and
# the loss, and three ``scaler`` calls: ``scale(loss).backward()``, ``step(optimizer)`` (which
# unscales the gradients and skips the step if any is inf or NaN) and ``update()`` (which
# halves the scale after a skipped step and doubles it after 2000 good ones in a row).
# ``GradScaler(device.type)`` works on the CPU as well as on GPUs.
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
scaler = torch.amp.GradScaler(device.type)
print(f"GradScaler on {device.type}: enabled {scaler.is_enabled()}, scale {scaler.get_scale():.0f}")
assert scaler.is_enabled()

losses = []
for step, (xb, yb) in enumerate(loader):
    xb, yb = xb.to(device, non_blocking=pin), yb.to(device, non_blocking=pin)
    with torch.autocast(device_type=device.type, dtype=torch.float16):
        logits = model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    losses.append(loss.item())
    print(
        f"step {step}: loss {loss.item():.3f} | logits {logits.dtype} | "
        f"grads {model[0].weight.grad.dtype} | scale {scaler.get_scale():.0f}"
    )
assert losses[-1] < losses[0]

# %%
# CPU threads for tiny models
# ---------------------------
# PyTorch can split a CPU operation between up to ``torch.get_num_threads()`` threads (by
# default one per physical core, or ``OMP_NUM_THREADS`` if that is set before torch starts).
# A large matrix multiply gains from that. A tiny model has little to split: PyTorch runs an
# element-wise operation on fewer than 32,768 values on one thread whatever the setting, and
# this model's largest tensor holds 64 x 128 = 8,192. Only its small matrix multiplies can be
# shared out, and handing them to several threads can cost more than it saves, more so on a
# machine busy with other work.
#
# ``torch.set_num_threads(n)`` is **process-wide**: it changes every later CPU operation in
# this process, not only the next cell. So this cell measures the same training step of a
# tiny model (on the CPU, whatever ``device`` is) with one thread, with the default and with
# one per logical CPU the process may use, then puts the original value back.
#
# A thread count can only be judged against the machine it ran on, so the cell also records
# the conditions: how many logical CPUs this process may use (``os.sched_getaffinity`` where
# the system has it), where the default came from, and how busy *other* work kept those CPUs
# while it measured. On Linux, ``/proc/stat`` counts the time each CPU was busy; the busy time
# of this process's CPUs minus this process's own CPU time is the others' share.
import time


def sync():
    if on_accelerator:
        torch.accelerator.synchronize()  # GPU work is asynchronous: wait before reading clocks


def best_times(jobs, calls=1, repeats=5):
    """Best seconds per call of each ``name: fn`` in ``jobs`` (``fn()`` timed ``calls`` times
    in a row), after one warm-up call each.

    The repeats of the jobs are interleaved, so a busy machine slows them all alike, and the
    minimum over repeats is the measurement least disturbed by other processes.
    """
    for fn in jobs.values():
        fn()
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(repeats):
        for name, fn in jobs.items():
            sync()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            sync()
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    return best


torch.manual_seed(0)
tiny_model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
tiny_opt = torch.optim.SGD(tiny_model.parameters(), lr=0.1)
STEPS = 50


def steps_with(n_threads):
    def run():
        torch.set_num_threads(n_threads)
        for i in range(STEPS):
            batch = slice(64 * i % 1536, 64 * i % 1536 + 64)
            loss = nn.functional.cross_entropy(tiny_model(X[batch]), y[batch])
            tiny_opt.zero_grad()
            loss.backward()
            tiny_opt.step()

    return run


def busy_seconds(cpus):
    """CPU seconds the given logical CPUs have been busy since boot, from /proc/stat (Linux),
    or None where the file is missing."""
    try:
        with open("/proc/stat") as stat:
            rows = [line.split() for line in stat if line.startswith("cpu")]
    except OSError:
        return None
    ticks = 0
    for name, *fields in rows:
        if name[3:].isdigit() and int(name[3:]) in cpus:
            values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
            ticks += sum(values) - values[3] - values[4]  # all but idle and waiting for I/O
            # (steal: on a virtual machine, time the host gave to other machines)
    return ticks / os.sysconf("SC_CLK_TCK")


cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count())
default_threads = torch.get_num_threads()
counts = sorted({1, default_threads, len(cpus)})
busy_before, own_before, wall_before = busy_seconds(cpus), time.process_time(), time.perf_counter()
try:
    times = best_times({n: steps_with(n) for n in counts})
finally:
    torch.set_num_threads(default_threads)
wall = time.perf_counter() - wall_before
own = time.process_time() - own_before

omp = os.environ.get("OMP_NUM_THREADS")
source = f"from OMP_NUM_THREADS={omp}" if omp else "PyTorch's default"
print(f"logical CPUs this process may use: {len(cpus)}")
print(f"default threads: {default_threads} ({source})")
if busy_before is not None:
    others = max(busy_seconds(cpus) - busy_before - own, 0.0) / wall
    print(f"[timing] other work kept {others:.1f} of these CPUs busy while the cell measured")
for n in counts:
    note = " (the default here)" if n == default_threads else ""
    print(f"[timing] {n:2d} thread(s): {times[n] / STEPS * 1e3:.3f} ms per step{note}")
fastest = min(times, key=times.get)
most = max(counts)
print(f"[timing] {most} threads took {times[most] / times[1]:.2f}x the time of 1 thread")
print(f"[timing] fastest for this tiny model, under these conditions: {fastest} thread(s)")
print(f"threads restored to {torch.get_num_threads()}")
assert torch.get_num_threads() == default_threads

# %%
# The numbers above are this machine at this moment, and the conditions line says what else it
# was doing; run the cell again and they move. An operation split between threads finishes
# when the slowest of them does, so a thread that waits for a CPU (taken by other work, or by
# another of our own threads) holds up the whole operation: while other work keeps the CPUs
# busy, more threads than free CPUs cost more than they save. Measure on your own model, on
# the machine that will run it, before pinning a thread count, and set it once at the start of
# your program, before other torch code runs, as PyTorch's documentation asks
# (``torch.set_num_threads`` or ``OMP_NUM_THREADS``); it applies to everything the process does.
#
# ``torch.compile``: compile time and steady-state time
# -----------------------------------------------------
# ``torch.compile`` traces the model and generates fused kernels (C++ on the CPU, Triton on
# NVIDIA, AMD and Intel GPUs). The first call pays for the compilation; later calls reuse the
# kernels. Measure the two separately, or compilation will swamp the speed-up. Inductor also
# caches compiled kernels on disk, which can shorten the compile of a later run of the same
# code.
#
# On the CPU, compiling needs a C++ compiler such as ``gcc``; if none is installed the first
# call fails and the cell prints why, so the rest of the page still runs.
import shutil

has_cxx = any(shutil.which(c) for c in ("g++", "c++", "clang++"))
print(f"C++ compiler (g++, c++ or clang++) on PATH: {has_cxx}")

torch.manual_seed(0)
net = nn.Sequential(
    nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 256), nn.GELU(), nn.Linear(256, 10)
).to(device)
net.eval()
xs = X[:512].to(device)
with torch.no_grad():
    compiled = torch.compile(net)
    try:
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
        best = best_times({"eager": lambda: net(xs), "compiled": lambda: compiled(xs)}, calls=20)
        eager_s, compiled_s = best["eager"], best["compiled"]
        print(f"[timing] compile (first call): {compile_s:.1f} s")
        print(f"[timing] eager    per call   : {eager_s * 1e3:.3f} ms")
        print(f"[timing] compiled per call   : {compiled_s * 1e3:.3f} ms")
        print(f"[timing] speed-up            : {eager_s / compiled_s:.2f}x")
        saved = eager_s - compiled_s
        repay = f"{compile_s / saved:.0f}" if saved > 0 else "never (not faster here)"
        print(f"[timing] calls to repay compile: {repay}")

# %%
# .. note::
#    This model gives the compiler little to do. On the CPU, each linear layer stays one call
#    to the same matrix-multiply library as in eager mode, bias included, and the only code
#    Inductor generates is for the GELUs; so the gain can come only from those and from less
#    overhead per operation. Run a script with the environment variable
#    ``TORCH_LOGS=output_code`` to see the code it generates. Models with long chains of
#    element-wise operations give it more to fuse. If the last line says "never", compiling did
#    not pay off for this model on this machine: that is a real outcome, and the reason to
#    measure.
#
# CPU versus accelerator
# ----------------------
# The same three workloads (a small and a large matrix multiply, and a forward-and-backward
# pass of an MLP) are timed on the CPU, with its default thread count, and on the accelerator
# if there is one. Small problems can run *faster* on the CPU, because every GPU kernel launch
# and synchronisation has a fixed cost; the larger the problem, the more that cost is
# amortised. On a CPU-only machine the table has the CPU column only.


def workloads(d):
    """The same three workloads, with their inputs created on device ``d``."""
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 10)).to(d)
    small, large = torch.randn(256, 256, device=d), torch.randn(1024, 1024, device=d)
    digits_on_d = X.to(d)
    return {
        "matmul 256x256": lambda: small @ small,
        "matmul 1024x1024": lambda: large @ large,
        "MLP fwd+bwd, 1797 digits": lambda: mlp(digits_on_d).sum().backward(),
    }


devices = [torch.device("cpu"), device] if on_accelerator else [torch.device("cpu")]
jobs = {(name, d.type): fn for d in devices for name, fn in workloads(d).items()}
times = best_times(jobs, calls=5, repeats=3)
header = "".join(f"{d.type + ' ms':>10s}" for d in devices)
print(f"[timing] {'workload':26s}{header}" + (f"{'cpu/acc':>9s}" if on_accelerator else ""))
for name in dict.fromkeys(name for name, _ in times):
    row = "".join(f"{times[name, d.type] * 1e3:10.3f}" for d in devices)
    ratio = f"{times[name, 'cpu'] / times[name, device.type]:8.1f}x" if on_accelerator else ""
    print(f"[timing] {name:26s}{row}{ratio}")

# %%
# Exercises
# ---------
# Each exercise is one cell: edit the function and run the cell again; the checker prints
# ``correct`` or what it expected and what it got. The reference solutions follow, folded.

# %%
# Exercise 1: move a model and a batch to a device
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``to_device(model, batch, device)`` receives a model and a batch ``(inputs, targets)`` and
# returns ``(model, (inputs, targets))`` with everything on ``device``. Remember which of the
# two moves in place and which returns a copy. ``check_to_device`` uses the ``meta`` device,
# which every PyTorch build has (tensors with a shape and a dtype but no data), so it can tell
# a moved tensor from one left behind on any machine.
import torch
from torch import nn


def check_to_device(candidate) -> bool:
    """Run ``candidate`` with the meta device; print 'correct' or what is wrong; return a bool."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    batch = (torch.randn(16, 4), torch.randint(0, 2, (16,)))
    target = torch.device("meta")
    try:
        result = candidate(model, batch, target)
    except Exception as err:
        print(f"not correct: raised {type(err).__name__}: {err}")
        return False
    if not (isinstance(result, tuple) and len(result) == 2 and len(result[1]) == 2):
        print(f"not correct: expected (model, (inputs, targets)), got {result!r}")
        return False
    got_model, (inputs, targets) = result
    tensors = {f"model.{n}": t for n, t in got_model.state_dict().items()}
    tensors.update(inputs=inputs, targets=targets)
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor) or t.device != target:
            where = t.device if isinstance(t, torch.Tensor) else type(t).__name__
            print(f"not correct: expected {name} on {target}, got {where}")
            return False
    if inputs.shape != (16, 4) or targets.shape != (16,):
        print(
            f"not correct: expected shapes (16, 4) and (16,), got {inputs.shape}, {targets.shape}"
        )
        return False
    print("correct")
    return True


def to_device(model, batch, device):
    # Your code here: move the model and both tensors of the batch to device.
    return None


check_to_device(to_device)


# %% tags=["solution"]
# Reference solution: ``model.to`` moves in place (and returns the model); ``tensor.to``
# returns a new tensor, so keep what it returns.
def to_device(model, batch, device):
    inputs, targets = batch
    return model.to(device), (inputs.to(device), targets.to(device))


assert check_to_device(to_device)

# %%
# Exercise 2: how many bytes a model takes
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``model_bytes(model)`` should return the memory, in bytes, that a model's parameters *and*
# buffers (such as BatchNorm's running statistics) take, whatever their dtypes. The checker's
# model mixes float32, float16 and an int64 buffer.
import torch
from torch import nn


def check_model_bytes(candidate) -> bool:
    """Run ``candidate`` on a fixed model; print 'correct' or what is wrong; return a bool."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.Linear(32, 10))
    model[2].half()  # the last layer in float16
    # 2080 float32 + 64 float32 + 2 x 32 float32 buffers + 1 int64 + 330 float16 values:
    expected = 2080 * 4 + 64 * 4 + 64 * 4 + 8 + 330 * 2
    try:
        got = candidate(model)
    except Exception as err:
        print(f"not correct: raised {type(err).__name__}: {err}")
        return False
    if got != expected:
        print(f"not correct: expected {expected} bytes, got {got!r}")
        return False
    print("correct")
    return True


def model_bytes(model):
    # Your code here: sum element_size() * nelement() over parameters and buffers.
    return None


check_model_bytes(model_bytes)


# %% tags=["solution"]
# Reference solution.
def model_bytes(model):
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.element_size() * t.nelement() for t in tensors)


assert check_model_bytes(model_bytes)

# %%
# Exercise 3: a mixed-precision training step
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``amp_step(model, inputs, targets, optimizer, scaler)`` should do one float16 training step:
# the forward pass and the cross-entropy loss under ``torch.autocast`` (use
# ``inputs.device.type`` as the device type), then backward, step and update through the
# ``scaler``, and return the loss as a Python float. ``check_amp_step`` runs it on the CPU and
# compares the result with a reference step.
import torch
from torch import nn


def check_amp_step(candidate) -> bool:
    """Run one step with ``candidate``; print 'correct' or what is wrong; return a bool."""
    g = torch.Generator().manual_seed(0)
    inputs, targets = torch.randn(64, 16, generator=g), torch.randint(0, 3, (64,), generator=g)

    def fresh():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 3))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=1)
        return model, optimizer, scaler

    model, optimizer, scaler = fresh()  # the reference step
    with torch.autocast("cpu", dtype=torch.float16):
        loss = nn.functional.cross_entropy(model(inputs), targets)
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    expected_loss, expected_params = loss.item(), [p.detach().clone() for p in model.parameters()]

    model, optimizer, scaler = fresh()
    dtypes = []
    model[0].register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    try:
        got = candidate(model, inputs, targets, optimizer, scaler)
    except Exception as err:
        print(f"not correct: raised {type(err).__name__}: {err}")
        return False
    if not dtypes or any(d != torch.float16 for d in dtypes):
        print(f"not correct: expected the first layer to output torch.float16, got {dtypes}")
        return False
    if scaler.get_scale() != 2048.0:
        print(
            f"not correct: expected scaler.update() to double the scale to 2048, "
            f"got {scaler.get_scale()}"
        )
        return False
    worst = max((p - e).abs().max().item() for p, e in zip(model.parameters(), expected_params))
    if worst > 1e-4:
        print(f"not correct: parameters differ from the reference step by up to {worst:.2e}")
        return False
    if not isinstance(got, float) or abs(got - expected_loss) > 1e-4:
        print(f"not correct: expected the loss {expected_loss:.4f} as a float, got {got!r}")
        return False
    print("correct")
    return True


def amp_step(model, inputs, targets, optimizer, scaler):
    # Your code here: autocast forward and loss, then scale, step and update.
    return None


check_amp_step(amp_step)


# %% tags=["solution"]
# Reference solution: the same five lines as the training loop above.
def amp_step(model, inputs, targets, optimizer, scaler):
    with torch.autocast(device_type=inputs.device.type, dtype=torch.float16):
        loss = nn.functional.cross_entropy(model(inputs), targets)
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()


assert check_amp_step(amp_step)

# %%
# Summary
# -------
# * ``torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")``
#   gives device-agnostic code; move the model once and every batch with ``.to(device)``.
# * ``pin_memory=True`` plus ``non_blocking=True`` overlaps host-to-device copies with compute.
# * A tensor takes ``element_size() * nelement()`` bytes; ``torch.accelerator.memory_allocated()``
#   and friends report what tensors and the caching allocator hold on an accelerator, and the
#   resident memory is what the CPU can show.
# * ``torch.autocast`` runs matrix multiplies in bfloat16 or float16 while the weights stay
#   float32; float16 cannot hold values much below 6e-8, so float16 training adds a
#   ``torch.amp.GradScaler``, on GPUs and on the CPU alike.
# * The best CPU thread count for a tiny model is measured, not assumed, and
#   ``torch.set_num_threads`` applies to the whole process.
# * ``torch.compile`` costs a one-off compilation; time it apart from the per-call speed.
#
# Where to go next
# ----------------
# `A digit classifier, end to end <../09_digit_classifier/>`_ puts data, model, training,
# evaluation and checkpointing together in one project.
