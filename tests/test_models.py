"""llm_course.models: the contract (checks, shapes, probabilities), softmax, and the bigram models."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_course.models import BigramCounts, BigramModel, LanguageModel, UniformModel, softmax

V, T = 7, 6


def models() -> list[LanguageModel]:
    """One of every model of the module, with a few non-trivial parameters."""
    torch.manual_seed(0)
    bigram = BigramModel(V, T)
    with torch.no_grad():
        bigram.logits_table.weight.normal_()
    counts = BigramCounts.from_indices(torch.randint(V, (200,)), n_vocab=V, context_size=T)
    return [UniformModel(V, T), counts, bigram]


# --- softmax -----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=12),
    st.floats(-1e4, 1e4, allow_nan=False),
)
def test_softmax_matches_torch(values, shift):
    logits = torch.tensor(values, dtype=torch.float64) + shift
    assert torch.allclose(softmax(logits), torch.softmax(logits, dim=-1), atol=1e-12)


def test_softmax_along_any_dim_matches_torch():
    logits = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(0)) * 20
    for dim in (0, 1, 2, -1):
        assert torch.allclose(softmax(logits, dim=dim), torch.softmax(logits, dim=dim), atol=1e-6)


def test_softmax_is_finite_for_huge_logits():
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]])
    probs = softmax(logits)
    assert torch.isfinite(probs).all()
    assert torch.allclose(probs, torch.tensor([[1.0, 0.0, 0.0], [1 / 3] * 3, [1 / 3] * 3]))
    assert torch.isnan(torch.exp(logits[0]) / torch.exp(logits[0]).sum()).any(), "the naive formula overflows"


def test_softmax_handles_minus_infinity_as_zero_probability():
    probs = softmax(torch.tensor([0.0, float("-inf"), 0.0]))
    assert probs.tolist() == [0.5, 0.0, 0.5]


# --- the contract, for every model --------------------------------------------------------------


@pytest.mark.parametrize("model", models(), ids=lambda m: type(m).__name__)
def test_probabilities_for_every_length(model):
    generator = torch.Generator().manual_seed(1)
    for t in range(1, T + 1):
        idx = torch.randint(V, (3, t), generator=generator)
        logits = model(idx)
        assert logits.shape == (3, t, V)
        probs = model.next_token_probs(idx)
        assert probs.shape == (3, V)
        assert (probs >= 0).all()
        assert torch.allclose(probs.sum(dim=-1), torch.ones(3), atol=1e-5)
        assert torch.allclose(probs, torch.softmax(logits[:, -1], dim=-1), atol=1e-6)


@pytest.mark.parametrize("model", models(), ids=lambda m: type(m).__name__)
def test_next_token_logits_are_the_last_position(model):
    idx = torch.randint(V, (3, 4), generator=torch.Generator().manual_seed(3))
    assert torch.equal(model.next_token_logits(idx), model(idx)[:, -1, :])
    assert torch.allclose(model.next_token_probs(idx), softmax(model.next_token_logits(idx)), atol=1e-7)


def test_the_input_is_checked_once_per_call(monkeypatch):
    import llm_course.models as models_module

    calls = []
    original = models_module.check_token_sequences
    monkeypatch.setattr(models_module, "check_token_sequences", lambda *a: calls.append(1) or original(*a))
    for model in models():
        calls.clear()
        model.next_token_probs(torch.tensor([[1, 2, 3]]))
        assert len(calls) == 1, f"{type(model).__name__} checked its input {len(calls)} times"


@pytest.mark.parametrize("model", models(), ids=lambda m: type(m).__name__)
def test_one_dimensional_input(model):
    idx = torch.tensor([1, 2, 3])
    assert model(idx).shape == (1, 3, V)
    probs = model.next_token_probs(idx)
    assert probs.shape == (V,)
    assert torch.allclose(probs, model.next_token_probs(idx[None])[0])


@pytest.mark.parametrize("model", models(), ids=lambda m: type(m).__name__)
def test_causal_and_batch_rows_independent(model):
    idx = torch.randint(V, (4, T), generator=torch.Generator().manual_seed(2))
    logits = model(idx)
    for j in range(T):
        changed = idx.clone()
        changed[:, j] = (changed[:, j] + 1) % V
        assert torch.equal(model(changed)[:, :j], logits[:, :j]), f"a change at {j} reached earlier positions"
    for b in range(4):
        assert torch.allclose(model(idx[b : b + 1]), logits[b : b + 1], atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.uint8])
def test_any_integer_dtype_is_accepted(dtype):
    model = UniformModel(V, T)
    assert model.check_input(torch.tensor([[0, 6]], dtype=dtype)).dtype == torch.long


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ([1, 2], TypeError, "torch.Tensor.*list"),
        (torch.tensor([1.0, 2.0]), TypeError, "torch.float32"),
        (torch.tensor([True, False]), TypeError, "torch.bool"),
        (torch.zeros(1, 2, 3, dtype=torch.long), ValueError, r"\(1, 2, 3\)"),
        (torch.tensor(3), ValueError, r"shape \(\)"),
        (torch.zeros(0, dtype=torch.long), ValueError, "t=0.*context_size=6"),
        (torch.zeros(2, 7, dtype=torch.long), ValueError, "t=7.*context_size=6"),
        (torch.tensor([0, 7]), ValueError, "7.*n_vocab=7"),
        (torch.tensor([[0, 1], [2, 99]]), ValueError, "99.*n_vocab=7"),
        (torch.tensor([-1, 0]), ValueError, "-1"),
    ],
)
@pytest.mark.parametrize("model", models(), ids=lambda m: type(m).__name__)
def test_bad_input_gets_a_clear_error(model, bad, error, message):
    with pytest.raises(error, match=message):
        model(bad)
    with pytest.raises(error, match=message):
        model.next_token_probs(bad)


@pytest.mark.parametrize("n_vocab, context_size, message", [(0, 4, "n_vocab.*0"), (3, -1, "context_size.*-1"),
                                                           (2.5, 4, "n_vocab.*2.5"), (3, True, "context_size.*True")])
def test_sizes_are_checked(n_vocab, context_size, message):
    with pytest.raises(ValueError, match=message):
        UniformModel(n_vocab, context_size)


def test_base_class_has_no_forward():
    with pytest.raises(NotImplementedError):
        LanguageModel(3, 4)(torch.tensor([0]))


# --- the models themselves ----------------------------------------------------------------------


def test_uniform_is_uniform():
    probs = UniformModel(4, 3).next_token_probs(torch.tensor([[0, 1], [3, 3]]))
    assert torch.equal(probs, torch.full((2, 4), 0.25))


def test_bigram_counts_by_hand():
    # "banana" with a=0, b=1, n=2: pairs ba, an, na, an, na.
    indices = [1, 0, 2, 0, 2, 0]
    model = BigramCounts.from_indices(indices, n_vocab=3)
    assert model.counts.tolist() == [[0, 0, 2], [1, 0, 0], [2, 0, 0]]
    expected = torch.tensor([[1 / 5, 1 / 5, 3 / 5], [2 / 4, 1 / 4, 1 / 4], [3 / 5, 1 / 5, 1 / 5]])
    assert torch.allclose(model.probs, expected)
    assert torch.allclose(model.next_token_probs(torch.tensor([1, 2, 1])), expected[1])  # only the last token counts
    unsmoothed = BigramCounts.from_indices(torch.tensor(indices), n_vocab=3, smoothing=0.0)
    assert torch.allclose(unsmoothed.probs, torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    assert model.context_size == 1024


def test_bigram_counts_smoothing_and_unseen_rows():
    model = BigramCounts.from_indices([0, 1], n_vocab=3, smoothing=0.5)
    assert torch.allclose(model.probs[2], torch.full((3,), 1 / 3))  # (0 + 0.5) / 1.5
    unsmoothed = BigramCounts.from_indices([0, 1], n_vocab=3, smoothing=0.0)
    assert torch.allclose(unsmoothed.probs[2], torch.full((3,), 1 / 3)), "a row never seen is uniform"
    assert torch.allclose(unsmoothed.next_token_probs(torch.tensor([0])), torch.tensor([0.0, 1.0, 0.0]))


def test_bigram_counts_state_dict_holds_the_tables():
    model = BigramCounts.from_indices([0, 1, 1], n_vocab=2)
    assert set(model.state_dict()) == {"counts", "probs"}


@pytest.mark.parametrize(
    "indices, n_vocab, smoothing, error, message",
    [
        ([0.0, 1.0], 2, 1.0, TypeError, "float"),
        ([0], 2, 1.0, ValueError, "at least 2"),
        ([[0, 1]], 2, 1.0, ValueError, r"\(1, 2\)"),
        ([0, 5], 2, 1.0, ValueError, "5.*n_vocab=2"),
        ([0, -3], 2, 1.0, ValueError, "-3"),
        ([0, 1], 0, 1.0, ValueError, "n_vocab.*0"),
        ([0, 1], 2, -1.0, ValueError, "smoothing.*-1"),
    ],
)
def test_bigram_counts_bad_arguments(indices, n_vocab, smoothing, error, message):
    with pytest.raises(error, match=message):
        BigramCounts.from_indices(indices, n_vocab=n_vocab, smoothing=smoothing)


def test_bigram_counts_needs_a_square_table():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        BigramCounts(torch.zeros(2, 3, dtype=torch.long))


def test_bigram_model_is_a_learnable_table():
    model = BigramModel(5, 8)
    assert [tuple(p.shape) for p in model.parameters()] == [(5, 5)]
    assert torch.allclose(model.next_token_probs(torch.tensor([3])), torch.full((5,), 0.2)), "starts uniform"
    with torch.no_grad():
        model.logits_table.weight.copy_(torch.arange(25.0).reshape(5, 5))
    assert torch.equal(model(torch.tensor([[4, 1]])), torch.arange(25.0).reshape(5, 5)[[4, 1]][None])
    loss = -model.next_token_probs(torch.tensor([2])).log()[0]
    loss.backward()
    touched = model.logits_table.weight.grad.abs().sum(dim=1).nonzero().flatten().tolist()
    assert touched == [2]


def test_bigram_model_learns_the_count_probabilities():
    torch.manual_seed(0)
    indices = torch.randint(4, (500,))
    counts = BigramCounts.from_indices(indices, n_vocab=4, smoothing=0.0)
    model = BigramModel(4, 500)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.1)
    x, y = indices[:-1], indices[1:]
    for _ in range(300):
        loss = torch.nn.functional.cross_entropy(model(x[None])[0], y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    learned = torch.softmax(model.logits_table.weight, dim=-1)
    assert torch.allclose(learned, counts.probs, atol=1e-2)
    entropy = -(counts.counts / counts.counts.sum() * counts.probs.clamp(min=1e-30).log()).sum()
    assert math.isclose(loss.item(), entropy.item(), abs_tol=1e-3), "the maximum-likelihood loss is reached"
