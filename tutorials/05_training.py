"""
Training: loops, losses, optimizers and early stopping
======================================================

Every PyTorch training run is the same short loop: take a batch, compute the loss, call
``backward()``, let the optimizer update the weights, and now and then measure the model on data
it does not train on. This tutorial writes that loop once, as a reusable ``train_one_epoch`` /
``evaluate`` pair, and then uses it to compare losses, optimizers and learning-rate schedules
and to stop training at the right moment.

**What you will learn**

* how to write ``train_one_epoch`` and ``evaluate``, with loss and accuracy tracking
* which loss to use: ``CrossEntropyLoss`` on logits for classes, ``MSELoss`` for numbers
* how SGD, SGD with momentum, Adam and AdamW compare from the same starting point
* how ``StepLR`` and ``CosineAnnealingLR`` change the learning rate over time
* how to clip gradients, plot a training history, stop early and restore the best weights, and
  show progress with ``tqdm``

**Prerequisites**

* `Autograd <../02_autograd/>`_ and `Modules <../03_modules/>`_
* `Data <../04_data/>`_ (``Dataset``, ``DataLoader``, ``random_split``)

The data is scikit-learn's bundled handwritten digits (1,797 real 8x8 scans) and the model is a
small MLP, so every run takes seconds on a laptop CPU. For a real run, use a larger dataset
(for example ``torchvision.datasets.MNIST``, see `Data <../04_data/>`_), a bigger model and more
epochs.
"""

# %%
# Data, splits and a model factory
# --------------------------------
# Each 8x8 scan is flattened to 64 features scaled to ``[0, 1]``. We keep three splits: the
# *training* set updates the weights, the *validation* set guides decisions during training
# (which optimizer, when to stop), and the *test* set is looked at once, at the very end.
# The model is so small that coordinating several CPU threads costs more than the arithmetic,
# so the page uses one thread; remove ``torch.set_num_threads(1)`` for real models.
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny models: extra CPU threads cost more than they save
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")

digits = load_digits()
X = torch.from_numpy(digits.data).float() / 16.0
y = torch.from_numpy(digits.target).long()
train_ds, val_ds, test_ds = random_split(
    TensorDataset(X, y), [0.7, 0.15, 0.15], generator=torch.Generator().manual_seed(0)
)
print(f"train {len(train_ds)} | val {len(val_ds)} | test {len(test_ds)} | features {X.shape[1]}")


def train_loader_for(epoch):
    """A shuffling loader whose order depends only on the epoch number (reproducible)."""
    return DataLoader(
        train_ds, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(epoch)
    )


val_loader = DataLoader(val_ds, batch_size=256)
test_loader = DataLoader(test_ds, batch_size=256)


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


print(make_model())

# %%
# Classification loss: ``CrossEntropyLoss`` takes logits
# ------------------------------------------------------
# The model outputs *logits*: one unnormalised score per class, no softmax. ``CrossEntropyLoss``
# applies ``log_softmax`` itself and then picks the negative log-probability of the true class
# (``NLLLoss``). Adding a softmax layer to the model would apply it twice, a common silent bug.
from torch.testing import assert_close

gen = torch.Generator().manual_seed(1)
logits = torch.randn(5, 10, generator=gen)
targets = torch.randint(0, 10, (5,), generator=gen)

ce = nn.CrossEntropyLoss()(logits, targets)
nll = nn.NLLLoss()(torch.log_softmax(logits, dim=1), targets)
by_hand = -torch.log_softmax(logits, dim=1)[torch.arange(5), targets].mean()
assert_close(ce, nll)
assert_close(ce, by_hand)
print(f"CrossEntropyLoss {ce.item():.6f} == log_softmax + NLLLoss {nll.item():.6f}: True")

# %%
# Regression loss: ``MSELoss``
# ----------------------------
# For numeric targets, ``MSELoss`` is the mean of squared differences. Here it fits a line to
# noisy points generated from :math:`y = 2x - 1`; the learned slope and intercept should come
# out near those values.
gen = torch.Generator().manual_seed(2)
x_reg = torch.rand(100, 1, generator=gen) * 4 - 2
y_reg = 2 * x_reg - 1 + 0.3 * torch.randn(100, 1, generator=gen)

torch.manual_seed(0)
line = nn.Linear(1, 1)
mse = nn.MSELoss()
sgd = torch.optim.SGD(line.parameters(), lr=0.1)
for _ in range(200):
    loss = mse(line(x_reg), y_reg)
    sgd.zero_grad()
    loss.backward()
    sgd.step()
with torch.no_grad():
    pred = line(x_reg)
    assert_close(mse(pred, y_reg), ((pred - y_reg) ** 2).mean())
print(f"MSELoss {mse(pred, y_reg).item():.4f} (= mean squared difference)", end=" | ")
print(f"slope {line.weight.item():.3f}", end=" | ")
print(f"intercept {line.bias.item():.3f}")

# %%
# ``train_one_epoch`` and ``evaluate``
# ------------------------------------
# These two functions are the heart of every training script, and the rest of the page reuses
# them. ``model.train()`` / ``model.eval()`` switch layers such as dropout and batch norm between
# their two behaviours, and ``torch.no_grad()`` skips building the autograd graph during
# evaluation. Losses are averaged per *example*, so a smaller last batch is weighted correctly.
# Accuracy is the fraction of examples whose highest logit is the true class.


def train_one_epoch(model, loader, loss_fn, optimizer, max_grad_norm=None):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        logits = model(xb)
        loss = loss_fn(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        total_loss += loss.item() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
        seen += len(yb)
    return total_loss / seen, correct / seen


@torch.no_grad()
def evaluate(model, loader, loss_fn):
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        logits = model(xb)
        total_loss += loss_fn(logits, yb).item() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
        seen += len(yb)
    return total_loss / seen, correct / seen


loss_fn = nn.CrossEntropyLoss()
torch.manual_seed(0)
model = make_model().to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
print(
    "before training: val loss {:.4f}, val acc {:.3f}".format(*evaluate(model, val_loader, loss_fn))
)
for epoch in range(3):
    train_loss, train_acc = train_one_epoch(model, train_loader_for(epoch), loss_fn, optimizer)
    val_loss, val_acc = evaluate(model, val_loader, loss_fn)
    print(f"epoch {epoch}: train loss {train_loss:.4f} acc {train_acc:.3f}", end=" | ")
    print(f"val loss {val_loss:.4f} acc {val_acc:.3f}")

# %%
# .. note::
#    ``loss.item()`` copies a number from the accelerator to the CPU and waits for the device.
#    That is negligible here; in a large training run, accumulate the sums in tensors on the
#    device and call ``.item()`` once per epoch.

# %%
# Optimizers compared
# -------------------
# A fair comparison changes one thing only. Every optimizer below starts from *the same initial
# weights* (copies of one model) and sees *the same batches in the same order* (the loaders are
# seeded by epoch). Learning rates are typical starting values for each method, not tuned.
import copy

import matplotlib.pyplot as plt

torch.manual_seed(0)
initial_model = make_model()
optimizers = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.05),
    "SGD + momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    "Adam": lambda p: torch.optim.Adam(p, lr=1e-3),
    "AdamW": lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.01),
}
n_epochs = 15
curves = {}
for name, make_optimizer in optimizers.items():
    model = copy.deepcopy(initial_model).to(device)
    optimizer = make_optimizer(model.parameters())
    curves[name] = [
        train_one_epoch(model, train_loader_for(epoch), loss_fn, optimizer)[0]
        for epoch in range(n_epochs)
    ]
    val_loss, val_acc = evaluate(model, val_loader, loss_fn)
    print(f"{name:>15}: final train loss {curves[name][-1]:.4f} | val acc {val_acc:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
for name, curve in curves.items():
    style = "--" if name == "AdamW" else "-"
    ax.plot(range(1, n_epochs + 1), curve, style, marker="o", markersize=3, label=name)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (log scale)")
ax.set_title("Same initial weights, same data order")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Plain SGD makes slow, steady progress; momentum accumulates a running direction and moves
# faster; Adam and AdamW adapt a step size per parameter and are forgiving defaults. AdamW
# applies weight decay directly to the weights instead of mixing it into the gradient, which is
# why it is preferred over ``Adam(weight_decay=...)``. With a small decay and few epochs the two
# curves almost coincide (AdamW is dashed); the largest gap between them:
gap = max(abs(a - b) for a, b in zip(curves["Adam"], curves["AdamW"]))
print(f"largest per-epoch difference between Adam and AdamW training loss: {gap:.4f}")

# %%
# Learning-rate schedules
# -----------------------
# A scheduler changes the optimizer's learning rate as training progresses: large steps early,
# small steps to settle at the end. ``StepLR`` multiplies it by ``gamma`` every ``step_size``
# epochs; ``CosineAnnealingLR`` follows half a cosine from the initial value down to
# ``eta_min``. Call ``scheduler.step()`` once per epoch, *after* the epoch's ``optimizer.step()``
# calls. A dummy parameter is enough to draw the schedules.


def lr_curve(make_scheduler, epochs=30):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(epochs):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()  # training for one epoch would happen here
        scheduler.step()
    return lrs


schedules = {
    "StepLR(step_size=10, gamma=0.5)": lr_curve(
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    ),
    "CosineAnnealingLR(T_max=30)": lr_curve(
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)
    ),
}
for name, lrs in schedules.items():
    print(f"{name}: epochs 0, 10, 20, 29 -> {[round(lrs[i], 5) for i in (0, 10, 20, 29)]}")

fig, ax = plt.subplots(figsize=(6, 3))
for name, lrs in schedules.items():
    ax.plot(range(len(lrs)), lrs, marker="o", markersize=3, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Gradient clipping
# -----------------
# A single bad batch can produce a huge gradient and throw the weights far off.
# ``clip_grad_norm_`` treats all gradients as one long vector and, if its norm exceeds
# ``max_norm``, scales every gradient down by the same factor (the direction is unchanged). It
# returns the norm *before* clipping, which is worth logging. Call it between ``backward()``
# and ``optimizer.step()``, as ``train_one_epoch`` does when ``max_grad_norm`` is set.
torch.manual_seed(0)
model = make_model().to(device)
xb, yb = next(iter(train_loader_for(0)))
loss_fn(model(xb.to(device)), yb.to(device)).backward()
grads_before = [p.grad.clone() for p in model.parameters()]

max_norm = 0.5
norm_before = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
norm_after = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])
print(f"gradient norm before clipping: {norm_before.item():.4f}")
print(f"gradient norm after clipping:  {norm_after.item():.4f} (max_norm={max_norm})")
assert norm_after <= max_norm * (1 + 1e-5)
scale = max_norm / norm_before
for g_before, p in zip(grads_before, model.parameters()):
    assert_close(p.grad, g_before * scale, rtol=1e-5, atol=1e-7)
print("every gradient was scaled by the same factor:", f"{scale.item():.4f}")

# %%
# The complete loop: history, early stopping and a progress bar
# -------------------------------------------------------------
# Now all the pieces together: AdamW, a cosine schedule, gradient clipping, and a history of
# loss and accuracy on both splits. *Early stopping* watches the validation loss: whenever it
# improves, we keep a copy of the weights; after ``patience`` epochs without improvement,
# training stops and the best copy is restored. Note the ``copy.deepcopy``: ``state_dict()``
# returns references to the live tensors, which keep changing as training continues.
#
# ``tqdm`` draws a progress bar over epochs. It normally writes to stderr and shows timings; here
# it writes to stdout with a fixed width and no timing fields, so the output of this page is the
# same on every run.
import sys

from tqdm import tqdm

max_epochs, patience = 60, 5
torch.manual_seed(0)
model = make_model().to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs)

history = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
best_loss, best_epoch, best_state, bad_epochs = float("inf"), 0, None, 0
progress = tqdm(
    total=max_epochs,
    desc="training",
    file=sys.stdout,
    ascii=True,
    ncols=80,
    mininterval=0,
    miniters=1,
    bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}",
)
for epoch in range(1, max_epochs + 1):
    train_loss, train_acc = train_one_epoch(
        model, train_loader_for(epoch), loss_fn, optimizer, max_grad_norm=1.0
    )
    val_loss, val_acc = evaluate(model, val_loader, loss_fn)
    scheduler.step()
    for key, value in zip(history, (train_loss, val_loss, train_acc, val_acc)):
        history[key].append(value)
    progress.set_postfix(
        {"val_loss": f"{val_loss:.4f}", "val_acc": f"{val_acc:.3f}"}, refresh=False
    )
    progress.update()  # one step of the bar per epoch

    if val_loss < best_loss:
        best_loss, best_epoch, bad_epochs = val_loss, epoch, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            break
progress.close()

stopped_early = len(history["val_loss"]) < max_epochs
print(f"ran {len(history['val_loss'])} of {max_epochs} epochs, stopped early: {stopped_early}")
print(f"best validation loss {best_loss:.4f} at epoch {best_epoch}")

# %%
# Restoring the best weights must reproduce the best validation loss, not the last one:
model.load_state_dict(best_state)
restored_loss, restored_acc = evaluate(model, val_loader, loss_fn)
assert_close(torch.tensor(restored_loss), torch.tensor(best_loss))
print(
    f"restored model: val loss {restored_loss:.4f} (the best epoch's), val acc {restored_acc:.3f}"
)
test_loss, test_acc = evaluate(model, test_loader, loss_fn)
print(f"test set, evaluated once at the end: loss {test_loss:.4f}, accuracy {test_acc:.3f}")

# %%
# The history plot
# ----------------
# Plotting both splits is the quickest diagnosis of a run. The training loss keeps falling,
# while the validation loss levels off and wobbles: from then on the model mostly memorises the
# training set (the growing gap between the curves is overfitting), so more epochs do not help.
# The dashed line marks the epoch whose weights early stopping kept.
epochs = range(1, len(history["val_loss"]) + 1)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(8, 3.2))
ax_loss.plot(epochs, history["train_loss"], label="train")
ax_loss.plot(epochs, history["val_loss"], label="validation")
ax_loss.set_yscale("log")
ax_loss.set_title("loss (log scale)")
ax_acc.plot(epochs, history["train_acc"], label="train")
ax_acc.plot(epochs, history["val_acc"], label="validation")
ax_acc.set_title("accuracy")
for ax in (ax_loss, ax_acc):
    ax.axvline(best_epoch, color="gray", linestyle="--", label=f"best epoch ({best_epoch})")
    ax.set_xlabel("epoch")
    ax.legend()
fig.tight_layout()
plt.show()

# %%
# Summary
# -------
# * ``train_one_epoch`` (train mode, forward, loss, ``zero_grad``, ``backward``, optional
#   clipping, ``step``) and ``evaluate`` (eval mode, ``no_grad``) cover most training needs.
# * ``CrossEntropyLoss`` takes raw logits and equals ``log_softmax`` + ``NLLLoss``; ``MSELoss``
#   is for numeric targets.
# * Compare optimizers from the same initial weights and data order; Adam/AdamW are forgiving
#   defaults, SGD with momentum is a strong classic.
# * Schedulers (``StepLR``, ``CosineAnnealingLR``) step once per epoch after the optimizer;
#   ``clip_grad_norm_`` bounds the gradient norm and returns it.
# * Early stopping on the validation loss with a patience, restoring a *copy* of the best
#   weights, and a history plot tell you when and how a run went wrong.
#
# Where to go next
# ----------------
# `Checkpointing <../06_checkpointing/>`_ saves all of this to disk: model, optimizer, scheduler
# and random state, so that a run can be resumed exactly where it stopped.
