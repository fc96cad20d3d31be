"""
Modules: building models with torch.nn
======================================

A model in PyTorch is an ``nn.Module``: an object that holds parameters (tensors to be learned),
may contain other modules, and defines a ``forward`` computation. This tutorial writes a layer
from scratch, checks it against the built-in one, tours the standard layers and the shapes they
produce, builds an MLP and a small CNN for 8x8 digit images, and looks at the bookkeeping that
every model carries: parameter counts, ``train``/``eval`` modes and the ``state_dict``.

**What you will learn**

* how ``nn.Module`` and ``nn.Parameter`` register learnable tensors
* what ``Linear``, ``Conv2d``, ``MaxPool2d``, ``BatchNorm2d`` and ``Dropout`` do to shapes
* how to compose layers with ``nn.Sequential`` and with your own ``forward``
* how to count parameters and list them with ``named_parameters``
* why ``train()`` and ``eval()`` change the output of Dropout and BatchNorm
* what a ``state_dict`` contains

**Prerequisites**

* `Tensors <../01_tensors/>`_
* `Autograd <../02_autograd/>`_

The models are deliberately tiny and are not trained here (that is the subject of
`Training <../05_training/>`_), so the page runs in a few seconds on a laptop CPU.
"""

# %%
# A linear layer from scratch
# ---------------------------
# Subclass ``nn.Module``, create the learnable tensors in ``__init__`` wrapped in
# ``nn.Parameter``, and write the computation in ``forward``. Assigning an ``nn.Parameter`` as an
# attribute registers it: it then appears in ``parameters()``, is moved by ``.to(device)`` and is
# saved in the ``state_dict``. We initialise the weights explicitly, uniformly in
# :math:`[-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}}]`, the same range ``nn.Linear`` uses.
import math

import torch
from torch import nn

torch.manual_seed(0)


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return x @ self.weight.T + self.bias

    def extra_repr(self):  # shown by print(module)
        return f"in_features={self.weight.shape[1]}, out_features={self.weight.shape[0]}"


mine = MyLinear(4, 3)
print(mine)
for name, param in mine.named_parameters():
    print(f"{name}: shape {tuple(param.shape)}, requires_grad={param.requires_grad}")

# %%
# Checking it against nn.Linear
# -----------------------------
# ``nn.Linear`` computes the same :math:`y = x W^T + b`. Copy our weights into a built-in layer
# (inside ``torch.no_grad()``, since this is not an operation to differentiate) and the two
# layers must give the same output on the same input.
ref = nn.Linear(4, 3)
with torch.no_grad():
    ref.weight.copy_(mine.weight)
    ref.bias.copy_(mine.bias)

x = torch.randn(5, 4)
torch.testing.assert_close(mine(x), ref(x))
print("MyLinear and nn.Linear give the same output:", tuple(mine(x).shape))

# %%
# Built-in layers and the shapes they produce
# -------------------------------------------
# Image layers expect a batch in ``(N, C, H, W)`` order: batch size, channels, height, width.
# Below, a batch of eight one-channel 8x8 images goes through a chain of common layers:
#
# * ``Conv2d(1, 16, kernel_size=3, padding=1)`` slides 16 learned 3x3 filters over the image;
#   ``padding=1`` keeps the 8x8 size, the channel count becomes 16;
# * ``MaxPool2d(2)`` keeps the maximum of each 2x2 window, halving height and width;
# * ``BatchNorm2d(16)`` normalises each channel over the batch (shape unchanged);
# * ``Dropout(0.25)`` zeroes a random quarter of the values during training (shape unchanged);
# * ``Flatten()`` turns each image's feature maps into one vector;
# * ``Linear(256, 10)`` maps that vector to 10 scores, one per class.
layers = [
    nn.Conv2d(1, 16, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.BatchNorm2d(16),
    nn.Dropout(0.25),
    nn.Flatten(),
    nn.Linear(16 * 4 * 4, 10),
]
h = torch.randn(8, 1, 8, 8)
print(f"{'layer':<12} {'output shape':<16} parameters")
print(f"{'input':<12} {tuple(h.shape)!s:<16} {0:>10}")
for layer in layers:
    h = layer(h)
    n_params = sum(p.numel() for p in layer.parameters())
    print(f"{type(layer).__name__:<12} {tuple(h.shape)!s:<16} {n_params:>10}")

# %%
# nn.Sequential
# -------------
# ``nn.Sequential`` chains modules so that each one's output is the next one's input, which is
# exactly the loop above. It is a module itself, so it can be nested inside other models.
seq = nn.Sequential(*layers)
print(seq)
print("output shape:", tuple(seq(torch.randn(8, 1, 8, 8)).shape))

# %%
# Real inputs: 8x8 digit images
# -----------------------------
# scikit-learn ships 1,797 scanned handwritten digits as 8x8 grey-scale images with values 0 to
# 16. We scale them to :math:`[0, 1]` and add the channel dimension, giving the ``(N, 1, 8, 8)``
# shape that image layers expect. `Data <../04_data/>`_ covers datasets and loaders properly.
from sklearn.datasets import load_digits

digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16
labels = torch.tensor(digits.target)
print("images:", tuple(images.shape), images.dtype, "| labels:", tuple(labels.shape))
print("first ten labels:", labels[:10].tolist())

# %%
# An MLP classifier
# -----------------
# A multi-layer perceptron ignores the 2-D structure: it flattens each image into 64 numbers and
# applies fully connected layers with non-linear activations in between. The output holds 10
# *logits* per image; softmax turns them into class probabilities.
mlp = nn.Sequential(
    nn.Flatten(),
    nn.Linear(64, 128),
    nn.ReLU(),
    nn.Linear(128, 64),
    nn.ReLU(),
    nn.Linear(64, 10),
)
logits = mlp(images[:4])
probs = logits.softmax(dim=1)
print("logits:", tuple(logits.shape))
torch.testing.assert_close(probs.sum(dim=1), torch.ones(4))
print("each row of softmax(logits) sums to 1")


# %%
# A CNN classifier
# ----------------
# For anything beyond a straight chain, subclass ``nn.Module`` and write ``forward`` yourself.
# This CNN has a convolutional feature extractor (two conv blocks, each halving the image size)
# and a small classifier head. Sub-modules assigned as attributes are registered just like
# parameters.
class DigitCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),  # 16 x 8 x 8
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16 x 4 x 4
            nn.Conv2d(16, 32, kernel_size=3, padding=1),  # 32 x 4 x 4
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 32 x 2 x 2
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(32 * 2 * 2, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


cnn = DigitCNN()
print(cnn)
print("features:", tuple(cnn.features(images[:4]).shape), "| logits:", tuple(cnn(images[:4]).shape))

# %%
# What a convolution layer outputs
# --------------------------------
# Each of the 16 output channels of the first convolution is a filtered copy of the image, a
# *feature map*; the first nine are drawn below on a shared colour scale (red positive, blue
# negative). The filters are still random here; training turns them into detectors of strokes
# and edges.
import matplotlib.pyplot as plt

with torch.no_grad():
    maps = cnn.features[0](images[:1])[0]  # (16, 8, 8)
limit = maps.abs().max().item()

fig, axes = plt.subplots(2, 5, figsize=(8, 3.4), constrained_layout=True)
axes[0, 0].imshow(images[0, 0].numpy(), cmap="gray_r")
axes[0, 0].set_title(f"input (label {labels[0].item()})", fontsize=8)
for i, ax in enumerate(axes.flat[1:]):
    ax.imshow(maps[i].numpy(), cmap="coolwarm", vmin=-limit, vmax=limit)
    ax.set_title(f"channel {i}", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()


# %%
# Counting parameters
# -------------------
# ``parameters()`` yields every learnable tensor, including those of sub-modules, so summing
# their ``numel()`` gives the model size. For an MLP it can be checked by hand: a
# ``Linear(n_in, n_out)`` has :math:`n_{in} n_{out}` weights plus :math:`n_{out}` biases.
def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


by_hand = (64 * 128 + 128) + (128 * 64 + 64) + (64 * 10 + 10)
assert count_parameters(mlp) == by_hand
print(f"MLP: {count_parameters(mlp):,} parameters (matches the hand count)")
print(f"CNN: {count_parameters(cnn):,} parameters")

# %%
# Listing parameters with named_parameters
# ----------------------------------------
# ``named_parameters()`` gives each parameter with a dotted name that follows the attribute
# path, such as ``features.0.weight`` for the weight of the first module in ``features``. The
# names are handy for inspecting a model, for freezing parts of it (set ``requires_grad=False``)
# or for giving groups of parameters different optimizer settings.
for name, param in cnn.named_parameters():
    print(f"{name:<22} {tuple(param.shape)!s:<16} {param.numel():>6}")

for param in cnn.features.parameters():
    param.requires_grad_(False)
print("trainable with features frozen:", count_parameters(cnn))
for param in cnn.features.parameters():
    param.requires_grad_(True)

# %%
# train() versus eval(): Dropout
# ------------------------------
# Some layers behave differently while training. Every module has a ``training`` flag, set
# recursively by ``model.train()`` and ``model.eval()``. In training mode ``Dropout(p)`` zeroes
# each value with probability ``p`` and scales the rest by :math:`1/(1-p)`, so two calls on the
# same input differ. In evaluation mode it does nothing.
drop = nn.Dropout(0.5)
ones = torch.ones(1, 8)
drop.train()
first, second = drop(ones), drop(ones)
print("train:", first.tolist())
print("train:", second.tolist())
assert not torch.equal(first, second)
drop.eval()
print("eval: ", drop(ones).tolist())
assert torch.equal(drop(ones), ones)

# %%
# train() versus eval(): BatchNorm
# --------------------------------
# In training mode ``BatchNorm2d`` normalises each channel with the mean and variance of the
# *current batch*, and on the side it updates running averages of them (``running_mean``,
# ``running_var``). The running averages are not used for the output in training mode, so two
# training-mode passes over the same batch are identical even though the running statistics
# change in between. A small conv + BatchNorm model without dropout shows it. At
# initialisation BatchNorm's scale is 1 and its shift 0, so each output channel comes out with
# mean 0 and standard deviation 1 over the batch.
conv_bn = nn.Sequential(nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4))
bn = conv_bn[1]
batch = images[:16]

conv_bn.train()
with torch.no_grad():
    out_1 = conv_bn(batch)
    running_after_1 = bn.running_mean.clone()
    out_2 = conv_bn(batch)
print("running_mean after pass 1:", [round(m, 4) for m in running_after_1.tolist()])
print("running_mean after pass 2:", [round(m, 4) for m in bn.running_mean.tolist()])
print("two train passes equal:", torch.equal(out_1, out_2))
assert not torch.equal(running_after_1, bn.running_mean)
assert torch.equal(out_1, out_2)

channel_mean = out_1.mean(dim=(0, 2, 3))
channel_std = out_1.std(dim=(0, 2, 3), correction=0)
torch.testing.assert_close(channel_mean, torch.zeros(4), atol=1e-5, rtol=0)
torch.testing.assert_close(channel_std, torch.ones(4), atol=1e-3, rtol=0)
print("every channel has mean 0 and std 1 (to 1e-3):", True)

# %%
# Because it uses batch statistics, in training mode an image's output depends on the other
# images in its batch. In evaluation mode BatchNorm uses the running averages instead, so an
# image gets the same answer whatever else is in the batch; the output is
# :math:`(x - \text{running\_mean}) / \sqrt{\text{running\_var} + \epsilon}`, scaled by
# ``weight`` and shifted by ``bias``.
with torch.no_grad():
    in_16, in_4 = conv_bn(batch)[0], conv_bn(batch[:4])[0]
    print("train mode: image 0 alike in batches of 16 and 4:", torch.allclose(in_16, in_4))
    assert not torch.allclose(in_16, in_4)

    conv_bn.eval()
    in_16, in_4 = conv_bn(batch)[0], conv_bn(batch[:4])[0]
    print("eval mode:  image 0 alike in batches of 16 and 4:", torch.allclose(in_16, in_4))
    assert torch.allclose(in_16, in_4)

    conv_out = conv_bn[0](batch)
    shape = (1, -1, 1, 1)  # one value per channel
    formula = (conv_out - bn.running_mean.view(shape)) / torch.sqrt(
        bn.running_var.view(shape) + bn.eps
    ) * bn.weight.view(shape) + bn.bias.view(shape)
    torch.testing.assert_close(conv_bn(batch), formula)
print("eval output equals the formula with the running statistics: True")

# %%
# train() versus eval() in the CNN
# --------------------------------
# ``DigitCNN`` has both kinds of layer. In training mode two passes over the same batch differ,
# and the cause is the dropout mask: with Dropout alone switched to evaluation mode (BatchNorm
# still training, still updating its running statistics) the two passes are equal again. After
# ``cnn.eval()`` the passes are equal too, and they differ from the training-mode output,
# because BatchNorm now normalises with its running averages instead of this batch's statistics.
cnn.train()
with torch.no_grad():
    out_train_1, out_train_2 = cnn(batch), cnn(batch)
print("train mode:                 two passes equal:", torch.equal(out_train_1, out_train_2))
assert not torch.equal(out_train_1, out_train_2)

cnn.classifier[1].eval()  # Dropout off, BatchNorm still in training mode
with torch.no_grad():
    out_bn_1, out_bn_2 = cnn(batch), cnn(batch)
print("train mode, Dropout eval(): two passes equal:", torch.equal(out_bn_1, out_bn_2))
assert torch.equal(out_bn_1, out_bn_2)

cnn.eval()
with torch.no_grad():
    out_eval_1, out_eval_2 = cnn(batch), cnn(batch)
print("eval mode:                  two passes equal:", torch.equal(out_eval_1, out_eval_2))
assert torch.equal(out_eval_1, out_eval_2)
assert not torch.allclose(out_eval_1, out_bn_1)

cnn_bn = cnn.features[1]
print("BatchNorm batches seen so far:", cnn_bn.num_batches_tracked.item())
print("running_mean[:4]:", [round(m, 4) for m in cnn_bn.running_mean[:4].tolist()])

# %%
# The state_dict
# --------------
# ``state_dict()`` maps names to tensors: every parameter plus every *buffer*, state that is
# saved with the model but not learned by gradient descent, such as BatchNorm's
# ``running_mean``, ``running_var`` and ``num_batches_tracked``. That is why it has more entries
# than ``named_parameters()``. Saving and loading it is the subject of
# `Checkpointing <../06_checkpointing/>`_.
state = cnn.state_dict()
param_names = {name for name, _ in cnn.named_parameters()}
for key, value in state.items():
    kind = "parameter" if key in param_names else "buffer"
    print(f"{key:<32} {kind:<10} {tuple(value.shape)}")
print(len(state), "entries,", len(param_names), "of them parameters")

# %%
# Moving a model to the accelerator
# ---------------------------------
# ``model.to(device)`` moves all parameters and buffers in place. Inputs must be on the same
# device as the model.
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
cnn.to(device)
with torch.no_grad():
    preds = cnn(images[:8].to(device)).argmax(dim=1)
assert next(cnn.parameters()).device.type == device.type
print("predicted classes on the device, shape:", tuple(preds.shape))

# %%
# Exercises
# ---------
# Each exercise gives you a module to complete and a checker that builds it, runs it on fixed
# inputs and prints ``correct``, or ``not correct:`` with the expected and the actual values.
# Edit the class and run its cell again. Every exercise cell is self-contained, so it also
# works on its own in the downloaded notebook. A reference solution follows each exercise,
# collapsed.

# %%
# Exercise 1: register learnable parameters
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``ScaleShift(num_features)``, a module with two learnable tensors of shape
# ``(num_features,)``: ``scale``, initialised to ones, and ``shift``, initialised to zeros.
# Its ``forward(x)`` returns ``x * scale + shift``. ``check_scale_shift`` looks for the two
# parameters in ``named_parameters()``, then checks the output and the gradients.
import torch
from torch import nn


def check_scale_shift(candidate) -> bool:
    """Build ``candidate(3)`` and test it; print 'correct' or what is wrong; return bool."""
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    try:
        module = candidate(3)
        shapes = {name: tuple(p.shape) for name, p in module.named_parameters()}
        if shapes != {"scale": (3,), "shift": (3,)}:
            print(
                f"not correct: expected parameters {{'scale': (3,), 'shift': (3,)}}, got {shapes}"
            )
            return False
        if not (
            torch.equal(module.scale, torch.ones(3)) and torch.equal(module.shift, torch.zeros(3))
        ):
            print(
                "not correct: expected scale [1.0, 1.0, 1.0] and shift [0.0, 0.0, 0.0] at first, "
                f"got {module.scale.tolist()} and {module.shift.tolist()}"
            )
            return False
        with torch.no_grad():
            module.scale.copy_(torch.tensor([1.0, -1.0, 0.5]))
            module.shift.copy_(torch.tensor([0.0, 10.0, -1.0]))
        out = module(x)
        expected = x * torch.tensor([1.0, -1.0, 0.5]) + torch.tensor([0.0, 10.0, -1.0])
        if not isinstance(out, torch.Tensor) or not torch.allclose(out, expected):
            got = out.tolist() if isinstance(out, torch.Tensor) else repr(out)
            print(f"not correct: expected output {expected.tolist()}, got {got}")
            return False
        out.sum().backward()
    except Exception as exc:
        print(f"not correct: it raised {type(exc).__name__}: {exc}")
        return False
    if module.scale.grad is None or not torch.allclose(module.scale.grad, x.sum(dim=0)):
        print(f"not correct: expected scale.grad {x.sum(dim=0).tolist()}, got {module.scale.grad}")
        return False
    print("correct")
    return True


class ScaleShift(nn.Module):
    def __init__(self, num_features):
        super().__init__()
        # Your code here: create self.scale and self.shift.

    def forward(self, x):
        # Your code here.
        return None


check_scale_shift(ScaleShift)


# %% tags=["solution"]
# Reference solution.
class ScaleShift(nn.Module):
    def __init__(self, num_features):
        super().__init__()
        # nn.Parameter registers the tensors; a plain torch.ones(...) attribute would not be
        # in parameters(), so an optimizer would never update it.
        self.scale = nn.Parameter(torch.ones(num_features))
        self.shift = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        return x * self.scale + self.shift


assert check_scale_shift(ScaleShift)

# %%
# Exercise 2: a CNN on a parameter budget
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``SmallCNN()``, a module that maps a batch of 8x8 one-channel digit images of shape
# ``(N, 1, 8, 8)`` to ``(N, 10)`` logits, uses at least one ``nn.Conv2d`` and has fewer than
# 2,000 parameters (``DigitCNN`` above has more than 5,000). The shape table at the top of this
# page helps with the size that reaches the ``Linear`` layer. ``check_small_cnn`` runs it on
# batches of 5 and of 1, in evaluation mode, and counts its parameters.
import torch
from torch import nn


def check_small_cnn(candidate) -> bool:
    """Build ``candidate()`` and test it; print 'correct' or what is wrong; return bool."""
    gen = torch.Generator().manual_seed(0)
    try:
        model = candidate()
        if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
            print("not correct: expected at least one nn.Conv2d, found none")
            return False
        n_params = sum(p.numel() for p in model.parameters())
        if not 0 < n_params < 2000:
            print(f"not correct: expected between 1 and 1,999 parameters, got {n_params:,}")
            return False
        model.eval()
        with torch.no_grad():
            for n in (5, 1):
                out = model(torch.rand(n, 1, 8, 8, generator=gen))
                if not isinstance(out, torch.Tensor) or out.shape != (n, 10):
                    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else repr(out)
                    print(f"not correct: for {n} images expected shape ({n}, 10), got {shape}")
                    return False
    except Exception as exc:
        print(f"not correct: expected (N, 10) logits, it raised {type(exc).__name__}: {exc}")
        return False
    print("correct")
    return True


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        # Your code here: the layers.

    def forward(self, x):
        # Your code here.
        return None


check_small_cnn(SmallCNN)


# %% tags=["solution"]
# Reference solution.
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),  # 8 x 8 x 8, 80 parameters
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8 x 4 x 4
            nn.Conv2d(8, 16, kernel_size=3, padding=1),  # 16 x 4 x 4, 1,168 parameters
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16 x 2 x 2
        )
        self.head = nn.Linear(16 * 2 * 2, 10)  # 650 parameters, 1,898 in all

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


assert check_small_cnn(SmallCNN)

# %%
# Summary
# -------
# * An ``nn.Module`` registers ``nn.Parameter`` attributes and sub-modules automatically; our
#   hand-written linear layer matched ``nn.Linear`` exactly.
# * Conv2d, MaxPool2d, BatchNorm2d, Dropout, Flatten and Linear each have a predictable effect
#   on the ``(N, C, H, W)`` shape.
# * ``nn.Sequential`` chains layers; a custom ``forward`` handles everything else.
# * ``parameters()`` and ``named_parameters()`` count and list what will be learned;
#   ``state_dict()`` adds the buffers.
# * ``train()`` and ``eval()`` switch Dropout and BatchNorm between their two behaviours.
#
# Where to go next
# ----------------
# `Data <../04_data/>`_ shows how to feed models with ``Dataset`` and ``DataLoader``.
