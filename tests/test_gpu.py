"""Checks that need a CUDA device; the `gpu` nox session runs them on a GPU machine."""

import pytest
import torch

pytestmark = pytest.mark.gpu


def test_tutorials_pick_the_gpu():
    device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
    assert device.type == "cuda"


def test_training_step_runs_on_the_gpu_with_autocast():
    torch.manual_seed(0)
    device = torch.device("cuda")
    model = torch.nn.Linear(8, 2).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cuda")
    x = torch.randn(16, 8, device=device)
    y = torch.randint(0, 2, (16,), device=device)
    with torch.autocast("cuda", dtype=torch.float16):
        logits = model(x)
        assert logits.dtype == torch.float16
        loss = torch.nn.functional.cross_entropy(logits, y)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    assert all(p.grad is not None and p.grad.device.type == "cuda" for p in model.parameters())
