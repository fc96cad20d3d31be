"""The exercise checkers of tutorials/05_training.py reject plausible wrong answers."""

import copy

from support import load_checkers, load_solution, run_quietly

CHECKS = load_checkers("05_training")


def _early_stopping(copy_state=True, ties_improve=False, stop_after=None):
    """The reference loop, with one of three plausible mistakes switched on."""

    def fit(model, run_epoch, patience, max_epochs):
        stop_after_bad = patience if stop_after is None else stop_after
        best_loss, best_epoch, best_state, bad_epochs = float("inf"), 0, None, 0
        for epoch in range(1, max_epochs + 1):
            val_loss = run_epoch(model)
            improved = val_loss <= best_loss if ties_improve else val_loss < best_loss
            if improved:
                best_loss, best_epoch, bad_epochs = val_loss, epoch, 0
                state = model.state_dict()  # the live tensors: training keeps changing them
                best_state = copy.deepcopy(state) if copy_state else state
            else:
                bad_epochs += 1
                if bad_epochs >= stop_after_bad:
                    break
        model.load_state_dict(best_state)
        return best_epoch, epoch

    return fit


def test_early_stopping_checker_rejects_a_state_dict_kept_without_a_copy():
    verdict, printed = run_quietly(
        CHECKS["check_early_stopping"], _early_stopping(copy_state=False)
    )
    assert verdict is False
    assert "expected the weights of epoch 4" in printed


def test_early_stopping_checker_rejects_a_tie_counted_as_an_improvement():
    verdict, printed = run_quietly(
        CHECKS["check_early_stopping"], _early_stopping(ties_improve=True)
    )
    assert verdict is False
    assert "expected (best_epoch, epochs_run) = (4, 7), got (9, 9)" in printed


def test_early_stopping_checker_rejects_one_epoch_of_patience_too_many():
    def fit(model, run_epoch, patience, max_epochs):
        return _early_stopping(stop_after=patience + 1)(model, run_epoch, patience, max_epochs)

    verdict, printed = run_quietly(CHECKS["check_early_stopping"], fit)
    assert verdict is False
    assert "expected (best_epoch, epochs_run) = (4, 7), got (9, 9)" in printed


def test_early_stopping_checker_rejects_epochs_counted_from_zero():
    def fit(model, run_epoch, patience, max_epochs):
        best_epoch, epochs_run = _early_stopping()(model, run_epoch, patience, max_epochs)
        return best_epoch - 1, epochs_run

    verdict, printed = run_quietly(CHECKS["check_early_stopping"], fit)
    assert verdict is False
    assert "got (3, 7)" in printed


def test_early_stopping_checker_rejects_restoring_only_when_stopping_early():
    def fit(model, run_epoch, patience, max_epochs):
        best_loss, best_epoch, best_state, bad_epochs = float("inf"), 0, None, 0
        for epoch in range(1, max_epochs + 1):
            val_loss = run_epoch(model)
            if val_loss < best_loss:
                best_loss, best_epoch, bad_epochs = val_loss, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad_epochs += 1
                if bad_epochs >= patience:
                    model.load_state_dict(best_state)  # a run that reaches max_epochs keeps
                    break  # its last weights
        return best_epoch, epoch

    verdict, printed = run_quietly(CHECKS["check_early_stopping"], fit)
    assert verdict is False
    assert "with patience 3 expected the weights of epoch 2" in printed


def test_early_stopping_checker_accepts_the_reference_solution():
    namespace = load_solution("05_training", "check_early_stopping")
    verdict, printed = run_quietly(
        namespace["check_early_stopping"], namespace["fit_with_early_stopping"]
    )
    assert verdict is True and printed == "correct\n"


def test_train_one_epoch_checker_rejects_zero_grad_between_backward_and_step():
    def wrong(model, loader, loss_fn, optimizer):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.zero_grad()  # wipes the gradients the step needs
            optimizer.step()
            total_loss += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
        return total_loss / seen, correct / seen

    verdict, printed = run_quietly(CHECKS["check_train_one_epoch"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_train_one_epoch_checker_rejects_mean_of_batch_means():
    def wrong(model, loader, loss_fn, optimizer):
        model.train()
        losses, correct, seen = [], 0, 0
        for xb, yb in loader:
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())  # the short last batch counts as much as a full one
            correct += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
        return sum(losses) / len(losses), correct / seen

    verdict, printed = run_quietly(CHECKS["check_train_one_epoch"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "mean loss per example" in printed


def test_train_one_epoch_checker_rejects_a_loop_without_train_mode():
    def wrong(model, loader, loss_fn, optimizer):
        total_loss, correct, seen = 0.0, 0, 0
        for xb, yb in loader:  # model left in eval mode: dropout is off
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
        return total_loss / seen, correct / seen

    verdict, printed = run_quietly(CHECKS["check_train_one_epoch"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_accumulation_checker_rejects_losses_not_divided_by_the_steps():
    def wrong(model, loader, loss_fn, optimizer, accum_steps):
        model.train()
        optimizer.zero_grad()
        for i, (xb, yb) in enumerate(loader, start=1):
            loss_fn(model(xb), yb).backward()  # sums accum_steps means: steps 4x too long
            if i % accum_steps == 0:
                optimizer.step()
                optimizer.zero_grad()

    verdict, printed = run_quietly(CHECKS["check_accumulation"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_accumulation_checker_rejects_zero_grad_on_every_batch():
    def wrong(model, loader, loss_fn, optimizer, accum_steps):
        model.train()
        for i, (xb, yb) in enumerate(loader, start=1):
            optimizer.zero_grad()  # throws away the batches accumulated so far
            (loss_fn(model(xb), yb) / accum_steps).backward()
            if i % accum_steps == 0:
                optimizer.step()

    verdict, printed = run_quietly(CHECKS["check_accumulation"], wrong)
    assert verdict is False and printed.startswith("not correct:")
