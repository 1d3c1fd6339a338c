"""The checks of notebook 09_scaling_up's exercises (solutions: solutions/09_scaling_up.py)."""

from __future__ import annotations

import math

import torch

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close

NOTEBOOK = "09_scaling_up"

GPT2_SMALL = {"n_vocab": 50257, "context_size": 1024, "n_emb": 768, "n_layer": 12}


def _random_configs(seed: int, n: int = 4) -> list[dict]:
    """GPT sizes drawn inside the check (n_head divides n_emb), so that no printed number can pass."""
    generator = torch.Generator().manual_seed(seed)
    configs = []
    for _ in range(n):
        n_head = int(torch.randint(1, 9, (1,), generator=generator))
        configs.append({
            "n_vocab": int(torch.randint(2, 70000, (1,), generator=generator)),
            "context_size": int(torch.randint(1, 4097, (1,), generator=generator)),
            "n_emb": n_head * int(torch.randint(1, 129, (1,), generator=generator)),
            "n_layer": int(torch.randint(1, 49, (1,), generator=generator)),
            "n_head": n_head,
        })
    return configs


def _course_parameters(n_vocab: int, context_size: int, n_emb: int, n_layer: int, n_head: int = 1) -> int:
    from llm_course.gpt import GPTConfig, parameter_count

    return parameter_count(GPTConfig(n_vocab=n_vocab, context_size=context_size, n_emb=n_emb, n_layer=n_layer,
                                     n_head=n_head))


def _next_bf16(w: float) -> float:
    """The next larger bf16 number after the positive bf16 number `w`: its bit pattern plus one."""
    bits = torch.tensor([w], dtype=torch.bfloat16).view(torch.int16)
    return float((bits + 1).view(torch.bfloat16))


def _random_bf16(generator: torch.Generator, n: int) -> list[float]:
    """Positive bf16 numbers of random mantissas and exponents from 2^-40 to 2^40, none a power of two."""
    values = []
    while len(values) < n:
        mantissa = 1 + float(torch.rand(1, generator=generator))
        exponent = int(torch.randint(-40, 41, (1,), generator=generator))
        w = float(torch.tensor(mantissa * 2.0**exponent).bfloat16())
        if math.frexp(w)[0] != 0.5:
            values.append(w)
    return values


@exercise("09.1", NOTEBOOK, "the gap between neighbouring bf16 numbers")
def _bf16_gap(bf16_gap) -> None:
    for w in [1.0, 1.5, 0.01, 3.0, 96.0, 0.7, *_random_bf16(torch.Generator().manual_seed(91), 6)]:
        w = float(torch.tensor(w).bfloat16())  # a bf16 number, as a Python float
        expected = _next_bf16(w) - w  # exact: both are bf16 numbers
        got = as_number(call(bf16_gap, w), f"bf16_gap({w!r})")
        hint = ""
        if math.isclose(got, expected / 2**16):
            hint = ": that is fp32's gap (23 mantissa bits); bf16 keeps 7"
        elif math.isclose(got, w * 2**-7):
            hint = ": the gap is the same across [2^e, 2^(e+1)): 2^(e-7), a power of two, not w / 2^7"
        elif math.isclose(got, 2**-7):
            hint = ": 2^-7 is the gap between 1 and 2 only; it doubles with every power of two"
        elif math.isclose(got, expected / 2) or math.isclose(got, 2 * expected):
            hint = ": between 1 and 2 the gap is 2^-7 (7 mantissa bits)"
        expect(math.isclose(got, expected, rel_tol=1e-9), f"bf16_gap({w!r}) should be {expected!r}, got {got!r}{hint}")


@exercise("09.2", NOTEBOOK, "training FLOPs per token from a config: 6N + 12LHQT")
def _training_flops(training_flops_per_token) -> None:
    from llm_course.train import flops_per_token

    configs = [{**GPT2_SMALL, "n_head": 12}, *_random_configs(92)]
    for config in configs:
        n_matmul = _course_parameters(**config) - config["context_size"] * config["n_emb"]
        expected = flops_per_token(n_matmul, config["n_layer"], config["n_head"], config["n_emb"], config["context_size"])
        got = as_number(call(training_flops_per_token, **config), f"training_flops_per_token({config})")
        attention = 12 * config["n_layer"] * config["n_emb"] * config["context_size"]
        hint = ""
        if got == expected - attention:
            hint = ": the attention term 12 L H Q T is missing"
        elif got == expected / 3:
            hint = ": that is the forward pass only; the backward pass costs twice as much again"
        elif got == expected + 6 * config["context_size"] * config["n_emb"]:
            hint = ": the position table is looked up, not multiplied; leave it out of N"
        expect(math.isclose(got, expected, rel_tol=1e-12),
               f"training_flops_per_token({config}) should be {expected:,}, got {got:,.0f}{hint}")


@exercise("09.3", NOTEBOOK, "MFU of a multi-GPU run")
def _mfu(model_flops_utilisation) -> None:
    generator = torch.Generator().manual_seed(93)
    cases = [(400_000.0, 854e6, 1, 989e12), (3.2e6, 854e6, 8, 989e12)]
    for _ in range(4):
        n_gpus = int(torch.randint(1, 65, (1,), generator=generator))
        peak = float(torch.rand(1, generator=generator)) * 2e15 + 1e13
        per_token = float(torch.rand(1, generator=generator)) * 1e10 + 1e6
        tokens = float(torch.rand(1, generator=generator)) * 0.6 * n_gpus * peak / per_token
        cases.append((tokens, per_token, n_gpus, peak))
    for tokens, per_token, n_gpus, peak in cases:
        expected = tokens * per_token / (n_gpus * peak)
        got = as_number(call(model_flops_utilisation, tokens, per_token, n_gpus, peak),
                        f"model_flops_utilisation({tokens:.4g}, {per_token:.4g}, {n_gpus}, {peak:.4g})")
        hint = " (tokens_per_second counts every GPU: divide by the peak of all of them)" if n_gpus > 1 and \
            math.isclose(got, expected * n_gpus, rel_tol=1e-6) else ""
        hint = " (MFU is a fraction, not a percentage)" if math.isclose(got, 100 * expected, rel_tol=1e-6) else hint
        expect_close(got, expected, f"MFU for {tokens:.4g} tokens/s on {n_gpus} GPU(s){hint}", rel=1e-6, abs_tol=1e-12)


def _mean_loss_gradient(weights: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The gradient of a mean squared error over the rows of `inputs`, by autograd."""
    w = weights.clone().requires_grad_(True)
    ((inputs @ w - targets) ** 2).mean().backward()
    return w.grad


@exercise("09.4", NOTEBOOK, "combining the gradients of ranks with unequal batches")
def _combine(combine_gradients) -> None:
    generator = torch.Generator().manual_seed(94)
    for sizes in ([3, 3], [5, 2, 1], [1, 7, 4, 4]):
        weights = torch.randn(6, generator=generator, dtype=torch.float64)
        inputs = torch.randn(sum(sizes), 6, generator=generator, dtype=torch.float64)
        targets = torch.randn(sum(sizes), generator=generator, dtype=torch.float64)

        starts = [sum(sizes[:r]) for r in range(len(sizes))]
        per_rank = [_mean_loss_gradient(weights, inputs[s:s + m], targets[s:s + m])
                    for s, m in zip(starts, sizes, strict=True)]
        oracle = _mean_loss_gradient(weights, inputs, targets)  # the gradient of the mean over every position
        got = as_tensor(call(combine_gradients, [g.clone() for g in per_rank], list(sizes)),
                        "combine_gradients(gradients, sizes)", tuple(oracle.shape))
        equal = len(set(sizes)) == 1
        expect(torch.allclose(got, oracle, atol=1e-10),
               f"with sizes {sizes} the result is not the gradient of the mean over all positions"
               + ("" if equal else ": weight each rank's gradient by its share of the positions, m_r / sum(m)"))


@exercise("09.5", NOTEBOOK, "the epochs a recipe implies")
def _epochs(epochs) -> None:
    generator = torch.Generator().manual_seed(95)
    cases = [(5000, 16, 1024, 1, 1, 309_721), (5000, 16, 1024, 2, 8, 309_721)]
    for _ in range(4):
        draw = [int(torch.randint(1, high, (1,), generator=generator)) for high in (20000, 65, 2049, 9, 17)]
        cases.append((*draw, int(torch.randint(10_000, 10**9, (1,), generator=generator))))
    for steps, batch_size, context_size, grad_accum, n_processes, corpus_tokens in cases:
        expected = steps * batch_size * context_size * grad_accum * n_processes / corpus_tokens
        got = as_number(call(epochs, steps, batch_size, context_size, grad_accum, n_processes, corpus_tokens),
                        "epochs(...)")
        expect_close(got, expected, f"epochs(steps={steps}, batch_size={batch_size}, context_size={context_size}, "
                     f"grad_accum={grad_accum}, n_processes={n_processes}, corpus_tokens={corpus_tokens}): tokens "
                     "read (the global batch of every step) over the corpus's tokens", rel=1e-9)
