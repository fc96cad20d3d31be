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
    # export's partial graph went to the checker's buffer, not into the message
    assert "def forward" not in printed


def test_rescale_checker_rejects_an_elementwise_where():
    class Wrong(nn.Module):
        def forward(self, x):
            largest = x.abs().max()
            return torch.where(x.abs() > 1, x / largest, x)  # only the large entries shrink

    verdict, printed = run_quietly(CHECKS["check_rescale"], Wrong)
    assert verdict is False
    assert printed.startswith("not correct: with entries up to 5, expected")


def test_rescale_checker_rejects_always_dividing():
    class Wrong(nn.Module):
        def forward(self, x):
            return x / x.abs().max()  # also stretches tensors already inside [-1, 1]

    verdict, printed = run_quietly(CHECKS["check_rescale"], Wrong)
    assert verdict is False
    assert printed.startswith("not correct: with entries inside [-1, 1], expected")


def test_predict_checker_accepts_the_reference_solution():
    def solution(session, images):
        name = session.get_inputs()[0].name
        (logits,) = session.run(None, {name: images.reshape(len(images), 64).astype(np.float32)})
        return logits.argmax(axis=1)

    verdict, printed = run_quietly(CHECKS["check_predict"], solution)
    assert verdict is True and printed == "correct\n"


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
