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
# # 05 · The LLM function
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/05_the_llm_function.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/05_the_llm_function.ipynb)
#
# An LLM is a function. This notebook states exactly which function: its input, its output and
# the promises it keeps. Then it builds the simplest models that keep those promises: one that
# knows nothing (uniform), one that counts pairs of characters (a bigram model from counts) and one
# that *learns* the same table by gradient descent (a neural bigram). The GPT of notebook 06 keeps
# the very same promises; only what happens inside changes.
#
# It writes the module `llm_course.models`.

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
#| default_exp models

# %% [markdown]
# ## The contract
#
# Write $\mathcal{I}=\{1,\dots,n_{\text{vocab}}\}$ for the token indices, $\mathcal{I}^{\le T}$
# for the sequences of 1 to $T$ of them, and $\Delta^{n_{\text{vocab}}}$ for the probability
# vectors over the vocabulary. An LLM is a function
#
# $$
# \text{LLM}_\theta:\ \mathcal{I}^{\le T}\to\Delta^{n_{\text{vocab}}},\qquad
# (s_1,\dots,s_\ell)\ \mapsto\ \boldsymbol\alpha,\qquad
# \alpha_i\ge 0,\quad \sum_{i=1}^{n_{\text{vocab}}}\alpha_i=1 .
# $$
#
# $\alpha_i$ is the probability the model gives to token $i$ coming next, after $s_\ell$. Three
# things belong to the contract and every model of the course honours them:
#
# 1. **The input is token indices**, not text: integers $s_j\in\mathcal{I}$ in the maths,
#    `0 <= idx < n_vocab` in the code (0-based, as always in code).
# 2. **Any length $\ell$ from 1 to $T$** (`context_size`). A sequence longer than $T$ is an error, not
#    something silently cut.
# 3. **The output is a probability vector** over all $n_{\text{vocab}}$ tokens.
#
# In the code a model works on a **batch** of $B$ sequences of the same length at once, an
# integer tensor `idx` of shape `(B, t)`: the length $\ell$ of the maths is `t` in the code. Its `forward` returns **logits**, unnormalised scores of
# shape `(B, t, n_vocab)`: one score vector for *every* position $j$, predicting $s_{j+1}$ from
# $(s_1,\dots,s_j)$. (Notebook 07 shows why scoring every position at once is what makes training
# efficient.) `next_token_probs` turns the last position's scores into $\boldsymbol\alpha$ with a
# softmax. The base class `LanguageModel` holds the sizes and checks the input, *before* any
# computation, with an error that names what is wrong (the checks sit in a folded cell below).

# %% jupyter={"source_hidden": true}
#| export
"""The LLM as a function: the contract every model honours, softmax, and the simplest models.

`LanguageModel` is the base class of every model in the course: it maps a batch of token-index
sequences `idx` of shape `(B, t)`, `1 <= t <= context_size`, to logits `(B, t, n_vocab)`, and
`next_token_probs` turns the last position's logits into a probability vector. It checks its
input (type, dtype, shape, length, index range) before computing anything, once per call.
`softmax` is written out with the maximum subtracted. Three models honour the contract:
`UniformModel` (knows nothing), `BigramCounts` (maximum-likelihood bigram probabilities from
counts, with additive smoothing) and `BigramModel` (a learnable table of bigram logits).

Left out on purpose: training (`llm_course.training`), sampling (`llm_course.sampling`) and
models that look further back than one token (`llm_course.gpt`).
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export
import torch
from torch import nn

from llm_course.embeddings import check_length, check_size, check_token_indices


def check_token_sequences(idx, n_vocab: int, context_size: int) -> torch.Tensor:
    """`idx` as a `(B, t)` tensor of `torch.long` token indices, or a clear error.

    `TypeError` for a non-tensor or a non-integer dtype; `ValueError` for a shape that is not
    `(t,)` or `(B, t)`, a length `t` outside `1..context_size`, or an index outside
    `0..n_vocab-1`; each message names the offending value and the limit. The cheap checks of
    the shape come first; reading the index range is the one host synchronisation.
    """
    if not isinstance(idx, torch.Tensor):
        raise TypeError(f"idx must be a torch.Tensor of token indices, got {type(idx).__name__}")
    if idx.ndim not in (1, 2):
        raise ValueError(f"idx must have shape (t,) or (B, t), got shape {tuple(idx.shape)}")
    batch = idx if idx.ndim == 2 else idx.unsqueeze(0)  # (t,) -> (1, t)
    check_length(batch.shape[1], context_size)
    check_token_indices(batch, n_vocab, name="idx")
    return batch.long()


def check_counts(counts, smoothing) -> None:
    """Raise `ValueError` unless `counts` is a square (V, V) tensor and `smoothing >= 0`."""
    if not isinstance(counts, torch.Tensor) or counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        shape = tuple(counts.shape) if isinstance(counts, torch.Tensor) else type(counts).__name__
        raise ValueError(f"counts must be a square (V, V) tensor, got {shape}")
    if not smoothing >= 0:
        raise ValueError(f"smoothing must be >= 0, got {smoothing!r}")


def check_text_indices(indices, n_vocab: int) -> torch.Tensor:
    """A text's token indices (a list or a 1-D integer tensor of at least 2) as a long tensor, or a clear error."""
    check_size("n_vocab", n_vocab)
    indices = torch.as_tensor(indices)
    if indices.ndim != 1 or len(indices) < 2:
        raise ValueError(f"indices must be a 1-D sequence of at least 2 tokens, got shape {tuple(indices.shape)}")
    check_token_indices(indices, n_vocab)
    return indices.long()


# %% [markdown]
# ## Softmax, and why it subtracts the maximum
#
# Logits $z\in\mathbb{R}^{n_{\text{vocab}}}$ become probabilities with the softmax
#
# $$\alpha_i=\frac{e^{z_i}}{\sum_k e^{z_k}} .$$
#
# Every $e^{z_i}$ is positive and the division makes them sum to 1, so any real vector becomes a
# probability vector. Written exactly like that it breaks on a computer: a float32 holds numbers
# up to about $3.4\times10^{38}$, so $e^{89}$ is already infinite, and $\infty/\infty$ is `nan`.

# %%
def softmax_naive(logits: torch.Tensor) -> torch.Tensor:
    """The formula as written: overflows for logits above about 88 (float32)."""
    exps = logits.exp()
    return exps / exps.sum(dim=-1, keepdim=True)


small = torch.tensor([1.0, 2.0, 3.0])
large = torch.tensor([1000.0, 1001.0, 1002.0])
print("naive softmax of [1, 2, 3]:         ", [round(p, 4) for p in softmax_naive(small).tolist()])
print("naive softmax of [1000, 1001, 1002]:", softmax_naive(large).tolist())
print("exp(1000.) in float32:", torch.tensor(1000.0).exp().item())
assert softmax_naive(large).isnan().all()

# %% [markdown]
# The cure costs one line. Subtracting the same number $m$ from every logit changes nothing,
# because the factor $e^{-m}$ cancels:
#
# $$\frac{e^{z_i-m}}{\sum_k e^{z_k-m}}=\frac{e^{-m}\,e^{z_i}}{e^{-m}\sum_k e^{z_k}}=\alpha_i .$$
#
# With $m=\max_k z_k$ the largest exponent is $e^0=1$ and nothing can overflow; the smallest
# terms may *underflow* to 0, which is harmless (their true probability is tinier than a float32
# can tell apart from 0), and the sum is at least 1, so there is never a division by 0.

# %%
#| export
def softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax along `dim`, computed with the maximum subtracted so that it never overflows.

    >>> softmax(torch.tensor([1000.0, 1000.0])).tolist()
    [0.5, 0.5]
    >>> [round(p, 4) for p in softmax(torch.tensor([0.0, 1.0, 2.0])).tolist()]
    [0.09, 0.2447, 0.6652]
    """
    shifted = logits - logits.amax(dim=dim, keepdim=True)  # the largest logit becomes 0
    exps = shifted.exp()  # in (0, 1]
    return exps / exps.sum(dim=dim, keepdim=True)


# %%
print("softmax of [1000, 1001, 1002]:", [round(p, 4) for p in softmax(large).tolist()])
extreme = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
print("softmax of ±1e4:", [[round(p, 4) for p in row] for row in softmax(extreme).tolist()])
random_logits = torch.randn(4, 7, generator=torch.Generator().manual_seed(0)) * 30
for dim in (0, -1):
    assert torch.allclose(softmax(random_logits, dim=dim), torch.softmax(random_logits, dim=dim), atol=1e-6)
print("our softmax equals torch.softmax")

# %% [markdown]
# ## `LanguageModel`: the contract in code
#
# The base class stores $n_{\text{vocab}}$ and $T$, and `check_input` checks an input in the
# order a reader would: is it a tensor, is it a sequence `(t,)` or a batch `(B, t)`, is its length
# between 1 and $T$, does it hold integers, is every index a token of the vocabulary. A 1-D input
# is a single sequence; `check_input` returns it as a batch of one, so `forward` of a 1-D input
# returns logits of shape `(1, t, n_vocab)`, while `next_token_probs` of a 1-D input returns a
# vector `(n_vocab,)`. Subclasses only write `forward`, and call `check_input` first, once.
# `next_token_probs` asks `next_token_logits` for the last position's scores; a model that can
# compute them more cheaply than all `t` positions (the GPT of notebook 06) replaces it.

# %%
#| export
class LanguageModel(nn.Module):
    """Base class of every model: token indices `(B, t)` -> logits `(B, t, n_vocab)`.

    Subclasses implement `forward(idx)`, calling `self.check_input(idx)` first; position `j` of
    the logits scores the token that follows `idx[:, : j + 1]`.
    """

    def __init__(self, n_vocab: int, context_size: int):
        super().__init__()
        check_size("n_vocab", n_vocab), check_size("context_size", context_size)
        self.n_vocab = n_vocab  # number of tokens in the vocabulary, V
        self.context_size = context_size  # longest input the model accepts, T

    def check_input(self, idx: torch.Tensor) -> torch.Tensor:
        """`idx` as a validated `(B, t)` tensor of `torch.long` indices; a clear error otherwise."""
        return check_token_sequences(idx, self.n_vocab, self.context_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, t, V)
        raise NotImplementedError("a LanguageModel subclass implements forward(idx) -> logits (B, t, n_vocab)")

    def next_token_logits(self, idx: torch.Tensor) -> torch.Tensor:  # (B, t) -> (B, V)
        """The logits of the last position only: the scores of the token that comes next."""
        return self(idx)[:, -1, :]

    def next_token_probs(self, idx: torch.Tensor) -> torch.Tensor:
        """alpha: the next-token distribution after each sequence, `(B, n_vocab)`; `(n_vocab,)` for a 1-D `idx`."""
        probs = softmax(self.next_token_logits(idx).float(), dim=-1)  # (B, V)
        return probs[0] if idx.ndim == 1 else probs


# %% [markdown]
# ## The model that knows nothing: uniform
#
# The simplest function that honours the contract ignores its input and gives every token the
# same probability, $\alpha_i=1/n_{\text{vocab}}$. Its logits are all zero (any constant would do:
# softmax only sees differences). It is the first baseline every other model must beat: its loss
# is $\ln n_{\text{vocab}}$ (exercise 05.3 below; notebook 07 explains the loss). The course writes
# $\log$ and $\ln$ for the same natural logarithm, so every loss is in nats.

# %%
#| export
class UniformModel(LanguageModel):
    """Every token equally likely after any input: logits all zero, alpha_i = 1 / n_vocab.

    >>> UniformModel(n_vocab=4, context_size=8).next_token_probs(torch.tensor([0, 3])).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        idx = self.check_input(idx)  # (B, t)
        return torch.zeros(*idx.shape, self.n_vocab, device=idx.device)  # (B, t, V)


# %% [markdown]
# We need token indices: the character tokenizer of notebook 02 turns Tiny Shakespeare into
# $n_{\text{vocab}}=65$ of them, numbered from 0 in the code. Then the checks in action: every bad
# input is refused before any computation, with a message that names the problem.

# %%
import matplotlib.pyplot as plt

from llm_course.data import load_text
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer

set_seed(1337)
text = load_text()
tokenizer = CharTokenizer.from_text(text)
characters = tokenizer.vocabulary.tokens  # S: index i (0-based) is characters[i]
ids = torch.tensor(tokenizer.encode(text))  # (N,)
n_vocab = tokenizer.n_vocab
print(f"n_vocab = {n_vocab}; the text is {len(ids):,} token indices; it starts {ids[:10].tolist()}")

uniform = UniformModel(n_vocab=n_vocab, context_size=8)
alpha = uniform.next_token_probs(ids[:5])
print(f"uniform: alpha has shape {tuple(alpha.shape)}, alpha_1 = {alpha[0]:.4f} = 1/{n_vocab}, sum = {alpha.sum():.4f}")
assert alpha.shape == (n_vocab,) and torch.allclose(alpha, torch.full((n_vocab,), 1 / n_vocab))

for bad in ([1, 2, 3], torch.tensor([1.0, 2.0]), torch.zeros(9, dtype=torch.long), torch.tensor([3, 65])):
    try:
        uniform(bad)
    except (TypeError, ValueError) as error:
        print(f"{type(error).__name__}: {error}")

# %% [markdown]
# ## A bigram model from counts
#
# A model that looks at the last token only is a **bigram** model: $\boldsymbol\alpha$ depends on
# $s_\ell$ alone. Its best table for a given text is the one of counts: if $N_{ij}$ is how often token
# $j$ follows token $i$ in the text,
#
# $$P(s_{\ell+1}=j\mid s_\ell=i)\;=\;\frac{N_{ij}+\lambda}{\sum_k (N_{ik}+\lambda)} .$$
#
# With $\lambda=0$ this is the **maximum-likelihood** estimate: of all bigram tables, it gives the
# text the highest probability. But a pair never seen in the text would get probability 0, and
# notebook 07's loss $-\log 0$ is infinite; **additive smoothing** $\lambda>0$ (by default 1,
# "add-one" or Laplace smoothing) pretends every pair was seen $\lambda$ extra times.
#
# `BigramCounts` stores the counts `(V, V)` and the probabilities `(V, V)`, and its logits are the
# logarithms of the probabilities (the softmax of $\log p$ is $p$). It does not care how long the
# input is: its `context_size` only sets the longest input it accepts (by default 1024).

# %%
#| export
class BigramCounts(LanguageModel):
    """A bigram model from counts: P(next = j | last = i) = (N_ij + smoothing) / sum_k (N_ik + smoothing).

    `counts[i, j]` is how often token `j` follows token `i`; `probs` is the smoothed table, each
    row summing to 1 (a row with no counts and `smoothing=0` is uniform).

    >>> model = BigramCounts.from_indices([0, 1, 0, 1, 1], n_vocab=2, smoothing=0.0)
    >>> model.counts.tolist(), model.probs.tolist()
    ([[0, 2], [1, 1]], [[0.0, 1.0], [0.5, 0.5]])
    """

    def __init__(self, counts: torch.Tensor, smoothing: float = 1.0, context_size: int = 1024):
        check_counts(counts, smoothing)
        super().__init__(n_vocab=counts.shape[0], context_size=context_size)
        self.smoothing = float(smoothing)
        smoothed = counts.double() + self.smoothing  # (V, V): N_ij + lambda
        totals = smoothed.sum(dim=1, keepdim=True)  # (V, 1)
        probs = torch.where(totals > 0, smoothed / totals.clamp(min=1e-300), 1.0 / self.n_vocab)  # empty row: uniform
        self.register_buffer("counts", counts.clone())  # (V, V) how often j follows i
        self.register_buffer("probs", probs.float())  # (V, V) each row sums to 1

    @classmethod
    def from_indices(cls, indices, n_vocab: int, smoothing: float = 1.0, context_size: int = 1024) -> BigramCounts:
        """Count the bigrams of a text's token indices (a list or a 1-D integer tensor)."""
        indices = check_text_indices(indices, n_vocab)  # (N,)
        pairs = indices[:-1] * n_vocab + indices[1:]  # bigram (i, j) as one number i * V + j
        counts = torch.bincount(pairs, minlength=n_vocab * n_vocab).reshape(n_vocab, n_vocab)  # (V, V)
        return cls(counts, smoothing=smoothing, context_size=context_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        idx = self.check_input(idx)  # (B, t)
        return self.probs.log()[idx]  # (B, t, V): row idx[b, j] of log p


# %% [markdown]
# ### Counting Tiny Shakespeare
#
# We count on the training text only (the first 90%, as in notebook 00) so that notebook 07 can
# measure the model on text it never saw.

# %%
from llm_course.data import train_val_split

train_ids, val_ids = train_val_split(ids)
bigram_counts = BigramCounts.from_indices(train_ids, n_vocab=n_vocab)
counts = bigram_counts.counts
print(f"{int(counts.sum()):,} bigrams counted; {int((counts > 0).sum()):,} of {n_vocab * n_vocab:,} pairs ever occur")
after_q = bigram_counts.probs[tokenizer.encode("q")[0]]
print("after 'q':", {characters[i]: round(p, 4) for i, p in enumerate(after_q.tolist()) if p > 0.01})
assert counts.sum() == len(train_ids) - 1 and torch.allclose(bigram_counts.probs.sum(dim=1), torch.ones(n_vocab))
q, u = tokenizer.encode("qu")  # by hand: the smoothed probability of 'u' after 'q'
assert torch.isclose(bigram_counts.probs[q, u], ((counts[q, u] + 1) / (counts[q].sum() + n_vocab)).float())

# %% [markdown]
# The count matrix as a picture: row $i$ is the character just seen, column $j$ the next one, and
# the colour is $\log(1+N_{ij})$ (a logarithm, because a few pairs such as "e " are far more common
# than the rest). Look for the bright column of the space (words end with many letters) and the
# dark blocks: capital letters rarely follow lower-case ones.

# %% jupyter={"source_hidden": true}
labels = ["␣" if c == " " else repr(c)[1:-1] for c in characters]  # show the space and the newline
fig, ax = plt.subplots(figsize=(11, 10))
image = ax.imshow(torch.log1p(counts.float()), cmap="viridis")
ax.set_xticks(range(n_vocab), labels, fontsize=8)
ax.set_yticks(range(n_vocab), labels, fontsize=8)
ax.set_xlabel("next character $s_{\\ell+1}$")
ax.set_ylabel("current character $s_\\ell$")
ax.set_title("Bigram counts in Tiny Shakespeare, log(1 + N): bright = frequent pair")
fig.colorbar(image, ax=ax, shrink=0.8, label="log(1 + count)")
plt.show()

# %% [markdown]
# ### $\boldsymbol\alpha$ for a prompt
#
# The model honours the contract for any prompt up to 1024 tokens long, but it reads only the last
# one. After "To be or not to b" it has seen "b" and nothing else:

# %%
prompt = "To be or not to b"
alpha = bigram_counts.next_token_probs(torch.tensor(tokenizer.encode(prompt)))  # (V,)
top = alpha.topk(5)
print(f"after {prompt!r}:", ", ".join(f"{characters[i]!r} {p:.3f}" for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)))
assert alpha.shape == (n_vocab,) and abs(alpha.sum().item() - 1) < 1e-5 and (alpha > 0).all()
assert torch.equal(alpha, bigram_counts.next_token_probs(torch.tensor(tokenizer.encode("b"))))

# %% jupyter={"source_hidden": true}
fig, ax = plt.subplots(figsize=(12, 3.5))
ax.bar(range(n_vocab), alpha.tolist(), color="tab:blue")
ax.set_xticks(range(n_vocab), labels, fontsize=7)
ax.set_xlabel("next token")
ax.set_ylabel("probability $\\alpha_i$")
ax.set_title(f"alpha after {prompt!r}: the bigram model sees only the 'b', and 'e' comes first")
plt.show()

# %% [markdown]
# ## A learnable bigram: the neural version
#
# The same kind of model, as a function with parameters $\theta$: a table of logits $W\in
# \mathbb{R}^{n_{\text{vocab}}\times n_{\text{vocab}}}$ whose row $s_\ell$ is the score vector, so
# $\boldsymbol\alpha=\text{softmax}(W_{s_\ell})$. Reading row $i$ of a table is exactly what an
# embedding does (notebook 04), so the table is an `nn.Embedding(n_vocab, n_vocab)`. It starts at
# zero, the uniform model, and gradient descent moves it towards the counts' table.

# %%
#| export
class BigramModel(LanguageModel):
    """A learnable bigram: logits after token i are row i of a (V, V) table, initialised to zero (uniform).

    >>> model = BigramModel(n_vocab=3, context_size=4)
    >>> tuple(model(torch.tensor([[0, 2]])).shape)
    (1, 2, 3)
    """

    def __init__(self, n_vocab: int, context_size: int):
        super().__init__(n_vocab=n_vocab, context_size=context_size)
        self.logits_table = nn.Embedding(n_vocab, n_vocab)  # (V, V): row i scores the token after i
        nn.init.zeros_(self.logits_table.weight)  # start as the uniform model

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        idx = self.check_input(idx)  # (B, t)
        return self.logits_table(idx)  # (B, t, V)


# %% [markdown]
# ## The neural bigram learns the same table
#
# Notebook 07 explains training properly; here we only need its principle: make the probability
# of the true next token large, by gradient descent on the average of $-\log\alpha_{s_{\ell+1}}$ over
# the training text (PyTorch's `cross_entropy` computes it from logits). Two practical choices,
# which notebook 07 takes up again:
#
# - **Random batches.** The training text has about a million bigrams; averaging over all of them
#   for every step is slow. Each step instead draws $64\times64=4{,}096$ random positions of the
#   training text and averages over the bigrams found there: an unbiased estimate of the full
#   average, at a 250th of the cost. (A bigram reads only each position's own token, so the 64
#   "sequences" of 64 are just a convenient shape for 4,096 independent pairs.)
# - **Adam.** Plain gradient descent moves every parameter by the learning rate times its
#   gradient. The Adam optimiser instead keeps running averages of each parameter's gradient and
#   of its square, and moves the parameter by roughly the learning rate in the direction of the
#   averaged gradient, whatever its size: rows for rare characters, whose gradients are tiny,
#   learn as fast as rows for common ones.
#
# A bigram table has one best value, the counts' maximum-likelihood table (smoothing 0), so after
# training the two should agree on every row the training text visits often. The computation is
# in float64, so that the losses printed below are the same on every machine.

# %%
import torch.nn.functional as F

set_seed(1337)
neural = BigramModel(n_vocab=n_vocab, context_size=64).double()
optimiser = torch.optim.Adam(neural.parameters(), lr=0.1)
generator = torch.Generator().manual_seed(0)
pairs_x, pairs_y = train_ids[:-1], train_ids[1:]  # every bigram of the training text: x followed by y
for step in range(301):
    batch = torch.randint(len(pairs_x), (64, 64), generator=generator)  # (B, t): 4,096 random positions
    logits = neural(pairs_x[batch])  # (B, t, V)
    loss = F.cross_entropy(logits.reshape(-1, n_vocab), pairs_y[batch].reshape(-1))
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    if step % 100 == 0:
        print(f"step {step:3}: loss {loss.item():.3f}")

maximum_likelihood = BigramCounts.from_indices(train_ids, n_vocab=n_vocab, smoothing=0.0)
learned = softmax(neural.logits_table.weight.detach(), dim=-1)  # (V, V)
frequent = counts.sum(dim=1) > 10_000  # rows seen often enough to learn well
gap = (learned[frequent] - maximum_likelihood.probs[frequent]).abs().max().item()
print(f"largest difference from the count table, on the {int(frequent.sum())} most frequent rows: {gap:.3f}")
assert gap < 0.05
full_loss = {name: -table.double().log()[pairs_x, pairs_y].mean().item()  # over every training bigram
             for name, table in [("neural", learned), ("counts", maximum_likelihood.probs)]}
print(f"loss on every training bigram: neural {full_loss['neural']:.3f}, "
      f"count table (smoothing 0) {full_loss['counts']:.3f}")
assert full_loss["counts"] <= full_loss["neural"] < full_loss["counts"] + 0.02

# %% [markdown]
# The batch losses fall from $\ln 65\approx 4.174$, the uniform start, to about 2.47, and they
# scatter from batch to batch. Measured on every bigram of the training text, the learned table's
# 2.463 is 0.011 above the count table's 2.452 (smoothing 0), which no bigram table can beat on
# this text: the maximum-likelihood table is, by definition, the one with the lowest loss there.
#
# Every model of this notebook honours the contract; one last check, over every length up to a
# context size of 8:

# %%
models = {"uniform": UniformModel(n_vocab, 8), "counts": bigram_counts, "neural": neural}
for name, model in models.items():
    for t in range(1, 9):
        probs = model.next_token_probs(train_ids[:t])
        assert probs.shape == (n_vocab,) and (probs >= 0).all() and abs(probs.sum().item() - 1) < 1e-5
    print(f"{name:8} honours the contract for t = 1..8")

# %% [markdown]
# ## Summary
#
# - An LLM is a function $\text{LLM}_\theta:\mathcal{I}^{\le T}\to\Delta^{n_{\text{vocab}}}$: any
#   $1\le \ell\le T$ token indices in, $\alpha_i\ge0$ with $\sum_i\alpha_i=1$ out. In code, `forward`
#   maps `(B, t)` indices to `(B, t, n_vocab)` logits and `next_token_probs` gives
#   $\boldsymbol\alpha$.
# - `LanguageModel.check_input` refuses bad input (type, shape, length, dtype, index) before any
#   computation, with a message naming the value.
# - Softmax turns logits into probabilities; subtracting the maximum first keeps it finite.
# - The uniform model knows nothing; the bigram model from counts,
#   $P(s_{\ell+1}=j\mid s_\ell=i)\propto N_{ij}+\lambda$, is the best one-token-back model for a text
#   (with smoothing so no pair is impossible); the neural bigram learns the same table by gradient
#   descent on random batches, with Adam.
#
# ## Exercises
#
# Each exercise has a starter cell: replace the `raise NotImplementedError` with your code, run
# it, then run the `check` cell under it, which tries your function on several inputs (some drawn
# at random) and prints ✓ or a hint. Solutions are in `solutions/05_the_llm_function.py`: try
# first.
#
# **05.1 The bigram count table.** Write `count_bigrams(indices, n_vocab)`: for a 1-D tensor of
# token indices, the `(n_vocab, n_vocab)` table $N$ with $N_{ij}$ the number of times token $j$
# directly follows token $i$. A loop over the pairs is fine.

# %%
def count_bigrams(indices: torch.Tensor, n_vocab: int) -> torch.Tensor:
    raise NotImplementedError  # N[i, j] += 1 for every i followed by j


# %%
from llm_course.exercises import check

check("05.1", count_bigrams)

# %% [markdown]
# **05.2 Softmax that never overflows.** Write `stable_softmax(logits)`, the softmax along the
# last dimension of a 1-D or 2-D tensor, with the largest logit of each row subtracted first.
# The check feeds it logits of size $10^4$.

# %%
def stable_softmax(logits: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError  # subtract the row maximum, exponentiate, normalise


# %%
check("05.2", stable_softmax)

# %% [markdown]
# **05.3 The loss of a bigram table.** Write `bigram_loss(probs, indices)`: the average, over the
# pairs $(s_\ell,s_{\ell+1})$ of the text `indices`, of $-\ln P(s_{\ell+1}\mid s_\ell)$ read from the table
# `probs` (row $s_\ell$, column $s_{\ell+1}$), in nats (natural logarithms). What is it for the uniform
# table, whose every entry is $1/n_{\text{vocab}}$? Compute the loss of `bigram_counts.probs` on
# `val_ids`: the number for the GPT of notebook 06 to beat.

# %%
def bigram_loss(probs: torch.Tensor, indices: torch.Tensor) -> float:
    raise NotImplementedError  # the mean over j of -log probs[indices[j], indices[j + 1]]


# %%
check("05.3", bigram_loss)

# %% [markdown]
# Questions to think about:
#
# 4. Change `smoothing` to 0.01 and to 100. How does $\boldsymbol\alpha$ after "q" change? What
#    happens with `smoothing=0` to a pair that never occurs in the training text but does in the
#    validation text?
# 5. Write a *trigram* model from counts (two tokens back). How many rows does its table have for
#    65 characters? For GPT-2's 50,257 tokens?
# 6. Initialise `BigramModel` with random logits ($\mathcal{N}(0,1)$) instead of zeros. Is the
#    first loss printed higher or lower than $\ln 65\approx4.17$? Why?

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

check_peak_memory()
