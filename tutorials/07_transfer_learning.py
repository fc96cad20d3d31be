"""
Transfer learning: reuse what a network already knows
======================================================

A network trained on one task has learned features (edges, strokes, shapes) that are useful for
related tasks. Transfer learning keeps those features and trains only what has to change, which
matters most when labelled data is scarce. This tutorial first shows the torchvision models API
on ResNet-18 (loading weights, freezing, replacing the head, per-group learning rates), then
*measures* transfer on real data: a small CNN pretrained on the digits 0-4 learns the digits 5-9
from a handful of labelled examples, compared against the same CNN trained from scratch.

**What you will learn**

* how to build a torchvision model with ``weights=`` and inspect what the weights come with
* how to freeze a backbone with ``requires_grad_(False)`` and replace the classification head
* how to count trainable parameters and give parameter groups different learning rates
* how to unfreeze for fine-tuning, and how much transfer helps with 1 to 20 labels per class

**Prerequisites**

* `Modules <../03_modules/>`_ and `Training loops <../05_training/>`_
* `Checkpointing <../06_checkpointing/>`_ (``state_dict``)

The numbers are kept small so that the whole page runs in seconds on a laptop CPU: 8x8 digits,
a tiny CNN, a few hundred optimisation steps. For a real run, start from ImageNet weights on
your own images, train for more epochs and average over more seeds.
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
# file is already in the cache, and otherwise builds the same architecture with random weights
# (``weights=None``) and prints what would have been loaded.
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
    print(f"Loaded {weights} from the local cache ({file_name})")
else:
    model = resnet18(weights=None)
    print(f"{file_name} is not in the torch hub cache: built resnet18(weights=None) instead.")
    print("With the file cached (or internet access) this page would have loaded:")
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
# ImageNet weights are not available offline, so the experiment builds its own "pretrained"
# model. scikit-learn's digits dataset has 1,797 real 8x8 scans of handwritten digits. The
# digits 0-4 form the *source* task, and the digits 5-9 the *target* task. For the target, 60
# scans per class form a pool to draw the few labelled examples from, and all the other scans
# are a held-out test set.
#
# .. note::
#    For tensors this small, splitting each operation across CPU threads helps little and can
#    slow training down badly on a busy machine, so this page uses a single thread. Remove the
#    ``torch.set_num_threads(1)`` line for bigger models.
from sklearn.datasets import load_digits

torch.set_num_threads(1)

digits = load_digits()
X = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
y = torch.tensor(digits.target)

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
print(f"source 0-4: {len(src_train)} train, {len(src_val)} validation")
print(f"target 5-9: {sum(len(p) for p in pool)} in the labelled pool, {len(test)} held out")

# %%
# A small CNN, pretrained on 0-4
# ------------------------------
# The CNN is split into a ``backbone`` (convolutions, producing a 256-dimensional feature
# vector) and a ``head`` (one linear layer), exactly like ResNet's body and ``fc``.


class SmallCNN(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8x8 -> 4x4
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 4x4 -> 2x2
            nn.Flatten(),
        )
        self.head = nn.Linear(64 * 2 * 2, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def accuracy(net, idx, offset):
    net.eval()
    with torch.no_grad():
        pred = net(X[idx]).argmax(1)
    return (pred == y[idx] - offset).float().mean().item()


torch.manual_seed(0)
pretrained = SmallCNN()
opt = torch.optim.Adam(pretrained.parameters(), lr=3e-3)
loader_gen = torch.Generator().manual_seed(0)
for _ in range(15):  # epochs
    pretrained.train()
    for batch in torch.randperm(len(src_train), generator=loader_gen).split(64):
        idx = src_train[batch]
        loss = nn.functional.cross_entropy(pretrained(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
print(f"pretrained on 0-4: validation accuracy {accuracy(pretrained, src_val, 0):.1%}")

# %%
# Three ways to learn 5-9 from a few labels
# -----------------------------------------
# For each number of labels per class, and each seed, we draw that many labelled scans per
# class from the pool and train three models with the same number of full-batch Adam steps:
#
# * **frozen**: pretrained backbone, frozen; only a new head trains,
# * **fine-tune**: pretrained backbone and a new head all train, the backbone with a ten times
#   smaller learning rate (two parameter groups),
# * **scratch**: the same CNN with random weights, all of it trained.
#
# A frozen backbone is a fixed feature extractor, so its features are computed once and only
# the head sees the training loop. Accuracy is measured on the held-out 5-9 scans and averaged
# over the seeds.
import copy

LR, STEPS = 3e-3, 100
SHOTS = [1, 2, 5, 10, 20]
SEEDS = [0, 1, 2]
METHODS = ["frozen", "fine-tune", "scratch"]


def make_model(method, seed, source):
    torch.manual_seed(seed)
    if method == "scratch":
        net = SmallCNN()
        return net, torch.optim.Adam(net.parameters(), lr=LR)
    net = copy.deepcopy(source)
    net.head = nn.Linear(net.head.in_features, 5)  # new head for the classes 5-9
    if method == "frozen":
        net.backbone.requires_grad_(False)
        return net, torch.optim.Adam(net.head.parameters(), lr=LR)
    groups = [
        {"params": net.backbone.parameters(), "lr": LR / 10},
        {"params": net.head.parameters(), "lr": LR},
    ]
    return net, torch.optim.Adam(groups)


def few_shot(method, shots, seed, source=pretrained):
    g = torch.Generator().manual_seed(seed)
    idx = torch.cat([p[torch.randperm(len(p), generator=g)[:shots]] for p in pool])
    net, opt = make_model(method, seed, source)
    net.train()
    inputs, forward = X[idx], net
    if method == "frozen":
        with torch.no_grad():
            inputs, forward = net.backbone(X[idx]), net.head  # features computed once
    for _ in range(STEPS):
        loss = nn.functional.cross_entropy(forward(inputs), y[idx] - 5)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return accuracy(net, test, 5)


results = torch.tensor(
    [[[few_shot(m, k, s) for s in SEEDS] for m in METHODS] for k in SHOTS]
)  # shape (shots, methods, seeds)
mean, std = results.mean(2), results.std(2)

print(f"Test accuracy on digits 5-9 (mean over {len(SEEDS)} seeds, {len(test)} test scans)")
print(f"{'labels/class':>12} | " + " | ".join(f"{m:>9}" for m in METHODS))
print("-" * 13 + "+-----------" * len(METHODS))
for k, row in zip(SHOTS, mean, strict=True):
    print(f"{k:>12} | " + " | ".join(f"{a:>9.1%}" for a in row.tolist()))

# %%
# The numbers above are whatever this run measured. These lines summarise them without
# assuming which way they went ("transfer" is the better of frozen and fine-tune, and "pts"
# are percentage points):
best = [METHODS[i] for i in mean.argmax(1).tolist()]
for k, b, row in zip(SHOTS, best, mean.tolist(), strict=True):
    gain = max(row[0], row[1]) - row[2]
    print(f"{k:>2} labels/class: best = {b:9s}  transfer minus scratch = {gain * 100:+.1f} pts")

# %%
# Accuracy against labels per class
# ---------------------------------
# The error bars show the standard deviation over the seeds; with so few labels, *which*
# examples happen to be drawn matters a lot.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
for j, m in enumerate(METHODS):
    ax.errorbar(SHOTS, mean[:, j].tolist(), yerr=std[:, j].tolist(), marker="o", capsize=3, label=m)
ax.set_xscale("log")
ax.set_xticks(SHOTS, [str(k) for k in SHOTS])
ax.set_xlabel("labelled examples per class (digits 5-9)")
ax.set_ylabel("held-out accuracy")
ax.set_ylim(top=1)
ax.set_title("Transfer from digits 0-4 vs training from scratch")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %%
# Are the 0-4 features better than random ones?
# ---------------------------------------------
# Transfer is not guaranteed to help. Features learned on only five classes can specialise in
# telling *those* classes apart and throw away what separates the others, and 8x8 digits are
# easy enough that a small CNN learns a lot from a few examples on its own. A direct test of
# the features: train the same frozen-backbone head on top of a *randomly initialised* backbone
# and compare. If the pretrained backbone is not clearly ahead, the source task was too narrow
# to teach reusable features; that is why real projects start from weights trained on a large,
# varied dataset such as ImageNet.


def random_cnn(seed):
    torch.manual_seed(1000 + seed)
    return SmallCNN()


random_frozen = torch.tensor(
    [[few_shot("frozen", k, s, source=random_cnn(s)) for s in SEEDS] for k in SHOTS]
).mean(1)
print(f"{'labels/class':>12} | {'0-4 backbone':>12} | {'random backbone':>15}")
for k, a, r in zip(SHOTS, mean[:, 0].tolist(), random_frozen.tolist(), strict=True):
    print(f"{k:>12} | {a:>12.1%} | {r:>15.1%}")
gap = (mean[:, 0] - random_frozen).mean().item()
print(f"mean difference (0-4 minus random): {gap * 100:+.1f} percentage points")

# %%
# Summary
# -------
# * ``resnet18(weights=ResNet18_Weights.DEFAULT)`` builds a model with pretrained weights; the
#   enum also tells you the file, the classes and the preprocessing transforms.
# * ``requires_grad_(False)`` freezes parameters (not BatchNorm statistics: use ``eval()``),
#   and assigning a new ``nn.Linear`` replaces the head.
# * Parameter groups give the backbone and the head different learning rates in one optimiser.
# * The table and plot above measure frozen features, fine-tuning and training from scratch
#   with 1 to 20 labels per class; rerun with more seeds, steps or your own data to see how
#   the comparison changes.
# * Whether transfer pays off depends on how general the source features are; a frozen random
#   backbone is a cheap control that tells you whether pretraining taught anything reusable.
#
# Where to go next
# ----------------
# `Accelerators <../08_accelerators/>`_ moves the same code to a GPU, with mixed precision and
# ``torch.compile``.
