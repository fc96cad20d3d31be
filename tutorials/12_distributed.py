"""
Distributed data parallel on CPU
================================

When one device is too slow, *data parallel* training runs several copies of the model at
once: each process computes gradients on its own slice of the batch, the processes average
their gradients, and every copy takes the same optimizer step. PyTorch's
``DistributedDataParallel`` (DDP) does the averaging for you. This page starts two real
processes on the CPU with the ``gloo`` backend, trains with DDP, and proves that the result is
what one process computes on the whole batch, up to float rounding.

**What you will learn**

* why averaging gradients over equal slices of a batch equals the full-batch gradient
* how ``DistributedSampler`` splits the data between processes, and why ``set_epoch`` matters
* what ``all_reduce`` does, with a two-process demo
* how to start processes with ``torch.multiprocessing.spawn`` and with ``torchrun``
  (``env://``), and why a spawned worker must live in an importable module
* why the launching process should hold the processes' meeting point (the store) itself
* how to wrap a model in ``DistributedDataParallel``, save a checkpoint from rank 0 only,
  and leave nothing running when a worker ends
* what changes on GPUs: the ``nccl`` backend, one process per device, ``device_ids``

**Prerequisites**

* `Training loops <../05_training/>`_ and `Checkpointing <../06_checkpointing/>`_
* `Accelerators <../08_accelerators/>`_, for the GPU notes at the end

This page is a CPU demo by design: two processes on one machine, talking through ``gloo``, run
anywhere, so the build and you see the same numbers. The worker code is in
:download:`_distributed_helpers.py`, a module that must sit next to this script: download it
with the script, or upload it beside the notebook in Colab (the page prints it below). The data
(512 generated examples), the model (two linear layers) and the run (three epochs) are tiny so
that the page runs in seconds; the processes' start-up is the slow part. For a real run, use a
real dataset and model, and one process per GPU.
"""

# %%
# Two rules for scripts that start processes
# ------------------------------------------
# ``torch.multiprocessing.spawn`` starts each worker as a *fresh* Python interpreter. The
# worker finds the function to run by importing it, so a function defined in a notebook cell
# will not do; ours live in ``_distributed_helpers.py``. And before running it, the worker
# imports the script that started it (under the name ``__mp_main__``): everything in this
# script that should run only once (printing, computing, starting processes) sits under
# ``if __name__ == "__main__":``. Imports and function definitions stay outside, where the
# workers find them.
import torch
import torch.distributed as dist
from _distributed_helpers import (
    EPOCHS,
    LR,
    PER_RANK_BATCH,
    SAMPLER_SEED,
    make_dataset,
    make_model,
)
from torch import nn

if __name__ == "__main__":
    print(f"torch.distributed available: {dist.is_available()}")
    print(f"gloo backend (CPU) available: {dist.is_gloo_available()}")

# %%
# Data parallelism in one process
# -------------------------------
# The idea needs no processes at all. With a loss that is a *mean* over the batch, the gradient
# of a batch of 32 examples is the average of the gradients of its two halves of 16 (in exact
# arithmetic; in floats, up to rounding, since the sums are taken in another order). So two
# workers can each take half of the batch and then average their gradients: that average is
# what DDP computes for us, with ``all_reduce`` (below).


def gradients(model, xb, yb):
    """The gradient of the mean cross-entropy on one batch, one tensor per parameter."""
    model.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    return [p.grad.clone() for p in model.parameters()]


if __name__ == "__main__":
    dataset = make_dataset()
    model = make_model()
    xb, yb = dataset[:32]
    full = gradients(model, xb, yb)
    halves = [gradients(model, xb[:16], yb[:16]), gradients(model, xb[16:], yb[16:])]
    averaged = [(g0 + g1) / 2 for g0, g1 in zip(*halves)]
    largest = max((f - a).abs().max().item() for f, a in zip(full, averaged))
    assert largest < 1e-6
    print(f"{len(dataset)} examples, {sum(p.numel() for p in model.parameters())} parameters")
    print("full-batch gradient == average of the half-batch gradients, to within 1e-6: True")

# %%
# ``DistributedSampler`` and ``set_epoch``
# ----------------------------------------
# Each process must see different examples. ``DistributedSampler`` shuffles the indices with a
# seed shared by all processes, then gives rank ``r`` every ``world_size``-th index starting at
# ``r``: when the dataset's size is a multiple of ``world_size``, as here, the shares are
# disjoint and together cover the dataset (otherwise the sampler repeats a few indices so that
# every rank gets as many; exercise 1 works that out). The shuffle's seed is
# ``seed + epoch``, and the sampler only learns the epoch from ``set_epoch``: forget it, and
# every epoch repeats the same order. Inside a worker the sampler reads the rank and world
# size from the process group; here we pass them by hand to look at the shares.
from torch.utils.data import DistributedSampler


def rank_indices(dataset, world_size, rank, epoch):
    """The indices ``rank`` gets in ``epoch``, as a list."""
    sampler = DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=SAMPLER_SEED
    )
    sampler.set_epoch(epoch)
    return list(sampler)


if __name__ == "__main__":
    for epoch in range(2):
        shares = [rank_indices(dataset, 2, rank, epoch) for rank in range(2)]
        assert set(shares[0]).isdisjoint(shares[1])
        assert sorted(shares[0] + shares[1]) == list(range(len(dataset)))
        for rank, share in enumerate(shares):
            print(f"epoch {epoch}, rank {rank}: {len(share)} indices, first 6: {share[:6]}")
    forgetful = DistributedSampler(dataset, num_replicas=2, rank=0, seed=SAMPLER_SEED)
    same_order = list(forgetful) == list(forgetful)
    assert same_order
    print(f"without set_epoch, two epochs see the same order: {same_order}")

# %%
# The worker: joining the group, ``all_reduce`` and DDP
# -----------------------------------------------------
# Each process runs ``spawn_worker(rank, world_size, port, out_dir)``. It connects to the
# *store*, the key-value server at which the processes meet, which the parent holds open on
# ``port`` (at 127.0.0.1, since all processes are on this machine; the server itself listens on
# every network interface), and joins the *process group* with
# ``init_process_group(backend="gloo", store=store, rank=rank, world_size=world_size)``.
# Under ``torchrun``, the module's last lines call ``init_process_group(backend="gloo")``
# alone: with neither ``store`` nor ``init_method``, PyTorch uses ``env://`` and reads
# ``MASTER_ADDR`` and ``MASTER_PORT`` (where torchrun's store listens), ``RANK`` and
# ``WORLD_SIZE`` from the environment torchrun gave the process. Both then call the same
# ``run``, which calls ``train``.
#
# ``dist.all_reduce(t)`` is a *collective*: every rank calls it with a tensor of the same shape,
# and when it returns, every rank's tensor holds the elementwise sum over all ranks (or the
# maximum, minimum or product, with ``op=``). ``train`` first shows it on one number per rank.
#
# ``DistributedDataParallel(model)`` copies rank 0's weights to every rank when it is built,
# and during ``backward()`` it all-reduces the gradients and divides them by the world size,
# so every rank ends up with the same averaged gradient and takes the same optimizer step.
# The replicas never drift apart, which is why rank 0 alone saves the checkpoint (of
# ``model.module``, the model inside the wrapper).
#
# A worker must leave nothing running when it ends. The group runs threads of its own (gloo's,
# in C++), and threads still running while the interpreter shuts down are a known cause of
# crashes at exit. So ``run`` destroys the group in a ``finally:`` block, after an error too,
# once ``train`` has returned and its model is gone. That frees the group, and ends its
# threads, only if nothing else still refers to it, and the first DDP model of a process
# leaves two such references behind: DDP then imports ``torch._dynamo``, which imports
# ``torch.distributed.nn`` (its functions keep the group of that moment as a default argument)
# and leaves a reference cycle that keeps the model, and its group, alive until Python's
# garbage collector happens to run. The module therefore imports both at its top, before any
# group exists, and ``run`` records, with a weak reference (one that does not keep its object
# alive), whether the group was freed. Here is the module, as the processes run it:
import inspect

import _distributed_helpers

if __name__ == "__main__":
    print(inspect.getsource(_distributed_helpers))

# %%
# Start two processes with ``torch.multiprocessing.spawn``
# --------------------------------------------------------
# ``mp.spawn(fn, args, nprocs)`` starts ``nprocs`` processes, calls ``fn(rank, *args)`` in
# each, waits for all of them, and raises if one fails. The store they meet at needs a TCP
# port that no other program uses. This process opens the store before starting them
# (``is_master=True``: it runs the server; ``wait_for_workers=False``: it does not wait here for
# clients) on a port the operating system picks (``0``), and holds it until they are done, as
# ``torchrun`` does. Picking a free port here, closing it and letting rank 0 open it again
# would leave a gap of seconds (the time a new interpreter takes to import torch) in which
# another program on the machine could take it. The workers print nothing; they write what
# they saw into a temporary directory, and this process reads it back. Starting two Python
# interpreters that each import torch takes a few seconds; the training itself is tiny.
import socket
import tempfile
from pathlib import Path

import torch.multiprocessing as mp
from _distributed_helpers import spawn_worker

WORLD_SIZE = 2


def can_bind(port):
    """Whether another program could bind ``port`` on 127.0.0.1 right now."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


if __name__ == "__main__":
    store = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
    port = store.port
    held = [not can_bind(port)]  # before the workers start
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp)
        mp.spawn(spawn_worker, args=(WORLD_SIZE, port, str(out_dir)), nprocs=WORLD_SIZE)
        held.append(not can_bind(port))  # after they have ended
        written = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file())
        ranks = [torch.load(out_dir / f"rank{r}.pt", weights_only=True) for r in range(WORLD_SIZE)]
        checkpoint = torch.load(out_dir / "checkpoints" / "model.pt", weights_only=True)
    del store  # the workers are done: close the store
    assert all(held)
    print(f"no other program could bind the store's port, before or after the workers: {all(held)}")
    print(f"files written by the workers: {written}")
    freed = all(seen["group_freed"] for seen in ranks)
    assert freed
    print(f"in every worker, destroy_process_group() freed the group: {freed}")

# %%
# ``all_reduce``: every rank gets the sum
# ---------------------------------------
# Rank 0 contributed 1, rank 1 contributed 2, and after ``all_reduce`` both hold 3. DDP does
# the same with every gradient tensor (in buckets, overlapped with ``backward()``), and divides
# by the world size, so that every rank holds the average.
if __name__ == "__main__":
    for seen in ranks:
        print(
            f"rank {seen['rank']} of {seen['world_size']}: contributed {seen['contributed']:g},"
            f" holds {seen['all_reduce_sum']:g} after all_reduce"
        )
    assert all(seen["all_reduce_sum"] == sum(s["contributed"] for s in ranks) for seen in ranks)

# %%
# Each rank trained on its own share
# ----------------------------------
# The indices each worker's sampler produced are the ones we computed above without any
# processes: disjoint shares, and a new shuffle every epoch thanks to ``set_epoch``.
if __name__ == "__main__":
    for epoch in range(EPOCHS):
        for seen in ranks:
            assert seen["indices"][epoch] == rank_indices(dataset, WORLD_SIZE, seen["rank"], epoch)
        assert set(ranks[0]["indices"][epoch]).isdisjoint(ranks[1]["indices"][epoch])
    print("every rank's indices match DistributedSampler's shares, epoch by epoch: True")
    for epoch, indices in enumerate(ranks[0]["indices"]):
        print(f"rank 0, epoch {epoch}, first 6 indices: {indices[:6]}")

# %%
# The proof: two processes compute the one-process gradient
# ---------------------------------------------------------
# The *global batch* of the first step is rank 0's first 16 examples plus rank 1's first 16.
# One process computing the gradient of the mean loss over those 32 examples, from the same
# initial weights, gets what both DDP ranks got after their first ``backward()``.


def global_batch(dataset, world_size, epoch, step):
    """The examples all ranks together use at ``step`` of ``epoch``."""
    index = []
    for rank in range(world_size):
        share = rank_indices(dataset, world_size, rank, epoch)
        index += share[step * PER_RANK_BATCH : (step + 1) * PER_RANK_BATCH]
    return dataset[index]


if __name__ == "__main__":
    xb, yb = global_batch(dataset, WORLD_SIZE, epoch=0, step=0)
    single = gradients(make_model(), xb, yb)
    rank0, rank1 = (seen["first_step_grads"] for seen in ranks)
    assert all(torch.equal(g0, g1) for g0, g1 in zip(rank0, rank1))
    largest = max((g - s).abs().max().item() for g, s in zip(rank0, single))
    assert largest < 1e-6
    print(f"global batch of {len(yb)} = {WORLD_SIZE} ranks x {PER_RANK_BATCH} examples")
    print("rank 0 and rank 1 hold identical gradients: True")
    print("DDP gradients == single-process gradients: True (every difference below 1e-6)")

# %%
# A whole run matches, and rank 0 wrote the only checkpoint
# ---------------------------------------------------------
# The same holds step after step: the two replicas stay identical, and one process that
# replays the global batches in the same order ends with the same weights as the DDP
# checkpoint (up to float rounding, since sums are taken in a different order). Among the
# files the workers wrote, ``checkpoints/`` holds one file, from rank 0; it loads with
# ``weights_only=True`` into a plain, unwrapped model.
if __name__ == "__main__":
    final0, final1 = (seen["final_weights"] for seen in ranks)
    assert all(torch.equal(w0, w1) for w0, w1 in zip(final0, final1))
    print("after training, the two replicas hold identical weights: True")
    replay = make_model()
    optimizer = torch.optim.SGD(replay.parameters(), lr=LR)
    steps = len(dataset) // (WORLD_SIZE * PER_RANK_BATCH)
    for epoch in range(EPOCHS):
        for step in range(steps):
            xb, yb = global_batch(dataset, WORLD_SIZE, epoch, step)
            optimizer.zero_grad()
            nn.functional.cross_entropy(replay(xb), yb).backward()
            optimizer.step()
    weights = replay.state_dict()
    largest = max((weights[k] - tensor).abs().max().item() for k, tensor in checkpoint.items())
    assert largest < 1e-5
    assert [f for f in written if f.startswith("checkpoints")] == ["checkpoints/model.pt"]
    print(f"{EPOCHS} epochs x {steps} steps: single-process weights == DDP checkpoint: True")
    print("(every difference below 1e-5)")
    print(f"checkpoint files: {[f for f in written if f.startswith('checkpoints')]}")

    trained = make_model()
    trained.load_state_dict(checkpoint)
    x_all, y_all = dataset[:]
    with torch.no_grad():
        accuracy = (trained(x_all).argmax(dim=1) == y_all).float().mean().item()
    print(f"loss per epoch (averaged over all ranks): {[round(v, 4) for v in ranks[0]['losses']]}")
    print(f"accuracy of the checkpoint on the training data: {accuracy:.3f}")

# %%
# The same worker under ``torchrun``
# ----------------------------------
# On a cluster you rarely call ``spawn`` yourself. ``torchrun`` (installed with PyTorch; also
# ``python -m torch.distributed.run``) starts the processes, sets ``RANK``, ``LOCAL_RANK``,
# ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` in each, and restarts them if asked to.
# The script then just calls ``init_process_group`` and reads ``dist.get_rank()``. The helper
# module ends with such an entry point, so on one machine (``--standalone`` picks a free port)
# this command runs the same ``train`` in two processes:
import shlex

if __name__ == "__main__":
    command = ["torchrun", "--standalone", "--nproc-per-node", "2"]
    command += ["_distributed_helpers.py", "OUT_DIR"]
    print(shlex.join(command))

# %%
# On several machines, run the same command on each of them, with ``--nnodes`` (the number
# of machines) and a rendezvous point that all can reach in place of ``--standalone``:
# ``--rdzv-backend c10d --rdzv-endpoint HOST:PORT --rdzv-id JOB``, where ``HOST`` is one of
# the machines. ``RANK`` then counts all processes of all machines, ``LOCAL_RANK`` the
# processes of one machine.

# %%
# What changes on GPUs
# --------------------
# The structure stays; a few lines change. Use the accelerator's backend, ``nccl`` on NVIDIA
# and AMD GPUs (``xccl`` on Intel GPUs), which moves gradients between GPUs directly; start one
# process per device (``nprocs=torch.accelerator.device_count()``, or ``--nproc-per-node
# auto``); in each, pick the device by ``LOCAL_RANK`` (the rank itself, under ``spawn`` on one
# machine), tell ``init_process_group`` which device the process uses (``device_id``; without
# it, a ``barrier()`` such as ``train``'s warns that it has to guess), and put the model on the
# device before wrapping::
#
#     local_rank = int(os.environ["LOCAL_RANK"])
#     device = torch.device(torch.accelerator.current_accelerator().type, local_rank)
#     torch.accelerator.set_device_index(local_rank)
#     backend = dist.get_default_backend_for_device(device)
#     dist.init_process_group(backend=backend, device_id=device)
#     model = DDP(make_model().to(device), device_ids=[local_rank])
#
# and move each batch to that device. ``get_default_backend_for_device`` names the backend
# PyTorch picks for a device; here is what it says on the machine that ran this page:
if __name__ == "__main__":
    device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
    backend = dist.get_default_backend_for_device(device)
    print(f"this machine: {device.type}, default backend {backend}")
    print(f"this page: cpu, backend {dist.get_default_backend_for_device('cpu')}")

# %%
# Exercises
# ---------
# Each exercise has a checker that runs your function on fixed inputs and prints ``correct``
# or what is wrong; none of them starts processes. As everywhere on this page, the calls sit
# under the ``__main__`` guard, so that worker processes, which import this script, skip them.

# %%
# Exercise 1: which examples does each rank get?
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Without using ``DistributedSampler``, return the list of indices it gives ``rank`` of
# ``world_size`` for a dataset of ``n`` examples after ``set_epoch(epoch)``, with
# ``shuffle=True`` and ``seed``. Shuffle with ``torch.randperm`` and a generator seeded with
# ``seed + epoch``; when ``n`` does not divide evenly, the sampler repeats indices from the start
# of the shuffled list until every rank gets the same number; then a rank takes every
# ``world_size``-th index, starting at its own rank. ``check_rank_indices`` compares with the
# real sampler.
import operator

import torch
from torch.utils.data import DistributedSampler


def check_rank_indices(candidate) -> bool:
    """Compare ``candidate(n, world_size, rank, epoch, seed)`` with DistributedSampler."""
    cases = [(10, 2, 0, 0, 0), (10, 2, 1, 3, 0), (10, 3, 2, 1, 5), (7, 4, 3, 0, 1)]
    for n, world_size, rank, epoch, seed in cases:
        sampler = DistributedSampler(
            range(n), num_replicas=world_size, rank=rank, shuffle=True, seed=seed
        )
        sampler.set_epoch(epoch)
        expected = list(sampler)
        call = f"my_rank_indices({n}, {world_size}, {rank}, {epoch}, {seed})"
        try:
            got = candidate(n, world_size, rank, epoch, seed)
        except Exception as exc:
            print(f"not correct: {call} raised {type(exc).__name__}: {exc}")
            return False
        try:  # indices are integers: a float cannot index a dataset
            got_list = [operator.index(i) for i in got]
        except TypeError:
            print(f"not correct: {call} should return a list of integers {expected}, got {got!r}")
            return False
        if got_list != expected:
            print(f"not correct: {call} should return {expected}, got {got_list}")
            return False
    print("correct")
    return True


def my_rank_indices(n, world_size, rank, epoch, seed):
    # Your code here: shuffle, pad to a multiple of world_size, take this rank's share.
    return None


if __name__ == "__main__":
    check_rank_indices(my_rank_indices)


# %% tags=["solution"]
# Reference solution.
def my_rank_indices(n, world_size, rank, epoch, seed):
    generator = torch.Generator().manual_seed(seed + epoch)
    order = torch.randperm(n, generator=generator).tolist()
    total = -(-n // world_size) * world_size  # n rounded up to a multiple of world_size
    padded = (order * world_size)[:total]  # repeat from the start of the shuffled order
    return padded[rank:total:world_size]


if __name__ == "__main__":
    assert check_rank_indices(my_rank_indices)

# %%
# Exercise 2: average gradients as DDP does
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# ``per_rank`` holds, for each rank, the list of its gradients (one tensor per parameter),
# each computed on an equal share of the global batch. Return the list of gradients every
# rank holds after DDP's ``backward()``: ``all_reduce`` (a sum over ranks) divided by the
# number of ranks. ``check_average_gradients`` checks that the result is the full-batch
# gradient of a small model.
import torch
from torch import nn


def check_average_gradients(candidate) -> bool:
    """Run ``candidate(per_rank)`` on 3 ranks' gradients; expect the full-batch gradient."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 5, generator=gen), torch.randn(12, 2, generator=gen)
    torch.manual_seed(0)
    model = nn.Linear(5, 2)

    def grads(xb, yb):
        model.zero_grad()
        nn.functional.mse_loss(model(xb), yb).backward()
        return [p.grad.clone() for p in model.parameters()]

    world_size = 3
    per_rank = [grads(x[rank::world_size], y[rank::world_size]) for rank in range(world_size)]
    expected = grads(x, y)
    try:
        got = candidate([[g.clone() for g in rank_grads] for rank_grads in per_rank])
    except Exception as exc:
        print(f"not correct: raised {type(exc).__name__}: {exc}")
        return False
    if not isinstance(got, (list, tuple)) or len(got) != len(expected):
        print(f"not correct: expected a list of {len(expected)} tensors, got {got!r}")
        return False
    for index, (want, have) in enumerate(zip(expected, got)):
        if not isinstance(have, torch.Tensor) or have.shape != want.shape:
            print(
                f"not correct: parameter {index}: expected a tensor of shape "
                f"{tuple(want.shape)}, got {have!r}"
            )
            return False
        if not torch.allclose(have, want, atol=1e-6):
            print(f"not correct: parameter {index}: expected {want}, got {have}")
            return False
    print("correct")
    return True


def my_average_gradients(per_rank):
    # Your code here: for each parameter, sum its gradient over ranks, divide by world size.
    return None


if __name__ == "__main__":
    check_average_gradients(my_average_gradients)


# %% tags=["solution"]
# Reference solution.
def my_average_gradients(per_rank):
    world_size = len(per_rank)
    return [sum(grads) / world_size for grads in zip(*per_rank)]


if __name__ == "__main__":
    assert check_average_gradients(my_average_gradients)

# %%
# Exercise 3: the ``torchrun`` command line
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Return, as a list of strings, the command that runs ``script`` with ``script_args`` in
# ``nproc`` processes on this one machine (``--standalone``). ``check_torchrun_command`` reads
# your list with torchrun's own argument parser, so any spelling torchrun accepts is fine.
import contextlib
import io

import torch
from torch.distributed.run import get_args_parser, parse_min_max_nnodes


def check_torchrun_command(candidate) -> bool:
    """Parse ``candidate(nproc, script, script_args)`` as torchrun would."""
    for nproc, script, script_args in [(4, "train.py", []), (2, "ddp.py", ["--epochs", "3"])]:
        call = f"torchrun_command({nproc}, {script!r}, {script_args!r})"
        try:
            command = candidate(nproc, script, list(script_args))
        except Exception as exc:
            print(f"not correct: {call} raised {type(exc).__name__}: {exc}")
            return False
        if not isinstance(command, list) or not command or command[0] != "torchrun":
            print(
                f"not correct: {call} should return a list starting with 'torchrun', "
                f"got {command!r}"
            )
            return False
        if not all(isinstance(part, str) for part in command):
            print(f"not correct: {call} gives {command}; every part of a command is a string")
            return False
        try:
            with contextlib.redirect_stderr(io.StringIO()) as errors:
                args = get_args_parser().parse_args(command[1:])
        except SystemExit:
            print(f"not correct: torchrun refuses {command}: {errors.getvalue().strip()}")
            return False
        try:
            nodes = parse_min_max_nnodes(args.nnodes)
        except (ValueError, RuntimeError) as exc:
            print(f"not correct: torchrun refuses --nnodes {args.nnodes!r}: {exc}")
            return False
        got = {
            "nnodes (min, max)": nodes,
            "nproc_per_node": args.nproc_per_node,
            "standalone": args.standalone,
            "module": args.module,  # -m: run the script as a module, as python -m does
            "no_python": args.no_python,  # run the script as a program, not with python
            "run_path": args.run_path,
            "training_script": args.training_script,
            "training_script_args": list(args.training_script_args),
        }
        expected = {
            "nnodes (min, max)": (1, 1),
            "nproc_per_node": str(nproc),
            "standalone": True,
            "module": False,
            "no_python": False,
            "run_path": False,
            "training_script": script,
            "training_script_args": list(script_args),
        }
        wrong = [key for key in expected if got[key] != expected[key]]
        if wrong:
            read = {key: got[key] for key in wrong}
            want = {key: expected[key] for key in wrong}
            print(f"not correct: {call} gives {command}; torchrun reads {read}, not {want}")
            return False
    print("correct")
    return True


def torchrun_command(nproc, script, script_args):
    # Your code here: ["torchrun", options..., script, script arguments...]
    return None


if __name__ == "__main__":
    check_torchrun_command(torchrun_command)


# %% tags=["solution"]
# Reference solution. torchrun's own options come first: everything after the script's name
# is passed to the script.
def torchrun_command(nproc, script, script_args):
    return ["torchrun", "--standalone", "--nproc-per-node", str(nproc), script, *script_args]


if __name__ == "__main__":
    assert check_torchrun_command(torchrun_command)

# %%
# Summary
# -------
# * Data parallel training splits each global batch into equal shares, one per process, and
#   averages the gradients; with a mean loss that average *is* the full-batch gradient, as
#   this page measured (two processes, one process: the same gradients and the same weights).
# * ``DistributedSampler`` gives each rank its own share (disjoint when the dataset divides
#   evenly); call ``set_epoch`` every epoch or every epoch repeats the same order.
# * ``all_reduce`` leaves the sum of all ranks' tensors on every rank; DDP uses it on the
#   gradients during ``backward()`` and divides by the world size.
# * Start workers with ``torch.multiprocessing.spawn`` (worker in an importable module, work
#   under ``if __name__ == "__main__":``) or with ``torchrun``. Either way the processes meet
#   at a store that the launcher holds open on a port the system picked: spawned workers pass
#   it to ``init_process_group`` as ``store=``, torchrun's find it through ``env://``
#   (``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``, ``WORLD_SIZE``).
# * End every worker with ``destroy_process_group()`` (in a ``finally:``), after the model is
#   gone, and import ``torch._dynamo`` and ``torch.distributed.nn`` before the group exists,
#   so that nothing keeps the group, and its threads, alive into the interpreter's exit.
# * Save checkpoints from rank 0 only, from ``model.module``; on GPUs use the device's backend
#   (``nccl`` on CUDA), one process per device, ``device_id`` and ``device_ids=[local_rank]``.
#
# Where to go next
# ----------------
# `Lightning and Hydra <../13_lightning_hydra/>`_: Lightning's ``Trainer`` runs this whole
# setup (``strategy="ddp"``, ``devices=2``) for you; the post
# `Beyond plain PyTorch <../../posts/lightning-hydra/>`_ gives the ideas behind it.
