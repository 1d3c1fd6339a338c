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
# in disguise, which rows of the table a training step moves, why the model also needs to know
# *where* each token stands, and what a few seconds of training do to the table: tokens that are
# used alike end up pointing the same way.
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
# Row $i$ of $E$ is $\mathbf{e}_i$. (In the maths rows are numbered from 1, in the code from 0:
# $\mathbf{e}_i$ is `E[i - 1]`, as in notebook 00, and a code index `idx` reads row `E[idx]`.)
# The entries of $E$ are parameters: they start random and training moves them. $n_{\text{emb}}$
# is a size the researcher picks: 128 for the small GPT of this course, 768 for the smallest
# GPT-2, 12,288 for GPT-3.
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
# `TokenEmbedding` below is an `nn.Embedding` with the course's names and a clear error for a bad
# index, plus the slow product, to check that the two agree. (The checks live in the folded cell
# just below, as in every notebook: click its bar to read them.)

# %% jupyter={"source_hidden": true}
#| export
"""Embeddings: token indices become vectors by a table lookup, and positions get vectors too.

`TokenEmbedding(n_vocab, n_emb)` is the table E (V, C) whose row i is the embedding e_i; it is a
`torch.nn.Embedding` (a row lookup), and `one_hot_product` computes the same thing the slow way,
one-hot vectors times E. `PositionEmbedding(context_size, n_emb)` is a learned table P (T, C)
with one row per position 0..T-1. `one_hot`, `cosine_similarity` and `pca_2d` are small helpers
for looking at embeddings. `check_size`, `check_token_indices` and `check_length` are the input
checks that later modules reuse.

Left out on purpose: fixed (sinusoidal) and rotary position encodings, and embeddings
pre-trained elsewhere (word2vec); the course learns its tables with the model.
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export
import torch
import torch.nn.functional as F
from torch import nn


def check_size(name: str, value) -> None:
    """Raise `ValueError` unless `value` is a positive int (a size such as n_vocab or n_emb)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_token_indices(indices: torch.Tensor, n_vocab: int, name: str = "token indices") -> None:
    """Raise a clear error unless `indices` is an integer tensor with entries in 0..n_vocab-1.

    Reading the smallest and largest index is the one host synchronisation of a forward pass; it
    is skipped inside `torch.compile`, where reading values would split the compiled graph.
    """
    if not isinstance(indices, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of integers, got {type(indices).__name__}")
    if indices.dtype.is_floating_point or indices.dtype.is_complex or indices.dtype == torch.bool:
        raise TypeError(f"{name} must hold integers, got dtype {indices.dtype}")
    if indices.numel() > 0 and not torch.compiler.is_compiling():
        low, high = torch.stack(torch.aminmax(indices)).tolist()  # one read from the device
        if low < 0 or high >= n_vocab:
            bad = low if low < 0 else high
            raise ValueError(f"token index {bad} is out of range for n_vocab={n_vocab} (valid indices: 0..{n_vocab - 1})")


def check_length(t, context_size: int) -> None:
    """Raise `ValueError` unless the length `t` lies in 1..context_size (`torch.compile` may pass a SymInt)."""
    if isinstance(t, bool) or not isinstance(t, (int, torch.SymInt)) or not 1 <= t <= context_size:
        raise ValueError(f"sequence length t={t!r} is outside 1..context_size={context_size}")


# %%
#| export
def one_hot(indices: torch.Tensor, n_vocab: int) -> torch.Tensor:
    """One-hot float vectors: shape `(*indices.shape, n_vocab)`, a 1 at each index.

    >>> one_hot(torch.tensor([2, 0]), n_vocab=3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    check_token_indices(indices, n_vocab)
    return F.one_hot(indices.long(), n_vocab).float()


class TokenEmbedding(nn.Embedding):
    """The embedding table E of shape (n_vocab, n_emb): token indices (B, t) -> vectors (B, t, C).

    It is `nn.Embedding` (initialised N(0, 1)) with a clear error for a bad index; `lookup` skips
    that check, for a model that checked its input once already.

    >>> embedding = TokenEmbedding(n_vocab=5, n_emb=3)
    >>> idx = torch.tensor([[4, 0, 4]])
    >>> torch.equal(embedding(idx), embedding.weight[idx])
    True
    """

    def __init__(self, n_vocab: int, n_emb: int):
        check_size("n_vocab", n_vocab), check_size("n_emb", n_emb)
        super().__init__(n_vocab, n_emb)
        self.n_vocab, self.n_emb = n_vocab, n_emb

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, t, C)
        check_token_indices(idx, self.n_vocab)
        return self.lookup(idx)

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, t, C), idx already checked
        return F.embedding(idx, self.weight)  # row idx[b, j] of E, for every b and j

    def one_hot_product(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, t, C)
        """The same embeddings, computed the slow way: one-hot (B, t, V) @ E (V, C)."""
        return one_hot(idx, self.n_vocab) @ self.weight


# %% [markdown]
# Let us build a table for the characters of Tiny Shakespeare, with the character tokenizer of
# notebook 02 (65 tokens) and, to keep the numbers readable, $n_{\text{emb}}=16$, and check the
# three ways of reading rows against each other.

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
product = one_hot(idx, n_vocab) @ embedding.weight  # (B, t, V) @ (V, C) -> (B, t, C)
assert torch.allclose(product, vectors) and torch.equal(vectors, embedding.weight[idx])
print("one-hot @ E == E[idx] == TokenEmbedding(idx): checked")

# %% [markdown]
# ### Which rows a training step moves
#
# Because the lookup equals $\mathbf{o}_i^\top E$, the gradient of anything computed from
# $\mathbf{e}_i$ with respect to $E$ is $\mathbf{o}_i$ times the gradient with respect to
# $\mathbf{e}_i$: zero in every row but row $i$. A training step on "To be" gives a gradient to the
# rows of `T`, `o`, space, `b` and `e` and to none of the other 60.
#
# So a token that never appears in the training text keeps its initial embedding, *as long as*
# the table is only read as input and the optimiser moves a parameter only along its gradient.
# Two common choices break that. **Weight decay** (notebook 07) shrinks every row a little at
# every step, used or not. And **tied embeddings**, which the GPT of notebook 06 uses, read the
# same table a second time at the output, to score every token of the vocabulary as the possible
# next one: there every row gets a gradient at every step, if only to push the probability of
# tokens that did not come next down.

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
# An embedding says *which* token, not *where*. The attention of notebook 06 builds each
# position's new vector as a weighted average of the vectors at or before it, with weights
# computed from the vectors themselves, and an average does not care in which order its terms
# come. Without a mask (every position sees every other) attention treats its input as a **set**:
# shuffle the input and the output is shuffled the same way, nothing more, so "stop" and "pots"
# look alike. The causal mask of a language model gives some order for free: position $j$ sees
# only positions $1,\dots,j$, so the first position of "stop" sees an `s` and that of "pots" a
# `p`. But inside what a position sees, order is still invisible: the last position of "tops" and
# the last of "pots" both see their own `s` and the same four letters, and receive the same vector.
#
# So a model also learns a **position embedding** $\mathbf{p}_j\in\mathbb{R}^{n_{\text{emb}}}$ for
# every position $j=1,\dots,T$ (rows of a table $P\in\mathbb{R}^{T\times n_{\text{emb}}}$) and adds
# it: the input vector at position $j$ is $\mathbf{e}_{s_j}+\mathbf{p}_j$. Now "s at position 1"
# and "s at position 4" are different vectors. This is also why a model has a context size $T$:
# there is no row for position $T+1$. `PositionEmbedding(T, C)` called with a length $\ell$ (`t` in
# the code) returns the first $\ell$ rows, $\mathbf{p}_1,\dots,\mathbf{p}_\ell$: positions count
# from 1 in the maths and from 0 in the code, so $\mathbf{p}_j$ is row `j - 1` and the rows
# returned are `0..t-1`.

# %%
#| export
class PositionEmbedding(nn.Module):
    """A learned table P of shape (context_size, n_emb), initialised N(0, 1): row j is added at position j.

    >>> PositionEmbedding(context_size=8, n_emb=4)(3).shape
    torch.Size([3, 4])
    """

    def __init__(self, context_size: int, n_emb: int):
        super().__init__()
        check_size("context_size", context_size), check_size("n_emb", n_emb)
        self.context_size, self.n_emb = context_size, n_emb
        self.weight = nn.Parameter(torch.empty(context_size, n_emb))  # P: (T, C)
        nn.init.normal_(self.weight)  # as nn.Embedding does

    def forward(self, t: int) -> torch.Tensor:  # a length t -> (t, C), to add to (B, t, C)
        check_length(t, self.context_size)
        return self.weight[:t]  # rows 0..t-1


# %% [markdown]
# Below, the simplest attention there is (queries, keys and values are the vectors themselves,
# notebook 06 adds learned maps) at the last position of "tops" and of "pots", without and with
# position embeddings.

# %%
def last_position_attention(x: torch.Tensor) -> torch.Tensor:  # (t, C) -> (C,)
    """What the last position receives: an average of the rows of x, weighted by softmax(x @ x_last / sqrt(C))."""
    weights = torch.softmax(x @ x[-1] / x.shape[1] ** 0.5, dim=0)  # (t,): the last position's weights
    return weights @ x  # (C,)


positions = PositionEmbedding(context_size=8, n_emb=n_emb)
tops, pots = (embedding(torch.tensor(tokenizer.encode(word))) for word in ("tops", "pots"))  # (t, C) each
same_without = torch.allclose(last_position_attention(tops), last_position_attention(pots), atol=1e-6)
same_with = torch.allclose(last_position_attention(tops + positions(4)), last_position_attention(pots + positions(4)))
print("last position of 'tops' and 'pots', without positions: the same vector?", same_without)
print("last position of 'tops' and 'pots', with positions:    the same vector?", same_with)
assert same_without and not same_with

# %% [markdown]
# ## Looking at embeddings
#
# Two embeddings are *similar* when they point the same way. The **cosine similarity**
#
# $$\cos(\mathbf{a},\mathbf{b})=\frac{\mathbf{a}\cdot\mathbf{b}}{\lVert\mathbf{a}\rVert\,\lVert\mathbf{b}\rVert}\in[-1,1]$$
#
# is 1 for the same direction, 0 for perpendicular vectors, -1 for opposite ones. Our table is
# still random, and random vectors in many dimensions are almost perpendicular: their cosine
# similarities cluster around 0 with a spread of about $1/\sqrt{n_{\text{emb}}}$.

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
assert torch.allclose(similarity, F.cosine_similarity(E[:, None, :], E[None, :, :], dim=-1), atol=1e-6)
off_diagonal = similarity[~torch.eye(n_vocab, dtype=torch.bool)]
print(f"random table: off-diagonal similarities have mean {off_diagonal.mean():.2f} and spread "
      f"{off_diagonal.std():.2f}; 1/sqrt(n_emb) = {n_emb ** -0.5:.2f}")
assert abs(off_diagonal.mean()) < 0.05 and abs(off_diagonal.std() - n_emb**-0.5) < 0.05

# %% [markdown]
# ### What training does to the table
#
# Now let us train a table for a few seconds, on the simplest task that needs it: read the
# embedding of one character and score every possible next character with a linear layer,
# $\mathbf{e}_{s_\ell}\mapsto W\mathbf{e}_{s_\ell}+\mathbf{b}$. (Notebook 05 names this model a
# bigram, and notebook 07 explains the loop: each step draws 1,024 random places in the text,
# measures how badly the scores predict the character that really follows, and moves every
# parameter a little against its gradient, with the Adam optimiser: a gradient descent that sizes
# each parameter's step from running averages of its past gradients, so that rarely used rows
# learn too; notebook 05 says more.)
#
# Nobody tells the model what a vowel is. But two characters that are followed by the same
# characters need the same scores, and the cheapest way to get them is similar embeddings. So
# after training, tokens *used alike* point alike: on the right, each group becomes a block along
# the diagonal, pale red for the three groups of letters (a mean similarity of about +0.4, printed
# below) and deep red for punctuation (about +0.8).

# %%
set_seed(1337)
ids = torch.tensor(tokenizer.encode(text))  # (N,) the whole text as indices
model = nn.Sequential(TokenEmbedding(n_vocab, n_emb), nn.Linear(n_emb, n_vocab))  # e_i -> next-token scores
before = model[0].weight.detach().clone()  # (V, C)
optimiser = torch.optim.Adam(model.parameters(), lr=0.03)
generator = torch.Generator().manual_seed(0)
for _ in range(1000):
    places = torch.randint(len(ids) - 1, (1024,), generator=generator)  # 1,024 random positions
    loss = F.cross_entropy(model(ids[places]), ids[places + 1])  # how badly it predicts the next character
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
after = model[0].weight.detach()  # (V, C)

groups = {"vowels": "aeiou", "consonants": "tnsrh", "capitals": "TNSRH", "punctuation": ",.;:!"}
chosen = torch.tensor(tokenizer.encode("".join(groups.values())))  # 20 characters, group by group
for name, members in groups.items():
    rows = torch.tensor(tokenizer.encode(members))
    pairs = ~torch.eye(len(members), dtype=torch.bool)  # the pairs of distinct members
    old, new = (cosine_similarity(table[rows], table[rows])[pairs].mean().item() for table in (before, after))
    print(f"{name:12} {members}: mean similarity within the group {old:+.2f} before, {new:+.2f} after")
    assert new > old + 0.2

# %% jupyter={"source_hidden": true}
# The figure: cosine similarities of the 20 chosen characters, before and after training.
labels = list("".join(groups.values()))
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
for ax, table, title in zip(axes, (before, after), ("random, before training", "after 1,000 steps"), strict=True):
    image = ax.imshow(cosine_similarity(table[chosen], table[chosen]), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("character")
    ax.set_ylabel("character")
    ax.set_title(title)
    for edge in (4.5, 9.5, 14.5):  # group boundaries
        ax.axhline(edge, color="black", linewidth=0.5)
        ax.axvline(edge, color="black", linewidth=0.5)
fig.colorbar(image, ax=axes, shrink=0.8, label="cosine similarity")
fig.suptitle("Cosine similarity of character embeddings: after training each group is a block on the diagonal,\n"
             "pale red for vowels, consonants and capitals, deep red for punctuation")
plt.show()

# %% [markdown]
# A heatmap shows chosen pairs; to see a whole table at once, project its rows onto the plane that
# keeps most of their spread, **principal component analysis** (PCA): centre the rows, take the
# singular value decomposition, keep the coordinates along the first two right singular vectors.
# `pca_2d`, in the folded cell below, does that; notebook 07 draws the trained GPT's table with it.

# %% jupyter={"source_hidden": true}
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


# %% [markdown]
# ## Summary
#
# - An embedding turns token index $i$ into a vector $\mathbf{e}_i\in\mathbb{R}^{n_{\text{emb}}}$:
#   row $i$ of a learned table $E\in\mathbb{R}^{n_{\text{vocab}}\times n_{\text{emb}}}$.
# - Looking up a row equals multiplying a one-hot vector by $E$, so an embedding is a linear layer
#   computed cheaply; `nn.Embedding` (and `TokenEmbedding`) does the lookup.
# - Read as input only, a table gets a gradient in the rows of the tokens a step saw; weight decay
#   and tied output embeddings move the other rows too.
# - Averages ignore order: unmasked attention sees a set, causal attention sees prefixes as sets.
#   So a model adds a learned position embedding $\mathbf{p}_j$ to each token's vector, one per
#   position up to the context size $T$.
# - Cosine similarity compares directions. A random table has none in common; training makes
#   tokens used alike point alike.
#
# ## Exercises
#
# Each exercise has a starter cell: replace the `raise NotImplementedError` with your code, run
# it, then run the `check` cell under it, which tries your function on several inputs (some drawn
# at random) and prints ✓ or a hint. Solutions are in `solutions/04_embeddings.py`: try first.
#
# **04.1 A lookup as a product.** Write `embed(idx, E)`: given token indices `idx` of shape `(N,)`
# and a table `E` of shape `(n_vocab, n_emb)`, build the one-hot matrix `(N, n_vocab)` and
# multiply it by `E`. (Rows are numbered from 0 in code.)

# %%
def embed(idx: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError  # one-hot (N, n_vocab) @ E (n_vocab, n_emb)


# %%
from llm_course.exercises import check

check("04.1", embed)

# %% [markdown]
# **04.2 Fixed positions: the original transformer's sinusoids.** Instead of a learned table,
# "Attention is all you need" adds fixed vectors. For position $j=0,\dots,T-1$ (from 0, as in
# code) and $k=0,\dots,C/2-1$ the pair of entries $2k$ and $2k+1$ is
#
# $$P_{j,2k}=\sin\!\Big(\frac{j}{10000^{2k/C}}\Big),\qquad P_{j,2k+1}=\cos\!\Big(\frac{j}{10000^{2k/C}}\Big),$$
#
# a sine and a cosine of the same frequency; the frequencies fall geometrically from 1 towards
# $1/10000$ along the row. Write `sinusoidal_positions(context_size, n_emb)` (`n_emb` even)
# returning $P$ of shape `(context_size, n_emb)`. What can such a table do that a learned one
# cannot? (Think of a position beyond $T$.)

# %%
def sinusoidal_positions(context_size: int, n_emb: int) -> torch.Tensor:
    raise NotImplementedError  # (T, C): sin in the even columns, cos in the odd ones


# %%
check("04.2", sinusoidal_positions)

# %% [markdown]
# **04.3 The nearest neighbour.** Write `most_similar(E, i)`: the index of the row of `E` whose
# cosine similarity with row `i` is largest, among the *other* rows. Try it on the trained table
# `after`: which character is nearest to `a`? To `T`?

# %%
def most_similar(E: torch.Tensor, i: int) -> int:
    raise NotImplementedError  # use cosine_similarity, and leave row i itself out


# %%
check("04.3", most_similar)

# %% [markdown]
# Questions to think about:
#
# 4. How many parameters does the embedding table of GPT-2 have ($n_{\text{vocab}}=50{,}257$,
#    $n_{\text{emb}}=768$)? And its position table ($T=1024$)?
# 5. Time `TokenEmbedding.one_hot_product` against the lookup for $n_{\text{vocab}}=50{,}000$ and a
#    batch of $32\times64$ indices. How much slower is it, and why?
# 6. The rarest characters of Tiny Shakespeare are `$` (once), `&` (3 times) and `3` (27). How far do
#    their rows move during the training above? And with `torch.optim.AdamW(model.parameters(),
#    lr=0.03, weight_decay=0.1)` instead of Adam?

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

check_peak_memory()
