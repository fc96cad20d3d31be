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
#    A graph is freed as soon as ``backward()`` has used it, which is why the cells above rebuild
#    the expression before each call. Calling ``backward()`` twice on the *same* graph raises an
#    error unless the first call passed ``retain_graph=True``.
p.grad = None
(p**2).sum().backward()
torch.testing.assert_close(p.grad, 2 * p.detach())
print("after zeroing and 1 backward:", p.grad.tolist())

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
# The loss falls quickly and then flattens at the noise level; the fitted line runs through the
# data next to the true line it was generated from.
import matplotlib.pyplot as plt

fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
ax_loss.plot(losses)
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
