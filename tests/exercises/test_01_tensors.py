"""The exercise checkers of tutorials/01_tensors.py reject realistic mistakes and accept a
correct answer (the reference solutions are asserted by the tutorial itself)."""

from __future__ import annotations

import torch
from support import load_checkers, run_quietly

CHECKS = load_checkers("01_tensors")


def test_matmul_checker_rejects_elementwise_product():
    def wrong(a, b):
        return a * b  # element-wise, not a matrix product

    verdict, printed = run_quietly(CHECKS["check_matmul"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "expected" in printed and "got" in printed


def test_matmul_checker_accepts_torch_mm():
    verdict, printed = run_quietly(CHECKS["check_matmul"], torch.mm)
    assert verdict is True and printed == "correct\n"


def test_pairwise_checker_rejects_transposed_result():
    def wrong(x, y):
        return ((x.unsqueeze(0) - y.unsqueeze(1)) ** 2).sum(dim=2)  # (m, n), not (n, m)

    verdict, printed = run_quietly(CHECKS["check_pairwise"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "expected shape (4, 3), got (3, 4)" in printed


def test_pairwise_checker_accepts_cdist():
    verdict, printed = run_quietly(CHECKS["check_pairwise"], lambda x, y: torch.cdist(x, y) ** 2)
    assert verdict is True and printed == "correct\n"


def test_channels_first_checker_rejects_reshape():
    def wrong(images):
        n, h, w, c = images.shape
        return images.reshape(n, c, h, w)  # right shape, pixels scrambled

    verdict, printed = run_quietly(CHECKS["check_channels_first"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "channel 0 of image 0" in printed


def test_channels_first_checker_rejects_swapping_batch_and_channels():
    # With N == C the result had the right shape and the message showed equal "should be" and
    # "got" values; the batch's sizes now all differ, so the shape gives it away.
    verdict, printed = run_quietly(CHECKS["check_channels_first"], lambda x: x.permute(3, 0, 1, 2))
    assert verdict is False
    assert printed == "not correct: expected shape (2, 3, 4, 5), got (3, 2, 4, 5)\n"


def test_channels_first_checker_shows_a_row_that_differs():
    def wrong(images):
        return images.permute(0, 3, 1, 2).flip(3)  # right shape, every row reversed

    verdict, printed = run_quietly(CHECKS["check_channels_first"], wrong)
    assert verdict is False
    assert printed == (
        "not correct: row 0 of channel 0 of image 0 should be [0, 3, 6, 9, 12], "
        "got [12, 9, 6, 3, 0]\n"
    )


def test_channels_first_checker_accepts_movedim():
    verdict, printed = run_quietly(CHECKS["check_channels_first"], lambda x: x.movedim(-1, 1))
    assert verdict is True and printed == "correct\n"
