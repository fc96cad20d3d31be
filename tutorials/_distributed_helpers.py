"""Worker code for the tutorial "Distributed data parallel on CPU" (``12_distributed.py``).

A process started by ``torch.multiprocessing.spawn`` is a fresh Python interpreter: it finds the
function it must run by *importing* it. A function defined in a notebook cell cannot be imported
by another process, so the worker lives in this module, next to the tutorial (the leading
underscore says "not a tutorial"). Keep the two files in the same folder.

The same worker runs under ``torchrun`` too, which starts the processes itself::

    torchrun --standalone --nproc-per-node 2 _distributed_helpers.py OUT_DIR

Each rank writes what it saw into ``OUT_DIR/rank<r>.pt``; rank 0 alone writes the checkpoint
``OUT_DIR/checkpoints/model.pt``. Workers print nothing: the parent reads the files and reports.
A worker leaves nothing running behind it: it destroys its process group, which ends the
threads gloo runs for it, before the process exits.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

# DistributedDataParallel imports more of torch the first time it wraps a model, among it
# torch.distributed.nn, whose functions take the process group that exists at that moment as
# a default argument. That reference would keep the group, and gloo's threads, alive after
# destroy_process_group(), into the interpreter's exit. Imported now, before any group exists,
# it holds none.
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

    torchrun would set these six variables for us; here we set them ourselves, so that
    ``train`` initialises the process group the same way under both launchers (``env://``).
    """
    os.environ["MASTER_ADDR"] = "127.0.0.1"  # where the rendezvous store listens
    os.environ["MASTER_PORT"] = str(port)  # its port, opened by the parent
    os.environ["TORCHELASTIC_USE_AGENT_STORE"] = "True"  # use the parent's store
    os.environ["RANK"] = str(rank)  # this process's number, 0 .. world_size - 1
    os.environ["LOCAL_RANK"] = str(rank)  # its number on this machine (picks the GPU)
    os.environ["WORLD_SIZE"] = str(world_size)  # how many processes in all
    train(out_dir)


def train(out_dir):
    """One rank's whole job: all_reduce demo, one checked step, a short run, a checkpoint."""
    dist.init_process_group(backend="gloo")  # init_method="env://": reads the variables above
    try:
        rank, world_size = dist.get_rank(), dist.get_world_size()
        out_dir = Path(out_dir)
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
        torch.save(seen, out_dir / f"rank{rank}.pt")
        if rank == 0:  # the replicas are identical, so one copy is enough
            (out_dir / "checkpoints").mkdir(exist_ok=True)
            torch.save(model.module.state_dict(), out_dir / "checkpoints" / "model.pt")
        dist.barrier()  # nobody leaves before the checkpoint is on disk
    finally:
        # Even after an error. With the model gone too (when train returns),
        # this ends the threads gloo runs for the group: threads still running
        # while the interpreter shuts down are a known cause of crashes at exit.
        dist.destroy_process_group()


if __name__ == "__main__":  # torchrun --standalone --nproc-per-node 2 _distributed_helpers.py DIR
    train(sys.argv[1])
