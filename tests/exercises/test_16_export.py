"""The exercise checkers of tutorials/16_export.py reject plausible wrong answers."""

import numpy as np
import torch
from support import load_checkers, run_quietly
from torch import nn
from torch.export import Dim

CHECKS = load_checkers("16_export")


def test_export_for_serving_checker_accepts_the_reference_solution():
    def solution(model, example):
        model.eval()
        batch = Dim("batch", min=1, max=512)
        return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))

    verdict, printed = run_quietly(CHECKS["check_export_for_serving"], solution)
    assert verdict is True and printed == "correct\n"


def test_export_for_serving_checker_rejects_a_static_batch_size():
    def wrong(model, example):
        model.eval()
        return torch.export.export(model, (example,))  # every shape fixed to the example's

    verdict, printed = run_quietly(CHECKS["check_export_for_serving"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: a batch of 1 was refused: AssertionError")


def test_export_for_serving_checker_rejects_an_export_in_training_mode():
    def wrong(model, example):
        batch = Dim("batch", min=1, max=512)  # dynamic, but dropout and batch statistics stay
        return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))

    verdict, printed = run_quietly(CHECKS["check_export_for_serving"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: for a batch of 1, the outputs differ")
    assert "eval-mode" in printed


def test_export_for_serving_checker_rejects_a_range_too_small():
    def wrong(model, example):
        model.eval()
        batch = Dim("batch", min=1, max=64)
        return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))

    verdict, printed = run_quietly(CHECKS["check_export_for_serving"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: a batch of 512 was refused")


def test_export_for_serving_checker_rejects_the_eager_model_itself():
    def wrong(model, example):
        return model.eval()  # not an ExportedProgram

    verdict, printed = run_quietly(CHECKS["check_export_for_serving"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: expected a torch.export.ExportedProgram")


class CondRescale(nn.Module):
    def forward(self, x):
        largest = x.abs().max()
        return torch.cond(largest > 1, lambda t, m: t / m, lambda t, m: t.clone(), (x, largest))


class BranchlessRescale(nn.Module):
    def forward(self, x):
        return x / x.abs().max().clamp(min=1.0)


def test_rescale_checker_accepts_torch_cond_and_the_branchless_solution():
    for module_class in (CondRescale, BranchlessRescale):
        verdict, printed = run_quietly(CHECKS["check_rescale"], module_class)
        assert verdict is True and printed == "correct\n", module_class.__name__


def test_rescale_checker_accepts_picking_with_a_scalar_where():
    class PickBoth(nn.Module):  # the page's other branch-free way: compute both, pick one
        def forward(self, x):
            largest = x.abs().max()
            return torch.where(largest > 1, x / largest, x)

    verdict, printed = run_quietly(CHECKS["check_rescale"], PickBoth)
    assert verdict is True and printed == "correct\n"


def test_rescale_checker_rejects_a_python_if_on_a_tensor():
    class Wrong(nn.Module):
        def forward(self, x):
            largest = x.abs().max()
            if largest > 1:
                return x / largest
            return x

    verdict, printed = run_quietly(CHECKS["check_rescale"], Wrong)
    assert verdict is False
    assert printed.startswith("not correct: torch.export.export raised")
    assert "  at: if largest > 1:" in printed  # the line export names
    # export's partial graph went to the checker's buffer, not into the message
    assert "def forward" not in printed


def test_rescale_checker_rejects_an_elementwise_where():
    class Wrong(nn.Module):
        def forward(self, x):
            largest = x.abs().max()
            return torch.where(x.abs() > 1, x / largest, x)  # only the large entries shrink

    verdict, printed = run_quietly(CHECKS["check_rescale"], Wrong)
    assert verdict is False
    assert printed.startswith("not correct: with entries up to 5 in size, expected")


def test_rescale_checker_rejects_always_dividing():
    class Wrong(nn.Module):
        def forward(self, x):
            return x / x.abs().max()  # also stretches tensors already inside [-1, 1]

    verdict, printed = run_quietly(CHECKS["check_rescale"], Wrong)
    assert verdict is False
    assert printed.startswith("not correct: with entries inside [-1, 1], expected")


def test_rescale_checker_rejects_the_largest_value_instead_of_the_largest_size():
    class Wrong(nn.Module):
        def forward(self, x):
            return x / x.max().clamp(min=1.0)  # misses a large negative entry

    verdict, printed = run_quietly(CHECKS["check_rescale"], Wrong)
    assert verdict is False and printed.startswith("not correct: with ")


def test_rescale_checker_rejects_rescaling_each_row_on_its_own():
    class Wrong(nn.Module):
        def forward(self, x):
            return x / x.abs().amax(dim=1, keepdim=True).clamp(min=1.0)

    verdict, printed = run_quietly(CHECKS["check_rescale"], Wrong)
    assert verdict is False
    assert printed.startswith("not correct: with entries up to 5 in size, expected")


def test_rescale_checker_reports_a_cond_branch_that_returns_its_input():
    class Wrong(nn.Module):
        def forward(self, x):
            largest = x.abs().max()
            return torch.cond(largest > 1, lambda t, m: t / m, lambda t, m: t, (x, largest))

    verdict, printed = run_quietly(CHECKS["check_rescale"], Wrong)
    assert verdict is False
    assert printed.startswith("not correct: torch.export.export raised")


def test_checkers_report_an_exception_without_a_message():
    # a reader's placeholder: NotImplementedError() has an empty message
    def unfinished(*args):
        raise NotImplementedError

    class Unfinished(nn.Module):
        def forward(self, x):
            raise NotImplementedError

    for name, candidate in [
        ("check_export_for_serving", unfinished),
        ("check_rescale", Unfinished),
        ("check_predict", unfinished),
    ]:
        verdict, printed = run_quietly(CHECKS[name], candidate)
        assert verdict is False and printed.startswith("not correct:"), name
        assert "NotImplementedError" in printed, name


def test_predict_checker_accepts_the_reference_solution():
    def solution(session, images):
        name = session.get_inputs()[0].name
        (logits,) = session.run(None, {name: images.reshape(len(images), 64).astype(np.float32)})
        return logits.argmax(axis=1)

    verdict, printed = run_quietly(CHECKS["check_predict"], solution)
    assert verdict is True and printed == "correct\n"


def test_predict_checker_rejects_a_guessed_input_name():
    def wrong(session, images):
        batch = images.reshape(len(images), 64).astype(np.float32)
        (logits,) = session.run(None, {"pixels": batch})  # the page's name, not this file's
        return logits.argmax(axis=1)

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: raised ValueError") and "'scans'" in printed


def test_predict_checker_rejects_float64_input():
    def wrong(session, images):
        name = session.get_inputs()[0].name
        (logits,) = session.run(None, {name: images.reshape(len(images), 64)})  # still float64
        return logits.argmax(axis=1)

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: raised") and "double" in printed


def test_predict_checker_rejects_unflattened_images():
    def wrong(session, images):
        name = session.get_inputs()[0].name
        (logits,) = session.run(None, {name: images.astype(np.float32)})  # (n, 8, 8)
        return logits.argmax(axis=1)

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False and printed.startswith("not correct: raised")


def test_predict_checker_rejects_the_argmax_over_the_batch():
    def wrong(session, images):
        name = session.get_inputs()[0].name
        (logits,) = session.run(None, {name: images.reshape(len(images), 64).astype(np.float32)})
        return logits.argmax(axis=0)  # the most confident scan per digit, shape (10,)

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: expected a NumPy array of shape (50,)")


def test_predict_checker_rejects_the_list_of_outputs():
    def wrong(session, images):
        name = session.get_inputs()[0].name
        outputs = session.run(None, {name: images.reshape(len(images), 64).astype(np.float32)})
        return np.argmax(outputs, axis=-1)  # shape (1, 50): the list added a dimension

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: expected a NumPy array of shape (50,)")


def test_predict_checker_rejects_preprocessing_the_model_does_not_expect():
    def wrong(session, images):
        name = session.get_inputs()[0].name
        # scaled, though this model takes the raw values 0 to 16
        batch = images.reshape(len(images), 64).astype(np.float32) / 16
        (logits,) = session.run(None, {name: batch})
        return logits.argmax(axis=1)

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: expected the digits")
