"""Solutions to the exercises of notebook 05 (the LLM function). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import math

import torch


def count_bigrams(indices: torch.Tensor, n_vocab: int) -> torch.Tensor:
    """05.1: N[i, j] = how often j directly follows i."""
    counts = torch.zeros(n_vocab, n_vocab, dtype=torch.long)
    for i, j in zip(indices[:-1].tolist(), indices[1:].tolist(), strict=True):
        counts[i, j] += 1
    return counts


def stable_softmax(logits: torch.Tensor) -> torch.Tensor:
    """05.2: exp(z - max z) / sum exp(z - max z), along the last dimension."""
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    exps = shifted.exp()
    return exps / exps.sum(dim=-1, keepdim=True)


def bigram_loss(probs: torch.Tensor, indices: torch.Tensor) -> float:
    """05.3: the mean of -ln P(s_t+1 | s_t) over the pairs of the text."""
    return -probs[indices[:-1], indices[1:]].log().mean().item()


SOLUTIONS = {
    "05.1": count_bigrams,
    "05.2": stable_softmax,
    "05.3": bigram_loss,
}


def _naive_softmax(logits: torch.Tensor) -> torch.Tensor:
    exps = logits.exp()
    return exps / exps.sum(dim=-1, keepdim=True)


def _softmax_minus_the_minimum(logits: torch.Tensor) -> torch.Tensor:
    exps = (logits - logits.min(dim=-1, keepdim=True).values).exp()
    return exps / exps.sum(dim=-1, keepdim=True)


def _softmax_minus_the_global_maximum(logits: torch.Tensor) -> torch.Tensor:
    exps = (logits - logits.max()).exp()  # one maximum for the whole tensor: rows far below it underflow to 0
    return exps / exps.sum(dim=-1, keepdim=True)


MISTAKES = {
    "05.1": {
        "transposed (N[j, i]: the token after, then the token seen)": lambda indices, n_vocab: count_bigrams(
            indices, n_vocab
        ).T,
        "the last pair forgotten (an off-by-one in the loop)": lambda indices, n_vocab: count_bigrams(
            indices[:-1], n_vocab
        ),
    },
    "05.2": {
        "no maximum subtracted (overflows)": _naive_softmax,
        "the minimum subtracted instead of the maximum": _softmax_minus_the_minimum,
        "one maximum for the whole tensor instead of one per row": _softmax_minus_the_global_maximum,
    },
    "05.3": {
        "log base 2 (bits) instead of e (nats)": lambda probs, indices: bigram_loss(probs, indices) / math.log(2),
        "the table read transposed (probs[s_t+1, s_t])": lambda probs, indices: bigram_loss(probs.T, indices),
        "a sum instead of a mean": lambda probs, indices: bigram_loss(probs, indices) * (len(indices) - 1),
    },
}
