"""The exercise checkers of tutorials/02_autograd.py reject realistic mistakes and accept a
correct answer (the reference solutions are asserted by the tutorial itself)."""

from __future__ import annotations

import torch
from support import load_checkers, run_quietly

CHECKS = load_checkers("02_autograd")


def test_derivative_checker_rejects_a_missing_product_rule_term():
    def wrong(x):
        return 2 * x * torch.tanh(x)  # forgets x**2 * tanh'(x)

    verdict, printed = run_quietly(CHECKS["check_derivative"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "expected" in printed and "got" in printed


def test_derivative_checker_accepts_the_sech_form():
    def right(x):
        return 2 * x * torch.tanh(x) + x**2 / torch.cosh(x) ** 2  # tanh' = sech^2

    verdict, printed = run_quietly(CHECKS["check_derivative"], right)
    assert verdict is True and printed == "correct\n"


class _Softplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.log1p(torch.exp(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


class _SoftplusIgnoringGradOutput(_Softplus):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.sigmoid(x)  # the local derivative only: the chain rule is missing


def test_backward_checker_rejects_ignoring_grad_output():
    verdict, printed = run_quietly(CHECKS["check_backward"], _SoftplusIgnoringGradOutput)
    assert verdict is False and printed.startswith("not correct:")
    assert "expected the gradient" in printed


def test_backward_checker_accepts_the_chain_rule():
    verdict, printed = run_quietly(CHECKS["check_backward"], _Softplus)
    assert verdict is True and printed == "correct\n"


def test_fit_checker_rejects_a_loop_that_never_zeroes_gradients():
    def wrong(x, y):
        w = torch.zeros(1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        for _ in range(300):
            ((w * x + b - y) ** 2).mean().backward()  # .grad keeps every past gradient
            with torch.no_grad():
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
        return w.item(), b.item()

    verdict, printed = run_quietly(CHECKS["check_fit"], wrong)
    assert verdict is False and printed.startswith("not correct: expected w")


def test_fit_checker_accepts_least_squares():
    def exact(x, y):
        design = torch.stack([x, torch.ones_like(x)], dim=1)
        return torch.linalg.lstsq(design, y.unsqueeze(1)).solution.squeeze(1).tolist()

    verdict, printed = run_quietly(CHECKS["check_fit"], exact)
    assert verdict is True and printed == "correct\n"
