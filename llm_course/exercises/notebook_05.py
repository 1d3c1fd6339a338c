"""The checks of notebook 05_the_llm_function's exercises (solutions: solutions/05_the_llm_function.py)."""

from __future__ import annotations

import math

import torch

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close

NOTEBOOK = "05_the_llm_function"


@exercise("05.1", NOTEBOOK, "the bigram count table")
def _count_bigrams(count_bigrams) -> None:
    from llm_course.models import BigramCounts

    banana = torch.tensor([1, 0, 2, 0, 2, 0])  # "banana" with a=0, b=1, n=2: pairs ba, an, na, an, na
    got = as_tensor(call(count_bigrams, banana.clone(), 3, what="count_bigrams(banana, 3)"), "count_bigrams", (3, 3))
    expected = [[0, 0, 2], [1, 0, 0], [2, 0, 0]]
    expect(
        got.tolist() == expected,
        f"for 'banana' (a=0, b=1, n=2) the table should be {expected} (row i = the token seen, column j = the "
        f"token after it: 'a' is followed by 'n' twice), got {got.long().tolist()}",
    )
    generator = torch.Generator().manual_seed(51)
    for n_vocab, length in ((4, 30), (65, 500), (10, 2)):
        indices = torch.randint(n_vocab, (length,), generator=generator)
        what = f"count_bigrams on {length} random indices below {n_vocab}"
        got = as_tensor(call(count_bigrams, indices.clone(), n_vocab, what=what), what, (n_vocab, n_vocab))
        reference = BigramCounts.from_indices(indices, n_vocab=n_vocab).counts.double()
        expect(
            got.sum().item() == length - 1,
            f"{what}: a text of {length} tokens has {length - 1} pairs, your table counts {got.sum().item():g}",
        )
        expect(torch.equal(got, reference), f"{what}: the table differs from the course's BigramCounts.counts")


@exercise("05.2", NOTEBOOK, "softmax with the maximum subtracted")
def _stable_softmax(stable_softmax) -> None:
    got = as_tensor(call(stable_softmax, torch.tensor([0.0, 1.0, 2.0])), "stable_softmax([0, 1, 2])", (3,))
    expected = torch.softmax(torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64), dim=-1)
    expect(
        torch.allclose(got, expected, atol=1e-6),
        f"stable_softmax([0, 1, 2]) should be {[round(p, 4) for p in expected.tolist()]}, got "
        f"{[round(p, 4) for p in got.tolist()]}",
    )
    huge = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1000.0, 1001.0, 1002.0]])
    got = as_tensor(call(stable_softmax, huge.clone()), "stable_softmax of logits of size 1e4", (3, 3))
    expect(
        torch.isfinite(got).all(),
        "with logits of size 1e4 your softmax gives inf or nan: subtract each row's largest logit before exp",
    )
    expect(
        torch.allclose(got, torch.softmax(huge.double(), dim=-1), atol=1e-6),
        "with logits of size 1e4 your softmax differs from torch.softmax: subtract each row's own maximum, "
        "along the last dimension",
    )
    generator = torch.Generator().manual_seed(52)
    logits = torch.randn(5, 9, generator=generator) * 30 + 500
    got = as_tensor(call(stable_softmax, logits.clone()), "stable_softmax of random (5, 9) logits", (5, 9))
    expect(
        torch.allclose(got, torch.softmax(logits.double(), dim=-1), atol=1e-5),
        "on random (5, 9) logits every row should be a softmax of its own: normalise along the last dimension",
    )


@exercise("05.3", NOTEBOOK, "the loss of a bigram table on a text, in nats")
def _bigram_loss(bigram_loss) -> None:
    generator = torch.Generator().manual_seed(53)
    for n_vocab in (2, 65):
        uniform = torch.full((n_vocab, n_vocab), 1 / n_vocab)
        indices = torch.randint(n_vocab, (100,), generator=generator)
        what = f"bigram_loss of the uniform table with n_vocab={n_vocab}"
        expect_close(call(bigram_loss, uniform.clone(), indices.clone(), what=what), math.log(n_vocab),
                     f"{what} (ln {n_vocab}, in nats)")
    for n_vocab, length in ((3, 10), (65, 400)):
        table = torch.rand(n_vocab, n_vocab, generator=generator, dtype=torch.float64) ** 4 + 1e-3
        table = table / table.sum(dim=1, keepdim=True)  # (V, V): uneven rows summing to 1
        indices = torch.randint(n_vocab, (length,), generator=generator)
        expected = -table[indices[:-1], indices[1:]].log().mean().item()
        what = f"bigram_loss of a random {n_vocab}x{n_vocab} table on {length} random indices"
        got = as_number(call(bigram_loss, table.clone(), indices.clone(), what=what), what)
        expect(
            math.isclose(got, expected, rel_tol=1e-5),
            f"{what} should be {expected:.4f}, got {got:.4f}: average -ln probs[s_t, s_t+1] over the "
            f"{length - 1} pairs (row = the token seen, column = the token after it)",
        )
