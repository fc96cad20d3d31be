"""The debugging tutorial's exercise checkers reject plausible wrong answers."""

import torch
import torch.nn.functional as F
from support import load_checkers, run_quietly
from torch import nn

CHECKS = load_checkers("11_debugging")


def test_grad_norm_checker_rejects_norms_without_zeroing_old_gradients():
    def wrong(model, x, y):
        F.cross_entropy(model(x), y).backward()  # adds to the gradients already there
        return {
            name: module.weight.grad.norm().item()
            for name, module in model.named_modules()
            if isinstance(module, nn.Linear)
        }

    verdict, printed = run_quietly(CHECKS["check_grad_norms"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_grad_norm_checker_rejects_weight_norms_instead_of_gradient_norms():
    def wrong(model, x, y):
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
        return {
            name: module.weight.norm().item()  # the weights, not their gradients
            for name, module in model.named_modules()
            if isinstance(module, nn.Linear)
        }

    verdict, printed = run_quietly(CHECKS["check_grad_norms"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_first_nonfinite_checker_rejects_a_nan_only_check():
    def wrong(model, x):
        bad = []
        handles = [
            module.register_forward_hook(
                lambda mod, inp, out, name=name: bad.append(name) if out.isnan().any() else None
            )
            for name, module in model.named_modules()
            if name
        ]
        with torch.no_grad():
            model(x)
        for handle in handles:
            handle.remove()
        return bad[0] if bad else None  # misses the inf that came first

    verdict, printed = run_quietly(CHECKS["check_first_nonfinite"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_seeded_loader_checker_rejects_seeding_the_global_generator():
    def wrong(dataset, seed):
        torch.manual_seed(seed)  # the order is drawn later, when the loader is iterated
        return torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)

    verdict, printed = run_quietly(CHECKS["check_seeded_loader"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def _first_nonfinite(model, x, remove_hooks):
    bad = []
    handles = [
        module.register_forward_hook(
            lambda mod, inp, out, name=name: None if torch.isfinite(out).all() else bad.append(name)
        )
        for name, module in model.named_modules()
        if name
    ]
    with torch.no_grad():
        model(x)
    if remove_hooks:
        for handle in handles:
            handle.remove()
    return bad[0] if bad else None


def test_first_nonfinite_checker_rejects_hooks_left_registered():
    def wrong(model, x):
        return _first_nonfinite(model, x, remove_hooks=False)  # right answer, hooks left behind

    verdict, printed = run_quietly(CHECKS["check_first_nonfinite"], wrong)
    assert verdict is False and printed.startswith("not correct: hooks still registered")


def test_first_nonfinite_checker_accepts_hooks_that_are_removed():
    def right(model, x):
        return _first_nonfinite(model, x, remove_hooks=True)

    verdict, printed = run_quietly(CHECKS["check_first_nonfinite"], right)
    assert verdict is True and printed == "correct\n"
