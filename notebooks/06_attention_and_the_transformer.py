# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Attention and the transformer
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/06_attention_and_the_transformer.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/06_attention_and_the_transformer.ipynb)
#
# The bigram models of notebook 05 predict the next token from the last one alone. This notebook
# builds a model that reads the whole context: **causal self-attention**, in which every position
# takes a weighted average of what came before it, with weights computed from the tokens
# themselves. We write one attention head from scratch, check it against the multi-head module
# the course uses, stack heads into **transformer blocks** and those into the **GPT**, which
# honours the same contract as every model so far: indices $(s_1,\dots,s_\ell)$, $\ell\le T$, in, a
# probability vector $\boldsymbol\alpha$ out. Then we train a one-block GPT for a few seconds, see
# it beat the bigram on text it never saw, and look at what its heads learned to attend to.
#
# It writes two modules: `llm_course.attention` (causal self-attention) and `llm_course.gpt`
# (the block, the configuration and the model).

# %% jupyter={"source_hidden": true}
# Colab only: install the course package (Colab's own PyTorch is kept). Elsewhere this does nothing.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("llm_course") is None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "llm-course @ git+https://github.com/llm-course/llm-course"],
        check=True,
    )

# %%
#| default_exp attention

# %% [markdown]
# ## Why a bigram is not enough
#
# After "To b" a bigram model sees only "b". It cannot know that "e" is likely because "To"
# came before. How much does the earlier context matter? Count it: the uncertainty about the next
# character (its entropy given the $m$ characters before it, in nats, as every loss of the course)
# falls as the model is allowed to see more characters back.

# %% jupyter={"source_hidden": true}
import math
from collections import Counter, defaultdict

import matplotlib.pyplot as plt
import torch

from llm_course.data import load_text
from llm_course.reproducibility import set_seed


def conditional_entropy(text: str, n_back: int) -> float:
    """Entropy of the next character given the n_back characters before it, from counts, in nats.

    H = -sum over contexts c and next characters x of P(c, x) ln P(x | c), with both probabilities
    read off the counts of the text.
    """
    followers = defaultdict(Counter)  # the n_back characters before -> counts of the character after
    for j in range(n_back, len(text)):
        followers[text[j - n_back : j]][text[j]] += 1
    total = len(text) - n_back
    return -sum(n / total * math.log(n / sum(after.values())) for after in followers.values() for n in after.values())


# %%
set_seed(1337)
text = load_text()
entropies = [conditional_entropy(text[:200_000], n_back) for n_back in range(4)]  # on the first 200,000 characters
for n_back, h in enumerate(entropies):
    print(f"seeing {n_back} character(s) back: {h:.2f} nats of uncertainty about the next one")
assert all(a > b for a, b in zip(entropies, entropies[1:], strict=False))

# %% [markdown]
# (On a finite text these numbers fall partly because long contexts are rare and their counts
# overfit; the trend is real all the same. A learned model must *generalise* from context, not
# memorise a table with $n_{\text{vocab}}^m$ rows: that is what attention does.)
#
# ## Attention, step by step
#
# Let $X\in\mathbb{R}^{\ell\times C}$ hold the vectors of a sequence of length $\ell$, one row per
# position ($C$ is $n_{\text{emb}}$). We want a new vector for every position $j$ that gathers
# information from positions $1,\dots,j$, never from the future (the model predicts $s_{j+1}$
# from there, so it must not see it). A position $j'$ that $j$ reads from is written with a prime,
# so that the letter $k$ stays free for the keys below. As everywhere in the course, the maths
# counts from 1 and the code from 0: the length $\ell$ is `t` in the code, position $j$ of the
# maths is row `j - 1` of `X`, and code row `j` sees rows `0..j`, that is `X[: j + 1]`.
#
# **Step 1: average the past.** $\mathbf{y}_j=\frac1j\sum_{j'\le j}\mathbf{x}_{j'}$. As a matrix
# product: $Y=AX$ with $A_{jj'}=1/j$ for $j'\le j$ and $0$ for $j'>j$: a lower-triangular matrix
# whose rows sum to 1.

# %%
t, C = 4, 2
X = torch.arange(t * C, dtype=torch.float).reshape(t, C)  # (t, C)
A = torch.tril(torch.ones(t, t))
A = A / A.sum(dim=1, keepdim=True)  # rows sum to 1
print("A =", [[round(a, 3) for a in row] for row in A.tolist()])
Y = A @ X  # (t, t) @ (t, C) -> (t, C)
assert torch.allclose(Y, torch.stack([X[: j + 1].mean(dim=0) for j in range(t)]))  # a loop over positions
print("Y = A X is the running mean:", Y.tolist())

# %% [markdown]
# **Step 2: weights from scores, with the future masked.** A uniform average treats every past
# token alike. Instead, give each pair a score $S_{jj'}$, set the scores of the future ($j'>j$) to
# $-\infty$ and take a softmax along each row: $A=\text{softmax}(S)$. Future positions get weight
# $e^{-\infty}=0$, the rest are positive and sum to 1. With all scores equal, this is step 1 again.

# %%
from llm_course.models import softmax

S = torch.zeros(t, t)
future = torch.ones(t, t, dtype=torch.bool).triu(diagonal=1)  # True above the diagonal: j' > j, the future
assert torch.allclose(softmax(S.masked_fill(future, float("-inf")), dim=-1), A)
print("softmax of masked zeros = the running-mean weights: checked")

# %% [markdown]
# **Step 3: scores from the tokens: queries, keys and values.** Each position $j$ emits three
# vectors of $d$ numbers ($d$, the **head size**, is ours to choose), computed by learned linear
# maps from $\mathbf{x}_j$: a **query** $\mathbf{q}_j=W_Q\mathbf{x}_j$ ("what am I looking
# for?"), a **key** $\mathbf{k}_j=W_K\mathbf{x}_j$ ("what do I contain?") and a **value**
# $\mathbf{v}_j=W_V\mathbf{x}_j$ ("what I hand over"), with $W_Q,W_K,W_V\in\mathbb{R}^{d\times C}$.
# The score of position $j'$ for position $j$ is the dot product $\mathbf{q}_j\cdot\mathbf{k}_{j'}$,
# large when they match, and position $j$ receives the weighted average of the values. Stacking
# the rows into matrices $Q,K,V\in\mathbb{R}^{\ell\times d}$ (row $j$ of $Q$ is
# $\mathbf{q}_j^\top$, so $Q=XW_Q^\top$):
#
# $$
# \text{Attention}(Q,K,V)=\text{softmax}\!\Big(\frac{QK^\top}{\sqrt{d}}+M\Big)V,\qquad
# M_{jj'}=\begin{cases}0&j'\le j\\-\infty&j'>j\end{cases}
# $$
#
# **Step 4: scaling by $\sqrt d$.** If the entries of $\mathbf{q}$ and $\mathbf{k}$ have variance
# 1, their dot product, a sum of $d$ products, has variance $d$. Large scores make the softmax
# nearly one-hot (all weight on one position) and its gradients vanish; dividing by $\sqrt d$
# brings the variance back to 1. Below, the variances, then the weights of random queries and
# keys with $d=64$, with and without the scaling.

# %%
generator = torch.Generator().manual_seed(0)
for d in (16, 64, 256):
    q, k = torch.randn(2, 10_000, d, generator=generator, dtype=torch.float64)  # float64: same digits everywhere
    raw = (q * k).sum(dim=-1)  # 10,000 dot products
    print(f"d={d:3}: variance of q.k = {raw.var():5.0f}; after dividing by sqrt(d): {(raw / d**0.5).var():.2f}")
    assert abs((raw / d**0.5).var() - 1) < 0.1
q, k = torch.randn(2, 12, 64, generator=generator, dtype=torch.float64)  # 12 positions, d = 64
future = torch.ones(12, 12, dtype=torch.bool).triu(diagonal=1)
scaled, unscaled = (softmax((q @ k.T / scale).masked_fill(future, float("-inf"))) for scale in (64**0.5, 1.0))
print(f"largest weight in a row, on average: {scaled.amax(dim=1).mean():.2f} with the scaling, "
      f"{unscaled.amax(dim=1).mean():.2f} without")
assert unscaled.amax(dim=1).mean() > scaled.amax(dim=1).mean() + 0.2

# %% jupyter={"source_hidden": true}
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, weights, title in zip(axes, (scaled, unscaled), ("softmax(Q K^T / sqrt(d) + M)", "softmax(Q K^T + M)"), strict=True):
    image = ax.imshow(weights, cmap="Blues", vmin=0, vmax=1)
    ax.set_xlabel("attended position j' (key)")
    ax.set_ylabel("attending position j (query)")
    ax.set_title(title)
fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
fig.suptitle("Random queries and keys, d = 64: without 1/sqrt(d) most rows put nearly all their weight on one position")
plt.show()

# %% [markdown]
# ## One head, from scratch
#
# That is all of attention. `causal_attention_weights` computes the weights from the queries and
# keys, and `AttentionHead` is one head: three linear maps and the weighted average of the values.
# (Each map also has a bias, as GPT-2's do: $\mathbf{q}_j=W_Q\mathbf{x}_j+\mathbf{b}_Q$; the
# `nn.Linear` stores $W_Q$ itself as its weight, of shape `(D, C)`.) Shapes write the head size $d$
# as `D`, a capital like `B`, `C` and `T`. A batch of $B$ sequences runs at once: PyTorch's `@`
# multiplies the last two dimensions and repeats over the first.

# %% jupyter={"source_hidden": true}
#| export
"""Causal self-attention: every position takes a weighted average of the values at or before it.

`causal_attention_weights(q, k)` is softmax(q k^T / sqrt(d) + causal mask); `AttentionHead` is
one head written out (three linear maps W_Q, W_K, W_V). `CausalSelfAttention(n_emb, n_head,
context_size)` maps x (B, t, C) to (B, t, C) with n_head heads at once: a fused linear layer
`qkv` makes every head's queries, keys and values, einops splits them into heads, and `proj`
(W_O) mixes the heads' outputs. `heads(x)` gives the heads' outputs (B, H, t, D) before W_O,
`attention_weights(x)` the weights (B, H, t, t). `fused=True` computes the same thing with
PyTorch's `scaled_dot_product_attention`, which is faster and, on its fused kernels, never
stores the weights. `forward` checks its input; `attend` is the same computation without the
check, for a model that has checked its input once already.

Left out on purpose: key/value caching for generation, cross-attention, and attention variants
(grouped-query, sliding-window, rotary positions).
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export
import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from llm_course.embeddings import check_size
from llm_course.models import softmax


def check_attention_sizes(n_emb: int, n_head: int, context_size: int, dropout: float) -> None:
    """Raise `ValueError` for a size that is not a positive int, a head count that does not divide n_emb, or a bad dropout."""
    check_size("n_emb", n_emb), check_size("n_head", n_head), check_size("context_size", context_size)
    if n_emb % n_head != 0:
        raise ValueError(f"n_head={n_head} must divide n_emb={n_emb}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")


def check_attention_input(x: torch.Tensor, n_emb: int, context_size: int) -> None:
    """Raise `ValueError` unless x has shape (B, t, n_emb) with 1 <= t <= context_size (shapes only: no host sync)."""
    if x.ndim != 3 or x.shape[-1] != n_emb:
        raise ValueError(f"x must have shape (B, t, n_emb={n_emb}), got {tuple(x.shape)}")
    if not 1 <= x.shape[1] <= context_size:
        raise ValueError(f"sequence length t={x.shape[1]} is outside 1..context_size={context_size}")


# %%
#| export
def causal_attention_weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d) + M): queries and keys (..., t, D) -> weights (..., t, t), rows summing to 1.

    Row j holds position j's weights over positions 0..j; M puts -inf on the future (key position j' > j).
    """
    t, d = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (..., t, t): S_jj' = q_j . k_j' / sqrt(d)
    future = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(diagonal=1)  # True where j' > j
    return softmax(scores.masked_fill(future, float("-inf")), dim=-1)  # no looking ahead


class AttentionHead(nn.Module):
    """One head of causal self-attention, written out: x (B, t, C) -> (B, t, D), D = head_size."""

    def __init__(self, n_emb: int, head_size: int, bias: bool = True):
        super().__init__()
        self.query = nn.Linear(n_emb, head_size, bias=bias)  # W_Q: what each position looks for
        self.key = nn.Linear(n_emb, head_size, bias=bias)  # W_K: what each position offers
        self.value = nn.Linear(n_emb, head_size, bias=bias)  # W_V: what each position hands over

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, t, C) -> (B, t, D)
        q, k, v = self.query(x), self.key(x), self.value(x)  # (B, t, D) each
        return causal_attention_weights(q, k) @ v  # (B, t, t) @ (B, t, D) -> (B, t, D)


# %%
set_seed(0)
head = AttentionHead(n_emb=16, head_size=4)
x = torch.randn(2, 6, 16)  # (B, t, C): two sequences of six vectors
weights = causal_attention_weights(head.query(x), head.key(x))  # (B, t, t)
print("x:", tuple(x.shape), "-> one head:", tuple(head(x).shape), "; weights:", tuple(weights.shape))
assert torch.allclose(weights.sum(dim=-1), torch.ones(2, 6)) and (weights.triu(diagonal=1) == 0).all()
print("every row of weights sums to 1, and every weight above the diagonal (the future) is 0")
# %% [markdown]
# ## Many heads: `CausalSelfAttention`
#
# One softmax average can attend to one kind of thing at a time. With $n_{\text{head}}$ heads of
# size $d=C/n_{\text{head}}$, each head attends on its own, their outputs are concatenated back to
# $C$ numbers, and one more linear map, the **output projection** $W_O\in\mathbb{R}^{C\times C}$,
# mixes them. The same number of parameters as one head of size $C$ buys several attention
# patterns.
#
# The module the course uses computes all heads at once. The $3n_{\text{head}}$ matrices $W_Q$,
# $W_K$, $W_V$ are the rows of one `nn.Linear(C, 3C)` (`qkv`): rows $0..C-1$ are the queries of
# every head (head $h$ owns rows $hd..hd+d-1$), rows $C..2C-1$ the keys, rows $2C..3C-1$ the
# values. `einops.rearrange` splits its output with a readable pattern,
# `"B t (three H D) -> three B H t D"`: the last dimension, of size $3C$, is read as (three, heads,
# head size), and each head becomes a batch dimension that `@` repeats over. Shapes follow one
# alphabet: `B` batch, `t` current length ($\ell$ in the maths), `C` channels ($n_{\text{emb}}$),
# `H` heads, `D` head size $d$; `T` is kept for the context size, the longest `t` allowed.
#
# `fused=True` replaces the explicit weights by PyTorch's
# `torch.nn.functional.scaled_dot_product_attention` (SDPA), one call for the whole formula. On a
# GPU, and with PyTorch's flash-attention kernel for CPUs, SDPA never stores the $\ell\times\ell$
# weights and is faster; where no fused kernel applies it falls back to the same explicit
# computation (the "math" path), weights and all. It is an option for speed, tested to give the
# same result, not what this notebook teaches; the GPT below uses it by default. The module keeps
# no mask buffer: the explicit path builds an $\ell\times\ell$ mask at each call, the fused path needs
# none.
#
# The module also takes a **dropout** probability $p$, for the attention weights and for its
# output. During training, dropout sets a random fraction $p$ of the numbers it sees to 0 and
# scales the others by $1/(1-p)$, so that the model cannot rely on any single one; in evaluation
# (`model.eval()`) it does nothing. This course's small runs leave it off (`dropout=0.0`).

# %%
#| export
class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: x (B, t, C) -> (B, t, C), with t <= context_size.

    `qkv` is the fused query/key/value projection (C -> 3C), `proj` the output projection W_O
    (C -> C), which writes into the residual stream. `dropout` applies to the attention weights
    and to the output. `fused=True` computes the heads with PyTorch's
    `scaled_dot_product_attention(is_causal=True)` instead of `causal_attention_weights`.
    """

    def __init__(
        self, n_emb: int, n_head: int, context_size: int, dropout: float = 0.0, bias: bool = True, fused: bool = False
    ):
        super().__init__()
        check_attention_sizes(n_emb, n_head, context_size, dropout)
        self.n_emb, self.n_head, self.context_size = n_emb, n_head, context_size
        self.head_size = n_emb // n_head  # d
        self.dropout, self.fused = dropout, fused
        self.qkv = nn.Linear(n_emb, 3 * n_emb, bias=bias)  # W_Q, W_K and W_V of every head, in one matrix
        self.proj = nn.Linear(n_emb, n_emb, bias=bias)  # W_O: mixes the heads, writes into the residual stream
        self.attention_dropout = nn.Dropout(dropout)
        self.output_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, t, C) -> (B, t, C)
        check_attention_input(x, self.n_emb, self.context_size)
        return self.attend(x)

    def attend(self, x: torch.Tensor) -> torch.Tensor:  # forward without the check, for a checked x
        y = rearrange(self.heads(x), "B H t D -> B t (H D)")  # concatenate the heads: (B, t, C)
        return self.output_dropout(self.proj(y))  # mix them with W_O

    def heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, t, C) -> (B, H, t, D): every head's output
        q, k, v = self.split_heads(x)  # (B, H, t, D) each
        if self.fused:  # PyTorch's fused kernel: the same result, faster
            p = self.dropout if self.training else 0.0
            return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        return self.attention_dropout(causal_attention_weights(q, k)) @ v  # (B, H, t, t) @ (B, H, t, D)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, t, C) -> (3, B, H, t, D): q, k, v
        return rearrange(self.qkv(x), "B t (three H D) -> three B H t D", three=3, H=self.n_head)

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:  # (B, t, C) -> (B, H, t, t), explicit path
        check_attention_input(x, self.n_emb, self.context_size)
        q, k, _ = self.split_heads(x)
        return causal_attention_weights(q, k)


# %% [markdown]
# The check this section promised: copy head 0's rows of `qkv` into our `AttentionHead`, and it
# computes exactly head 0 of the module. Then every head from scratch, concatenated and mixed by
# `proj`, gives the module's output, and so does the fused path. So the fused `qkv`, the einops
# patterns and the batched heads are bookkeeping: nothing happens in `CausalSelfAttention` that
# the few lines of `AttentionHead` do not already say. (The checks of the sizes and of the
# input's shape sit in the folded cell before `causal_attention_weights`.)

# %%
def head_from(attention: CausalSelfAttention, h: int) -> AttentionHead:
    """An AttentionHead holding head h's rows of attention.qkv: queries, keys and values."""
    C, d = attention.n_emb, attention.head_size
    head = AttentionHead(C, d)
    with torch.no_grad():
        for layer, first_row in ((head.query, h * d), (head.key, C + h * d), (head.value, 2 * C + h * d)):
            layer.weight.copy_(attention.qkv.weight[first_row : first_row + d])  # (D, C)
            layer.bias.copy_(attention.qkv.bias[first_row : first_row + d])  # (D,)
    return head


set_seed(0)
attention = CausalSelfAttention(n_emb=16, n_head=4, context_size=8)
x = torch.randn(2, 8, 16)  # (B, t, C)
with torch.no_grad():
    assert (head_from(attention, 0)(x) - attention.heads(x)[:, 0]).abs().max() < 1e-6
    print("one head from scratch == head 0 of CausalSelfAttention (largest difference below 1e-6)")
    from_scratch = attention.proj(torch.cat([head_from(attention, h)(x) for h in range(4)], dim=-1))  # (B, t, C)
    assert (from_scratch - attention(x)).abs().max() < 1e-6
    attention.fused = True
    assert (attention(x) - from_scratch).abs().max() < 1e-6
print("4 heads from scratch, concatenated and mixed by proj == the module == its fused path (below 1e-6)")

# %% [markdown]
# ## The transformer block
#
# Attention *moves* information between positions. A small two-layer network, the **MLP**
# (multi-layer perceptron), then *processes* each position on its own: a linear map from $C$ to
# $4C$ numbers, the **GELU** non-linearity applied to each number, and a linear map back to $C$.
# GELU, $\text{GELU}(x)=x\,\Phi(x)$ with $\Phi$ the cumulative distribution of a standard normal,
# is a smooth version of $\max(0,x)$: about 0 for negative $x$, about $x$ for positive $x$.
# Without a non-linearity the two linear maps would collapse into one.
#
# A **block** is one attention and one MLP, wrapped in two ideas that make deep stacks trainable:
#
# - **Residual connections**: each sub-layer *adds* its output to its input, $\mathbf{x}\leftarrow
#   \mathbf{x}+f(\mathbf{x})$. The running vector is the **residual stream**; gradients flow
#   straight down it.
# - **Layer normalisation** (LayerNorm) before each sub-layer (**pre-norm**, as in GPT-2). It
#   rescales each position's vector $\mathbf{x}\in\mathbb{R}^C$ on its own to mean 0 and variance
#   1, then applies a learned gain $\boldsymbol\gamma$ and bias $\boldsymbol\beta$:
#
#   $$
#   \text{LN}(\mathbf{x})=\boldsymbol\gamma\odot\frac{\mathbf{x}-\mu}{\sqrt{\sigma^2+\epsilon}}+\boldsymbol\beta,
#   \qquad \mu=\frac1C\sum_i x_i,\quad \sigma^2=\frac1C\sum_i(x_i-\mu)^2,
#   $$
#
#   with a small $\epsilon=10^{-5}$ against division by 0. It keeps the input of every sub-layer on
#   the same scale however deep the stack.
#
# $$
# \mathbf{x}\leftarrow\mathbf{x}+\text{Attention}(\text{LN}_1(\mathbf{x})),\qquad
# \mathbf{x}\leftarrow\mathbf{x}+\text{MLP}(\text{LN}_2(\mathbf{x})) .
# $$
#
# The MLP ends with dropout too (see `CausalSelfAttention`). LayerNorm by hand, on one vector:

# %%
x = torch.tensor([1.0, 2.0, 3.0, 10.0])  # one position's vector, C = 4
mean, variance = x.mean(), ((x - x.mean()) ** 2).mean()  # the population variance: divide by C
normalised = (x - mean) / torch.sqrt(variance + 1e-5)
print(f"x = {x.tolist()}: mean {mean:.1f}, variance {variance:.1f} -> {[round(v, 2) for v in normalised.tolist()]}")
assert torch.allclose(normalised, torch.nn.LayerNorm(4)(x), atol=1e-6)  # its gain starts at 1, its bias at 0
print("equal to torch.nn.LayerNorm(4)(x), whose gain starts at 1 and bias at 0")

# %% [markdown]
# ## The configuration and the GPT
#
# The GPT is: token embeddings plus position embeddings (notebook 04), $n_{\text{layer}}$ blocks,
# a final LayerNorm, and a linear map `lm_head` from $C$ numbers to $n_{\text{vocab}}$ logits. All
# its sizes live in one dataclass, `GPTConfig`, which a checkpoint stores as a plain dictionary
# (`dataclasses.asdict`). The figure after the code draws the whole model.
#
# Two choices, stated as choices:
#
# - **Tied embeddings.** `lm_head` uses the token embedding table $E$ as its weight: the logit of
#   token $i$ is $\mathbf{e}_i\cdot\mathbf{x}$, how well the final vector matches token $i$'s
#   embedding. This saves $n_{\text{vocab}}\times n_{\text{emb}}$ parameters and was done by GPT-2;
#   untied heads work too, and many recent models use them.
# - **Initialisation** (`init="scaled"`, GPT-2's and nanoGPT's): every linear and embedding weight
#   drawn from $\mathcal{N}(0,0.02^2)$, biases zero, and the two projections that write into the
#   residual stream (`proj` of attention and of the MLP) with standard deviation
#   $0.02/\sqrt{2n_{\text{layer}}}$, so that the stream's variance does not grow with the
#   $2n_{\text{layer}}$ additions. Small initial weights give nearly uniform predictions, a loss
#   near $\ln n_{\text{vocab}}$ at the start (notebook 07). `init="pytorch"` keeps PyTorch's
#   defaults instead, for comparison.
#
# Two fields serve notebook 10, which loads GPT-2's own weights: `gelu_approximate` (GPT-2 used a
# tanh approximation of GELU) and `layer_norm_eps`; their defaults, the exact GELU and
# $\epsilon=10^{-5}$, are what this notebook describes.
#
# The GPT checks its input once, in `forward` (`check_input`, from notebook 05: one read of the
# index range from the device), and from there calls the unchecked `lookup` and `attend`, so that
# no layer checks again. `next_token_logits` runs `lm_head` on the last position only. Two tools
# for looking at a model sit in folded cells around `GPT`: `attention_weights` and
# `count_parameters` before it, and `parameter_count(config)`, the formula counted below, after it.

# %% jupyter={"source_hidden": true}
#| export gpt
"""The GPT: token and position embeddings, a stack of pre-norm transformer blocks, a tied output layer.

`GPTConfig` holds every size (a dataclass: `dataclasses.asdict(config)` and `GPTConfig(**d)`
round-trip, which is how checkpoints store it) and validates them. `GPT(config)` is a
`LanguageModel`: token indices (B, t) -> logits (B, t, n_vocab); it checks its input once per
call, and `next_token_logits` applies `lm_head` at the last position only. `Block` is one
pre-norm transformer block (attention, then an MLP, each added to the residual stream), `MLP`
its feed-forward part. `GPT.attention_weights` returns every block's attention weights.
`parameter_count(config)` gives the number of parameters by formula.

Left out on purpose: key/value caching, mixed precision, weight decay groups (training's
business), dropout variants and loading pre-trained GPT-2 weights (notebook 10's `llm_course.gpt2`
does that, with the GPT-2 options `gelu_approximate="tanh"` and `layer_norm_eps`).
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export gpt
import math
from dataclasses import dataclass

import torch
from torch import nn

from llm_course.attention import CausalSelfAttention
from llm_course.embeddings import PositionEmbedding, TokenEmbedding, check_size
from llm_course.models import LanguageModel

INITS = ("scaled", "pytorch")  # the initialisations GPTConfig.init may name
GELUS = ("none", "tanh")  # GPTConfig.gelu_approximate: the exact GELU, or GPT-2's tanh approximation


def check_config(config) -> None:
    """Raise `ValueError` naming the first field of a GPTConfig that is out of range."""
    for name in ("n_vocab", "context_size", "n_emb", "n_layer", "n_head"):
        check_size(f"GPTConfig.{name}", getattr(config, name))
    if config.n_emb % config.n_head != 0:
        raise ValueError(f"GPTConfig.n_head={config.n_head} must divide n_emb={config.n_emb}")
    if isinstance(config.dropout, bool) or not isinstance(config.dropout, (int, float)) or not 0 <= config.dropout < 1:
        raise ValueError(f"GPTConfig.dropout must lie in [0, 1), got {config.dropout!r}")
    if config.init not in INITS:
        raise ValueError(f"GPTConfig.init must be one of {INITS}, got {config.init!r}")
    if config.gelu_approximate not in GELUS:
        raise ValueError(f"GPTConfig.gelu_approximate must be one of {GELUS}, got {config.gelu_approximate!r}")
    eps = config.layer_norm_eps
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < 1:
        raise ValueError(f"GPTConfig.layer_norm_eps must be a small positive number, got {eps!r}")
    for name in ("bias", "fused_attention"):
        if not isinstance(getattr(config, name), bool):
            raise ValueError(f"GPTConfig.{name} must be True or False, got {getattr(config, name)!r}")


# %%
#| export gpt
@dataclass
class GPTConfig:
    """Every size of a GPT. Checked on creation; `GPTConfig(**dataclasses.asdict(config))` round-trips."""

    n_vocab: int  # V: number of tokens in the vocabulary
    context_size: int  # T: longest input, and the number of position embeddings
    n_emb: int  # C: size of every vector in the residual stream
    n_layer: int  # number of transformer blocks
    n_head: int  # attention heads per block; must divide n_emb (head size n_emb // n_head)
    dropout: float = 0.0  # dropout probability on embeddings, attention weights and sub-layer outputs
    bias: bool = True  # biases in the Linear and LayerNorm layers (GPT-2 has them)
    init: str = "scaled"  # "scaled": N(0, 0.02^2), residual projections' std / sqrt(2 n_layer); "pytorch": defaults
    fused_attention: bool = True  # labelled speed option: torch's scaled_dot_product_attention, same result
    gelu_approximate: str = "none"  # the MLP's GELU: "none" (exact) or "tanh" (GPT-2's approximation, notebook 10)
    layer_norm_eps: float = 1e-5  # the epsilon of every LayerNorm (GPT-2's and PyTorch's default)

    def __post_init__(self):
        check_config(self)


class MLP(nn.Module):
    """The feed-forward part of a block, applied at every position alone: C -> 4C -> GELU -> C."""

    def __init__(self, n_emb: int, dropout: float = 0.0, bias: bool = True, gelu_approximate: str = "none"):
        super().__init__()
        self.fc = nn.Linear(n_emb, 4 * n_emb, bias=bias)
        self.gelu = nn.GELU(approximate=gelu_approximate)
        self.proj = nn.Linear(4 * n_emb, n_emb, bias=bias)  # writes into the residual stream
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, t, C) -> (B, t, C)
        return self.dropout(self.proj(self.gelu(self.fc(x))))


class Block(nn.Module):
    """A pre-norm transformer block: x + attention(LN(x)), then x + MLP(LN(x)). (B, t, C) -> (B, t, C)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_emb, eps=config.layer_norm_eps, bias=config.bias)
        self.attention = CausalSelfAttention(
            config.n_emb, config.n_head, config.context_size, config.dropout, config.bias, config.fused_attention
        )
        self.ln_2 = nn.LayerNorm(config.n_emb, eps=config.layer_norm_eps, bias=config.bias)
        self.mlp = MLP(config.n_emb, config.dropout, config.bias, config.gelu_approximate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x was checked by GPT.forward
        x = x + self.attention.attend(self.ln_1(x))  # residual connection around attention
        return x + self.mlp(self.ln_2(x))  # and around the MLP


# %% jupyter={"source_hidden": true}
#| export gpt
class _GPTInspection:
    """What a GPT offers besides the idea: every block's attention weights, and its parameter count."""

    def attention_weights(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """The attention weights of every block (explicit path): a list of n_layer tensors (B, H, t, t)."""
        x = self.embed(self.check_input(idx))
        all_weights = []
        for block in self.blocks:
            all_weights.append(block.attention.attention_weights(block.ln_1(x)))
            x = block(x)
        return all_weights

    def count_parameters(self) -> int:
        """Number of distinct parameters (the tied table counted once)."""
        return sum(p.numel() for p in self.parameters())


# %%
#| export gpt
class GPT(_GPTInspection, LanguageModel):
    """A GPT: token indices (B, t) -> logits (B, t, n_vocab), t <= config.context_size.

    token_embedding + position_embedding -> dropout -> n_layer Blocks -> ln_f -> lm_head, with
    `lm_head.weight` tied to (the same tensor as) `token_embedding.weight`.
    """

    def __init__(self, config: GPTConfig):
        if not isinstance(config, GPTConfig):
            raise TypeError(f"GPT takes a GPTConfig, got {type(config).__name__}")
        super().__init__(n_vocab=config.n_vocab, context_size=config.context_size)
        self.config = config
        self.token_embedding = TokenEmbedding(config.n_vocab, config.n_emb)  # E: (V, C)
        self.position_embedding = PositionEmbedding(config.context_size, config.n_emb)  # P: (T, C)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_emb, eps=config.layer_norm_eps, bias=config.bias)
        self.lm_head = nn.Linear(config.n_emb, config.n_vocab, bias=False)  # (B, t, C) -> (B, t, V)
        self.lm_head.weight = self.token_embedding.weight  # tied: logit_i = e_i . x
        if config.init == "scaled":
            self.apply(self._init_scaled)
            for name, parameter in self.named_parameters():
                if name.endswith("proj.weight"):  # attention.proj and mlp.proj write into the residual stream
                    nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_scaled(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding, PositionEmbedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, t, V); a 1-D idx (t,) gives (1, t, V)
        return self.lm_head(self.features(self.check_input(idx)))

    def next_token_logits(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, V): lm_head at the last position
        return self.lm_head(self.features(self.check_input(idx))[:, -1, :])

    def features(self, idx: torch.Tensor) -> torch.Tensor:  # checked idx (B, t) -> (B, t, C), what lm_head reads
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x)  # (B, t, C)
        return self.ln_f(x)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:  # checked idx (B, t) -> (B, t, C)
        x = self.token_embedding.lookup(idx) + self.position_embedding.weight[: idx.shape[1]]  # (B, t, C) + (t, C)
        return self.dropout(x)


# %% jupyter={"source_hidden": true}
#| export gpt
def parameter_count(config: GPTConfig) -> int:
    """Number of parameters of `GPT(config)`, by formula.

    V C (tied token table) + T C (positions) + n_layer (12 C^2 + 13 C) + 2 C (final LayerNorm),
    with biases; without them each block has 12 C^2 + 2 C and the final LayerNorm C.

    >>> parameter_count(GPTConfig(n_vocab=65, context_size=64, n_emb=128, n_layer=4, n_head=4))
    809856
    """
    V, T, C = config.n_vocab, config.context_size, config.n_emb
    if config.bias:  # ln_1, qkv, attention's proj, ln_2, the MLP's fc and proj
        per_block = (2 * C) + (3 * C * C + 3 * C) + (C * C + C) + (2 * C) + (4 * C * C + 4 * C) + (4 * C * C + C)
        final_norm = 2 * C
    else:  # LayerNorm keeps its gain, every bias is gone
        per_block = C + 3 * C * C + C * C + C + 4 * C * C + 4 * C * C
        final_norm = C
    return V * C + T * C + config.n_layer * per_block + final_norm


# %% jupyter={"source_hidden": true}
# The figure: the GPT as a stack of boxes, drawn with matplotlib.
from matplotlib.patches import FancyBboxPatch


def draw_gpt(ax) -> None:
    """The GPT's data flow, bottom to top: the residual stream in the middle, each block's sub-layers beside it."""

    def box(x, y, width, label, colour, height=0.45):
        ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.02", facecolor=colour, edgecolor="black"))
        ax.text(x + width / 2, y + height / 2, label, ha="center", va="center", fontsize=9)

    def arrow(start, end, colour="black"):
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color=colour))

    stream = 0.35  # x of the residual stream
    box(0.05, 0.0, 0.6, "token indices idx  (B, t)", "white")
    box(0.05, 0.9, 0.6, "E[idx] + P[:t]: token + position embeddings", "#cfe2f3")
    arrow((stream, 0.47), (stream, 0.88))
    ax.plot([stream, stream], [1.37, 6.0], color="tab:red", linewidth=2)  # the residual stream
    ax.text(stream - 0.03, 2.7, "residual\nstream\n(B, t, C)", color="tab:red", ha="right", va="center", fontsize=8)
    for y, norm, layer, colour in ((1.9, "LayerNorm  ln_1", "causal self-attention\nn_head heads, then W_O", "#f9cb9c"),
                                   (3.8, "LayerNorm  ln_2", "MLP: C -> 4C -> GELU -> C", "#b6d7a8")):
        arrow((stream, y + 0.2), (0.55, y + 0.2))  # branch off the stream
        box(0.55, y, 0.45, norm, "#eeeeee", height=0.4)
        arrow((0.775, y + 0.42), (0.775, y + 0.68))
        box(0.55, y + 0.7, 0.45, layer, colour, height=0.5)
        ax.plot([0.775, 0.775], [y + 1.22, y + 1.55], color="black")
        arrow((0.775, y + 1.55), (stream + 0.03, y + 1.55))  # add the result back
        ax.plot(stream, y + 1.55, marker="o", markersize=13, markerfacecolor="white", markeredgecolor="tab:red")
        ax.text(stream, y + 1.55, "+", ha="center", va="center", color="tab:red", fontsize=11)
    ax.add_patch(FancyBboxPatch((0.15, 1.75), 0.92, 3.95, boxstyle="round,pad=0.02", fill=False, linestyle="--"))
    ax.text(1.1, 3.7, "one block,\nrepeated\nn_layer times", ha="left", va="center", fontsize=9)
    box(0.05, 6.0, 0.6, "final LayerNorm  ln_f", "#eeeeee", height=0.4)
    arrow((stream, 6.42), (stream, 6.78))
    box(0.05, 6.8, 0.6, "lm_head: logit_i = e_i . x  (tied to E)", "#cfe2f3", height=0.4)
    arrow((stream, 7.22), (stream, 7.58))
    box(0.05, 7.6, 0.6, "softmax of the last position: alpha  (B, n_vocab)", "white", height=0.4)
    ax.set_xlim(0.0, 1.35)
    ax.set_ylim(-0.1, 8.1)
    ax.axis("off")


fig, ax = plt.subplots(figsize=(9, 8))
draw_gpt(ax)
ax.set_title("The GPT, bottom to top: every block adds attention, then an MLP, to the residual stream")
plt.show()

# %% [markdown]
# ## The course's GPT
#
# A GPT of the size a CPU trains in a few minutes: characters ($n_{\text{vocab}}=65$), a context
# of $T=64$, vectors of $C=128$ numbers, 4 blocks of 4 heads. (Notebook 07 measures which shape
# learns fastest for its budget, and trains a wider, shallower one: 2 blocks of 6 heads, $C=192$.)

# %%
import dataclasses

from llm_course.gpt import GPT, GPTConfig, parameter_count
from llm_course.tokenizers import CharTokenizer

tokenizer = CharTokenizer.from_text(text)
config = GPTConfig(n_vocab=tokenizer.n_vocab, context_size=64, n_emb=128, n_layer=4, n_head=4)
print(config)
set_seed(1337)
model = GPT(config)
print(f"parameters: {model.count_parameters():,} counted, {parameter_count(config):,} by formula")
assert model.count_parameters() == parameter_count(config) == sum(p.numel() for p in model.parameters())
assert GPTConfig(**dataclasses.asdict(config)) == config, "a checkpoint can store the config as a dict"
assert model.lm_head.weight is model.token_embedding.weight, "tied embeddings"

# %% [markdown]
# ### Where the parameters are
#
# Count them by hand for one block, with biases: each LayerNorm has a gain and a bias ($2C$);
# `qkv` has $3C\cdot C$ weights and $3C$ biases; attention's `proj` $C^2+C$; the MLP's `fc`
# $4C^2+4C$ and its `proj` $4C^2+C$. That is $12C^2+13C$ per block. Add $n_{\text{vocab}}C$ for
# the token table (counted once: `lm_head` shares it), $TC$ for positions and $2C$ for the final
# LayerNorm:
#
# $$N = n_{\text{vocab}}C + TC + n_{\text{layer}}(12C^2+13C) + 2C .$$
#
# For a large model the $12C^2$ per block dominates: GPT-2 small (the same formula with
# $n_{\text{vocab}}=50{,}257$, $T=1024$, $C=768$, 12 blocks) has 124 million parameters.

# %%
V, C = config.n_vocab, config.n_emb
parts = {  # part: (by hand, counted in the module)
    "token_embedding (= lm_head)": (V * C, model.token_embedding.weight.numel()),
    "position_embedding": (config.context_size * C, model.position_embedding.weight.numel()),
    f"{config.n_layer} blocks x (12 C^2 + 13 C)": (config.n_layer * (12 * C * C + 13 * C), model.blocks),
    "ln_f": (2 * C, model.ln_f),
}
for part, (by_hand, counted) in parts.items():
    counted = counted if isinstance(counted, int) else sum(p.numel() for p in counted.parameters())
    print(f"{part:32} {by_hand:>9,} by hand, {counted:>9,} in the module")
    assert by_hand == counted
gpt2 = GPTConfig(n_vocab=50257, context_size=1024, n_emb=768, n_layer=12, n_head=12)
print(f"GPT-2 small: {parameter_count(gpt2):,} parameters")
assert parameter_count(gpt2) == 124_439_808

# %% [markdown]
# ### The contract, once more
#
# The GPT is a `LanguageModel`, so it takes any sequence of 1 to 64 indices and returns a
# probability vector; it is causal (a change at position $j$ changes no logits before $j$), and
# its fused attention gives the same logits as the explicit one. At initialisation its
# predictions are nearly uniform, so the loss on real text is close to $\ln n_{\text{vocab}}=\ln
# 65\approx4.17$ (notebook 07 starts from there).
#
# One habit of the untrained model is worth knowing. Its argmax, the token it finds most likely, is
# nearly always the token it was just given: with tied embeddings the logit of token $i$ is
# $\mathbf{e}_i\cdot\mathbf{x}$, the small initial blocks leave the final vector $\mathbf{x}$ at
# position $j$ close to $\mathbf{e}_{s_j}+\mathbf{p}_j$, and a random vector's largest dot
# product is with itself. The
# probabilities stay nearly uniform all the same, because the logits are tiny.

# %%
import torch.nn.functional as F

model.eval()  # no dropout here anyway; eval() makes it explicit
ids = torch.tensor(tokenizer.encode(text[:2049]))  # 32 windows of 64 tokens, and their targets
inputs, targets = ids[:-1].unfold(0, 64, 64), ids[1:].unfold(0, 64, 64)  # (B, T) each
with torch.no_grad():
    for t in range(1, config.context_size + 1):
        probs = model.next_token_probs(ids[:t])
        assert probs.shape == (V,) and (probs >= 0).all() and abs(probs.sum().item() - 1) < 1e-5
    logits = model(inputs)  # (B, T, V)
    changed = inputs.clone()
    changed[:, 40] = (changed[:, 40] + 1) % V
    assert torch.equal(model(changed)[:, :40], logits[:, :40]), "no logit before position 40 changed"
    explicit = GPT(dataclasses.replace(config, fused_attention=False)).eval()
    explicit.load_state_dict(model.state_dict())
    assert (explicit(inputs) - logits).abs().max() < 1e-5
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).item()
    repeats = (logits.argmax(dim=-1) == inputs).float().mean().item()  # argmax = the current token
print("probabilities for every length 1..64: non-negative, summing to 1; no change reaches back")
print("fused and explicit attention: logits differ by less than 1e-5")
print(f"loss at initialisation {loss:.2f}; ln(65) = {math.log(65):.2f}")
print(f"the argmax is the current token again at {repeats:.0%} of {inputs.numel():,} positions")
assert abs(loss - math.log(65)) < 0.1 and repeats > 0.9

# %% [markdown]
# ## Attention earns its place: one block against the bigram
#
# Does reading the context pay? The best bigram model, the counts of notebook 05, has a loss of
# about 2.5 nats on the validation text (exercise 05.3). Let us train the smallest GPT there is, a
# single block of 4 heads with $C=64$ and $T=32$, for 1,000 steps of 16 random windows of 32
# characters, and measure both on every window of the validation text. The loop is the bare
# principle of notebook 05 (notebook 07 explains it, and does it properly): predict every next
# character of a batch, take the average $-\ln\alpha_{s_{\ell+1}}$, step against its gradient with
# Adam. It takes a few seconds on a laptop. The run is in float64, so that the printed losses are
# the same on every machine (the code says why).

# %%
from llm_course.data import get_batch, train_val_split
from llm_course.models import BigramCounts

ids = torch.tensor(tokenizer.encode(text))
train_ids, val_ids = train_val_split(ids)
val_x, val_y = val_ids[:-1].unfold(0, 32, 32), val_ids[1:].unfold(0, 32, 32)  # (3485, 32): every window

set_seed(1337)
# This one run is in float64, from its initial weights on: training amplifies the last-digit differences
# between CPUs (a float32 random draw differs in its last bit on a CPU without AVX2) about ten-thousandfold,
# and in float64 that still leaves the printed digits alone.
torch.set_default_dtype(torch.float64)
one_block = GPT(GPTConfig(n_vocab=V, context_size=32, n_emb=64, n_layer=1, n_head=4))
torch.set_default_dtype(torch.float32)
optimiser = torch.optim.Adam(one_block.parameters(), lr=3e-3)
generator = torch.Generator().manual_seed(0)
for _ in range(1000):
    x, y = get_batch(train_ids, batch_size=16, context_size=32, generator=generator)  # (16, 32) each, y = x shifted
    loss = F.cross_entropy(one_block(x).reshape(-1, V), y.reshape(-1))  # every position predicts its next character
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()

one_block.eval()


def validation_loss(model) -> float:
    """The average loss over every window of the validation text (500 windows at a time, to save memory)."""
    with torch.no_grad():
        chunks = zip(val_x.split(500), val_y.split(500), strict=True)
        return sum(F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1), reduction="sum").item() for x, y in chunks) / val_y.numel()


losses = {"bigram from counts (notebook 05)": validation_loss(BigramCounts.from_indices(train_ids, V)),
          "one-block GPT, 1,000 steps": validation_loss(one_block)}
for name, value in losses.items():
    print(f"{name:33} validation loss {value:.2f} nats")
assert losses["one-block GPT, 1,000 steps"] < losses["bigram from counts (notebook 05)"] - 0.2

# %% [markdown]
# ## Looking at trained attention
#
# `GPT.attention_weights` runs the explicit path and returns the weights of every block, shape
# `(B, H, t, t)`. Row $j$ of a head's matrix says where position $j$ looks when it predicts
# character $j+1$. Below, on the left, the first head of the trained block on the opening of
# Hamlet's most famous line; on the right, for each head, the average weight it gives to the
# character $0,1,2,\dots$ steps back, over 500 windows of the validation text.

# %%
line = "To be, or not to be, that is the"  # 32 characters: the whole context
with torch.no_grad():
    line_weights = one_block.attention_weights(torch.tensor(tokenizer.encode(line)))  # n_layer x (1, H, t, t)
    val_weights = one_block.attention_weights(val_x[:500])[0]  # (500, H, T, T): 500 validation windows
steps_back = torch.arange(32)[:, None] - torch.arange(32)[None, :]  # (T, T): j - j' for query j, key j'
profile = torch.stack([val_weights[..., steps_back == s].mean(dim=(0, 2)) for s in range(10)], dim=1)  # (H, 10)
print("average weight on the character 0, 1, 2, ..., 9 steps back:")
for head, row in enumerate(profile.tolist(), start=1):
    print(f"  head {head}:", " ".join(f"{w:.2f}" for w in row))
assert (profile[:, :4].sum(dim=1) > 0.6).all(), "every head looks mostly at the last four characters"

# %% jupyter={"source_hidden": true}
fig, (left, right) = plt.subplots(1, 2, figsize=(15, 7.5), gridspec_kw={"width_ratios": [1.3, 1]})
labels = ["␣" if c == " " else c for c in line]
image = left.imshow(line_weights[0][0, 0], cmap="Blues", vmin=0, vmax=1)
fig.colorbar(image, ax=left, shrink=0.8, label="attention weight")
left.set_xticks(range(len(line)), labels, fontsize=8.5)
left.set_yticks(range(len(line)), labels, fontsize=8.5)
left.set_xlabel("attended position j' (key)")
left.set_ylabel("attending position j (query)")
left.set_title("block 1, head 1, on a verse line")
for head, row in enumerate(profile.tolist(), start=1):
    right.plot(range(10), row, marker="o", label=f"head {head}")
right.axvline(0, color="gray", linestyle=":", label="the only character a bigram sees")
right.set_xlabel("steps back from the attending position (0 = itself)")
right.set_ylabel("average attention weight")
right.set_title("every head, over 500 validation windows")
right.legend()
fig.suptitle("Trained attention looks a few characters back: most of every head's weight lies on the last 4 characters")
plt.show()

# %% [markdown]
# What did the block learn? Every head keeps most of its weight on the last four characters, its
# own included (the first four numbers of each row add up to between 0.78 and 0.90). Three heads
# put their largest weight one step back; head 2 puts it on the position itself and spreads
# furthest. So where the bigram reads only the current character, the one-block GPT has learned,
# from data alone, to read a short window, the current character and about three before it, and
# to weigh them by what they are, since the weights come from queries and keys, not from a fixed
# window: enough to gain 0.38 nats. Longer-range patterns (the start of the current word, the name
# of the speaker) take more blocks and more training: the 4-block GPT of notebook 07.
#
# To explore the heads of any GPT (the 4-block model of notebook 07 too), the folded cell below
# defines `attention_picker(weights, text)`: sliders for the block and the head, and the map
# they pick. Where widgets cannot be shown, `print_attention(weights, text, block, head)` prints,
# under each character, the character it attends to most; here for block 1, head 1. (The widget's
# output differs from one run to the next, so the tests skip that cell.)

# %% jupyter={"source_hidden": true}
def show_attention(weights: list[torch.Tensor], text: str, block: int, head: int) -> None:
    """The attention map of one head (block and head count from 1), as a heatmap."""
    labels = ["␣" if c == " " else c for c in text]
    fig, ax = plt.subplots(figsize=(6, 6))
    image = ax.imshow(weights[block - 1][0, head - 1], cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
    ax.set_xticks(range(len(text)), labels, fontsize=9)
    ax.set_yticks(range(len(text)), labels, fontsize=9)
    ax.set_xlabel("attended position j' (key)")
    ax.set_ylabel("attending position j (query)")
    ax.set_title(f"block {block}, head {head}: where each position looks")
    plt.show()


def print_attention(weights: list[torch.Tensor], text: str, block: int, head: int) -> None:
    """The printed fallback: each character, and under it the character its row attends to most."""
    most = weights[block - 1][0, head - 1].argmax(dim=-1).tolist()  # (t,): the argmax of every row
    show = lambda c: "␣" if c == " " else c  # noqa: E731
    print(f"block {block}, head {head}")
    print("position j:     ", " ".join(show(c) for c in text))
    print("looks most at:  ", " ".join(show(text[key]) for key in most))
    print("steps back:     ", " ".join(str(j - key) if j - key < 10 else "+" for j, key in enumerate(most)))


def attention_picker(weights: list[torch.Tensor], text: str):
    """Sliders for the block and the head; None (and a message) where widgets cannot be shown."""
    try:
        import ipywidgets as widgets
        from IPython import get_ipython
    except ImportError:
        print("ipywidgets is not installed: use print_attention(weights, text, block, head) instead")
        return None
    if get_ipython() is None or not hasattr(get_ipython(), "kernel"):
        print("no notebook front-end: use print_attention(weights, text, block, head) instead")
        return None
    n_layer, n_head = len(weights), weights[0].shape[1]
    return widgets.interactive(
        lambda block, head: show_attention(weights, text, block, head),
        block=widgets.IntSlider(value=1, min=1, max=n_layer, description="block"),
        head=widgets.IntSlider(value=1, min=1, max=n_head, description="head"),
    )


# %%
print_attention(line_weights, line, block=1, head=1)

# %% tags=["nbval-ignore-output"]
picker = attention_picker(line_weights, line)  # in JupyterLab or Colab: sliders for the block and the head
assert picker is None or [slider.max for slider in picker.children[:2]] == [1, 4]  # 1 block, 4 heads
picker

# %% [markdown]
# ## Summary
#
# - A bigram sees one token back; the next token depends on much more.
# - Attention gives each position a weighted average of the values of the positions up to it:
#   $\text{softmax}(QK^\top/\sqrt d+M)V$, with the causal mask $M$ hiding the future and
#   $\sqrt d$ keeping the scores' variance near 1 (without it the weights collapse onto one
#   position). `AttentionHead` is one head from scratch; `CausalSelfAttention` computes
#   $n_{\text{head}}$ of them at once with a fused `qkv` and einops, and equals the heads from
#   scratch, concatenated and mixed by $W_O$. `fused=True` uses PyTorch's
#   `scaled_dot_product_attention`, which gives the same result faster.
# - A pre-norm block is $\mathbf{x}+\text{Attention}(\text{LN}(\mathbf{x}))$ then
#   $\mathbf{x}+\text{MLP}(\text{LN}(\mathbf{x}))$, with GELU inside the MLP; the GPT stacks
#   blocks between embeddings and a tied output layer, with GPT-2's scaled initialisation, and
#   checks its input once per call.
# - `GPTConfig` holds every size; `parameter_count` gives $n_{\text{vocab}}C+TC+n_{\text{layer}}
#   (12C^2+13C)+2C$ parameters.
# - One block trained for a few seconds beats the best bigram on held-out text, and its heads
#   learn readable patterns. The GPT honours the contract of notebook 05, like every model before
#   it.
#
# ## Exercises
#
# Each exercise has a starter cell: replace the `raise NotImplementedError` with your code, run
# it, then run the `check` cell under it, which tries your function on several inputs (some drawn
# at random) and prints ✓ or a hint. Solutions are in
# `solutions/06_attention_and_the_transformer.py`: try first.
#
# **06.1 One head, by hand.** Write `one_head(x, w_q, w_k, w_v)`: for one sequence `x` of shape
# `(t, C)` and weight matrices `w_q`, `w_k`, `w_v` of shape `(C, D)`, the transposes of $W_Q$, $W_K$,
# $W_V$ (so that $Q = XW_Q^\top$ is `x @ w_q`; no biases), return the head's output `(t, D)`,
# $\text{softmax}(QK^\top/\sqrt d+M)V$, with the causal mask. Use only `@`, `torch.exp` or
# `torch.softmax`, and a mask you build.

# %%
def one_head(x: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor, w_v: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError  # scores, mask the future with -inf, softmax each row, weights @ values


# %%
from llm_course.exercises import check

check("06.1", one_head)

# %% [markdown]
# **06.2 The parameter count from a config.** Write `gpt_parameters(n_vocab, context_size, n_emb,
# n_layer)`: the number of parameters of the course's GPT (biases on, tied embeddings), from the
# sizes alone. Then use it: how many parameters for $C=256$, 8 blocks and the vocabulary and
# context of the course's GPT?

# %%
def gpt_parameters(n_vocab: int, context_size: int, n_emb: int, n_layer: int) -> int:
    raise NotImplementedError  # embeddings + n_layer blocks + the final LayerNorm


# %%
check("06.2", gpt_parameters)

# %% [markdown]
# **06.3 LayerNorm by hand.** Write `layer_norm(x, gain, bias, eps=1e-5)`: normalise every vector
# along the last dimension of `x` (any shape) to mean 0 and variance 1 (the population variance,
# dividing by $C$), then multiply by `gain` and add `bias` (both of shape `(C,)`).

# %%
def layer_norm(x: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    raise NotImplementedError  # (x - mean) / sqrt(variance + eps) * gain + bias, along the last dimension


# %%
check("06.3", layer_norm)

# %% [markdown]
# Questions to think about:
#
# 4. Remove the causal mask from `causal_attention_weights` and run the cells after it again.
#    Which assertion of this notebook stops you first, and why would a model trained without the
#    mask be useless for generating text, however low its training loss?
# 5. Untie the embeddings (give `lm_head` its own weight). How many parameters does that add to
#    the course's GPT? To GPT-2 small?
# 6. Train the one-block GPT with one head of size 64 instead of four of size 16. Is the
#    validation loss better or worse? Which head patterns disappear?
# 7. Time the explicit and fused paths (`fused_attention=False` and `True`) for $T=256$ and
#    $T=1024$. How does the gap change?

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

check_peak_memory()
