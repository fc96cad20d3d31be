"""
Autograd: automatic differentiation
===================================

Training a neural network means nudging its parameters in the direction that lowers a loss,
and that direction is the *gradient*. PyTorch's ``autograd`` records the operations you apply
to tensors and then computes every gradient for you with one call to ``backward()``. This
tutorial looks at how that record is kept, checks a gradient against a derivative worked out by
hand, covers the switches that turn recording off, explains why gradients must be zeroed, and
ends by fitting a line with plain gradient descent.

**What you will learn**

* what leaf tensors and ``grad_fn`` are
* how ``backward()`` fills ``.grad``, and that it applies the chain rule
* how ``torch.no_grad()`` and ``detach()`` stop gradient tracking
* why gradients accumulate and why ``zero_grad`` matters
* how to fit a model with a hand-written gradient-descent loop

**Prerequisites**

* `Tensors <../01_tensors/>`_
* Derivatives and the chain rule from calculus

The data set and the number of steps are small so that the page runs in a few seconds on a
laptop CPU; real models have millions of parameters, but the mechanics are exactly the same.
"""

# %%
# Leaf tensors and grad_fn
# ------------------------
# A tensor created with ``requires_grad=True`` is a *leaf*: it was made by you, not computed
# from other tensors, and it is where gradients end up. Every tensor computed from it records
# the operation that produced it in ``grad_fn``, a node of the *computation graph*. Following
# ``grad_fn.next_functions`` walks the graph back towards the leaves.
import torch

torch.manual_seed(0)

x = torch.tensor(2.0, requires_grad=True)
y = x**2 + 3 * x
print("x: is_leaf =", x.is_leaf, "| requires_grad =", x.requires_grad, "| grad_fn =", x.grad_fn)
print("y: is_leaf =", y.is_leaf, "| requires_grad =", y.requires_grad)
print("y.grad_fn:", y.grad_fn.name())
print("its inputs:", [fn.name() for fn, _ in y.grad_fn.next_functions if fn is not None])

# %%
# backward() fills .grad
# ----------------------
# Calling ``backward()`` on a scalar walks the graph from that scalar back to the leaves and
# stores :math:`\partial y / \partial x` in ``x.grad``. For :math:`y = x^2 + 3x` the derivative
# is :math:`2x + 3`, which is 7 at :math:`x = 2`. Intermediate (non-leaf) tensors do not keep
# their ``.grad`` unless you ask with ``retain_grad()``.
y.backward()
print("x.grad =", x.grad.item(), "| 2x + 3 =", (2 * x + 3).item())
assert x.grad.item() == 7.0

# %%
# The chain rule, checked by hand
# -------------------------------
# Take :math:`f(x) = \sin(x^2)\, e^{-x}` on a vector of points. Applying the product rule and
# the chain rule by hand gives
#
# .. math::
#
#    f'(x) = 2x \cos(x^2)\, e^{-x} - \sin(x^2)\, e^{-x}.
#
# ``backward()`` needs a scalar, so we differentiate ``f(x).sum()``: each ``f(x_i)`` depends only
# on its own ``x_i``, so the gradient of the sum is the vector of the derivatives
# :math:`f'(x_i)`. ``torch.testing.assert_close`` compares the two with a tolerance suited to the
# dtype and raises if they differ.
xs = torch.linspace(-2.0, 2.0, 9, requires_grad=True)
f = torch.sin(xs**2) * torch.exp(-xs)
f.sum().backward()

with torch.no_grad():
    by_hand = 2 * xs * torch.cos(xs**2) * torch.exp(-xs) - torch.sin(xs**2) * torch.exp(-xs)
torch.testing.assert_close(xs.grad, by_hand)
print("autograd:", [round(g, 4) for g in xs.grad.tolist()])
print("by hand: ", [round(g, 4) for g in by_hand.tolist()])
print("assert_close passed: autograd matches the hand-derived f'(x)")

# %%
# Turning tracking off with torch.no_grad()
# -----------------------------------------
# Recording the graph costs memory and time. Inside ``with torch.no_grad():`` results are
# computed normally but nothing is recorded, so they have no ``grad_fn`` and
# ``requires_grad=False``. Use it for evaluation and for updating parameters by hand (as in the
# line fit below). ``torch.inference_mode()`` is a stricter, slightly faster variant for pure
# inference.
w = torch.tensor([1.0, -2.0], requires_grad=True)
tracked = w * 3
with torch.no_grad():
    untracked = w * 3
print("tracked:   requires_grad =", tracked.requires_grad, "| grad_fn =", tracked.grad_fn.name())
print("untracked: requires_grad =", untracked.requires_grad, "| grad_fn =", untracked.grad_fn)

# %%
# Cutting the graph with detach()
# -------------------------------
# ``t.detach()`` returns a tensor that shares ``t``'s data but is cut out of the graph: gradients
# do not flow through it, so autograd treats it as a constant. In :math:`z = a \cdot
# \text{detach}(a)`, only the first factor is differentiated, so the gradient is :math:`a`
# rather than the :math:`2a` you would get from :math:`a^2`.
a = torch.tensor(3.0, requires_grad=True)
(a * a).backward()
print("d(a * a)/da          =", a.grad.item())

a.grad = None
(a * a.detach()).backward()
print("d(a * a.detach())/da =", a.grad.item())
assert a.detach().data_ptr() == a.data_ptr()  # same memory, no copy
print("a.detach() shares memory with a: True")

# %%
# Gradients accumulate
# --------------------
# ``backward()`` *adds* to ``.grad`` instead of overwriting it. That is deliberate (it lets you
# sum gradients over several small batches before one update, known as gradient accumulation),
# but in an ordinary training loop it means stale gradients from the previous step leak into
# the next one. Here the same loss is backpropagated twice without zeroing: the gradient
# doubles.
p = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)

(p**2).sum().backward()
first = p.grad.clone()
print("after 1 backward:", first.tolist())

(p**2).sum().backward()
print("after 2 backward:", p.grad.tolist())
torch.testing.assert_close(p.grad, 2 * first)
print("the gradient doubled: True")

# %%
# Zeroing gradients
# -----------------
# Reset the gradient before every backward pass. By hand that is ``p.grad = None`` (or
# ``p.grad.zero_()``); with an optimizer it is ``optimizer.zero_grad()``, which sets every
# parameter's ``.grad`` to ``None`` by default. After zeroing, one backward gives the correct
# gradient :math:`2p` again.
#
# .. note::
#    ``backward()`` frees the values the graph saved for it (``p**2`` saves ``p``), which is why
#    the cells above rebuild the expression before each call. A second ``backward()`` through
#    the *same* graph then raises an error, unless the first call passed ``retain_graph=True``.
p.grad = None
loss = (p**2).sum()
loss.backward()
torch.testing.assert_close(p.grad, 2 * p.detach())
print("after zeroing and 1 backward:", p.grad.tolist())
try:
    loss.backward()
except RuntimeError as err:
    print("the same graph again: RuntimeError:", str(err).split(" (")[0])

# %%
# Data for a line fit
# -------------------
# Now put the pieces together. We generate 50 points on the line :math:`y = 2.5x - 1` with
# Gaussian noise, using a seeded ``torch.Generator`` so the data is the same on every run.
gen = torch.Generator().manual_seed(0)
true_w, true_b = 2.5, -1.0
x_data = torch.rand(50, generator=gen) * 4 - 2  # uniform on [-2, 2)
y_data = true_w * x_data + true_b + 0.5 * torch.randn(50, generator=gen)
print("x_data:", tuple(x_data.shape), "| y_data:", tuple(y_data.shape))

# %%
# Gradient descent by hand
# ------------------------
# The model is :math:`\hat y = w x + b` and the loss is the mean squared error. Each step
# computes the loss, calls ``backward()`` to get :math:`\partial L / \partial w` and
# :math:`\partial L / \partial b`, moves both parameters a small step against their gradient
# inside ``torch.no_grad()`` (the update itself must not be recorded), and zeroes the gradients
# for the next step. This loop is what ``torch.optim.SGD`` automates.
w = torch.zeros(1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05
losses = []
for step in range(80):
    loss = ((w * x_data + b - y_data) ** 2).mean()
    losses.append(loss.item())
    if step % 20 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}  w {w.item():.4f}  b {b.item():.4f}")
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad = None
    b.grad = None
final_loss = ((w * x_data + b - y_data) ** 2).mean().item()
print(f"final      loss {final_loss:.4f}  w {w.item():.4f}  b {b.item():.4f}")

# %%
# Checking against the exact answer
# ---------------------------------
# For a straight line, least squares has a closed-form solution, which
# ``torch.linalg.lstsq`` computes directly. Gradient descent should land on the same ``w`` and
# ``b``; both differ a little from the true 2.5 and -1 because of the noise.
design = torch.stack([x_data, torch.ones_like(x_data)], dim=1)  # columns: x, 1
exact = torch.linalg.lstsq(design, y_data.unsqueeze(1)).solution.squeeze(1)
print(f"least squares: w {exact[0].item():.4f}  b {exact[1].item():.4f}")
torch.testing.assert_close(torch.cat([w, b]).detach(), exact, atol=1e-3, rtol=0)
print("gradient descent matches least squares to 1e-3: True")

# %%
# Plotting the fit
# ----------------
# The loss falls quickly and then flattens at the noise level: the true line itself scores
# about the same loss on this data (dashed), and the fit ends a little below it, because it
# also adapts to this sample's noise. The fitted line runs through the data next to the true
# line it was generated from.
import matplotlib.pyplot as plt

true_line_loss = ((true_w * x_data + true_b - y_data) ** 2).mean().item()
print(f"loss of the true line: {true_line_loss:.4f} | final loss of the fit: {final_loss:.4f}")
assert final_loss < true_line_loss

fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
ax_loss.plot(losses, label="gradient descent")
ax_loss.axhline(true_line_loss, color="k", linestyle="--", label="loss of the true line")
ax_loss.legend()
ax_loss.set_yscale("log")
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("MSE loss (log scale)")
ax_loss.set_title("Training loss")

grid = torch.linspace(-2, 2, 100)
ax_fit.scatter(x_data.numpy(), y_data.numpy(), s=12, alpha=0.7, label="data")
ax_fit.plot(grid.numpy(), (true_w * grid + true_b).numpy(), "k--", label="true line")
ax_fit.plot(grid.numpy(), (w * grid + b).detach().numpy(), "C3", label="fitted line")
ax_fit.set_xlabel("x")
ax_fit.set_ylabel("y")
ax_fit.set_title("Fitted line")
ax_fit.legend()
plt.show()

# %%
# Exercises
# ---------
# Each exercise gives you something to complete and a checker that runs it on fixed inputs
# and prints ``correct``, or ``not correct:`` with the expected and the actual values. Edit
# your code and run its cell again. Every exercise cell is self-contained, so it also works on
# its own in the downloaded notebook. A reference solution follows each exercise, collapsed.

# %%
# Exercise 1: a derivative by hand
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Work out the derivative of :math:`f(x) = x^2 \tanh(x)` with the product rule (the derivative
# of :math:`\tanh(x)` is :math:`1 - \tanh^2(x)`) and write it as ``df(x)``, acting element by
# element on a tensor. ``check_derivative`` compares it with the gradient autograd computes
# for ``f`` at eleven points. It compares values only, so calling autograd inside ``df`` would
# pass as well: working the derivative out by hand is up to you.
import torch


def f(x):
    return x**2 * torch.tanh(x)


def check_derivative(candidate) -> bool:
    """Compare ``candidate(x)`` with autograd's f'(x); print 'correct' or what is wrong."""
    xs = torch.linspace(-3.0, 3.0, 11, dtype=torch.float64, requires_grad=True)
    f(xs).sum().backward()
    expected = xs.grad
    points = [round(x, 2) for x in xs.tolist()]
    try:
        got = candidate(xs.detach().clone())
    except Exception as exc:
        print(f"not correct: df(x) raised {type(exc).__name__}: {exc}")
        return False
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
        print(f"not correct: expected a tensor of shape {tuple(expected.shape)}, got {shape}")
        return False
    if not torch.allclose(got.double(), expected, atol=1e-6):
        print(
            f"not correct: at x = {points} expected {[round(g, 3) for g in expected.tolist()]}, "
            f"got {[round(g, 3) for g in got.tolist()]}"
        )
        return False
    print("correct")
    return True


def df(x):
    # Your code here: the derivative of x**2 * tanh(x).
    return None


check_derivative(df)


# %% tags=["solution"]
# Reference solution.
def df(x):
    # Product rule: (x^2)' tanh(x) + x^2 tanh'(x), with tanh'(x) = 1 - tanh(x)^2.
    t = torch.tanh(x)
    return 2 * x * t + x**2 * (1 - t**2)


assert check_derivative(df)

# %%
# Exercise 2: write a backward pass and let gradcheck test it
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``torch.autograd.Function`` lets you define an operation with your own ``backward``.
# ``backward`` receives ``grad_output``, the gradient of the loss with respect to the
# operation's output, and must return the gradient with respect to its input (the chain rule).
# Complete ``MySoftplus.backward`` for :math:`\text{softplus}(x) = \log(1 + e^x)`, whose
# derivative is the sigmoid :math:`1 / (1 + e^{-x})`. ``check_backward`` compares your
# gradients with the expected ones, then runs ``torch.autograd.gradcheck``, which compares
# ``backward`` with finite differences of ``forward`` (in float64, as it requires).
import torch


def check_backward(candidate) -> bool:
    """Test ``candidate.backward`` on fixed inputs; print 'correct' or what is wrong."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, dtype=torch.float64, generator=gen, requires_grad=True)
    weights = torch.arange(1.0, 7.0, dtype=torch.float64)  # a grad_output that is not all ones
    expected = weights * torch.sigmoid(x.detach())
    try:
        out = candidate.apply(x)
        torch.testing.assert_close(out, torch.nn.functional.softplus(x))
        (got,) = torch.autograd.grad(out, x, grad_outputs=weights, allow_unused=True)
    except Exception as exc:
        print(f"not correct: it raised {type(exc).__name__}: {exc}")
        return False
    if got is None:
        print("not correct: backward returned None; it must return the gradient for x")
        return False
    if not torch.allclose(got, expected):
        print(
            f"not correct: with grad_output {weights.tolist()} expected the gradient "
            f"{[round(g, 4) for g in expected.tolist()]}, got {[round(g, 4) for g in got.tolist()]}"
        )
        return False
    if not torch.autograd.gradcheck(candidate.apply, (x,), raise_exception=False):
        print("not correct: torch.autograd.gradcheck disagrees with your backward")
        return False
    print("correct")
    return True


class MySoftplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)  # keep x for the backward pass
        return torch.log1p(torch.exp(x))

    @staticmethod
    def backward(ctx, grad_output):
        # Your code here: the gradient of the loss with respect to x
        # (``(x,) = ctx.saved_tensors`` gives back the x that forward saved).
        return None


check_backward(MySoftplus)


# %% tags=["solution"]
# Reference solution.
class MySoftplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.log1p(torch.exp(x))

    @staticmethod
    def backward(ctx, grad_output):
        # Chain rule: dL/dx = dL/dout * dout/dx, and dout/dx is the sigmoid.
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


assert check_backward(MySoftplus)

# %%
# Exercise 3: a line fit that zeroes its gradients
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``fit_line(x, y)``: starting from ``w = b = 0``, run plain gradient descent on the mean
# squared error of :math:`\hat y = w x + b` (no ``torch.optim``) and return ``w`` and ``b`` as
# two Python floats. Pick the step size and the number of steps yourself. ``check_fit``
# compares your answer with the least-squares solution and accepts a difference up to 1e-3.
# It sees only the two numbers, not how you got them: ``torch.optim`` or a closed-form
# least-squares solve would pass too, so keeping to plain gradient descent is up to you.
import torch


def check_fit(candidate) -> bool:
    """Fit fixed noisy data with ``candidate``; print 'correct' or what is wrong."""
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(40, generator=gen) * 4 - 2
    y = -1.5 * x + 0.5 + 0.3 * torch.randn(40, generator=gen)
    design = torch.stack([x, torch.ones_like(x)], dim=1)
    w_ls, b_ls = torch.linalg.lstsq(design, y.unsqueeze(1)).solution.squeeze(1).tolist()
    try:
        w, b = candidate(x.clone(), y.clone())
        w, b = float(w), float(b)
    except Exception as exc:
        print(f"not correct: it raised {type(exc).__name__}: {exc}")
        return False
    if abs(w - w_ls) > 1e-3 or abs(b - b_ls) > 1e-3:
        print(f"not correct: expected w {w_ls:.4f} and b {b_ls:.4f}, got w {w:.4f} and b {b:.4f}")
        return False
    print("correct")
    return True


def fit_line(x, y):
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    # Your code here: a gradient-descent loop that updates w and b.
    return w.item(), b.item()


check_fit(fit_line)


# %% tags=["solution"]
# Reference solution.
def fit_line(x, y):
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(300):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad = None  # without these two lines the gradients of all past steps add up
        b.grad = None
    return w.item(), b.item()


assert check_fit(fit_line)

# %%
# Summary
# -------
# * Tensors created with ``requires_grad=True`` are leaves; results of operations on them carry
#   a ``grad_fn`` that links them into the computation graph.
# * ``backward()`` applies the chain rule through that graph and stores gradients in the
#   leaves' ``.grad``; we checked one against a hand derivative.
# * ``torch.no_grad()`` stops recording for a block; ``detach()`` cuts one tensor out.
# * Gradients accumulate across ``backward()`` calls, so zero them every step.
# * A loop of forward, backward, update and zero is gradient descent, and it recovers the
#   least-squares line.
#
# Where to go next
# ----------------
# `Modules <../03_modules/>`_ shows how ``torch.nn`` packages parameters and layers into
# models, so you no longer handle ``w`` and ``b`` by hand.
