"""The checks of notebook 10_gpt2's exercises (solutions: solutions/10_gpt2.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from llm_course.exercises import NotYet, as_tensor, call, exercise, expect

NOTEBOOK = "10_gpt2"


@exercise("10.1", NOTEBOOK, "GELU's tanh approximation, as GPT-2 computes it")
def _gelu_tanh(gelu_tanh) -> None:
    generator = torch.Generator().manual_seed(101)
    inputs = [torch.tensor([0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -0.5, 10.0, -10.0], dtype=torch.float64),
              torch.randn(4, 7, generator=generator, dtype=torch.float64) * 3,
              torch.randn(2, 3, 5, generator=generator, dtype=torch.float64)]
    for x in inputs:
        expected = F.gelu(x, approximate="tanh")  # PyTorch's own: the oracle
        got = as_tensor(call(gelu_tanh, x.clone()), f"gelu_tanh(x of shape {tuple(x.shape)})", tuple(x.shape))
        if torch.allclose(got, expected, rtol=1e-7, atol=1e-9):
            continue
        if torch.allclose(got, F.gelu(x), rtol=1e-7, atol=1e-9):
            raise NotYet("that is the exact GELU, x times the normal CDF (erf); GPT-2 uses the tanh approximation "
                         "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))")
        worst = int((got - expected).abs().argmax())
        raise NotYet(f"gelu_tanh({x.flatten()[worst].item():.3f}) should be {expected.flatten()[worst].item():.6f}, "
                     f"got {got.flatten()[worst].item():.6f}: check the 0.5, sqrt(2/pi) and the cube term "
                     "0.044715 x^3 inside the tanh")
    float32 = torch.randn(16, generator=generator)
    got = as_tensor(call(gelu_tanh, float32.clone()), "gelu_tanh(a float32 tensor)", (16,))
    expect(torch.allclose(got, F.gelu(float32.double(), approximate="tanh"), atol=1e-5),
           "gelu_tanh works on float64 but not on a float32 tensor: use torch functions, elementwise")


@exercise("10.2", NOTEBOOK, "GPT-2's Conv1D as an nn.Linear")
def _linear_from_conv1d(linear_from_conv1d) -> None:
    generator = torch.Generator().manual_seed(102)
    for n_in, n_out in [(3, 5), (8, 8), (6, 18), (int(torch.randint(2, 9, (1,), generator=generator)), 7)]:
        weight = torch.randn(n_in, n_out, generator=generator)  # Conv1D: (in, out)
        bias = torch.randn(n_out, generator=generator)
        linear = call(linear_from_conv1d, weight.clone(), bias.clone())
        expect(isinstance(linear, nn.Linear), f"linear_from_conv1d should return an nn.Linear, got "
                                              f"{type(linear).__name__}")
        expect(tuple(linear.weight.shape) == (n_out, n_in),
               f"for a Conv1D weight of shape ({n_in}, {n_out}) the Linear's weight should have shape "
               f"(out, in) = ({n_out}, {n_in}), got {tuple(linear.weight.shape)}")
        expect(linear.bias is not None and tuple(linear.bias.shape) == (n_out,), "the Linear needs the bias too")
        x = torch.randn(2, 3, n_in, generator=generator)  # (B, T, in)
        expected = x.double() @ weight.double() + bias.double()  # what Conv1D computes: x W + b
        with torch.no_grad():
            got = call(linear, x, what="your Linear(x)")
        if not torch.allclose(got.double(), expected, atol=1e-4):
            raise NotYet(f"with in={n_in}, out={n_out} your Linear(x) is not x W + b: nn.Linear computes x A^T + b, "
                         "so A must be the transpose of W (a reshape keeps the shape right but mixes the numbers)")


@exercise("10.3", NOTEBOOK, "one head's query weights inside GPT-2's c_attn")
def _head_query_weight(head_query_weight) -> None:
    generator = torch.Generator().manual_seed(103)
    cases = [(12, 3, 0), (12, 3, 2), (16, 4, 1), (24, 2, 1)]
    for _ in range(3):
        n_head = int(torch.randint(2, 5, (1,), generator=generator))
        cases.append((n_head * int(torch.randint(2, 6, (1,), generator=generator)), n_head,
                      int(torch.randint(n_head, (1,), generator=generator))))
    for C, n_head, h in cases:
        D = C // n_head
        c_attn_weight = torch.randn(C, 3 * C, generator=generator, dtype=torch.float64)  # Conv1D: (C, 3C)
        x = torch.randn(2, 5, C, generator=generator, dtype=torch.float64)  # (B, T, C)
        q, _, _ = rearrange(x @ c_attn_weight, "B T (three H D) -> three B H T D", three=3, H=n_head)  # notebook 06
        got = as_tensor(call(head_query_weight, c_attn_weight.clone(), n_head, h),
                        f"head_query_weight(weight of shape ({C}, {3 * C}), n_head={n_head}, h={h})", (D, C))
        if not torch.allclose(x @ got.T, q[:, h], atol=1e-8):
            raise NotYet(f"with C={C}, {n_head} heads, head {h}: x @ weight.T is not head {h}'s query. The queries "
                         "are the first C columns; inside them the heads are contiguous blocks of D columns "
                         "(H D order), and the (C, D) block must be transposed to (D, C)")


@exercise("10.4", NOTEBOOK, "how GPT-2's files write a token: one printable character per byte")
def _written_form(written_form) -> None:
    from llm_course.bpe import gpt2_byte_characters

    characters = gpt2_byte_characters()
    generator = torch.Generator().manual_seed(104)
    cases = [b" the", b"\n", b"Hello", b"caf\xc3\xa9", bytes(range(256))]
    cases += [bytes(torch.randint(256, (int(n),), generator=generator).tolist())
              for n in torch.randint(1, 12, (5,), generator=generator)]
    for token in cases:
        expected = "".join(characters[byte] for byte in token)
        got = call(written_form, token)
        expect(isinstance(got, str), f"written_form({token[:8]!r}) should return a str, got {type(got).__name__}")
        if got == expected:
            continue
        position = next((k for k, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
                        min(len(got), len(expected)))
        byte = token[position] if position < len(token) else None
        hint = ("each byte becomes exactly one character" if len(got) != len(expected) else
                f"byte {byte} should be written {expected[position]!r} (U+{ord(expected[position]):04X}), got "
                f"{got[position]!r}: the non-printable bytes are numbered in increasing order, the k-th of them "
                "(from 0) is chr(256 + k); 161..172 and 174..255 print and stand for themselves")
        raise NotYet(f"written_form({token[:12]!r}) should be {expected[:12]!r}, got {got[:12]!r}: {hint}")
