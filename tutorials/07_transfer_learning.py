"""
Transfer learning: reuse what a network already knows
======================================================

A network trained on one task has learned features (edges, strokes, shapes) that can be useful
for a related task. Transfer learning keeps those features and trains only what has to change,
which pays off when labelled data for the new task is scarce. This tutorial first shows the
torchvision models API on ResNet-18 (loading weights, freezing, replacing the head, per-group
learning rates), then *measures* when transfer helps: a small CNN pretrained on the digits 0-4
learns the digits 5-9 from 1 to 10 labelled examples per class, against the same CNN trained
from scratch and a randomly initialised backbone.

**What you will learn**

* how to build a torchvision model with ``weights=`` and inspect what the weights come with
* how to freeze a backbone with ``requires_grad_(False)`` and replace the classification head
* how to count trainable parameters and give parameter groups different learning rates
* when transfer beats training from scratch, and how a random backbone tells you whether
  pretraining taught anything

**Prerequisites**

* `Modules <../03_modules/>`_ and `Training loops <../05_training/>`_
* `Checkpointing <../06_checkpointing/>`_ (``state_dict``)

The numbers are kept small so that the whole page runs in well under a minute on a laptop CPU:
8x8 digits on a 12x12 canvas, a tiny CNN, three seeds, a hundred optimisation steps per model.
For a real run, start from ImageNet weights on your own images, train for longer and average
over more seeds.
"""

# %%
# A torchvision model and its weights
# -----------------------------------
# Every torchvision classification model has a ``Weights`` enum. ``DEFAULT`` points to the best
# available weights, and the enum also carries the URL, the class names in ``meta`` and the
# preprocessing ``transforms()`` the model was trained with.
#
# Calling ``resnet18(weights=ResNet18_Weights.DEFAULT)`` downloads the file into the torch hub
# cache the first time. This page never downloads: it loads the ImageNet weights only if the
# file is already in the cache. Otherwise it builds the same architecture with **random
# weights** (``weights=None``): everything in the next three cells (freezing, a new head,
# parameter groups) works the same, but that ResNet has learned nothing.
from pathlib import Path

import torch
from torch import nn
from torchvision.models import ResNet18_Weights, resnet18

torch.manual_seed(0)

weights = ResNet18_Weights.DEFAULT
file_name = weights.url.rsplit("/", 1)[-1]
cached = Path(torch.hub.get_dir()) / "checkpoints" / file_name

if cached.is_file():
    model = resnet18(weights=weights)
    print(f"Loaded the ImageNet weights {weights} from the local cache ({file_name}).")
else:
    model = resnet18(weights=None)
    print(f"{file_name} is not in the torch hub cache, so this ResNet-18 has RANDOM weights.")
    print("With the file in the cache, resnet18(weights=weights) would have loaded:")
print(f"  weights enum : {weights}")
print(f"  file         : {file_name}")
print(f"  classes      : {len(weights.meta['categories'])}")
print(f"  transforms   : {weights.transforms()}")

# %%
# Freeze the backbone and replace the head
# ----------------------------------------
# ``requires_grad_(False)`` on the whole model stops autograd from computing gradients for its
# parameters, so the optimiser cannot change them. A *new* layer assigned afterwards, here a
# five-class head in place of the 1000-class ``fc`` layer, is created with
# ``requires_grad=True`` and is the only thing that trains.


def count_params(module, trainable_only=False):
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


print(f"original head: {model.fc}")
model.requires_grad_(False)
model.fc = nn.Linear(model.fc.in_features, 5)
print(f"new head     : {model.fc}")
print(f"total params     : {count_params(model):,}")
print(f"trainable params : {count_params(model, trainable_only=True):,}")
assert count_params(model, trainable_only=True) == count_params(model.fc)

# %%
# .. note::
#    ``requires_grad_(False)`` freezes *parameters*, not *buffers*. ResNet's BatchNorm layers
#    keep updating their running mean and variance whenever the model is in ``train()`` mode.
#    To freeze a backbone completely, also put it in ``eval()`` mode while training the head.
#
# The model still takes 3-channel images. Here a batch of two random 64x64 images goes through
# it, and only the head receives gradients.
images = torch.rand(2, 3, 64, 64)
logits = model(images)
logits.sum().backward()
print(f"logits shape: {tuple(logits.shape)}")
print(f"head has grad    : {model.fc.weight.grad is not None}")
print(f"conv1 has grad   : {model.conv1.weight.grad is not None}")
with_grad = [name for name, p in model.named_parameters() if p.grad is not None]
assert with_grad == ["fc.weight", "fc.bias"], with_grad
model.zero_grad()

# %%
# Unfreeze, with a smaller learning rate for the backbone
# -------------------------------------------------------
# Fine-tuning unfreezes everything but moves the pretrained layers slowly, so that a
# randomly initialised head does not wreck good features in the first steps. One optimiser
# can hold several *parameter groups*, each with its own learning rate.
model.requires_grad_(True)
head_params = list(model.fc.parameters())
head_ids = {id(p) for p in head_params}
backbone_params = [p for p in model.parameters() if id(p) not in head_ids]

optimizer = torch.optim.SGD(
    [
        {"params": backbone_params, "lr": 1e-4},
        {"params": head_params, "lr": 1e-2},
    ],
    momentum=0.9,
)
for name, group in zip(["backbone", "head"], optimizer.param_groups, strict=True):
    n = sum(p.numel() for p in group["params"])
    print(f"{name:8s}: lr={group['lr']:g}, {n:,} parameters")
print(f"trainable params after unfreezing: {count_params(model, trainable_only=True):,}")

# %%
# The measured part: digits 0-4 teach digits 5-9
# ----------------------------------------------
# This page does not download the ImageNet weights, so the experiment builds its own
# "pretrained" model. scikit-learn ships 1,797 handwritten digits as 8x8 images. The digits
# 0-4 form the *source* task and the digits 5-9 the *target* task.
#
# Transfer pays off when the source task teaches something the target needs and a few labels
# cannot teach. To give the features something to learn, every image is pasted at a random
# position on a 12x12 canvas: a model has to recognise strokes wherever they appear. For the
# target, 60 images per class form a pool to draw the few labelled examples from, and all the
# other images (at fixed random positions) are the held-out test set.
from sklearn.datasets import load_digits

digits = load_digits()
digit_images = torch.tensor(digits.images, dtype=torch.float32) / 16.0  # (1797, 8, 8)
y = torch.tensor(digits.target)
CANVAS = 12


def place(images, generator):
    """Paste each 8x8 image at a random position on a blank CANVAS x CANVAS image."""
    out = torch.zeros(len(images), 1, CANVAS, CANVAS)
    rows, cols = torch.randint(0, CANVAS - 7, (2, len(images)), generator=generator)
    for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        out[i, 0, r : r + 8, c : c + 8] = images[i]
    return out


g = torch.Generator().manual_seed(0)
source = (y < 5).nonzero().squeeze(1)
source = source[torch.randperm(len(source), generator=g)]
n_val = len(source) // 5
src_val, src_train = source[:n_val], source[n_val:]

pool, test = [], []
for c in range(5, 10):
    idx = (y == c).nonzero().squeeze(1)
    idx = idx[torch.randperm(len(idx), generator=g)]
    pool.append(idx[:60])
    test.append(idx[60:])
test = torch.cat(test)
X_src_val = place(digit_images[src_val], torch.Generator().manual_seed(1))
X_test = place(digit_images[test], torch.Generator().manual_seed(2))
print(f"source 0-4: {len(src_train)} train, {len(src_val)} validation")
print(f"target 5-9: {sum(len(p) for p in pool)} in the labelled pool, {len(test)} held out")

# %%
# Here is what the models see: the same kind of 8x8 image, somewhere on the canvas.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 8, figsize=(8, 1.4))
for ax, image, label in zip(axes, X_test[::75], y[test][::75], strict=False):
    ax.imshow(image[0].numpy(), cmap="gray_r")
    ax.set_title(str(label.item()))
    ax.set_xticks([])  # no ticks, but keep the frame: it shows the canvas
    ax.set_yticks([])
plt.show()

# %%
# A small CNN, pretrained on 0-4
# ------------------------------
# The CNN is split into a ``backbone`` (convolutions, then a *global max pool* that keeps each
# feature's strongest response anywhere on the canvas, giving a 64-dimensional vector) and a
# ``head`` (one linear layer), the same split as ResNet's body and ``fc``. During pretraining the
# source images are pasted at new random positions every epoch, so the backbone sees each digit
# in many places.


class SmallCNN(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 12x12 -> 6x6
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d(1),  # 6x6 -> 1x1: the strongest response, wherever it is
            nn.Flatten(),
        )
        self.head = nn.Linear(64, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def accuracy(net, inputs, labels):
    net.eval()
    with torch.no_grad():
        return (net(inputs).argmax(1) == labels).float().mean().item()


torch.manual_seed(0)
pretrained = SmallCNN()
opt = torch.optim.Adam(pretrained.parameters(), lr=3e-3)
epoch_gen = torch.Generator().manual_seed(0)
for _ in range(15):  # epochs
    pretrained.train()
    X_src = place(digit_images[src_train], epoch_gen)  # new positions every epoch
    for batch in torch.randperm(len(src_train), generator=epoch_gen).split(64):
        loss = nn.functional.cross_entropy(pretrained(X_src[batch]), y[src_train][batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
print(f"pretrained on 0-4: validation accuracy {accuracy(pretrained, X_src_val, y[src_val]):.1%}")

# %%
# Four ways to learn 5-9 from a few labels
# ----------------------------------------
# For each number of labels per class and each seed, we draw that many images per class from the
# pool, paste them once at random positions, and train four models for the same number of
# full-batch Adam steps:
#
# * **scratch**: the same CNN with random weights, all of it trained,
# * **frozen**: the pretrained backbone, frozen; only a new head trains (a *linear probe*),
# * **fine-tune**: the pretrained backbone and a new head all train, the backbone with a ten
#   times smaller learning rate (two parameter groups),
# * **random frozen**: a *randomly initialised* backbone, frozen, with a new head. This is the
#   control: same architecture, same global max pool, but no pretraining. If the pretrained
#   backbone does not clearly beat it, pretraining taught nothing reusable.
#
# A frozen backbone is a fixed feature extractor, so its features are computed once and only
# the head sees the training loop. Accuracy is measured on the held-out 5-9 images.
import copy

LR, STEPS = 3e-3, 100
SHOTS = [1, 2, 5, 10]
SEEDS = [0, 1, 2]
METHODS = ["scratch", "frozen", "fine-tune", "random frozen"]


def make_model(method, seed):
    torch.manual_seed(seed)
    if method == "scratch":
        net = SmallCNN()
        return net, torch.optim.Adam(net.parameters(), lr=LR)
    if method == "random frozen":
        net = SmallCNN()  # a random backbone, never trained
    else:
        net = copy.deepcopy(pretrained)
        net.head = nn.Linear(net.head.in_features, 5)  # new head for the classes 5-9
    if method in ("frozen", "random frozen"):
        net.backbone.requires_grad_(False)
        return net, torch.optim.Adam(net.head.parameters(), lr=LR)
    groups = [
        {"params": net.backbone.parameters(), "lr": LR / 10},
        {"params": net.head.parameters(), "lr": LR},
    ]
    return net, torch.optim.Adam(groups)


def few_shot(method, shots, seed):
    g = torch.Generator().manual_seed(seed)
    idx = torch.cat([p[torch.randperm(len(p), generator=g)[:shots]] for p in pool])
    inputs, targets = place(digit_images[idx], g), y[idx] - 5
    net, opt = make_model(method, seed)
    net.train()
    forward = net
    if method in ("frozen", "random frozen"):
        with torch.no_grad():
            inputs, forward = net.backbone(inputs), net.head  # features computed once
    for _ in range(STEPS):
        loss = nn.functional.cross_entropy(forward(inputs), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return accuracy(net, X_test, y[test] - 5)


results = torch.tensor(
    [[[few_shot(m, k, s) for s in SEEDS] for m in METHODS] for k in SHOTS]
)  # shape (shots, methods, seeds)
mean, std = results.mean(2), results.std(2)

print(f"Test accuracy on digits 5-9 (mean over {len(SEEDS)} seeds, {len(test)} test images)")
print(f"{'labels/class':>12} | " + " | ".join(f"{m:>13}" for m in METHODS))
print("-" * 13 + "+---------------" * len(METHODS))
for k, row in zip(SHOTS, mean.tolist(), strict=True):
    print(f"{k:>12} | " + " | ".join(f"{a:>13.1%}" for a in row))

# %%
# When does transfer pay off?
# ---------------------------
# "Transfer" below is the better of frozen and fine-tune at each label count, and "pts" are
# percentage points. The *crossover* is the smallest label count at which training from
# scratch caught up with it; it is computed from the table above, not assumed.
col = {m: j for j, m in enumerate(METHODS)}
transfer = mean[:, [col["frozen"], col["fine-tune"]]].max(1).values
gains = (transfer - mean[:, col["scratch"]]).tolist()
probe_gap = mean[:, col["frozen"]] - mean[:, col["random frozen"]]
for k, gain, gap in zip(SHOTS, gains, probe_gap.tolist(), strict=True):
    print(
        f"{k:>2} labels/class: transfer minus scratch = {gain * 100:+5.1f} pts, "
        f"pretrained minus random frozen = {gap * 100:+5.1f} pts"
    )
crossover = next((k for k, gain in zip(SHOTS, gains, strict=True) if gain <= 0), None)
if crossover is None:
    print(f"no crossover: scratch stayed behind transfer up to {SHOTS[-1]} labels/class")
else:
    print(f"crossover: scratch caught up with transfer at {crossover} labels/class")

# The claims the text makes, checked on this run's numbers:
assert mean[0, col["fine-tune"]] > mean[0, col["scratch"]]  # 1 label: fine-tuning wins
assert gains[0] > 0 and gains[1] > 0  # transfer ahead with 1 and 2 labels per class
assert (probe_gap > 0).all()  # pretrained features beat random ones at every label count
assert gains[0] > gains[-1]  # the advantage shrinks as labels grow
assert mean[-1, col["fine-tune"]] > mean[-1, col["frozen"]]  # most labels: fine-tune > probe

# %%
# With one or two labelled images per class, transfer is ahead: scratch has five to ten
# pictures from which to learn strokes *and* that they may appear anywhere, while the backbone
# learned its stroke detectors from hundreds of source images in many positions. The random
# backbone has the same architecture and the same position-blind max pool, yet trails the
# pretrained one at every label count, so the gain comes from what pretraining learned, not
# from the architecture. As labels grow, scratch learns the target's own features and the
# advantage shrinks (see the crossover line); with the most labels, the linear probe on frozen
# features is behind fine-tuning, which can still adapt the backbone to the new digits.
#
# Accuracy against labels per class
# ---------------------------------
# The error bars show the standard deviation over the seeds; with so few labels, *which*
# examples happen to be drawn matters a lot.
fig, ax = plt.subplots(figsize=(6, 4))
for j, m in enumerate(METHODS):
    ax.errorbar(SHOTS, mean[:, j].tolist(), yerr=std[:, j].tolist(), marker="o", capsize=3, label=m)
ax.set_xscale("log")
ax.set_xticks(SHOTS, [str(k) for k in SHOTS])
ax.set_xlabel("labelled examples per class (digits 5-9)")
ax.set_ylabel("held-out accuracy")
ax.set_ylim(0, 1)
ax.set_title("Transfer from digits 0-4 vs training from scratch")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %%
# .. note::
#    Try the same experiment on a target with nothing hard to learn: set ``CANVAS = 8`` (every
#    image in the same place) and run the page again. Compare the table and the crossover with
#    the ones above; the asserts check the page's claims against the new numbers and stop at
#    the first one that no longer holds.
#
# Exercises
# ---------
# Each exercise is one cell: edit the function and run the cell again; the checker prints
# ``correct`` or what it expected and what it got. The reference solutions follow, folded.

# %%
# Exercise 1: freeze all but the head
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``freeze_backbone(model)`` receives a model with a ``backbone`` and a ``head``. Freeze every
# parameter except the head's, and return the number of trainable parameter *values* (the sum
# of ``numel()``). ``check_freeze`` tries it on a small fresh model.
import torch
from torch import nn


def check_freeze(candidate) -> bool:
    """Run ``candidate`` on a small model; print 'correct' or what is wrong; return a bool."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(
                nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten()
            )
            self.head = nn.Linear(8, 5)

    torch.manual_seed(0)
    model = Net()
    expected = sum(p.numel() for p in model.head.parameters())  # 8 * 5 + 5 = 45
    try:
        got = candidate(model)
    except Exception as err:
        print(f"not correct: raised {type(err).__name__}: {err}")
        return False
    should_train = {name: name.startswith("head.") for name, _ in model.named_parameters()}
    wrong = [n for n, p in model.named_parameters() if p.requires_grad != should_train[n]]
    if wrong:
        print(f"not correct: expected only head.* to require grad, but these are wrong: {wrong}")
        return False
    if got != expected:
        print(f"not correct: expected {expected} trainable values (the head's), got {got!r}")
        return False
    print("correct")
    return True


def freeze_backbone(model):
    # Your code here: freeze everything but model.head, then count what still trains.
    return None


check_freeze(freeze_backbone)


# %% tags=["solution"]
# Reference solution: freeze the whole model, unfreeze the head, count.
def freeze_backbone(model):
    model.requires_grad_(False)
    model.head.requires_grad_(True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


assert check_freeze(freeze_backbone)

# %%
# Exercise 2: two learning rates in one optimiser
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``make_optimizer(model, backbone_lr, head_lr)`` should return one ``torch.optim.SGD`` (with
# ``momentum=0.9``) that trains every parameter of the model: those of ``model.backbone`` with
# ``backbone_lr`` and those of ``model.head`` with ``head_lr``. ``check_optimizer`` looks at the
# optimiser's parameter groups.
import torch
from torch import nn


def check_optimizer(candidate) -> bool:
    """Build an optimiser with ``candidate``; print 'correct' or what is wrong; return a bool."""
    torch.manual_seed(0)
    model = nn.Module()
    model.backbone = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
    model.head = nn.Linear(8, 3)
    try:
        optimizer = candidate(model, 1e-4, 1e-2)
    except Exception as err:
        print(f"not correct: raised {type(err).__name__}: {err}")
        return False
    if not isinstance(optimizer, torch.optim.SGD):
        print(f"not correct: expected a torch.optim.SGD, got {type(optimizer).__name__}")
        return False
    lr_of = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    for part, lr in [("backbone", 1e-4), ("head", 1e-2)]:
        for name, p in getattr(model, part).named_parameters():
            if lr_of.get(id(p)) != lr:
                print(f"not correct: expected {part}.{name} with lr={lr:g}, got {lr_of.get(id(p))}")
                return False
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    if frozen:
        print(f"not correct: every parameter should train, but these are frozen: {frozen}")
        return False
    momenta = [group["momentum"] for group in optimizer.param_groups]
    if any(m != 0.9 for m in momenta):
        print(f"not correct: expected momentum=0.9 in every group, got {momenta}")
        return False
    print("correct")
    return True


def make_optimizer(model, backbone_lr, head_lr):
    # Your code here: one SGD optimiser with two parameter groups.
    return None


check_optimizer(make_optimizer)


# %% tags=["solution"]
# Reference solution: a list of dicts, one per group, each with its own "lr".
def make_optimizer(model, backbone_lr, head_lr):
    groups = [
        {"params": model.backbone.parameters(), "lr": backbone_lr},
        {"params": model.head.parameters(), "lr": head_lr},
    ]
    return torch.optim.SGD(groups, momentum=0.9)


assert check_optimizer(make_optimizer)

# %%
# Summary
# -------
# * ``resnet18(weights=ResNet18_Weights.DEFAULT)`` builds a model with pretrained weights; the
#   enum also tells you the file, the classes and the preprocessing transforms. Without the
#   cached file this page's ResNet has random weights; the API is the same.
# * ``requires_grad_(False)`` freezes parameters (not BatchNorm statistics: use ``eval()``),
#   and assigning a new ``nn.Linear`` replaces the head.
# * Parameter groups give the backbone and the head different learning rates in one optimiser.
# * Transfer paid off here when labels were scarce and the source task had taught features the
#   target needs (strokes anywhere on the canvas); with more labels scratch closed the gap, and
#   the crossover line says where it caught up in this run.
# * A frozen *random* backbone is a cheap control: it tells you whether pretraining taught
#   anything beyond what the architecture gives for free.
#
# Where to go next
# ----------------
# `Accelerators <../08_accelerators/>`_ moves the same code to a GPU, with mixed precision and
# ``torch.compile``.
