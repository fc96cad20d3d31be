"""
Tensors: the data structure behind PyTorch
==========================================

Everything in PyTorch, from a batch of images to the weights of a network, is a *tensor*: an
n-dimensional array that knows its shape, its element type and the device it lives on. This
tutorial builds tensors, combines them, reshapes and indexes them, shares memory with NumPy and
moves them to an accelerator. Every later tutorial relies on these operations.

**What you will learn**

* how to create tensors from Python lists, NumPy arrays and factory functions
* what ``shape``, ``dtype``, ``device`` and ``requires_grad`` tell you
* element-wise arithmetic, matrix products (``mm``, ``@``, ``bmm``) and ``dot``
* the broadcasting rule, stated precisely and checked on examples
* ``reshape`` versus ``view``, and which new shapes a ``view`` cannot give (strides decide)
* ``transpose``, ``permute``, ``flatten``, ``squeeze`` and ``unsqueeze``
* indexing with slices, boolean masks and integer ("fancy") indices
* when a tensor and a NumPy array share memory
* how to write device-agnostic code that uses a GPU (or other accelerator) when there is one

**Prerequisites**

* Python basics (lists, slicing, functions)
* A little NumPy (``np.array``, ``shape``, slicing)

All tensors here are tiny so that the page runs in a second or two on a laptop CPU; the same
operations work unchanged on tensors with millions of elements.
"""

# %%
# Creating tensors from data
# --------------------------
# ``torch.tensor`` copies Python data (nested lists, numbers) into a new tensor and infers the
# element type: integers become ``torch.int64``, floats ``torch.float32``. Pass ``dtype=`` to
# choose the type yourself.
import torch

torch.manual_seed(0)

a = torch.tensor([[1, 2, 3], [4, 5, 6]])
b = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
c = torch.tensor([1, 2, 3], dtype=torch.float64)
print(a, a.dtype)
print(b, b.dtype)
print(c, c.dtype)

# %%
# Creating tensors from NumPy
# ---------------------------
# ``torch.from_numpy`` wraps an existing NumPy array without copying it (more on that in the
# NumPy section below); ``torch.tensor(array)`` makes an independent copy. Both keep NumPy's
# dtype, and NumPy's default float type is ``float64``, so convert with ``.float()`` when you
# want the usual ``float32``.
import numpy as np

rng = np.random.default_rng(0)
arr = rng.normal(size=(2, 3))
t_shared = torch.from_numpy(arr)
t_copy = torch.tensor(arr)
print(arr.dtype, "->", t_shared.dtype, "and", t_copy.dtype)
print(t_shared.float())

# %%
# Factory functions
# -----------------
# Most tensors are made by factory functions that take a shape. ``rand`` samples uniformly from
# :math:`[0, 1)`, ``randn`` from a standard normal distribution; both draw from the generator
# seeded by ``torch.manual_seed`` so the output is the same on every run.
print("zeros:\n", torch.zeros(2, 3))
print("ones:\n", torch.ones(2, 3, dtype=torch.int64))
print("rand:\n", torch.rand(2, 3))
print("randn:\n", torch.randn(2, 3))
print("eye:\n", torch.eye(3))
print("arange(0, 10, 3):", torch.arange(0, 10, 3))
print("linspace(0, 1, 5):", torch.linspace(0, 1, 5))

# %%
# Shape, dtype, device and requires_grad
# --------------------------------------
# Four attributes describe every tensor:
#
# * ``shape`` (also ``size()``): the length of each dimension, a ``torch.Size`` (a tuple);
# * ``dtype``: the element type, e.g. ``torch.float32``, ``torch.int64``, ``torch.bool``;
# * ``device``: where the memory lives, ``cpu`` or an accelerator such as ``cuda:0``;
# * ``requires_grad``: whether autograd records operations on it
#   (see `Autograd <../02_autograd/>`_).
x = torch.rand(4, 3)
w = torch.rand(3, requires_grad=True)
print("shape:", x.shape, "ndim:", x.ndim, "numel:", x.numel())
print("dtype:", x.dtype, "| as float16:", x.half().dtype, "| as int:", x.to(torch.int32).dtype)
print("device:", x.device)
print("requires_grad:", x.requires_grad, "and", w.requires_grad)

# %%
# Element-wise operations
# -----------------------
# Arithmetic operators and most math functions act element by element on tensors of the same
# shape. Methods with a trailing underscore (``add_``, ``mul_``) modify the tensor in place.
p = torch.tensor([1.0, 2.0, 3.0])
q = torch.tensor([10.0, 20.0, 30.0])
print("p + q =", p + q)
print("p * q =", p * q)
print("q / p =", q / p)
print("p ** 2 =", p**2)
print("exp(p) =", torch.exp(p))
print("max(p, 2) =", torch.maximum(p, torch.tensor(2.0)))
p.add_(1)
print("after p.add_(1):", p)

# %%
# Matrix products and dot
# -----------------------
# ``torch.mm`` multiplies two 2-D matrices, the ``@`` operator (``torch.matmul``) does the same
# and also handles batches and vectors, ``torch.bmm`` multiplies two *batches* of matrices
# (shapes ``(B, n, m)`` and ``(B, m, p)``), and ``torch.dot`` is the inner product of two 1-D
# vectors. The inner dimensions must agree.
A = torch.arange(6.0).reshape(2, 3)
B = torch.arange(12.0).reshape(3, 4)
print("A @ B =\n", A @ B)
torch.testing.assert_close(torch.mm(A, B), A @ B)
print("torch.mm(A, B) equals A @ B: True")

batch_a = torch.randn(5, 2, 3)
batch_b = torch.randn(5, 3, 4)
batched = torch.bmm(batch_a, batch_b)
print("bmm:", tuple(batch_a.shape), "x", tuple(batch_b.shape), "->", tuple(batched.shape))
torch.testing.assert_close(batched[2], batch_a[2] @ batch_b[2])
print("bmm(batch_a, batch_b)[2] equals batch_a[2] @ batch_b[2]: True")

u = torch.tensor([1.0, 2.0, 3.0])
v = torch.tensor([4.0, 5.0, 6.0])
print("dot(u, v) =", torch.dot(u, v).item(), "| (u * v).sum() =", (u * v).sum().item())

# %%
# Broadcasting
# ------------
# Element-wise operations also work on tensors of *different* shapes when they are
# broadcastable. The rule: line the two shapes up from the **trailing** (rightmost) dimension
# and compare them pair by pair; in each pair the sizes must be **equal**, or **one of them is
# 1**, or **one of them is missing** (the shorter shape is padded with 1 on the left). A size-1
# dimension is stretched to match the other, without copying memory. The result has the larger
# size in every position.
#
# ``(4, 1)`` against ``(3,)``: the trailing pair is ``1`` vs ``3`` (fine, 1 stretches), the next
# pair is ``4`` vs missing (fine), so the result is ``(4, 3)``.
col = torch.arange(4.0).reshape(4, 1)
row = torch.tensor([0.0, 10.0, 20.0])
print("col", tuple(col.shape), "+ row", tuple(row.shape), "->", tuple((col + row).shape))
print(col + row)

# A typical use: subtract each column's mean from a (batch, features) matrix.
data = torch.rand(5, 3)
centered = data - data.mean(dim=0)  # (5, 3) - (3,) -> (5, 3)
torch.testing.assert_close(centered.mean(dim=0), torch.zeros(3))
print("column means after centering are zero: True")

# %%
# When broadcasting fails
# -----------------------
# ``(2, 3)`` against ``(2,)``: the trailing pair is ``3`` vs ``2``, neither is 1, so PyTorch
# raises an error. Adding a trailing dimension with ``unsqueeze`` (shape ``(2, 1)``) makes the
# pair ``3`` vs ``1``, which is allowed.
m = torch.ones(2, 3)
s = torch.tensor([1.0, 2.0])
try:
    m + s
except RuntimeError as err:
    print("RuntimeError:", err)
print("m + s.unsqueeze(1) =\n", m + s.unsqueeze(1))

# %%
# Seeing broadcasting
# -------------------
# A column of shape ``(6, 1)`` times a row of shape ``(1, 8)`` gives a full ``(6, 8)`` grid: the
# multiplication table. ``expand`` shows the stretched operands as PyTorch sees them (a view,
# no copy). Drawing tensors with ``imshow`` is a quick way to check that a result
# has the structure you expect.
import matplotlib.pyplot as plt

rows = torch.arange(1, 7).reshape(6, 1)
cols = torch.arange(1, 9).reshape(1, 8)
table = rows * cols

fig, axes = plt.subplots(1, 3, figsize=(9, 2.8), constrained_layout=True)
panels = [
    (rows.expand(6, 8), "rows (6, 1), stretched"),
    (cols.expand(6, 8), "cols (1, 8), stretched"),
    (table, "rows * cols: (6, 8)"),
]
for ax, (img, title) in zip(axes, panels):
    ax.imshow(img.numpy(), cmap="viridis", vmin=1, vmax=48)
    for (i, j), value in np.ndenumerate(img.numpy()):
        color = "black" if value > 30 else "white"
        ax.text(j, i, str(value), ha="center", va="center", fontsize=7, color=color)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %%
# reshape versus view
# -------------------
# Both return a tensor with a new shape and the same elements. ``view`` never copies: it only
# reinterprets the existing memory, so it works only when the new shape can be read from that
# memory as it is laid out (the next section says when). ``reshape`` returns a view when it can
# and a copy when it must.
t = torch.arange(12)
v = t.view(3, 4)
v[0, 0] = 100  # a view shares memory with t
print("t after writing into its view:", t.tolist())
print("reshape(2, 6):\n", t.reshape(2, 6))
print("reshape(-1, 3) infers the first size:", tuple(t.reshape(-1, 3).shape))

# %%
# Where view fails
# ----------------
# A tensor's *strides* say how far to step in memory to move one along each dimension. A view
# can split a dimension into several, but it can merge two neighbouring dimensions only when
# the outer one's stride is the inner one's size times its stride, so that one stride walks
# through both. A *contiguous* tensor (its elements in memory in order, without gaps) can be
# viewed in any shape of the same size, and a non-contiguous one sometimes can. The first three
# columns of a ``(4, 6)`` grid are not contiguous (each row skips the 3 columns left out), yet
# splitting their 4 rows into 2 x 2 is a view. Flattening them is not: the values, here equal
# to their positions in memory, would run 0, 1, 2, 6, 7, ..., steps of 1 and of 4 that no
# single stride describes. ``view`` then raises an error, and ``reshape`` copies.
grid = torch.arange(24).reshape(4, 6)
cols = grid[:, :3]  # a view of the grid, with the grid's strides
print("cols:", tuple(cols.shape), "strides", cols.stride(), "contiguous:", cols.is_contiguous())
split = cols.view(2, 2, 3)
shared = split.data_ptr() == grid.data_ptr()
print("cols.view(2, 2, 3): strides", split.stride(), "| shares memory with grid:", shared)
try:
    cols.view(12)
except RuntimeError as err:
    print("cols.view(12) RuntimeError:", err)
flat = cols.reshape(12)
copied = flat.data_ptr() != grid.data_ptr()
print("cols.reshape(12) copies:", copied, flat.tolist())
assert not cols.is_contiguous() and shared and copied

# %%
# ``transpose`` swaps two dimensions by swapping their strides, without moving any data, so a
# transposed matrix cannot be flattened by a view either. ``.contiguous()`` copies the data
# into the new order, after which ``view`` works; ``reshape`` does that copy for you.
gt = torch.arange(6).reshape(2, 3).t()
print("transposed strides:", gt.stride(), "| is_contiguous:", gt.is_contiguous())
try:
    gt.view(6)
except RuntimeError as err:
    print("gt.view(6) RuntimeError:", err)
print("gt.contiguous().view(6):", gt.contiguous().view(6).tolist())
print("gt.reshape(6):          ", gt.reshape(6).tolist())

# %%
# transpose, permute, flatten, squeeze and unsqueeze
# --------------------------------------------------
# These change the shape or the order of dimensions. A common case: images stored as
# ``(height, width, channels)`` (as in NumPy and PIL) must become ``(channels, height, width)``
# for PyTorch's convolution layers, which is a ``permute``.
img = torch.rand(32, 48, 3)  # H, W, C
print("permute(2, 0, 1):", tuple(img.permute(2, 0, 1).shape))
print("transpose(0, 1): ", tuple(img.transpose(0, 1).shape))
print("flatten():       ", tuple(img.flatten().shape))
print("flatten(0, 1):   ", tuple(img.flatten(0, 1).shape))

single = torch.rand(1, 3, 1, 5)
print("squeeze():       ", tuple(single.squeeze().shape), "(removes every size-1 dim)")
print("squeeze(0):      ", tuple(single.squeeze(0).shape))
print("unsqueeze(0):    ", tuple(torch.rand(3, 5).unsqueeze(0).shape), "(adds a batch dim)")

# %%
# Indexing: slices, boolean masks and fancy indexing
# --------------------------------------------------
# Slicing works as in NumPy and returns a view, with one difference: the step must be
# positive (``flip`` reverses a dimension, as a copy). A boolean mask of the same shape selects
# the elements where it is ``True`` (the result is 1-D, a copy). A tensor of integer indices
# picks whole rows (or elements, with one index tensor per dimension).
g = torch.arange(20).reshape(4, 5)
print(g)
print("g[1]        ->", g[1].tolist())
print("g[:, 2]     ->", g[:, 2].tolist())
print("g[1:3, ::2] ->", g[1:3, ::2].tolist())
print("g[-1, -2:]  ->", g[-1, -2:].tolist())
try:
    g[::-1]
except ValueError as err:
    print("g[::-1] ValueError:", err, "| g[:, 0].flip(0) ->", g[:, 0].flip(0).tolist())

mask = g % 3 == 0
print("mask g % 3 == 0 selects:", g[mask].tolist())

print("g[[0, 2, 3]] picks rows:", g[torch.tensor([0, 2, 3])].tolist())
print("g[[0, 3], [1, 4]] picks elements:", g[torch.tensor([0, 3]), torch.tensor([1, 4])].tolist())

g[mask] = -1  # masks also work for assignment
print("after g[mask] = -1:\n", g)

# %%
# NumPy interop and shared memory
# -------------------------------
# ``torch.from_numpy(array)`` and ``tensor.numpy()`` do not copy: the tensor and the array are
# two views of the *same* memory, so changing one changes the other. That makes conversions free
# but can surprise you. Use ``torch.tensor(array)`` or ``tensor.numpy().copy()`` (or
# ``tensor.clone()``) when you need independent data.
np_arr = np.zeros(4, dtype=np.float32)
from_np = torch.from_numpy(np_arr)
np_arr[0] = 7.0
from_np[1] = 3.0
print("numpy array:", np_arr, "| tensor:", from_np.tolist())
assert np.shares_memory(np_arr, from_np.numpy())

torch_t = torch.ones(3)
as_np = torch_t.numpy()
torch_t.mul_(5)
print("tensor:", torch_t.tolist(), "| its .numpy():", as_np)

independent = torch.tensor(np_arr)
np_arr[2] = 9.0
print("torch.tensor(array) is a copy and stays", independent.tolist())

# %%
# When .numpy() refuses
# ---------------------
# ``.numpy()`` only works on CPU tensors that do not require gradients, because NumPy knows
# nothing about devices or autograd. For a tensor on an accelerator or one that is part of an
# autograd graph, use ``t.detach().cpu().numpy()``.
#
# .. note::
#    ``.cpu()`` on an accelerator tensor copies the data, so the resulting array no longer shares
#    memory with the original tensor.
try:
    w.numpy()
except RuntimeError as err:
    print("RuntimeError:", err)
print("w.detach().numpy() works:", w.detach().numpy().shape)

# %%
# Moving tensors to an accelerator
# --------------------------------
# Write code that uses an accelerator (a CUDA or ROCm GPU, Apple's MPS, Intel's XPU, ...) when
# one is available and the CPU otherwise, instead of hard-coding ``"cuda"``. ``tensor.to(device)``
# returns a copy on that device (or the tensor itself if it is already there), and factory
# functions accept ``device=`` to create tensors directly on it. All tensors in one operation
# must be on the same device; bring results back with ``.cpu()`` (or ``.item()`` / ``.tolist()``)
# to print or convert them.
#
# .. note::
#    `Accelerators <../08_accelerators/>`_ covers devices in depth: how data moves between host
#    and accelerator, and why that matters for speed.
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")

x_cpu = torch.arange(6.0).reshape(2, 3)
x_dev = x_cpu.to(device)
y_dev = torch.ones(3, 2, device=device)
result = x_dev @ y_dev
assert result.device.type == device.type
print("x @ y computed on the chosen device, back on the CPU:", result.cpu().tolist())

# %%
# Exercises
# ---------
# Each exercise gives you a function to complete and a checker that runs it on fixed inputs
# and prints ``correct``, or ``not correct:`` with the expected and the actual values. Edit the
# function and run its cell again. Every exercise cell is self-contained, so it also works on
# its own in the downloaded notebook. A reference solution follows each exercise, collapsed.

# %%
# Exercise 1: multiply matrices by hand
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``my_matmul(a, b)`` for ``a`` of shape ``(n, k)`` and ``b`` of shape ``(k, m)`` without
# ``@``, ``mm`` or ``matmul``: entry ``(i, j)`` of the result is the sum over ``k`` of
# ``a[i, k] * b[k, j]``. Loops are fine; broadcasting and ``sum`` make it a one-liner.
# ``check_matmul`` compares your result with ``a @ b`` on three pairs of matrices. It sees
# only the numbers you return, not how you computed them, so "without ``@``" is a rule for
# you to keep: ``a @ b`` itself would pass.
import torch


def _rounded(t):
    return [[round(v, 3) for v in row] for row in t.tolist()]


def check_matmul(candidate) -> bool:
    """Run ``candidate`` on fixed matrices; print 'correct' or what is wrong; return bool."""
    gen = torch.Generator().manual_seed(0)
    for n, k, m in [(2, 2, 2), (2, 3, 4), (4, 1, 3)]:
        a = torch.randn(n, k, generator=gen)
        b = torch.randn(k, m, generator=gen)
        expected = a @ b
        case = f"a {tuple(a.shape)} times b {tuple(b.shape)}"
        try:
            got = candidate(a.clone(), b.clone())
        except Exception as exc:
            print(f"not correct: for {case} it raised {type(exc).__name__}: {exc}")
            return False
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
            print(f"not correct: for {case} expected shape {tuple(expected.shape)}, got {shape}")
            return False
        if not torch.allclose(got.double(), expected.double(), atol=1e-5):
            print(f"not correct: for {case} expected {_rounded(expected)}, got {_rounded(got)}")
            return False
    print("correct")
    return True


def my_matmul(a, b):
    # Your code here: the matrix product of a and b, without @, mm or matmul.
    return None


check_matmul(my_matmul)


# %% tags=["solution"]
# Reference solution.
def my_matmul(a, b):
    # a.unsqueeze(2) is (n, k, 1) and b.unsqueeze(0) is (1, k, m): their product broadcasts to
    # (n, k, m) and holds every a[i, k] * b[k, j], so summing over k leaves the (n, m) product.
    # A triple loop over i, j and k gives the same numbers, only much more slowly.
    return (a.unsqueeze(2) * b.unsqueeze(0)).sum(dim=1)


assert check_matmul(my_matmul)

# %%
# Exercise 2: pairwise distances by broadcasting
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``pairwise_sq_dists(x, y)`` for points ``x`` of shape ``(n, d)`` and ``y`` of shape
# ``(m, d)``: it returns the ``(n, m)`` matrix whose entry ``(i, j)`` is the squared Euclidean
# distance between ``x[i]`` and ``y[j]``. Use no Python loop: give the two tensors shapes that
# broadcast to ``(n, m, d)``. ``check_pairwise`` compares your result with ``torch.cdist``; it
# sees only the numbers, so a loop would pass too, and keeping to broadcasting is up to you.
import torch


def _rounded(t):
    return [[round(v, 3) for v in row] for row in t.tolist()]


def check_pairwise(candidate) -> bool:
    """Run ``candidate`` on fixed point sets; print 'correct' or what is wrong; return bool."""
    gen = torch.Generator().manual_seed(1)
    for n, m, d in [(4, 3, 2), (3, 3, 5)]:
        x = torch.randn(n, d, generator=gen)
        y = torch.randn(m, d, generator=gen)
        expected = torch.cdist(x, y) ** 2
        case = f"x {tuple(x.shape)} and y {tuple(y.shape)}"
        try:
            got = candidate(x.clone(), y.clone())
        except Exception as exc:
            print(f"not correct: for {case} it raised {type(exc).__name__}: {exc}")
            return False
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
            print(f"not correct: for {case} expected shape {tuple(expected.shape)}, got {shape}")
            return False
        if not torch.allclose(got.double(), expected.double(), atol=1e-4):
            print(f"not correct: for {case} expected {_rounded(expected)}, got {_rounded(got)}")
            return False
    print("correct")
    return True


def pairwise_sq_dists(x, y):
    # Your code here: an (n, m) tensor of squared distances.
    return None


check_pairwise(pairwise_sq_dists)


# %% tags=["solution"]
# Reference solution.
def pairwise_sq_dists(x, y):
    # x.unsqueeze(1) is (n, 1, d) and y.unsqueeze(0) is (1, m, d), so the difference is
    # (n, m, d); squaring and summing over the last dimension leaves (n, m). The new
    # dimensions the other way round give the transposed (m, n) matrix.
    return ((x.unsqueeze(1) - y.unsqueeze(0)) ** 2).sum(dim=2)


assert check_pairwise(pairwise_sq_dists)

# %%
# Exercise 3: channels last to channels first
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# NumPy and PIL store a batch of images as ``(N, H, W, C)``, PyTorch's layers expect
# ``(N, C, H, W)``. Write ``to_channels_first(images)`` that converts the first layout into
# the second, so that ``out[n, c, h, w] == images[n, h, w, c]``. ``check_channels_first``
# tries it on a small batch whose sizes and values are all different.
import torch


def check_channels_first(candidate) -> bool:
    """Run ``candidate`` on a fixed (N, H, W, C) batch; print 'correct' or what is wrong."""
    images = torch.arange(2 * 4 * 5 * 3).reshape(2, 4, 5, 3)  # N=2, H=4, W=5, C=3
    expected = images.permute(0, 3, 1, 2)
    try:
        got = candidate(images.clone())
    except Exception as exc:
        print(f"not correct: it raised {type(exc).__name__}: {exc}")
        return False
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
        print(f"not correct: expected shape {tuple(expected.shape)}, got {shape}")
        return False
    if not torch.equal(got, expected):
        n, c, h, _ = (got != expected).nonzero()[0].tolist()  # the first row that differs
        print(
            f"not correct: row {h} of channel {c} of image {n} should be "
            f"{expected[n, c, h].tolist()}, got {got[n, c, h].tolist()}"
        )
        return False
    print("correct")
    return True


def to_channels_first(images):
    # Your code here: (N, H, W, C) -> (N, C, H, W).
    return None


check_channels_first(to_channels_first)


# %% tags=["solution"]
# Reference solution.
def to_channels_first(images):
    # permute reorders the dimensions and moves every value with them. reshape(n, c, h, w)
    # gives the right shape too, but it only re-cuts the same sequence of numbers, so each
    # "channel" would hold a mix of both channels' pixels.
    return images.permute(0, 3, 1, 2)


assert check_channels_first(to_channels_first)

# %%
# Summary
# -------
# * Tensors come from data (``torch.tensor``, ``torch.from_numpy``) or factory functions
#   (``zeros``, ``ones``, ``rand``, ``randn``, ``eye``, ``arange``, ``linspace``).
# * ``shape``, ``dtype``, ``device`` and ``requires_grad`` describe a tensor.
# * Arithmetic is element-wise; ``@``/``mm``/``bmm``/``dot`` are the matrix products.
# * Broadcasting compares shapes from the trailing dimension: sizes must be equal, 1, or
#   missing.
# * ``view`` needs a shape that the memory's strides can express (always true of a
#   contiguous tensor); ``reshape`` copies when they cannot.
# * ``from_numpy`` and ``.numpy()`` share memory with NumPy.
# * Pick the device once with ``torch.accelerator`` and move tensors with ``.to(device)``.
#
# Where to go next
# ----------------
# `Autograd <../02_autograd/>`_ shows how PyTorch computes gradients of tensor expressions,
# which is what makes training neural networks possible.
