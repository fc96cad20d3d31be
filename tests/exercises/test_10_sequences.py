"""The sequences tutorial's exercise checkers reject plausible wrong answers."""

import math

import torch
from support import load_checkers, run_quietly
from torch import nn

CHECKS = load_checkers("10_sequences")


def test_last_real_step_checker_rejects_the_padded_last_step():
    def wrong(output, lengths):
        return output[:, -1]  # padding, for every sequence shorter than the batch

    verdict, printed = run_quietly(CHECKS["check_last_real_step"], wrong)
    assert verdict is False and printed.startswith("not correct:")


class _Projections(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)


class _ScaledByEmbedDim(_Projections):
    """Splits the heads, but divides the scores by sqrt(embed_dim) instead of sqrt(head_dim)."""

    def forward(self, x):
        b, t, e = x.shape

        def split(z):
            return z.view(b, t, self.num_heads, e // self.num_heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        weights = (q @ k.transpose(-2, -1) / math.sqrt(e)).softmax(dim=-1)
        return self.out_proj((weights @ v).transpose(1, 2).reshape(b, t, e))


class _OneHead(_Projections):
    """Ignores num_heads: one head over all embed_dim features."""

    def forward(self, x):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        weights = (q @ k.transpose(-2, -1) / math.sqrt(x.size(-1))).softmax(dim=-1)
        return self.out_proj(weights @ v)


def test_attention_module_checker_rejects_scaling_by_embed_dim():
    verdict, printed = run_quietly(CHECKS["check_attention_module"], _ScaledByEmbedDim)
    assert verdict is False and printed.startswith("not correct:")


def test_attention_module_checker_rejects_a_single_head():
    verdict, printed = run_quietly(CHECKS["check_attention_module"], _OneHead)
    assert verdict is False and printed.startswith("not correct:")


def test_causal_attention_checker_rejects_the_inverted_mask():
    def wrong(q, k, v):
        steps = q.size(-2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
        keep = torch.ones(steps, steps, dtype=torch.bool).tril()
        # masked_fill fills where the mask is True: this hides the past, not the future.
        return scores.masked_fill(keep, float("-inf")).softmax(dim=-1) @ v

    verdict, printed = run_quietly(CHECKS["check_causal_attention"], wrong)
    assert verdict is False and printed.startswith("not correct:")
