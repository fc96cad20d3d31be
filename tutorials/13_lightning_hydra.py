"""
Lightning and Hydra
===================

`Training <../05_training/>`_ wrote the training loop by hand: batches, ``zero_grad``,
``backward``, ``step``, validation, early stopping, keeping the best weights. Lightning's
``Trainer`` runs that loop for you once the model says what one step is, and Hydra turns the
run's settings (optimizer, learning rate, epochs) into a configuration you can compose and
override. This page trains tutorial 05's model both ways, proves that Lightning's checkpoint
holds exactly the weights of a plain PyTorch model, and then drives the same run, and a small
learning-rate sweep, from Hydra configs.

**What you will learn**

* how to write a ``LightningModule`` (``training_step``, ``validation_step``,
  ``configure_optimizers``) and train it with ``lightning.Trainer``
* how ``EarlyStopping`` and ``ModelCheckpoint`` replace the hand-written early stopping, and how
  to reload the best checkpoint, with Lightning or with plain ``torch.load``
* how to keep Lightning quiet and tidy: no progress bars, no information lines, no log
  folders, files only where you say
* how to build Hydra configs in Python (structured configs in the ``ConfigStore``), compose
  them with config groups and overrides, and run a sweep in-process

**Prerequisites**

* `Training <../05_training/>`_ (the loop this page automates) and `Checkpointing
  <../06_checkpointing/>`_
* the post `Beyond plain PyTorch: Lightning and Hydra <../../posts/lightning-hydra/>`_ for the
  ideas behind both libraries (optional)

The data is scikit-learn's bundled handwritten digits and the model is 05's small MLP, so each
training run takes seconds on a CPU; the sweep trains for a few epochs only. For a real
project, use more data, more epochs and a wider sweep: the code stays the same.
"""

# %%
# Data: the splits of tutorial 05
# -------------------------------
# The same 1,797 scans, flattened to 64 features in ``[0, 1]`` and split 70/15/15 with the same
# seed as in `Training <../05_training/>`_. ``make_loaders`` builds fresh loaders for a run;
# the training loader shuffles with its own seeded generator, so every run sees the batches in
# the same order.
#
# Lightning checks every ``DataLoader`` and, on a machine with spare cores, suggests worker
# processes (``num_workers``) to load batches in parallel. Workers started by ``fork`` (Linux,
# up to Python 3.13) cost little, so the page uses two there; with ``spawn`` (macOS, Windows)
# or ``forkserver`` (Linux from Python 3.14) each worker imports the script again, which needs
# an ``if __name__ == "__main__":`` guard, so there the page loads batches in the main process
# and Lightning prints its suggestion as a ``PossibleUserWarning``.
import torch
import torch.multiprocessing as mp
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset, random_split

digits = load_digits()
X = torch.from_numpy(digits.data).float() / 16.0
y = torch.from_numpy(digits.target).long()
train_ds, val_ds, test_ds = random_split(
    TensorDataset(X, y), [0.7, 0.15, 0.15], generator=torch.Generator().manual_seed(0)
)
workers = 2 if mp.get_start_method() == "fork" else 0
loader_options = {"num_workers": workers, "persistent_workers": workers > 0}


def make_loaders(batch_size=64, seed=0):
    train = DataLoader(
        train_ds,
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        **loader_options,
    )
    val = DataLoader(val_ds, batch_size=256, **loader_options)
    return train, val


print(f"train {len(train_ds)} | val {len(val_ds)} | test {len(test_ds)} | workers {workers}")

# %%
# The model as a ``LightningModule``
# ----------------------------------
# A ``LightningModule`` is an ``nn.Module`` that also says how to train itself:
#
# * ``training_step`` returns the loss of one batch. No ``backward()``, no ``step()``, no
#   ``.to(device)``: the ``Trainer`` does those.
# * ``validation_step`` computes metrics; ``self.log`` records them, averaged over the epoch.
# * ``configure_optimizers`` returns the optimizer.
# * ``save_hyperparameters()`` stores the constructor's arguments in ``self.hparams`` and in
#   every checkpoint, so that a checkpoint can rebuild the model.
import lightning as L
import torch.nn.functional as F
from torch import nn


def make_model(hidden=128):
    """Tutorial 05's model, in plain PyTorch."""
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


class LitDigits(L.LightningModule):
    def __init__(self, hidden=128, optimizer="adam", lr=1e-2, momentum=0.0):
        super().__init__()
        self.save_hyperparameters()
        self.net = make_model(hidden)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(dim=1) == y).float().mean())

    def configure_optimizers(self):
        if self.hparams.optimizer == "sgd":
            return torch.optim.SGD(
                self.parameters(), lr=self.hparams.lr, momentum=self.hparams.momentum
            )
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


print(LitDigits())
print(dict(LitDigits().hparams))

# %%
# Training with a ``Trainer``
# ---------------------------
# The ``Trainer`` owns the loop. ``accelerator="auto"`` picks the GPU or Apple-silicon device
# when there is one (the cell prints which), ``devices=1`` keeps a multi-GPU machine from starting
# distributed training. Two callbacks replace 05's hand-written early stopping:
# ``EarlyStopping`` stops after ``patience`` epochs without a better validation loss, and
# ``ModelCheckpoint`` saves the best epoch's weights. Everything that would write files goes
# into a temporary directory: the checkpoints, and nothing else, because ``logger=False``
# turns off the default log folder (``CSVLogger`` or TensorBoard otherwise). Progress bars
# and the model summary are turned off to keep the page short; keep them on at home.
#
# Lightning also reports through Python's ``logging``: every ``Trainer`` announces the GPUs
# and TPUs it found and advertises Lightning's cloud services, and ``fit`` says why it
# stopped. These are information lines, not warnings, and a page that trains a dozen times
# would show them a dozen times, so it raises the level of Lightning's logger to ``WARNING``,
# as Lightning's guide to console logging shows (the post does the same), and prints the
# device the run used itself. Warnings still show.
#
# A small ``Callback`` of our own records the validation metrics after every epoch.
#
# .. note::
#    Lightning 2.6 calls a PyTorch helper that recent PyTorch versions deprecate, so every
#    ``fit`` emits a ``FutureWarning`` about ``LeafSpec`` from inside Lightning (`Lightning
#    issue #21326 <https://github.com/Lightning-AI/pytorch-lightning/issues/21326>`_). Nothing
#    in your code causes it and no setting avoids it. ``lightning_leafspec_ignored`` ignores
#    that one warning, matched by its category and message and only around ``fit``, so that
#    any other warning still shows.
import contextlib
import logging
import tempfile
import warnings
from pathlib import Path

from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # hide the info lines


@contextlib.contextmanager
def lightning_leafspec_ignored():
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
            category=FutureWarning,
        )
        yield


class History(L.Callback):
    def __init__(self):
        self.rows = []

    def on_train_epoch_end(self, trainer, pl_module):
        metrics = trainer.callback_metrics
        self.rows.append(
            (
                trainer.current_epoch,
                metrics["train_loss"].item(),
                metrics["val_loss"].item(),
                metrics["val_acc"].item(),
            )
        )


tmp = tempfile.TemporaryDirectory()
L.seed_everything(0, verbose=False)  # seeds Python, NumPy and torch
model = LitDigits()
early_stopping = EarlyStopping(monitor="val_loss", mode="min", patience=3)
checkpoint = ModelCheckpoint(
    dirpath=Path(tmp.name) / "checkpoints",
    filename="best-{epoch:02d}-{val_loss:.4f}",
    monitor="val_loss",
    mode="min",
)
history = History()
trainer = L.Trainer(
    max_epochs=40,
    accelerator="auto",
    devices=1,
    callbacks=[early_stopping, checkpoint, history],
    default_root_dir=tmp.name,
    logger=False,
    enable_progress_bar=False,
    enable_model_summary=False,
)
train_loader, val_loader = make_loaders()
with lightning_leafspec_ignored():
    trainer.fit(model, train_loader, val_loader)

print(f"trained on: {trainer.strategy.root_device}")
for epoch, train_loss, val_loss, val_acc in history.rows:
    print(f"epoch {epoch:2d}: train loss {train_loss:.4f}", end=" | ")
    print(f"val loss {val_loss:.4f} | val acc {val_acc:.3f}")
print(f"ran {len(history.rows)} of 40 epochs, stopped early: {early_stopping.stopped_epoch > 0}")
print(f"best checkpoint: {Path(checkpoint.best_model_path).name}")
files = sorted(str(p.relative_to(tmp.name)) for p in Path(tmp.name).rglob("*") if p.is_file())
print(f"files written: {files}")
best_epoch = min(history.rows, key=lambda row: row[2])[0]
assert early_stopping.stopped_epoch > 0 and len(history.rows) < 40
assert f"epoch={best_epoch:02d}" in checkpoint.best_model_path

# %%
# The best checkpoint, reloaded two ways
# --------------------------------------
# A Lightning checkpoint is an ordinary ``torch.save`` file: a dict with the weights under
# ``"state_dict"`` (each name prefixed by the attribute, here ``net.``), the hyperparameters,
# the optimizer state and the callbacks' state. ``LitDigits.load_from_checkpoint`` rebuilds
# the module from the stored hyperparameters; plain PyTorch needs only ``torch.load`` and the
# model of tutorial 05. Both load with ``weights_only=True``, the safe mode that refuses to run
# code from the file. The two models must predict exactly the same logits.
best_path = checkpoint.best_model_path
lit = LitDigits.load_from_checkpoint(best_path, map_location="cpu", weights_only=True)

ckpt = torch.load(best_path, map_location="cpu", weights_only=True)
print(f"checkpoint keys: {sorted(ckpt)}")
print(f"hyperparameters: {ckpt['hyper_parameters']}")
plain = make_model(ckpt["hyper_parameters"]["hidden"])
plain.load_state_dict({k.removeprefix("net."): v for k, v in ckpt["state_dict"].items()})

X_test, y_test = (torch.stack(t) for t in zip(*test_ds))
lit.eval()
plain.eval()
with torch.no_grad():
    lit_logits, plain_logits = lit(X_test), plain(X_test)
identical = torch.equal(lit_logits, plain_logits)
test_acc = (plain_logits.argmax(dim=1) == y_test).float().mean().item()
print(f"identical logits on the {len(y_test)} test images: {identical}")
print(f"test accuracy {test_acc:.3f}")
assert identical
tmp.cleanup()  # the checkpoint has served its purpose

# %%
# Hydra: the run as a configuration
# ---------------------------------
# Hydra composes a configuration from pieces and lets you change any value from outside the
# code. Usually the pieces are YAML files in a ``conf/`` folder; here they are Python
# *structured configs* (dataclasses) registered in Hydra's ``ConfigStore``, so this one file
# holds everything, and the dataclasses also give each value a type that Hydra checks.
#
# * ``OptimizerConfig`` is a *config group*: two named options, ``adam`` and ``sgd``, each
#   with its own default learning rate.
# * ``RunConfig`` is the primary config. Its ``defaults`` list picks ``optimizer: adam``
#   unless an override chooses another option; ``_self_`` after it means that values written
#   in ``RunConfig`` win over those of the group.
from dataclasses import dataclass, field
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf


@dataclass
class OptimizerConfig:
    name: str = "adam"
    lr: float = 1e-2
    momentum: float = 0.0


@dataclass
class RunConfig:
    defaults: list[Any] = field(default_factory=lambda: [{"optimizer": "adam"}, "_self_"])
    optimizer: OptimizerConfig = MISSING
    hidden: int = 128
    batch_size: int = 64
    max_epochs: int = 40
    patience: int = 3
    seed: int = 0


store = ConfigStore.instance()
store.store(name="digits", node=RunConfig)
store.store(group="optimizer", name="adam", node=OptimizerConfig(name="adam", lr=1e-2))
store.store(group="optimizer", name="sgd", node=OptimizerConfig(name="sgd", lr=0.1, momentum=0.9))

with hydra.initialize(version_base="1.3"):
    cfg = hydra.compose(config_name="digits")
print(OmegaConf.to_yaml(cfg))

# %%
# Overrides
# ---------
# ``compose`` takes the same override strings as the command line. ``optimizer=sgd`` switches
# the whole group to its ``sgd`` option (learning rate *and* momentum); ``optimizer.lr=0.05``
# then changes one value; ``max_epochs=10`` changes a top-level value. Mistakes fail loudly:
# a value of the wrong type, a key that does not exist, an option that is not in the group.
with hydra.initialize(version_base="1.3"):
    sgd_cfg = hydra.compose(
        config_name="digits", overrides=["optimizer=sgd", "optimizer.lr=0.05", "max_epochs=10"]
    )
    print(OmegaConf.to_yaml(sgd_cfg.optimizer), end="")
    print(f"max_epochs: {sgd_cfg.max_epochs}")
    for overrides in (["optimizer.lr=fast"], ["lr=0.05"], ["optimizer=rmsprop"]):
        try:
            hydra.compose(config_name="digits", overrides=overrides)
        except Exception as error:
            cause = f" ({str(error.__cause__).splitlines()[0]})" if error.__cause__ else ""
            print(f"{overrides}: {type(error).__name__}: {str(error).splitlines()[0]}{cause}")

# %%
# One function from config to result
# -----------------------------------
# ``train(cfg)`` is the whole Lightning run of the previous sections, with every setting read
# from the config. Composed with no overrides, the config describes exactly the run above,
# and since the seed and the data order are part of it, it reproduces that run's best
# validation loss.


def train(cfg):
    L.seed_everything(cfg.seed, verbose=False)
    model = LitDigits(
        hidden=cfg.hidden,
        optimizer=cfg.optimizer.name,
        lr=cfg.optimizer.lr,
        momentum=cfg.optimizer.momentum,
    )
    with tempfile.TemporaryDirectory() as run_dir:
        stopper = EarlyStopping(monitor="val_loss", mode="min", patience=cfg.patience)
        best = ModelCheckpoint(dirpath=run_dir, monitor="val_loss", mode="min")
        history = History()
        trainer = L.Trainer(
            max_epochs=cfg.max_epochs,
            accelerator="auto",
            devices=1,
            callbacks=[stopper, best, history],
            default_root_dir=run_dir,
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        with lightning_leafspec_ignored():
            trainer.fit(model, *make_loaders(cfg.batch_size, cfg.seed))
    epoch, _, val_loss, val_acc = min(history.rows, key=lambda row: row[2])
    return {
        "epochs": len(history.rows),
        "best_epoch": epoch,
        "val_loss": val_loss,
        "val_acc": val_acc,
    }


result = train(cfg)
print({key: round(value, 4) for key, value in result.items()})
assert abs(result["val_loss"] - checkpoint.best_model_score.item()) < 1e-6

# %%
# A learning-rate sweep, in-process
# ---------------------------------
# On the command line, a script decorated with ``@hydra.main(config_path=None,
# config_name="digits", version_base="1.3")`` runs a sweep with ``--multirun``:
# ``python train.py --multirun optimizer=adam,sgd optimizer.lr=0.001,0.01,0.1 max_epochs=5``
# starts one run per combination, each with its own output folder. In a notebook, a loop over
# ``compose`` calls does the same in this process. Five epochs per run keep the page fast;
# that is enough to rank learning rates that are far apart, not to finish training.
import itertools

sweep = {}
with hydra.initialize(version_base="1.3"):
    for name, lr in itertools.product(["adam", "sgd"], [0.001, 0.01, 0.1]):
        overrides = [f"optimizer={name}", f"optimizer.lr={lr}", "max_epochs=5"]
        sweep[name, lr] = train(hydra.compose(config_name="digits", overrides=overrides))

print(f"{'optimizer':<10} {'lr':>6} {'epochs':>6} {'best val loss':>14} {'val acc':>8}")
for (name, lr), r in sorted(sweep.items(), key=lambda item: item[1]["val_loss"]):
    print(f"{name:<10} {lr:>6} {r['epochs']:>6} {r['val_loss']:>14.4f} {r['val_acc']:>8.3f}")


# %%
# Each optimizer has its own good range. In five epochs SGD at ``lr=0.001`` has barely moved
# from the initial loss (about :math:`\log 10 = 2.3`), while Adam, which scales its steps per
# parameter, already learns at that rate and does best at ``0.01``; SGD with momentum does best
# at ``0.1``. Within each optimizer the best rate is well ahead of the next one (the ratios
# below). A sweep answers "which learning rate?" per optimizer, never once for all.


def loss_of(key):
    return sweep[key]["val_loss"]


best_lr_for, margin = {}, {}
for name in ("adam", "sgd"):
    best, runner_up = sorted((key for key in sweep if key[0] == name), key=loss_of)[:2]
    best_lr_for[name], margin[name] = best[1], loss_of(best) / loss_of(runner_up)
    print(f"{name}: best lr {best[1]}, val loss {margin[name]:.2f}x that of lr {runner_up[1]}")
assert best_lr_for == {"adam": 0.01, "sgd": 0.1} and max(margin.values()) < 0.75
assert loss_of(("sgd", 0.001)) > 2.0 > 1.0 > loss_of(("adam", 0.001))

# %%
# Which *optimizer* is better is another question, and one run per setting cannot answer it.
# The two best runs, one per optimizer, end close together, but the seed alone (the initial
# weights and the order of the batches) moves a run's loss too. To see by how much, the same
# two settings run again from seeds 1 and 2, through the config's ``seed`` (on the command
# line: add ``seed=0,1,2`` to the sweep, at three times the cost).
first, second = sorted(sweep, key=loss_of)[:2]
gap = loss_of(second) / loss_of(first) - 1
print(f"the two best runs: {first[0]} lr={first[1]}, {second[0]} lr={second[1]}, {gap:.1%} apart")
seeds = (0, 1, 2)
by_seed = {key: [loss_of(key)] for key in (first, second)}  # seed 0: the sweep's run
with hydra.initialize(version_base="1.3"):
    for (name, lr), seed in itertools.product((first, second), seeds[1:]):
        overrides = [f"optimizer={name}", f"optimizer.lr={lr}", "max_epochs=5", f"seed={seed}"]
        run = train(hydra.compose(config_name="digits", overrides=overrides))
        by_seed[name, lr].append(run["val_loss"])
spread = {key: max(losses) / min(losses) - 1 for key, losses in by_seed.items()}
print(f"{'best val loss':<15}" + "".join(f"   seed {seed}" for seed in seeds) + "   spread")
for (name, lr), losses in by_seed.items():
    row = "".join(f"{loss:9.4f}" for loss in losses)
    print(f"{name + ' lr=' + str(lr):<15}{row}   {spread[name, lr]:.1%}")
ahead = sum(a < b for a, b in zip(by_seed[first], by_seed[second]))
print(f"{first[0]} lr={first[1]} is ahead at {ahead} of {len(seeds)} seeds")
assert {first[0], second[0]} == {"adam", "sgd"}
assert min(spread.values()) > 2 * gap  # the seed moves each setting more than the gap

# %%
# The seed moves each setting's loss by more than twice the gap between the two, so a single
# run of each cannot rank them. Compared at the same seed (the same initial weights, the same
# batches), one may stay ahead, as the count above shows; with three seeds and five epochs
# that is a hint for a longer, wider comparison, not yet a finding.

# %%
# Exercises
# ---------
# Two exercises, one per library. Each one has a starter to edit, a checker that prints
# ``correct`` or what is wrong, and a reference solution (collapsed; open it once you have
# tried).

# %%
# Exercise 1: write ``training_step``
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``training_step(self, batch, batch_idx)`` for a ``LightningModule`` whose ``forward``
# returns logits: unpack ``(x, y)``, compute the cross-entropy loss, log it as ``"train_loss"``
# with ``self.log`` and return it. ``check_training_step`` runs it on a fixed batch (with
# ``self.log`` recording what you log) and compares it with the reference.
import lightning as L
import torch


def check_training_step(candidate) -> bool:
    """Call ``candidate`` as a LightningModule's training_step; compare its loss and log."""

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 3)

        def forward(self, x):
            return self.net(x)

    Module.training_step = candidate
    with torch.random.fork_rng(devices=[]):  # seeded here, the reader's RNG left untouched
        torch.manual_seed(0)
        module = Module()
        batch = (torch.randn(8, 4), torch.randint(0, 3, (8,)))
    logged = {}
    module.log = lambda name, value, **kwargs: logged.update({name: value})  # no Trainer here
    expected = torch.nn.functional.cross_entropy(module(batch[0]), batch[1])
    try:
        loss = module.training_step(batch, 0)
    except Exception as exc:
        print(f"not correct: raised {type(exc).__name__}: {exc}")
        return False
    if not isinstance(loss, torch.Tensor) or loss.grad_fn is None:
        print(f"not correct: expected the loss tensor (Lightning calls backward), got {loss!r}")
        return False
    if any(p.grad is not None for p in module.parameters()):
        print("not correct: training_step called backward(); the Trainer calls it on the loss")
        return False
    if not torch.allclose(loss, expected):
        print(f"not correct: expected loss {expected.item():.4f}, got {loss.item():.4f}")
        return False
    shown = {name: round(float(torch.as_tensor(v).detach()), 4) for name, v in logged.items()}
    if "train_loss" not in logged or abs(shown["train_loss"] - expected.item()) > 1e-4:
        print(f"not correct: expected 'train_loss' = {expected.item():.4f} logged, got {shown}")
        return False
    print("correct")
    return True


def training_step(self, batch, batch_idx):
    # Your code here: unpack the batch, compute and log the loss, return it.
    return None


check_training_step(training_step)


# %% tags=["solution"]
# Reference solution.
def training_step(self, batch, batch_idx):
    x, y = batch
    loss = torch.nn.functional.cross_entropy(self(x), y)
    self.log("train_loss", loss)
    return loss  # not loss.item(): the Trainer needs the graph to call backward()


assert check_training_step(training_step)

# %%
# Exercise 2: the overrides for a given run
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``my_overrides()``, returning the list of Hydra overrides that turns the ``digits``
# config of this page into this run: SGD with its group's momentum and a learning rate of
# 0.05, a hidden layer of 64 units, 20 epochs. The checker registers the page's configs
# again, with their types (so that this cell runs on its own), composes them with your
# overrides and compares the result with the expected config.
from dataclasses import dataclass, field
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf


def check_overrides(candidate) -> bool:
    """Compose the ``digits`` config with ``candidate()``; compare with the expected run."""

    @dataclass
    class OptimizerConfig:  # the page's configs, typed as on the page
        name: str = "adam"
        lr: float = 1e-2
        momentum: float = 0.0

    @dataclass
    class RunConfig:
        defaults: list[Any] = field(default_factory=lambda: [{"optimizer": "adam"}, "_self_"])
        optimizer: OptimizerConfig = MISSING
        hidden: int = 128
        batch_size: int = 64
        max_epochs: int = 40
        patience: int = 3
        seed: int = 0

    store = ConfigStore.instance()
    store.store(name="digits", node=RunConfig)
    store.store(group="optimizer", name="adam", node=OptimizerConfig(name="adam", lr=1e-2))
    store.store(
        group="optimizer", name="sgd", node=OptimizerConfig(name="sgd", lr=0.1, momentum=0.9)
    )
    expected = {
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "hidden": 64,
        "batch_size": 64,
        "max_epochs": 20,
        "patience": 3,
        "seed": 0,
    }
    try:
        overrides = candidate()
        with hydra.initialize(version_base="1.3"):
            cfg = hydra.compose(config_name="digits", overrides=overrides)
    except Exception as exc:
        print(f"not correct: raised {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return False
    got = OmegaConf.to_container(cfg)
    if got != expected:
        wrong = {key: value for key, value in got.items() if expected.get(key) != value}
        print(f"not correct: expected {expected},")
        print(f"             these values differ: {wrong}")
        return False
    print("correct")
    return True


def my_overrides():
    # Your code here: a list of strings such as "key=value" or "group=option".
    return []


check_overrides(my_overrides)


# %% tags=["solution"]
# Reference solution.
def my_overrides():
    # "optimizer=sgd" picks the whole option, momentum included; "optimizer.name=sgd" would
    # only rename Adam's settings and keep momentum 0.0.
    return ["optimizer=sgd", "optimizer.lr=0.05", "hidden=64", "max_epochs=20"]


assert check_overrides(my_overrides)

# %%
# Summary
# -------
# * A ``LightningModule`` holds the model and what one step means (``training_step``,
#   ``validation_step``, ``configure_optimizers``); the ``Trainer`` runs the loop, moves data
#   to the device, and calls ``backward`` and ``step``.
# * ``EarlyStopping`` and ``ModelCheckpoint`` replace hand-written early stopping; a Lightning
#   checkpoint is a plain ``torch.save`` dict, loadable with ``weights_only=True`` into the
#   plain PyTorch model (strip the ``net.`` prefix) with identical predictions.
# * ``logger=False``, ``enable_progress_bar=False``, ``enable_model_summary=False``, a
#   ``default_root_dir`` and Lightning's logger at ``WARNING`` keep a run quiet and its files
#   where you want them.
# * Hydra: structured configs in the ``ConfigStore``, a ``defaults`` list choosing one option
#   per config group, ``compose`` with overrides (``group=option``, ``key=value``), and a sweep
#   as a loop over ``compose`` (or ``--multirun`` on the command line).
# * One run per setting ranks settings far apart; runs that end close together need several
#   seeds each (``seed`` is part of the config) before one is called better.
#
# Where to go next
# ----------------
# The post `Beyond plain PyTorch: Lightning and Hydra <../../posts/lightning-hydra/>`_ shows
# Hydra's ``instantiate`` (building objects from ``_target_`` configs) and configs kept in YAML
# files, and `Debugging and reproducibility <../11_debugging/>`_ has the checks to run when a
# training run, Lightning or not, misbehaves. The next tutorial, `Text end to end
# <../14_text/>`_, trains a small language model: a tokenizer, embeddings and a causal
# Transformer, from raw text to generated text.
