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
* how SGD, SGD with momentum, Adam and AdamW compare from the same starting point, and what
  AdamW's *decoupled* weight decay does differently from ``Adam(weight_decay=...)``
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
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
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
# seeded by epoch). Learning rates are typical starting values for each method, not tuned. Adam
# runs three times: without weight decay, as ``Adam(weight_decay=0.01)`` and as
# ``AdamW(weight_decay=0.01)``; the next section looks at the difference between the last two.
import copy

import matplotlib.pyplot as plt

torch.manual_seed(0)
initial_model = make_model()
wd = 0.01
optimizers = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.05),
    "SGD + momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    "Adam": lambda p: torch.optim.Adam(p, lr=1e-3),
    "Adam, weight_decay": lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=wd),
    "AdamW, weight_decay": lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=wd),
}
n_epochs = 15
curves, trained, val_accs = {}, {}, {}
for name, make_optimizer in optimizers.items():
    model = copy.deepcopy(initial_model).to(device)
    optimizer = make_optimizer(model.parameters())
    curves[name] = [
        train_one_epoch(model, train_loader_for(epoch), loss_fn, optimizer)[0]
        for epoch in range(n_epochs)
    ]
    trained[name] = model
    val_loss, val_accs[name] = evaluate(model, val_loader, loss_fn)
    print(f"{name:>19}: final train loss {curves[name][-1]:.4f}", end=" | ")
    print(f"val loss {val_loss:.4f} | val acc {val_accs[name]:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
for name, curve in curves.items():
    style = "--" if name.startswith("AdamW") else "-"
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
# faster; Adam adapts a step size per parameter and is a forgiving default. The two Adam runs
# with ``weight_decay=0.01`` do *not* agree: AdamW (dashed) lies on top of Adam without decay,
# while ``Adam(weight_decay=0.01)`` trains visibly slower.
gap = max(abs(a - b) for a, b in zip(curves["Adam"], curves["AdamW, weight_decay"]))
print(f"largest per-epoch gap, Adam vs AdamW(weight_decay=0.01):  {gap:.4f}")
print(
    "final training loss, Adam(weight_decay=0.01) / AdamW(weight_decay=0.01): "
    f"{curves['Adam, weight_decay'][-1]:.4f} / {curves['AdamW, weight_decay'][-1]:.4f}"
)
assert gap < 0.01 and curves["Adam, weight_decay"][-1] > curves["AdamW, weight_decay"][-1]

# %%
# Weight decay: ``Adam(weight_decay=...)`` or ``AdamW``?
# -------------------------------------------------------
# Weight decay pulls every weight a little towards zero at each step, to keep weights small.
# ``Adam(weight_decay=wd)`` does it the classic way, *coupled* to the gradient: it adds
# ``wd * w`` to the gradient, and Adam then divides that sum, weight by weight, by its running
# estimate of the gradient's size. ``AdamW`` *decouples* it: every step multiplies every weight
# by ``1 - lr * wd``, whatever its gradients. So the same number means different things.
#
# A clean probe: three pixels are blank in every scan, so the first-layer weights that read them
# get no gradient from the data at all, only the decay. We compare how much each run shrank
# those weights, and the weights of all other pixels, relative to the shared starting point.
blank = X.std(dim=0) == 0
steps = n_epochs * len(train_loader_for(0))
w_init = initial_model[0].weight.detach()
shrink = {}
print(f"{int(blank.sum())} blank pixels, {steps} optimizer steps; weight norm now / at the start:")
for name in ("Adam", "Adam, weight_decay", "AdamW, weight_decay"):
    w = trained[name][0].weight.detach().cpu()
    shrink[name] = [(w[:, cols].norm() / w_init[:, cols].norm()).item() for cols in (blank, ~blank)]
    print(f"{name:>19}: blank pixels x{shrink[name][0]:.4f} | other pixels x{shrink[name][1]:.3f}")

decoupled = (1 - 1e-3 * wd) ** steps  # AdamW's lr * wd per step, compounded
print(f"AdamW's factor predicted from (1 - lr * wd) ** steps: x{decoupled:.4f}")
assert shrink["Adam"][0] == 1.0  # no gradient, no decay: untouched
assert abs(shrink["AdamW, weight_decay"][0] - decoupled) < 1e-4
assert abs(shrink["AdamW, weight_decay"][1] - shrink["Adam"][1]) < 0.01
assert shrink["Adam, weight_decay"][0] < 0.01  # coupled decay wiped them out
assert shrink["Adam, weight_decay"][1] < 0.8 * shrink["AdamW, weight_decay"][1]
one_image = 1 / len(val_ds)
for name in ("Adam, weight_decay", "AdamW, weight_decay"):
    gain = round((val_accs[name] - val_accs["Adam"]) / one_image)
    print(f"{name:>19}: validation accuracy vs no decay: {gain:+d} images of {len(val_ds)}")
    assert gain <= 1

# %%
# What the measurement shows. AdamW shrank the unused weights by exactly the predicted
# ``(1 - lr * wd) ** steps``, a gentle 0.3% over 300 steps, and left the other weights almost as
# Adam without decay did. ``Adam(weight_decay=0.01)`` wiped the unused weights out: a weight
# whose only gradient is ``wd * w`` gets a normalised step of about ``lr`` every time, however
# small ``wd`` is. It also held the other weights much smaller, which is why it trains slower.
# So the coupled decay's strength depends on each weight's gradient history, while AdamW's is
# ``lr * wd`` per step for every weight: the number does what it says, and you can tune it
# without it changing meaning as the gradients change. That is why AdamW is the usual choice
# (Loshchilov and Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019). It matters in
# long runs of large models, where weight decay is a regulariser worth tuning; on this small,
# clean task neither decay improves validation accuracy by more than one image.

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
#
# To see it matter, take the trained SGD + momentum model and feed it one corrupted batch: the
# same scans with pixel values 0 to 255, as if one file had skipped the scaling to ``[0, 1]``.
# Each run below takes one plain SGD step from a copy of the model, at the learning rate it
# trained with.
xb, yb = next(iter(train_loader_for(100)))
xb, yb = xb.to(device), yb.to(device)
good_model = trained["SGD + momentum"]


def one_step(inputs, max_norm=None):
    """A copy of the trained model after one SGD step on ``inputs``, its raw gradients and norm."""
    model = copy.deepcopy(good_model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    optimizer.zero_grad()
    loss_fn(model(inputs), yb).backward()
    raw_grads = [p.grad.clone() for p in model.parameters()]
    if max_norm is None:
        norm = torch.nn.utils.get_total_norm(raw_grads)
    else:
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
    optimizer.step()
    return model, raw_grads, norm.item()


max_norm = 1.0
_, _, normal_norm = one_step(xb)
unclipped, _, bad_norm = one_step(xb * 255)
clipped, raw_grads, clipped_norm = one_step(xb * 255, max_norm=max_norm)
print(f"gradient norm: normal batch {normal_norm:.3f}, corrupted batch {bad_norm:.1f}")
runs = {"before the step": good_model, "no clipping": unclipped, "clipped": clipped}
val = {label: evaluate(model, val_loader, loss_fn) for label, model in runs.items()}
for label, (v_loss, v_acc) in val.items():
    print(f"{label:>15}: val loss {v_loss:8.4f}, val acc {v_acc:.3f}")
assert normal_norm < max_norm < bad_norm  # clipping leaves normal batches alone
assert val["no clipping"][0] > 10 * val["before the step"][0]  # one step wrecked the model
assert val["clipped"][0] < 1.5 * val["before the step"][0]  # the clipped step did not

# %%
# One corrupted batch was enough to wreck the unclipped model, while the clipped step moved the
# weights by at most ``lr * max_norm`` and left the model as good as before. Pick ``max_norm``
# a few times above the norms of normal training (log what ``clip_grad_norm_`` returns), so
# that clipping acts on outliers only. The clipped gradients point the same way as the raw ones:
scale = max_norm / clipped_norm
assert_close(clipped_norm, bad_norm)  # clip_grad_norm_ returned the norm *before* clipping
for raw, p in zip(raw_grads, clipped.parameters()):
    assert_close(p.grad, raw * scale, rtol=1e-5, atol=1e-7)
print(f"clip_grad_norm_ returned {clipped_norm:.1f}; every gradient was scaled by {scale:.4f}")

# %%
# The complete loop: history, early stopping and a progress bar
# -------------------------------------------------------------
# Now all the pieces together: AdamW, a cosine schedule, gradient clipping, and a history of
# loss and accuracy on both splits. *Early stopping* watches the validation loss: whenever it
# improves, we keep a copy of the weights; after ``patience`` epochs without improvement,
# training stops and the best copy is restored. Note the ``copy.deepcopy``: ``state_dict()``
# returns references to the live tensors, which keep changing as training continues.
#
# The cosine schedule is planned for the whole budget, ``T_max=max_epochs``, so the rate would
# reach its minimum only if every epoch ran; early stopping usually ends the run before that, so
# the history records the rate each epoch used. ``tqdm`` draws a progress bar that advances
# once per epoch (``update()``) and shows the latest validation numbers (``set_postfix``).
# Its total is ``max_epochs``; when early stopping ends the run sooner, we set the total to the
# epochs run, so that the bar ends full rather than stuck part-way.
from tqdm import tqdm

max_epochs, patience = 30, 5
torch.manual_seed(0)
model = make_model().to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs)

history = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
lrs_used = []  # the learning rate of each epoch run
best_loss, best_epoch, best_state, bad_epochs = float("inf"), 0, None, 0
progress = tqdm(total=max_epochs, desc="training")
for epoch in range(1, max_epochs + 1):
    lrs_used.append(scheduler.get_last_lr()[0])
    train_loss, train_acc = train_one_epoch(
        model, train_loader_for(epoch), loss_fn, optimizer, max_grad_norm=1.0
    )
    val_loss, val_acc = evaluate(model, val_loader, loss_fn)
    scheduler.step()
    for key, value in zip(history, (train_loss, val_loss, train_acc, val_acc)):
        history[key].append(value)
    progress.set_postfix(val_loss=f"{val_loss:.4f}", val_acc=f"{val_acc:.3f}")
    progress.update()

    if val_loss < best_loss:
        best_loss, best_epoch, bad_epochs = val_loss, epoch, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            progress.total = epoch  # stopping early: the bar ends full here
            break
progress.close()
assert progress.n == progress.total == len(history["val_loss"])  # the bar ended full

epochs_run = len(history["val_loss"])
print(f"ran {epochs_run} of {max_epochs} epochs, stopped early: {epochs_run < max_epochs}")
print(f"best validation loss {best_loss:.4f} at epoch {best_epoch}")
print(
    f"learning rate: {lrs_used[0]:g} in epoch 1, {lrs_used[-1]:.5f} in the last epoch run "
    f"({lrs_used[-1] / lrs_used[0]:.0%} of the start; at epoch {max_epochs} it would be near 0)"
)

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
# Plotting both splits is the quickest diagnosis of a run. The dashed line marks the epoch
# whose weights early stopping kept.
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
# The training loss keeps falling, while the validation loss levels off and wobbles: after the
# best epoch, what the model still learns fits the training set only (the widening gap between
# the loss curves, on their log scale, is overfitting), so more epochs do not help. In numbers:
best = best_epoch - 1  # list index of the best epoch
ratio = [v / t for t, v in zip(history["train_loss"], history["val_loss"])]
print(
    f"after epoch {best_epoch}: training loss {history['train_loss'][best]:.4f} -> "
    f"{history['train_loss'][-1]:.4f}, validation loss {best_loss:.4f} -> "
    f"{history['val_loss'][-1]:.4f}"
)
print(f"validation loss / training loss: x{ratio[best]:.1f} at epoch {best_epoch}, ", end="")
print(f"x{ratio[-1]:.1f} at epoch {epochs_run}")
assert history["train_loss"][-1] < history["train_loss"][best] and ratio[-1] > ratio[best]

# %%
# Exercises
# ---------
# Each exercise gives you a starter to edit and a checker to call: the checker runs your code on
# fixed inputs and prints ``correct`` or what is wrong. The reference solution follows each
# exercise, folded away; try first, then compare. Every exercise cell imports what it needs, so
# it also runs on its own in a fresh notebook.

# %%
# Exercise 1: early stopping that keeps the best weights
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``fit_with_early_stopping(model, run_epoch, patience, max_epochs)``, the page's early
# stopping without the training details: ``run_epoch(model)`` trains ``model`` for one epoch
# and returns the validation loss. An epoch *improves* when its loss is strictly lower than
# every earlier one. Stop after ``patience`` epochs in a row without improvement, or after
# ``max_epochs``; then load the best epoch's weights back into ``model`` and return
# ``(best_epoch, epochs_run)``, counting epochs from 1. ``check_early_stopping`` feeds it
# scripted validation losses, from a "training" that changes the weights in place, and
# prints ``correct`` or what is wrong.
import copy

import torch
from torch import nn


def check_early_stopping(candidate) -> bool:
    """Run ``candidate`` on scripted validation losses; print 'correct' or what is wrong."""

    def scripted(losses, weights):
        """A run_epoch that changes the weights in place, keeps a copy, returns the next loss."""

        def run_epoch(model):
            if len(weights) == len(losses):
                raise RuntimeError(f"run_epoch called more than max_epochs={len(losses)} times")
            with torch.no_grad():
                model.weight.add_(1.0)  # training updates the parameters in place
            weights.append(model.weight.detach().clone())
            return losses[len(weights) - 1]

        return run_epoch

    cases = [  # (validation loss of each epoch, patience, (best_epoch, epochs_run))
        ([0.9, 0.7, 0.72, 0.6, 0.6, 0.65, 0.61, 0.5, 0.4], 3, (4, 7)),
        ([0.9, 0.5, 0.6, 0.7], 3, (2, 4)),  # max_epochs ends it, the best epoch was earlier
        ([0.9, 0.8, 0.7, 0.6], 2, (4, 4)),
    ]
    for losses, patience, expected in cases:
        model = nn.Linear(2, 1)
        weights = []  # the weights after each epoch
        run_epoch, max_epochs = scripted(losses, weights), len(losses)
        case = f"losses {losses} with patience {patience}"
        try:
            got = candidate(model, run_epoch, patience, max_epochs)
        except Exception as exc:
            print(f"not correct: for {case} it raised {type(exc).__name__}: {exc}")
            return False
        try:
            pair = tuple(int(value) for value in got)
        except (TypeError, ValueError, RuntimeError):
            pair = got  # not a pair of numbers: reported below
        if pair != expected or len(weights) != expected[1]:
            print(
                f"not correct: for {case} expected (best_epoch, epochs_run) = {expected}, got "
                f"{got!r} after {len(weights)} calls of run_epoch"
            )
            return False
        best = weights[expected[0] - 1]
        if not torch.equal(model.weight, best):
            print(
                f"not correct: for {case} expected the weights of epoch {expected[0]}, "
                f"{best.tolist()}, got {model.weight.tolist()} (a copy of the best state?)"
            )
            return False
    print("correct")
    return True


def fit_with_early_stopping(model, run_epoch, patience, max_epochs):
    # Your code here: call run_epoch(model) once per epoch, keep a copy of the best weights,
    # stop early, restore the best weights, return (best_epoch, epochs_run).
    return None


check_early_stopping(fit_with_early_stopping)


# %% tags=["solution"]
# Reference solution.
def fit_with_early_stopping(model, run_epoch, patience, max_epochs):
    # The page's loop. deepcopy, because state_dict() returns the live parameters, which the
    # next epochs keep changing; a tie is not an improvement.
    best_loss, best_epoch, best_state, bad_epochs = float("inf"), 0, None, 0
    for epoch in range(1, max_epochs + 1):
        val_loss = run_epoch(model)
        if val_loss < best_loss:
            best_loss, best_epoch, bad_epochs = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                break
    model.load_state_dict(best_state)
    return best_epoch, epoch


assert check_early_stopping(fit_with_early_stopping)

# %%
# Exercise 2: ``train_one_epoch`` from memory
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Without scrolling up, write the body of ``my_train_one_epoch(model, loader, loss_fn,
# optimizer)``: one pass over ``loader`` that updates the weights, returning the mean loss *per
# example* and the accuracy of the predictions made along the way, as the page's
# ``train_one_epoch`` does. The checker's model contains dropout and arrives in eval mode.
# Edit it and run the cell again: ``check_train_one_epoch`` prints ``correct`` or what is wrong.
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def check_train_one_epoch(candidate) -> bool:
    """Train a copy of a small model with ``candidate`` and with the reference; compare."""

    def reference(model, loader, loss_fn, optimizer):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
        return total_loss / seen, correct / seen

    def run(train):
        with torch.random.fork_rng():  # leave the reader's random state alone
            torch.manual_seed(0)
            x, y = torch.randn(50, 6), torch.randint(0, 3, (50,))
            model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
            model.eval()  # as if ``evaluate`` had just run
            loader = DataLoader(TensorDataset(x, y), batch_size=16)  # last batch: 2 examples
            optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
            result = train(model, loader, nn.CrossEntropyLoss(), optimizer)
            return result, model[0].weight.detach().clone()

    (exp_loss, exp_acc), exp_weight = run(reference)
    try:
        result, weight = run(candidate)
    except Exception as exc:
        print(f"not correct: raised {type(exc).__name__}: {exc}")
        return False
    try:
        loss, acc = (float(value) for value in result)
    except (TypeError, ValueError, RuntimeError):
        print(f"not correct: expected a (mean loss, accuracy) pair, got {result!r}")
        return False
    if not torch.allclose(weight, exp_weight, atol=1e-6):
        print(
            "not correct: weights after the epoch differ: expected first row starting "
            f"{[round(w, 4) for w in exp_weight[0, :3].tolist()]}, "
            f"got {[round(w, 4) for w in weight[0, :3].tolist()]} "
            "(train mode? zero_grad before backward? one step per batch?)"
        )
        return False
    if abs(loss - exp_loss) > 1e-5 or abs(acc - exp_acc) > 1e-6:
        print(
            f"not correct: expected (mean loss per example, accuracy) = ({exp_loss:.5f}, "
            f"{exp_acc:.4f}), got ({loss:.5f}, {acc:.4f})"
        )
        return False
    print("correct")
    return True


def my_train_one_epoch(model, loader, loss_fn, optimizer):
    # Your code here: train mode, then for each batch forward, loss, zero_grad, backward, step;
    # return (mean loss per example, accuracy).
    return None


check_train_one_epoch(my_train_one_epoch)


# %% tags=["solution"]
# Reference solution.
def my_train_one_epoch(model, loader, loss_fn, optimizer):
    # The page's train_one_epoch without device transfers and clipping. Weighting each batch's
    # mean loss by its size makes the short last batch count correctly.
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for xb, yb in loader:
        logits = model(xb)
        loss = loss_fn(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
        seen += len(yb)
    return total_loss / seen, correct / seen


assert check_train_one_epoch(my_train_one_epoch)

# %%
# Exercise 3: where ``zero_grad`` goes when gradients are accumulated
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# When a large batch does not fit in memory, split it: call ``backward()`` on ``accum_steps``
# small batches and step once. ``backward()`` *adds* into ``.grad`` (that is why ``zero_grad``
# exists), so the placement of ``zero_grad`` and a division of each loss by ``accum_steps``
# decide whether this equals one step on the big batch. Write ``my_accumulating_epoch(model,
# loader, loss_fn, optimizer, accum_steps)``; the number of batches is a multiple of
# ``accum_steps``. Edit it and run the cell again: ``check_accumulation`` compares it with
# training on the big batches and prints ``correct`` or what is wrong.
import copy

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def check_accumulation(candidate) -> bool:
    """Batches of 8 accumulated 4 at a time must equal one SGD step per batch of 32."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 6, generator=gen), torch.randint(0, 3, (64,), generator=gen)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        start = nn.Linear(6, 3)
    loss_fn = nn.CrossEntropyLoss()

    expected = copy.deepcopy(start)
    optimizer = torch.optim.SGD(expected.parameters(), lr=0.5)
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=32):
        optimizer.zero_grad()
        loss_fn(expected(xb), yb).backward()
        optimizer.step()

    model = copy.deepcopy(start)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    try:
        candidate(model, DataLoader(TensorDataset(x, y), batch_size=8), loss_fn, optimizer, 4)
    except Exception as exc:
        print(f"not correct: raised {type(exc).__name__}: {exc}")
        return False
    if not torch.allclose(model.weight, expected.weight, atol=1e-5):
        unchanged = torch.equal(model.weight, start.weight)
        want, got = ([round(w, 4) for w in m.weight[0].tolist()] for m in (expected, model))
        print(
            f"not correct: expected weight[0] = {want}, got {got}"
            + (" (unchanged: no optimizer step?)" if unchanged else "")
        )
        return False
    print("correct")
    return True


def my_accumulating_epoch(model, loader, loss_fn, optimizer, accum_steps):
    # Your code here: backward on every batch, step (and zero the gradients) every
    # ``accum_steps`` batches.
    model.train()


check_accumulation(my_accumulating_epoch)


# %% tags=["solution"]
# Reference solution.
def my_accumulating_epoch(model, loader, loss_fn, optimizer, accum_steps):
    # Zero the gradients only after a step, so that accum_steps backward calls add up; divide
    # each loss by accum_steps, so that their sum is the gradient of the big batch's mean loss.
    model.train()
    optimizer.zero_grad()
    for i, (xb, yb) in enumerate(loader, start=1):
        (loss_fn(model(xb), yb) / accum_steps).backward()
        if i % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()


assert check_accumulation(my_accumulating_epoch)

# %%
# Summary
# -------
# * ``train_one_epoch`` (train mode, forward, loss, ``zero_grad``, ``backward``, optional
#   clipping, ``step``) and ``evaluate`` (eval mode, ``no_grad``) cover most training needs.
# * ``CrossEntropyLoss`` takes raw logits and equals ``log_softmax`` + ``NLLLoss``; ``MSELoss``
#   is for numeric targets.
# * Compare optimizers from the same initial weights and data order; Adam/AdamW are forgiving
#   defaults, SGD with momentum is a strong classic.
# * For weight decay with Adam, use ``AdamW``: it shrinks every weight by ``1 - lr * wd`` per
#   step, while ``Adam(weight_decay=...)`` lets each weight's gradient history rescale the decay.
# * Schedulers (``StepLR``, ``CosineAnnealingLR``) step once per epoch after the optimizer; a
#   schedule planned for ``max_epochs`` is cut short when early stopping ends the run sooner.
# * ``clip_grad_norm_`` bounds the gradient norm and returns it; set ``max_norm`` above normal
#   norms, and one outlier batch can no longer wreck the model.
# * Early stopping on the validation loss with a patience, restoring a *copy* of the best
#   weights, and a history plot tell you when and how a run went wrong.
#
# Where to go next
# ----------------
# `Checkpointing <../06_checkpointing/>`_ saves all of this to disk: model, optimizer, scheduler
# and random state, so that a run can be resumed exactly where it stopped.
