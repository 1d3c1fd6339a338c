"""Solutions to the exercises of notebook 09 (scaling up). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import math

import torch


def bf16_gap(w: float) -> float:
    """09.1: w = m 2^e with 1/2 <= m < 1, so 2^(e-1) <= w < 2^e, cut into 2^7 steps of 2^(e-1-7)."""
    _, e = math.frexp(w)
    return math.ldexp(1.0, e - 1 - 7)


def _parameters(n_vocab: int, context_size: int, n_emb: int, n_layer: int) -> int:
    """The parameters of the course's GPT (notebook 06): token and position tables, blocks, final norm."""
    C = n_emb
    layer_norms = 2 * (2 * C)  # two per block, each a gain and a bias
    attention = (3 * C * C + 3 * C) + (C * C + C)  # query-key-value projection, output projection
    mlp = (4 * C * C + 4 * C) + (4 * C * C + C)  # C -> 4C -> C
    return n_vocab * C + context_size * C + n_layer * (layer_norms + attention + mlp) + 2 * C


def training_flops_per_token(n_vocab: int, context_size: int, n_emb: int, n_layer: int, n_head: int) -> int:
    """09.2: 6N + 12 L H Q T, with N the parameters in matrix products (all but the position table)."""
    n_matmul = _parameters(n_vocab, context_size, n_emb, n_layer) - context_size * n_emb
    head_size = n_emb // n_head
    return 6 * n_matmul + 12 * n_layer * n_head * head_size * context_size


def model_flops_utilisation(tokens_per_second: float, flops_per_token: float, n_gpus: int,
                            peak_flops_per_gpu: float) -> float:
    """09.3: the model's FLOP/s over the peak of all the GPUs together."""
    return tokens_per_second * flops_per_token / (n_gpus * peak_flops_per_gpu)


def combine_gradients(gradients: list[torch.Tensor], sizes: list[int]) -> torch.Tensor:
    """09.4: each rank's mean-loss gradient weighted by its share of the positions."""
    total = sum(sizes)
    return sum(gradient * (size / total) for gradient, size in zip(gradients, sizes, strict=True))


def epochs(steps: int, batch_size: int, context_size: int, grad_accum: int, n_processes: int,
           corpus_tokens: int) -> float:
    """09.5: tokens read (steps x the global batch in tokens) over the tokens of the corpus."""
    return steps * batch_size * grad_accum * n_processes * context_size / corpus_tokens


SOLUTIONS = {
    "09.1": bf16_gap,
    "09.2": training_flops_per_token,
    "09.3": model_flops_utilisation,
    "09.4": combine_gradients,
    "09.5": epochs,
}


def _flops_forward_only(n_vocab, context_size, n_emb, n_layer, n_head):
    return training_flops_per_token(n_vocab, context_size, n_emb, n_layer, n_head) // 3


def _flops_without_attention(n_vocab, context_size, n_emb, n_layer, n_head):
    return 6 * (_parameters(n_vocab, context_size, n_emb, n_layer) - context_size * n_emb)


MISTAKES = {
    "09.1": {
        "fp32's 23 mantissa bits": lambda w: math.ldexp(1.0, math.frexp(w)[1] - 1 - 23),
        "w / 2^7, not a power of two": lambda w: w * 2**-7,
        "2^-7 for every weight": lambda w: 2**-7,
        "8 mantissa bits": lambda w: math.ldexp(1.0, math.frexp(w)[1] - 1 - 8),
    },
    "09.2": {
        "forward pass only (2N + 4LHQT)": _flops_forward_only,
        "attention term forgotten (6N)": _flops_without_attention,
        "position table counted in N": lambda n_vocab, context_size, n_emb, n_layer, n_head: (
            training_flops_per_token(n_vocab, context_size, n_emb, n_layer, n_head) + 6 * context_size * n_emb
        ),
    },
    "09.3": {
        "global tokens/s against one GPU's peak": lambda tokens, per_token, n_gpus, peak: tokens * per_token / peak,
        "a percentage, not a fraction": lambda tokens, per_token, n_gpus, peak: (
            100 * tokens * per_token / (n_gpus * peak)
        ),
    },
    "09.4": {
        "plain mean of the ranks' gradients": lambda gradients, sizes: sum(gradients) / len(gradients),
        "sum without weights": lambda gradients, sizes: sum(gradients),
    },
    "09.5": {
        "the processes forgotten (per-rank batch)": lambda steps, batch_size, context_size, grad_accum, n_processes,
        corpus_tokens: steps * batch_size * grad_accum * context_size / corpus_tokens,
        "gradient accumulation forgotten": lambda steps, batch_size, context_size, grad_accum, n_processes,
        corpus_tokens: steps * batch_size * n_processes * context_size / corpus_tokens,
    },
}
