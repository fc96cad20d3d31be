"""The exercise checkers of tutorials/07_transfer_learning.py reject plausible wrong answers."""

from support import load_checkers, run_quietly

CHECKS = load_checkers("07_transfer_learning")


def test_freeze_checker_rejects_a_frozen_head():
    def wrong(model):
        model.requires_grad_(False)  # froze everything, forgot to unfreeze the head
        return sum(p.numel() for p in model.parameters())

    verdict, printed = run_quietly(CHECKS["check_freeze"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_freeze_checker_rejects_a_count_of_all_parameters():
    def wrong(model):
        model.backbone.requires_grad_(False)
        return sum(p.numel() for p in model.parameters())  # counts frozen ones too

    verdict, printed = run_quietly(CHECKS["check_freeze"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "45" in printed


def test_optimizer_checker_rejects_swapped_learning_rates():
    import torch

    def wrong(model, backbone_lr, head_lr):
        groups = [
            {"params": model.backbone.parameters(), "lr": head_lr},
            {"params": model.head.parameters(), "lr": backbone_lr},
        ]
        return torch.optim.SGD(groups, momentum=0.9)

    verdict, printed = run_quietly(CHECKS["check_optimizer"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_optimizer_checker_reports_a_parameter_in_two_groups():
    import torch

    def wrong(model, backbone_lr, head_lr):
        groups = [
            {"params": model.parameters(), "lr": backbone_lr},  # includes the head as well
            {"params": model.head.parameters(), "lr": head_lr},
        ]
        return torch.optim.SGD(groups, momentum=0.9)

    verdict, printed = run_quietly(CHECKS["check_optimizer"], wrong)
    assert verdict is False and printed.startswith("not correct: raised ValueError")


def test_optimizer_checker_rejects_sgd_without_momentum():
    import torch

    def wrong(model, backbone_lr, head_lr):
        groups = [
            {"params": model.backbone.parameters(), "lr": backbone_lr},
            {"params": model.head.parameters(), "lr": head_lr},
        ]
        return torch.optim.SGD(groups)  # momentum left at its default, 0

    verdict, printed = run_quietly(CHECKS["check_optimizer"], wrong)
    assert verdict is False and printed.startswith("not correct: expected momentum=0.9")


def test_optimizer_checker_rejects_momentum_in_one_group_only():
    import torch

    def wrong(model, backbone_lr, head_lr):
        groups = [
            {"params": model.backbone.parameters(), "lr": backbone_lr},
            {"params": model.head.parameters(), "lr": head_lr, "momentum": 0.9},
        ]
        return torch.optim.SGD(groups)

    verdict, printed = run_quietly(CHECKS["check_optimizer"], wrong)
    assert verdict is False and printed.startswith("not correct: expected momentum=0.9")


def test_optimizer_checker_accepts_the_reference_solution():
    import torch

    def reference(model, backbone_lr, head_lr):
        groups = [
            {"params": model.backbone.parameters(), "lr": backbone_lr},
            {"params": model.head.parameters(), "lr": head_lr},
        ]
        return torch.optim.SGD(groups, momentum=0.9)

    verdict, printed = run_quietly(CHECKS["check_optimizer"], reference)
    assert verdict is True and printed == "correct\n"


def test_optimizer_checker_rejects_a_frozen_backbone():
    import torch

    def wrong(model, backbone_lr, head_lr):
        model.backbone.requires_grad_(False)  # exercise 1's freeze: the backbone never moves
        groups = [
            {"params": model.backbone.parameters(), "lr": backbone_lr},
            {"params": model.head.parameters(), "lr": head_lr},
        ]
        return torch.optim.SGD(groups, momentum=0.9)

    verdict, printed = run_quietly(CHECKS["check_optimizer"], wrong)
    assert verdict is False and printed.startswith("not correct: every parameter should train")
