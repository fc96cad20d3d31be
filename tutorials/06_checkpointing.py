"""
Checkpointing: saving, loading and resuming training
====================================================

Training runs crash, get preempted, or simply end, and the weights have to outlive the Python
process. This tutorial saves and loads models the recommended way (``state_dict`` files loaded
with ``weights_only=True``), writes complete training checkpoints, and proves with an assertion
that a run which was interrupted and resumed ends with *exactly* the same weights as a run that
was never interrupted.

**What you will learn**

* what a ``state_dict`` is, and how to save and load one
* why ``torch.load(..., weights_only=True)`` matters: loading an untrusted pickle runs code
* how ``map_location`` loads tensors onto another device
* how to save atomically, so a crash never leaves a half-written checkpoint behind
* what a full training checkpoint contains (model, optimizer, scheduler, epoch, RNG states), how
  to resume from it bit for bit, and how to keep the best model by validation loss

**Prerequisites**

* `Modules <../03_modules/>`_ and `Training <../05_training/>`_

The data is scikit-learn's bundled handwritten digits (1,797 real 8x8 scans) and the model a
small MLP, trained for a few epochs only: the point is the bookkeeping, not the accuracy. For a
real run, train longer and save a checkpoint every epoch (or every few minutes) as done here.
All files are written to a temporary directory that is removed at the end.
"""

# %%
# Setup: data, model and a scratch directory
# ------------------------------------------
# The model contains ``Dropout``, so training draws random numbers at every step; that makes the
# random-number state part of what a checkpoint must capture.
import tempfile
from pathlib import Path

import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")

digits = load_digits()
X = torch.from_numpy(digits.data).float() / 16.0
y = torch.from_numpy(digits.target).long()
train_ds, val_ds = random_split(
    TensorDataset(X, y), [0.8, 0.2], generator=torch.Generator().manual_seed(0)
)
val_loader = DataLoader(val_ds, batch_size=256)


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))


tmp = tempfile.TemporaryDirectory()
workdir = Path(tmp.name)
print(f"train {len(train_ds)} | val {len(val_ds)} | files go to a temporary directory")

# %%
# The ``state_dict``
# ------------------
# A module's ``state_dict()`` is an ordered dictionary from names to tensors: every parameter and
# buffer, and nothing else (no code, no class). Saving it with ``torch.save`` and loading it into
# a freshly built model of the same architecture is the standard way to persist weights.
torch.manual_seed(0)
model = make_model().to(device)
for name, tensor in model.state_dict().items():
    print(f"{name:10} {tuple(tensor.shape)}")

weights_path = workdir / "weights.pt"
torch.save(model.state_dict(), weights_path)

restored = make_model().to(device)  # a different random initialisation
result = restored.load_state_dict(torch.load(weights_path, weights_only=True))
print("load_state_dict:", result)
for (name, a), b in zip(model.state_dict().items(), restored.state_dict().values()):
    assert torch.equal(a, b), name
print("every tensor is equal after the round trip: True")

# %%
# Optimizers have a ``state_dict`` too. Adam keeps two running averages per parameter plus a step
# count, and resuming without them restarts those averages from zero.
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
nn.functional.cross_entropy(model(X[:32].to(device)), y[:32].to(device)).backward()
optimizer.step()
opt_state = optimizer.state_dict()
print("optimizer state_dict keys:", list(opt_state))
print("state kept for the first parameter:", sorted(opt_state["state"][0]))
print("hyper-parameters in param_groups:", sorted(opt_state["param_groups"][0])[:6], "...")

# %%
# ``weights_only=True``: never unpickle untrusted files
# -----------------------------------------------------
# ``torch.save`` uses Python's ``pickle``, and a pickle is a small *program*: while loading, it
# may call any function it names, with any arguments. A "model" downloaded from the internet can
# therefore run arbitrary code on your machine the moment you load it with
# ``weights_only=False``, which was the default before PyTorch 2.6 and is still needed to load a
# whole model saved with ``torch.save(model)``. The class below shows the mechanism harmlessly:
# unpickling it calls ``print``. A real attack would name ``os.system`` instead.
import pickle


class LoudPayload:
    """Stands in for a malicious object: unpickling it calls a function of its choice."""

    def __reduce__(self):
        return (print, ("    >>> this ran *during loading*, chosen by the file <<<",))


untrusted_path = workdir / "downloaded_model.pt"
torch.save({"weights": model.state_dict(), "extra": LoudPayload()}, untrusted_path)

print("plain pickle, i.e. torch.load(..., weights_only=False):")
torch.load(untrusted_path, weights_only=False)  # never do this with a file you did not create

print("torch.load(..., weights_only=True):")
try:
    torch.load(untrusted_path, weights_only=True)
except pickle.UnpicklingError as err:
    reason = [line.strip() for line in str(err).splitlines() if "Unsupported global" in line]
    print("    refused with", type(err).__name__)
    print("    reason:", reason[0].split(". ")[0] if reason else "(see the message)")

# %%
# With ``weights_only=True`` (the default since PyTorch 2.6, spelled out here) the unpickler only
# rebuilds tensors, primitive types and containers (dicts, lists, tuples), which is everything a
# ``state_dict`` or a training checkpoint needs. That is also why you should save
# ``model.state_dict()`` rather than ``torch.save(model)``: a whole-model pickle can only be
# loaded with ``weights_only=False`` and breaks when the class's code moves. If you must store
# your own types, allow them explicitly with ``torch.serialization.add_safe_globals``.

# %%
# ``map_location``: loading onto another device
# ---------------------------------------------
# Tensors remember the device they were saved from and are loaded back onto it, so a checkpoint
# written on a GPU fails to load on a CPU-only machine. ``map_location`` redirects them:
# ``map_location="cpu"`` always works, and ``map_location=device`` puts them where your model
# lives. (``load_state_dict`` copies values into the model's existing tensors, so it works from
# either.)
on_cpu = torch.load(weights_path, map_location="cpu", weights_only=True)
print("map_location='cpu': devices", sorted({t.device.type for t in on_cpu.values()}))
on_device = torch.load(weights_path, map_location=device, weights_only=True)
assert all(t.device.type == device.type for t in on_device.values())
print("map_location=device: every tensor is on the current device: True")
restored.load_state_dict(on_cpu)  # CPU tensors into a model on `device`: fine
print("CPU state_dict loaded into the model on the current device: True")

# %%
# Atomic saves
# ------------
# ``torch.save(obj, path)`` first truncates ``path`` and then writes into it. If the process dies
# in between (out of memory, preempted job, an object that cannot be pickled), the old
# checkpoint is gone and the new one is broken. Here a generator object, which pickle cannot
# handle, stands in for such a crash:
import os

last_path = workdir / "last.pt"
torch.save(model.state_dict(), last_path)
try:
    torch.save({"weights": model.state_dict(), "oops": (i for i in range(3))}, last_path)
except TypeError as err:
    print("torch.save failed:", err)
try:
    torch.load(last_path, weights_only=True)
except RuntimeError as err:
    print("and the previous checkpoint is destroyed, loading it raises", type(err).__name__)
else:
    print("the file still loads this time, but nothing guarantees it")

# %%
# The fix is to write to a temporary file *in the same directory* and then ``os.replace`` it
# over the target. The target then only ever holds a complete file, the old one or the new one:
# on Linux and macOS the replacement is atomic (POSIX requires it), so even a reader at that
# very moment sees one or the other. Within one file system, that is: ``os.replace`` cannot
# move a file to another one, which is why the temporary file goes in the target's directory.


def atomic_save(obj, path):
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())  # make sure the bytes are on disk before the rename
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


atomic_save(model.state_dict(), last_path)
try:
    atomic_save({"weights": model.state_dict(), "oops": (i for i in range(3))}, last_path)
except TypeError as err:
    print("atomic_save failed too:", err)
survivor = torch.load(last_path, weights_only=True)
assert all(torch.equal(survivor[k], v) for k, v in model.state_dict().items())
print("but the previous checkpoint is intact: True")
print("files in the directory:", sorted(p.name for p in workdir.iterdir()))

# %%
# A full training checkpoint
# --------------------------
# To *resume* training, rather than just reuse weights, a checkpoint needs everything that
# influences the rest of the run:
#
# * the model's and the optimizer's ``state_dict`` (Adam's running averages),
# * the scheduler's ``state_dict`` (where it is in the schedule) and the epoch number,
# * the random-number states: torch's CPU generator, and the accelerator's generator if there
#   is one (dropout on a GPU draws from it). If your loop also uses Python's ``random`` or
#   NumPy, save ``random.getstate()`` and your NumPy generator's ``bit_generator.state`` too,
# * the order of the data. Here each epoch's ``DataLoader`` gets a generator seeded with the
#   epoch number, so the order of epoch ``e`` depends on nothing else (the alternative is to
#   save the loader's generator state).
#
# We also keep the best model so far in its own file, judged by the validation loss as in
# `Training <../05_training/>`_: with a few hundred validation images, accuracy moves in coarse
# steps and ties often, while the loss changes smoothly.


def rng_states():
    states = {"torch_cpu": torch.get_rng_state()}
    if device.type != "cpu":
        states["accelerator"] = torch.get_device_module(device).get_rng_state()
    return states


def set_rng_states(states):
    torch.set_rng_state(states["torch_cpu"])
    if "accelerator" in states:
        torch.get_device_module(device).set_rng_state(states["accelerator"])


def build(seed):
    torch.manual_seed(seed)
    model = make_model().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


@torch.no_grad()
def validate(model):
    """Mean loss and accuracy on the validation set."""
    model.eval()
    total_loss, correct = 0.0, 0
    for xb, yb in val_loader:
        logits = model(xb.to(device))
        total_loss += nn.functional.cross_entropy(logits, yb.to(device), reduction="sum").item()
        correct += (logits.argmax(1) == yb.to(device)).sum().item()
    return total_loss / len(val_ds), correct / len(val_ds)


def train(model, optimizer, scheduler, start_epoch, end_epoch, ckpt_dir, best_loss=float("inf")):
    for epoch in range(start_epoch, end_epoch):
        loader = DataLoader(
            train_ds, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(epoch)
        )
        model.train()
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb.to(device)), yb.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()

        val_loss, val_acc = validate(model)
        is_best = val_loss < best_loss
        if is_best:
            best_loss = val_loss
            atomic_save(model.state_dict(), ckpt_dir / "best.pt")
        checkpoint = {
            "epoch": epoch + 1,  # the next epoch to run
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": rng_states(),
            "best_val_loss": best_loss,
        }
        atomic_save(checkpoint, ckpt_dir / "last.pt")
        note = " (best so far)" if is_best else ""
        lr = scheduler.get_last_lr()[0]
        print(f"  epoch {epoch}: val loss {val_loss:.4f}, acc {val_acc:.4f}{note}, next lr {lr:g}")
    return best_loss


# %%
# Run A: six epochs without interruption
# --------------------------------------
n_epochs = 6
dir_a = workdir / "run_a"
dir_a.mkdir()
model_a, optimizer_a, scheduler_a = build(seed=0)
best_a = train(model_a, optimizer_a, scheduler_a, 0, n_epochs, dir_a)

# %%
# Run B: interrupted after three epochs, then resumed
# ---------------------------------------------------
# Run B starts exactly like run A but "crashes" after three epochs. We then throw everything
# away and scramble the global random state, as a fresh process would. Resuming builds *new*
# objects (deliberately from a different seed, to show that loading overwrites it all), loads
# the checkpoint with ``weights_only=True`` and continues from the saved epoch. The checkpoint is
# loaded with ``map_location="cpu"``: ``set_rng_state`` needs CPU tensors, and
# ``load_state_dict`` moves model and optimizer tensors to the right device by itself. (We also
# keep a copy of the file the crash left, for one more experiment below.)
import shutil

dir_b = workdir / "run_b"
dir_b.mkdir()
model_b, optimizer_b, scheduler_b = build(seed=0)
train(model_b, optimizer_b, scheduler_b, 0, 3, dir_b)
del model_b, optimizer_b, scheduler_b  # the "crash"
crash_copy = shutil.copy(dir_b / "last.pt", workdir / "crash.pt")
torch.manual_seed(12345)

checkpoint = torch.load(dir_b / "last.pt", map_location="cpu", weights_only=True)
model_b, optimizer_b, scheduler_b = build(seed=1)
model_b.load_state_dict(checkpoint["model"])
optimizer_b.load_state_dict(checkpoint["optimizer"])
scheduler_b.load_state_dict(checkpoint["scheduler"])
set_rng_states(checkpoint["rng"])
print(f"resuming at epoch {checkpoint['epoch']}, lr {scheduler_b.get_last_lr()[0]:g}")
best_b = train(
    model_b,
    optimizer_b,
    scheduler_b,
    checkpoint["epoch"],
    n_epochs,
    dir_b,
    checkpoint["best_val_loss"],
)

# %%
# The proof: every parameter of the resumed run equals the uninterrupted run's, bit for bit, and
# so do the optimizer's running averages and the best model on disk.
for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
    assert torch.equal(a, b), name
for state_a, state_b in zip(
    optimizer_a.state_dict()["state"].values(), optimizer_b.state_dict()["state"].values()
):
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
best_file_a = torch.load(dir_a / "best.pt", weights_only=True)
best_file_b = torch.load(dir_b / "best.pt", weights_only=True)
assert best_a == best_b and all(torch.equal(best_file_a[k], best_file_b[k]) for k in best_file_a)
print("resumed run == uninterrupted run (weights, optimizer state, best model): True")

# %%
# Why the RNG state? Resume from the crash's checkpoint once more, exactly as run B did, but
# *forget* to restore the random state: dropout then draws different masks and the weights
# drift away from run A.
#
# The checkpoint is read again, from the copy of the file (run B has overwritten ``last.pt``
# since). The ``checkpoint`` dict run B resumed from no longer holds the crash's state:
# ``optimizer.load_state_dict`` keeps the tensors it is given, copying them only to move them to
# another device or dtype, and every optimizer step updates them in place. Load a checkpoint
# afresh for each resume (or ``copy.deepcopy`` it).
crash = torch.load(crash_copy, map_location="cpu", weights_only=True)
steps_saved = int(crash["optimizer"]["state"][0]["step"])
steps_now = int(checkpoint["optimizer"]["state"][0]["step"])
print(f"AdamW's steps in the file: {steps_saved}, in run B's dict now: {steps_now}")
assert steps_now > steps_saved

model_c, optimizer_c, scheduler_c = build(seed=1)
model_c.load_state_dict(crash["model"])
optimizer_c.load_state_dict(crash["optimizer"])
scheduler_c.load_state_dict(crash["scheduler"])
dir_c = workdir / "run_c"
dir_c.mkdir()
train(
    model_c,
    optimizer_c,
    scheduler_c,
    crash["epoch"],
    n_epochs,
    dir_c,
    crash["best_val_loss"],
)
same = all(torch.equal(a, c) for a, c in zip(model_a.parameters(), model_c.parameters()))
drift = max((a - c).abs().max().item() for a, c in zip(model_a.parameters(), model_c.parameters()))
print(f"without the RNG state: identical weights? {same} (largest difference {drift:.2e})")
assert not same

# %%
# Keeping the best model
# ----------------------
# ``last.pt`` is for resuming; ``best.pt`` holds the weights with the lowest validation loss
# seen so far, which is usually the model you deploy. Because it is a plain ``state_dict``,
# loading it needs only the model class. A run this short may still be improving at its last
# epoch, and then the best weights *are* the last ones; in a longer run that starts to overfit
# the two files part ways. The output says which happened here.
best_model = make_model().to(device)
best_model.load_state_dict(torch.load(dir_a / "best.pt", map_location=device, weights_only=True))
reloaded_loss, reloaded_acc = validate(best_model)
assert abs(reloaded_loss - best_a) < 1e-6
print(f"best.pt reproduces the best validation loss: {reloaded_loss:.4f} (acc {reloaded_acc:.4f})")
last_weights = torch.load(dir_a / "last.pt", map_location=device, weights_only=True)["model"]
best_is_last = all(torch.equal(last_weights[k], v) for k, v in best_model.state_dict().items())
print(f"best.pt holds the last epoch's weights: {best_is_last}")
print("files of run A:", sorted(p.name for p in dir_a.iterdir()))

# %%
# Clean up the temporary directory:
tmp.cleanup()
print("temporary directory removed:", not workdir.exists())

# %%
# Exercises
# ---------
# Each exercise gives you a starter to edit and a checker to call: the checker runs your code on
# fixed inputs and prints ``correct`` or what is wrong. The reference solution follows each
# exercise, folded away; try first, then compare. Every exercise cell imports what it needs, so
# it also runs on its own in a fresh notebook.

# %%
# Exercise 1: a checkpoint that resumes exactly
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``my_save_checkpoint(path, model, optimizer, scheduler, epoch)`` and
# ``my_load_checkpoint(path, model, optimizer, scheduler)``, which restores everything into the
# given (freshly built) objects and returns the epoch to continue from. The checker trains a
# small model with dropout for 4 epochs, and again for 2 epochs, saves, scrambles the random
# state, loads into new objects and trains the last 2 epochs: the weights must match exactly.
# Its scheduler cuts the learning rate tenfold after the third epoch, by counting the epochs
# it has seen: one resumed without its state counts from zero again and misses the cut.
# The file must load with ``weights_only=True``. Edit both functions and run the cell again:
# ``check_resume`` prints ``correct`` or what is wrong.
import tempfile
from pathlib import Path

import torch
from torch import nn


def check_resume(save_fn, load_fn) -> bool:
    """Interrupt a run with ``save_fn``, resume with ``load_fn``; compare with no interruption."""

    def build(seed):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.1)
        return model, optimizer, scheduler

    def train(model, optimizer, scheduler, start, end):
        for epoch in range(start, end):
            gen = torch.Generator().manual_seed(epoch)  # the data order depends on the epoch only
            x, y = torch.randn(32, 6, generator=gen), torch.randint(0, 3, (32,), generator=gen)
            model.train()
            for xb, yb in zip(x.split(8), y.split(8)):
                loss = nn.functional.cross_entropy(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            scheduler.step()

    with torch.random.fork_rng(), tempfile.TemporaryDirectory() as tmp:
        expected, optimizer, scheduler = build(seed=0)
        train(expected, optimizer, scheduler, 0, 4)  # the uninterrupted run

        model, optimizer, scheduler = build(seed=0)
        train(model, optimizer, scheduler, 0, 2)
        path = Path(tmp) / "last.pt"
        try:
            save_fn(path, model, optimizer, scheduler, 2)
            torch.load(path, weights_only=True)
        except Exception as exc:
            print(
                "not correct: saving, then torch.load(weights_only=True) raised "
                f"{type(exc).__name__}: {str(exc).split('. ')[0]}"
            )
            return False
        del model, optimizer, scheduler  # the "crash"
        torch.manual_seed(12345)  # a new process starts from another random state
        model, optimizer, scheduler = build(seed=1)  # and from other weights
        try:
            epoch = load_fn(path, model, optimizer, scheduler)
        except Exception as exc:
            print(f"not correct: loading raised {type(exc).__name__}: {exc}")
            return False
        if epoch != 2:
            print(f"not correct: expected the epoch to resume from, 2, got {epoch!r}")
            return False
        train(model, optimizer, scheduler, epoch, 4)

    pairs = zip(expected.parameters(), model.parameters())
    diff = max((a - b).abs().max().item() for a, b in pairs)
    if diff > 0:
        print(
            "not correct: expected the resumed weights to equal the uninterrupted run's, got a "
            f"largest difference of {diff:.2e} (optimizer? scheduler? random state?)"
        )
        return False
    print("correct")
    return True


def my_save_checkpoint(path, model, optimizer, scheduler, epoch):
    # Your code here: one dict with everything the rest of the run depends on.
    torch.save({"model": model.state_dict()}, path)


def my_load_checkpoint(path, model, optimizer, scheduler):
    # Your code here: restore everything, then return the epoch to continue from.
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    return None


check_resume(my_save_checkpoint, my_load_checkpoint)


# %% tags=["solution"]
# Reference solution.
def my_save_checkpoint(path, model, optimizer, scheduler, epoch):
    # The CPU random state decides the dropout masks of the remaining epochs. (On an
    # accelerator, save its generator's state as well, as rng_states above does.)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "torch_rng": torch.get_rng_state(),
    }
    torch.save(checkpoint, path)


def my_load_checkpoint(path, model, optimizer, scheduler):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    torch.set_rng_state(checkpoint["torch_rng"])
    return checkpoint["epoch"]


assert check_resume(my_save_checkpoint, my_load_checkpoint)

# %%
# Exercise 2: an atomic save
# ^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``my_atomic_save(obj, path)`` without looking back at ``atomic_save``: after it returns,
# ``path`` holds ``obj``; if saving fails, the error propagates, ``path`` still holds the
# previous file and no temporary file is left behind. While it runs, the checker points
# ``tempfile``'s default folder at a folder that does not exist, so a temporary file has to go
# where it belongs, in the folder of ``path``. Edit it and run the cell again:
# ``check_atomic_save`` prints ``correct`` or what is wrong.
import tempfile
from pathlib import Path
from unittest import mock

import torch


def check_atomic_save(candidate) -> bool:
    """Save, then make a save fail; the old file must survive, and nothing else may remain."""
    old, new = {"w": torch.arange(3.0)}, {"w": torch.ones(3)}
    unpicklable = {"w": torch.zeros(3), "oops": (i for i in range(3))}
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.object(tempfile, "tempdir", str(Path(tmp) / "system-temp")),
    ):
        path = Path(tmp) / "last.pt"
        try:
            candidate(old, path)
            candidate(new, path)
            saved = torch.load(path, weights_only=True)
        except Exception as exc:
            if tempfile.tempdir in str(exc):
                print(
                    "not correct: the temporary file went to the system's temporary folder; "
                    "create it in the folder of path (os.replace cannot move a file to "
                    "another file system, and that folder is often on another one)"
                )
                return False
            print(f"not correct: saving a plain dict raised {type(exc).__name__}: {exc}")
            return False
        if not torch.equal(saved["w"], new["w"]):
            print(f"not correct: expected {new} in the file, got {saved}")
            return False
        try:
            candidate(unpicklable, path)
        except Exception:
            pass  # expected: a generator cannot be pickled
        else:
            print("not correct: expected the failed save to raise, but it returned normally")
            return False
        try:
            survivor = torch.load(path, weights_only=True)
        except Exception as exc:
            reason = str(exc).split(". ")[0]
            print(
                "not correct: after a failed save, expected the previous file to load; "
                f"got {type(exc).__name__}: {reason}"
            )
            return False
        if not torch.equal(survivor["w"], new["w"]):
            print(f"not correct: after a failed save, expected {new}, got {survivor}")
            return False
        files = sorted(p.name for p in Path(tmp).iterdir())
        if files != ["last.pt"]:
            print(f"not correct: expected only ['last.pt'] in the directory, got {files}")
            return False
    print("correct")
    return True


def my_atomic_save(obj, path):
    # Your code here: write a temporary file next to ``path``, then replace ``path`` with it.
    torch.save(obj, path)


check_atomic_save(my_atomic_save)


# %% tags=["solution"]
# Reference solution.
def my_atomic_save(obj, path):
    # The temporary file lives in the same directory (replacing a file is atomic only within
    # one file system) and is removed if anything goes wrong.
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with open(fd, "wb") as f:
            torch.save(obj, f)
        Path(tmp_name).replace(path)  # calls os.replace
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


assert check_atomic_save(my_atomic_save)

# %%
# Summary
# -------
# * Save ``model.state_dict()``, load it into a freshly built model with
#   ``torch.load(path, weights_only=True)``; use ``map_location`` to change device.
# * Loading a pickle with ``weights_only=False`` can run arbitrary code: never do it with files
#   you did not create yourself.
# * Write checkpoints atomically: a temporary file in the same directory, then ``os.replace``.
# * A resumable checkpoint holds model, optimizer, scheduler, epoch and RNG states, and the data
#   order must be reproducible too; then a resumed run matches an uninterrupted one exactly.
# * Keep the best weights by validation loss in a separate file.
#
# Where to go next
# ----------------
# `Transfer learning <../07_transfer_learning/>`_ starts from saved weights instead of random
# ones: it loads a network trained on one task, freezes or replaces parts of it, and fine-tunes
# it on another.
