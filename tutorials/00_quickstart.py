"""
Quickstart: from data to predictions on one page
================================================

This page walks the whole path of a PyTorch project once, in a few seconds: load data, build
a model, train it, measure it on data it has never seen, save it, load it back and use it to
classify images. Each step is a few lines of code and links to the tutorial that explains it
properly. Read it first to see how the pieces fit together, then follow the links.

**What you will learn**

* the steps every PyTorch project goes through, and the object behind each one: ``Tensor``,
  ``DataLoader``, ``nn.Module``, a loss and an optimizer, the ``state_dict``
* how to train a classifier and measure its accuracy on a held-out test set
* how to save the trained weights, load them safely and make predictions with them

**Prerequisites**

* Python basics, and ``torch``, ``scikit-learn`` and ``matplotlib`` installed
* nothing else: every step links to the tutorial that explains it in depth

The data is scikit-learn's bundled handwritten digits (1,797 images of 8x8 pixels, with
values 0 to 16), so nothing is downloaded and the page runs in seconds on a laptop CPU. For a
real project, use a larger dataset (for example ``torchvision.datasets.MNIST``, see
`Data <../04_data/>`_), a bigger model and more epochs.
"""

# %%
# 1. Data: tensors, a dataset and data loaders
# --------------------------------------------
# A *tensor* is PyTorch's n-dimensional array (`Tensors <../01_tensors/>`_). The images become
# a float tensor of shape ``(1797, 8, 8)`` with values in ``[0, 1]`` and the labels an integer
# tensor. ``random_split`` keeps 20% of the images aside for testing, and a ``DataLoader``
# serves the training images in shuffled batches (`Data <../04_data/>`_). Seeding the random
# generators makes every run of this page print the same numbers.
import torch
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
digits = load_digits()
images = torch.from_numpy(digits.images).float() / 16.0  # pixel values 0..16 -> 0..1
labels = torch.from_numpy(digits.target)  # the digit shown, 0..9

train_set, test_set = random_split(
    TensorDataset(images, labels), [0.8, 0.2], generator=torch.Generator().manual_seed(0)
)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = DataLoader(test_set, batch_size=256)

xb, yb = next(iter(train_loader))
print(f"{len(train_set)} training images, {len(test_set)} test images")
print(f"one batch: images {tuple(xb.shape)} {xb.dtype}, labels {tuple(yb.shape)} {yb.dtype}")

# %%
# 2. Device: use an accelerator when there is one
# -----------------------------------------------
# The same code runs on a CPU, a CUDA or ROCm GPU or an Apple-silicon GPU: pick the device once
# and move the model and every batch to it (`Accelerators <../08_accelerators/>`_).
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
print(f"running on: {device.type}")

# %%
# 3. Model: an ``nn.Module``
# --------------------------
# A model is an ``nn.Module`` built from layers (`Modules <../03_modules/>`_). This one
# flattens each 8x8 image into 64 numbers and maps them through a hidden layer to 10 scores,
# one per digit. The scores are *logits*: the highest one is the prediction. Wrapping the
# construction in a function lets us build a fresh copy later, to load saved weights into.
from torch import nn


def make_model():
    return nn.Sequential(
        nn.Flatten(),  # (batch, 8, 8) -> (batch, 64)
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Linear(128, 10),  # (batch, 10): one logit per digit
    )


model = make_model().to(device)
print(model)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %%
# 4. Train: loss, gradients, optimizer
# ------------------------------------
# Training repeats four lines per batch: compute the loss, clear the old gradients, let
# autograd compute new ones with ``backward()`` (`Autograd <../02_autograd/>`_), and let the
# optimizer update the weights. ``CrossEntropyLoss`` takes the raw logits and the true labels.
# `Training <../05_training/>`_ explains the loop, the choice of loss and optimizer, and how
# to know when to stop.
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for epoch in range(1, 11):
    model.train()
    total_loss = 0.0
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(yb)
    if epoch % 2 == 0:
        print(f"epoch {epoch:2d}: training loss {total_loss / len(train_set):.4f}")

# %%
# 5. Evaluate on the test set
# ---------------------------
# The test images took no part in training, so the accuracy on them estimates how the model
# does on new data. ``model.eval()`` switches layers such as dropout to inference behaviour
# and ``torch.no_grad()`` skips the bookkeeping that only training needs.


def predict(net, x):
    net.eval()
    with torch.no_grad():
        return net(x.to(device)).argmax(dim=1).cpu()


test_images = torch.stack([x for x, _ in test_set])
test_labels = torch.stack([y for _, y in test_set])
test_pred = predict(model, test_images)
n_correct = (test_pred == test_labels).sum().item()
test_acc = n_correct / len(test_labels)
print(f"test accuracy: {test_acc:.1%} ({n_correct} of {len(test_labels)} images)")
assert test_acc > 0.9, test_acc  # chance is 10%; the margin leaves room for other devices
print("above 90%: True")

# %%
# 6. Save the weights and load them back
# --------------------------------------
# ``model.state_dict()`` holds every weight by name; saving it (not the whole model object) is
# the recommended format. Loading needs the same architecture, so ``make_model()`` builds an
# untrained copy and ``load_state_dict`` fills it in. ``weights_only=True`` (the default since
# PyTorch 2.6, written out to make it visible) restricts ``torch.load`` to tensors, numbers and
# plain containers, so a file cannot slip arbitrary Python objects into your program; PyTorch's
# docs still say to load only files you trust (`Checkpointing <../06_checkpointing/>`_). The
# file goes into a temporary directory that disappears afterwards.
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "digits_mlp.pt"
    torch.save(model.state_dict(), path)
    print(f"saved {path.name}: {path.stat().st_size / 1024:.0f} KiB")
    state_dict = torch.load(path, map_location=device, weights_only=True)

loaded = make_model().to(device)
print(loaded.load_state_dict(state_dict))
loaded_pred = predict(loaded, test_images)
assert torch.equal(loaded_pred, test_pred)
print("the loaded model makes the same test predictions: True")

# %%
# 7. Predict
# ----------
# To classify images, give the model a batch (here the first eight test images) and turn the
# logits into probabilities with ``softmax``. `A digit classifier, end to end
# <../09_digit_classifier/>`_ does all of this with a convolutional network, a validation set
# and a look at the mistakes.
import matplotlib.pyplot as plt

new_images, new_labels = test_images[:8], test_labels[:8]
loaded.eval()
with torch.no_grad():
    probs = loaded(new_images.to(device)).softmax(dim=1).cpu()
confidence, predicted = probs.max(dim=1)
assert torch.equal(predicted, loaded_pred[:8])
print("true:     ", new_labels.tolist())
print("predicted:", predicted.tolist())

fig, axes = plt.subplots(1, 8, figsize=(10, 1.9))
for ax, image, label, p in zip(axes, new_images, predicted, confidence, strict=True):
    ax.imshow(image.numpy(), cmap="gray_r")
    ax.set_title(f"{label.item()} ({p.item():.0%})", fontsize=10)
    ax.axis("off")
fig.suptitle("prediction (probability)", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# Exercises
# ---------
# Three short exercises on the steps above. Each one has a starter to edit, a checker that
# prints ``correct`` or what is wrong, and a reference solution (collapsed; open it once you
# have tried).

# %%
# Exercise 1: accuracy from logits
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``accuracy(logits, labels)``: ``logits`` has shape ``(N, classes)``, ``labels`` shape
# ``(N,)``; return the *fraction* of rows whose highest logit is at the true label, as a Python
# float. Edit ``accuracy`` and run the cell again: ``check_accuracy`` prints ``correct`` or what
# is wrong.
import torch


def check_accuracy(candidate) -> bool:
    """Run ``candidate`` on fixed logits; print 'correct' or what is wrong; return bool."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(20, 10, generator=gen)
    labels = logits.argmax(dim=1)
    labels[:7] = (labels[:7] + 1) % 10  # 7 of 20 wrong: accuracy 0.65
    expected = 0.65
    try:
        got = candidate(logits.clone(), labels.clone())
    except Exception as exc:  # report the reader's error instead of raising it
        print(f"not correct: raised {type(exc).__name__}: {exc}")
        return False
    if isinstance(got, torch.Tensor):
        print(f"not correct: expected a Python float, got {got!r}; call .item() on it")
        return False
    if not isinstance(got, float | int) or abs(got - expected) > 1e-6:
        print(f"not correct: expected {expected} for 13 of 20 right, got {got!r}")
        return False
    print("correct")
    return True


def accuracy(logits, labels):
    # Your code here: compare the index of the highest logit in each row with the label.
    return None


check_accuracy(accuracy)


# %% tags=["solution"]
# Reference solution.
def accuracy(logits, labels):
    # argmax over dim=1 (the classes) gives one prediction per row; comparing with the labels
    # gives booleans, whose mean as floats is the fraction right. .sum() would count them.
    return (logits.argmax(dim=1) == labels).float().mean().item()


assert check_accuracy(accuracy)

# %%
# Exercise 2: one training step
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``train_step(model, optimizer, loss_fn, x, y)``: one update of the weights on the batch
# ``(x, y)``, returning the loss (before the update) as a Python float. The checker takes two
# steps with your function and compares the weights with two correct steps.
import copy

import torch
from torch import nn


def check_train_step(candidate) -> bool:
    """Take two steps with ``candidate`` and with a reference; compare losses and weights."""
    gen = torch.Generator().manual_seed(0)
    batches = [(torch.randn(16, 4, generator=gen), torch.randint(0, 3, (16,), generator=gen))]
    batches.append((torch.randn(16, 4, generator=gen), torch.randint(0, 3, (16,), generator=gen)))
    model = nn.Linear(4, 3)
    with torch.no_grad():
        model.weight.copy_(torch.randn(3, 4, generator=gen))
        model.bias.zero_()
    reference = copy.deepcopy(model)

    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.5)
    ref_losses = []
    for x, y in batches:
        loss = nn.functional.cross_entropy(reference(x), y)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        ref_losses.append(loss.item())

    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    try:
        losses = [candidate(model, optimizer, nn.CrossEntropyLoss(), x, y) for x, y in batches]
    except Exception as exc:
        print(f"not correct: raised {type(exc).__name__}: {exc}")
        return False
    ref_shown = [round(v, 4) for v in ref_losses]
    if not all(isinstance(v, float) for v in losses):
        print(f"not correct: expected losses as floats {ref_shown}, got {losses!r}")
        return False
    if max(abs(a - b) for a, b in zip(losses, ref_losses)) > 1e-5:
        print(f"not correct: expected losses {ref_shown}, got {[round(v, 4) for v in losses]}")
        return False
    if not torch.allclose(model.weight, reference.weight, atol=1e-5):
        expected_row = [round(v, 4) for v in reference.weight[0].tolist()]
        got_row = [round(v, 4) for v in model.weight[0].tolist()]
        print(f"not correct: after two steps expected weight[0] {expected_row}, got {got_row}")
        return False
    print("correct")
    return True


def train_step(model, optimizer, loss_fn, x, y):
    # Your code here: loss, clear old gradients, backward, optimizer step; return the loss.
    return None


check_train_step(train_step)


# %% tags=["solution"]
# Reference solution.
def train_step(model, optimizer, loss_fn, x, y):
    model.train()
    loss = loss_fn(model(x), y)
    optimizer.zero_grad()  # without it, the second step would add up two batches' gradients
    loss.backward()
    optimizer.step()
    return loss.item()


assert check_train_step(train_step)

# %%
# Exercise 3: predictions from a model with dropout
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``predict_digits(model, images)`` returning the predicted class of every image as an
# integer tensor of shape ``(N,)``, computed without tracking gradients (the checker watches
# the forward pass). The checker's model contains ``Dropout``: think about which mode the
# model must be in.
import torch
from torch import nn


def check_predict_digits(candidate) -> bool:
    """Compare ``candidate``'s predictions with eval-mode argmax on a model with dropout."""
    with torch.random.fork_rng(devices=[]):  # seeded here, the reader's RNG left untouched
        torch.manual_seed(0)
        model = nn.Sequential(
            nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10)
        )
        images = torch.randn(50, 8, 8)
        model.eval()
        with torch.no_grad():
            expected = model(images).argmax(dim=1)
        model.train()  # as it would be right after training
        grad_enabled = []  # recorded by the model on every forward pass
        hook = model.register_forward_hook(
            lambda module, inputs, output: grad_enabled.append(torch.is_grad_enabled())
        )
        try:
            got = candidate(model, images)
        except Exception as exc:
            print(f"not correct: raised {type(exc).__name__}: {exc}")
            return False
        finally:
            hook.remove()
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        print(f"not correct: expected a tensor of shape {tuple(expected.shape)}, got {shape}")
        return False
    if got.is_floating_point():
        print(f"not correct: expected integer class indices, got dtype {got.dtype}")
        return False
    if any(grad_enabled):
        print(
            "not correct: the forward pass recorded the graph for gradients; "
            "call the model inside torch.no_grad()"
        )
        return False
    if not torch.equal(got.long(), expected):
        n_diff = (got.long() != expected).sum().item()
        print(f"not correct: expected {expected[:10].tolist()}... (eval mode), got")
        print(f"             {got[:10].tolist()}...; {n_diff} of {len(expected)} differ")
        return False
    print("correct")
    return True


def predict_digits(model, images):
    # Your code here: the predicted class of every image.
    return None


check_predict_digits(predict_digits)


# %% tags=["solution"]
# Reference solution.
def predict_digits(model, images):
    model.eval()  # dropout off: the full network, deterministic predictions
    with torch.no_grad():
        return model(images).argmax(dim=1)


assert check_predict_digits(predict_digits)

# %%
# Summary
# -------
# * Data: tensors in a ``TensorDataset``, split with a seeded ``random_split`` and served in
#   batches by a ``DataLoader``.
# * Device: ``torch.accelerator.current_accelerator(check_available=True)``, falling back to
#   the CPU; move the model and every batch there.
# * Model: an ``nn.Module`` that maps a batch of images to one logit per class.
# * Training: loss, ``zero_grad()``, ``backward()``, ``step()``, batch after batch.
# * Evaluation: ``model.eval()`` and ``torch.no_grad()``, on data the model never trained on.
# * Save the ``state_dict``, load it with ``torch.load(..., weights_only=True)`` into a freshly
#   built model, and predict.
#
# Where to go next
# ----------------
# Start the tutorials at `Tensors <../01_tensors/>`_, the data structure under every step
# above.
