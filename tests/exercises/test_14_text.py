"""The text tutorial's exercise checkers reject plausible wrong answers and accept right ones,
the page's own reference solutions among them."""

from __future__ import annotations

import contextlib
import io
import math
from itertools import pairwise

import pytest
import torch
import torch.nn.functional as F
from support import ROOT, cells, load_checkers, run_quietly

STEM = "14_text"
CHECKS = load_checkers(STEM)


def rejected(checker: str, answer) -> str:
    verdict, printed = run_quietly(CHECKS[checker], answer)
    assert verdict is False and printed.startswith("not correct:"), printed
    return printed


def accepted(checker: str, answer) -> None:
    verdict, printed = run_quietly(CHECKS[checker], answer)
    assert verdict is True and printed == "correct\n", printed


# Exercise 1: one BPE merge.


def _merge_left_to_right(ids, pair, new_id):
    merged, i = [], 0
    while i < len(ids):
        if tuple(ids[i : i + 2]) == pair:
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


def _first_most_frequent(ids):
    counts: dict[tuple[int, int], int] = {}
    for pair in pairwise(ids):
        counts[pair] = counts.get(pair, 0) + 1
    return max(counts, key=counts.get)  # max keeps the first of equal counts


def test_bpe_checker_rejects_a_scan_that_does_not_skip_the_merged_pair():
    def wrong(ids, new_id):
        pair = _first_most_frequent(ids)
        merged = []
        for i, token in enumerate(ids):
            if (token, ids[i + 1] if i + 1 < len(ids) else None) == pair:
                merged.append(new_id)  # the second half is not skipped: it is kept next
            else:
                merged.append(token)
        return pair, merged

    rejected("check_bpe_merge", wrong)


def test_bpe_checker_rejects_merging_right_to_left():
    def wrong(ids, new_id):
        pair = _first_most_frequent(ids)
        reversed_pair = (pair[1], pair[0])
        merged = _merge_left_to_right(ids[::-1], reversed_pair, new_id)[::-1]
        return pair, merged

    printed = rejected("check_bpe_merge", wrong)
    assert "[5, 5, 5, 6, 5, 5, 5]" in printed


def test_bpe_checker_rejects_breaking_ties_by_the_smallest_pair():
    def wrong(ids, new_id):
        counts = {}
        for pair in pairwise(ids):
            counts[pair] = counts.get(pair, 0) + 1
        pair = min(counts, key=lambda p: (-counts[p], p))  # most frequent, then smallest
        return pair, _merge_left_to_right(ids, pair, new_id)

    printed = rejected("check_bpe_merge", wrong)
    assert "(3, 1)" in printed


def test_bpe_checker_rejects_merging_in_place():
    def wrong(ids, new_id):
        pair = _first_most_frequent(ids)
        ids[:] = _merge_left_to_right(ids, pair, new_id)  # the caller's list is changed
        return pair, ids

    printed = rejected("check_bpe_merge", wrong)
    assert "changed its input" in printed


def test_bpe_checker_rejects_the_first_pair_to_reach_the_top_count():
    def wrong(ids, new_id):
        counts, pair = {}, None
        for p in pairwise(ids):  # one pass: a later pair that reaches a tie first wins
            counts[p] = counts.get(p, 0) + 1
            if pair is None or counts[p] > counts[pair]:
                pair = p
        return pair, _merge_left_to_right(ids, pair, new_id)

    printed = rejected("check_bpe_merge", wrong)
    assert "[1, 2, 3, 4, 3, 4, 1, 2]" in printed


def test_bpe_checker_rejects_counting_pairs_without_overlaps():
    def wrong(ids, new_id):
        def count(pair):  # as the merge would replace them: (5, 5) once in [5, 5, 5]
            return len(ids) - len(_merge_left_to_right(ids, pair, -1))

        pair = max(dict.fromkeys(pairwise(ids)), key=count)
        return pair, _merge_left_to_right(ids, pair, new_id)

    printed = rejected("check_bpe_merge", wrong)
    assert "[5, 5, 5, 1, 2, 1, 2]" in printed


def test_bpe_checker_rejects_a_hard_coded_new_id():
    def wrong(ids, new_id):
        pair = _first_most_frequent(ids)
        return pair, _merge_left_to_right(ids, pair, 9)  # the id the first case happens to use

    rejected("check_bpe_merge", wrong)


@pytest.mark.parametrize(
    "answer",
    [lambda ids, new_id: ((1, 2), None), lambda ids, new_id: (3, list(ids))],
    ids=["no-list", "int-pair"],
)
def test_bpe_checker_reports_a_malformed_answer_instead_of_raising(answer):
    printed = rejected("check_bpe_merge", answer)
    assert "expected a tuple (pair, new ids)" in printed


def test_bpe_checker_accepts_a_dict_count_and_a_slice_scan():
    def right(ids, new_id):
        pair = _first_most_frequent(ids)
        return pair, _merge_left_to_right(ids, pair, new_id)

    accepted("check_bpe_merge", right)


# Exercise 2: top-p filtering.


def test_top_p_checker_rejects_dropping_the_token_that_crosses_p():
    def wrong(logits, p):
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        keep_sorted = sorted_logits.softmax(dim=-1).cumsum(dim=-1) <= p
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        return logits.masked_fill(~keep, float("-inf"))

    rejected("check_top_p", wrong)


def test_top_p_checker_rejects_adding_up_in_vocabulary_order():
    def wrong(logits, p):
        probs = logits.softmax(dim=-1)  # not sorted: the set depends on the token ids
        keep = probs.cumsum(dim=-1) - probs < p
        return logits.masked_fill(~keep, float("-inf"))

    rejected("check_top_p", wrong)


def test_top_p_checker_rejects_returning_probabilities():
    def wrong(logits, p):
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        keep_sorted = probs.cumsum(dim=-1) - probs < p
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        return logits.softmax(dim=-1).masked_fill(~keep, float("-inf"))

    printed = rejected("check_top_p", wrong)
    assert "unchanged" in printed


def test_top_p_checker_rejects_a_fixed_top_k():
    def wrong(logits, p):
        kth = logits.topk(2, dim=-1).values[:, -1:]
        return logits.masked_fill(logits < kth, float("-inf"))

    rejected("check_top_p", wrong)


def test_top_p_checker_accepts_a_loop_over_rows():
    def right(logits, p):
        out = torch.full_like(logits, float("-inf"))
        for r, row in enumerate(logits):
            total = 0.0
            for i in row.argsort(descending=True).tolist():
                out[r, i] = row[i]
                total += row.softmax(dim=-1)[i].item()
                if total >= p:
                    break
        return out

    accepted("check_top_p", right)


# Exercise 3: the perplexity of a padded batch.


def test_perplexity_checker_rejects_counting_the_padding():
    def wrong(logits, targets, pad_id):
        return math.exp(F.cross_entropy(logits.flatten(0, 1), targets.flatten()).item())

    rejected("check_masked_perplexity", wrong)


def test_perplexity_checker_rejects_a_mean_of_sequence_means():
    def wrong(logits, targets, pad_id):
        per_sequence = [
            F.cross_entropy(row_logits, row_targets, ignore_index=pad_id)
            for row_logits, row_targets in zip(logits, targets, strict=True)
        ]
        return math.exp(torch.stack(per_sequence).mean().item())  # short rows weigh more

    rejected("check_masked_perplexity", wrong)


def test_perplexity_checker_rejects_the_loss_itself():
    def wrong(logits, targets, pad_id):
        flat = (logits.flatten(0, 1), targets.flatten())
        return F.cross_entropy(*flat, ignore_index=pad_id).item()  # no exp

    rejected("check_masked_perplexity", wrong)


def test_perplexity_checker_rejects_a_hard_coded_padding_id():
    def wrong(logits, targets, pad_id):
        flat = (logits.flatten(0, 1), targets.flatten())
        return math.exp(F.cross_entropy(*flat, ignore_index=0).item())

    printed = rejected("check_masked_perplexity", wrong)
    assert "pad_id=6" in printed


def test_perplexity_checker_accepts_a_boolean_mask():
    def right(logits, targets, pad_id):
        log_probs = logits.log_softmax(dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return torch.exp(-log_probs[targets != pad_id].mean())  # a 0-d tensor is fine too

    accepted("check_masked_perplexity", right)


# The page's reference solutions, run after their exercise cells, as the notebook runs them.


@pytest.mark.parametrize("checker", sorted(CHECKS))
def test_reference_solution_is_accepted(checker: str):
    script = ROOT / "tutorials" / f"{STEM}.py"
    found = cells(script)
    index = next(i for i, (_, source) in enumerate(found) if f"def {checker}(" in source)
    solution_start, solution = found[index + 1]
    assert solution.startswith('# %% tags=["solution"]'), "a solution cell follows the exercise"
    namespace: dict = {"__name__": f"exercise_{STEM}"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for start, source in (found[index], (solution_start, solution)):
            code = compile("\n" * (start - 1) + source, str(script), "exec", dont_inherit=True)
            exec(code, namespace)
    # The starter is rejected, then the reference solution is accepted (the cell asserts it).
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("not correct:") and "correct" in lines[1:], lines
