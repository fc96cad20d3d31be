"""
Data: Dataset, DataLoader and transforms
========================================

A model learns from batches of examples, and PyTorch splits the job of producing them in
two: a ``Dataset`` returns *one* example by index, and a ``DataLoader`` turns a dataset into
shuffled batches, optionally prepared by worker processes. This tutorial builds both from real
data and walks through the options you will set in every project.

**What you will learn**

* what ``Dataset`` and ``TensorDataset`` are, and how to write a custom ``Dataset`` over a CSV file
* how ``random_split`` makes a reproducible train/validation split
* what ``batch_size``, ``shuffle``, ``drop_last``, ``num_workers`` and ``pin_memory`` do
* how random numbers behave in worker processes, and when a dataset needs ``worker_init_fn``
* how a ``collate_fn`` pads variable-length items into one batch
* how ``torchvision.transforms.v2`` augments images, and how ``ImageFolder`` reads a folder of
  images

**Prerequisites**

* `Tensors <../01_tensors/>`_
* `Modules <../03_modules/>`_ (for context; no model is trained on this page)

The data is scikit-learn's bundled handwritten digits (1,797 real 8x8 scans), so the page runs
offline in seconds. The real ``torchvision.datasets.MNIST`` code is shown as well, but it only
runs when MNIST is already on your disk. Sizes are small on purpose; for a real run use your own
data, larger batches and a few more workers.
"""

# %%
# The data: real handwritten digits
# ---------------------------------
# ``load_digits`` ships with scikit-learn, so nothing is downloaded. Each scan is an 8x8 grid of
# integers from 0 (blank) to 16 (full ink). We scale them to ``[0, 1]`` and add a channel
# dimension, because PyTorch images are laid out as ``(channels, height, width)``.
import torch
from sklearn.datasets import load_digits

torch.manual_seed(0)
digits = load_digits()
images = (torch.from_numpy(digits.images).float() / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
labels = torch.from_numpy(digits.target).long()
print("images:", tuple(images.shape), images.dtype)
print("pixel range:", images.min().item(), "to", images.max().item())
print("labels:", tuple(labels.shape), labels.dtype, "classes", labels.unique().tolist())

# %%
# ``TensorDataset``: a dataset from tensors you already have
# ----------------------------------------------------------
# A *map-style* dataset is any object with ``__len__`` and ``__getitem__(i)``. ``TensorDataset``
# wraps tensors that share their first dimension and returns the ``i``-th row of each, as a
# tuple. It is the quickest way to feed in-memory data to a ``DataLoader``.
from torch.utils.data import TensorDataset

full_ds = TensorDataset(images, labels)
x0, y0 = full_ds[0]
print("len(full_ds):", len(full_ds))
print("full_ds[0]: image", tuple(x0.shape), "label", y0.item())

# %%
# A custom ``Dataset`` over a CSV file
# ------------------------------------
# Real data usually arrives as files. We write the digits to a CSV file in a temporary directory
# (a header, then one row per scan: the label and 64 pixel values) and read it back with our own
# ``Dataset`` subclass. A custom dataset needs only ``__len__`` and ``__getitem__``; the optional
# ``transform`` is applied per item, which is where augmentation goes. This class parses the
# whole file once in ``__init__``, which is right for small data; for data that does not fit in
# memory, keep only file names there and open one file per ``__getitem__`` call (``ImageFolder``
# below does exactly that).
import csv
import tempfile
from pathlib import Path

from torch.utils.data import Dataset

tmp = tempfile.TemporaryDirectory()
root = Path(tmp.name)
csv_path = root / "digits.csv"
with csv_path.open("w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["label"] + [f"p{i}" for i in range(64)])
    for img, y in zip(digits.images, digits.target):
        writer.writerow([int(y)] + img.astype(int).ravel().tolist())
print(f"wrote {csv_path.name}: {csv_path.stat().st_size:,} bytes")


class DigitsCSV(Dataset):
    """Digits stored as CSV rows: ``label,p0,...,p63`` with pixel values 0..16."""

    def __init__(self, path, transform=None):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))[1:]  # skip the header
        table = torch.tensor([[int(v) for v in row] for row in rows])
        self.labels = table[:, 0]
        self.images = table[:, 1:].reshape(-1, 1, 8, 8).float() / 16.0
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = self.images[idx]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[idx])


csv_ds = DigitsCSV(csv_path)
x5, y5 = csv_ds[5]
print("len(csv_ds):", len(csv_ds), "| csv_ds[5]:", tuple(x5.shape), "label", y5)
assert torch.equal(csv_ds.images, images) and torch.equal(csv_ds.labels, labels)
print("CSV dataset matches the in-memory tensors exactly: True")

# %%
# ``random_split``: a reproducible train/validation split
# -------------------------------------------------------
# ``random_split`` returns ``Subset`` views (no data is copied). Lengths can be counts or
# fractions. Pass a seeded ``torch.Generator`` so the split is the same on every run, and does
# not depend on how much of the global random stream other code has used.
from torch.utils.data import random_split

train_ds, val_ds = random_split(csv_ds, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
print("train:", len(train_ds), "| val:", len(val_ds))
print("first validation indices:", val_ds.indices[:8])

_, val_again = random_split(csv_ds, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
assert val_again.indices == val_ds.indices
assert not set(train_ds.indices) & set(val_ds.indices)
print("same seed gives the same split, and train/val do not overlap: True")

# %%
# Batching, shuffling and ``drop_last``
# -------------------------------------
# The ``DataLoader`` draws indices from a *sampler*, fetches the items and *collates* them into
# batch tensors (it stacks images into ``(B, 1, 8, 8)`` and turns the ``int`` labels into a
# tensor). ``shuffle=True`` draws a new order every epoch, from the ``generator`` you pass.
# Validation data needs no shuffling.
from torch.utils.data import DataLoader

train_loader = DataLoader(
    train_ds, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0)
)
val_loader = DataLoader(val_ds, batch_size=256, shuffle=False)

xb, yb = next(iter(train_loader))
print("one batch:", tuple(xb.shape), xb.dtype, "| labels", tuple(yb.shape), yb.dtype)
sizes = [len(yb) for _, yb in train_loader]
print(f"train: {len(train_loader)} batches, first {sizes[0]}, last {sizes[-1]}")
print(f"val:   {len(val_loader)} batches of sizes {[len(yb) for _, yb in val_loader]}")

epoch1 = next(iter(train_loader))[1][:12].tolist()
epoch2 = next(iter(train_loader))[1][:12].tolist()
print("first labels, epoch 1:", epoch1)
print("first labels, epoch 2:", epoch2, "(a new order every epoch)")

# %%
# The last batch is smaller when the dataset size is not a multiple of ``batch_size``. That is
# fine for most models; pass ``drop_last=True`` when a layer needs full batches (for example
# batch norm with a batch of one), and the incomplete batch is skipped.
drop_loader = DataLoader(
    train_ds,
    batch_size=64,
    shuffle=True,
    drop_last=True,
    generator=torch.Generator().manual_seed(0),
)
drop_sizes = [len(yb) for _, yb in drop_loader]
print(f"drop_last=True: {len(drop_loader)} batches, all of size {set(drop_sizes)}")
print("items skipped per epoch:", len(train_ds) - sum(drop_sizes))

# %%
# ``num_workers`` and ``pin_memory``
# ----------------------------------
# With ``num_workers=0`` (the default) batches are prepared in the main process, between training
# steps. With ``num_workers=k`` the loader starts ``k`` worker processes that each build whole
# batches in the background, so loading overlaps with training. That pays off when
# ``__getitem__`` is slow (decoding files, augmenting); for in-memory tensors like these it is
# pure overhead. ``pin_memory=True`` puts batches in page-locked host memory, which makes
# ``.to(device, non_blocking=True)`` copies to an accelerator faster and asynchronous. Without an
# accelerator it does nothing useful, and on Apple's MPS it is not supported yet: in both cases
# the loader leaves the batches unpinned and warns. So we turn it on for the other accelerators
# only (CUDA, ROCm, XPU...).
#
# .. note::
#    On Linux (up to Python 3.13) workers are *forked*, copies of the running program. On macOS
#    and Windows (and Linux from Python 3.14) each worker is a fresh interpreter that imports
#    your script again and receives the dataset pickled. So create loaders with workers under
#    ``if __name__ == "__main__":`` (a worker importing the script skips that block; without it
#    the worker would start workers of its own, which Python stops with an error), and use a
#    dataset class a worker can import: ``TensorDataset`` or a class defined in a script or
#    module, not one defined in a notebook cell. This cell does both, so it runs as a script
#    and in a notebook everywhere. In your own scripts, put all but imports and definitions in
#    a ``main()`` called under the guard. This page is one long script, so where workers are
#    not forked each of them first re-runs all of its top-level code: the eight workers it
#    starts make it run nine times over, printouts included.
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
pin_memory = device.type not in ("cpu", "mps")

tensor_train = TensorDataset(images[train_ds.indices], labels[train_ds.indices])
loader_kwargs = {"batch_size": 64, "shuffle": True, "pin_memory": pin_memory}

if __name__ == "__main__":  # only the main program starts workers
    serial = DataLoader(tensor_train, generator=torch.Generator().manual_seed(0), **loader_kwargs)
    parallel = DataLoader(
        tensor_train, generator=torch.Generator().manual_seed(0), num_workers=2, **loader_kwargs
    )
    n_batches = 0
    for (xs, ys), (xp, yp) in zip(serial, parallel, strict=True):
        assert torch.equal(xs, xp) and torch.equal(ys, yp)
        pinned = xp.is_pinned()
        assert pinned == pin_memory
        xp = xp.to(device, non_blocking=pin_memory)  # asynchronous copy when memory is pinned
        n_batches += 1
    print(f"num_workers=2: {n_batches} batches, identical to num_workers=0: True")
    print(f"device {device.type}, pin_memory={pin_memory}: batches pinned: {pinned}")

# %%
# The order stays identical because the *sampler* runs in the main process; workers only fetch
# and collate.

# %%
# Random numbers in workers
# -------------------------
# Random draws inside ``__getitem__``, on the other hand, happen in the workers. Each worker
# seeds the global generators itself: ``torch`` and Python's ``random`` with
# ``base_seed + worker_id`` (the loader draws ``base_seed`` from its ``generator``, or from
# torch's global one when it has none), and NumPy's global generator (``np.random.random()``
# and friends) from the same two numbers. A generator *object* that the dataset creates in
# ``__init__``, such as a NumPy ``Generator``, is another story: every worker receives a copy
# of the dataset, generator included, in the same state, and draws the same numbers.
#
# The dataset below makes each item one draw from each of these generators, and records which
# worker fetched it. Its class and the function after it are defined at the top level of the
# script, so that a worker which imports the script finds them; in a notebook they reach the
# workers only where these are forked, hence the check.
import random

import numpy as np
from torch.multiprocessing import get_start_method
from torch.utils.data import get_worker_info


class Draws(Dataset):
    """Item ``i``: the worker that fetched it, and one draw from each random generator."""

    def __init__(self, n):
        self.n = n
        self.rng = np.random.default_rng(0)  # created once, in the main process

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {
            "worker": get_worker_info().id,
            "random": random.random(),
            "np.random": np.random.random(),
            "torch": torch.rand(()).item(),
            "own Generator": self.rng.random(),
        }


def draw_table(batches):
    """One row per generator: the draws of each worker, and whether the workers agree."""
    # Workers take turns: with two of them, batch 0 comes from worker 0 and batch 1 from worker 1.
    assert [b["worker"].unique().tolist() for b in batches] == [[0], [1]]
    print(f"{'generator':>13}   {'worker 0':<15} {'worker 1':<15} same in both workers")
    same = {}
    for name in ("random", "np.random", "torch", "own Generator"):
        w0, w1 = (b[name].tolist() for b in batches)
        same[name] = w0 == w1
        print(f"{name:>13}   {w0[0]:.4f} {w0[1]:.4f}   {w1[0]:.4f} {w1[1]:.4f}   {same[name]}")
    return same


workers_find_draws = get_start_method() == "fork" or "__file__" in globals()
if __name__ == "__main__" and workers_find_draws:
    loader = DataLoader(
        Draws(4), batch_size=2, num_workers=2, generator=torch.Generator().manual_seed(0)
    )
    same = draw_table(list(loader))
    assert not same["random"] and not same["np.random"] and not same["torch"]
    assert same["own Generator"]  # every worker started from the same copy
elif __name__ == "__main__":
    print("skipped: spawned workers cannot import a notebook's Draws; run the script instead")

# %%
# Random augmentation with such a generator gives every worker the same "random" crops and
# noise, so with ``k`` workers the model sees each draw ``k`` times. The fix is to reseed the
# dataset's generator in each worker, from the seed the loader gave that worker:
# ``worker_init_fn`` runs in every worker before it loads anything, and ``get_worker_info()``
# returns the worker's ``seed`` and its copy of the dataset. (Or create the generator lazily,
# on the first ``__getitem__`` call, from ``get_worker_info().seed``; outside a worker, with
# ``num_workers=0``, ``get_worker_info()`` returns ``None``.) The seeds come from the loader's
# ``generator``, so a seeded loader repeats the same draws.


def reseed_worker(worker_id):
    info = get_worker_info()  # this worker's id, seed and copy of the dataset
    info.dataset.rng = np.random.default_rng(info.seed)


if __name__ == "__main__" and workers_find_draws:
    runs = []
    for _ in range(2):  # two loaders seeded alike
        loader = DataLoader(
            Draws(4),
            batch_size=2,
            num_workers=2,
            worker_init_fn=reseed_worker,
            generator=torch.Generator().manual_seed(0),
        )
        runs.append(list(loader))
    same = draw_table(runs[0])
    assert not same["own Generator"]
    repeated = all(torch.equal(a[key], b[key]) for a, b in zip(*runs) for key in a)
    assert repeated
    print("a second loader seeded alike draws the same numbers:", repeated)

# %%
# ``collate_fn``: batching variable-length items
# ----------------------------------------------
# The default collate function stacks items, so they must all have the same shape. Sequences
# (sentences, audio, time series) usually do not. To get variable-length data from the digits,
# read each scan as the sequence of its inked pixels, row by row. Any object with ``__len__``
# and ``__getitem__`` is a dataset, even a plain list of ``(sequence, label)`` pairs.
flat = images.flatten(1)
ink_sequences = [(row[row > 0], int(y)) for row, y in zip(flat[:100], labels[:100])]
print("sequence lengths of the first 6 items:", [len(s) for s, _ in ink_sequences[:6]])

try:
    next(iter(DataLoader(ink_sequences, batch_size=4)))
except RuntimeError as err:
    print(f"default collate fails: {type(err).__name__}: {err}")

# %%
# A custom ``collate_fn`` receives the list of items of one batch and builds the batch itself.
# ``pad_sequence`` pads every sequence to the longest one in the batch (not in the dataset), and
# we also return the true lengths so a model can ignore the padding, for example with a mask or
# ``torch.nn.utils.rnn.pack_padded_sequence``.
from torch.nn.utils.rnn import pad_sequence


def pad_collate(batch):
    sequences, targets = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    padded = pad_sequence(sequences, batch_first=True, padding_value=0.0)
    return padded, lengths, torch.tensor(targets)


seq_loader = DataLoader(ink_sequences, batch_size=4, collate_fn=pad_collate)
padded, lengths, targets = next(iter(seq_loader))
mask = torch.arange(padded.shape[1]) < lengths[:, None]  # True on real values
print("padded:", tuple(padded.shape), "| lengths:", lengths.tolist(), "| labels:", targets.tolist())
print(f"row 1 (length {lengths[1]}), last 6 values:", padded[1, -6:].tolist())
assert mask.sum() == lengths.sum() and (padded[~mask] == 0).all()
print("mask marks exactly the real values, padding is all zeros: True")

# %%
# Augmentation with ``torchvision.transforms.v2``
# -----------------------------------------------
# Augmentation applies small random changes to each training image, so the model sees a slightly
# different version every epoch. The ``v2`` transforms work on tensors of shape ``(C, H, W)``;
# they draw from torch's global random generator, so seeding it makes them reproducible. We
# first upscale the 8x8 scans to 32x32 so that rotations and shears have pixels to work with.
# Choose transforms that keep the label valid: a rotated 3 is still a 3, but a horizontally
# flipped 3 is not, so there is no ``RandomHorizontalFlip`` here.
import matplotlib.pyplot as plt
from torchvision.transforms import v2

bilinear = v2.InterpolationMode.BILINEAR
upscale = v2.Resize((32, 32), interpolation=bilinear, antialias=True)
augment = v2.Compose(
    [
        upscale,
        v2.RandomRotation(degrees=20, interpolation=bilinear),
        v2.RandomAffine(
            degrees=0, translate=(0.1, 0.1), scale=(0.8, 1.1), shear=10, interpolation=bilinear
        ),
        v2.RandomApply([v2.GaussianBlur(kernel_size=3, sigma=(0.5, 1.0))], p=0.3),
    ]
)

torch.manual_seed(0)
n_digits, n_versions = 4, 5
fig, axes = plt.subplots(n_digits, n_versions + 1, figsize=(6, 4))
for row in range(n_digits):
    image = csv_ds[row][0]
    versions = [upscale(image)] + [augment(image) for _ in range(n_versions)]
    for col, version in enumerate(versions):
        ax = axes[row, col]
        ax.imshow(version.squeeze(0).numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_title("original", fontsize=9)
for col in range(1, n_versions + 1):
    axes[0, col].set_title(f"random {col}", fontsize=9)
fig.suptitle(f"{n_digits} scans, {n_versions} random augmentations of each", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# The same transform plugs into the dataset, so every item is augmented when it is loaded
# (and, with workers, in parallel with training):
aug_ds = DigitsCSV(csv_path, transform=augment)
aug_loader = DataLoader(
    aug_ds, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0)
)
xa, ya = next(iter(aug_loader))
print("augmented batch:", tuple(xa.shape), "| value range", f"{xa.min():.2f} to {xa.max():.2f}")

# %%
# ``ImageFolder``: a folder of image files
# ----------------------------------------
# Image datasets often come as one sub-folder per class. ``ImageFolder`` scans such a tree, maps
# the sorted folder names to class indices and loads one file per ``__getitem__`` call. We write
# 20 scans of each digit as PNG files (``train/<digit>/<index>.png``) and load them back.
# The default loader opens files with Pillow as RGB; ours keeps the single grey channel, and
# ``ToImage`` turns the Pillow image into a ``uint8`` tensor of shape ``(1, H, W)``.
from PIL import Image
from torchvision.datasets import ImageFolder

folder = root / "train"
counts = {}
for idx, (img, y) in enumerate(zip(digits.images, digits.target)):
    if counts.get(y, 0) == 20:
        continue
    counts[y] = counts.get(y, 0) + 1
    (folder / str(y)).mkdir(parents=True, exist_ok=True)
    pixels = (img * 255 / 16).round().astype("uint8")  # 0..16 -> 0..255
    Image.fromarray(pixels).save(folder / str(y) / f"{idx:04d}.png")


def load_grey(path):
    with Image.open(path) as im:
        return im.convert("L")


png_ds = ImageFolder(
    folder,
    loader=load_grey,
    transform=v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]),  # 0..1 floats
)
print("classes:", png_ds.classes)
print("number of images:", len(png_ds))
first_path, first_label = png_ds.samples[0]
print("first file:", Path(first_path).relative_to(root).as_posix(), "-> class", first_label)

png_loader = DataLoader(
    png_ds, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0)
)
xi, yi = next(iter(png_loader))
print("batch:", tuple(xi.shape), xi.dtype, "| labels", yi[:10].tolist())

# %%
# The round trip is faithful: a pixel of 0..16 scaled to 0..255 and back gives the original.
restored = (png_ds[0][0] * 16).round()
original = torch.from_numpy(digits.images[int(Path(first_path).stem)]).float()
assert torch.equal(restored.squeeze(0), original)
print("PNG round trip reproduces the original scan: True")

# %%
# The real thing: MNIST with ``torchvision.datasets``
# ---------------------------------------------------
# ``torchvision.datasets.MNIST`` is a ready-made ``Dataset`` of 28x28 digits and plugs into a
# ``DataLoader`` exactly like the datasets above. A reader would normally pass
# ``download=True``; this page never downloads, so the code below only runs when MNIST is already
# in ``~/data`` and otherwise says it was skipped.
from torchvision import datasets

mnist_root = Path.home() / "data"
if (mnist_root / "MNIST" / "raw").is_dir():
    mnist = datasets.MNIST(
        mnist_root,
        train=True,
        download=False,  # use download=True to fetch it
        transform=v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]),
    )
    mnist_loader = DataLoader(
        mnist, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    xm, ym = next(iter(mnist_loader))
    print("MNIST train:", len(mnist), "images | batch", tuple(xm.shape))
else:
    print("MNIST is not in ~/data, so this step was skipped (nothing is downloaded here).")

# %%
# Clean up the temporary files:
tmp.cleanup()
print("temporary directory removed:", not root.exists())

# %%
# Exercises
# ---------
# Each exercise gives you something to complete and a checker that runs it on fixed inputs
# and prints ``correct``, or ``not correct:`` with the expected and the actual values. Edit
# your code and run its cell again. Every exercise cell is self-contained, so it also works on
# its own in the downloaded notebook. A reference solution follows each exercise, collapsed.

# %%
# Exercise 1: a CSV-backed Dataset with transforms
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# A CSV file starts with the header ``label,f0,f1,f2`` and then holds one example per row: an
# integer label and three decimal features. Write ``CSVDataset(path, transform=None)`` whose
# item ``i`` is ``(features, label)``: the row's features as a ``float32`` tensor of shape
# ``(3,)``, passed through ``transform`` when one is given, and the label as an ``int``. The
# transform runs on every read of an item, as a random augmentation must to give a new version
# each time. ``check_csv_dataset`` writes a five-row file into a temporary folder and reads it
# with your class, with and without a transform, directly and through a ``DataLoader``.
import csv
import tempfile
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset


def check_csv_dataset(candidate) -> bool:
    """Read a fixed CSV file with ``candidate``; print 'correct' or what is wrong."""
    rows = [(3, 0.5, -1.0, 2.0), (0, 1.5, 0.0, -0.5), (7, -2.0, 4.0, 1.0)]
    rows += [(1, 0.25, 0.75, 3.0), (9, -1.25, 2.5, 0.0)]
    features = torch.tensor([row[1:] for row in rows])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "examples.csv"
        with path.open("w", newline="") as f:
            csv.writer(f).writerows([("label", "f0", "f1", "f2"), *rows])
        try:
            plain = candidate(path)
            doubled = candidate(path, transform=lambda x: 2 * x)
            if len(plain) != len(rows):
                print(f"not correct: expected {len(rows)} items, got len() = {len(plain)}")
                return False
            x, y = plain[2]
            if not (isinstance(x, torch.Tensor) and x.dtype == torch.float32):
                print(f"not correct: expected item 2's features as a float32 tensor, got {x!r}")
                return False
            if not isinstance(y, int):  # a float label would collate to a float tensor
                print(f"not correct: expected item 2's label as an int, got {y!r}")
                return False
            if not torch.equal(x, features[2]) or y != rows[2][0]:
                print(
                    f"not correct: expected item 2 = ({features[2].tolist()}, {rows[2][0]}), "
                    f"got ({x.tolist()}, {y!r})"
                )
                return False
            x2, y2 = doubled[4]
            if not torch.equal(x2, 2 * features[4]) or y2 != rows[4][0]:
                print(
                    "not correct: with transform=lambda x: 2 * x expected item 4 = "
                    f"({(2 * features[4]).tolist()}, {rows[4][0]}), got ({x2.tolist()}, {y2!r})"
                )
                return False
            calls = []

            def counting(x):  # a different result on every call, like a random augmentation
                calls.append(x)
                return x + len(calls)

            counted = candidate(path, transform=counting)
            calls.clear()
            reads = [counted[1][0].tolist() for _ in range(2)]  # item 1, read twice
            if len(calls) != 2:
                print(
                    f"not correct: reading item 1 twice ran the transform {len(calls)} times "
                    f"(features {reads[0]}, then {reads[1]}), expected 2 runs: apply it in "
                    "__getitem__, on every read"
                )
                return False
            xb, yb = next(iter(DataLoader(plain, batch_size=5)))
        except Exception as exc:
            print(f"not correct: it raised {type(exc).__name__}: {exc}")
            return False
    if not (torch.equal(xb, features) and yb.tolist() == [row[0] for row in rows]):
        print(
            f"not correct: expected the batch {features.tolist()} with labels "
            f"{[row[0] for row in rows]}, got {xb.tolist()} with {yb.tolist()}"
        )
        return False
    print("correct")
    return True


class CSVDataset(Dataset):
    def __init__(self, path, transform=None):
        # Your code here: read the file at ``path`` and keep what __getitem__ needs.
        self.transform = transform

    def __len__(self):
        return 0  # Your code here

    def __getitem__(self, idx):
        # Your code here: return (features, label).
        return None


check_csv_dataset(CSVDataset)


# %% tags=["solution"]
# Reference solution.
class CSVDataset(Dataset):
    def __init__(self, path, transform=None):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))[1:]  # skip the header
        self.labels = [int(row[0]) for row in rows]
        self.features = torch.tensor([[float(v) for v in row[1:]] for row in rows])
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        x = self.features[idx]
        if self.transform is not None:
            x = self.transform(x)  # per item, on the features only
        return x, self.labels[idx]


assert check_csv_dataset(CSVDataset)

# %%
# Exercise 2: a collate_fn for a fixed sequence length
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Some models need every sequence to have the same length, whatever the batch. Write
# ``collate_fixed(batch)`` for items ``(sequence, label)`` with 1-D float sequences of any
# length: it returns ``(padded, labels)``, where ``padded`` has shape ``(B, 6)`` (sequences
# longer than 6 keep their first 6 values, shorter ones are padded with zeros at the end) and
# ``labels`` is an ``int64`` tensor of shape ``(B,)``. ``check_collate`` passes it to a
# ``DataLoader`` as ``collate_fn``, over six sequences in batches of 4 and 2.
import torch
from torch.utils.data import DataLoader


def check_collate(candidate) -> bool:
    """Batch fixed sequences with ``candidate``; print 'correct' or what is wrong."""
    lengths = [3, 6, 9, 1, 2, 4]  # the second batch (2, 4) has no sequence as long as 6
    items = [(torch.arange(1.0, n + 1), label) for label, n in enumerate(lengths)]
    expected = torch.tensor(
        [[1, 2, 3, 0, 0, 0], [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [1, 0, 0, 0, 0, 0]]
        + [[1, 2, 0, 0, 0, 0], [1, 2, 3, 4, 0, 0]],
        dtype=torch.float32,
    )
    try:
        loader = DataLoader(items, batch_size=4, collate_fn=candidate)
        batches = [(padded, labels) for padded, labels in loader]
    except Exception as exc:
        print(f"not correct: it raised {type(exc).__name__}: {exc}")
        return False
    for start, (padded, labels) in zip((0, 4), batches):
        want, end = expected[start : start + 4], min(start + 4, len(lengths))
        if not isinstance(padded, torch.Tensor) or padded.shape != want.shape:
            shape = tuple(padded.shape) if isinstance(padded, torch.Tensor) else repr(padded)
            print(
                f"not correct: for lengths {lengths[start:end]} expected shape "
                f"{tuple(want.shape)}, got {shape}"
            )
            return False
        if not torch.equal(padded.float(), want):
            print(f"not correct: expected {want.tolist()}, got {padded.tolist()}")
            return False
        if not (isinstance(labels, torch.Tensor) and labels.dtype == torch.int64):
            print(f"not correct: expected labels as an int64 tensor, got {labels!r}")
            return False
        if labels.tolist() != list(range(start, end)):
            print(f"not correct: expected labels {list(range(start, end))}, got {labels.tolist()}")
            return False
    print("correct")
    return True


def collate_fixed(batch):
    # Your code here: return (padded, labels).
    return None, None


check_collate(collate_fixed)


# %% tags=["solution"]
# Reference solution.
def collate_fixed(batch, length=6):
    sequences, labels = zip(*batch)
    padded = torch.zeros(len(sequences), length)
    for row, seq in enumerate(sequences):
        kept = seq[:length]  # cut long sequences
        padded[row, : len(kept)] = kept  # the rest of the row stays zero
    return padded, torch.tensor(labels)


assert check_collate(collate_fixed)

# %%
# Summary
# -------
# * A ``Dataset`` returns one item by index; ``TensorDataset`` wraps tensors, and a custom
#   subclass needs only ``__len__`` and ``__getitem__``.
# * ``random_split`` with a seeded generator gives a reproducible, non-overlapping split.
# * The ``DataLoader`` batches, shuffles (from its ``generator``), can drop the incomplete last
#   batch, loads in worker processes with ``num_workers`` (start them under
#   ``if __name__ == "__main__":``) and pins memory for fast copies.
# * Workers seed ``torch``, ``random`` and NumPy's global generator themselves; a generator
#   that the dataset owns is copied into every worker, so reseed it in ``worker_init_fn`` from
#   ``get_worker_info().seed``.
# * A ``collate_fn`` builds batches from items of different lengths, here with ``pad_sequence``.
# * ``transforms.v2`` augments images per item; ``ImageFolder`` reads a class-per-folder tree.
#
# Where to go next
# ----------------
# `Training <../05_training/>`_ puts a ``DataLoader`` to work: a complete training and
# evaluation loop, losses, optimizers, schedulers and early stopping.
