"""The debugging tutorial's exercise checkers reject plausible wrong answers."""

import torch
import torch.nn.functional as F
from support import load_checkers, load_solution, run_quietly
from torch import nn
from torch.utils.data import Subset

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


def _gradients(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return {n: m.weight.grad for n, m in model.named_modules() if isinstance(m, nn.Linear)}


def test_grad_norm_checker_rejects_tensors_where_floats_are_asked_for():
    def wrong(model, x, y):
        return {name: grad.norm() for name, grad in _gradients(model, x, y).items()}  # no .item()

    verdict, printed = run_quietly(CHECKS["check_grad_norms"], wrong)
    assert verdict is False and printed.startswith("not correct: expected Python floats")


def test_grad_norm_checker_reports_per_row_norms_instead_of_raising():
    def wrong(model, x, y):  # one norm per output unit: a tensor .item() cannot convert
        return {name: grad.norm(dim=1) for name, grad in _gradients(model, x, y).items()}

    verdict, printed = run_quietly(CHECKS["check_grad_norms"], wrong)
    assert verdict is False and printed.startswith("not correct: expected Python floats")


def test_grad_norm_checker_rejects_nan_norms():
    def wrong(model, x, y):  # nan compares false with everything, also with the tolerance
        return {name: float("nan") for name in _gradients(model, x, y)}

    verdict, printed = run_quietly(CHECKS["check_grad_norms"], wrong)
    assert verdict is False and printed.startswith("not correct: expected {")


def test_grad_norm_checker_accepts_the_reference_solution():
    namespace = load_solution("11_debugging", "check_grad_norms")
    verdict, printed = run_quietly(namespace["check_grad_norms"], namespace["grad_norms_per_layer"])
    assert verdict is True and printed == "correct\n"


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


def _hooked(model, x, is_bad):
    """Names of the modules whose output ``is_bad``, in the order they ran; hooks removed."""
    bad = []
    handles = [
        module.register_forward_hook(
            lambda mod, inp, out, name=name: bad.append(name) if is_bad(out) else None
        )
        for name, module in model.named_modules()
        if name
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return bad


def test_first_nonfinite_checker_rejects_any_instead_of_all():
    def wrong(model, x):  # flags an output only when *every* value is non-finite
        bad = _hooked(model, x, lambda out: not torch.isfinite(out).any())
        return bad[0] if bad else None

    verdict, printed = run_quietly(CHECKS["check_first_nonfinite"], wrong)
    assert verdict is False and "got '4'" in printed


def test_first_nonfinite_checker_rejects_an_inf_only_check():
    def wrong(model, x):
        bad = _hooked(model, x, lambda out: torch.isinf(out).any())  # misses nan
        return bad[0] if bad else None

    verdict, printed = run_quietly(CHECKS["check_first_nonfinite"], wrong)
    assert verdict is False and "'body'" in printed and printed.rstrip().endswith("got None")


def test_first_nonfinite_checker_rejects_the_order_of_registration():
    def wrong(model, x):  # the first bad module as named_modules() lists them, not as they ran
        bad = set(_hooked(model, x, lambda out: not torch.isfinite(out).all()))
        return next((name for name, _ in model.named_modules() if name in bad), None)

    verdict, printed = run_quietly(CHECKS["check_first_nonfinite"], wrong)
    assert verdict is False and printed.rstrip().endswith("got 'head'")


def test_first_nonfinite_checker_accepts_the_reference_solution():
    namespace = load_solution("11_debugging", "check_first_nonfinite")
    verdict, printed = run_quietly(namespace["check_first_nonfinite"], namespace["first_nonfinite"])
    assert verdict is True and printed == "correct\n"


def test_seeded_loader_checker_rejects_an_order_shuffled_once():
    def wrong(dataset, seed):  # a seeded permutation, but the same one every epoch
        generator = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(dataset), generator=generator).tolist()
        return torch.utils.data.DataLoader(Subset(dataset, order), batch_size=4)

    verdict, printed = run_quietly(CHECKS["check_seeded_loader"], wrong)
    assert verdict is False and printed.startswith("not correct: expected a new order")


def test_seeded_loader_checker_accepts_the_reference_solution():
    namespace = load_solution("11_debugging", "check_seeded_loader")
    verdict, printed = run_quietly(namespace["check_seeded_loader"], namespace["seeded_loader"])
    assert verdict is True and printed == "correct\n"


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
