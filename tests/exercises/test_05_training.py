"""The exercise checkers of tutorials/05_training.py reject plausible wrong answers."""

from support import load_checkers, run_quietly

CHECKS = load_checkers("05_training")


def test_accuracy_checker_rejects_argmax_over_the_batch_dimension():
    def wrong(logits, targets):
        return (logits.argmax(dim=0) == targets).float().mean().item()  # dim 0: the batch

    verdict, printed = run_quietly(CHECKS["check_accuracy"], wrong)
    assert verdict is False and printed.startswith("not correct:")


def test_accuracy_checker_rejects_a_count_instead_of_a_fraction():
    def wrong(logits, targets):
        return (logits.argmax(dim=1) == targets).sum().item()

    verdict, printed = run_quietly(CHECKS["check_accuracy"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "expected 0.1667" in printed


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
