"""Solutions to the exercises of notebook 10 (GPT-2 in the course's classes). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """10.1: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def linear_from_conv1d(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    """10.2: Conv1D computes x W + b with W (in, out); nn.Linear computes x A^T + b, so A = W^T."""
    n_in, n_out = weight.shape
    linear = nn.Linear(n_in, n_out)
    with torch.no_grad():
        linear.weight.copy_(weight.T)
        linear.bias.copy_(bias)
    return linear


def head_query_weight(c_attn_weight: torch.Tensor, n_head: int, h: int) -> torch.Tensor:
    """10.3: the queries are the first C columns, head h the columns h*D..(h+1)*D-1 of them; transposed."""
    C = c_attn_weight.shape[0]
    D = C // n_head
    return c_attn_weight[:, h * D : (h + 1) * D].T


def written_form(token: bytes) -> str:
    """10.4: printable bytes stand for themselves; the others, in order, are chr(256), chr(257), ..."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    others = [byte for byte in range(256) if byte not in printable]
    character = {byte: chr(byte) for byte in printable} | {byte: chr(256 + k) for k, byte in enumerate(others)}
    return "".join(character[byte] for byte in token)


SOLUTIONS = {
    "10.1": gelu_tanh,
    "10.2": linear_from_conv1d,
    "10.3": head_query_weight,
    "10.4": written_form,
}


def _exact_gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))  # the exact GELU, not GPT-2's approximation


def _gelu_without_the_cube(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * x))


def _reshaped_not_transposed(weight, bias):
    n_in, n_out = weight.shape
    linear = nn.Linear(n_in, n_out)
    with torch.no_grad():
        linear.weight.copy_(weight.reshape(n_out, n_in))  # the right shape, the wrong numbers
        linear.bias.copy_(bias)
    return linear


def _weight_kept_as_it_is(weight, bias):
    linear = nn.Linear(*weight.shape[::-1])
    with torch.no_grad():
        linear.weight = nn.Parameter(weight.clone())  # (in, out) used as (out, in)
        linear.bias.copy_(bias)
    return linear


def _interleaved_heads(c_attn_weight, n_head, h):
    C = c_attn_weight.shape[0]
    return c_attn_weight[:, :C][:, h::n_head].T  # heads taken every n_head-th column: the (D H) order


def _keys_instead_of_queries(c_attn_weight, n_head, h):
    C = c_attn_weight.shape[0]
    D = C // n_head
    return c_attn_weight[:, C + h * D : C + (h + 1) * D].T


def _byte_value_as_offset(token):
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    return "".join(chr(byte) if byte in printable else chr(256 + byte) for byte in token)


def _only_ascii_printable(token):
    printable = list(range(33, 127))  # forgot that 161..172 and 174..255 print too
    others = [byte for byte in range(256) if byte not in printable]
    character = {byte: chr(byte) for byte in printable} | {byte: chr(256 + k) for k, byte in enumerate(others)}
    return "".join(character[byte] for byte in token)


MISTAKES = {
    "10.1": {"the exact GELU (erf)": _exact_gelu, "the cube term left out": _gelu_without_the_cube},
    "10.2": {"reshape instead of transpose": _reshaped_not_transposed,
             "the (in, out) weight used as (out, in)": _weight_kept_as_it_is},
    "10.3": {"heads interleaved (D H order)": _interleaved_heads, "the keys' columns": _keys_instead_of_queries},
    "10.4": {"chr(256 + byte) instead of chr(256 + k)": _byte_value_as_offset,
             "only ASCII counted as printable": _only_ascii_printable},
}
