"""The checks of notebook 07_cross_entropy_training's exercises (solutions: solutions/07_cross_entropy_training.py)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close

NOTEBOOK = "07_cross_entropy_training"


@exercise("07.1", NOTEBOOK, "perplexity from a loss")
def _perplexity(perplexity) -> None:
    expect_close(call(perplexity, 0.0), 1.0, "perplexity(0.0), a model that is always sure and right,")
    expect_close(call(perplexity, math.log(65)), 65.0, "perplexity(ln 65), the uniform model's loss,")
    generator = torch.Generator().manual_seed(71)
    for loss in (torch.rand(5, generator=generator) * 5).tolist():
        got = as_number(call(perplexity, loss), f"perplexity({loss:.3f})")
        expect(
            math.isclose(got, math.exp(loss), rel_tol=1e-6),
            f"perplexity({loss:.3f}) should be e^{loss:.3f} = {math.exp(loss):.3f}, got {got:.3f} "
            "(losses are in nats: natural logarithms)",
        )


@exercise("07.2", NOTEBOOK, "the gradient of cross-entropy with respect to the logits, by hand")
def _logit_gradient(logit_gradient) -> None:
    generator = torch.Generator().manual_seed(72)
    for n_vocab in (2, 5, 65):
        logits = torch.randn(n_vocab, generator=generator) * 2  # (V,)
        target = int(torch.randint(n_vocab, (1,), generator=generator))
        leaf = logits.clone().requires_grad_(True)
        F.cross_entropy(leaf[None, :], torch.tensor([target])).backward()  # autograd: the oracle
        got = as_tensor(call(logit_gradient, logits.clone(), target), "logit_gradient(logits, target)", (n_vocab,))
        expect(
            torch.allclose(got, leaf.grad.double(), atol=1e-5),
            "the gradient does not match autograd's: it is alpha minus the one-hot vector of the true token",
        )


@exercise("07.3", NOTEBOOK, "the warm-up and cosine learning rate")
def _learning_rate(lr_at) -> None:
    from llm_course.training import learning_rate

    generator = torch.Generator().manual_seed(73)
    cases = [(1.0, 2, 6, 0.0), (3e-3, 100, 1000, 3e-4)]
    for _ in range(3):
        warmup = int(torch.randint(1, 50, (1,), generator=generator))
        total = warmup + int(torch.randint(1, 500, (1,), generator=generator))
        cases.append((float(torch.rand(1, generator=generator)) + 0.1, warmup, total, 0.01))
    for max_lr, warmup, total, min_lr in cases:
        for step in sorted({0, warmup - 1, warmup, (warmup + total) // 2, total - 1, total}):
            expected = learning_rate(step, max_lr=max_lr, warmup_steps=warmup, total_steps=total, min_lr=min_lr)
            expect_close(
                call(lr_at, step, max_lr, warmup, total, min_lr),
                expected,
                f"lr_at(step={step}, max_lr={max_lr:.3g}, warmup_steps={warmup}, total_steps={total}, min_lr={min_lr})",
                rel=1e-6,
                abs_tol=1e-12,
            )


@exercise("07.4", NOTEBOOK, "cross-entropy from logits that never overflows")
def _stable_cross_entropy(stable_cross_entropy) -> None:
    generator = torch.Generator().manual_seed(74)
    logits = torch.randn(6, 10, generator=generator) * 3  # (N, V)
    targets = torch.randint(10, (6,), generator=generator)  # (N,)
    expect_close(
        call(stable_cross_entropy, logits.clone(), targets.clone()),
        F.cross_entropy(logits, targets).item(),
        "your loss on ordinary logits (compare torch.nn.functional.cross_entropy)",
        rel=1e-5,
    )
    extreme = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]])  # exp() overflows in float32
    extreme_targets = torch.tensor([1, 2])
    got = as_number(call(stable_cross_entropy, extreme.clone(), extreme_targets.clone()), "your loss on huge logits")
    expect(
        math.isfinite(got),
        f"with logits of size 1e4 your loss is {got}: subtract the largest logit before exp (log-sum-exp)",
    )
    expect_close(got, F.cross_entropy(extreme, extreme_targets).item(), "your loss on logits of size 1e4", rel=1e-5)


@exercise("07.5", NOTEBOOK, "the entropy rate of a Markov chain")
def _entropy_rate(entropy_rate) -> None:
    from llm_course.training import MarkovSource

    coin = torch.tensor([[0.5, 0.5], [0.5, 0.5]], dtype=torch.float64)
    expect_close(call(entropy_rate, coin.clone()), math.log(2), "entropy_rate of fair coin flips (ln 2, in nats)")
    generator = torch.Generator().manual_seed(75)
    for n in (3, 6):
        weights = torch.rand(n, n, generator=generator, dtype=torch.float64) ** 3 + 0.01  # uneven rows
        transition = weights / weights.sum(dim=1, keepdim=True)
        expect_close(
            call(entropy_rate, transition.clone()),
            MarkovSource(transition).entropy_rate(),
            f"entropy_rate of a random {n}-symbol chain (weight each row's entropy by the stationary pi_i)",
            rel=1e-6,
        )
