"""
Profiling and memory
====================

A model that is too slow or runs out of memory rarely says why. This page measures instead of
guessing: ``torch.profiler`` lists every operator a step ran, how often and for how long, and
what it allocated; a deliberately slow layer is found in the profile and fixed; the memory
numbers PyTorch and the operating system offer are taken apart, each with what it counts;
activation checkpointing trades memory for compute, and both sides of the trade are measured;
and the three GPU switches many training scripts carry (TF32, ``channels_last``,
``cudnn.benchmark``) are set and measured where they act, the two process-wide ones put back.

**What you will learn**

* how to read ``torch.profiler``'s table: which operators ran, how many times, their own time
  and their total time, and the memory they allocated
* how to label your own code with ``record_function``, profile a few steps of a training loop
  with a ``schedule``, and write a trace for a timeline viewer
* how to find the slow operation in a model and fix it, with the profile as evidence
* what ``max_memory_allocated``, the profiler's memory columns and the peak resident memory
  each count
* how activation checkpointing works, how much memory it saves and how much compute it costs
* what TF32 matrix multiplication, the ``channels_last`` memory format and
  ``torch.backends.cudnn.benchmark`` change, how to set them, and how to restore the
  process-wide ones

**Prerequisites**

* `Modules <../03_modules/>`_ and `Training <../05_training/>`_
* `Accelerators <../08_accelerators/>`_ (device-agnostic code, memory of a tensor, fair timing)

Profiles contain timings, and timings change from run to run and machine to machine: the
profiler's tables are shown as they came out, lines marked ``[timing]`` are the other numbers
that vary, and everything the page asserts is a count, a name, a shape, a number of bytes or
a rounding error. The page is built on whatever machine builds the site, which may have no
GPU; each section says what it measured there, and what a GPU would add.
"""

# %%
# The device and a model to profile
# ---------------------------------
# The profiler always records what the CPU does: each PyTorch *operator* (``aten::addmm`` is
# the matrix multiply plus bias inside ``nn.Linear``) with its inputs and timing. On a CUDA
# GPU (NVIDIA, or AMD with ROCm) or an Intel XPU it can also record the kernels the GPU ran,
# if that activity is requested; the list of activities below asks for what this machine has.
# The model is a small classifier on random data: the profile is about *what runs*, not about
# what is learnt.
import torch
from torch import nn
from torch.profiler import DeviceType, ProfilerActivity, profile, record_function

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
on_accelerator = device.type != "cpu"

activities = [ProfilerActivity.CPU]
if device.type in ("cuda", "xpu"):  # accelerators whose kernels the profiler can time
    activities.append(getattr(ProfilerActivity, device.type.upper()))
print(f"device: {device.type}; profiler activities: {[a.name for a in activities]}")

model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10)).to(device)
inputs = torch.randn(512, 64, device=device)
targets = torch.randint(0, 10, (512,), device=device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

# %%
# A first profile: the table
# --------------------------
# ``with profile(...) as prof:`` records everything inside the block; ``prof.key_averages()``
# groups the records by operator name, and ``.table()`` prints them. The columns:
#
# * **Self CPU**: time spent in the operator itself, without the operators it called;
# * **CPU total**: time including those calls (``aten::linear`` calls ``aten::addmm``, so its
#   total holds the matrix multiply while its self time is almost nothing);
# * **# of Calls**: how many times it ran.
#
# Sorting by self time puts the operators that do the work at the top. One forward pass of the
# model, after one call outside the profile (the first call of anything pays one-off costs):
sort_by = "self_device_time_total" if len(activities) > 1 else "self_cpu_time_total"


def calls_per_operator(prof):
    """How many times each operator or label ran, as the CPU recorded it. (With a GPU
    activity, the GPU's kernels and its copies of the labels are listed under its device.)"""
    return {e.key: e.count for e in prof.key_averages() if e.device_type == DeviceType.CPU}


with torch.no_grad():
    model(inputs)  # warm-up, not profiled
    with profile(activities=activities) as prof:
        model(inputs)
print(prof.key_averages().table(sort_by=sort_by, row_limit=8, max_name_column_width=30))

calls = calls_per_operator(prof)
print(
    ", ".join(
        f"{op} {calls[op]}x" for op in ["aten::linear", "aten::addmm", "aten::t", "aten::relu"]
    )
)
assert calls["aten::linear"] == calls["aten::addmm"] == calls["aten::t"] == 2
assert calls["aten::relu"] == 1

# %%
# The two ``nn.Linear`` layers became two ``aten::linear`` calls, each running one
# ``aten::addmm``, and two ``aten::t`` calls transposed the weights (a view: no data
# moves). The times are this machine at this moment. The counts and names are what the
# profile is *for*: they say what your code asked PyTorch to do.
#
# Label your own code, and profile training steps with a schedule
# ---------------------------------------------------------------
# ``record_function("name")`` opens a labelled range that shows in the table and the trace,
# so the time of "forward", "backward" and "optimizer step" can be read off directly. The
# optimizer labels itself (``Optimizer.step#SGD.step``).
#
# In a training loop, profile a few steps, not the whole run, and not the first steps: a
# ``schedule(wait=1, warmup=1, active=3)`` skips one step, runs the profiler without keeping
# the results for one (so its own start-up cost is not in the profile), then records three.
# ``prof.step()`` marks the end of each training step. When the active steps are done, the
# profiler calls ``on_trace_ready``; here it writes a trace file into a temporary folder.
import json
import os
import tempfile

from torch.profiler import schedule


def train_step():
    with record_function("forward"):
        loss = nn.functional.cross_entropy(model(inputs), targets)
    with record_function("backward"):
        optimizer.zero_grad()
        loss.backward()
    with record_function("optimizer step"):
        optimizer.step()


with tempfile.TemporaryDirectory() as trace_dir:

    def write_trace(prof):
        prof.export_chrome_trace(os.path.join(trace_dir, f"trace_step{prof.step_num}.json"))

    with profile(
        activities=activities,
        schedule=schedule(wait=1, warmup=1, active=3),
        on_trace_ready=write_trace,
    ) as prof:
        for _ in range(5):
            train_step()
            prof.step()

    (trace_name,) = os.listdir(trace_dir)
    with open(os.path.join(trace_dir, trace_name)) as f:
        trace = json.load(f)

print(prof.key_averages().table(sort_by=sort_by, row_limit=10, max_name_column_width=36))
calls = calls_per_operator(prof)
labels = ["forward", "backward", "optimizer step", "Optimizer.step#SGD.step"]
print("recorded:", ", ".join(f"{name} {calls[name]}x" for name in labels))
assert all(calls[name] == 3 for name in labels)  # 3 active steps of 5
assert calls["aten::addmm"] == 2 * 3 and calls["aten::mm"] == 3 * 3

# %%
# Five steps ran, three were recorded. Each step ran two ``aten::addmm`` (the forward pass of
# the two layers) and three ``aten::mm`` in the backward pass: the weight gradient of each
# layer, and the gradient flowing from the second layer into the first. No ``aten::mm``
# computes the gradient of the *inputs*: they do not require one, and autograd skips work
# nobody asked for.
#
# The trace file
# --------------
# The trace is a JSON file in the Chrome trace format: one event per operator and per label,
# with its start time, duration and thread (and, on a GPU, one per kernel, on the GPU's own
# timeline). Open it at `ui.perfetto.dev <https://ui.perfetto.dev>`_ (or ``chrome://tracing``
# in Chrome) to see the steps as a timeline: gaps between GPU kernels are time the GPU waited
# for the CPU, the first thing to look for when a GPU is busy less than you expect. Here the
# file only lived until the ``with`` block ended; these are its labelled ranges, as the CPU
# recorded them (category ``user_annotation``; a GPU adds copies, ``gpu_user_annotation``):
ranges = [event for event in trace["traceEvents"] if event.get("cat") == "user_annotation"]
per_label = {name: sum(event["name"] == name for event in ranges) for name in labels}
steps = sorted({event["name"] for event in ranges if event["name"].startswith("ProfilerStep")})
print(f"{trace_name}: steps {steps}")
print("label ranges:", ", ".join(f"{name} {count}" for name, count in per_label.items()))
assert steps == ["ProfilerStep#2", "ProfilerStep#3", "ProfilerStep#4"]
assert all(count == 3 for count in per_label.values())

# %%
# A deliberately slow layer
# -------------------------
# A *radial basis* layer scores each input by its squared distance to ``K`` learned centres:
# :math:`\text{out}_{nk} = \lVert x_n - c_k \rVert^2`. Written the way one would explain it,
# one centre at a time in a Python loop, it is correct, and slow. The profile says why before
# any timing does: look at the **# of Calls** column (the table's last; scroll right), or at
# the line printed under the table.
N, K, F = 512, 256, 64  # inputs, centres, features


class LoopRBF(nn.Module):
    def __init__(self):
        super().__init__()
        self.centres = nn.Parameter(torch.randn(K, F))

    def forward(self, x):
        return torch.stack([((x - c) ** 2).sum(dim=1) for c in self.centres], dim=1)


torch.manual_seed(0)
loop_rbf = LoopRBF().to(device)
x = torch.randn(N, F, device=device)


def profile_once(layer, memory=False):
    """Profile one call of ``layer(x)`` after a warm-up call; return the profile."""
    with torch.no_grad():
        layer(x)
        with profile(activities=activities, profile_memory=memory) as prof:
            layer(x)
    return prof


loop_prof = profile_once(loop_rbf)
print(loop_prof.key_averages().table(sort_by=sort_by, row_limit=6, max_name_column_width=30))
loop_calls = calls_per_operator(loop_prof)
print(
    "calls:", ", ".join(f"{op} {loop_calls[op]}" for op in ["aten::sub", "aten::pow", "aten::sum"])
)
assert loop_calls["aten::sub"] == loop_calls["aten::pow"] == loop_calls["aten::sum"] == K

# %%
# Each of ``aten::sub``, ``aten::pow`` and ``aten::sum`` ran 256 times, once per centre, on a
# small ``(512, 64)`` tensor: 768 calls, each paying a fixed cost (Python, dispatch, on a GPU a
# kernel launch) on top of its arithmetic, and each a separate pass over its tensor. On a GPU
# it is worse: 768 tiny kernels, each too small to fill the GPU, whose launches can take
# longer than their work.
#
# Two fixes, profiled
# -------------------
# The first fix *broadcasts*: ``x[:, None, :] - centres`` has shape ``(N, K, F)`` and computes
# every difference in one call. It removes the loop, and creates two ``(512, 256, 64)``
# intermediates (the differences and their squares) of 32 MiB each, just to sum them away.
# ``profile_memory=True`` makes the profiler record every allocation, in the **CPU Mem** (or
# device memory) columns. (This is the broadcast you may have written in the `Tensors
# <../01_tensors/>`_ exercises; here its memory shows.)
#
# The second fix expands the square: :math:`\lVert x - c \rVert^2 = \lVert x \rVert^2 - 2\,x
# \cdot c + \lVert c \rVert^2`. The middle term for all pairs is one matrix multiply, ``x @
# centres.T``, and nothing larger than the ``(512, 256)`` result is ever made. (``torch.cdist``
# uses the same expansion for Euclidean distances between more than 25 points.)
MiB = 2**20


class BroadcastRBF(LoopRBF):
    def forward(self, x):
        return ((x[:, None, :] - self.centres) ** 2).sum(dim=2)


class MatmulRBF(LoopRBF):
    def forward(self, x):
        c = self.centres
        return (x * x).sum(dim=1, keepdim=True) - 2 * x @ c.T + (c * c).sum(dim=1)


# %%
# The three layers get the same centres, and each is profiled once with memory recording on.
# First the profiler's own table for the broadcast layer, sorted by the memory each operator
# allocated itself (the **Self CPU Mem** column, or the device's; the table writes MB for
# MiB). Then a table of our own counts every operator call and finds the largest allocation
# made by *one* call. ``key_averages()`` cannot tell that: it adds up the calls of each
# operator (the loop's 256 subtractions of 128 KiB each would appear there as 32 MiB), so the
# search runs over ``prof.events()``, which has one entry per call, and takes each call's
# *self* memory, which leaves out what the operators it called allocated.
layers = {"loop": loop_rbf}
for name, cls in {"broadcast": BroadcastRBF, "matmul": MatmulRBF}.items():
    layers[name] = cls().to(device)
    layers[name].load_state_dict(loop_rbf.state_dict())  # the same centres

memory_attr = "self_device_memory_usage" if on_accelerator else "self_cpu_memory_usage"
memory_seen = device.type in ("cpu", "cuda", "xpu")  # allocators the profiler records
summary, profiles = {}, {}
for name, layer in layers.items():
    prof = profiles[name] = profile_once(layer, memory=True)
    biggest = max(prof.events(), key=lambda event: getattr(event, memory_attr))  # one call
    summary[name] = {
        "calls": calls_per_operator(prof),
        "largest": (biggest.name, getattr(biggest, memory_attr)),
        "sub summed": sum(
            getattr(e, memory_attr) for e in prof.key_averages() if e.key == "aten::sub"
        ),
    }
broadcast_ops = profiles["broadcast"].key_averages()
print(broadcast_ops.table(sort_by=memory_attr, row_limit=3, max_name_column_width=20))
print(f"{'layer':10s}{'operator calls':>15s}   largest allocation in one call")
for name, row in summary.items():
    op, size = row["largest"]
    print(f"{name:10s}{sum(row['calls'].values()):15d}   {size / MiB:6.2f} MiB by {op}")
fewer = sum(summary["loop"]["calls"].values()) / sum(summary["matmul"]["calls"].values())
print(f"the matmul form makes {fewer:.0f}x fewer operator calls than the loop")
loop_sub = summary["loop"]["sub summed"]
print(f"key_averages() for the loop: aten::sub {loop_sub / MiB:.2f} MiB, summed over {K} calls")
if not memory_seen:
    print(f"(the profiler does not record {device.type} allocations: the sizes above are 0)")

with torch.no_grad():
    outputs = {name: layer(x) for name, layer in layers.items()}
torch.testing.assert_close(outputs["broadcast"], outputs["loop"])
torch.testing.assert_close(outputs["matmul"], outputs["loop"], rtol=1e-5, atol=1e-3)
assert summary["matmul"]["calls"]["aten::mm"] == 1 and fewer > 100
if memory_seen:
    assert summary["broadcast"]["largest"][0] == "aten::sub"
    intermediates = [
        getattr(op, memory_attr) for op in broadcast_ops if op.key in ("aten::sub", "aten::pow")
    ]
    assert len(intermediates) == 2 and all(abs(b - N * K * F * 4) < MiB for b in intermediates)
    assert abs(summary["broadcast"]["largest"][1] - N * K * F * 4) < MiB  # (N, K, F) float32
    assert summary["matmul"]["largest"][1] <= N * K * 4  # nothing above the (N, K) result
    assert abs(loop_sub - K * N * F * 4) < MiB

# %%
# The three layers agree: the loop and the broadcast to float32 rounding, the matmul form to
# within :math:`10^{-3}` (on values near 128: expanding the square subtracts large numbers, and a
# few low bits cancel). The matmul form makes over a hundred times fewer operator calls than
# the loop, and allocates nothing larger than its ``(512, 256)`` result. The time follows,
# measured here in one cell, each layer in turn, best of five:
import time


def sync():
    if on_accelerator:
        torch.accelerator.synchronize()  # GPU work is asynchronous: wait before reading clocks


def best_times(jobs, repeats=5):
    """Best seconds of each ``name: fn`` in ``jobs``, after one warm-up call each; the repeats
    are interleaved, so a busy machine slows all the jobs alike."""
    for fn in jobs.values():
        fn()
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(repeats):
        for name, fn in jobs.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


with torch.no_grad():
    times = best_times({name: lambda layer=layer: layer(x) for name, layer in layers.items()})
for name, seconds in times.items():
    print(
        f"[timing] {name:10s}{seconds * 1e3:9.3f} ms   "
        f"{times['loop'] / seconds:6.1f}x the loop's speed"
    )

# %%
# These times are this run's, on whatever else the machine was doing, and they are printed,
# not asserted: on a busy machine even the best of five calls can include waiting for a thread
# the operating system has put aside, and a ratio that is large on an idle machine shrinks.
# Whether the broadcast form beats the loop depends on the machine: it trades 768 small calls
# for two 32 MiB intermediates, written to memory and read back. What the profile showed does
# not depend on the machine: a hundred times fewer operator calls, and no 32 MiB intermediate.
# That is the habit to take away: many calls of a cheap operator mean a Python loop that wants
# to be one tensor operation; one operator with a huge allocation means an intermediate that
# need not exist.
#
# Memory: what each number counts
# -------------------------------
# Three numbers answer "how much memory does this take?", and each counts something else:
#
# * on an accelerator, ``torch.accelerator.max_memory_allocated()`` (on CUDA the same as
#   ``torch.cuda.max_memory_allocated()``) is the peak of the bytes held by tensors since the
#   last ``reset_peak_memory_stats()``. It leaves out what the caching allocator keeps for
#   reuse (``max_memory_reserved()``) and the CUDA context, so ``nvidia-smi`` shows more;
# * the profiler's memory columns count the bytes each operator allocated (minus what it
#   freed), on the CPU and on CUDA and XPU devices, as in the broadcast layer's table above;
# * the peak *resident set size* of the process (``resource.getrusage(...).ru_maxrss``, in
#   KiB on Linux and in bytes on macOS) is the most physical memory the whole process has held
#   at any moment: the interpreter, the libraries, every tensor on the CPU, and memory long
#   since freed. It is the number to hold against the machine's RAM, and it never goes down.
#
# The cell runs the broadcast layer, whose two 32 MiB intermediates exist at the same time, and
# reads the first number where an accelerator is. On every machine it then allocates a 128
# MiB CPU tensor and frees it, watching the current resident memory (``/proc/self/statm``, on
# Linux) and the peak.
import sys

try:
    import resource  # not on Windows
except ImportError:
    resource = None


def current_rss():
    """This process's resident memory now, in bytes, or None where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # macOS, Windows
        return None


def peak_rss():
    """The most resident memory this process has ever held, in bytes, or None."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS: bytes; Linux: KiB


if on_accelerator:
    torch.accelerator.empty_cache()
    torch.accelerator.reset_peak_memory_stats()
    base = torch.accelerator.memory_allocated()
    with torch.no_grad():
        layers["broadcast"](x)
    peak = torch.accelerator.max_memory_allocated() - base
    reserved = torch.accelerator.max_memory_reserved()
    print(
        f"broadcast layer on {device.type}: peak tensor memory {peak / MiB:.1f} MiB above "
        f"the start; the allocator reserved up to {reserved / MiB:.1f} MiB in all"
    )
    assert peak >= 2 * N * K * F * 4  # both intermediates were alive at once
    assert reserved >= peak
else:
    print("no accelerator here: max_memory_allocated has no device to report on")

rss_before = current_rss()
big = torch.ones(32 * MiB)  # 32 Mi float32 values: 128 MiB, every page written
rss_with, peak_with = current_rss(), peak_rss()
del big
rss_after, peak_after = current_rss(), peak_rss()
if rss_before is not None:
    print(
        f"resident memory: +{(rss_with - rss_before) / MiB:.0f} MiB with the tensor, "
        f"+{(rss_after - rss_before) / MiB:.0f} MiB after freeing it"
    )
    assert abs(rss_with - rss_before - 128 * MiB) < 8 * MiB
    assert rss_after - rss_before < 8 * MiB
if peak_with is not None:
    print(f"peak resident memory went down after freeing: {peak_after < peak_with}")
    assert peak_after >= peak_with
if rss_with is not None and peak_with is not None:
    # ru_maxrss and /proc/self/statm count a few pages differently: allow 1 MiB
    print(f"peak resident memory includes the tensor: {peak_with > rss_with - MiB}")
    assert peak_with > rss_with - MiB

# %%
# The resident memory went up by the tensor's 128 MiB and came back down when it was freed
# (blocks this large go straight back to the operating system), but the peak stayed: from
# then on, ``ru_maxrss`` reports at least that moment. So the peak resident memory answers
# "how much memory must the machine have for this whole program", never "how much did this
# step use": for that, count bytes with the profiler or, for what a training step keeps for
# its backward pass, count the saved tensors as the next section does.
#
# Activation checkpointing: memory for compute
# --------------------------------------------
# During the forward pass, autograd *saves* tensors that the backward pass will need: the
# input of each ``nn.Linear`` (for its weight gradient), the input of each GELU (for its
# derivative), and so on. These saved activations grow with the batch size and the depth
# (the weights do not), and in large models they are often most of a step's memory.
#
# ``torch.autograd.graph.saved_tensors_hooks(pack, unpack)`` calls ``pack`` on every tensor
# saved for backward inside the ``with`` block, so the bytes can be counted exactly. Weights
# are saved too (a linear layer's input gradient needs them), but they exist anyway: the count
# leaves them out, and counts each block of memory (a *storage*) once.
from torch.utils.checkpoint import checkpoint

B, D, L = 128, 128, 6  # batch, width, blocks


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.up, self.act, self.down = nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D)

    def forward(self, x):
        return x + self.down(self.act(self.up(x)))


class Net(nn.Module):
    def __init__(self, checkpointed):
        super().__init__()
        self.blocks = nn.ModuleList(Block() for _ in range(L))
        self.checkpointed = checkpointed

    def forward(self, x):
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False) if self.checkpointed else block(x)
        return x


def saved_activation_bytes(model, x):
    """Run forward and loss; return the bytes saved for backward. Parameters are not counted;
    each storage is counted once."""
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(x).square().mean()
    return sum(saved.values())


torch.manual_seed(0)
plain_net = Net(checkpointed=False).to(device)
ckpt_net = Net(checkpointed=True).to(device)
ckpt_net.load_state_dict(plain_net.state_dict())
batch = torch.randn(B, D, device=device)

plain_bytes = saved_activation_bytes(plain_net, batch)
ckpt_bytes = saved_activation_bytes(ckpt_net, batch)
one = B * D * 4  # bytes of one (128, 128) float32 activation
print(f"saved for backward, in units of one {one // 1024} KiB activation:")
print(f"  plain       : {plain_bytes / MiB:5.2f} MiB = {plain_bytes // one:2d} units")
print(f"  checkpointed: {ckpt_bytes / MiB:5.2f} MiB = {ckpt_bytes // one:2d} units")
print(f"checkpointing keeps {plain_bytes / ckpt_bytes:.1f}x less for backward")
assert plain_bytes == (9 * L + 1) * one and ckpt_bytes == (L + 1) * one

# %%
# Without checkpointing each block saves its input (1 unit of ``B x D`` floats), the GELU's
# input and the GELU's output (4 units each, the hidden layer being 4 times wider): 9 units per
# block, 54 for six, plus 1 for the loss's input. ``checkpoint(block, x, use_reentrant=False)``
# saves only the block's input, and during ``backward()`` runs the block's forward pass again
# to rebuild what it needs: 7 units instead of 55, 7.9 times less.
#
# The price is the recomputation during ``backward()``. The gradients are the same, and two
# counts show the cost, both exact: forward hooks count how often each layer ran, and
# ``torch.utils.flop_counter.FlopCounterMode`` counts the floating-point operations of the
# matrix multiplies.
from torch.utils.flop_counter import FlopCounterMode


def count_runs(model, runs):
    """Add a forward hook to every block's ``up`` and ``down`` layer that counts its calls in
    ``runs``; return the hooks' handles."""

    def counter(name):
        def hook(module, args, output):
            runs[name] += 1

        return hook

    return [
        getattr(block, name).register_forward_hook(counter(name))
        for block in model.blocks
        for name in runs
    ]


flops = {}
runs = {}
for name, net in [("plain", plain_net), ("checkpointed", ckpt_net)]:
    runs[name] = {"up": 0, "down": 0}
    handles = count_runs(net, runs[name])
    with FlopCounterMode(display=False) as forward_flops:
        loss = net(batch).square().mean()
    with FlopCounterMode(display=False) as backward_flops:
        loss.backward()
    for handle in handles:
        handle.remove()
    flops[name] = forward_flops.get_total_flops(), backward_flops.get_total_flops()
    print(
        f"{name:13s} up ran {runs[name]['up']:2d}x, down {runs[name]['down']:2d}x; "
        f"GFLOP forward {flops[name][0] / 1e9:.3f}, backward {flops[name][1] / 1e9:.3f}"
    )

for p, q in zip(plain_net.parameters(), ckpt_net.parameters()):
    torch.testing.assert_close(p.grad, q.grad)
forward, backward = flops["plain"]
extra = flops["checkpointed"][1] - backward
print(
    f"the backward pass recomputed {extra / forward:.0%} of the forward pass: "
    f"+{extra / (forward + backward):.0%} compute for the step"
)
assert runs["plain"] == {"up": L, "down": L} and runs["checkpointed"] == {"up": 2 * L, "down": L}
assert flops["checkpointed"][0] == forward and 2 * extra == forward

# %%
# The recomputation ran each block's ``up`` layer again, but not its ``down`` layer: the
# non-reentrant checkpoint stops recomputing as soon as it has rebuilt every tensor the
# backward pass asked for (here the GELU's input and output), so the cost was half a forward
# pass, 17% more compute for the whole step, for 7.9 times less saved memory. This *early
# stop* is on by default (``early_stop=False`` turns it off); in general the recomputation
# costs up to one more forward pass of each checkpointed segment, depending on what its
# backward pass needs.
#
# Where an accelerator is, the peak of the memory allocator shows the saving as well (the
# weights, gradients and the batch are in both numbers); the timings are printed, not
# asserted:
if on_accelerator:
    peaks = {}
    for name, net in [("plain", plain_net), ("checkpointed", ckpt_net)]:
        net.zero_grad(set_to_none=False)  # gradients allocated in both runs
        torch.accelerator.synchronize()
        torch.accelerator.reset_peak_memory_stats()
        base = torch.accelerator.memory_allocated()
        net(batch).square().mean().backward()
        peaks[name] = torch.accelerator.max_memory_allocated() - base
        print(f"{name:13s} peak above the start: {peaks[name] / MiB:.1f} MiB")
    assert peaks["checkpointed"] < peaks["plain"]
else:
    print("no accelerator here: the saved bytes above are the measurement of the saving")


def step(net):
    net(batch).square().mean().backward()


times = best_times(
    {"plain": lambda: step(plain_net), "checkpointed": lambda: step(ckpt_net)}, repeats=3
)
print(
    f"[timing] forward + backward: plain {times['plain'] * 1e3:.1f} ms, checkpointed "
    f"{times['checkpointed'] * 1e3:.1f} ms ({times['checkpointed'] / times['plain']:.2f}x)"
)
print(f"the FLOP count predicts {1 + extra / (forward + backward):.2f}x")

# %%
# The FLOP count leaves out the element-wise work and the memory traffic, and a best of three
# on a busy machine can land on either side of it (even below 1x): the counts above are the
# cost that does not change from run to run.
#
# Checkpoint where the memory is: whole blocks of a deep network (transformer layers are the
# usual unit), not single cheap layers. Always pass ``use_reentrant=False``: the older
# reentrant variant needs an input that requires grad and does not stop early.
#
# GPU switch 1: TF32 matrix multiplication
# ----------------------------------------
# NVIDIA GPUs since Ampere (A100, RTX 30xx) can multiply float32 matrices in *TensorFloat-32*:
# the inputs are rounded to 10 mantissa bits (float32 has 23) and the products summed in
# float32, on the GPU's tensor cores, which are much faster than its float32 units. PyTorch
# leaves it off for matrix multiplies; one line turns it on for CUDA, and reading the setting
# first lets you put it back:
#
# .. code-block:: python
#
#    torch.backends.cuda.matmul.fp32_precision = "tf32"  # or "ieee": full float32
#
# That is the current API. ``torch.set_float32_matmul_precision("high")``, in many scripts,
# is the older one; do not mix the two in one program: after the new setter, the old getter
# refuses to guess, as the cell shows. The cell multiplies two random 1024x1024 matrices on
# ``device`` with each setting and compares them with a float64 product. It also *emulates*
# TF32 on the CPU, rounding the inputs to 10 mantissa bits, which shows the error TF32 brings
# on any machine.


def relative_error(product, reference):
    return ((product.double().cpu() - reference).abs().max() / reference.abs().mean()).item()


def round_to_tf32(t):
    """Round float32 values to TF32's 10 mantissa bits (the lower 13 of 23 become zero)."""
    bits = t.view(torch.int32)
    return ((bits + 0x1000) & ~0x1FFF).view(torch.float32)


g = torch.Generator().manual_seed(0)
a, b = torch.randn(1024, 1024, generator=g), torch.randn(1024, 1024, generator=g)
reference = a.double() @ b.double()
a_dev, b_dev = a.to(device), b.to(device)

saved_precision = torch.backends.cuda.matmul.fp32_precision
products = {}
try:
    for mode in ("ieee", "tf32"):
        torch.backends.cuda.matmul.fp32_precision = mode
        products[mode] = a_dev @ b_dev
    try:
        torch.get_float32_matmul_precision()  # the old API's getter, after the new setter
    except RuntimeError as error:
        print(f"the old getter raised RuntimeError:\n  {str(error).split(',')[0]}")
finally:
    torch.backends.cuda.matmul.fp32_precision = saved_precision
print(f"restored: matmul fp32_precision {torch.backends.cuda.matmul.fp32_precision!r}")
print(f"          the old API reads {torch.get_float32_matmul_precision()!r}")
print(f"          convolutions: {torch.backends.cudnn.conv.fp32_precision!r}")
assert torch.backends.cuda.matmul.fp32_precision == saved_precision
assert torch.backends.cudnn.conv.fp32_precision == "tf32"  # the default, unlike matmul's
errors = {mode: relative_error(product, reference) for mode, product in products.items()}
emulated = relative_error(round_to_tf32(a) @ round_to_tf32(b), reference)

print(
    f"float32 matmul on {device.type}, relative error: ieee {errors['ieee']:.1e}, "
    f"tf32 {errors['tf32']:.1e}"
)
print(f"TF32 emulated on the CPU, relative error: {emulated:.1e}")
assert 1e-4 < emulated < 1e-2 and emulated > 100 * errors["ieee"]  # a thousandth vs a millionth
nvidia = device.type == "cuda" and torch.version.cuda is not None  # not ROCm
if device.type == "cpu":
    assert torch.equal(products["ieee"], products["tf32"])  # the setting did not act here
    print("no CUDA GPU here: nothing for the setting to act on; the same bits both times")
elif nvidia and torch.cuda.get_device_capability() >= (8, 0):  # Ampere or later
    assert errors["tf32"] > 10 * errors["ieee"]  # the GPU used TF32
    print("this GPU used TF32 when allowed")
    times = {}
    try:
        for mode in ("ieee", "tf32"):
            torch.backends.cuda.matmul.fp32_precision = mode
            times[mode] = best_times({mode: lambda: a_dev @ b_dev})[mode]
    finally:
        torch.backends.cuda.matmul.fp32_precision = saved_precision
    print(
        f"[timing] 1024x1024 matmul: ieee {times['ieee'] * 1e3:.3f} ms, "
        f"tf32 {times['tf32'] * 1e3:.3f} ms"
    )
else:
    print("the setting acts on NVIDIA GPUs since Ampere: the two errors above show if it did here")

# %%
# With TF32 the worst element of the product is off by the order of a thousandth of a typical
# element's size, against a millionth in float32. Most training does not notice; a
# numerical method (a solver, an eigendecomposition, a loss that subtracts nearly equal
# numbers) can. Measure your own model's loss with both settings before you switch it on.
# Convolutions have their own setting, ``torch.backends.cudnn.conv.fp32_precision``, which
# is ``"tf32"`` by default.
#
# GPU switch 2: the ``channels_last`` memory format
# -------------------------------------------------
# An image batch of shape ``(N, C, H, W)`` is stored by default with the channel dimension
# outermost (NCHW): all of channel 0, then all of channel 1. ``channels_last`` keeps the
# *shape* and changes the *strides*, the steps in memory from one index to the next, so that
# the channels of one pixel sit together (NHWC). The fastest convolution kernels for GPU
# tensor cores work in NHWC; given NCHW they may have to transpose first. The strides show
# the difference:
torch.manual_seed(0)
images = torch.randn(8, 3, 32, 32, device=device)
images_cl = images.to(memory_format=torch.channels_last)
print(f"shapes        {tuple(images.shape)} and {tuple(images_cl.shape)}")
print(f"NCHW          strides {images.stride()}")
print(f"channels_last strides {images_cl.stride()}")
assert images_cl.shape == images.shape
assert images.stride() == (3 * 32 * 32, 32 * 32, 32, 1)
assert images_cl.stride() == (32 * 32 * 3, 1, 32 * 3, 3)
assert images_cl.is_contiguous(memory_format=torch.channels_last)

# %%
# To use it, convert the model once (``model.to(memory_format=torch.channels_last)`` changes
# the layout of 4-d weights) and each input batch. A convolution then returns
# ``channels_last`` output, so the layers that follow stay in it. The values are the same up to
# rounding (another kernel may add in another order). The profile shows which convolution
# kernel ran: this is what the next switch acts on.
conv = nn.Conv2d(3, 32, kernel_size=3, padding=1).to(device)
conv_cl = nn.Conv2d(3, 32, kernel_size=3, padding=1).to(device)
conv_cl.load_state_dict(conv.state_dict())
conv_cl = conv_cl.to(memory_format=torch.channels_last)

with torch.no_grad():
    out, out_cl = conv(images), conv_cl(images_cl)
    with profile(activities=activities) as prof:
        conv_cl(images_cl)
generic = {"aten::conv2d", "aten::convolution", "aten::_convolution"}
conv_ops = sorted(  # the backend's kernel, below the generic operators
    op for op in calls_per_operator(prof) if "convolution" in op and op not in generic
)
print(f"output channels_last: {out_cl.is_contiguous(memory_format=torch.channels_last)}")
print(f"largest difference from the NCHW output: {(out_cl - out).abs().max().item():.1e}")
print(f"convolution kernel on {device.type}: {', '.join(conv_ops)}")
torch.testing.assert_close(out_cl, out, rtol=1e-2, atol=1e-2)  # GPUs: TF32 convolutions
if device.type in ("cpu", "cuda"):
    assert out_cl.is_contiguous(memory_format=torch.channels_last)
with torch.no_grad():
    times = best_times({"NCHW": lambda: conv(images), "channels_last": lambda: conv_cl(images_cl)})
print(
    f"[timing] conv on {device.type}: NCHW {times['NCHW'] * 1e3:.3f} ms, channels_last "
    f"{times['channels_last'] * 1e3:.3f} ms"
)

# %%
# On a recent GPU with mixed precision, ``channels_last`` is the layout tensor cores want,
# and convolution-heavy networks commonly gain; on a CPU the effect depends on the kernels.
# The timing line is this machine's; measure your own network in both layouts.
#
# GPU switch 3: ``torch.backends.cudnn.benchmark``
# ------------------------------------------------
# cuDNN, NVIDIA's library of convolution kernels, has several algorithms for each
# convolution (so has MIOpen, its AMD counterpart, which the same flag drives). With
# ``torch.backends.cudnn.benchmark = True``, the first convolution of each new input shape
# tries them all and remembers the fastest: a slow first call, then faster calls, as long as
# the shapes stay the same. With shapes that keep changing (variable image sizes, a last
# batch of another size) every new shape pays the search again. The choice can also differ
# between runs, so leave it off where results must repeat exactly (see `Debugging and
# reproducibility <../11_debugging/>`_).
#
# The cell times a first and a second call on a new input shape, once with the flag off and
# once with it on (each with a shape not seen before), then restores it. It acts only on
# convolutions that run in cuDNN or MIOpen; the profile above named the kernel that ran here.
uses_cudnn = any(op in conv_ops for op in ("aten::cudnn_convolution", "aten::miopen_convolution"))
saved_benchmark = torch.backends.cudnn.benchmark
timings = {}
try:
    for flag, size in [(False, 48), (True, 56)]:
        torch.backends.cudnn.benchmark = flag
        new_shape = torch.randn(16, 3, size, size, device=device)
        new_shape = new_shape.to(memory_format=torch.channels_last)
        timings[flag] = []
        with torch.no_grad():
            for _ in range(2):
                sync()
                start = time.perf_counter()
                conv_cl(new_shape)
                sync()
                timings[flag].append(time.perf_counter() - start)
finally:
    torch.backends.cudnn.benchmark = saved_benchmark
print(f"benchmark restored to {torch.backends.cudnn.benchmark}")
for flag, (first, second) in timings.items():
    print(
        f"[timing] benchmark={flag!s:5s}: first call on a new shape {first * 1e3:.3f} ms, "
        f"second {second * 1e3:.3f} ms"
    )
if uses_cudnn:
    print(f"the convolution ran in {conv_ops[0]}: with the flag on, its first call searched")
else:
    print(f"the convolution ran in {', '.join(conv_ops)}: the flag had nothing to act on")
if device.type == "cpu":
    assert not uses_cudnn and conv_ops and not any("cudnn" in op for op in conv_ops)
assert torch.backends.cudnn.benchmark == saved_benchmark

# %%
# Single calls are noisy to time, and a first call on a new shape can be slow for other
# reasons (a library preparing its kernel for that shape, with the flag off too), so compare
# the first calls with the flag off and on, as here, before crediting or blaming the flag.
#
# Three switches, three lessons: each trades something (precision, a layout conversion, a
# search and repeatability) for speed, and each acts only on the hardware it was made for.
# ``channels_last`` belongs to the tensors and the model you convert; the other two are
# process-wide settings, so a cell, a test or a library function that sets one should put it
# back, as the cells above do with ``try``/``finally``.
#
# Exercises
# ---------
# Each exercise is one cell: edit the function and run the cell again; the checker prints
# ``correct`` or what it expected and what it got. The reference solutions follow, folded.

# %%
# Exercise 1: count an operator with the profiler
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``count_calls(fn, op_name)`` should call ``fn()`` once under ``torch.profiler.profile`` and
# return how many times the operator named exactly ``op_name`` (such as ``"aten::add"``) ran,
# ``0`` if it never did. Careful: ``"aten::add"`` is also the start of ``"aten::addmm"`` and
# ``"aten::add_"``.
import torch
from torch.profiler import ProfilerActivity, profile


def check_count_calls(candidate) -> bool:
    """Count operators of two known functions with ``candidate``; print 'correct' or what is
    wrong; return a bool."""

    def make(adds):
        def fn():
            x, w = torch.ones(4, 4), torch.ones(4, 4)
            for _ in range(adds):
                x = x + 1  # aten::add
            y = torch.addmm(x, x, w)  # aten::addmm
            return y.add_(1)  # aten::add_ (in place)

        return fn

    cases = [
        (make(3), "aten::add", 3),
        (make(5), "aten::add", 5),
        (make(3), "aten::addmm", 1),
        (make(3), "aten::add_", 1),
        (make(3), "aten::mul", 0),
    ]
    for fn, op_name, expected in cases:
        try:
            got = candidate(fn, op_name)
        except Exception as err:
            print(f"not correct: raised {type(err).__name__}: {err}")
            return False
        if got != expected:
            print(f"not correct: expected {expected} calls of {op_name!r}, got {got!r}")
            return False
    print("correct")
    return True


def count_calls(fn, op_name):
    # Your code here: profile one call of fn(), then find op_name in prof.key_averages().
    return None


check_count_calls(count_calls)


# %% tags=["solution"]
# Reference solution: ``key_averages()`` has one entry per operator name, whose ``count`` is
# the number of calls; compare names exactly.
def count_calls(fn, op_name):
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return sum(event.count for event in prof.key_averages() if event.key == op_name)


assert check_count_calls(count_calls)

# %%
# Exercise 2: the largest allocation of one call
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``largest_allocation(fn)`` should call ``fn()`` once on the CPU with the profiler recording
# memory and return ``(name, bytes)``: the operator *call* that allocated the most memory
# itself, and how many bytes. Two traps: ``key_averages()`` adds up all the calls of an
# operator, and an operator's memory without ``self`` includes what the operators it called
# allocated. ``prof.events()`` has one entry per call.
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile


def check_largest_allocation(candidate) -> bool:
    """Profile a known function with ``candidate``; print 'correct' or what is wrong; return
    a bool."""
    a, w, small = torch.ones(128, 256), torch.ones(256, 256), torch.ones(2, 2)

    def fn():
        x = torch.ones(256)
        for _ in range(200):
            x = x + 1  # 200 calls of aten::add, 1 KiB each
        y = F.linear(a, w)  # aten::linear calls aten::matmul, which calls aten::mm
        for _ in range(15):
            small.mm(small)  # 15 more calls of aten::mm, 16 bytes each: its average call is small
        return y, torch.cat([x] * 16)  # aten::cat: 16 KiB

    expected = ("aten::mm", 128 * 256 * 4)  # the (128, 256) float32 product
    try:
        got = candidate(fn)
    except Exception as err:
        print(f"not correct: raised {type(err).__name__}: {err}")
        return False
    if not isinstance(got, tuple) or tuple(got) != expected:
        print(f"not correct: expected {expected}, got {got!r}")
        return False
    print("correct")
    return True


def largest_allocation(fn):
    # Your code here: profile fn() with profile_memory=True; search prof.events().
    return None


check_largest_allocation(largest_allocation)


# %% tags=["solution"]
# Reference solution.
def largest_allocation(fn):
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    biggest = max(prof.events(), key=lambda event: event.self_cpu_memory_usage)
    return biggest.name, biggest.self_cpu_memory_usage


assert check_largest_allocation(largest_allocation)

# %%
# Exercise 3: checkpoint a network in segments
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``forward_in_segments(blocks, x, size)`` receives an ``nn.ModuleList`` of blocks and should
# run them in order, checkpointing each run of ``size`` consecutive blocks as one segment
# (``checkpoint(nn.Sequential(*segment), x, use_reentrant=False)``), and return the output.
# Only the input of each segment is then saved for backward. The checker counts the saved
# bytes, as the page did, and compares the gradients with an ordinary forward pass.
# (``torch.utils.checkpoint.checkpoint_sequential`` is close, but it runs its *last*
# segment without checkpointing, so it saves more.)
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def check_forward_in_segments(candidate) -> bool:
    """Run ``candidate`` on six blocks in segments of two; print 'correct' or what is wrong;
    return a bool."""
    with torch.random.fork_rng(devices=[]):  # seeded here, the reader's RNG left untouched
        torch.manual_seed(0)
        blocks = nn.ModuleList(nn.Sequential(nn.Linear(16, 16), nn.Tanh()) for _ in range(6))
        x = torch.randn(8, 16)
    parameters = {p.untyped_storage().data_ptr() for p in blocks.parameters()}
    saved = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    expected_out = x
    for block in blocks:
        expected_out = block(expected_out)
    expected_out.sum().backward()
    expected_grads = [p.grad.clone() for p in blocks.parameters()]
    blocks.zero_grad()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            out = candidate(blocks, x, 2)
        out.sum().backward()
    except Exception as err:
        print(f"not correct: raised {type(err).__name__}: {err}")
        return False
    if not torch.allclose(out, expected_out):
        print("not correct: the output differs from running the blocks in order")
        return False
    grads = [p.grad for p in blocks.parameters()]
    if any(g is None or not torch.allclose(g, e) for g, e in zip(grads, expected_grads)):
        print("not correct: the gradients differ from an ordinary forward pass")
        return False
    expected_bytes = 3 * 8 * 16 * 4  # three segments, each saving its (8, 16) input
    if sum(saved.values()) != expected_bytes:
        print(
            f"not correct: expected {expected_bytes} bytes saved (3 segment inputs), "
            f"got {sum(saved.values())}"
        )
        return False
    print("correct")
    return True


def forward_in_segments(blocks, x, size):
    # Your code here: checkpoint each group of `size` blocks.
    for block in blocks:
        x = block(x)
    return x


check_forward_in_segments(forward_in_segments)


# %% tags=["solution"]
# Reference solution.
def forward_in_segments(blocks, x, size):
    for start in range(0, len(blocks), size):
        segment = nn.Sequential(*blocks[start : start + size])
        x = checkpoint(segment, x, use_reentrant=False)
    return x


assert check_forward_in_segments(forward_in_segments)

# %%
# Summary
# -------
# * ``torch.profiler.profile`` records every operator; ``key_averages().table()`` shows self
#   and total time, calls and memory. Trust its names and counts everywhere, its times on the
#   machine that produced them.
# * ``record_function`` labels your code; ``schedule(wait, warmup, active)`` with
#   ``prof.step()`` profiles a few steps of a loop, and ``on_trace_ready`` writes a trace
#   (``export_chrome_trace``) to open in Perfetto.
# * Many calls of a cheap operator mean a Python loop that should be one tensor operation;
#   one huge allocation means an intermediate that need not exist. Fix, then profile again.
# * ``max_memory_allocated`` is the peak of tensor memory on an accelerator; the profiler's
#   memory columns count what each operator allocated; the peak resident memory
#   (``ru_maxrss``) is the whole process's worst moment and never goes down.
# * Activation checkpointing (``checkpoint(..., use_reentrant=False)``) keeps only each
#   segment's input and recomputes the rest during backward: here 7.9 times less saved memory
#   for half a forward pass of extra compute.
# * TF32 (``torch.backends.cuda.matmul.fp32_precision``), ``channels_last`` and
#   ``cudnn.benchmark`` each buy speed on the hardware they were made for, at a price; set
#   them deliberately, and restore the two process-wide settings when you are done.
#
# Where to go next
# ----------------
# The next tutorial, `Export and deploy <../16_export/>`_, takes a trained model out of
# Python: ``torch.export``, ONNX, and when to use ``torch.compile`` instead.
