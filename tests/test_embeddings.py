"""llm_course.embeddings: the lookup equals a one-hot product; gradients; positions; similarity; the checks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_course.embeddings import (
    PositionEmbedding,
    TokenEmbedding,
    check_token_indices,
    cosine_similarity,
    one_hot,
    pca_2d,
)


@settings(max_examples=100, deadline=None)
@given(
    n_vocab=st.integers(1, 30),
    n_emb=st.integers(1, 12),
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=2),
    seed=st.integers(0, 2**16),
)
def test_one_hot_product_equals_lookup(n_vocab, n_emb, shape, seed):
    generator = torch.Generator().manual_seed(seed)
    embedding = TokenEmbedding(n_vocab, n_emb)
    idx = torch.randint(n_vocab, shape, generator=generator)
    lookup = embedding(idx)
    assert lookup.shape == (*shape, n_emb)
    assert torch.allclose(embedding.one_hot_product(idx), lookup, atol=1e-6)
    assert torch.allclose(one_hot(idx, n_vocab) @ embedding.weight, lookup, atol=1e-6)
    assert torch.equal(lookup, embedding.weight[idx])


def test_one_hot_by_hand():
    assert one_hot(torch.tensor([[1, 0]]), 3).tolist() == [[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]]


def test_token_embedding_is_nn_embedding():
    embedding = TokenEmbedding(10, 4)
    reference = torch.nn.Embedding(10, 4)
    reference.load_state_dict(embedding.state_dict())
    idx = torch.tensor([[9, 0, 3, 3]])
    assert isinstance(embedding, torch.nn.Embedding)
    assert torch.equal(embedding(idx), reference(idx))


def test_gradients_reach_only_the_rows_used():
    embedding = TokenEmbedding(12, 5)
    idx = torch.tensor([[3, 7, 3], [0, 7, 7]])
    (embedding(idx) * torch.randn(2, 3, 5)).sum().backward()
    nonzero_rows = embedding.weight.grad.abs().sum(dim=1).nonzero().flatten().tolist()
    assert nonzero_rows == [0, 3, 7]
    # the same gradient as through the one-hot product, which PyTorch differentiates for us
    embedding.zero_grad()
    weight = embedding.weight.detach().clone().requires_grad_()
    upstream = torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(0))
    (embedding(idx) * upstream).sum().backward()
    (one_hot(idx, 12) @ weight * upstream).sum().backward()
    assert torch.allclose(embedding.weight.grad, weight.grad, atol=1e-6)


def test_position_embedding_rows():
    positions = PositionEmbedding(context_size=6, n_emb=3)
    for t in range(1, 7):
        assert torch.equal(positions(t), positions.weight[:t])
        assert torch.equal(positions(t), torch.nn.functional.embedding(torch.arange(t), positions.weight))
    tokens = TokenEmbedding(5, 3)(torch.zeros(2, 4, dtype=torch.long))
    assert (tokens + positions(4)).shape == (2, 4, 3)


def test_position_embedding_is_a_table_not_an_embedding_with_another_forward():
    positions = PositionEmbedding(context_size=6, n_emb=3)
    assert not isinstance(positions, torch.nn.Embedding)
    assert list(positions.state_dict()) == ["weight"], "checkpoints keep the key position_embedding.weight"
    # the same initialisation, draw for draw, as the nn.Embedding it used to be (so seeded runs do not change)
    torch.manual_seed(3)
    reference = torch.nn.Embedding(6, 3)
    torch.manual_seed(3)
    assert torch.equal(PositionEmbedding(6, 3).weight, reference.weight)
    # gradients reach exactly the first t rows
    positions(4).sum().backward()
    assert positions.weight.grad[:4].eq(1).all() and positions.weight.grad[4:].eq(0).all()


def test_lookup_is_the_unchecked_forward():
    embedding = TokenEmbedding(7, 4)
    idx = torch.randint(7, (3, 5), generator=torch.Generator().manual_seed(1))
    assert torch.equal(embedding.lookup(idx), embedding(idx))
    assert torch.equal(embedding.lookup(idx), torch.nn.Embedding.forward(embedding, idx))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8])
def test_any_integer_dtype_passes_the_check(dtype):
    check_token_indices(torch.tensor([[0, 6, 3]], dtype=dtype), n_vocab=7)
    check_token_indices(torch.zeros(0, dtype=dtype), n_vocab=7)  # nothing to read


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: TokenEmbedding(5, 3)(torch.tensor([5])), ValueError, r"5.*n_vocab=5 \(valid indices: 0\.\.4\)"),
        (lambda: TokenEmbedding(5, 3)(torch.tensor([-2])), ValueError, "-2"),
        (lambda: TokenEmbedding(5, 3)(torch.tensor([1.0])), TypeError, "float32"),
        (lambda: TokenEmbedding(5, 3)([1, 2]), TypeError, "list"),
        (lambda: TokenEmbedding(0, 3), ValueError, "n_vocab.*0"),
        (lambda: TokenEmbedding(5, -1), ValueError, "n_emb.*-1"),
        (lambda: PositionEmbedding(4, 3)(5), ValueError, "t=5.*context_size=4"),
        (lambda: PositionEmbedding(4, 3)(0), ValueError, "t=0"),
        (lambda: PositionEmbedding(0, 3), ValueError, "context_size.*0"),
        (lambda: one_hot(torch.tensor([3]), 3), ValueError, "3.*n_vocab=3"),
        (lambda: PositionEmbedding(4, 3)(2.0), ValueError, "t=2.0"),
        (lambda: pca_2d(torch.zeros(1, 4)), ValueError, r"\(1, 4\)"),
        (lambda: check_token_indices(torch.tensor([0, 9]), 4), ValueError, "token index 9.*n_vocab=4"),
        (lambda: check_token_indices([0], 4, name="idx"), TypeError, "idx must be a torch.Tensor.*list"),
        (lambda: check_token_indices(torch.tensor([True]), 4), TypeError, "torch.bool"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_cosine_similarity_matches_torch():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 8, generator=generator), torch.randn(3, 8, generator=generator)
    reference = torch.nn.functional.cosine_similarity(a[:, None], b[None], dim=-1)
    assert torch.allclose(cosine_similarity(a, b), reference, atol=1e-6)
    assert torch.allclose(cosine_similarity(a, a).diagonal(), torch.ones(5))


def test_pca_2d_against_the_covariance_eigenvectors():
    generator = torch.Generator().manual_seed(0)
    scales = torch.tensor([5.0, 3.0, 1, 1, 1, 1], dtype=torch.float64)
    data = torch.randn(50, 6, generator=generator, dtype=torch.float64) * scales
    points = pca_2d(data).double()
    centred = data - data.mean(dim=0)
    eigenvalues, eigenvectors = torch.linalg.eigh(centred.T @ centred)  # ascending
    reference = centred @ eigenvectors[:, [-1, -2]]
    assert torch.allclose(points.abs(), reference.abs(), atol=1e-4)  # equal up to the sign of each component
    assert torch.allclose(points.var(dim=0) * 49, eigenvalues[[-1, -2]], rtol=1e-4)
    assert torch.equal(pca_2d(data), pca_2d(data)), "repeatable"
    assert torch.allclose(pca_2d(-data), pca_2d(data), atol=1e-5), "the sign convention fixes each component"
