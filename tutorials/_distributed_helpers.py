"""Worker code for the tutorial "Distributed data parallel on CPU".

A process started by ``torch.multiprocessing.spawn`` is a fresh Python
interpreter: it finds the function it must run by *importing* it, so the
worker lives in this module, next to ``12_distributed.py`` (the leading
underscore says "not a tutorial"). Keep the two files in the same folder.
Under ``torchrun``, which starts the processes itself, the same training runs
with::

    torchrun --standalone --nproc-per-node 2 _distributed_helpers.py OUT_DIR

Each rank writes what it saw into ``OUT_DIR/rank<r>.pt``; rank 0 alone writes
the checkpoint ``OUT_DIR/checkpoints/model.pt``. Workers print nothing: the
parent reads the files and reports.
"""

from __future__ import annotations

import sys
import weakref
from pathlib import Path

import torch

# DistributedDataParallel imports torch._dynamo the first time it wraps a
# model. That import brings torch.distributed.nn, whose functions keep the
# process group of that moment as a default argument, and it leaves a
# reference cycle through the frames that were running, DDP's constructor
# among them, which keeps the model, and with it the group, alive until
# Python's garbage collector happens to run. Either keeps the group, and the
# threads gloo runs for it, alive after destroy_process_group(), possibly
# into the interpreter's exit. Imported here, before any group or model
# exists, they hold neither.
import torch._dynamo
import torch.distributed as dist
import torch.distributed.nn
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

PER_RANK_BATCH = 16  # per process: the global batch is world_size times this
EPOCHS = 3
LR = 0.1
SAMPLER_SEED = 0


def make_dataset(n=512, features=10, classes=3, seed=0):
    """A seeded task: the label is the best of three random linear scores."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=gen)
    teacher = torch.randn(features, classes, generator=gen)
    scores = x @ teacher + 0.5 * torch.randn(n, classes, generator=gen)
    return TensorDataset(x, scores.argmax(dim=1))


def make_model(seed=0):
    """The same initial weights in every process that passes the same seed."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))


def spawn_worker(rank, world_size, port, out_dir):
    """Entry point for ``torch.multiprocessing.spawn``: ``rank`` comes first.

    The parent holds the store open at 127.0.0.1:``port``; this process
    connects to it as a client (``is_master=False``: it starts no server) and
    joins the group with its rank.
    """
    store = dist.TCPStore("127.0.0.1", port, is_master=False)
    dist.init_process_group(
        backend="gloo",
        store=store,
        rank=rank,
        world_size=world_size,
    )
    run(out_dir)


def run(out_dir):
    """Train in the group this process has joined, then destroy the group."""
    group = weakref.ref(dist.group.WORLD)  # only to check that it is freed
    try:
        seen = train(Path(out_dir))
    finally:
        dist.destroy_process_group()  # after an error too
    # Freed: no reference is left, and gloo's threads for it have ended.
    seen["group_freed"] = group() is None
    torch.save(seen, Path(out_dir) / f"rank{seen['rank']}.pt")


def train(out_dir):
    """One rank's job: all_reduce, a short DDP run, a checkpoint."""
    rank, world_size = dist.get_rank(), dist.get_world_size()
    seen = {"rank": rank, "world_size": world_size}

    # all_reduce: every rank sends a tensor, every rank receives the sum.
    value = torch.tensor([float(rank + 1)])
    seen["contributed"] = value.item()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    seen["all_reduce_sum"] = value.item()

    # DistributedSampler: each rank its own share of a shuffled order.
    dataset = make_dataset()
    sampler = DistributedSampler(dataset, shuffle=True, seed=SAMPLER_SEED)
    loader = DataLoader(dataset, batch_size=PER_RANK_BATCH, sampler=sampler)

    # DDP broadcasts rank 0's weights, then averages gradients in backward().
    model = DDP(make_model())
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    seen["indices"], seen["losses"] = [], []
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on all
        seen["indices"].append(list(sampler))
        epoch_loss = torch.zeros(1)
        for step, (xb, yb) in enumerate(loader):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()  # the gradients are averaged across ranks here
            if epoch == 0 and step == 0:
                grads = [p.grad.clone() for p in model.parameters()]
                seen["first_step_grads"] = grads
            optimizer.step()
            epoch_loss += loss.detach() * len(yb)
        dist.all_reduce(epoch_loss)  # the sum of all ranks' example losses
        seen["losses"].append(epoch_loss.item() / len(dataset))

    seen["final_weights"] = [p.detach().clone() for p in model.parameters()]
    if rank == 0:  # the replicas are identical, so one copy is enough
        folder = out_dir / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(model.module.state_dict(), folder / "model.pt")
    dist.barrier()  # nobody leaves before the checkpoint is on disk
    return seen


if __name__ == "__main__":  # under torchrun, as the docstring shows
    # env://, the default: torchrun has set MASTER_ADDR and MASTER_PORT
    # (where its store listens), RANK and WORLD_SIZE for this process.
    dist.init_process_group(backend="gloo")
    run(sys.argv[1])
