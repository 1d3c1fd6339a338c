"""Solutions to the exercises of notebook 06 (attention and the transformer). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import math

import torch


def one_head(x: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor, w_v: torch.Tensor) -> torch.Tensor:
    """06.1: softmax(Q K^T / sqrt(d) + M) V for one sequence x (t, C)."""
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # (t, d) each
    t, d = q.shape
    scores = q @ k.T / math.sqrt(d)  # (t, t)
    future = torch.ones(t, t, dtype=torch.bool).triu(diagonal=1)  # True where k > j
    weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
    return weights @ v  # (t, d)


def gpt_parameters(n_vocab: int, context_size: int, n_emb: int, n_layer: int) -> int:
    """06.2: V C + T C + n_layer (12 C^2 + 13 C) + 2 C."""
    C = n_emb
    per_block = 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (4 * C * C + 4 * C) + (4 * C * C + C)
    return n_vocab * C + context_size * C + n_layer * per_block + 2 * C


def layer_norm(x: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """06.3: (x - mean) / sqrt(population variance + eps) * gain + bias, along the last dimension."""
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance + eps) * gain + bias


SOLUTIONS = {
    "06.1": one_head,
    "06.2": gpt_parameters,
    "06.3": layer_norm,
}


def _head_with_mask(diagonal: int):
    """A head whose mask hides the positions with k - j >= diagonal (the right mask: diagonal=1)."""

    def head(x, w_q, w_k, w_v):
        q, k, v = x @ w_q, x @ w_k, x @ w_v
        t, d = q.shape
        hidden = torch.ones(t, t, dtype=torch.bool).triu(diagonal=diagonal)
        return torch.softmax((q @ k.T / math.sqrt(d)).masked_fill(hidden, float("-inf")), dim=-1) @ v

    return head


def _head_without_sqrt_d(x, w_q, w_k, w_v):
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    t = q.shape[0]
    future = torch.ones(t, t, dtype=torch.bool).triu(diagonal=1)
    return torch.softmax((q @ k.T).masked_fill(future, float("-inf")), dim=-1) @ v


def _layer_norm_unbiased(x, gain, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(x.var(dim=-1, keepdim=True) + eps) * gain + bias  # var() divides by C - 1


def _layer_norm_eps_outside(x, gain, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / (torch.sqrt(variance) + eps) * gain + bias


MISTAKES = {
    "06.1": {
        "no mask: the future leaks in": _head_with_mask(diagonal=10**6),
        "a mask that lets one future position through (triu(diagonal=2))": _head_with_mask(diagonal=2),
        "a mask that hides the position itself too (triu(diagonal=0))": _head_with_mask(diagonal=0),
        "a missing sqrt(d)": _head_without_sqrt_d,
    },
    "06.2": {
        "lm_head counted separately (as if untied)": lambda V, T, C, L: gpt_parameters(V, T, C, L) + V * C,
        "biases and LayerNorms forgotten (12 C^2 per block)": lambda V, T, C, L: V * C + T * C + L * 12 * C * C,
        "the MLP's hidden size taken as C instead of 4C": lambda V, T, C, L: gpt_parameters(V, T, C, L)
        - L * (6 * C * C + 3 * C),
    },
    "06.3": {
        "the unbiased variance (torch.var divides by C - 1)": _layer_norm_unbiased,
        "normalised along the first dimension instead of the last": lambda x, gain, bias, eps=1e-5: (
            (x - x.mean(dim=0, keepdim=True)) / torch.sqrt(((x - x.mean(dim=0, keepdim=True)) ** 2).mean(0) + eps)
        )
        * gain
        + bias,
        "eps added outside the square root": _layer_norm_eps_outside,
    },
}
