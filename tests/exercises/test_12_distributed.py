"""The exercise checkers of tutorials/12_distributed.py reject plausible wrong answers."""

import pytest
import torch
from support import load_checkers, run_quietly

CHECKS = load_checkers("12_distributed")


def test_rank_indices_checker_rejects_a_shuffle_that_ignores_the_epoch():
    def wrong(n, world_size, rank, epoch, seed):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
        total = -(-n // world_size) * world_size
        return (order * world_size)[:total][rank:total:world_size]

    verdict, printed = run_quietly(CHECKS["check_rank_indices"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_rank_indices_checker_rejects_contiguous_blocks():
    def wrong(n, world_size, rank, epoch, seed):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        per_rank = -(-n // world_size)
        return (order * world_size)[rank * per_rank : (rank + 1) * per_rank]

    verdict, printed = run_quietly(CHECKS["check_rank_indices"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_rank_indices_checker_rejects_float_indices():
    def wrong(n, world_size, rank, epoch, seed):
        # The right values, as floats: a dataset cannot be indexed with 4.0.
        generator = torch.Generator().manual_seed(seed + epoch)
        order = torch.randperm(n, generator=generator, dtype=torch.float64).tolist()
        total = -(-n // world_size) * world_size
        return (order * world_size)[:total][rank:total:world_size]

    verdict, printed = run_quietly(CHECKS["check_rank_indices"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "list of integers" in printed


def test_average_gradients_checker_rejects_a_sum_not_divided_by_world_size():
    def wrong(per_rank):
        return [sum(grads) for grads in zip(*per_rank, strict=True)]

    verdict, printed = run_quietly(CHECKS["check_average_gradients"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_torchrun_checker_rejects_options_after_the_script():
    def wrong(nproc, script, script_args):
        # Everything after the script's name goes to the script, not to torchrun.
        return ["torchrun", script, "--standalone", "--nproc-per-node", str(nproc), *script_args]

    verdict, printed = run_quietly(CHECKS["check_torchrun_command"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "training_script_args" in printed


def test_torchrun_checker_rejects_a_number_in_the_command():
    def wrong(nproc, script, script_args):
        # subprocess.run refuses an int in the argument list.
        return ["torchrun", "--standalone", "--nproc-per-node", nproc, script, *script_args]

    verdict, printed = run_quietly(CHECKS["check_torchrun_command"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "string" in printed


@pytest.mark.parametrize(
    ("option", "key"),
    [
        (["-m"], "module"),  # runs `python -m train.py`: no module named train.py
        (["--no-python"], "no_python"),  # runs train.py as a program, not with Python
        (["--run-path"], "run_path"),
    ],
)
def test_torchrun_checker_rejects_options_that_change_how_the_script_runs(option, key):
    def wrong(nproc, script, script_args):
        return ["torchrun", "--standalone", "--nproc-per-node", str(nproc), *option, script]

    verdict, printed = run_quietly(CHECKS["check_torchrun_command"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert key in printed


def test_torchrun_checker_rejects_nproc_machines():
    def wrong(nproc, script, script_args):
        # --nnodes counts machines: with --standalone, torchrun waits for nproc - 1 more.
        command = ["torchrun", "--standalone", "--nnodes", str(nproc)]
        return [*command, "--nproc-per-node", str(nproc), script, *script_args]

    verdict, printed = run_quietly(CHECKS["check_torchrun_command"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "nnodes" in printed


def test_every_checker_rejects_a_function_that_returns_none():
    for name in CHECKS:
        verdict, printed = run_quietly(CHECKS[name], lambda *args: None)
        assert verdict is False and printed.startswith("not correct:"), name
