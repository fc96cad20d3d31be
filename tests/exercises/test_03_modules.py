"""The exercise checkers of tutorials/03_modules.py reject realistic mistakes and accept a
correct answer (the reference solutions are asserted by the tutorial itself)."""

from __future__ import annotations

import torch
from support import load_checkers, run_quietly
from torch import nn

CHECKS = load_checkers("03_modules")


class _PlainTensors(nn.Module):
    def __init__(self, num_features):
        super().__init__()
        self.scale = torch.ones(num_features)  # not an nn.Parameter: never registered
        self.shift = torch.zeros(num_features)

    def forward(self, x):
        return x * self.scale + self.shift


class _ScaleShift(nn.Module):
    def __init__(self, num_features):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(num_features))
        self.shift = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        return torch.addcmul(self.shift, x, self.scale)


def test_scale_shift_checker_rejects_plain_tensor_attributes():
    verdict, printed = run_quietly(CHECKS["check_scale_shift"], _PlainTensors)
    assert verdict is False and printed.startswith("not correct:")
    assert "got {}" in printed


def test_scale_shift_checker_accepts_registered_parameters():
    verdict, printed = run_quietly(CHECKS["check_scale_shift"], _ScaleShift)
    assert verdict is True and printed == "correct\n"


class _ForgetsThePooling(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(2 * 8 * 8, 10)  # but pooling left 2 x 4 x 4 values

    def forward(self, x):
        return self.head(self.pool(torch.relu(self.conv(x))).flatten(1))


def _global_pool_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )


def test_small_cnn_checker_rejects_a_linear_layer_of_the_wrong_size():
    verdict, printed = run_quietly(CHECKS["check_small_cnn"], _ForgetsThePooling)
    assert verdict is False and printed.startswith("not correct:")
    assert "it raised RuntimeError: mat1 and mat2 shapes cannot be multiplied" in printed


def test_small_cnn_checker_rejects_a_model_over_budget():
    def big():
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.Flatten(), nn.Linear(1024, 10))

    verdict, printed = run_quietly(CHECKS["check_small_cnn"], big)
    assert verdict is False and "got 10,410" in printed


def test_small_cnn_checker_accepts_global_pooling():
    verdict, printed = run_quietly(CHECKS["check_small_cnn"], _global_pool_cnn)
    assert verdict is True and printed == "correct\n"
