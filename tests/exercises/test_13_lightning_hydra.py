"""The Lightning and Hydra tutorial's exercise checkers reject plausible wrong answers."""

import hydra
import pytest
import torch
import torch.nn.functional as F
from hydra.errors import ConfigCompositionException
from support import load_checkers, load_solution, run_quietly

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


def test_training_step_checker_rejects_a_step_that_calls_backward():
    def wrong(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        loss.backward()  # the Trainer calls it again on the returned loss: the graph is gone
        self.log("train_loss", loss)
        return loss

    verdict, printed = run_quietly(CHECKS["check_training_step"], wrong)
    assert verdict is False and printed.startswith("not correct: training_step called backward")


def test_training_step_checker_accepts_the_reference_solution():
    namespace = load_solution("13_lightning_hydra", "check_training_step")
    verdict, printed = run_quietly(namespace["check_training_step"], namespace["training_step"])
    assert verdict is True and printed == "correct\n"


def test_overrides_checker_rejects_a_float_where_the_page_types_an_int():
    def wrong():
        return ["optimizer=sgd", "optimizer.lr=0.05", "hidden=64.0", "max_epochs=20"]

    verdict, printed = run_quietly(CHECKS["check_overrides"], wrong)
    assert verdict is False and printed.startswith("not correct: raised ConfigCompositionException")


def test_overrides_checker_leaves_the_digits_config_typed():
    # The checker registers "digits" again; a reader who then reruns the page's override cell
    # must still see a wrong type fail, as the page says.
    def right():
        return ["optimizer=sgd", "optimizer.lr=0.05", "hidden=64", "max_epochs=20"]

    assert run_quietly(CHECKS["check_overrides"], right) == (True, "correct\n")
    error = pytest.raises(ConfigCompositionException, match=r"optimizer\.lr=fast")
    with hydra.initialize(version_base="1.3"), error:
        hydra.compose(config_name="digits", overrides=["optimizer.lr=fast"])


def test_overrides_checker_accepts_the_reference_solution():
    namespace = load_solution("13_lightning_hydra", "check_overrides")
    verdict, printed = run_quietly(namespace["check_overrides"], namespace["my_overrides"])
    assert verdict is True and printed == "correct\n"
