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
# # 04 · Embeddings
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/04_embeddings.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/04_embeddings.ipynb)
#
# A model's input is a sequence of token indices: integers. But a neural network computes with
# vectors of real numbers, and an index by itself has no useful size (token 40 is not "more" than
# token 20). So the first thing a model does is to turn each index $i$ into a vector
# $\mathbf{e}_i\in\mathbb{R}^{n_{\text{emb}}}$, its **embedding**, by looking it up in a table that
# is learned with the rest of the model. This notebook shows that the lookup is a matrix product
# in disguise, that learning changes only the rows that were used, why the model also needs to
# know *where* each token stands, and how to look at embeddings.
#
# It writes the module `llm_course.embeddings`.

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
#| default_exp embeddings

# %% [markdown]
# ## The embedding table
#
# Stack the embeddings of all $n_{\text{vocab}}$ tokens as the rows of one matrix, the
# **embedding table**
#
# $$
# E=\begin{pmatrix}\mathbf{e}_1^\top\\ \vdots\\ \mathbf{e}_{n_{\text{vocab}}}^\top\end{pmatrix}
# \in\mathbb{R}^{n_{\text{vocab}}\times n_{\text{emb}}} .
# $$
#
# Row $i$ of $E$ is $\mathbf{e}_i$. (In the maths rows are numbered from 1; in the code token
# index `i` is row `E[i]`, numbered from 0.) The entries of $E$ are parameters: they start random
# and training moves them. $n_{\text{emb}}$ is a size the researcher picks: 128 for the small GPT
# of this course, 768 for the smallest GPT-2, 12,288 for GPT-3.
#
# ### A lookup is a one-hot matrix product
#
# Write token $i$ as its **one-hot** vector $\mathbf{o}_i\in\{0,1\}^{n_{\text{vocab}}}$: all zeros
# except a 1 at position $i$. Then
#
# $$\mathbf{o}_i^\top E=\mathbf{e}_i^\top ,$$
#
# because the product adds up the rows of $E$ weighted by the entries of $\mathbf{o}_i$, and only
# row $i$ has weight 1. So an embedding is a linear layer applied to one-hot vectors. Nobody
# computes it that way: multiplying by a vector of zeros wastes $n_{\text{vocab}}\times
# n_{\text{emb}}$ multiplications to read one row. `torch.nn.Embedding` reads the row directly.
# The module below is an `nn.Embedding` with the course's names, plus the slow product, to check
# that they agree.

# %%
#| export
"""Embeddings: token indices become vectors by a table lookup, and positions get vectors too.

`TokenEmbedding(n_vocab, n_emb)` is the table E (V, C) whose row i is the embedding e_i; it is a
`torch.nn.Embedding` (a row lookup), and `one_hot_product` computes the same thing the slow way,
one-hot vectors times E. `PositionEmbedding(context_size, n_emb)` is a learned table with one
row per position 0..T-1. `one_hot`, `cosine_similarity` and `pca_2d` are small helpers for
looking at embeddings.

Left out on purpose: fixed (sinusoidal) and rotary position encodings, and embeddings
pre-trained elsewhere (word2vec); the course learns its tables with the model.
"""

from __future__ import annotations

# %%
#| export
import torch
from torch import nn


def _check_indices(indices: torch.Tensor, size: int, what: str) -> None:
    """Raise a clear error unless `indices` is an integer tensor with entries in 0..size-1."""
    if not isinstance(indices, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of integers, got {type(indices).__name__}")
    if indices.dtype.is_floating_point or indices.dtype.is_complex or indices.dtype == torch.bool:
        raise TypeError(f"{what} must hold integers, got dtype {indices.dtype}")
    if indices.numel() > 0 and not torch.compiler.is_compiling():  # reading values would split a compiled graph
        low, high = indices.min().item(), indices.max().item()
        if low < 0 or high >= size:
            bad = low if low < 0 else high
            raise ValueError(f"{what} {bad} is out of range: the table has {size} rows (0..{size - 1})")


def one_hot(indices: torch.Tensor, n_vocab: int) -> torch.Tensor:
    """One-hot float vectors: shape `(*indices.shape, n_vocab)`, a 1 at each index.

    >>> one_hot(torch.tensor([2, 0]), n_vocab=3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    _check_indices(indices, n_vocab, "token index")
    return torch.nn.functional.one_hot(indices.long(), n_vocab).float()


# %%
#| export
class TokenEmbedding(nn.Embedding):
    """The embedding table E of shape (n_vocab, n_emb): token indices (B, t) -> vectors (B, t, C).

    It is `nn.Embedding` (initialised N(0, 1)) with a clear error for a bad index;
    `one_hot_product` computes the same result as one-hot vectors times `weight`.

    >>> embedding = TokenEmbedding(n_vocab=5, n_emb=3)
    >>> idx = torch.tensor([[4, 0, 4]])
    >>> torch.equal(embedding(idx), embedding.weight[idx])
    True
    """

    def __init__(self, n_vocab: int, n_emb: int):
        for name, value in (("n_vocab", n_vocab), ("n_emb", n_emb)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        super().__init__(n_vocab, n_emb)
        self.n_vocab, self.n_emb = n_vocab, n_emb

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, t, C)
        _check_indices(idx, self.n_vocab, "token index")
        return super().forward(idx)

    def one_hot_product(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, t, C)
        """The same embeddings, computed the slow way: one-hot (B, t, V) @ E (V, C)."""
        return one_hot(idx, self.n_vocab) @ self.weight


class PositionEmbedding(nn.Embedding):
    """A learned table P of shape (context_size, n_emb): row j is the vector added at position j.

    Called with a length `t` (an int; `torch.compile` may pass a symbolic one), it returns the first
    `t` rows, shape `(t, C)`, ready to be added to token embeddings of shape `(B, t, C)`.

    >>> PositionEmbedding(context_size=8, n_emb=4)(3).shape
    torch.Size([3, 4])
    """

    def __init__(self, context_size: int, n_emb: int):
        for name, value in (("context_size", context_size), ("n_emb", n_emb)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        super().__init__(context_size, n_emb)
        self.context_size, self.n_emb = context_size, n_emb

    def forward(self, t: int) -> torch.Tensor:  # -> (t, C)
        if isinstance(t, bool) or not isinstance(t, (int, torch.SymInt)) or not 1 <= t <= self.context_size:
            raise ValueError(f"sequence length t={t!r} is outside 1..context_size={self.context_size}")
        positions = torch.arange(t, device=self.weight.device)  # (t,): 0, 1, ..., t-1
        return super().forward(positions)  # (t, C)


# %% [markdown]
# Let us build a table for the characters of Tiny Shakespeare, with the character tokenizer of
# notebook 02 (65 tokens) and, to keep the numbers readable, $n_{\text{emb}}=16$.

# %%
import matplotlib.pyplot as plt

from llm_course.data import load_text
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer

set_seed(1337)
text = load_text()
tokenizer = CharTokenizer.from_text(text)
characters = tokenizer.vocabulary.tokens  # S; index i (0-based) is characters[i]
n_vocab, n_emb = tokenizer.n_vocab, 16

embedding = TokenEmbedding(n_vocab, n_emb)
idx = torch.tensor([tokenizer.encode("To be"), tokenizer.encode("or no")])  # (B, t) = (2, 5)
vectors = embedding(idx)  # (B, t, C)
print("idx:", idx.tolist(), "-> embeddings of shape", tuple(vectors.shape))
print("e for 'T' (first 4 of 16 numbers):", [round(x, 4) for x in vectors[0, 0, :4].tolist()])

# %%
one_hots = one_hot(idx, n_vocab)  # (B, t, V)
print("one-hot of 'T' has", int(one_hots[0, 0].sum().item()), "one, at position", int(one_hots[0, 0].argmax().item()))
product = one_hots @ embedding.weight  # (B, t, V) @ (V, C) -> (B, t, C)
assert torch.allclose(product, vectors), "one-hot times E equals the lookup"
assert torch.equal(vectors, embedding.weight[idx]), "the lookup reads rows of E"
plain = nn.Embedding(n_vocab, n_emb)
plain.weight.data.copy_(embedding.weight.data)
assert torch.equal(plain(idx), vectors), "TokenEmbedding is nn.Embedding"
print("one-hot @ E == E[idx] == nn.Embedding(idx): checked")

# %% [markdown]
# ### Learning touches only the rows that were used
#
# Because the lookup equals $\mathbf{o}_i^\top E$, the gradient of anything computed from
# $\mathbf{e}_i$ with respect to $E$ is $\mathbf{o}_i$ times the gradient with respect to
# $\mathbf{e}_i$: zero in every row but row $i$. A training step on "To be" moves the rows of `T`,
# `o`, space, `b` and `e` and leaves the other 60 rows where they were. A token that never
# appears in the training text keeps its random initial embedding forever.

# %%
embedding.zero_grad()
loss = (embedding(idx[:1]) ** 2).sum()  # any function of the embeddings of "To be"
loss.backward()
rows_with_gradient = embedding.weight.grad.abs().sum(dim=1).nonzero().flatten().tolist()
used = sorted(set(idx[0].tolist()))
print("rows used:", used, "=", [characters[i] for i in used])
print("rows with a non-zero gradient:", rows_with_gradient)
assert rows_with_gradient == used

# %% [markdown]
# ## Positions
#
# An embedding says *which* token, not *where*. The models of notebook 06 mix the vectors of a
# sequence with weighted sums computed from the vectors themselves, and such a computation treats
# its inputs as a **set**: shuffle the inputs and the outputs are shuffled the same way, nothing
# more. "stop" and "pots" hand it the same four vectors. So a model also learns a **position
# embedding** $\mathbf{p}_j\in\mathbb{R}^{n_{\text{emb}}}$ for every position $j=1,\dots,T$
# (rows of a table $P\in\mathbb{R}^{T\times n_{\text{emb}}}$) and adds it: the input vector at
# position $j$ is $\mathbf{e}_{s_j}+\mathbf{p}_j$. Now "s at position 1" and "s at position 4"
# are different vectors. This is also why a model has a context size $T$: there is no row for
# position $T+1$.
#
# Below, an order-blind summary of a sequence, $\sum_j\tanh(\mathbf{x}_j)$ (a stand-in for what
# attention computes), cannot tell the anagrams apart from token embeddings alone, and can once
# positions are added.

# %%
positions = PositionEmbedding(context_size=8, n_emb=n_emb)
first = torch.tensor(tokenizer.encode("stop"))  # (t,)
second = torch.tensor(tokenizer.encode("pots"))


def order_blind_summary(x: torch.Tensor) -> torch.Tensor:  # (t, C) -> (C,)
    return torch.tanh(x).sum(dim=0)


without = order_blind_summary(embedding(first)), order_blind_summary(embedding(second))
with_positions = (
    order_blind_summary(embedding(first) + positions(4)),  # (t, C) + (t, C)
    order_blind_summary(embedding(second) + positions(4)),
)
print("'stop' and 'pots' look the same without positions:", torch.allclose(*without))
print("'stop' and 'pots' look the same with positions:   ", torch.allclose(*with_positions))
assert torch.allclose(*without) and not torch.allclose(*with_positions)
print("position table:", tuple(positions.weight.shape), "; positions(4) has shape", tuple(positions(4).shape))

# %% [markdown]
# ## Looking at embeddings
#
# Two embeddings are *similar* when they point the same way. The **cosine similarity**
#
# $$\cos(\mathbf{a},\mathbf{b})=\frac{\mathbf{a}\cdot\mathbf{b}}{\lVert\mathbf{a}\rVert\,\lVert\mathbf{b}\rVert}\in[-1,1]$$
#
# is 1 for the same direction, 0 for perpendicular vectors, -1 for opposite ones. After training,
# tokens used alike (vowels; upper- and lower-case forms of a letter) tend to get similar
# embeddings. Right now the table is random, and random vectors in many dimensions are almost
# perpendicular: their cosine similarities cluster around 0 with a spread of about
# $1/\sqrt{n_{\text{emb}}}$.

# %%
#| export
def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of every row of `a` (N, C) with every row of `b` (M, C): shape (N, M).

    >>> cosine_similarity(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])).tolist()
    [[1.0, 0.0, -1.0]]
    """
    a = a / a.norm(dim=-1, keepdim=True).clamp(min=1e-12)  # unit rows
    b = b / b.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    return a @ b.T  # (N, M)


# %%
E = embedding.weight.detach()  # (V, C)
similarity = cosine_similarity(E, E)  # (V, V)
reference = torch.nn.functional.cosine_similarity(E[:, None, :], E[None, :, :], dim=-1)
assert torch.allclose(similarity, reference, atol=1e-6)
off_diagonal = similarity[~torch.eye(n_vocab, dtype=torch.bool)]
print(f"diagonal: {similarity.diagonal().min():.4f}; off-diagonal mean {off_diagonal.mean():.4f}, "
      f"std {off_diagonal.std():.4f} (1/sqrt(n_emb) = {n_emb ** -0.5:.4f})")
assert abs(off_diagonal.mean()) < 0.05 and abs(off_diagonal.std() - n_emb**-0.5) < 0.05

# %% [markdown]
# To *see* 65 vectors of 16 numbers, project them onto the plane that keeps most of their spread:
# **principal component analysis** (PCA). Centre the rows, take the singular value decomposition,
# and keep the coordinates along the first two right singular vectors. A random table shows no
# structure; notebook 07 draws the same picture after training.

# %%
#| export
def pca_2d(vectors: torch.Tensor) -> torch.Tensor:
    """Project the rows of `vectors` (N, C) onto their first two principal components: (N, 2).

    Signs are fixed (each component's largest coordinate is positive) so the picture is repeatable.

    >>> points = pca_2d(torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [5.0, 0.0, 0.0]]))
    >>> [round(x, 4) + 0.0 for x in points[:, 0].tolist()]
    [-2.0, -1.0, 3.0]
    """
    if vectors.ndim != 2 or vectors.shape[0] < 2 or vectors.shape[1] < 2:
        raise ValueError(f"pca_2d needs at least 2 rows of at least 2 numbers, got shape {tuple(vectors.shape)}")
    centred = vectors.detach().double() - vectors.detach().double().mean(dim=0)  # (N, C)
    _, _, right = torch.linalg.svd(centred, full_matrices=False)  # right: (C, C), rows = components
    points = centred @ right[:2].T  # (N, 2)
    signs = torch.sign(points.gather(0, points.abs().argmax(dim=0, keepdim=True)))  # (1, 2)
    return (points * torch.where(signs == 0, 1.0, signs)).float()


# %%
points = pca_2d(E)  # (V, 2)
fig, ax = plt.subplots(figsize=(7, 6))
ax.scatter(points[:, 0], points[:, 1], s=8, color="lightgray")
for i, character in enumerate(characters):
    ax.annotate("␣" if character == " " else repr(character)[1:-1], (points[i, 0].item(), points[i, 1].item()), fontsize=8, ha="center", va="center")
ax.set_xlabel("first principal component")
ax.set_ylabel("second principal component")
ax.set_title("Random character embeddings (n_emb=16) projected by PCA: no structure yet")
plt.show()

# %% [markdown]
# ## Summary
#
# - An embedding turns token index $i$ into a vector $\mathbf{e}_i\in\mathbb{R}^{n_{\text{emb}}}$:
#   row $i$ of a learned table $E\in\mathbb{R}^{n_{\text{vocab}}\times n_{\text{emb}}}$.
# - Looking up a row equals multiplying a one-hot vector by $E$, so an embedding is a linear layer
#   computed cheaply; `nn.Embedding` (and `TokenEmbedding`) does the lookup.
# - A training step changes only the rows of the tokens it saw.
# - Sums and averages ignore order, so a model adds a learned position embedding $\mathbf{p}_j$ to
#   each token's vector; there is one per position up to the context size $T$.
# - Cosine similarity compares directions; PCA draws a table in two dimensions. A random table
#   shows nothing; notebook 07 looks again after training.
#
# ## Exercises
#
# 1. How many parameters does the embedding table of GPT-2 have ($n_{\text{vocab}}=50{,}257$,
#    $n_{\text{emb}}=768$)? And its position table ($T=1024$)?
# 2. Time `one_hot_product` against the lookup for $n_{\text{vocab}}=50{,}000$ and a batch of
#    $32\times64$ indices. How much slower is it, and why?
# 3. Replace the learned position table with fixed vectors, e.g. $\mathbf{p}_j=(\sin(j/10^{4k/C}),
#    \cos(j/10^{4k/C}))_k$ (the original transformer's). What can such a table do that a learned
#    one cannot?
# 4. Repeat the cosine-similarity experiment with $n_{\text{emb}}=2$ and $n_{\text{emb}}=1024$.
#    How does the spread of the off-diagonal similarities change?

# %%
from llm_course.environment import check_peak_memory

# %% tags=["nbval-ignore-output"]
check_peak_memory()
