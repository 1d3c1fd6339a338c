"""llm_course.attention: one head from scratch, CausalSelfAttention against PyTorch's fused attention and a loop."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import llm_course.attention as attention_module
from llm_course.attention import AttentionHead, CausalSelfAttention, causal_attention_weights


def reference_attention(attention: CausalSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """The formula with explicit loops over heads and positions, from the module's own weights."""
    B, T, C = x.shape
    H, D = attention.n_head, C // attention.n_head
    q, k, v = (x @ w.T + b for w, b in zip(attention.qkv.weight.split(C), attention.qkv.bias.split(C), strict=True))
    out = torch.zeros(B, T, C, dtype=x.dtype)
    for h in range(H):
        cols = slice(h * D, (h + 1) * D)
        for j in range(T):
            scores = torch.stack([(q[:, j, cols] * k[:, i, cols]).sum(-1) for i in range(j + 1)], dim=-1) / math.sqrt(D)
            weights = torch.softmax(scores, dim=-1)  # (B, j + 1): only the past and present
            out[:, j, cols] = (weights[:, :, None] * v[:, : j + 1, cols]).sum(dim=1)
    return out @ attention.proj.weight.T + attention.proj.bias


def qkv_heads(attention, x):
    C = x.shape[-1]
    q, k, v = attention.qkv(x).split(C, dim=-1)
    return [t.reshape(*x.shape[:2], attention.n_head, -1).transpose(1, 2) for t in (q, k, v)]  # (B, H, T, D)


@settings(max_examples=100, deadline=None)
@given(
    batch=st.integers(1, 3),
    length=st.integers(1, 8),
    n_head=st.sampled_from([1, 2, 4]),
    head_size=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_equals_scaled_dot_product_attention(batch, length, n_head, head_size, seed):
    torch.manual_seed(seed)
    n_emb = n_head * head_size
    attention = CausalSelfAttention(n_emb, n_head, context_size=8)
    x = torch.randn(batch, length, n_emb)
    q, k, v = qkv_heads(attention, x)
    fused = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, D)
    expected = attention.proj(fused.transpose(1, 2).reshape(batch, length, n_emb))
    assert torch.allclose(attention(x), expected, atol=1e-5)
    attention.fused = True
    assert torch.allclose(attention(x), expected, atol=1e-5)


def test_equals_a_loop_written_here():
    torch.manual_seed(0)
    attention = CausalSelfAttention(12, 3, context_size=6).double()
    x = torch.randn(2, 5, 12, dtype=torch.float64)
    assert torch.allclose(attention(x), reference_attention(attention, x), atol=1e-10)


def test_weights_are_causal_distributions():
    torch.manual_seed(0)
    attention = CausalSelfAttention(8, 2, context_size=5)
    x = torch.randn(3, 5, 8)
    weights = attention.attention_weights(x)
    assert attention(x).shape == (3, 5, 8) and weights.shape == (3, 2, 5, 5)
    assert (weights >= 0).all()
    assert torch.allclose(weights.sum(dim=-1), torch.ones(3, 2, 5), atol=1e-6)
    assert torch.equal(weights.triu(diagonal=1), torch.zeros_like(weights))
    assert torch.allclose(weights[:, :, 0, 0], torch.ones(3, 2)), "position 1 can only attend to itself"
    _, _, v = attention.split_heads(x)
    assert torch.allclose(weights @ v, attention.heads(x), atol=1e-6), "the heads average the values with these weights"
    attention.fused = True
    assert torch.equal(attention.attention_weights(x), weights), "the weights always come from the explicit path"


def copy_of_head(attention: CausalSelfAttention, h: int) -> AttentionHead:
    """An AttentionHead with head h's weights, read from the rows of qkv as the einops pattern lays them out."""
    C, d = attention.n_emb, attention.head_size
    head = AttentionHead(C, d).to(attention.qkv.weight.dtype)
    with torch.no_grad():
        for which, layer in enumerate((head.query, head.key, head.value)):  # q, k, v: blocks of C rows of qkv
            rows = slice(which * C + h * d, which * C + (h + 1) * d)
            layer.weight.copy_(attention.qkv.weight[rows])
            layer.bias.copy_(attention.qkv.bias[rows])
    return head


@pytest.mark.parametrize("fused", [False, True])
def test_one_head_from_scratch_equals_head_0(fused):
    torch.manual_seed(0)
    attention = CausalSelfAttention(12, 3, context_size=6, fused=fused).double()
    x = torch.randn(2, 6, 12, dtype=torch.float64)
    heads = attention.heads(x)  # (B, H, t, D)
    for h in range(3):
        assert torch.allclose(copy_of_head(attention, h)(x), heads[:, h], atol=1e-12), f"head {h}"
    # and the heads from scratch, concatenated and mixed by proj, are the module
    concatenated = torch.cat([copy_of_head(attention, h)(x) for h in range(3)], dim=-1)
    assert torch.allclose(attention.proj(concatenated), attention(x), atol=1e-12)
    # the head from scratch against the loop written here, one head of size d = C
    single = CausalSelfAttention(4, 1, context_size=6).double()
    x = torch.randn(1, 5, 4, dtype=torch.float64)
    assert torch.allclose(copy_of_head(single, 0)(x) @ single.proj.weight.T + single.proj.bias,
                          reference_attention(single, x), atol=1e-12)


def test_causal_attention_weights_against_the_formula():
    generator = torch.Generator().manual_seed(5)
    q, k = torch.randn(2, 3, 7, 4, generator=generator, dtype=torch.float64)  # (B, t, d) each
    weights = causal_attention_weights(q, k)
    for j in range(7):
        scores = torch.einsum("bd,bkd->bk", q[:, j], k[:, : j + 1]) / 2.0  # q_j . k_k / sqrt(d), d = 4, k <= j
        assert torch.allclose(weights[:, j, : j + 1], torch.softmax(scores, dim=-1))
        assert (weights[:, j, j + 1 :] == 0).all()


def test_the_module_keeps_no_mask_buffer():
    for fused in (False, True):
        assert list(CausalSelfAttention(8, 2, context_size=4096, fused=fused).buffers()) == []


def test_attend_is_forward_without_the_check(monkeypatch):
    torch.manual_seed(0)
    attention = CausalSelfAttention(8, 2, context_size=4)
    x = torch.randn(2, 4, 8)
    calls = []
    monkeypatch.setattr(attention_module, "check_attention_input", lambda *a: calls.append(a))
    assert torch.equal(attention.attend(x), attention(x))
    assert len(calls) == 1, "forward checks once, attend never"


def test_causality_and_batch_independence():
    torch.manual_seed(0)
    for fused in (False, True):
        attention = CausalSelfAttention(8, 4, context_size=6, fused=fused)
        x = torch.randn(3, 6, 8)
        y = attention(x)
        for j in range(6):
            changed = x.clone()
            changed[:, j] += 1.0
            assert torch.allclose(attention(changed)[:, :j], y[:, :j], atol=1e-6)
            assert not torch.allclose(attention(changed)[:, j], y[:, j])
        for b in range(3):
            assert torch.allclose(attention(x[b : b + 1]), y[b : b + 1], atol=1e-6)


def test_dropout_only_in_training():
    torch.manual_seed(0)
    attention = CausalSelfAttention(8, 2, context_size=4, dropout=0.5)
    x = torch.randn(2, 4, 8)
    attention.eval()
    assert torch.equal(attention(x), attention(x))
    attention.train()
    assert not torch.equal(attention(x), attention(x))


def test_no_bias_option():
    attention = CausalSelfAttention(8, 2, context_size=4, bias=False)
    assert attention.qkv.bias is None and attention.proj.bias is None
    assert attention(torch.randn(1, 4, 8)).shape == (1, 4, 8)


def test_the_state_dict_holds_only_the_weights():
    assert set(CausalSelfAttention(8, 2, context_size=4).state_dict()) == {
        "qkv.weight", "qkv.bias", "proj.weight", "proj.bias"}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: CausalSelfAttention(10, 3, 4), "n_head=3.*n_emb=10"),
        (lambda: CausalSelfAttention(0, 1, 4), "n_emb.*0"),
        (lambda: CausalSelfAttention(8, 2, 0), "context_size.*0"),
        (lambda: CausalSelfAttention(8, 2, 4, dropout=1.0), "dropout.*1.0"),
        (lambda: CausalSelfAttention(8, 2, 4)(torch.randn(1, 5, 8)), "t=5.*context_size=4"),
        (lambda: CausalSelfAttention(8, 2, 4).attention_weights(torch.randn(1, 5, 8)), "t=5.*context_size=4"),
        (lambda: CausalSelfAttention(8, 2, 4)(torch.randn(1, 3, 6)), r"n_emb=8.*\(1, 3, 6\)"),
        (lambda: CausalSelfAttention(8, 2, 4)(torch.randn(3, 8)), r"\(3, 8\)"),
    ],
)
def test_bad_arguments_get_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
