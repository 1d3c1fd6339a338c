"""Solutions to the exercises of notebook 09 (scaling up). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import torch


def gpt_parameters(n_vocab: int, context_size: int, n_emb: int, n_layer: int) -> int:
    """09.1: the tied token table, the position table, n_layer blocks and the final layer norm."""
    C = n_emb
    layer_norms = 2 * (2 * C)  # two per block, each a gain and a bias
    attention = (3 * C * C + 3 * C) + (C * C + C)  # query-key-value projection, output projection
    mlp = (4 * C * C + 4 * C) + (4 * C * C + C)  # C -> 4C -> C
    return n_vocab * C + context_size * C + n_layer * (layer_norms + attention + mlp) + 2 * C


def training_flops_per_token(n_vocab: int, context_size: int, n_emb: int, n_layer: int, n_head: int) -> int:
    """09.2: 6N + 12 L H Q T, with N the parameters in matrix products (all but the position table)."""
    n_matmul = gpt_parameters(n_vocab, context_size, n_emb, n_layer) - context_size * n_emb
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
    "09.1": gpt_parameters,
    "09.2": training_flops_per_token,
    "09.3": model_flops_utilisation,
    "09.4": combine_gradients,
    "09.5": epochs,
}


def _untied(n_vocab, context_size, n_emb, n_layer):
    return gpt_parameters(n_vocab, context_size, n_emb, n_layer) + n_vocab * n_emb


def _flops_forward_only(n_vocab, context_size, n_emb, n_layer, n_head):
    return training_flops_per_token(n_vocab, context_size, n_emb, n_layer, n_head) // 3


def _flops_without_attention(n_vocab, context_size, n_emb, n_layer, n_head):
    return 6 * (gpt_parameters(n_vocab, context_size, n_emb, n_layer) - context_size * n_emb)


MISTAKES = {
    "09.1": {
        "untied output layer counted as a second matrix": _untied,
        "biases forgotten": lambda n_vocab, context_size, n_emb, n_layer: (
            n_vocab * n_emb + context_size * n_emb + n_layer * 12 * n_emb * n_emb
        ),
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
