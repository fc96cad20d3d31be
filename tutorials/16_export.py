"""
Export and deploy
=================

A model that lives in a Python process, next to the class that defines it, is not yet a model
you can ship. This tutorial takes a small trained digit classifier and captures it as a graph
with ``torch.export``, saves and reloads that graph without the model's code, converts it to
ONNX and checks ONNX Runtime's answers against PyTorch's, looks at what is left of TorchScript,
and ends with when to use ``torch.compile`` and when ``torch.export``.

**What you will learn**

* how ``torch.export.export`` captures a model as a graph of ATen operators, with a dynamic
  batch dimension (``torch.export.Dim``), and what the exported program checks on every call
* how to save and load an ``ExportedProgram`` (a ``.pt2`` file)
* how to export to ONNX with the ``torch.export``-based exporter (``dynamo=True``) and check
  ONNX Runtime's outputs against the eager model to a stated tolerance
* where TorchScript stands in PyTorch 2.14 and what replaces each of its uses
* when to use ``torch.compile`` and when ``torch.export``, and why Python ``if`` statements on
  tensor values separate them (``torch.cond``)

**Prerequisites**

* `Training <../05_training/>`_ and `Checkpointing <../06_checkpointing/>`_
* `Accelerators <../08_accelerators/>`_, which times ``torch.compile``
* besides PyTorch, the packages ``onnx``, ``onnxscript`` (the exporter uses it) and
  ``onnxruntime``: ``pip install onnx onnxscript onnxruntime``

The data is scikit-learn's bundled handwritten digits and the model a small MLP trained for a
few epochs: the page is about the steps, and they are the same for a large model. All files go
to a temporary directory.
"""

# %%
# A model to deploy
# -----------------
# The model takes the raw pixel values of an 8x8 scan (0 to 16, flattened to 64 numbers) and
# does its own scaling in ``forward``: whatever preprocessing lives in ``forward`` is exported
# with the model, so the program that serves it cannot forget it or do it differently.
#
# It trains on ``device``, then moves to the CPU, where this page deploys it (ONNX Runtime's
# CPU provider below), and switches to ``eval()`` before export: export records the mode the
# model is in, as the next cell shows.
import tempfile
from pathlib import Path

import torch
from sklearn.datasets import load_digits
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")

digits = load_digits()
X = torch.from_numpy(digits.data).float()  # raw pixel values, 0 to 16
y = torch.from_numpy(digits.target).long()
order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
train_idx, val_idx = order[:1400], order[1400:]
X_val, y_val = X[val_idx], y[val_idx]


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)
        )

    def forward(self, pixels):
        return self.layers(pixels / 16.0)  # the preprocessing is part of the model


model = DigitNet().to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
shuffle = torch.Generator().manual_seed(0)
model.train()
for _ in range(8):  # epochs
    for batch in train_idx[torch.randperm(len(train_idx), generator=shuffle)].split(64):
        loss = nn.functional.cross_entropy(model(X[batch].to(device)), y[batch].to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

model = model.cpu().eval()
with torch.no_grad():
    eager_logits = model(X_val)
accuracy = (eager_logits.argmax(1) == y_val).float().mean().item()
print(f"trained on {device.type}; validation accuracy {accuracy:.3f} on {len(X_val)} scans")
assert accuracy > 0.9

tmp = tempfile.TemporaryDirectory()
workdir = Path(tmp.name)

# %%
# ``torch.export``: the model as a graph
# --------------------------------------
# ``torch.export.export(model, args)`` traces ``forward`` once, on *fake* tensors that have the
# shapes and dtypes of the example ``args`` but no values, and records every operation as an
# ATen operator (PyTorch's own operator set) in one graph, with no Python left in it. By
# default every shape is fixed to the example's. A batch dimension should not be, so
# ``dynamic_shapes`` names it: ``Dim("batch", min=1, max=1024)`` says that dimension 0 of the
# argument ``pixels`` may be any size from 1 to 1024, and the graph is then valid for all of
# them. Feature sizes stay fixed (64 pixels), which is what the weights need.
from torch.export import Dim

batch = Dim("batch", min=1, max=1024)
example = X_val[:8]
exported = torch.export.export(model, (example,), dynamic_shapes={"pixels": {0: batch}})

print("operators, in order, with their output shapes:")
calls = [node for node in exported.graph.nodes if node.op == "call_function"]
for node in calls:
    print(f"  {node.name:10s} {node.target!s:22s} {tuple(node.meta['val'].shape)}")
print("inputs of the graph:")
for spec in exported.graph_signature.input_specs:
    print(f"  {spec.kind.name:10s} {spec.arg.name:18s} {spec.target or ''}".rstrip())
print("range of the batch size:", exported.range_constraints)

ops = [str(node.target) for node in calls]
assert ops == [
    "aten.div.Tensor",
    "aten.linear.default",
    "aten.relu.default",
    "aten.dropout.default",
    "aten.linear.default",
]
dropout = calls[ops.index("aten.dropout.default")]
assert dropout.args[2] is False  # train=False: recorded in eval mode, dropout does nothing
kinds = [spec.kind.name for spec in exported.graph_signature.input_specs]
assert kinds == ["PARAMETER"] * 4 + ["USER_INPUT"]

# %%
# Every operator's output shape starts with the same symbol, export's name for the batch size,
# whose range it prints last. The graph's inputs are the four parameters (the weights are
# inputs of the graph, bound to it by the program) and the one user input. The dropout call
# carries ``False`` for ``train``: the model was in ``eval()`` mode when it was exported, so
# the graph will never drop anything.
#
# What the exported program checks
# ---------------------------------
# ``exported.module()`` turns the program back into a callable module. Before each call it
# checks the inputs against what was exported: any batch size in the range runs, and the
# results equal the eager model's; a tensor of the wrong width, or a batch outside the range,
# is refused with the condition it broke, instead of failing somewhere inside.
program = exported.module()
for n in (1, 5, len(X_val)):
    out = program(X_val[:n])
    with torch.no_grad():
        assert torch.equal(out, model(X_val[:n]))
    print(f"batch of {n:3d}: output {tuple(out.shape)}, equal to the eager model's")

refusals = {}
for name, wrong in {
    "65 pixels per scan": torch.zeros(3, 65),
    "a batch of 2000": torch.zeros(2000, 64),
}.items():
    try:
        program(wrong)
    except Exception as err:
        refusals[name] = err
        print(f"{name}: refused, {type(err).__name__}: {err}")
assert all(isinstance(err, AssertionError) for err in refusals.values()), refusals
assert len(refusals) == 2

# %%
# Save and load an ``ExportedProgram``
# ------------------------------------
# ``torch.export.save`` writes the program to one file, by convention ``.pt2``: a zip archive
# that holds the graph as JSON, each weight as a file of its own, and the example inputs given
# to ``export`` (export with made-up or public examples when your data is private).
# ``torch.export.load`` reads it back. Loading needs PyTorch but not ``DigitNet``: the graph is
# the model now, so a server can run it without the training code. The end of the cell shows
# it with a new Python process that imports ``torch`` and nothing of this page.
import subprocess
import sys
import zipfile

pt2_path = workdir / "digits.pt2"
torch.export.save(exported, pt2_path)
with zipfile.ZipFile(pt2_path) as archive:
    names = archive.namelist()
weights = [name for name in names if "/data/weights/weight_" in name]
print(f"digits.pt2: {pt2_path.stat().st_size / 1024:.0f} KiB, {len(names)} files in the zip")
print(f"  the graph: {[name for name in names if name.endswith('model.json')]}")
print(f"  weight files: {len(weights)} (one per parameter)")
assert len(weights) == len(list(model.parameters()))

loaded = torch.export.load(pt2_path)
reloaded = loaded.module()
(stored_example,), _ = loaded.example_inputs
print("batch size range after loading:", loaded.range_constraints)
print("the example batch is in the file:", torch.equal(stored_example, example))
assert torch.equal(stored_example, example)
assert torch.equal(reloaded(X_val), eager_logits)
with torch.no_grad():
    assert torch.equal(reloaded(X_val[:3]), model(X_val[:3]))
print(f"outputs on all {len(X_val)} validation scans and on a batch of 3: equal to eager")

server = """
import sys
import torch

program = torch.export.load(sys.argv[1])
args, kwargs = program.example_inputs
print(program.module()(*args, **kwargs).argmax(1).tolist())
"""
served = subprocess.run(
    [sys.executable, "-c", server, str(pt2_path)], stdout=subprocess.PIPE, text=True, check=True
)
print("a new process, with no DigitNet, predicts the stored examples:", served.stdout.strip())
assert served.stdout.strip() == str(eager_logits[: len(example)].argmax(1).tolist())

# %%
# ONNX: a file other runtimes read
# --------------------------------
# ONNX is an open format for graphs of operators, read by ONNX Runtime, TensorRT, OpenVINO,
# browsers (onnxruntime-web) and many other runtimes that have no PyTorch in them.
# ``torch.onnx.export(..., dynamo=True)`` first runs ``torch.export`` (so it takes the same
# ``dynamic_shapes``) and then translates the ATen graph into ONNX operators with the
# ``onnxscript`` package. ``dynamo=True`` is the default since PyTorch 2.9 (the cell checks
# that it is here); spelled out, the call means the same on older versions, whose default is
# the TorchScript-based exporter. ``verbose=False`` keeps the exporter from printing its
# progress. The returned ``ONNXProgram`` is saved with its ``save`` method.
import inspect

import onnx

assert inspect.signature(torch.onnx.export).parameters["dynamo"].default is True

onnx_program = torch.onnx.export(
    model,
    (example,),
    dynamo=True,
    dynamic_shapes={"pixels": {0: batch}},
    output_names=["logits"],
    verbose=False,
)
onnx_path = workdir / "digits.onnx"
onnx_program.save(onnx_path)

graph = onnx.load(onnx_path).graph


def dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


onnx_ops = [node.op_type for node in graph.node]
print(f"digits.onnx: {onnx_path.stat().st_size / 1024:.0f} KiB")
print("ONNX operators:", onnx_ops)
print("inputs :", [(value.name, dims(value)) for value in graph.input])
print("outputs:", [(value.name, dims(value)) for value in graph.output])
assert onnx_ops == ["Div", "Gemm", "Relu", "Gemm"]  # eval-mode dropout is gone
assert dims(graph.input[0]) == ["batch", 64]

# %%
# The exporter dropped the dropout (in eval mode it is the identity) and turned each
# ``linear`` into one ``Gemm``. The batch dimension kept its name, ``batch``.
#
# Check it against ONNX Runtime
# -----------------------------
# An exported file is only as good as the check that it computes what the model computes.
# ONNX Runtime runs the file with its own kernels, which may add up the float32 products in
# another order than PyTorch's, so the two agree to rounding, not necessarily bit for bit. The
# tolerance here is an absolute ``1e-4`` on the logits: the cell prints how many float32
# rounding steps that is at the size of the largest logit, which is loose enough for rounding
# and far too tight for a wrong weight or a missing operation. The check runs on all validation
# scans and on a batch of 7: two sizes, neither of them the example's 8, that the dynamic
# ``batch`` axis must take. The exact differences move with the CPU and the number of threads
# each library uses, so the cell prints their order of magnitude. ONNX Runtime takes and
# returns NumPy arrays.
import math

import onnxruntime as ort

TOLERANCE = 1e-4
session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
print("ONNX Runtime's input:", input_name, session.get_inputs()[0].shape)
for n in (len(X_val), 7):
    (logits,) = session.run(["logits"], {input_name: X_val[:n].numpy()})
    logits = torch.from_numpy(logits)
    with torch.no_grad():
        reference = model(X_val[:n])
    difference = (logits - reference).abs().max().item()
    scale = "= 0" if difference == 0 else f"< {10.0 ** math.ceil(math.log10(difference)):.0e}"
    same_digits = torch.equal(logits.argmax(1), reference.argmax(1))
    print(
        f"batch of {n:3d}: output {tuple(logits.shape)}, largest |difference| {scale} "
        f"(tolerance {TOLERANCE:.0e}), same predicted digits: {same_digits}"
    )
    assert logits.shape == (n, 10) and difference < TOLERANCE and same_digits
largest = eager_logits.abs().max()
spacing = (torch.nextafter(largest, torch.tensor(float("inf"))) - largest).item()
print(
    f"float32 numbers near the largest |logit|, {largest:.1f}, are {spacing:.1e} apart: "
    f"the tolerance is {TOLERANCE / spacing:.0f} such steps"
)
assert 10 < TOLERANCE / spacing < 1000

# %%
# What changes for TorchScript
# ----------------------------
# Before ``torch.export``, the way to get a model out of Python was TorchScript:
# ``torch.jit.trace`` or ``torch.jit.script``, saved with ``torch.jit.save`` and loaded in
# Python, or in C++ with ``torch::jit::load``. TorchScript is deprecated: the TorchScript pages
# of PyTorch's documentation open with "TorchScript is deprecated, please use torch.export
# instead". The ONNX exporter built on it (``dynamo=False``) is deprecated too. The cell below
# calls each of them once and, instead of hiding the warnings they emit, prints the first
# sentence of each under the call that emitted it: in PyTorch 2.14 every one of these calls
# warns (``trace`` also for the ``trace_method`` it calls, and the legacy exporter also for a
# deprecated helper of its own). Existing TorchScript files still load and compute the same
# outputs, so a model shipped that way keeps working while you move it over. This page uses
# TorchScript for nothing else.
import warnings


def warnings_of(name, call):
    """Run ``call()``, print the first sentence of each warning it emits, return its result."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    messages = dict.fromkeys(
        f"{w.category.__name__}: {str(w.message).split('. ')[0]}" for w in caught
    )
    print(name, *messages, sep="\n    ")
    assert messages, f"{name} emitted no warning"
    assert all(issubclass(w.category, (DeprecationWarning, FutureWarning)) for w in caught)
    return result


torchscript_path = workdir / "digits_torchscript.pt"
scripted = warnings_of("torch.jit.script", lambda: torch.jit.script(model))
traced = warnings_of("torch.jit.trace", lambda: torch.jit.trace(model, example))
warnings_of("torch.jit.save", lambda: torch.jit.save(traced, torchscript_path))
old_style = warnings_of("torch.jit.load", lambda: torch.jit.load(torchscript_path))
legacy_onnx = workdir / "legacy.onnx"
warnings_of(
    "torch.onnx.export(dynamo=False)",
    lambda: torch.onnx.export(model, (example,), legacy_onnx, dynamo=False),
)
with torch.no_grad():
    same = [torch.equal(ts_model(X_val), eager_logits) for ts_model in (scripted, old_style)]
print("scripted, and traced-saved-loaded, models compute the same logits:", all(same))
assert all(same)

# %%
# Each use of TorchScript has a successor:
#
# ==================================================  ==========================================
# TorchScript                                         instead
# ==================================================  ==========================================
# ``torch.jit.trace(model, example)``                 ``torch.export.export(model, (example,))``
# ``torch.jit.script`` for ``if`` on tensor values    ``torch.export`` with ``torch.cond`` (below)
# ``torch.jit.save`` / ``torch.jit.load``             ``torch.export.save`` / ``torch.export.load``
# ``torch::jit::load`` in a C++ program               AOTInductor, or ONNX and ONNX Runtime
# ``torch.jit.script`` to speed up Python code        ``torch.compile``
# legacy ONNX export (``dynamo=False``)               ``torch.onnx.export(..., dynamo=True)``
# ==================================================  ==========================================
#
# AOTInductor (``torch._inductor.aoti_compile_and_package``, see its page in PyTorch's
# documentation) compiles an ``ExportedProgram`` ahead of time into a ``.pt2`` package of
# native code that a C++ program, or Python, loads and runs. It generates and compiles code as
# ``torch.compile`` does on its first call (C++ for the CPU, Triton kernels for a GPU), a cost
# this page leaves out.
#
# ``torch.compile`` or ``torch.export``?
# --------------------------------------
# Both capture graphs of PyTorch operations, and they answer different questions:
#
# * ``torch.compile(model)`` makes a model faster **inside the Python program that runs it**,
#   for training and for inference. It compiles on the first call and falls back to Python
#   for whatever it cannot put in a graph (a *graph break*). Nothing is written out: the next
#   process compiles again (helped by caches).
# * ``torch.export.export(model, args)`` produces **one complete graph, ahead of time**, that
#   another process or runtime executes without your Python code: a ``.pt2`` file, ONNX,
#   AOTInductor, ExecuTorch on phones. It never falls back to Python; what it cannot capture is
#   an error you fix in the model.
#
# So: training, or serving from a Python process you control, reach for ``torch.compile``;
# shipping a model to another program, language or device, ``torch.export``.
#
# Python ``if`` on a tensor's value shows the difference. ``Gate`` doubles inputs whose mean is
# positive and negates the others. To see what ``torch.compile`` does with it without paying
# for code generation (tutorial 08 times the default backend), the cell passes a *backend*
# of its own, a function that receives each graph Dynamo captured and just records it.
import contextlib
import io
import re


class Gate(nn.Module):
    def forward(self, x):
        if x.mean() > 0:  # needs the tensor's value as a Python bool
            return x * 2
        return -x


def statements(graph_module):
    """The statements of a captured graph's Python code, without its bookkeeping."""
    lines = [line.split(";")[0].strip() for line in graph_module.code.strip().splitlines()[1:]]
    return [line for line in lines if not re.fullmatch(r"\w+ = \w+", line)]  # input aliases


graphs = []


def record_graphs(graph_module, example_inputs):
    graphs.append(graph_module)
    return graph_module.forward  # run the captured graph as it is


gate = Gate()
compiled_gate = torch.compile(gate, backend=record_graphs)
x = torch.arange(-2.0, 4.0)  # mean 0.5: the first branch
for inputs in (x, -x):
    assert torch.equal(compiled_gate(inputs), gate(inputs))
print(f"torch.compile: right answers for both signs, from {len(graphs)} graphs:")
for number, graph_module in enumerate(graphs, 1):
    print(f"  graph {number}: " + " | ".join(statements(graph_module)))
assert len(graphs) == 3

# %%
# Graph 1 computes the condition and hands it back to Python; Python's ``if`` then runs graph 2
# or graph 3. That is a graph break: the compiled model still gives the right answers, with
# Python running between its graphs. ``torch.export`` cannot do that: it traces fake tensors,
# so the value of ``x.mean() > 0`` is unknown to it, and its graph has no Python to hand the
# question to. It refuses with an error that names the line of ``forward`` it could not
# capture. Before raising, it prints to stderr the partial graph it had traced, with file names
# of the machine that ran it; the cell keeps that printout in a buffer, off the page, and
# shows the graph's operators.
refused = None
try:
    with contextlib.redirect_stderr(io.StringIO()) as printed:
        torch.export.export(gate, (x,))
except RuntimeError as err:
    refused = err
message = str(refused).splitlines()
blamed = message[message.index("The following call raised this error:") + 2].strip()
print(f"torch.export: {type(refused).__name__}")
print("  " + message[0])
print("  raised at:", blamed)
partial = [line.split(";")[0].strip() for line in printed.getvalue().splitlines()]
partial = list(dict.fromkeys(line for line in partial if "torch.ops.aten" in line))
print("  the partial graph ends where Python needs a bool:", *partial, sep="\n    ")
assert type(refused).__name__ == "GuardOnDataDependentSymNode"
assert blamed.startswith("if x.mean() > 0:")
assert "aten.item" in partial[-1]

# %%
# The partial graph ends in ``aten.item``: turning the comparison into a Python ``bool`` is the
# step a graph cannot hold. The fix is to put the branch *into* the graph. ``torch.cond(pred,
# true_fn, false_fn, operands)`` is an operator that takes both branches as functions and
# runs one of them at run time; both must return new tensors of the same shape and dtype.
# ``torch.cond`` is still a prototype in PyTorch 2.14: its documentation says so, and that it
# supports a limited set of input and output types.
# (When both results are cheap, the branch can also go away: compute both and pick with
# ``torch.where``, or fold the condition into arithmetic, as the second exercise can.)


class CondGate(nn.Module):
    def forward(self, x):
        return torch.cond(x.mean() > 0, lambda t: t * 2, lambda t: -t, (x,))


exported_gate = torch.export.export(CondGate(), (x,))
print("torch.export of CondGate:", *statements(exported_gate.graph_module), sep="\n    ")
both_branches = all(torch.equal(exported_gate.module()(t), gate(t)) for t in (x, -x))
print("the exported graph takes either branch, as the Python version does:", both_branches)
assert both_branches
assert any("torch.ops.higher_order.cond" in line for line in statements(exported_gate.graph_module))

# %%
# Every file this page wrote lives in the temporary directory, removed here.
print("files written:", sorted(path.name for path in workdir.iterdir()))
tmp.cleanup()

# %%
# Exercises
# ---------
# Each exercise is one cell: edit the function and run the cell again; the checker prints
# ``correct`` or what it expected and what it got. The reference solutions follow, folded.

# %%
# Exercise 1: export for any batch size
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``export_for_serving(model, example)`` receives a freshly built model (in training mode, as
# every new module is) and an example batch, and returns an ``ExportedProgram`` that accepts
# any batch size from 1 to 512 and computes what the model computes in ``eval()`` mode. The
# model is an ``nn.Sequential``, whose ``forward`` argument is called ``input``; a tuple such
# as ``({0: ...},)`` gives ``dynamic_shapes`` by position instead of by name.
import copy

import torch
from torch import nn


def check_export_for_serving(candidate) -> bool:
    """Export with ``candidate``; print 'correct' or what is wrong; return a bool."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3)
    )
    with torch.no_grad():  # running statistics unlike a batch's, so the mode shows
        model[1].running_mean.uniform_(-1.0, 1.0)
        model[1].running_var.uniform_(0.5, 2.0)
    reference = copy.deepcopy(model).eval()
    example = torch.randn(4, 6)
    try:
        program = candidate(model, example)
    except Exception as err:
        print(f"not correct: raised {type(err).__name__}: {(str(err).splitlines() or [''])[0]}")
        return False
    if not isinstance(program, torch.export.ExportedProgram):
        print(f"not correct: expected a torch.export.ExportedProgram, got {type(program).__name__}")
        return False
    for n in (1, 5, 512):
        inputs = torch.randn(n, 6)
        try:
            got = program.module()(inputs)
        except Exception as err:
            print(
                f"not correct: a batch of {n} was refused: "
                f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
            )
            return False
        with torch.no_grad():
            expected = reference(inputs)
        worst = (got - expected).abs().max().item()
        if worst > 1e-5:
            print(
                f"not correct: for a batch of {n}, the outputs differ from the eval-mode "
                f"model's by up to {worst:.3f} (exported in training mode?)"
            )
            return False
    print("correct")
    return True


def export_for_serving(model, example):
    # Your code here: eval mode, a dynamic batch dimension from 1 to 512.
    return torch.export.export(model, (example,))


check_export_for_serving(export_for_serving)


# %% tags=["solution"]
# Reference solution.
def export_for_serving(model, example):
    model.eval()  # dropout off, BatchNorm's running statistics
    batch = torch.export.Dim("batch", min=1, max=512)  # dimension 0 of the only argument
    return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))


assert check_export_for_serving(export_for_serving)

# %%
# Exercise 2: make a branch exportable
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``Rescale`` divides a tensor by its largest absolute value, but only when that value is
# above 1, so that every entry ends up in ``[-1, 1]`` and tensors already inside stay as they
# are. Its ``if`` on a tensor's value stops ``torch.export``. Rewrite ``forward`` so that it
# exports and still computes the same thing for every input: with ``torch.cond``, or without
# any branch at all. ``check_rescale`` exports your module on one example and runs the
# exported program on inputs that need the rescaling and on inputs that do not.
import contextlib
import io

import torch
from torch import nn


def check_rescale(module_class) -> bool:
    """Export ``module_class()``; print 'correct' or what is wrong; return a bool."""

    def expected(x):
        largest = x.abs().max()
        return x / largest if largest > 1 else x

    gen = torch.Generator().manual_seed(0)
    example = torch.randn(3, 4, generator=gen)
    try:
        # export prints its partial graph to stderr when it fails: keep only the error
        with contextlib.redirect_stderr(io.StringIO()):
            program = torch.export.export(module_class(), (example,)).module()
    except Exception as err:
        lines = str(err).splitlines() or [""]
        print(f"not correct: torch.export.export raised {type(err).__name__}:\n  {lines[0]}")
        if "The following call raised this error:" in lines:  # the line of forward it names
            print("  at:", lines[lines.index("The following call raised this error:") + 2].strip())
        return False
    cases = {
        "entries up to 5 in size": 10 * torch.rand(3, 4, generator=gen) - 5,
        "entries inside [-1, 1]": 0.4 * torch.rand(3, 4, generator=gen) - 0.2,
        "the largest entry in size negative": torch.tensor(
            [[0.5, -3.0, 0.25, 0.1], [2.0, 0.1, 1.5, -0.2], [0.3, 0.0, -1.2, 0.9]]
        ),
    }
    for name, x in cases.items():
        try:
            got = program(x)
        except Exception as err:
            print(f"not correct: with {name}, the program raised {type(err).__name__}: {err}")
            return False
        if not torch.allclose(got, expected(x), atol=1e-6):
            print(f"not correct: with {name}, expected\n{expected(x)}\ngot\n{got}")
            return False
    print("correct")
    return True


class Rescale(nn.Module):
    def forward(self, x):
        # Your code here: the same result, without a Python if on a tensor's value.
        largest = x.abs().max()
        if largest > 1:
            return x / largest
        return x


check_rescale(Rescale)


# %% tags=["solution"]
# Reference solution.
class Rescale(nn.Module):
    def forward(self, x):
        # Dividing by max(largest, 1) is dividing only when largest > 1, with no branch.
        # torch.cond works too (a branch must return a new tensor, not its input itself):
        # torch.cond(largest > 1, lambda t, m: t / m, lambda t, m: t.clone(), (x, largest))
        return x / x.abs().max().clamp(min=1.0)


assert check_rescale(Rescale)

# %%
# Exercise 3: serve an ONNX file with ONNX Runtime
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# On the serving side there is no PyTorch, only the ONNX file and ONNX Runtime, and the
# caller's data as it comes. ``predict(session, images)`` receives an
# ``onnxruntime.InferenceSession`` for a digit classifier whose input is a float32 batch of
# shape ``(batch, 64)``, and ``images``, a NumPy array of scans as scikit-learn stores them:
# float64, shape ``(n, 8, 8)``. Return the predicted digits as a NumPy array of shape ``(n,)``.
# Read the input's name from the session rather than guessing it.
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from sklearn.datasets import load_digits
from torch import nn


def check_predict(candidate) -> bool:
    """Serve a small exported classifier with ``candidate``; print 'correct' or what is wrong."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
    images = load_digits().images[:50]  # float64, (50, 8, 8)
    with torch.no_grad():
        expected = model(torch.from_numpy(images).float().reshape(50, 64)).argmax(1).numpy()
    batch = torch.export.Dim("batch", min=1, max=1024)
    onnx_program = torch.onnx.export(
        model,
        (torch.zeros(2, 64),),
        dynamo=True,
        dynamic_shapes=({0: batch},),
        input_names=["scans"],
        verbose=False,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "classifier.onnx"
        onnx_program.save(path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        try:
            got = candidate(session, images)
        except Exception as err:
            print(f"not correct: raised {type(err).__name__}: {(str(err).splitlines() or [''])[0]}")
            return False
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        shape = getattr(got, "shape", None)
        print(
            f"not correct: expected a NumPy array of shape {expected.shape}, "
            f"got {type(got).__name__} of shape {shape}"
        )
        return False
    if not np.array_equal(got, expected):
        print(f"not correct: expected the digits {expected[:10]}..., got {got[:10]}...")
        return False
    print("correct")
    return True


def predict(session, images):
    # Your code here: flatten, convert, run the session, pick the most likely digit.
    outputs = session.run(None, {"pixels": images})
    return outputs[0].argmax(1)


check_predict(predict)


# %% tags=["solution"]
# Reference solution.
def predict(session, images):
    # ONNX Runtime checks names, dtypes and ranks, and converts nothing itself.
    name = session.get_inputs()[0].name
    batch = images.reshape(len(images), 64).astype(np.float32)
    (logits,) = session.run(None, {name: batch})
    return logits.argmax(axis=1)


assert check_predict(predict)

# %%
# Summary
# -------
# * ``torch.export.export(model, (example,), dynamic_shapes=...)`` captures ``forward`` as one
#   graph of ATen operators; ``Dim("batch", min=..., max=...)`` keeps the batch size free, and
#   the program refuses inputs outside what was exported. Export in ``eval()`` mode.
# * ``torch.export.save`` / ``torch.export.load`` store the program in a ``.pt2`` file that
#   runs without the model's Python class.
# * ``torch.onnx.export(..., dynamo=True)`` goes through ``torch.export`` to ONNX; check the
#   file with ONNX Runtime against the eager model to a stated tolerance, at more than one
#   batch size.
# * TorchScript is deprecated: ``torch.jit.script``, ``trace``, ``save`` and ``load`` each warn
#   in PyTorch 2.14, and old files still load; new work uses ``torch.export`` (with
#   ``torch.cond`` for branches on values) or ``torch.compile``.
# * ``torch.compile`` speeds up Python programs and tolerates graph breaks;
#   ``torch.export`` produces a complete graph for another runtime, or fails and says why.
#
# Where to go next
# ----------------
# This is the last tutorial. `The gallery <../>`_ lists every tutorial again, from tensors to
# this one, and the posts take the ideas further: `Forward, backward and the computational
# graph <../../posts/computational-graph/>`_ shows the graph autograd records on every forward
# pass, the run-time cousin of the graph ``torch.export`` captures once, and `Best practices
# and common pitfalls <../../posts/best-practices/>`_ collects the habits these pages rely on.
# For deployment itself, the documentation of ONNX Runtime, AOTInductor and ExecuTorch takes
# over from here.
