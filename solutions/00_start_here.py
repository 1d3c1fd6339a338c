"""Solutions to the exercises of notebook 00 (start here). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import torch


def count_windows(n_tokens: int, context_size: int) -> int:
    """00.1: a window starts at s and needs ids[s .. s + context_size] (T inputs and one more target),
    so s runs over 0, 1, ..., n_tokens - context_size - 1: n_tokens - context_size windows."""
    return n_tokens - context_size


def batch_at(ids: torch.Tensor, starts: torch.Tensor, context_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """00.2: gather the positions starts[b] + j for every b and j; y reads one position further."""
    positions = starts[:, None] + torch.arange(context_size)  # (B, T)
    return ids[positions], ids[positions + 1]


def decode(indices: list[int], characters: list[str]) -> str:
    """00.3: index i (0-based, as in code) is the character characters[i]; join them into one text."""
    return "".join(characters[i] for i in indices)


SOLUTIONS = {
    "00.1": count_windows,
    "00.2": batch_at,
    "00.3": decode,
}


def _targets_shifted_backwards(ids, starts, context_size):
    positions = starts[:, None] + torch.arange(context_size)  # (B, T)
    return ids[positions], ids[positions - 1]


MISTAKES = {
    "00.1": {
        "off by one: forgets that y needs one more token": lambda n_tokens, context_size: n_tokens - context_size + 1,
        "counts non-overlapping chunks only": lambda n_tokens, context_size: n_tokens // (context_size + 1),
    },
    "00.2": {
        "targets not shifted (y = x)": lambda ids, starts, t: (batch_at(ids, starts, t)[0],) * 2,
        "targets shifted the wrong way (the token before)": _targets_shifted_backwards,
    },
    "00.3": {
        "1-based: index i read as the i-th character counting from 1": lambda indices, characters: "".join(
            characters[i - 1] for i in indices
        ),
        "a list of characters, not one text": lambda indices, characters: [characters[i] for i in indices],
        "the indices as digits": lambda indices, characters: "".join(map(str, indices)),
    },
}
