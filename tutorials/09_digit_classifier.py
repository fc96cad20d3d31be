"""
A digit classifier, end to end
==============================

This is the classic first project, "classify handwritten digits", done properly from start to
finish: a seeded train/validation/test split, normalisation computed on the training data
only, a small convolutional network, training with a validation check after every epoch, a
final test accuracy, a confusion matrix, a look at the mistakes, and a saved model that is
reloaded to classify a single image.

**What you will learn**

* how to split a dataset reproducibly and normalise it without leaking test data
* how to train a CNN with a validation pass each epoch and keep the weights with the lowest
  validation loss
* how to evaluate: test accuracy, a confusion matrix computed with torch, the misclassified digits
* how to save a ``state_dict``, reload it with ``weights_only=True`` and run inference

**Prerequisites**

* `Data <../04_data/>`_, `Training loops <../05_training/>`_ and
  `Checkpointing <../06_checkpointing/>`_

The classic version of this exercise uses MNIST (70,000 images of 28x28 pixels), which has
to be downloaded. This page uses the 1,797 8x8 digit images bundled with scikit-learn, so
it runs offline in seconds on a CPU; the code for MNIST is shown and runs when MNIST is already
on disk. For a real run on MNIST, train for more epochs with a wider network.
"""

# %%
# The data
# --------
# ``load_digits()`` returns 1,797 grey-scale images of 8x8 pixels with values 0 to 16, roughly
# 180 per digit. Convolutions expect ``(batch, channels, height, width)``, so the images get a
# channel dimension.
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits

torch.manual_seed(0)
digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)  # (1797, 1, 8, 8)
labels = torch.tensor(digits.target)
print(f"images: {tuple(images.shape)}, values {images.min().item():.0f}..{images.max().item():.0f}")
print(f"examples per digit: {torch.bincount(labels).tolist()}")

fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for ax, img, lab in zip(axes.flat, images, labels, strict=False):
    ax.imshow(img[0].numpy(), cmap="gray_r")
    ax.set_title(str(lab.item()))
    ax.axis("off")
fig.tight_layout()
plt.show()

# %%
# The same project on MNIST
# -------------------------
# With MNIST the only change is the dataset (and a wider model). ``download=True`` would fetch
# it; this page never downloads, so the block runs only if MNIST is already in ``~/data``.
from pathlib import Path

from torchvision import datasets
from torchvision.transforms import v2

root = Path.home() / "data"
if (root / "MNIST" / "raw").is_dir():
    mnist_transform = v2.Compose(
        [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize((0.1307,), (0.3081,))]
    )
    mnist_train = datasets.MNIST(root, train=True, download=False, transform=mnist_transform)
    mnist_test = datasets.MNIST(root, train=False, download=False, transform=mnist_transform)
    x0, y0 = mnist_train[0]
    print(f"MNIST: {len(mnist_train)} train, {len(mnist_test)} test, image {tuple(x0.shape)}")
else:
    print("MNIST is not in ~/data/MNIST/raw: skipped (this page uses the bundled digits).")

# %%
# Train, validation and test splits
# ---------------------------------
# The *validation* set steers decisions during training (which epoch's weights to keep); the
# *test* set is looked at once, at the end. ``random_split`` with a seeded ``torch.Generator``
# gives the same split on every run.
from torch.utils.data import TensorDataset, random_split

dataset = TensorDataset(images, labels)
split_gen = torch.Generator().manual_seed(0)
train_set, val_set, test_set = random_split(dataset, [0.7, 0.15, 0.15], generator=split_gen)
print(f"train {len(train_set)}, validation {len(val_set)}, test {len(test_set)}")

# %%
# Normalisation from the training split only
# ------------------------------------------
# Inputs with mean 0 and standard deviation 1 make optimisation easier. The statistics come
# from the training images alone: computing them on all data would let the test set leak into
# training. The same two numbers are applied to every split, and later to new images.
train_images = images[train_set.indices]
mean, std = train_images.mean().item(), train_images.std().item()
print(f"training mean {mean:.3f}, std {std:.3f}")


def normalise(x):
    return (x - mean) / std


def tensors(subset):
    idx = torch.tensor(subset.indices)
    return normalise(images[idx]), labels[idx]


x_train, y_train = tensors(train_set)
x_val, y_val = tensors(val_set)
x_test, y_test = tensors(test_set)
mean_now = round(x_train.mean().item(), 3) + 0.0  # + 0.0 prints a rounded -0.0 as 0.0
print(f"normalised training data: mean {mean_now:.3f}, std {x_train.std().item():.3f}")

# %%
# The model
# ---------
# Two blocks of convolutions and max-pooling turn an 8x8 image into 64 feature maps of 2x2,
# and a small classifier maps those 256 numbers to 10 scores (logits), one per digit. Dropout
# regularises the classifier; it is active in ``train()`` mode and off in ``eval()`` mode.
from torch import nn


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 8x8 -> 4x4
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 4x4 -> 2x2
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(64 * 2 * 2, 10),
    )


device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
torch.manual_seed(0)
model = make_model().to(device)
print(model)
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")

# %%
# Training with validation every epoch
# ------------------------------------
# Each epoch makes one shuffled pass over the training data, then evaluates on the validation
# set without gradients. A copy of the weights from the epoch with the lowest validation *loss*
# is kept, so a late dip does not cost the final model. This is the rule of
# `Training <../05_training/>`_, and it suits small validation sets: with 270 images, accuracy
# moves in steps of one image (0.37%) and epochs often tie, while the loss still tells them
# apart by how confident the answers are. The output shows which epochs tie on accuracy and
# which epoch a rule based on accuracy would have kept.
import copy

from torch.utils.data import DataLoader


def evaluate(net, x, y, batch_size=512):
    """Mean loss, accuracy and predictions of ``net`` on ``(x, y)``."""
    net.eval()
    losses, preds = [], []
    with torch.no_grad():
        for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True):
            logits = net(xb.to(device))
            losses.append(nn.functional.cross_entropy(logits, yb.to(device), reduction="sum"))
            preds.append(logits.argmax(1).cpu())
    pred = torch.cat(preds)
    return (torch.stack(losses).sum() / len(y)).item(), (pred == y).float().mean().item(), pred


loader = DataLoader(
    TensorDataset(x_train, y_train),
    batch_size=32,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
EPOCHS = 15
history = {"train_loss": [], "val_loss": [], "val_acc": []}
best_loss, best_state = float("inf"), None

for epoch in range(1, EPOCHS + 1):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = nn.functional.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    val_loss, val_acc, _ = evaluate(model, x_val, y_val)
    history["train_loss"].append(total / len(y_train))
    history["val_loss"].append(val_loss)
    history["val_acc"].append(val_acc)
    if val_loss < best_loss:
        best_loss, best_epoch = val_loss, epoch
        best_state = copy.deepcopy(model.state_dict())
    print(
        f"epoch {epoch:2d}: train loss {total / len(y_train):.4f}, "
        f"val loss {val_loss:.4f}, val acc {val_acc:.1%}"
    )

model.load_state_dict(best_state)
best_acc = history["val_acc"][best_epoch - 1]
print(f"kept the weights of epoch {best_epoch} (val loss {best_loss:.4f}, val acc {best_acc:.1%})")
accs = history["val_acc"]
tied = [e for e, acc in enumerate(accs, start=1) if accs.count(acc) > 1]
print(f"epochs whose validation accuracy equals another epoch's: {tied}")
print(
    "the first epoch with the highest accuracy, which an accuracy rule keeps: "
    f"{accs.index(max(accs)) + 1}"
)

# %%
# Learning curves
# ---------------
# While the training and validation losses fall together, the model learns what carries over
# to images it does not train on. A validation loss that climbs while the training loss stays
# low is how *overfitting* starts: the model fits its training images better than new ones.
# With 270 validation images, a rise over an epoch or two can also be a few images answered
# wrongly and confidently; either way the final model keeps the best epoch's weights, not the
# last one's. The cell after the plot says what this run did before and after the kept epoch.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
epochs = range(1, EPOCHS + 1)
ax1.plot(epochs, history["train_loss"], marker="o", label="train")
ax1.plot(epochs, history["val_loss"], marker="o", label="validation")
ax1.set_xlabel("epoch")
ax1.set_ylabel("cross-entropy")
ax1.set_yscale("log")
ax2.plot(epochs, history["val_acc"], marker="o", color="tab:green")
for ax in (ax1, ax2):
    ax.axvline(best_epoch, color="gray", linestyle="--", label="kept")
ax1.legend()
ax2.set_xlabel("epoch")
ax2.set_ylabel("validation accuracy")
ax2.legend()
fig.tight_layout()
plt.show()

# %%
# The two phases in numbers: up to the kept epoch, and after it.
train_losses, val_losses, val_accs = history["train_loss"], history["val_loss"], history["val_acc"]
kept = best_epoch - 1  # the kept epoch's index


def change(values, start, end):
    verb = "rose" if values[end] > values[start] else "fell"
    return f"{verb} from {values[start]:.4f} to {values[end]:.4f}"


print(f"epochs 1-{best_epoch}: training loss {change(train_losses, 0, kept)},")
print(f"  validation loss {change(val_losses, 0, kept)}")
if best_epoch < EPOCHS:
    print(f"epochs {best_epoch}-{EPOCHS}: training loss {change(train_losses, kept, -1)},")
    print(f"  validation loss {change(val_losses, kept, -1)}")
wrong_kept, wrong_last = (round((1 - val_accs[i]) * len(y_val)) for i in (kept, -1))
print(
    f"validation images wrong: {wrong_kept} at epoch {best_epoch}, {wrong_last} at epoch {EPOCHS}"
)
assert train_losses[kept] < train_losses[0] / 10 and val_losses[kept] < val_losses[0] / 10

# %%
# Test accuracy
# -------------
# Now, and only now, the test set. With only a few hundred test images, every single mistake
# moves the accuracy by a visible step, so small differences between runs or models are noise.
test_loss, test_acc, test_pred = evaluate(model, x_test, y_test)
n_wrong = (test_pred != y_test).sum().item()
print(f"test loss {test_loss:.4f}, test accuracy {test_acc:.2%} ({n_wrong} of {len(y_test)} wrong)")
print(f"one test image is worth {1 / len(y_test):.2%} of accuracy")
assert test_acc >= 0.97, test_acc

# %%
# Confusion matrix
# ----------------
# Entry ``[i, j]`` counts test images of digit ``i`` predicted as ``j``: the diagonal holds the
# correct predictions, everything off it is a mistake. ``torch.bincount`` on ``10 * true + pred``
# counts all 100 pairs in one call.
confusion = torch.bincount(10 * y_test + test_pred, minlength=100).reshape(10, 10)
assert confusion.sum().item() == len(y_test)
assert confusion.trace().item() == len(y_test) - n_wrong
per_class = confusion.diag() / confusion.sum(1)
print("per-digit recall:", [round(r, 3) for r in per_class.tolist()])

fig, ax = plt.subplots(figsize=(5.5, 5))
ax.imshow(confusion.numpy(), cmap="Blues")
for i in range(10):
    for j in range(10):
        count = confusion[i, j].item()
        if count:
            color = "white" if count > confusion.max().item() / 2 else "black"
            ax.text(j, i, str(count), ha="center", va="center", color=color, fontsize=9)
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
ax.set_title(f"Test set confusion matrix (accuracy {test_acc:.1%})")
plt.show()

# %%
# The misclassified digits
# ------------------------
# Looking at the mistakes is the quickest way to learn what a model finds hard (and sometimes
# to find mislabelled data). The raw, un-normalised images are shown.
wrong = (test_pred != y_test).nonzero().squeeze(1)
test_idx = torch.tensor(test_set.indices)
print(f"{len(wrong)} misclassified test images")
if len(wrong) > 0:
    n_show = min(len(wrong), 12)
    cols = min(n_show, 6)
    rows = (n_show + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.7 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, k in zip(axes.flat, wrong[:n_show].tolist(), strict=False):
        ax.imshow(images[test_idx[k], 0].numpy(), cmap="gray_r")
        ax.set_title(f"true {y_test[k].item()}\npred {test_pred[k].item()}", fontsize=9)
    fig.tight_layout()
    plt.show()

# %%
# Save, reload, and classify one image
# ------------------------------------
# A ``state_dict`` holds the tensors only, not the code, so reloading needs the same
# ``make_model()``. The normalisation constants are part of the model in all but name, so they
# are saved next to it. ``weights_only=True`` (the default since PyTorch 2.6, written out to make
# it visible) restricts ``torch.load`` to tensors, numbers, strings and plain containers, so a
# file cannot slip arbitrary Python objects into your program; PyTorch's docs still say to load
# only files you trust.
import tempfile

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "digit_cnn.pt"
    torch.save({"model": model.state_dict(), "mean": mean, "std": std}, path)
    print(f"saved {path.name}: {path.stat().st_size / 1024:.0f} KiB")
    checkpoint = torch.load(path, weights_only=True)

restored = make_model().to(device)
restored.load_state_dict(checkpoint["model"])
restored.eval()
_, restored_acc, restored_pred = evaluate(restored, x_test, y_test)
assert torch.equal(restored_pred, test_pred)
print(f"reloaded model: same test predictions: True, accuracy {restored_acc:.2%}")

# %%
# Inference on a single image: normalise it with the saved constants, add a batch dimension,
# and turn the logits into probabilities with ``softmax``. Most test digits get a probability
# close to 1 for one class (counted below), so the example is the test image the model is
# *least* sure about.
with torch.no_grad():
    test_probs = restored(x_test.to(device)).softmax(dim=1).cpu()
top = test_probs.max(dim=1).values
sure = (top > 0.99).float().mean().item()
print(f"test images whose most likely digit has a probability above 0.99: {sure:.0%}")
assert sure > 0.5
k = top.argmin().item()

raw = images[test_idx[k]]  # (1, 8, 8), values 0..16, as a new image would arrive
x = ((raw - checkpoint["mean"]) / checkpoint["std"]).unsqueeze(0).to(device)
with torch.no_grad():
    probs = restored(x).softmax(dim=1)[0].cpu()
torch.testing.assert_close(probs, test_probs[k])  # same as in the batch
print(f"true digit: {y_test[k].item()}, predicted: {probs.argmax().item()}")
for digit, p in enumerate(probs.tolist()):
    print(f"  P({digit}) = {p:.4f}")
torch.testing.assert_close(probs.sum(), torch.tensor(1.0))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3), width_ratios=[1, 2])
ax1.imshow(raw[0].numpy(), cmap="gray_r")
ax1.set_title(f"true {y_test[k].item()}, predicted {probs.argmax().item()}", fontsize=10)
ax1.axis("off")
ax2.bar(range(10), probs.tolist())
ax2.set_xticks(range(10))
ax2.set_xlabel("digit")
ax2.set_ylabel("probability")
fig.tight_layout()
plt.show()

# %%
# Exercises
# ---------
# Each exercise gives you a starter to edit and a checker to call: the checker runs your code on
# fixed inputs and prints ``correct`` or what is wrong. The reference solution follows each
# exercise, folded away; try first, then compare. Every exercise cell imports what it needs, so
# it also runs on its own in a fresh notebook.

# %%
# Exercise 1: a confusion matrix
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``my_confusion_matrix(true, pred, num_classes)``: a ``(num_classes, num_classes)``
# tensor of counts whose entry ``[i, j]`` is the number of examples of class ``i`` predicted as
# ``j``. Some classes may never occur. Edit it and run the cell again:
# ``check_confusion_matrix`` prints ``correct`` or what is wrong.
import torch


def check_confusion_matrix(candidate) -> bool:
    """Compare ``candidate`` with a count by loops on fixed labels; print the verdict."""
    gen = torch.Generator().manual_seed(0)
    for n, num_classes in ((40, 4), (25, 6)):
        true = torch.randint(0, 4, (n,), generator=gen)  # with 6 classes, 4 and 5 never occur
        pred = torch.where(torch.rand(n, generator=gen) < 0.7, true, (true + 1) % 4)
        expected = torch.zeros(num_classes, num_classes, dtype=torch.long)
        for t, p in zip(true.tolist(), pred.tolist()):
            expected[t, p] += 1
        try:
            got = candidate(true.clone(), pred.clone(), num_classes)
        except Exception as exc:  # report the reader's error instead of raising it
            print(f"not correct: raised {type(exc).__name__}: {exc}")
            return False
        if not (isinstance(got, torch.Tensor) and torch.equal(got.long(), expected)):
            print(
                f"not correct: for {num_classes} classes expected\n{expected}\ngot\n{got}\n"
                "(rows are the true classes, columns the predictions)"
            )
            return False
    print("correct")
    return True


def my_confusion_matrix(true, pred, num_classes):
    # Your code here: count each (true, predicted) pair.
    return None


check_confusion_matrix(my_confusion_matrix)


# %% tags=["solution"]
# Reference solution.
def my_confusion_matrix(true, pred, num_classes):
    # Each (true, pred) pair becomes one number; minlength keeps classes that never occur.
    pairs = num_classes * true + pred
    return torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


assert check_confusion_matrix(my_confusion_matrix)

# %%
# Exercise 2: per-class recall from the confusion matrix
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``my_recall(confusion)``: for each true class ``i``, the fraction of its examples that
# were predicted as ``i`` (rows are true classes, as above; every class occurs). It is the
# "per-digit recall" printed earlier. Edit it and run the cell again: ``check_recall`` prints
# ``correct`` or what is wrong.
import torch


def check_recall(candidate) -> bool:
    """Run ``candidate`` on a fixed, lopsided confusion matrix; print the verdict."""
    confusion = torch.tensor([[8, 1, 1], [4, 4, 0], [0, 3, 9]])
    expected = torch.tensor([8 / 10, 4 / 8, 9 / 12])
    try:
        got = candidate(confusion.clone())
    except Exception as exc:  # report the reader's error instead of raising it
        print(f"not correct: raised {type(exc).__name__}: {exc}")
        return False
    if not (
        isinstance(got, torch.Tensor)
        and got.shape == expected.shape
        and torch.allclose(got.float(), expected)
    ):
        want = [round(v, 4) for v in expected.tolist()]
        print(f"not correct: for the confusion matrix\n{confusion}\nexpected {want}, got {got}")
        return False
    print("correct")
    return True


def my_recall(confusion):
    # Your code here: the diagonal divided by ... ?
    return None


check_recall(my_recall)


# %% tags=["solution"]
# Reference solution.
def my_recall(confusion):
    # Correct predictions (the diagonal) over each class's number of examples (the row sums).
    # Dividing by the column sums gives precision instead: of the examples predicted as i,
    # the fraction that really are i.
    return confusion.diag() / confusion.sum(dim=1)


assert check_recall(my_recall)

# %%
# Exercise 3: classify one raw image
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``my_predict(model, raw, mean, std)``: ``raw`` is one image as it arrives, shape
# ``(1, 8, 8)`` with values 0 to 16, and ``mean``/``std`` are the saved normalisation
# constants. Return the predicted digit and its probability, as a pair ``(int, float)``. The
# model may arrive in training mode. Edit it and run the cell again: ``check_predict`` prints
# ``correct`` or what is wrong.
import torch
from torch import nn


def check_predict(candidate) -> bool:
    """Run ``candidate`` on three fixed images with a small seeded CNN; print the verdict."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(8 * 8 * 8, 10),
        )
        raws = torch.randint(0, 17, (3, 1, 8, 8)).float()
        mean, std = 4.9, 6.0
        model.eval()
        with torch.no_grad():
            probs = model((raws - mean) / std).softmax(dim=1)
        for raw, p in zip(raws, probs):
            expected = (p.argmax().item(), p.max().item())
            model.train()  # as it would be straight after training
            try:
                got = candidate(model, raw.clone(), mean, std)
            except Exception as exc:
                print(f"not correct: raised {type(exc).__name__}: {exc}")
                return False
            if not (
                isinstance(got, (tuple, list))
                and len(got) == 2
                and isinstance(got[0], int)
                and isinstance(got[1], float)
            ):
                print(f"not correct: expected a pair (int, float), got {got!r}")
                print("             (.item() turns a one-element tensor into a Python number)")
                return False
            if got[0] != expected[0] or abs(got[1] - expected[1]) > 1e-5:
                print(
                    f"not correct: expected (digit, probability) = ({expected[0]}, "
                    f"{expected[1]:.4f}), got ({got[0]}, {got[1]:.4f})"
                )
                return False
    print("correct")
    return True


def my_predict(model, raw, mean, std):
    # Your code here: eval mode, normalise, add a batch dimension, softmax.
    return 0, 0.0


check_predict(my_predict)


# %% tags=["solution"]
# Reference solution.
def my_predict(model, raw, mean, std):
    # eval() turns dropout off; the image gets the training data's normalisation and a batch
    # dimension; softmax turns the logits into probabilities.
    model.eval()
    with torch.no_grad():
        probs = model(((raw - mean) / std).unsqueeze(0)).softmax(dim=1)[0]
    return probs.argmax().item(), probs.max().item()


assert check_predict(my_predict)

# %%
# Summary
# -------
# * A seeded ``random_split`` gives reproducible train, validation and test sets; normalisation
#   statistics come from the training split only.
# * Validation after every epoch shows how training is going and picks the weights to keep
#   (lowest validation loss: on a small validation set, accuracy ties too often); the test set
#   is used once, at the end.
# * ``torch.bincount`` builds a confusion matrix in one line, and the misclassified images show
#   what the model finds hard.
# * Save the ``state_dict`` (plus preprocessing constants), reload it with
#   ``torch.load(..., weights_only=True)`` into a freshly built model, and call ``eval()``
#   before inference.
#
# Where to go next
# ----------------
# Swap in MNIST with the guarded code above, or revisit
# `Transfer learning <../07_transfer_learning/>`_ and `Accelerators <../08_accelerators/>`_ to
# start from pretrained weights and train on a GPU.
