"""Solutions to the exercises of notebook 11 (what changed after GPT-2). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import torch


def rms_norm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """11.1: x / sqrt(mean(x^2) + eps) * weight, over the last dimension, eps = 1e-6."""
    return x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + 1e-6) * weight


def rotate(x: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """11.2: pair i = (x_2i, x_2i+1) at position m turned by m * theta_i, theta_i = base^(-2i/d)."""
    t, d = x.shape
    theta = base ** (-torch.arange(d // 2, dtype=torch.float64) * 2 / d)  # (d/2,)
    angle = torch.arange(t, dtype=torch.float64)[:, None] * theta  # (t, d/2)
    first, second = x[:, 0::2], x[:, 1::2]  # (t, d/2) each
    turned = [first * angle.cos() - second * angle.sin(), first * angle.sin() + second * angle.cos()]
    return torch.stack(turned, dim=-1).flatten(-2)  # interleave back: (t, d)


def sliding_window_mask(t: int, window: int) -> torch.Tensor:
    """11.3: query j may look at key k when j - window < k <= j (itself and the window - 1 before it)."""
    j, k = torch.arange(t)[:, None], torch.arange(t)[None, :]
    return (k <= j) & (k > j - window)


def orthogonalise(matrix: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """11.4: scale by the Frobenius norm, then X <- a X + (b A + c A^2) X with A = X X^T, `steps` times."""
    a, b, c = 3.4445, -4.7750, 2.0315
    x = matrix / matrix.norm()
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x


SOLUTIONS = {"11.1": rms_norm, "11.2": rotate, "11.3": sliding_window_mask, "11.4": orthogonalise}


def _layer_norm(x, weight):
    centred = x - x.mean(dim=-1, keepdim=True)
    return rms_norm(centred, weight)


def _rotate_theta_without_the_two(x, base=10000.0):
    t, d = x.shape
    theta = base ** (-torch.arange(d // 2, dtype=torch.float64) / d)  # base^(-i/d): every pair too slow
    angle = torch.arange(t, dtype=torch.float64)[:, None] * theta
    first, second = x[:, 0::2], x[:, 1::2]  # (t, d/2) each
    turned = [first * angle.cos() - second * angle.sin(), first * angle.sin() + second * angle.cos()]
    return torch.stack(turned, dim=-1).flatten(-2)  # interleave back: (t, d)


def _rotate_backwards(x, base=10000.0):
    t, d = x.shape
    theta = base ** (-torch.arange(d // 2, dtype=torch.float64) * 2 / d)
    angle = -torch.arange(t, dtype=torch.float64)[:, None] * theta  # minus m theta_i
    first, second = x[:, 0::2], x[:, 1::2]  # (t, d/2) each
    turned = [first * angle.cos() - second * angle.sin(), first * angle.sin() + second * angle.cos()]
    return torch.stack(turned, dim=-1).flatten(-2)  # interleave back: (t, d)


def _window_both_ways(t, window):
    j, k = torch.arange(t)[:, None], torch.arange(t)[None, :]
    return (j - k).abs() < window  # a window around j, future included


def _cubic_newton_schulz(matrix, steps=5):
    x = matrix / matrix.norm()
    for _ in range(steps):
        x = 1.5 * x - 0.5 * (x @ x.T) @ x  # the classic cubic iteration: converges, but slowly
    return x


def _not_normalised(matrix, steps=5):
    a, b, c = 3.4445, -4.7750, 2.0315
    x = matrix
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x


MISTAKES = {
    "11.1": {
        "LayerNorm (subtracts the mean)": _layer_norm,
        "no square root (divides by the mean square)": lambda x, w: x / (x.pow(2).mean(-1, keepdim=True) + 1e-6) * w,
    },
    "11.2": {
        "rotating the wrong way (minus the angle)": _rotate_backwards,
        "theta_i = base^(-i/d), the factor 2 forgotten": _rotate_theta_without_the_two,
    },
    "11.3": {
        "no causal part (the future gets through)": _window_both_ways,
        "window off by one (j - window <= k)": lambda t, w: sliding_window_mask(t, w + 1),
    },
    "11.4": {
        "the cubic iteration (1.5, -0.5)": _cubic_newton_schulz,
        "not divided by the norm first": _not_normalised,
    },
}
