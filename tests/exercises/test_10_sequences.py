"""The sequences tutorial's exercise checkers reject plausible wrong answers."""

import math

import torch
from support import load_checkers, run_quietly
from torch import nn

# Imported by its own name before a checker runs: patching ``F``'s attribute would not reach
# this reference, so the checkers must refuse the function itself.
from torch.nn.functional import scaled_dot_product_attention as imported_sdpa

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


class _FusedAttention(_Projections):
    """Right numbers, but through the fused function the exercise asks to write by hand."""

    def forward(self, x):
        b, t, e = x.shape

        def split(z):
            return z.view(b, t, self.num_heads, e // self.num_heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        heads = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        return self.out_proj(heads.transpose(1, 2).reshape(b, t, e))


class _ByHand(_Projections):
    """The reference solution: the same heads, attention written out."""

    def forward(self, x):
        b, t, e = x.shape

        def split(z):
            return z.view(b, t, self.num_heads, e // self.num_heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        weights = (q @ k.transpose(-2, -1) / math.sqrt(e // self.num_heads)).softmax(dim=-1)
        return self.out_proj((weights @ v).transpose(1, 2).reshape(b, t, e))


def test_attention_module_checker_rejects_the_fused_function():
    verdict, printed = run_quietly(CHECKS["check_attention_module"], _FusedAttention)
    assert verdict is False and "by hand" in printed


def test_attention_module_checker_accepts_attention_by_hand():
    verdict, printed = run_quietly(CHECKS["check_attention_module"], _ByHand)
    assert verdict is True and printed == "correct\n"


def test_causal_attention_checker_rejects_the_fused_function():
    def wrong(q, k, v):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

    verdict, printed = run_quietly(CHECKS["check_causal_attention"], wrong)
    assert verdict is False and "by hand" in printed


def test_causal_attention_checker_accepts_the_reference_solution():
    def reference(q, k, v):
        steps, d = q.shape[-2:]
        scores = q @ k.transpose(-2, -1) / d**0.5
        allowed = torch.ones(steps, steps, dtype=torch.bool, device=q.device).tril()
        return scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1) @ v

    verdict, printed = run_quietly(CHECKS["check_causal_attention"], reference)
    assert verdict is True and printed == "correct\n"


class _ImportedFusedAttention(_Projections):
    """The fused function under the name ``from torch.nn.functional import ...`` gives."""

    def forward(self, x):
        b, t, e = x.shape

        def split(z):
            return z.view(b, t, self.num_heads, e // self.num_heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        heads = imported_sdpa(q, k, v)
        return self.out_proj(heads.transpose(1, 2).reshape(b, t, e))


class _WrapsMultiheadAttention(_Projections):
    """Hands the work to ``nn.MultiheadAttention`` with the module's own weights."""

    def forward(self, x):
        e = x.size(-1)
        mha = nn.MultiheadAttention(e, self.num_heads, batch_first=True).eval()
        with torch.no_grad():
            projections = (self.q_proj, self.k_proj, self.v_proj)
            mha.in_proj_weight.copy_(torch.cat([p.weight for p in projections]))
            mha.in_proj_bias.copy_(torch.cat([p.bias for p in projections]))
            mha.out_proj.load_state_dict(self.out_proj.state_dict())
        return mha(x, x, x, need_weights=False)[0]


def test_attention_module_checker_rejects_the_fused_function_imported_by_name():
    verdict, printed = run_quietly(CHECKS["check_attention_module"], _ImportedFusedAttention)
    assert verdict is False and "by hand" in printed


def test_attention_module_checker_rejects_nn_multihead_attention_inside():
    verdict, printed = run_quietly(CHECKS["check_attention_module"], _WrapsMultiheadAttention)
    assert verdict is False and "by hand" in printed


def test_causal_attention_checker_rejects_the_fused_function_imported_by_name():
    def wrong(q, k, v):
        return imported_sdpa(q, k, v, is_causal=True)

    verdict, printed = run_quietly(CHECKS["check_causal_attention"], wrong)
    assert verdict is False and "by hand" in printed
