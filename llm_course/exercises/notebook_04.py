"""The checks of notebook 04_embeddings's exercises (solutions: solutions/04_embeddings.py)."""

from __future__ import annotations

import math

import torch

from llm_course.exercises import as_number, as_tensor, call, exercise, expect

NOTEBOOK = "04_embeddings"


@exercise("04.1", NOTEBOOK, "a lookup is a one-hot vector times the table")
def _embed(embed) -> None:
    generator = torch.Generator().manual_seed(41)
    hand_table = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # (V=3, C=2)
    got = as_tensor(call(embed, torch.tensor([2, 0]), hand_table.clone()), "embed([2, 0], E)", (2, 2))
    expect(
        torch.equal(got, torch.tensor([[5.0, 6.0], [1.0, 2.0]], dtype=torch.float64)),
        f"embed([2, 0], E) with E = [[1, 2], [3, 4], [5, 6]] should be rows 2 and 0 (counting from 0): "
        f"[[5, 6], [1, 2]], got {got.tolist()}",
    )
    for n_vocab, n_emb, n in ((5, 3, 4), (65, 16, 10), (7, 11, 20)):
        table = torch.randn(n_vocab, n_emb, generator=generator)
        idx = torch.randint(n_vocab, (n,), generator=generator)
        got = as_tensor(call(embed, idx.clone(), table.clone()), f"embed(idx, E) for E of shape {(n_vocab, n_emb)}",
                        (n, n_emb))
        expect(
            torch.allclose(got, table[idx].double(), atol=1e-6),
            f"for E of shape {(n_vocab, n_emb)} row n of the answer should be row idx[n] of E: "
            "one_hot(idx) has shape (N, n_vocab) with a 1 in column idx[n] of row n, and (N, n_vocab) @ E reads rows",
        )


def _sinusoids(context_size: int, n_emb: int) -> torch.Tensor:
    """The oracle: P[j, 2k] = sin(j / 10000^(2k/C)), P[j, 2k+1] = cos(j / 10000^(2k/C)), in float64."""
    j = torch.arange(context_size, dtype=torch.float64)[:, None]  # (T, 1)
    two_k = torch.arange(0, n_emb, 2, dtype=torch.float64)  # (C/2,)
    angles = j / 10000 ** (two_k / n_emb)  # (T, C/2)
    table = torch.empty(context_size, n_emb, dtype=torch.float64)
    table[:, 0::2], table[:, 1::2] = angles.sin(), angles.cos()
    return table


@exercise("04.2", NOTEBOOK, "the sinusoidal position table of the original transformer")
def _sinusoidal(sinusoidal_positions) -> None:
    generator = torch.Generator().manual_seed(42)
    sizes = [(4, 2), (8, 16), (50, 64)]
    sizes += [(int(torch.randint(1, 40, (1,), generator=generator)), 2 * int(torch.randint(1, 20, (1,), generator=generator)))]
    for context_size, n_emb in sizes:
        what = f"sinusoidal_positions({context_size}, {n_emb})"
        got = as_tensor(call(sinusoidal_positions, context_size, n_emb, what=what), what, (context_size, n_emb))
        expected = _sinusoids(context_size, n_emb)
        expect(
            torch.allclose(got[0], expected[0], atol=1e-5),
            f"{what}: row 0 (position j = 0, positions count from 0) should alternate sin 0 = 0 (even columns) "
            f"and cos 0 = 1 (odd columns), [0, 1, 0, 1, ...], got {[round(x, 3) for x in got[0, :4].tolist()]}...",
        )
        wrong = (got - expected).abs() > 1e-4
        if wrong.any():
            j, column = (int(v) for v in wrong.nonzero()[0])
            k = column // 2
            expect(
                False,
                f"{what}[{j}, {column}] should be {'sin' if column % 2 == 0 else 'cos'}({j} / 10000^({2 * k}/{n_emb})) "
                f"= {expected[j, column].item():.4f}, got {got[j, column].item():.4f} "
                "(columns 2k and 2k+1 share the frequency 1 / 10000^(2k/C))",
            )


@exercise("04.3", NOTEBOOK, "the nearest neighbour by cosine similarity")
def _most_similar(most_similar) -> None:
    hand = torch.tensor([[1.0, 0.0], [10.0, 1.0], [1.0, 0.05], [-1.0, 0.0]])  # row 1 is long, row 2 points like 0
    got = as_number(call(most_similar, hand.clone(), 0, what="most_similar(E, 0)"), "most_similar(E, 0)")
    expect(got != 0, "most_similar(E, i) returned i itself: leave row i out (its similarity with itself is 1)")
    expect(
        got == 2,
        f"with E = [[1, 0], [10, 1], [1, 0.05], [-1, 0]], most_similar(E, 0) should be 2 (the same direction), "
        f"got {got:g}: compare directions (cosine similarity), not dot products, which favour long rows",
    )
    generator = torch.Generator().manual_seed(43)
    for n_vocab, n_emb in ((10, 4), (65, 16), (30, 3)):
        table = torch.randn(n_vocab, n_emb, generator=generator)
        table = table * torch.rand(n_vocab, 1, generator=generator).mul(5).exp()  # rows of very different lengths
        unit = table / table.norm(dim=1, keepdim=True)
        similarity = unit @ unit.T
        similarity.fill_diagonal_(-math.inf)
        for i in torch.randint(n_vocab, (3,), generator=generator).tolist():
            got = as_number(call(most_similar, table.clone(), i, what=f"most_similar(E, {i})"), f"most_similar(E, {i})")
            expected = int(similarity[i].argmax())
            expect(
                got == expected,
                f"for a random E of shape {(n_vocab, n_emb)}, most_similar(E, {i}) should be {expected}, got {got:g}",
            )
