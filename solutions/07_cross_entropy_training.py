"""Solutions to the exercises of notebook 07 (cross-entropy and training). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import math

import torch


def perplexity(loss: float) -> float:
    """07.1: perplexity is e to the loss (the loss is in nats)."""
    return math.exp(loss)


def logit_gradient(logits: torch.Tensor, target: int) -> torch.Tensor:
    """07.2: d(-log alpha_y)/dz = alpha - one_hot(y), where alpha = softmax(z)."""
    alpha = torch.softmax(logits, dim=-1)  # (V,)
    one_hot = torch.zeros_like(alpha)
    one_hot[target] = 1.0
    return alpha - one_hot


def lr_at(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    """07.3: linear warm-up over `warmup_steps` updates, then half a cosine down to `min_lr`."""
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))


def stable_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """07.4: mean of log-sum-exp(z) - z_y, with the largest logit subtracted first."""
    largest = logits.amax(dim=-1, keepdim=True)  # (N, 1)
    log_normaliser = largest.squeeze(-1) + (logits - largest).exp().sum(dim=-1).log()  # (N,)
    return (log_normaliser - logits.gather(1, targets[:, None]).squeeze(1)).mean()


def entropy_rate(transition: torch.Tensor) -> float:
    """07.5: H = -sum_i pi_i sum_j P_ij ln P_ij, with pi the stationary distribution (pi P = pi)."""
    transition = transition.double()
    values, vectors = torch.linalg.eig(transition.T)  # pi is the left eigenvector for eigenvalue 1
    pi = vectors[:, (values - 1).abs().argmin()].real
    pi = pi / pi.sum()
    row_entropy = -(transition * transition.clamp_min(1e-300).log()).sum(dim=1)  # (n,)
    return float((pi * row_entropy).sum())


SOLUTIONS = {
    "07.1": perplexity,
    "07.2": logit_gradient,
    "07.3": lr_at,
    "07.4": stable_cross_entropy,
    "07.5": entropy_rate,
}


def _row_entropy_unweighted(transition: torch.Tensor) -> float:
    transition = transition.double()
    return float(-(transition * transition.clamp_min(1e-300).log()).sum(dim=1).mean())


def _lr_warmup_off_by_one(step, max_lr, warmup_steps, total_steps, min_lr):
    return (
        max_lr * step / warmup_steps if step < warmup_steps else lr_at(step, max_lr, warmup_steps, total_steps, min_lr)
    )


MISTAKES = {
    "07.1": {"log base 2 instead of e": lambda loss: 2.0**loss},
    "07.2": {"the sign flipped (one_hot - alpha)": lambda logits, target: -logit_gradient(logits, target)},
    "07.3": {"warm-up off by one (step / warmup_steps)": _lr_warmup_off_by_one},
    "07.4": {
        "softmax, then log (overflows)": lambda logits, targets: (
            -torch.log(logits.exp() / logits.exp().sum(dim=-1, keepdim=True)).gather(1, targets[:, None]).mean()
        ),
    },
    "07.5": {"rows averaged without the stationary weights": _row_entropy_unweighted},
}
