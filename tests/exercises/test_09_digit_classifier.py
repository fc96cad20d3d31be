"""The exercise checkers of tutorials/09_digit_classifier.py reject plausible wrong answers."""

import torch
from support import load_checkers, load_solution, run_quietly

CHECKS = load_checkers("09_digit_classifier")


def test_confusion_matrix_checker_rejects_the_transposed_matrix():
    def wrong(true, pred, num_classes):
        pairs = num_classes * pred + true  # rows are predictions: the transpose
        return torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)

    verdict, printed = run_quietly(CHECKS["check_confusion_matrix"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_confusion_matrix_checker_rejects_a_missing_minlength():
    def wrong(true, pred, num_classes):
        return torch.bincount(num_classes * true + pred).reshape(num_classes, num_classes)

    verdict, printed = run_quietly(CHECKS["check_confusion_matrix"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_recall_checker_rejects_precision():
    def wrong(confusion):
        return confusion.diag() / confusion.sum(dim=0)  # column sums: precision

    verdict, printed = run_quietly(CHECKS["check_recall"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "expected [0.8, 0.5, 0.75]" in printed


def test_predict_checker_rejects_a_model_left_in_training_mode():
    def wrong(model, raw, mean, std):
        with torch.no_grad():  # no model.eval(): dropout still drops
            probs = model(((raw - mean) / std).unsqueeze(0)).softmax(dim=1)[0]
        return probs.argmax().item(), probs.max().item()

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_predict_checker_rejects_a_scan_that_was_not_normalised():
    def wrong(model, raw, mean, std):
        model.eval()
        with torch.no_grad():
            probs = model(raw.unsqueeze(0)).softmax(dim=1)[0]
        return probs.argmax().item(), probs.max().item()

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_predict_checker_rejects_tensors_instead_of_python_numbers():
    def wrong(model, raw, mean, std):
        model.eval()
        with torch.no_grad():
            probs = model(((raw - mean) / std).unsqueeze(0)).softmax(dim=1)[0]
        return probs.argmax(), probs.max()  # right values, but tensors: .item() missing

    verdict, printed = run_quietly(CHECKS["check_predict"], wrong)
    assert verdict is False and printed.startswith("not correct: expected a pair (int, float)")


def test_predict_checker_accepts_the_reference_solution():
    namespace = load_solution("09_digit_classifier", "check_predict")
    verdict, printed = run_quietly(namespace["check_predict"], namespace["my_predict"])
    assert verdict is True and printed == "correct\n"
