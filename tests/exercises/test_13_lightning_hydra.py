"""The Lightning and Hydra tutorial's exercise checkers reject plausible wrong answers."""

import torch
import torch.nn.functional as F
from support import load_checkers, run_quietly

CHECKS = load_checkers("13_lightning_hydra")


def test_training_step_checker_rejects_a_float_loss():
    def wrong(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss.item()  # a number: Lightning cannot call backward() on it

    verdict, printed = run_quietly(CHECKS["check_training_step"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_training_step_checker_rejects_softmax_before_cross_entropy():
    def wrong(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(torch.softmax(self(x), dim=1), y)  # softmax applied twice
        self.log("train_loss", loss)
        return loss

    verdict, printed = run_quietly(CHECKS["check_training_step"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_training_step_checker_rejects_a_step_that_logs_nothing():
    def wrong(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    verdict, printed = run_quietly(CHECKS["check_training_step"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_overrides_checker_rejects_renaming_instead_of_switching_the_group():
    def wrong():
        # Adam's option renamed to "sgd": its momentum stays 0.0, not the sgd option's 0.9.
        return ["optimizer.name=sgd", "optimizer.lr=0.05", "hidden=64", "max_epochs=20"]

    verdict, printed = run_quietly(CHECKS["check_overrides"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_overrides_checker_rejects_a_key_that_does_not_exist():
    def wrong():
        return ["optimizer=sgd", "lr=0.05", "hidden=64", "max_epochs=20"]  # lr is optimizer.lr

    verdict, printed = run_quietly(CHECKS["check_overrides"], wrong)
    assert verdict is False and printed.startswith("not correct:")
