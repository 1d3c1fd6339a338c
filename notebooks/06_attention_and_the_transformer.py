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
# themselves. Stacked into **transformer blocks**, with embeddings in front and a linear layer
# behind, it becomes the **GPT**, which honours the same contract as every model so far:
# indices $(s_1,\dots,s_t)$, $t\le T$, in, a probability vector $\boldsymbol\alpha$ out.
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
# character (its entropy, in bits) falls as the model is allowed to see more characters back.

# %%
import math
from collections import Counter, defaultdict

import matplotlib.pyplot as plt
import torch

from llm_course.data import load_text
from llm_course.reproducibility import set_seed

set_seed(1337)
text = load_text()


def conditional_entropy_bits(text: str, k: int) -> float:
    """Entropy of the next character given the k characters before it, from counts, in bits."""
    followers = defaultdict(Counter)
    for j in range(k, len(text)):
        followers[text[j - k : j]][text[j]] += 1
    total = len(text) - k
    entropy = 0.0
    for counter in followers.values():
        n = sum(counter.values())
        entropy -= sum(c / total * math.log2(c / n) for c in counter.values())
    return entropy


sample = text[:200_000]
entropies = [conditional_entropy_bits(sample, k) for k in range(4)]
for k, h in enumerate(entropies):
    print(f"seeing {k} character(s) back: {h:.3f} bits of uncertainty about the next one")
assert all(a > b for a, b in zip(entropies, entropies[1:], strict=False))

# %% [markdown]
# (On a finite text these numbers fall partly because long contexts are rare and their counts
# overfit; the trend is real all the same. A learned model must *generalise* from context, not
# memorise a table with $n_{\text{vocab}}^k$ rows: that is what attention does.)
#
# ## Attention, step by step
#
# Let $X\in\mathbb{R}^{t\times C}$ hold the vectors of a sequence, one row per position ($C$ is
# $n_{\text{emb}}$). We want a new vector for every position $j$ that gathers information from
# positions $1,\dots,j$, never from the future (the model predicts $s_{j+1}$ from there, so it must
# not see it).
#
# **Step 1: average the past.** $\mathbf{y}_j=\frac1j\sum_{k\le j}\mathbf{x}_k$. As a matrix
# product: $Y=AX$ with $A_{jk}=1/j$ for $k\le j$ and $0$ for $k>j$: a lower-triangular matrix whose
# rows sum to 1.

# %%
t, C = 4, 2
X = torch.arange(t * C, dtype=torch.float).reshape(t, C)  # (t, C)
A = torch.tril(torch.ones(t, t))
A = A / A.sum(dim=1, keepdim=True)  # rows sum to 1
print("A =", [[round(a, 3) for a in row] for row in A.tolist()])
Y = A @ X  # (t, t) @ (t, C) -> (t, C)
loop = torch.stack([X[: j + 1].mean(dim=0) for j in range(t)])
assert torch.allclose(Y, loop)
print("Y = A X is the running mean:", Y.tolist())

# %% [markdown]
# **Step 2: weights from scores, with the future masked.** A uniform average treats every past
# token alike. Instead, give each pair a score $S_{jk}$, set the scores of the future ($k>j$) to
# $-\infty$ and take a softmax along each row: $A=\text{softmax}(S)$. Future positions get weight
# $e^{-\infty}=0$, the rest are positive and sum to 1. With all scores equal, this is step 1 again.

# %%
from llm_course.models import softmax

S = torch.zeros(t, t)
causal = torch.tril(torch.ones(t, t, dtype=torch.bool))  # True where k <= j
A_masked = softmax(S.masked_fill(~causal, float("-inf")), dim=-1)
assert torch.allclose(A_masked, A)
print("softmax of masked zeros = the running-mean weights: checked")

# %% [markdown]
# **Step 3: scores from the tokens: queries, keys and values.** Each position $j$ emits three
# vectors, computed by learned linear maps from $\mathbf{x}_j$: a **query**
# $\mathbf{q}_j=W_Q\mathbf{x}_j$ ("what am I looking for?"), a **key** $\mathbf{k}_j=W_K\mathbf{x}_j$
# ("what do I contain?") and a **value** $\mathbf{v}_j=W_V\mathbf{x}_j$ ("what I hand over").
# The score of $k$ for $j$ is the dot product $\mathbf{q}_j\cdot\mathbf{k}_k$, large when they
# match, and position $j$ receives the weighted average of the values:
#
# $$
# \text{Attention}(Q,K,V)=\text{softmax}\!\Big(\frac{QK^\top}{\sqrt{d}}+M\Big)V,\qquad
# M_{jk}=\begin{cases}0&k\le j\\-\infty&k>j\end{cases}
# $$
#
# **Step 4: scaling by $\sqrt d$.** If the entries of $\mathbf{q}$ and $\mathbf{k}$ have variance
# 1, their dot product over $d$ dimensions has variance $d$. Large scores make the softmax nearly
# one-hot (all weight on one position) and its gradients vanish; dividing by $\sqrt d$ brings the
# variance back to 1.

# %%
set_seed(0)
for d in (16, 256):
    q, k = torch.randn(10_000, d), torch.randn(10_000, d)
    raw = (q * k).sum(dim=-1)
    print(f"d={d:3}: variance of q.k = {raw.var():7.2f}; after dividing by sqrt(d): {(raw / d**0.5).var():.2f}")
    assert abs((raw / d**0.5).var() - 1) < 0.1

# %% [markdown]
# **Step 5: several heads.** One softmax average can attend to one kind of thing at a time. With
# $n_{\text{head}}$ **heads**, the $C$ numbers of each query, key and value are split into
# $n_{\text{head}}$ groups of $d=C/n_{\text{head}}$; each head attends on its own, and their
# outputs are concatenated back to $C$ numbers and mixed by one more linear map, the output
# projection $W_O$. The same number of parameters buys several attention patterns.
#
# In code all three maps $W_Q,W_K,W_V$ are one `nn.Linear(C, 3C)` (`qkv`), and the heads are a
# reshape, which `einops.rearrange` writes as a readable pattern:
# `"b t (three h d) -> three b h t d"` splits the $3C$ outputs into $q,k,v$, then into $h$ heads
# of $d$ numbers. Shapes follow one alphabet: `B` batch, `T` time (positions), `C` channels
# ($n_{\text{emb}}$), `H` heads, `D` head size.
#
# ## `CausalSelfAttention`
#
# The module below is the formula, computed explicitly, so that its weights can be looked at.
# PyTorch also has the whole computation as one fused function,
# `torch.nn.functional.scaled_dot_product_attention`, which never stores the $t\times t$ weights
# and is faster; `fused=True` selects it. It is an option for speed, tested to give the same
# result, not what this notebook teaches.

# %%
#| export
"""Causal self-attention: every position takes a weighted average of the values at or before it.

`CausalSelfAttention(n_emb, n_head, context_size)` maps x (B, T, C) to (B, T, C): a fused
linear layer `qkv` makes queries, keys and values, the heads attend with
softmax(Q K^T / sqrt(d) + causal mask) V, written out with einops, and `proj` mixes the heads.
`forward(x, return_weights=True)` also returns the attention weights (B, H, T, T).
`fused=True` computes the same thing with PyTorch's `scaled_dot_product_attention`, which is
faster and never materialises the weights.

Left out on purpose: key/value caching for generation, cross-attention, and attention variants
(grouped-query, sliding-window, rotary positions).
"""

from __future__ import annotations

# %%
#| export
import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from llm_course.models import softmax


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: x (B, T, C) -> (B, T, C), with T <= context_size.

    `qkv` is the fused query/key/value projection (C -> 3C), `proj` the output projection
    (C -> C), which writes into the residual stream. `dropout` applies to the attention weights
    and to the output. `fused=False` (the default) computes the weights explicitly;
    `fused=True` calls `torch.nn.functional.scaled_dot_product_attention(is_causal=True)`
    instead, except when the weights are asked for.
    """

    def __init__(
        self, n_emb: int, n_head: int, context_size: int, dropout: float = 0.0, bias: bool = True, fused: bool = False
    ):
        super().__init__()
        for name, value in (("n_emb", n_emb), ("n_head", n_head), ("context_size", context_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if n_emb % n_head != 0:
            raise ValueError(f"n_head={n_head} must divide n_emb={n_emb}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        self.n_emb, self.n_head, self.context_size = n_emb, n_head, context_size
        self.head_size = n_emb // n_head  # d
        self.dropout = dropout
        self.fused = fused
        self.qkv = nn.Linear(n_emb, 3 * n_emb, bias=bias)  # x -> (q, k, v), all heads at once
        self.proj = nn.Linear(n_emb, n_emb, bias=bias)  # concatenated heads -> residual stream
        self.attention_dropout = nn.Dropout(dropout)
        self.output_dropout = nn.Dropout(dropout)
        causal_mask = torch.tril(torch.ones(context_size, context_size, dtype=torch.bool))  # (T, T): k <= j
        self.register_buffer("causal_mask", causal_mask, persistent=False)

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        """x (B, T, C) -> y (B, T, C); with `return_weights=True`, (y, weights (B, H, T, T))."""
        if x.ndim != 3 or x.shape[-1] != self.n_emb:
            raise ValueError(f"x must have shape (B, T, n_emb={self.n_emb}), got {tuple(x.shape)}")
        T = x.shape[1]
        if not 1 <= T <= self.context_size:
            raise ValueError(f"sequence length T={T} is outside 1..context_size={self.context_size}")
        q, k, v = rearrange(self.qkv(x), "B T (three H D) -> three B H T D", three=3, H=self.n_head)
        if self.fused and not return_weights:
            y = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
            )  # (B, H, T, D)
            weights = None
        else:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)  # (B, H, T, T): q_j . k_k / sqrt(d)
            scores = scores.masked_fill(~self.causal_mask[:T, :T], float("-inf"))  # no looking ahead
            weights = softmax(scores, dim=-1)  # (B, H, T, T): each row sums to 1
            y = self.attention_dropout(weights) @ v  # (B, H, T, T) @ (B, H, T, D) -> (B, H, T, D)
        y = rearrange(y, "B H T D -> B T (H D)")  # concatenate the heads
        y = self.output_dropout(self.proj(y))  # (B, T, C)
        return (y, weights) if return_weights else y


# %% [markdown]
# The module's explicit path must agree with PyTorch's fused function given the same projections:

# %%
set_seed(0)
attention = CausalSelfAttention(n_emb=16, n_head=4, context_size=8)
x = torch.randn(2, 8, 16)  # (B, T, C)
y, weights = attention(x, return_weights=True)
q, k, v = rearrange(attention.qkv(x), "B T (three H D) -> three B H T D", three=3, H=4)
reference = attention.proj(rearrange(F.scaled_dot_product_attention(q, k, v, is_causal=True), "B H T D -> B T (H D)"))
print(f"largest difference from scaled_dot_product_attention: {(y - reference).abs().max():.1e}")
assert torch.allclose(y, reference, atol=1e-6)
attention.fused = True
assert torch.allclose(attention(x), y, atol=1e-6)
attention.fused = False
assert torch.allclose(weights.sum(dim=-1), torch.ones(2, 4, 8)) and (weights.triu(diagonal=1) == 0).all()
print("weights:", tuple(weights.shape), "rows sum to 1, nothing above the diagonal")

# %% [markdown]
# ## The transformer block
#
# Attention *moves* information between positions; a small two-layer network, the **MLP**
# (multi-layer perceptron: $C\to4C$, GELU, $4C\to C$), then *processes* each position on its own.
# A **block** is one of each, wrapped in two ideas that make deep stacks trainable:
#
# - **Residual connections**: each sub-layer *adds* its output to its input, $\mathbf{x}\leftarrow
#   \mathbf{x}+f(\mathbf{x})$. The running vector is the **residual stream**; gradients flow
#   straight down it.
# - **Layer normalisation** before each sub-layer (**pre-norm**, as in GPT-2): each vector is
#   rescaled to mean 0 and variance 1 (then by learned gains and biases), which keeps the inputs of
#   every sub-layer on the same scale however deep the stack.
#
# $$
# \mathbf{x}\leftarrow\mathbf{x}+\text{Attention}(\text{LN}_1(\mathbf{x})),\qquad
# \mathbf{x}\leftarrow\mathbf{x}+\text{MLP}(\text{LN}_2(\mathbf{x})) .
# $$
#
# ## The configuration and the GPT
#
# The GPT is: token embeddings plus position embeddings (notebook 04), $n_{\text{layer}}$ blocks,
# a final layer norm, and a linear map `lm_head` from $C$ numbers to $n_{\text{vocab}}$ logits. All
# its sizes live in one dataclass, `GPTConfig`, which a checkpoint stores as a plain dictionary
# (`dataclasses.asdict`).
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

# %%
#| export gpt
"""The GPT: token and position embeddings, a stack of pre-norm transformer blocks, a tied output layer.

`GPTConfig` holds every size (a dataclass: `dataclasses.asdict(config)` and `GPTConfig(**d)`
round-trip, which is how checkpoints store it) and validates them. `GPT(config)` is a
`LanguageModel`: token indices (B, t) -> logits (B, t, n_vocab). `Block` is one pre-norm
transformer block (attention, then an MLP, each added to the residual stream), `MLP` its
feed-forward part. `parameter_count(config)` gives the number of parameters by formula.

Left out on purpose: key/value caching, mixed precision, weight decay groups (training's
business), dropout variants and loading pre-trained GPT-2 weights.
"""

from __future__ import annotations

# %%
#| export gpt
import math
from dataclasses import dataclass

import torch
from torch import nn

from llm_course.attention import CausalSelfAttention
from llm_course.embeddings import PositionEmbedding, TokenEmbedding
from llm_course.models import LanguageModel

INITS = ("scaled", "pytorch")  # the initialisations GPTConfig.init may name


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
    init: str = "scaled"  # "scaled": N(0, 0.02), residual projections / sqrt(2 n_layer); "pytorch": defaults
    fused_attention: bool = True  # use torch's scaled_dot_product_attention (faster, same result)

    def __post_init__(self):
        for name in ("n_vocab", "context_size", "n_emb", "n_layer", "n_head"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig.{name} must be a positive int, got {value!r}")
        if self.n_emb % self.n_head != 0:
            raise ValueError(f"GPTConfig.n_head={self.n_head} must divide n_emb={self.n_emb}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ValueError(f"GPTConfig.dropout must lie in [0, 1), got {self.dropout!r}")
        if self.init not in INITS:
            raise ValueError(f"GPTConfig.init must be one of {INITS}, got {self.init!r}")
        for name in ("bias", "fused_attention"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"GPTConfig.{name} must be True or False, got {getattr(self, name)!r}")


# %%
#| export gpt
class MLP(nn.Module):
    """The feed-forward part of a block, applied at every position alone: C -> 4C -> GELU -> C."""

    def __init__(self, n_emb: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.fc = nn.Linear(n_emb, 4 * n_emb, bias=bias)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(4 * n_emb, n_emb, bias=bias)  # writes into the residual stream
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T, C)
        return self.dropout(self.proj(self.gelu(self.fc(x))))


class Block(nn.Module):
    """A pre-norm transformer block: x + attention(LN(x)), then x + MLP(LN(x)). (B, T, C) -> (B, T, C)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_emb, bias=config.bias)
        self.attention = CausalSelfAttention(
            config.n_emb, config.n_head, config.context_size, config.dropout, config.bias, config.fused_attention
        )
        self.ln_2 = nn.LayerNorm(config.n_emb, bias=config.bias)
        self.mlp = MLP(config.n_emb, config.dropout, config.bias)

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        """x (B, T, C) -> (B, T, C); with `return_weights=True`, also the attention weights (B, H, T, T)."""
        attended = self.attention(self.ln_1(x), return_weights=return_weights)
        attended, weights = attended if return_weights else (attended, None)
        x = x + attended  # residual connection
        x = x + self.mlp(self.ln_2(x))  # residual connection
        return (x, weights) if return_weights else x


# %%
#| export gpt
class GPT(LanguageModel):
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
        self.ln_f = nn.LayerNorm(config.n_emb, bias=config.bias)
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

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, t, n_vocab) for idx (B, t); a 1-D idx (t,) gives (1, t, n_vocab)."""
        idx = self.check_input(idx)  # (B, t), validated
        x = self.token_embedding(idx) + self.position_embedding(idx.shape[1])  # (B, t, C) + (t, C)
        x = self.dropout(x)
        for block in self.blocks:
            x = block(x)  # (B, t, C)
        return self.lm_head(self.ln_f(x))  # (B, t, V)

    def attention_weights(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """The attention weights of every block, explicit path: a list of n_layer tensors (B, H, t, t)."""
        idx = self.check_input(idx)
        x = self.dropout(self.token_embedding(idx) + self.position_embedding(idx.shape[1]))
        all_weights = []
        for block in self.blocks:
            x, weights = block(x, return_weights=True)
            all_weights.append(weights)
        return all_weights

    def count_parameters(self) -> int:
        """Number of distinct parameters (the tied table counted once)."""
        return sum(p.numel() for p in self.parameters())


def parameter_count(config: GPTConfig) -> int:
    """Number of parameters of `GPT(config)`, by formula.

    V C (tied token table) + T C (positions) + n_layer (12 C^2 + 13 C) + 2 C (final LayerNorm),
    with biases; without them each block has 12 C^2 + 2 C and the final LayerNorm C.

    >>> parameter_count(GPTConfig(n_vocab=65, context_size=64, n_emb=128, n_layer=4, n_head=4))
    809856
    """
    V, T, C = config.n_vocab, config.context_size, config.n_emb
    if config.bias:
        per_block = (2 * C) + (3 * C * C + 3 * C) + (C * C + C) + (2 * C) + (4 * C * C + 4 * C) + (4 * C * C + C)
        final_norm = 2 * C
    else:  # LayerNorm keeps its gain, every bias is gone
        per_block = C + 3 * C * C + C * C + C + 4 * C * C + 4 * C * C
        final_norm = C
    return V * C + T * C + config.n_layer * per_block + final_norm


# %% [markdown]
# ## The course's GPT
#
# The GPT that notebook 07 trains on a CPU in a few minutes: characters ($n_{\text{vocab}}=65$), a
# context of $T=64$, vectors of $C=128$ numbers, 4 blocks of 4 heads.

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
C, V, T = config.n_emb, config.n_vocab, config.context_size
by_hand = {
    "token_embedding (= lm_head)": V * C,
    "position_embedding": T * C,
    f"{config.n_layer} blocks x (12 C^2 + 13 C)": config.n_layer * (12 * C * C + 13 * C),
    "ln_f": 2 * C,
}
counted = {
    "token_embedding (= lm_head)": model.token_embedding.weight.numel(),
    "position_embedding": model.position_embedding.weight.numel(),
    f"{config.n_layer} blocks x (12 C^2 + 13 C)": sum(p.numel() for p in model.blocks.parameters()),
    "ln_f": sum(p.numel() for p in model.ln_f.parameters()),
}
for part, number in by_hand.items():
    print(f"{part:32} {number:>9,} by hand, {counted[part]:>9,} in the module")
    assert number == counted[part]
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

# %%
import torch.nn.functional as F

model.eval()  # no dropout here anyway; eval() makes it explicit
ids = torch.tensor(tokenizer.encode(text[:2049]))  # 32 windows of 64 tokens, and their targets
with torch.no_grad():
    for t in range(1, config.context_size + 1):
        probs = model.next_token_probs(ids[:t])
        assert probs.shape == (V,) and (probs >= 0).all() and abs(probs.sum().item() - 1) < 1e-5
    x = ids[:64][None]  # (1, T)
    logits = model(x)  # (1, T, V)
    changed = x.clone()
    changed[0, 40] = (changed[0, 40] + 1) % V
    assert torch.equal(model(changed)[:, :40], logits[:, :40]), "no logit before position 40 changed"
    explicit = GPT(dataclasses.replace(config, fused_attention=False)).eval()
    explicit.load_state_dict(model.state_dict())
    difference = (explicit(x) - logits).abs().max().item()
    inputs, targets = ids[:-1].unfold(0, 64, 64), ids[1:].unfold(0, 64, 64)  # (B, T) windows
    loss = F.cross_entropy(model(inputs).reshape(-1, V), targets.reshape(-1)).item()
print("probabilities for every length 1..64: non-negative, summing to 1")
print(f"fused and explicit attention differ by at most {difference:.1e}")
print(f"loss at initialisation {loss:.3f}; ln(65) = {math.log(65):.3f}")
assert difference < 1e-5 and abs(loss - math.log(65)) < 0.1

# %% [markdown]
# The fused path is there for speed. A rough timing of one forward and backward pass on a batch
# of 8 windows (your numbers will differ; on a busy machine they jump around):

# %% tags=["nbval-ignore-output"]
import time

batch = torch.randint(V, (8, 64), generator=torch.Generator().manual_seed(0))


def seconds_per_step(candidate: GPT, repeats: int = 3) -> float:
    """The fastest of `repeats` forward and backward passes, after one to warm up."""
    timings = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        candidate(batch).logsumexp(dim=-1).mean().backward()
        timings.append(time.perf_counter() - start)
    return min(timings[1:])


for name, candidate in (("explicit", explicit.train()), ("fused", model.train())):
    print(f"{name:8}: {seconds_per_step(candidate) * 1000:.0f} ms per forward and backward pass")
_ = model.eval(), explicit.eval()

# %% [markdown]
# ## Looking at attention
#
# `GPT.attention_weights` runs the explicit path and returns the weights of every block, shape
# `(B, H, t, t)`. Row $j$ of a head's matrix says where position $j$ looks. Left: the first head
# of the first block of our GPT, untrained; its small initial weights make every score nearly 0,
# so each row is nearly the running mean of step 1, $1/j$ on the past. Right: a single attention
# layer with PyTorch's default (larger) initial weights, fed larger random vectors: the scores
# spread out and the softmax picks a few positions per row, in a pattern that means nothing yet.
# Training is what turns such patterns into useful ones.

# %%
prompt = "To be, or not to be"
prompt_ids = torch.tensor(tokenizer.encode(prompt))
with torch.no_grad():
    gpt_weights = model.attention_weights(prompt_ids)[0][0, 0]  # block 1, batch row 1, head 1: (t, t)
    set_seed(0)
    layer = CausalSelfAttention(n_emb=32, n_head=4, context_size=64)
    _, layer_weights = layer(3 * torch.randn(1, len(prompt), 32), return_weights=True)  # larger inputs
layer_weights = layer_weights[0, 0]  # head 1: (t, t)
running_mean = torch.tril(torch.ones(len(prompt), len(prompt)))
running_mean = running_mean / running_mean.sum(dim=1, keepdim=True)
print(f"untrained GPT head vs the running mean: largest difference {(gpt_weights - running_mean).abs().max():.3f}")
assert (gpt_weights - running_mean).abs().max() < 0.05
assert torch.equal(gpt_weights.triu(diagonal=1), torch.zeros_like(gpt_weights))

labels = ["␣" if c == " " else c for c in prompt]
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
for ax, weights, title in zip(
    axes, (gpt_weights, layer_weights), ("GPT block 1, head 1 (untrained)", "one layer, PyTorch's default init, random inputs"),
    strict=True,
):
    image = ax.imshow(weights, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(prompt)), labels)
    ax.set_yticks(range(len(prompt)), labels)
    ax.set_xlabel("attended position k (key)")
    ax.set_ylabel("attending position j (query)")
    ax.set_title(title)
fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
fig.suptitle("Attention weights: nothing above the diagonal (no looking ahead), each row sums to 1")
plt.show()

# %% [markdown]
# ## Summary
#
# - A bigram sees one token back; the next token depends on much more.
# - Attention gives each position a weighted average of the values of the positions up to it:
#   $\text{softmax}(QK^\top/\sqrt d+M)V$, with the causal mask $M$ hiding the future and
#   $\sqrt d$ keeping the scores' variance near 1. Several heads attend in parallel;
#   `CausalSelfAttention` writes it with einops, and `fused=True` uses PyTorch's
#   `scaled_dot_product_attention`, which gives the same result faster.
# - A pre-norm block is $\mathbf{x}+\text{Attention}(\text{LN}(\mathbf{x}))$ then
#   $\mathbf{x}+\text{MLP}(\text{LN}(\mathbf{x}))$; the GPT stacks them between embeddings and a
#   tied output layer, with GPT-2's scaled initialisation.
# - `GPTConfig` holds every size; `parameter_count` gives $n_{\text{vocab}}C+TC+n_{\text{layer}}
#   (12C^2+13C)+2C$ parameters.
# - The GPT honours the contract of notebook 05, like every model before it.
#
# ## Exercises
#
# 1. Remove the division by $\sqrt d$ in a copy of `CausalSelfAttention` and plot the weights of a
#    layer with $d=64$: what happens to the rows?
# 2. Remove the causal mask. Which test of `tests/test_attention.py` fails, and why would a model
#    trained without it be useless for generating text?
# 3. How many parameters does a GPT with $C=256$, 8 blocks and the same vocabulary and context
#    have? Check with `parameter_count`.
# 4. Untie the embeddings (give `lm_head` its own weight). How many parameters does that add to the
#    course's GPT? To GPT-2 small?
# 5. Time the explicit and fused paths for $T=256$ and $T=1024$. How does the gap change?

# %%
from llm_course.environment import check_peak_memory

# %% tags=["nbval-ignore-output"]
check_peak_memory()
