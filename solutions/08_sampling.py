"""Solutions to the exercises of notebook 08 (sampling). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import torch


def probs_at_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """08.1: alpha(tau) = softmax(z / tau) along the last dimension."""
    return torch.softmax(logits / temperature, dim=-1)


def my_top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """08.2: the k-th largest logit of each row is the threshold; everything below it becomes -inf."""
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1)
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def my_top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """08.3: sort (stable: ties by index), keep a token while the mass sorted before it is below p."""
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True, stable=True)  # (..., V)
    sorted_probs = torch.softmax(sorted_logits, dim=-1)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # (..., V)
    remove = torch.zeros_like(mass_before, dtype=torch.bool).scatter(-1, order, mass_before >= p)
    return logits.masked_fill(remove, float("-inf"))


def greedy_decode(model, prompt_ids: list[int], n_tokens: int) -> list[int]:
    """08.4: crop to the last T tokens, take the argmax at the last position, append; repeat."""
    sequence = list(prompt_ids)
    with torch.no_grad():
        for _ in range(n_tokens):
            window = torch.tensor(sequence[-model.context_size :])  # (t,) with t <= T
            logits = model(window)[0, -1]  # (V,): the scores of the next token
            sequence.append(int(logits.argmax()))
    return sequence


SOLUTIONS = {
    "08.1": probs_at_temperature,
    "08.2": my_top_k_filter,
    "08.3": my_top_p_filter,
    "08.4": greedy_decode,
}


def _top_k_plus_one(logits, k):
    kth = torch.topk(logits, min(k + 1, logits.shape[-1]), dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def _top_p_drops_the_crossing_token(logits, p):
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True, stable=True)
    cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    remove_sorted = cumulative > p  # the token whose mass crosses p is removed too
    remove_sorted[..., 0] = False
    remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    return logits.masked_fill(remove, float("-inf"))


def _top_p_ties_to_the_larger_index(logits, p):
    ascending, order = torch.sort(logits, dim=-1, stable=True)
    sorted_logits, order = ascending.flip(-1), order.flip(-1)  # descending, but ties now go to the larger index
    sorted_probs = torch.softmax(sorted_logits, dim=-1)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    remove = torch.zeros_like(mass_before, dtype=torch.bool).scatter(-1, order, mass_before >= p)
    return logits.masked_fill(remove, float("-inf"))


def _greedy_without_cropping(model, prompt_ids, n_tokens):
    sequence = list(prompt_ids)
    with torch.no_grad():
        for _ in range(n_tokens):
            sequence.append(int(model(torch.tensor(sequence))[0, -1].argmax()))  # the model refuses t > T
    return sequence


def _greedy_first_position(model, prompt_ids, n_tokens):
    sequence = list(prompt_ids)
    with torch.no_grad():
        for _ in range(n_tokens):
            sequence.append(int(model(torch.tensor(sequence[-model.context_size :]))[0, 0].argmax()))
    return sequence


MISTAKES = {
    "08.1": {
        "logits multiplied by the temperature instead of divided": lambda logits, tau: torch.softmax(logits * tau, -1),
        "probabilities divided by the temperature, then renormalised (no effect)": lambda logits, tau: (
            (torch.softmax(logits, -1) / tau) / (torch.softmax(logits, -1) / tau).sum(-1, keepdim=True)
        ),
    },
    "08.2": {
        "keeping k + 1 tokens (off by one)": _top_k_plus_one,
        "keeping the k smallest logits": lambda logits, k: logits.masked_fill(
            logits > torch.topk(logits, k, dim=-1, largest=False).values[..., -1:], float("-inf")
        ),
        "filtered probabilities instead of logits (0 instead of -inf)": lambda logits, k: torch.softmax(
            my_top_k_filter(logits, k), -1
        ),
    },
    "08.3": {
        "the token that crosses p is dropped": _top_p_drops_the_crossing_token,
        "ties broken towards the larger index (ascending sort, flipped)": _top_p_ties_to_the_larger_index,
    },
    "08.4": {
        "the window is not cropped to the last T tokens": _greedy_without_cropping,
        "the argmax of the first position's logits instead of the last": _greedy_first_position,
    },
}
