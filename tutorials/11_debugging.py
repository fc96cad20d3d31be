"""
Debugging and reproducibility
=============================

A training run that fails rarely says so: the loss just stays high, drifts, or turns into
``nan`` an hour in. This page collects the checks that find such problems quickly: overfit a
single batch before anything else, watch the gradient of every layer, catch the first
non-finite value and the operation that made it, and read PyTorch's shape and dtype errors.
It ends with the other half of debugging: making a run *reproducible*, so that a problem you
saw once can be seen again.

**What you will learn**

* why "can the model overfit one batch?" is the first test of a new model, and what it catches
* how to record per-layer gradient norms during training and recognise vanishing and exploding
  gradients in a plot
* how to find where a ``nan`` comes from with ``torch.isfinite`` checks and
  ``torch.autograd.set_detect_anomaly``
* how to read the most common shape, dtype and device error messages
* how to see where the time of a training step goes with ``torch.profiler``
* how to make a run repeatable: seeds, ``torch.use_deterministic_algorithms``, a seeded
  ``torch.Generator`` for a ``DataLoader``, and a ``worker_init_fn`` for a generator that the
  dataset holds

**Prerequisites**

* `Autograd <../02_autograd/>`_ and `Modules <../03_modules/>`_
* `Data <../04_data/>`_ and `Training <../05_training/>`_ (the training loop and its pieces)

The data is scikit-learn's bundled handwritten digits (1,797 real 8x8 scans) and the models
are small multilayer perceptrons trained for a few hundred steps, so the page runs in seconds.
The checks themselves cost almost nothing and work unchanged on real models and datasets.
"""

# %%
# Data, device and the model under test
# -------------------------------------
# The same data and model as in `Training <../05_training/>`_: each scan flattened to 64
# features in ``[0, 1]``, and an MLP with one hidden layer. The environment variable is only
# read on CUDA: cuBLAS needs it to compute matrix products deterministically (see the
# reproducibility section at the end), and it must be set before the first matrix product on
# the GPU, so it goes at the top of a script.
import os

import torch
from sklearn.datasets import load_digits
from torch import nn

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")

digits = load_digits()
X = torch.from_numpy(digits.data).float() / 16.0
y = torch.from_numpy(digits.target).long()
print(f"{len(X)} images of {X.shape[1]} features, classes {y.unique().tolist()}")


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


# %%
# First test of a new model: overfit one batch
# --------------------------------------------
# Before a long run, train on a *single* small batch for a few hundred steps. A model with
# thousands of parameters can memorise 32 examples, so the loss must go to (almost) zero and
# the accuracy on that batch to 100 %. If it does not, the bug is in the model, the loss or
# the update, and no amount of data or tuning will fix it. The test costs a few hundred steps
# on 32 examples.
import torch.nn.functional as F


def overfit_one_batch(model, xb, yb, steps=200, lr=1e-2):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"  step {step:3d}: loss {loss.item():.5f}")
    accuracy = (model(xb).argmax(dim=1) == yb).float().mean().item()
    return loss.item(), accuracy


xb, yb = X[:32].to(device), y[:32].to(device)
torch.manual_seed(0)
final_loss, batch_acc = overfit_one_batch(make_model().to(device), xb, yb)
print(f"final loss {final_loss:.5f}, accuracy on the batch {batch_acc:.0%}")
assert final_loss < 1e-3 and batch_acc == 1.0

# %%
# A bug that this test catches
# ----------------------------
# A classic mistake: the model ends with ``nn.Softmax`` *and* the loss is
# ``CrossEntropyLoss``, which applies ``log_softmax`` itself. The model still trains a little,
# and on a real dataset you might blame the learning rate. On one batch the bug is obvious:
# probabilities lie in ``[0, 1]``, so the second softmax sees logits at most 1 apart, and the
# loss can never go below :math:`\log(1 + 9/e) \approx 1.46` for 10 classes.
import math

torch.manual_seed(0)
buggy = nn.Sequential(make_model(), nn.Softmax(dim=1)).to(device)
buggy_loss, buggy_acc = overfit_one_batch(buggy, xb, yb)
floor = math.log(1 + 9 / math.e)
print(f"final loss {buggy_loss:.4f} (floor {floor:.4f}), accuracy on the batch {buggy_acc:.0%}")
assert buggy_loss > floor > 1.4

# %%
# Gradient flow: the gradient norm of every layer
# -----------------------------------------------
# A deep network trains only if every layer receives a useful gradient. Backpropagation
# multiplies the gradient by each layer's derivative on its way to the input; if those factors
# are small (a sigmoid's derivative is at most 0.25) the first layers get almost nothing, the
# *vanishing gradient*. Recording the norm of each layer's weight gradient after every
# ``backward()`` makes this visible.
#
# The usual remedies are a ReLU instead of the sigmoid and a normalisation layer such as
# ``LayerNorm``. Changing both at once would not say which one helped, so, as in any
# debugging, change one thing at a time: four nets of the same depth (8 hidden layers of 64
# units), built from the same seed and trained on the same batches, differ only in the
# activation and in whether each hidden layer is followed by ``LayerNorm``.


def deep_mlp(activation, depth=8, width=64, norm=False):
    layers, fan_in = [], 64
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        if norm:
            layers.append(nn.LayerNorm(width))
        layers.append(activation())
        fan_in = width
    layers.append(nn.Linear(fan_in, 10))
    return nn.Sequential(*layers)


def layer_grad_norms(model):
    """The L2 norm of each Linear layer's weight gradient, from input to output."""
    return [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]


def record_gradient_flow(model, steps=100, lr=0.05):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)  # the same batches for every model
    norms, losses = [], []
    for _ in range(steps):
        idx = torch.randint(0, len(X), (64,), generator=gen)
        loss = F.cross_entropy(model(X[idx].to(device)), y[idx].to(device))
        optimizer.zero_grad()
        loss.backward()
        norms.append(layer_grad_norms(model))
        losses.append(loss.item())
        optimizer.step()
    return torch.tensor(norms), losses  # norms: (steps, layers)


def mean_of(values):
    return sum(values) / len(values)


variants = {  # name: (activation, LayerNorm after each hidden layer)
    "sigmoid": (nn.Sigmoid, False),
    "ReLU": (nn.ReLU, False),
    "sigmoid + LayerNorm": (nn.Sigmoid, True),
    "ReLU + LayerNorm": (nn.ReLU, True),
}
flows, ratio, last_loss = {}, {}, {}
print(f"{'net':<20} {'loss: steps 1-10':>16} {'91-100':>7}   first layer / last layer")
for name, (activation, norm) in variants.items():
    torch.manual_seed(0)
    model = deep_mlp(activation, norm=norm).to(device)
    norms, losses = flows[name] = record_gradient_flow(model)
    mean = norms.mean(dim=0)  # each layer's mean gradient norm over the 100 steps
    ratio[name], last_loss[name] = (mean[0] / mean[-1]).item(), mean_of(losses[-10:])
    print(f"{name:<20} {mean_of(losses[:10]):16.3f} {last_loss[name]:7.3f}   {ratio[name]:.1e}")

assert ratio["sigmoid"] < 1e-4  # vanishing: first layer < 1/10,000 of the last one
assert min(ratio["ReLU"], ratio["sigmoid + LayerNorm"]) > 100 * ratio["sigmoid"]  # each helps
assert 0.1 < ratio["ReLU + LayerNorm"] < 10  # healthy: first and last within a factor of 10
assert last_loss["ReLU + LayerNorm"] < 1.5  # learns ...
assert min(last_loss[n] for n in ("sigmoid", "ReLU", "sigmoid + LayerNorm")) > 2.2  # ... alone

# %%
# Each change alone lifts the first layer's gradient by orders of magnitude, yet neither net
# learns in 100 steps: their losses stay near :math:`\log 10 \approx 2.30`, the loss of a
# uniform guess. Only the two together train. Changing both at once would have hidden that
# neither is enough on its own. Plotted over training, one line per layer (dark = first,
# light = last): the sigmoid net's layers spread over orders of magnitude, and with ReLU and
# normalisation they stay together.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(2, 2, figsize=(9, 6), sharex=True, sharey=True)
for ax, (name, (norms, _)) in zip(axes.flat, flows.items()):
    colors = plt.cm.viridis(torch.linspace(0, 0.9, norms.shape[1]).tolist())
    for layer in range(norms.shape[1]):
        ax.plot(norms[:, layer], color=colors[layer], label=f"layer {layer + 1}")
    ax.set_yscale("log")
    ax.set_title(f"{name} (last 10 steps: loss {last_loss[name]:.2f})", fontsize=10)
for ax in axes[1]:
    ax.set_xlabel("training step")
for ax in axes[:, 0]:
    ax.set_ylabel("weight-gradient norm (log)")
axes[1, 1].legend(fontsize=7, ncol=3, loc="lower right")
fig.tight_layout()
plt.show()

# %%
# Exploding gradients end in ``nan``
# ----------------------------------
# The opposite failure: weights initialised too large make every layer *amplify* its input, so
# activations, loss and gradients grow with each step until they overflow to ``inf``, and
# ``inf - inf`` gives ``nan``. Here the ReLU net's weights are twice the size He
# initialisation would give. A ``torch.isfinite`` check on the loss *and* on the gradient norm,
# between ``backward()`` and ``optimizer.step()``, stops the run at the first bad step, before
# its update reaches the weights.


def too_large_init(model, gain=2.0):
    with torch.no_grad():  # changing weights in place is not part of the graph
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                m.weight.mul_(gain)
                nn.init.zeros_(m.bias)
    return model


def train_with_guard(model, steps=50, lr=0.01, max_grad_norm=None, verbose=True):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    for step in range(steps):
        idx = torch.randint(0, len(X), (64,), generator=gen)
        loss = F.cross_entropy(model(X[idx].to(device)), y[idx].to(device))
        optimizer.zero_grad()
        loss.backward()
        grad_norm = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])
        if verbose:
            print(f"  step {step}: loss {loss.item():.3g}, gradient norm {grad_norm.item():.3g}")
        if not (torch.isfinite(loss) and torch.isfinite(grad_norm)):
            print("  stopped before the update: non-finite loss or gradient norm")
            return step
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
    return steps


torch.manual_seed(0)
exploding = too_large_init(deep_mlp(nn.ReLU)).to(device)
bad_step = train_with_guard(exploding)
grads = [p.grad for p in exploding.parameters()]
grads_finite = all(torch.isfinite(g).all() for g in grads)
largest = max(g.abs().max().item() for g in grads)
weights_finite = all(torch.isfinite(p).all() for p in exploding.parameters())
print(f"at step {bad_step}: every gradient finite: {grads_finite}, largest entry {largest:.2g}")
print(f"weights still finite: {weights_finite}")
assert bad_step < 20 and weights_finite
assert grads_finite and largest**2 > torch.finfo(torch.float32).max  # the norm overflowed

# %%
# The gradient *norm* overflowed first: every gradient was still a finite number, but the
# square of an entry that large is beyond the largest ``float32`` (about :math:`3.4 \cdot
# 10^{38}`), so the norm, a square root of a sum of squares, is ``inf``. The loss was still
# finite, so a check on the loss alone would have let that update through.
#
# Two fixes, checked on the same run. Clipping the gradient norm (see `Training
# <../05_training/>`_) treats the symptom: the steps stay small and the run stays finite. A
# correct initialisation (``gain=1``, plain He initialisation) removes the cause.
torch.manual_seed(0)
clipped = train_with_guard(
    too_large_init(deep_mlp(nn.ReLU)).to(device), max_grad_norm=1.0, verbose=False
)
torch.manual_seed(0)
he_init = train_with_guard(too_large_init(deep_mlp(nn.ReLU), gain=1.0).to(device), verbose=False)
print(f"with clipping: {clipped} of 50 steps finite; with He initialisation: {he_init} of 50")
assert clipped == he_init == 50

# %%
# Where does a ``nan`` come from? Anomaly mode
# --------------------------------------------
# Some ``nan`` values appear only in the *backward* pass, so checking the loss does not catch
# them. A common case is a "safe" square root: ``torch.where`` picks ``0`` where the input is
# negative, so the forward result is finite, but the backward pass still multiplies the
# (ignored) ``nan`` derivative of ``sqrt`` by zero, and :math:`0 \cdot \text{nan} = \text{nan}`.
x = torch.tensor([-1.0, 0.25, 4.0], requires_grad=True)


def safe_sqrt_sum(x):
    return torch.where(x > 0, torch.sqrt(x), torch.zeros_like(x)).sum()


loss = safe_sqrt_sum(x)
loss.backward()
print(f"loss {loss.item()} finite: {torch.isfinite(loss).item()}")
print(f"gradient {x.grad.tolist()} finite: {torch.isfinite(x.grad).tolist()}")

# %%
# ``torch.autograd.set_detect_anomaly(True)`` (a context manager, or a global switch) makes
# every backward function check its result: the first one that returns ``nan`` raises a
# ``RuntimeError`` naming the function. Anomaly mode also records where each operation was
# created in the forward pass and reports that traceback as a warning; we capture it with
# ``warnings.catch_warnings`` to print its last line, the line of *our* code that created the
# bad operation. Anomaly mode slows everything down: switch it on to debug, never to train.
import warnings

x.grad = None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")  # record every warning, even one shown before
    try:
        with torch.autograd.set_detect_anomaly(True):
            safe_sqrt_sum(x).backward()
    except RuntimeError as error:
        print("RuntimeError:", str(error).splitlines()[0])
forward_trace = next(str(w.message) for w in caught if "Error detected" in str(w.message))
print(forward_trace.splitlines()[0])
forward_line = forward_trace.split("(Triggered internally")[0].strip().splitlines()[-1]
print("created by:", forward_line.strip())

# %%
# The fix is to keep ``nan`` out of the forward pass altogether: clamp the input of
# ``sqrt`` so that the branch ``where`` ignores is still finite.
x.grad = None
torch.where(x > 0, torch.sqrt(x.clamp(min=1e-12)), torch.zeros_like(x)).sum().backward()
print(f"gradient {x.grad.tolist()} finite: {torch.isfinite(x.grad).all().item()}")
assert torch.isfinite(x.grad).all()

# %%
# Reading shape, dtype and device errors
# --------------------------------------
# Most crashes in a new model are shape, dtype or device mismatches, and the message says
# exactly what was wrong once you know how to read it. Each example below makes one mistake on
# a batch of 32 images; ``show_error`` runs it and prints the exception's first line. The last
# one needs a second device: the accelerator where there is one, else ``meta``, a device every
# PyTorch build has, whose tensors have a shape and a dtype but no data.


def show_error(code):
    try:
        code()
    except (RuntimeError, ValueError) as error:
        print(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    else:
        raise AssertionError("expected an error")


images = torch.rand(32, 8, 8)
labels = torch.randint(0, 10, (32,))
linear = nn.Linear(64, 10)
logits = linear(images.flatten(1))
elsewhere = device if device.type != "cpu" else torch.device("meta")
linear_elsewhere = nn.Linear(64, 10).to(elsewhere)  # a model moved to another device

print("1. images not flattened:")
show_error(lambda: linear(images))
print("2. integer pixels:")
show_error(lambda: linear((images * 16).long().flatten(1)))
print("3. float class labels:")
show_error(lambda: F.cross_entropy(logits, labels.float()))
print("4. logits transposed:")
show_error(lambda: F.cross_entropy(logits.T, labels))
print("5. no channel dimension for a convolution:")
show_error(lambda: nn.Conv2d(1, 8, kernel_size=3)(images))
print("6. view of a transposed tensor:")
show_error(lambda: images.transpose(1, 2).view(32, 64))
print("7. the model moved to another device, the batch left on the CPU:")
show_error(lambda: linear_elsewhere(images.flatten(1)))

# %%
# How to read them:
#
# 1. ``mat1 and mat2 shapes cannot be multiplied (256x8 and 64x10)``: ``mat1`` is the input
#    with all leading dimensions merged (32 x 8 = 256 rows of 8), ``mat2`` is the layer's
#    transposed weight (64 inputs). The inner numbers, 8 and 64, must match:
#    ``images.flatten(1)``.
# 2. ``must have the same dtype, but got Long and Float``: layers compute in float; convert
#    inputs with ``.float()``.
# 3. ``expected target dtype to be Long``: ``cross_entropy`` wants class *indices* as integers
#    (``.long()``). Float targets are read as class *probabilities* of shape ``(N, classes)``.
# 4. ``Expected input batch_size (10) to match target batch_size (32)``: the first dimension of
#    the logits must be the batch.
# 5. ``expected input[1, 32, 8, 8] to have 1 channels, but got 32``: a 3-D input is read as
#    one unbatched image with 32 channels; add the channel dimension: ``images.unsqueeze(1)``.
# 6. ``view size is not compatible with input tensor's size and stride``: ``view`` never
#    copies, so the new shape must be readable from the same memory with new strides. After a
#    transpose, the two swapped dimensions cannot be merged into one that way (splitting a
#    dimension still works); ``reshape`` copies when it must.
# 7. ``Tensor on device meta is not on the expected device cpu`` (on a CUDA GPU the message
#    starts ``Expected all tensors to be on the same device``): the batch is on the CPU, the
#    layer's weight and bias are not. Move every batch to the model's device,
#    ``next(model.parameters()).device``. Only some operations on ``meta`` check devices
#    (here, adding the bias): the same layer without a bias takes the CPU batch without an
#    error, so ``meta`` can show this message but cannot prove that a model's devices match.
#
# The fixes, checked:
assert linear(images.flatten(1)).shape == (32, 10)
assert linear((images * 16).long().flatten(1).float()).shape == (32, 10)
assert F.cross_entropy(logits, labels.float().long()).isfinite()  # or keep the labels long
assert nn.Conv2d(1, 8, kernel_size=3)(images.unsqueeze(1)).shape == (32, 8, 6, 6)
assert images.transpose(1, 2).reshape(32, 64).shape == (32, 64)
assert images.transpose(1, 2).view(32, 8, 2, 4).shape == (32, 8, 2, 4)  # a split is a view
model_device = next(linear_elsewhere.parameters()).device
assert linear_elsewhere(images.flatten(1).to(model_device)).shape == (32, 10)
if elsewhere.type == "meta":  # no bias, no device check on meta: no error, and no proof
    assert nn.Linear(64, 10, bias=False).to("meta")(images.flatten(1)).shape == (32, 10)

# %%
# The worst shape bug raises no error at all. A regression model outputs shape ``(N, 1)``;
# subtracting targets of shape ``(N,)`` *broadcasts* to an ``(N, N)`` matrix, and the mean
# squared error is computed over all pairs. (``nn.MSELoss`` warns about this; a hand-written
# loss does not.) Check shapes with an ``assert`` where the loss is computed.
pred = torch.rand(32, 1)
target = torch.rand(32)
print(f"(pred - target) has shape {tuple((pred - target).shape)}, not (32, 1)")
print(f"wrong loss {((pred - target) ** 2).mean().item():.4f}", end=" | ")
print(f"right loss {((pred.squeeze(1) - target) ** 2).mean().item():.4f}")
assert (pred - target).shape == (32, 32)

# %%
# A slow step: where the time goes
# --------------------------------
# When training is slower than it should be, measure before changing anything.
# ``torch.profiler.profile`` records every operation PyTorch runs inside its ``with`` block,
# and ``record_function`` labels a region of your own code. The table lists what cost the most
# time of its own ("Self CPU": time not spent in another recorded operation inside it) and how
# often each ran: PyTorch's operations (``aten::...``), the backward pass's functions
# (``autograd::engine::...``), the optimizer's step, and our labels, whose own time is mostly
# Python between operations.
#
# The labels also tell how a step splits between the forward pass, the backward pass and the
# optimizer. Other programs on the machine stretch some steps at random, so the split below
# takes each part's fastest run of the 20 profiled steps. The times change from run to run;
# for the same code on the same kind of device, the operations and their counts do not. On a
# GPU, the CPU times only cover *launching* the work, which runs asynchronously: add
# ``ProfilerActivity.CUDA`` to ``activities`` to see the time of the kernels. `Profiling and
# memory <../15_profiling/>`_ goes further: finding and fixing a slow operation, memory,
# activation checkpointing and the GPU's speed switches.
from torch.profiler import ProfilerActivity, profile, record_function

torch.manual_seed(0)
model = make_model().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
inputs, targets = X[:256].to(device), y[:256].to(device)
STEPS = 20


def train_step():
    with record_function("forward"):
        loss = F.cross_entropy(model(inputs), targets)
    with record_function("backward"):
        optimizer.zero_grad()
        loss.backward()
    with record_function("optimizer step"):
        optimizer.step()


train_step()  # once outside the profiler, so that one-off costs of first calls stay out
with profile(activities=[ProfilerActivity.CPU]) as prof:
    for _ in range(STEPS):
        train_step()
events = prof.key_averages()
print(events.table(sort_by="self_cpu_time_total", row_limit=6, max_name_column_width=52))
parts = ("forward", "backward", "optimizer step")
fastest = {part: min(e.cpu_time_total for e in prof.events() if e.name == part) for part in parts}
shares = [f"{part} {fastest[part] / sum(fastest.values()):.0%}" for part in parts]
print("split of a step:", ", ".join(shares))
calls = {e.key: e.count for e in events}
assert all(calls[part] == STEPS for part in parts)
assert calls["aten::linear"] == 2 * STEPS  # one per nn.Linear per forward pass

# %%
# Reproducibility: the same run, twice
# ------------------------------------
# To debug a problem you must be able to see it again. A run is repeatable when every source
# of randomness is seeded and every operation is deterministic:
#
# * ``random.seed``, ``np.random.seed`` and ``torch.manual_seed`` (which seeds every device)
#   seed the three global random number generators a training script usually touches;
# * ``torch.use_deterministic_algorithms(True)`` makes PyTorch use deterministic
#   implementations, and raise an error for an operation that has none. On CUDA it needs
#   ``CUBLAS_WORKSPACE_CONFIG`` (set in the first cell); ``torch.backends.cudnn.benchmark``
#   must stay ``False``;
# * the ``DataLoader`` gets its own seeded ``torch.Generator``, which fixes the shuffling order
#   and the seeds of its worker processes. Each worker seeds ``random`` and ``torch`` itself,
#   and since PyTorch 1.9 NumPy's global generator too, from that seed and its worker number.
#
# What a worker cannot reseed is a generator the dataset made for itself. The dataset below
# adds random noise (from ``torch``) and a random brightness to every image, the kind of
# augmentation real pipelines use; the brightness comes from a NumPy ``Generator`` created in
# ``__init__``, the way NumPy recommends over its global functions.
import random

import numpy as np
from torch.utils.data import DataLoader, Dataset


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class NoisyDigits(Dataset):
    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(X)

    def brightness(self):
        return float(self.rng.uniform(0.8, 1.2))

    def __getitem__(self, i):
        noise = 0.05 * torch.randn(64)
        return (X[i] + noise) * self.brightness(), y[i]


# %%
# Worker processes copy the dataset's generator
# ---------------------------------------------
# Worker processes started by ``fork`` (Linux, up to Python 3.13) inherit this script as it
# is. With ``spawn`` (macOS, Windows) or ``forkserver`` (Linux from Python 3.14) each worker
# imports the script again, which needs the code under ``if __name__ == "__main__":`` (see
# `Distributed data parallel <../12_distributed/>`_); so the page uses two workers only where
# ``fork`` is the default.
#
# Each worker gets a *copy* of the dataset, ``self.rng`` included, in the state it had in the
# main process. So every worker draws the same brightness values, and since the main
# process's generator never moves, every epoch draws them again. To see it, ``Brightness``
# returns only the brightness each item would get, and a loader with two workers hands out
# batches in turn: batch 1 from worker 0, batch 2 from worker 1.
import torch.multiprocessing as mp

num_workers = 2 if mp.get_start_method() == "fork" else 0
print(f"start method {mp.get_start_method()!r}: {num_workers} DataLoader workers")


class Brightness(NoisyDigits):
    """Only the brightness NoisyDigits draws, for 6 items."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return self.brightness()


class GlobalBrightness(Brightness):
    """The same, from NumPy's global generator (each worker seeds it)."""

    def brightness(self):
        return float(np.random.uniform(0.8, 1.2))


def brightness_by_batch(dataset, worker_init_fn=None, epochs=2):
    loader = DataLoader(
        dataset,
        batch_size=3,
        num_workers=num_workers,
        worker_init_fn=worker_init_fn,
        generator=torch.Generator().manual_seed(0),
    )
    batches = [batch.tolist() for _ in range(epochs) for batch in loader]
    return [[round(b, 4) for b in batch] for batch in batches]


def show(title, batches):  # two batches per epoch: from worker 0, then from worker 1
    print(f"{title}:")
    for epoch, (first, second) in enumerate(zip(batches[::2], batches[1::2]), start=1):
        print(f"  epoch {epoch}: batch 1 {first}, batch 2 {second}")


copied = brightness_by_batch(Brightness())
show("Generator made in __init__", copied)
global_draws = brightness_by_batch(GlobalBrightness())
show("NumPy's global generator", global_draws)
if num_workers:
    assert copied[0] == copied[1] == copied[2] == copied[3]  # the same numbers everywhere
    assert len({tuple(batch) for batch in global_draws}) == 4  # seeded per worker and epoch
else:
    print("no worker processes here: every number above came from this process's generator")

# %%
# The fix is a ``worker_init_fn``: the ``DataLoader`` calls it in each worker before the first
# batch, and ``torch.utils.data.get_worker_info()`` gives it the worker's copy of the dataset
# and the worker's seed. That seed differs between workers and between epochs, and it comes
# from the loader's generator, so the run stays repeatable.


def seed_worker(worker_id):
    info = torch.utils.data.get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed)  # this worker's own generator


fixed = brightness_by_batch(Brightness(), worker_init_fn=seed_worker)
show("Generator reseeded by worker_init_fn", fixed)
if num_workers:
    assert len({tuple(batch) for batch in fixed}) == 4  # every worker and epoch draws its own
    assert brightness_by_batch(Brightness(), worker_init_fn=seed_worker) == fixed  # repeatable

# %%
# The whole recipe, checked
# -------------------------
# A short training run with every piece in place: seeds, deterministic algorithms, a seeded
# loader, the ``worker_init_fn`` and the noisy dataset, run twice with one seed and once with
# another.


def training_run(seed, epochs=2):
    seed_everything(seed)
    loader = DataLoader(
        NoisyDigits(seed),
        batch_size=64,
        shuffle=True,
        num_workers=num_workers,
        worker_init_fn=seed_worker,
        generator=torch.Generator().manual_seed(seed),
    )
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb.to(device)), yb.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return model.state_dict(), losses


torch.use_deterministic_algorithms(True)
try:
    weights_a, losses_a = training_run(seed=0)
    weights_b, losses_b = training_run(seed=0)
    weights_c, losses_c = training_run(seed=1)
finally:
    torch.use_deterministic_algorithms(False)  # back to the default for the rest of the page

same = all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
differ = not all(torch.equal(weights_a[k], weights_c[k]) for k in weights_a)
print(f"seed 0, run 1: last losses {[round(v, 4) for v in losses_a[-3:]]}")
print(f"seed 0, run 2: last losses {[round(v, 4) for v in losses_b[-3:]]}")
print(f"seed 1:        last losses {[round(v, 4) for v in losses_c[-3:]]}")
print(f"runs with the same seed have identical weights: {same}; another seed differs: {differ}")
assert same and losses_a == losses_b and differ

# %%
# Why give the ``DataLoader`` its own generator when the global seed is already set? Without
# one, the shuffling order is drawn from the global generator, so it changes whenever any
# other code draws random numbers first, for example a model with a different width. With a
# generator, the data order depends on its seed alone, and two experiments that differ in the
# model see the same batches.


def first_labels(hidden, use_generator):
    seed_everything(0)
    nn.Linear(64, hidden)  # initialising weights draws from the global generator
    gen = torch.Generator().manual_seed(0) if use_generator else None
    loader = DataLoader(NoisyDigits(), batch_size=8, shuffle=True, generator=gen)
    return next(iter(loader))[1].tolist()


for use_generator in (False, True):
    a, b = first_labels(128, use_generator), first_labels(256, use_generator)
    print(f"generator={use_generator}: width 128 -> {a}, width 256 -> {b}, same: {a == b}")
assert first_labels(128, False) != first_labels(256, False)
assert first_labels(128, True) == first_labels(256, True)

# %%
# .. note::
#    Seeds make a run repeatable on the *same* machine and software. Different PyTorch
#    versions, devices or numbers of threads may still give slightly different numbers; that
#    is expected, and a reason to compare results with a tolerance, not bit for bit.

# %%
# Exercises
# ---------
# Three exercises on the checks above. Each one has a starter to edit, a checker that prints
# ``correct`` or what is wrong, and a reference solution (collapsed; open it once you have
# tried).

# %%
# Exercise 1: plot gradient flow per layer
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``grad_norms_per_layer(model, x, y)``: one forward pass with cross-entropy loss, one
# backward pass, then return a dict ``{module name: L2 norm of its weight gradient}`` (Python
# floats) for every ``nn.Linear`` in ``model``, in order. The model may hold old gradients.
# ``check_grad_norms`` compares your norms with a reference on a fixed model and batch; then
# plot them as bars (the solution shows how).
import torch
import torch.nn.functional as F
from torch import nn


def check_grad_norms(candidate) -> bool:
    """Compare ``candidate``'s per-layer gradient norms with a reference; print the verdict."""
    with torch.random.fork_rng(devices=[]):  # seeded here, the reader's RNG left untouched
        torch.manual_seed(0)
        model = nn.Sequential(
            nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
        )
        x, y = torch.randn(20, 8), torch.randint(0, 3, (20,))
    F.cross_entropy(model(x), y).backward()
    expected = {
        n: m.weight.grad.norm().item() for n, m in model.named_modules() if isinstance(m, nn.Linear)
    }
    for p in model.parameters():  # stale gradients from an earlier step
        p.grad = torch.ones_like(p)
    try:
        got = candidate(model, x, y)
    except Exception as exc:
        print(f"not correct: raised {type(exc).__name__}: {exc}")
        return False
    shown = {n: round(v, 5) for n, v in expected.items()}
    if not isinstance(got, dict) or list(got) != list(expected):
        keys = list(got) if isinstance(got, dict) else type(got).__name__
        print(f"not correct: expected a dict with keys {list(expected)}, got {keys}")
        return False
    values = list(got.values())
    if not all(isinstance(v, float) for v in values):
        types = [type(v).__name__ for v in values]
        print(f"not correct: expected Python floats (call .item()), got {types}")
        return False
    if any(not abs(a - b) <= 1e-5 * max(1.0, abs(b)) for a, b in zip(values, expected.values())):
        print(f"not correct: expected {shown},")
        print(f"             got {dict(zip(got, [round(v, 5) for v in values]))}")
        return False
    print("correct")
    return True


def grad_norms_per_layer(model, x, y):
    # Your code here: zero old gradients, forward, loss, backward, then one norm per Linear.
    return None


check_grad_norms(grad_norms_per_layer)

# %% tags=["solution"]
# Reference solution.
import matplotlib.pyplot as plt


def grad_norms_per_layer(model, x, y):
    model.zero_grad()  # old gradients would be added to the new ones
    F.cross_entropy(model(x), y).backward()
    return {
        name: module.weight.grad.norm().item()
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear)
    }


assert check_grad_norms(grad_norms_per_layer)

torch.manual_seed(0)
sigmoid_net = nn.Sequential(*[m for _ in range(6) for m in (nn.Linear(32, 32), nn.Sigmoid())])
norms = grad_norms_per_layer(sigmoid_net, torch.randn(64, 32), torch.randint(0, 10, (64,)))
fig, ax = plt.subplots(figsize=(6, 2.8))
ax.bar(range(len(norms)), list(norms.values()), tick_label=list(norms))
ax.set_yscale("log")
ax.set_xlabel("module name (input -> output)")
ax.set_ylabel("weight-gradient norm (log)")
ax.set_title("Gradient flow in a 6-layer sigmoid net")
fig.tight_layout()
plt.show()

# %%
# Exercise 2: find the first layer that goes non-finite
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``first_nonfinite(model, x)``: run ``model(x)`` once and return the name (as in
# ``model.named_modules()``) of the *first* module, in the order they run, whose output holds
# a ``nan`` or ``inf``; return ``None`` if every output is finite. Use forward hooks
# (``module.register_forward_hook``) and ``torch.isfinite``, and remove the hooks afterwards:
# a hook left behind runs on every later forward pass. The checker looks at each module's
# ``_forward_hooks``, where ``nn.Module`` keeps them (there is no public accessor).
import torch
from torch import nn


def check_first_nonfinite(candidate) -> bool:
    """Run ``candidate`` on models that go non-finite in a known module and on a healthy one."""

    class HeadFirst(nn.Module):  # "head" is registered first but runs last
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(8, 2)
            self.body = nn.Linear(4, 8)

        def forward(self, x):
            return self.head(self.body(x))

    with torch.random.fork_rng(devices=[]):  # seeded here, the reader's RNG left untouched
        torch.manual_seed(0)
        broken = nn.Sequential(
            nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)
        )
        head_first = HeadFirst()
        healthy = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
        x = torch.randn(5, 4)
    with torch.no_grad():
        broken[2].bias[0] = float("inf")  # one column of module "2" is inf; "4" is all inf
        head_first.body.bias[0] = float("nan")  # one column of "body" is nan; "head" all nan
    cases = [
        (broken, "2", "a model whose module '2' outputs one column of inf"),
        (head_first, "body", "a model whose module 'body' outputs nan and runs before 'head'"),
        (healthy, None, "a healthy model"),
    ]
    for model, expected, description in cases:
        try:
            got = candidate(model, x)
        except Exception as exc:
            print(f"not correct: raised {type(exc).__name__}: {exc}")
            return False
        if got != expected:
            print(f"not correct: expected {expected!r} for {description}, got {got!r}")
            return False
        left = [name for name, m in model.named_modules() if m._forward_hooks]
        if left:
            print(f"not correct: hooks still registered on modules {left} of {description}")
            return False
    print("correct")
    return True


def first_nonfinite(model, x):
    # Your code here: a hook on every submodule that records its name if its output is
    # not finite; run the model; remove the hooks; return the first name or None.
    return None


check_first_nonfinite(first_nonfinite)


# %% tags=["solution"]
# Reference solution.
def first_nonfinite(model, x):
    bad = []

    def make_hook(name):
        def hook(module, inputs, output):
            if not torch.isfinite(output).all():  # isnan alone would miss inf
                bad.append(name)

        return hook

    handles = [
        module.register_forward_hook(make_hook(name))
        for name, module in model.named_modules()
        if name  # "" is the model itself
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return bad[0] if bad else None


assert check_first_nonfinite(first_nonfinite)

# %%
# Exercise 3: a data order that depends on the seed alone
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``seeded_loader(dataset, seed)``: a shuffling ``DataLoader`` with ``batch_size=4``
# (a new order every epoch) whose order of examples is the same every time it is built with
# the same ``seed``, whatever other code draws random numbers in between, and different for a
# different seed.
import torch
from torch.utils.data import TensorDataset


def check_seeded_loader(candidate) -> bool:
    """Build loaders with ``candidate``, disturb the global RNG in between, compare orders."""
    dataset = TensorDataset(torch.arange(20))

    def order(loader):
        return [i for (batch,) in loader for i in batch.tolist()]

    with torch.random.fork_rng(devices=[]):
        try:
            first = candidate(dataset, 0)
            torch.rand(10)  # other code using the global generator
            again = candidate(dataset, 0)
            other = candidate(dataset, 1)
            orders = order(first), order(again), order(other)
            second_epoch = order(first)
            batch_size = next(iter(candidate(dataset, 0)))[0].shape[0]
        except Exception as exc:
            print(f"not correct: raised {type(exc).__name__}: {exc}")
            return False
    if batch_size != 4:
        print(f"not correct: expected batches of 4, got {batch_size}")
        return False
    if orders[0] == list(range(20)):
        print(f"not correct: expected a shuffled order, got {orders[0]}")
        return False
    if second_epoch == orders[0]:
        print(f"not correct: expected a new order in the second epoch, got {orders[0]} twice")
        return False
    if orders[0] != orders[1]:
        print(f"not correct: expected the same order for seed 0 twice, got {orders[0]}")
        print(f"             and then {orders[1]}")
        return False
    if orders[0] == orders[2]:
        print(f"not correct: expected seeds 0 and 1 to give different orders, both {orders[0]}")
        return False
    print("correct")
    return True


def seeded_loader(dataset, seed):
    # Your code here: a DataLoader that shuffles with its own seeded generator.
    return torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)


check_seeded_loader(seeded_loader)


# %% tags=["solution"]
# Reference solution.
def seeded_loader(dataset, seed):
    return torch.utils.data.DataLoader(
        dataset, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )


assert check_seeded_loader(seeded_loader)

# %%
# Summary
# -------
# * Overfit one batch first: the loss must reach (almost) zero; if it stalls, the bug is in the
#   model, the loss or the update (here: a softmax before ``CrossEntropyLoss``).
# * Record each layer's weight-gradient norm during training: layers spread over orders of
#   magnitude mean vanishing gradients (sigmoids, depth); norms growing step after step mean
#   exploding ones. ReLU, normalisation, a correct initialisation and clipping are the fixes.
# * ``torch.isfinite`` on the loss and the gradient norm, before ``optimizer.step()``, stops a
#   run at its first bad step, while the weights are still finite;
#   ``torch.autograd.set_detect_anomaly(True)`` names the backward function that produced a
#   ``nan`` and the forward line that created it.
# * Shape, dtype and device messages name both sides of the mismatch; broadcasting bugs raise
#   nothing, so assert shapes where a loss is computed.
# * ``torch.profiler.profile`` with ``record_function`` labels shows where a step's time goes,
#   before you change anything to make it faster.
# * Repeatable runs: seed ``random``, NumPy and torch, use deterministic algorithms, and give
#   each ``DataLoader`` a seeded ``Generator``. A generator the dataset creates itself is
#   copied into every worker: reseed it in a ``worker_init_fn``.
#
# Where to go next
# ----------------
# `Distributed data parallel <../12_distributed/>`_ trains one model in several processes and
# proves that the result equals a single-process run, the same kind of check as on this page.
