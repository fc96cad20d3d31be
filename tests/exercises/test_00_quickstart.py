"""The quickstart's exercise checkers reject plausible wrong answers."""

import torch
from support import load_checkers, load_solution, run_quietly

CHECKS = load_checkers("00_quickstart")


def test_accuracy_checker_rejects_a_count_instead_of_a_fraction():
    def wrong(logits, labels):
        return (logits.argmax(dim=1) == labels).sum().item()  # 13, not 0.65

    verdict, printed = run_quietly(CHECKS["check_accuracy"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_accuracy_checker_rejects_a_tensor_instead_of_a_python_float():
    def wrong(logits, labels):
        return (logits.argmax(dim=1) == labels).float().mean()  # tensor(0.65): .item() missing

    verdict, printed = run_quietly(CHECKS["check_accuracy"], wrong)
    assert verdict is False and printed.startswith("not correct: expected a Python float")


def test_accuracy_checker_accepts_the_reference_solution():
    namespace = load_solution("00_quickstart", "check_accuracy")
    verdict, printed = run_quietly(namespace["check_accuracy"], namespace["accuracy"])
    assert verdict is True and printed == "correct\n"


def test_train_step_checker_rejects_a_step_without_zero_grad():
    def wrong(model, optimizer, loss_fn, x, y):
        loss = loss_fn(model(x), y)
        loss.backward()  # gradients of the previous batch are still there
        optimizer.step()
        return loss.item()

    verdict, printed = run_quietly(CHECKS["check_train_step"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_predict_checker_rejects_predictions_in_training_mode():
    def wrong(model, images):
        with torch.no_grad():  # but dropout is still active
            return model(images).argmax(dim=1)

    verdict, printed = run_quietly(CHECKS["check_predict_digits"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_predict_checker_rejects_predictions_with_gradient_tracking():
    def wrong(model, images):
        model.eval()
        return model(images).argmax(dim=1)  # right classes, but the forward pass built a graph

    verdict, printed = run_quietly(CHECKS["check_predict_digits"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: the forward pass recorded the graph")


def test_predict_checker_rejects_float_class_indices():
    def wrong(model, images):
        model.eval()
        with torch.no_grad():
            return model(images).argmax(dim=1).float()  # right values, but not indices

    verdict, printed = run_quietly(CHECKS["check_predict_digits"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: expected integer class indices")


def test_predict_checker_accepts_inference_mode():
    def right(model, images):
        model.eval()
        with torch.inference_mode():
            return model(images).argmax(dim=1)

    verdict, printed = run_quietly(CHECKS["check_predict_digits"], right)
    assert verdict is True and printed == "correct\n"


def test_predict_checker_accepts_the_reference_solution():
    namespace = load_solution("00_quickstart", "check_predict_digits")
    verdict, printed = run_quietly(namespace["check_predict_digits"], namespace["predict_digits"])
    assert verdict is True and printed == "correct\n"
