"""The checks of notebook 11_modern_transformer's exercises (solutions: solutions/11_modern_transformer.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from llm_course.exercises import NotYet, as_tensor, call, exercise, expect

NOTEBOOK = "11_modern_transformer"


def _worst(got: torch.Tensor, expected: torch.Tensor) -> str:
    """'at index i: expected a, got b' for the entry where `got` is furthest from `expected`."""
    index = int((got - expected).abs().flatten().argmax())
    return f"expected {expected.flatten()[index].item():.6f}, got {got.flatten()[index].item():.6f}"


@exercise("11.1", NOTEBOOK, "RMSNorm from its formula")
def _rms_norm(rms_norm) -> None:
    generator = torch.Generator().manual_seed(111)
    cases = [torch.tensor([[3.0, 4.0]], dtype=torch.float64),
             torch.randn(5, 16, generator=generator, dtype=torch.float64) * 3 + 2,  # not centred: LayerNorm differs
             torch.randn(2, 3, 8, generator=generator, dtype=torch.float64)]
    for x in cases:
        weight = torch.rand(x.shape[-1], generator=generator, dtype=torch.float64) + 0.5
        got = as_tensor(call(rms_norm, x.clone(), weight.clone()), f"rms_norm(x of shape {tuple(x.shape)}, weight)",
                        tuple(x.shape))
        expected = x / x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt() * weight  # the formula, in float64
        if torch.allclose(got, expected, atol=1e-6):
            continue
        if torch.allclose(got, F.layer_norm(x, (x.shape[-1],), weight, eps=1e-6), atol=1e-6):
            raise NotYet("that is LayerNorm: RMSNorm does not subtract the mean, it divides x by "
                         "sqrt(mean(x^2) + eps) and multiplies by the weight")
        raise NotYet(f"for x of shape {tuple(x.shape)}: {_worst(got, expected)}; "
                     "RMSNorm(x) = x / sqrt(mean of x^2 over the last dimension + eps) * weight, eps = 1e-6")


@exercise("11.2", NOTEBOOK, "rotary position embeddings, from the rotation")
def _rope(rotate) -> None:
    from llm_course.modern import apply_rope, rope_rotations

    generator = torch.Generator().manual_seed(112)
    random_length = int(torch.randint(3, 12, (1,), generator=generator))
    for t, d, base in [(4, 2, 10000.0), (7, 8, 10000.0), (random_length, 16, 100.0)]:
        x = torch.randn(t, d, generator=generator, dtype=torch.float64)
        rotations = rope_rotations(t, d, base)
        expected = apply_rope(x, rotations)  # the course's rotation
        got = as_tensor(call(rotate, x.clone(), base), f"rotate(x of shape ({t}, {d}), base={base:g})", (t, d))
        if torch.allclose(got, expected, atol=1e-5):
            continue
        expect(not torch.allclose(got, x, atol=1e-6), "rotate returned x unchanged: rotate pair i at position m by "
                                                      "the angle m * theta_i")
        backwards = apply_rope(x, rotations.conj())
        expect(not torch.allclose(got, backwards, atol=1e-5),
               "you rotate the wrong way (by -m theta_i): the first coordinate is x_2i cos - x_2i+1 sin")
        expect(torch.allclose(got.norm(dim=-1), x.norm(dim=-1), atol=1e-5),
               "a rotation keeps lengths, and yours changes them: each pair (x_2i, x_2i+1) must become "
               "(x_2i cos - x_2i+1 sin, x_2i sin + x_2i+1 cos)")
        raise NotYet(f"for x of shape ({t}, {d}) and base {base:g}: {_worst(got, expected)}; "
                     "theta_i = base ** (-2 i / d) for i = 0 .. d/2 - 1, the angle at position m is m * theta_i, "
                     "and pair i is (x_2i, x_2i+1)")


@exercise("11.3", NOTEBOOK, "a sliding-window causal mask")
def _sliding_window_mask(sliding_window_mask) -> None:
    generator = torch.Generator().manual_seed(113)
    cases = [(4, 1), (5, 2), (6, 6), (3, 10)]
    cases.append((int(torch.randint(5, 12, (1,), generator=generator)),
                  int(torch.randint(2, 5, (1,), generator=generator))))
    for t, window in cases:
        got = call(sliding_window_mask, t, window)
        expect(isinstance(got, torch.Tensor) and got.dtype == torch.bool,
               f"sliding_window_mask({t}, {window}) should be a boolean tensor (True: may look), got "
               f"{got.dtype if isinstance(got, torch.Tensor) else type(got).__name__}")
        expect(tuple(got.shape) == (t, t), f"sliding_window_mask({t}, {window}) should have shape ({t}, {t}), "
                                           f"got {tuple(got.shape)}")
        j, k = torch.arange(t)[:, None], torch.arange(t)[None, :]  # query j, key k
        expected = (k <= j) & (k > j - window)
        if torch.equal(got, expected):
            continue
        expect(not (got & (k > j)).any(), f"with t={t}, window={window} a query may look at a later key: "
                                          "the mask must stay causal (key k <= query j)")
        expect(got.diagonal().all(), "every query may look at itself (key k = j)")
        wrong = (got != expected).nonzero()[0].tolist()
        raise NotYet(f"with t={t}, window={window}: query {wrong[0]} and key {wrong[1]} should be "
                     f"{bool(expected[wrong[0], wrong[1]])}; a window of w keys is j - w < k <= j, itself included")


@exercise("11.4", NOTEBOOK, "Newton-Schulz orthogonalisation")
def _newton_schulz(orthogonalise) -> None:
    from llm_course.modern import newton_schulz

    generator = torch.Generator().manual_seed(114)
    shapes = [(4, 4), (3, 8), (10, 6), (int(torch.randint(2, 9, (1,), generator=generator)), 12)]
    for m, n in shapes:
        matrix = torch.randn(m, n, generator=generator, dtype=torch.float64) * 5
        expected = newton_schulz(matrix, steps=5)
        got = as_tensor(call(orthogonalise, matrix.clone(), 5), f"orthogonalise(a {m}x{n} matrix, steps=5)", (m, n))
        if torch.allclose(got, expected, atol=1e-5):
            continue
        values = torch.linalg.svdvals(got)
        expect(bool(torch.isfinite(got).all()) and values.max() < 10,
               "the result blows up: divide the matrix by its Frobenius norm first, so that every singular "
               "value starts at most 1")
        raise NotYet(f"for a {m}x{n} matrix: {_worst(got, expected)}; singular values of your result range "
                     f"{values.min().item():.2f} .. {values.max().item():.2f}. Repeat X <- a X + (b A + c A A) X "
                     "with A = X X^T and (a, b, c) = (3.4445, -4.7750, 2.0315)")
