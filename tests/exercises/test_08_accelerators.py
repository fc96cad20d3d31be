"""The exercise checkers of tutorials/08_accelerators.py reject plausible wrong answers."""

import torch
from support import load_checkers, run_quietly
from torch import nn

CHECKS = load_checkers("08_accelerators")


def test_to_device_checker_rejects_tensors_moved_as_if_in_place():
    def wrong(model, batch, device):
        model.to(device)
        for tensor in batch:
            tensor.to(device)  # returns a copy that is thrown away
        return model, batch

    verdict, printed = run_quietly(CHECKS["check_to_device"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "inputs" in printed and "cpu" in printed


def test_to_device_checker_rejects_a_model_left_behind():
    def wrong(model, batch, device):
        inputs, targets = batch
        return model, (inputs.to(device), targets.to(device))

    verdict, printed = run_quietly(CHECKS["check_to_device"], wrong)
    assert verdict is False and printed.startswith("not correct: expected model.")


def test_model_bytes_checker_rejects_float32_parameters_only():
    def wrong(model):
        return sum(p.numel() * 4 for p in model.parameters())  # ignores dtypes and buffers

    verdict, printed = run_quietly(CHECKS["check_model_bytes"], wrong)
    assert verdict is False and printed.startswith("not correct: expected 9500 bytes")


def test_model_bytes_checker_rejects_parameters_without_buffers():
    def wrong(model):
        return sum(p.element_size() * p.nelement() for p in model.parameters())

    verdict, printed = run_quietly(CHECKS["check_model_bytes"], wrong)
    assert verdict is False and printed.startswith("not correct: expected 9500 bytes")


def test_amp_step_checker_rejects_a_step_without_the_scaler():
    def wrong(model, inputs, targets, optimizer, scaler):
        with torch.autocast(device_type=inputs.device.type, dtype=torch.float16):
            loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    verdict, printed = run_quietly(CHECKS["check_amp_step"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "scale" in printed


def test_amp_step_checker_rejects_a_step_without_autocast():
    def wrong(model, inputs, targets, optimizer, scaler):
        loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss.item()

    verdict, printed = run_quietly(CHECKS["check_amp_step"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "float16" in printed


def test_amp_step_checker_rejects_an_unscaled_backward():
    def wrong(model, inputs, targets, optimizer, scaler):
        with torch.autocast(device_type=inputs.device.type, dtype=torch.float16):
            loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()  # not scaled: GradScaler.step() refuses to run
        scaler.step(optimizer)
        scaler.update()
        return loss.item()

    verdict, printed = run_quietly(CHECKS["check_amp_step"], wrong)
    assert verdict is False and printed.startswith("not correct: raised AssertionError")
