"""The exercise checkers of tutorials/15_profiling.py reject plausible wrong answers and accept
the reference solutions."""

import torch
from support import load_checkers, run_quietly
from torch import nn
from torch.profiler import ProfilerActivity, profile
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

CHECKS = load_checkers("15_profiling")


def _profile(fn, **kwargs):
    with profile(activities=[ProfilerActivity.CPU], **kwargs) as prof:
        fn()
    return prof


def _rejected(checker, candidate, *expected_fragments):
    verdict, printed = run_quietly(CHECKS[checker], candidate)
    assert verdict is False and printed.startswith("not correct:"), printed
    for fragment in expected_fragments:
        assert fragment in printed, printed


def _accepted(checker, candidate):
    verdict, printed = run_quietly(CHECKS[checker], candidate)
    assert verdict is True and printed == "correct\n", printed


# Exercise 1: count_calls


def test_count_calls_checker_accepts_the_exact_name():
    def right(fn, op_name):
        prof = _profile(fn)
        return sum(event.count for event in prof.key_averages() if event.key == op_name)

    _accepted("check_count_calls", right)


def test_count_calls_checker_accepts_counting_per_call_events():
    def right(fn, op_name):
        return sum(event.name == op_name for event in _profile(fn).events())

    _accepted("check_count_calls", right)


def test_count_calls_checker_rejects_a_substring_match():
    def wrong(fn, op_name):  # "aten::add" also matches aten::addmm and aten::add_
        return sum(e.count for e in _profile(fn).key_averages() if op_name in e.key)

    _rejected("check_count_calls", wrong, "expected 3 calls of 'aten::add', got 5")


def test_count_calls_checker_rejects_counting_table_rows():
    def wrong(fn, op_name):  # one row per operator name, whatever its number of calls
        return sum(1 for e in _profile(fn).key_averages() if e.key == op_name)

    _rejected("check_count_calls", wrong, "expected 3 calls of 'aten::add', got 1")


def test_count_calls_checker_rejects_a_warm_up_call_inside_the_profile():
    def wrong(fn, op_name):
        def twice():
            fn()
            fn()

        return sum(e.count for e in _profile(twice).key_averages() if e.key == op_name)

    _rejected("check_count_calls", wrong, "got 6")


def test_count_calls_checker_rejects_an_error_for_an_operator_that_never_ran():
    def wrong(fn, op_name):
        return next(e.count for e in _profile(fn).key_averages() if e.key == op_name)

    _rejected("check_count_calls", wrong, "raised StopIteration")


# Exercise 2: largest_allocation


def test_largest_allocation_checker_accepts_the_reference():
    def right(fn):
        events = _profile(fn, profile_memory=True).events()
        biggest = max(events, key=lambda event: event.self_cpu_memory_usage)
        return biggest.name, biggest.self_cpu_memory_usage

    _accepted("check_largest_allocation", right)


def test_largest_allocation_checker_rejects_sums_over_calls():
    def wrong(fn):  # key_averages() adds up the 200 aten::add calls
        averages = _profile(fn, profile_memory=True).key_averages()
        biggest = max(averages, key=lambda event: event.self_cpu_memory_usage)
        return biggest.key, biggest.self_cpu_memory_usage

    _rejected("check_largest_allocation", wrong, "got ('aten::add'")


def test_largest_allocation_checker_rejects_the_largest_average_call():
    def wrong(fn):  # key_averages() per call: an operator's small calls hide its large one
        averages = _profile(fn, profile_memory=True).key_averages()
        biggest = max(averages, key=lambda event: event.self_cpu_memory_usage / event.count)
        return biggest.key, biggest.self_cpu_memory_usage / biggest.count

    _rejected("check_largest_allocation", wrong, "got ('aten::cat', 16384.0)")


def test_largest_allocation_checker_rejects_memory_with_children():
    def wrong(fn):  # aten::linear's memory includes what aten::mm allocated
        events = _profile(fn, profile_memory=True).events()
        biggest = max(events, key=lambda event: event.cpu_memory_usage)
        return biggest.name, biggest.cpu_memory_usage

    _rejected("check_largest_allocation", wrong, "got ('aten::linear', 131072)")


def test_largest_allocation_checker_rejects_a_profile_without_memory():
    def wrong(fn):  # no profile_memory=True: every event reports 0 bytes
        biggest = max(_profile(fn).events(), key=lambda event: event.self_cpu_memory_usage)
        return biggest.name, biggest.self_cpu_memory_usage

    _rejected("check_largest_allocation", wrong, "expected ('aten::mm', 131072)")


# Exercise 3: forward_in_segments


def test_segments_checker_accepts_the_reference():
    def right(blocks, x, size):
        for start in range(0, len(blocks), size):
            x = checkpoint(nn.Sequential(*blocks[start : start + size]), x, use_reentrant=False)
        return x

    _accepted("check_forward_in_segments", right)


def test_segments_checker_rejects_no_checkpointing():
    def wrong(blocks, x, size):
        for block in blocks:
            x = block(x)
        return x

    _rejected("check_forward_in_segments", wrong, "expected 1536 bytes", "got 3584")


def test_segments_checker_rejects_one_checkpoint_per_block():
    def wrong(blocks, x, size):  # saves the input of all six blocks
        for block in blocks:
            x = checkpoint(block, x, use_reentrant=False)
        return x

    _rejected("check_forward_in_segments", wrong, "got 3072")


def test_segments_checker_rejects_checkpoint_sequential():
    def wrong(blocks, x, size):  # its last segment runs without checkpointing
        return checkpoint_sequential(blocks, len(blocks) // size, x, use_reentrant=False)

    verdict, printed = run_quietly(CHECKS["check_forward_in_segments"], wrong)
    assert verdict is False and printed.startswith("not correct: expected 1536 bytes"), printed


def test_segments_checker_rejects_segments_cut_off_from_autograd():
    def wrong(blocks, x, size):  # detaching loses the earlier segments' gradients
        for start in range(0, len(blocks), size):
            segment = nn.Sequential(*blocks[start : start + size])
            x = checkpoint(segment, x.detach(), use_reentrant=False)
        return x

    _rejected("check_forward_in_segments", wrong, "gradients differ")


def test_segments_checker_rejects_a_forward_without_autograd():
    def wrong(blocks, x, size):
        with torch.no_grad():  # nothing to backpropagate through
            for block in blocks:
                x = block(x)
        return x

    _rejected("check_forward_in_segments", wrong, "raised RuntimeError")
