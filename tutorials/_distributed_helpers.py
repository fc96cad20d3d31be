"""Worker code for the tutorial "Distributed data parallel on CPU" (``12_distributed.py``).

A process started by ``torch.multiprocessing.spawn`` is a fresh Python interpreter: it finds the
function it must run by *importing* it, so the worker lives in this module, next to the tutorial
(the leading underscore says "not a tutorial"). Keep the two files in the same folder. Under
``torchrun``, which starts the processes itself, the same training runs with::

    torchrun --standalone --nproc-per-node 2 _distributed_helpers.py OUT_DIR

Each rank writes what it saw into ``OUT_DIR/rank<r>.pt``; rank 0 alone writes the checkpoint
``OUT_DIR/checkpoints/model.pt``. Workers print nothing: the parent reads the files and reports.
"""

from __future__ import annotations

import sys
import weakref
from pathlib import Path

import torch

# DistributedDataParallel imports torch._dynamo the first time it wraps a model. That import
# brings torch.distributed.nn, whose functions keep the process group that exists at that
# moment as a default argument, and it leaves a reference cycle through the frames that were
# running, DDP's constructor among them, which keeps the model, and with it the group, alive
# until Python's garbage collector happens to run. Either keeps the group, and the threads gloo
# runs for it, alive after destroy_process_group(), possibly into the interpreter's exit.
# Imported here, before any group or model exists, they hold neither.
import torch._dynamo
import torch.distributed as dist
import torch.distributed.nn
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

PER_RANK_BATCH = 16  # each process's batch; the global batch is PER_RANK_BATCH * world_size
EPOCHS = 3
LR = 0.1
SAMPLER_SEED = 0


def make_dataset(n=512, features=10, classes=3, seed=0):
    """A seeded classification task: the label is the best of three random linear scores."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=gen)
    teacher = torch.randn(features, classes, generator=gen)
    y = (x @ teacher + 0.5 * torch.randn(n, classes, generator=gen)).argmax(dim=1)
    return TensorDataset(x, y)


def make_model(seed=0):
    """The same initial weights in every process that calls it with the same seed."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))


def spawn_worker(rank, world_size, port, out_dir):
    """Entry point for ``torch.multiprocessing.spawn``, which passes ``rank`` first.

    The parent holds the store open at 127.0.0.1:``port``; this process connects to it as a
    client (``is_master=False``: it starts no server) and joins the group with its rank.
    """
    store = dist.TCPStore("127.0.0.1", port, is_master=False)
    dist.init_process_group(backend="gloo", store=store, rank=rank, world_size=world_size)
    run(out_dir)


def run(out_dir):
    """Train in the group this process has joined, then destroy the group, after an error too."""
    group = weakref.ref(dist.group.WORLD)  # only to check, below, that nothing keeps it alive
    try:
        seen = train(Path(out_dir))
    finally:
        dist.destroy_process_group()
    # Freed: no reference is left, and the threads gloo ran for the group have ended with it.
    seen["group_freed"] = group() is None
    torch.save(seen, Path(out_dir) / f"rank{seen['rank']}.pt")


def train(out_dir):
    """One rank's job: an all_reduce demo, a short DDP run, a checkpoint; returns what it saw."""
    rank, world_size = dist.get_rank(), dist.get_world_size()
    seen = {"rank": rank, "world_size": world_size}

    # all_reduce: every rank sends a tensor and every rank receives the elementwise sum.
    value = torch.tensor([float(rank + 1)])
    seen["contributed"] = value.item()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    seen["all_reduce_sum"] = value.item()

    # DistributedSampler gives each rank its own share of a shuffled order of the dataset.
    dataset = make_dataset()
    sampler = DistributedSampler(dataset, shuffle=True, seed=SAMPLER_SEED)
    loader = DataLoader(dataset, batch_size=PER_RANK_BATCH, sampler=sampler)

    # DDP broadcasts rank 0's weights to the others, then averages gradients in backward().
    model = DDP(make_model())
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    seen["indices"], seen["losses"] = [], []
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        seen["indices"].append(list(sampler))
        epoch_loss = torch.zeros(1)
        for step, (xb, yb) in enumerate(loader):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()  # gradients are all-reduced (averaged) across ranks here
            if epoch == 0 and step == 0:
                seen["first_step_grads"] = [p.grad.clone() for p in model.parameters()]
            optimizer.step()
            epoch_loss += loss.detach() * len(yb)
        dist.all_reduce(epoch_loss)  # sum of the per-example losses over all ranks
        seen["losses"].append(epoch_loss.item() / len(dataset))

    seen["final_weights"] = [p.detach().clone() for p in model.parameters()]
    if rank == 0:  # the replicas are identical, so one copy is enough
        (out_dir / "checkpoints").mkdir(exist_ok=True)
        torch.save(model.module.state_dict(), out_dir / "checkpoints" / "model.pt")
    dist.barrier()  # nobody leaves before the checkpoint is on disk
    return seen


if __name__ == "__main__":  # torchrun --standalone --nproc-per-node 2 _distributed_helpers.py DIR
    # env://, the default: torchrun has set MASTER_ADDR and MASTER_PORT (where its store
    # listens), RANK and WORLD_SIZE in this process's environment.
    dist.init_process_group(backend="gloo")
    run(sys.argv[1])
