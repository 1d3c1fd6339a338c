"""Solutions to the exercises of notebook 04 (embeddings). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import torch

from llm_course.embeddings import cosine_similarity


def embed(idx: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """04.1: one-hot rows (N, V) times E (V, C) = the rows idx of E."""
    one_hot = torch.zeros(len(idx), E.shape[0], dtype=E.dtype)  # (N, V)
    one_hot[torch.arange(len(idx)), idx] = 1.0  # row n has its 1 in column idx[n]
    return one_hot @ E  # (N, C)


def sinusoidal_positions(context_size: int, n_emb: int) -> torch.Tensor:
    """04.2: P[j, 2k] = sin(j / 10000^(2k/C)), P[j, 2k+1] = cos(j / 10000^(2k/C))."""
    j = torch.arange(context_size, dtype=torch.float32)[:, None]  # (T, 1): positions 0..T-1
    frequencies = 10000 ** (-torch.arange(0, n_emb, 2, dtype=torch.float32) / n_emb)  # (C/2,): 1 / 10000^(2k/C)
    angles = j * frequencies  # (T, C/2)
    table = torch.zeros(context_size, n_emb)
    table[:, 0::2] = torch.sin(angles)  # even columns
    table[:, 1::2] = torch.cos(angles)  # odd columns
    return table


def most_similar(E: torch.Tensor, i: int) -> int:
    """04.3: the argmax of row i of the cosine similarities, with i itself left out."""
    similarity = cosine_similarity(E[i : i + 1], E)[0]  # (V,)
    similarity[i] = -float("inf")
    return int(similarity.argmax())


SOLUTIONS = {
    "04.1": embed,
    "04.2": sinusoidal_positions,
    "04.3": most_similar,
}


def _sinusoids_old_formula(context_size: int, n_emb: int) -> torch.Tensor:
    """The frequencies 1 / 10^(4k/C) = 1 / 10000^(k/C), k counting pairs: half the right exponent."""
    j = torch.arange(context_size, dtype=torch.float32)[:, None]
    k = torch.arange(n_emb // 2, dtype=torch.float32)
    angles = j / 10 ** (4 * k / n_emb)
    table = torch.zeros(context_size, n_emb)
    table[:, 0::2], table[:, 1::2] = torch.sin(angles), torch.cos(angles)
    return table


def _sinusoids_halves(context_size: int, n_emb: int) -> torch.Tensor:
    """Every sine first, then every cosine: concatenated halves instead of interleaved pairs."""
    table = sinusoidal_positions(context_size, n_emb)
    return torch.cat([table[:, 0::2], table[:, 1::2]], dim=1)


def _most_similar_by_dot_product(E: torch.Tensor, i: int) -> int:
    scores = E @ E[i]
    scores[i] = -float("inf")
    return int(scores.argmax())


MISTAKES = {
    "04.1": {
        "rows numbered from 1, as in the maths (E[idx - 1])": lambda idx, E: E[idx - 1],
    },
    "04.2": {
        "10^(4k/C) = 10000^(k/C) instead of 10000^(2k/C)": _sinusoids_old_formula,
        "sines and cosines in two halves instead of interleaved": _sinusoids_halves,
        "positions from 1 instead of 0": lambda T, C: sinusoidal_positions(T + 1, C)[1:],
    },
    "04.3": {
        "the token itself not left out": lambda E, i: int(cosine_similarity(E[i : i + 1], E)[0].argmax()),
        "dot product instead of cosine similarity": _most_similar_by_dot_product,
    },
}
