"""The checks of notebook 06_attention_and_the_transformer's exercises (solutions: solutions/06_attention_and_the_transformer.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from llm_course.exercises import NotYet, as_number, as_tensor, call, exercise, expect

NOTEBOOK = "06_attention_and_the_transformer"


@exercise("06.1", NOTEBOOK, "one attention head with its causal mask")
def _one_head(one_head) -> None:
    generator = torch.Generator().manual_seed(61)
    for t, C, d in ((1, 4, 2), (5, 8, 4), (12, 16, 64)):
        x = torch.randn(t, C, generator=generator)
        w_q, w_k, w_v = (torch.randn(C, d, generator=generator) / C**0.5 for _ in range(3))
        what = f"one_head(x, w_q, w_k, w_v) with t={t}, C={C}, d={d}"
        got = as_tensor(call(one_head, x.clone(), w_q.clone(), w_k.clone(), w_v.clone(), what=what), what, (t, d))
        q, k, v = x @ w_q, x @ w_k, x @ w_v  # (t, d) each
        expected = F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=True)[0].double()  # the oracle
        if torch.allclose(got, expected, atol=1e-4):
            continue
        expect(torch.isfinite(got).all(), f"{what} has nan or inf: does a row mask every position, itself included?")
        expect(
            t == 1 or torch.allclose(got[0], v[0].double(), atol=1e-4),
            f"{what}: row 0 should be v_0 exactly, since position 0 can only attend to itself; it is not, so the "
            "future leaks in (mask the scores above the diagonal with -inf before the softmax)",
        )
        unmasked = torch.softmax(q @ k.T / d**0.5, dim=-1) @ v
        expect(not torch.allclose(got, unmasked.double(), atol=1e-4), f"{what}: no causal mask, the future leaks in")
        unscaled = F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=True, scale=1.0)[0]
        expect(
            not torch.allclose(got, unscaled.double(), atol=1e-4),
            f"{what}: the scores are not divided by sqrt(d) = {d**0.5:g}",
        )
        raise NotYet(f"{what} differs from softmax(Q K^T / sqrt(d) + M) V with the causal mask M")


@exercise("06.2", NOTEBOOK, "the parameter count of a GPT from its config")
def _gpt_parameters(gpt_parameters) -> None:
    from llm_course.gpt import GPTConfig, parameter_count

    generator = torch.Generator().manual_seed(62)
    sizes = [(65, 64, 128, 4), (50257, 1024, 768, 12), (3, 1, 4, 1)]
    for _ in range(3):
        n_vocab, context_size, n_head = (int(torch.randint(2, 200, (1,), generator=generator)) for _ in range(3))
        sizes.append((n_vocab, context_size, n_head * int(torch.randint(1, 8, (1,), generator=generator)),
                      int(torch.randint(1, 9, (1,), generator=generator))))
    for n_vocab, context_size, n_emb, n_layer in sizes:
        expected = parameter_count(GPTConfig(n_vocab, context_size, n_emb, n_layer, n_head=1))
        what = f"gpt_parameters(n_vocab={n_vocab}, context_size={context_size}, n_emb={n_emb}, n_layer={n_layer})"
        got = as_number(call(gpt_parameters, n_vocab, context_size, n_emb, n_layer, what=what), what)
        if got == expected:
            continue
        difference = got - expected
        hint = f"{what} should be {expected:,}, got {got:,.0f}"
        if difference == n_vocab * n_emb:
            hint += ": lm_head shares the token table (tied), count it once"
        elif difference == -n_layer * 13 * n_emb - 2 * n_emb:
            hint += ": the biases and the LayerNorm gains and biases are missing"
        elif difference == -context_size * n_emb:
            hint += ": the position table (context_size x n_emb) is missing"
        else:
            hint += " (per block: 2 LayerNorms, qkv, proj, and the MLP's C -> 4C -> C, all with biases)"
        raise NotYet(hint)


@exercise("06.3", NOTEBOOK, "LayerNorm by hand")
def _layer_norm(layer_norm) -> None:
    x = torch.tensor([1.0, 2.0, 3.0, 10.0])
    got = as_tensor(call(layer_norm, x.clone(), torch.ones(4), torch.zeros(4), what="layer_norm([1, 2, 3, 10], 1, 0)"),
                    "layer_norm([1, 2, 3, 10], ones, zeros)", (4,))
    expected = F.layer_norm(x, (4,)).double()
    expect(
        torch.allclose(got, expected, atol=1e-4),
        f"layer_norm([1, 2, 3, 10]) with gain 1 and bias 0 should be {[round(v, 4) for v in expected.tolist()]}, got "
        f"{[round(v, 4) for v in got.tolist()]} (mean 4, population variance 12.5: divide by C, not C - 1)",
    )
    generator = torch.Generator().manual_seed(63)
    for shape in ((3, 5), (2, 7, 16)):
        x = torch.randn(shape, generator=generator) * 3 + 1
        gain, bias = torch.randn(shape[-1], generator=generator), torch.randn(shape[-1], generator=generator)
        what = f"layer_norm on a random {shape} tensor with a random gain and bias"
        got = as_tensor(call(layer_norm, x.clone(), gain.clone(), bias.clone(), what=what), what, shape)
        expected = F.layer_norm(x, (shape[-1],), gain, bias).double()
        expect(
            torch.allclose(got, expected, atol=1e-4),
            f"{what} differs from torch.nn.functional.layer_norm: normalise along the last dimension (each "
            "position on its own), then multiply by the gain and add the bias",
        )
    tiny = torch.tensor([[1.0, 1.0 + 1e-4, 1.0 - 1e-4, 1.0]])
    got = as_tensor(call(layer_norm, tiny.clone(), torch.ones(4), torch.zeros(4)), "layer_norm of a nearly flat vector")
    expect(
        torch.allclose(got, F.layer_norm(tiny, (4,)).double(), atol=1e-3),
        "for a nearly constant vector your LayerNorm differs from PyTorch's: eps goes inside the square root, "
        "sqrt(variance + eps)",
    )
