"""The exercise checkers of tutorials/06_checkpointing.py reject plausible wrong answers."""

import os
import tempfile
from pathlib import Path

import torch
from support import load_checkers, load_solution, run_quietly

CHECKS = load_checkers("06_checkpointing")


def test_resume_checker_rejects_a_checkpoint_without_the_random_state():
    def save(path, model, optimizer, scheduler, epoch):
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch,
            },
            path,
        )

    def load(path, model, optimizer, scheduler):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        return checkpoint["epoch"]  # dropout now draws other masks than the uninterrupted run

    verdict, printed = run_quietly(CHECKS["check_resume"], save, load)
    assert verdict is False and printed.startswith("not correct:")
    assert "largest difference" in printed


def test_resume_checker_rejects_a_checkpoint_without_the_optimizer_state():
    def save(path, model, optimizer, scheduler, epoch):
        torch.save(
            {"model": model.state_dict(), "epoch": epoch, "rng": torch.get_rng_state()}, path
        )

    def load(path, model, optimizer, scheduler):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model"])  # AdamW restarts its running averages
        torch.set_rng_state(checkpoint["rng"])
        return checkpoint["epoch"]

    verdict, printed = run_quietly(CHECKS["check_resume"], save, load)
    assert verdict is False and printed.startswith("not correct:")


def test_resume_checker_rejects_a_pickled_model_that_needs_weights_only_false():
    def save(path, model, optimizer, scheduler, epoch):
        torch.save({"model": model, "optimizer": optimizer.state_dict(), "epoch": epoch}, path)

    def load(path, model, optimizer, scheduler):
        checkpoint = torch.load(path, weights_only=False)
        model.load_state_dict(checkpoint["model"].state_dict())
        optimizer.load_state_dict(checkpoint["optimizer"])
        return checkpoint["epoch"]

    verdict, printed = run_quietly(CHECKS["check_resume"], save, load)
    assert verdict is False and printed.startswith("not correct:")
    assert "weights_only=True" in printed


def test_atomic_save_checker_rejects_saving_in_place():
    def wrong(obj, path):
        torch.save(obj, path)  # truncates the old file before writing

    verdict, printed = run_quietly(CHECKS["check_atomic_save"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_atomic_save_checker_rejects_a_temporary_file_left_behind():
    def wrong(obj, path):
        path = Path(path)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)  # on failure the half-written temporary file stays
        os.replace(tmp_name, path)

    verdict, printed = run_quietly(CHECKS["check_atomic_save"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "expected only ['last.pt']" in printed


def test_resume_checker_rejects_a_checkpoint_without_the_scheduler_state():
    def save(path, model, optimizer, scheduler, epoch):
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),  # holds the current learning rate
                "epoch": epoch,
                "rng": torch.get_rng_state(),
            },
            path,
        )

    def load(path, model, optimizer, scheduler):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        torch.set_rng_state(checkpoint["rng"])
        return checkpoint["epoch"]  # the scheduler counts its epochs from zero again

    verdict, printed = run_quietly(CHECKS["check_resume"], save, load)
    assert verdict is False and printed.startswith("not correct:")
    assert "largest difference" in printed


def test_resume_checker_accepts_the_reference_solution():
    namespace = load_solution("06_checkpointing", "check_resume")
    verdict, printed = run_quietly(
        namespace["check_resume"], namespace["my_save_checkpoint"], namespace["my_load_checkpoint"]
    )
    assert verdict is True and printed == "correct\n"


def test_atomic_save_checker_rejects_a_temporary_file_in_the_system_temporary_folder():
    def wrong(obj, path):
        fd, tmp_name = tempfile.mkstemp(suffix=".tmp")  # not next to path: maybe on another disk
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(obj, f)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    default_folder = tempfile.gettempdir()
    verdict, printed = run_quietly(CHECKS["check_atomic_save"], wrong)
    assert verdict is False
    assert printed.startswith("not correct: the temporary file went to the system's temporary")
    assert tempfile.gettempdir() == default_folder  # the checker put it back


def test_atomic_save_checker_accepts_the_reference_solution():
    namespace = load_solution("06_checkpointing", "check_atomic_save")
    verdict, printed = run_quietly(namespace["check_atomic_save"], namespace["my_atomic_save"])
    assert verdict is True and printed == "correct\n"
