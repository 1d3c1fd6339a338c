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
# # 07 · Cross-entropy and training
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/07_cross_entropy_training.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/07_cross_entropy_training.ipynb)
#
# A freshly built GPT (notebook 06) gives every token about the same probability: its parameters
# $\theta$ are random. This notebook teaches it. It defines what "good" means, a number called the
# **cross-entropy loss**; shows why every position of every sequence is a training example; sets
# up the **baselines** a model must beat and the **floor** no model can beat; and then trains a
# GPT on Tiny Shakespeare until its validation loss is below 1.80 nats, in a few minutes on a
# laptop CPU (about four on a slow two-core machine).
#
# It writes the module `llm_course.training`. Cells whose code is plumbing (input checks,
# progress bars, file formats) are folded: click the bar to read them.
#
# **On Colab, use the GPU if you like.** *Runtime → Change runtime type → T4 GPU*, then run
# the notebook again: the training cells use `best_device()` (notebook 00), so the main run moves
# to the GPU and takes seconds instead of minutes. The results are the same up to rounding; the
# number of updates is fixed, so a faster machine finishes sooner rather than training longer.

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
#| default_exp training

# %% jupyter={"source_hidden": true}
#| export
"""Training a language model: the cross-entropy loss, the learning-rate schedule, the loop, checkpoints.

`cross_entropy(logits, targets)` is the loss of the course, -log alpha[s_{t+1}] averaged over
every position of every sequence, computed from logits with a log-sum-exp so that it never
overflows. `learning_rate` is a linear warm-up followed by a cosine decay. `make_optimizer` builds
AdamW with weight decay on the matrices only. `evaluate` estimates the loss of a model on a split
from random batches; `train` is the training loop (AdamW, warm-up and cosine decay, gradient
clipping, periodic validation, a progress bar) and returns a `TrainingHistory`.
`MarkovSource` is a source of text whose entropy rate, the lowest loss any model can reach on it,
is known exactly. `Recipe` and `SHAKESPEARE_CHAR` hold notebook 07's training recipe, and
`shakespeare_char_model` returns its trained GPT (from 07's checkpoint, or trained afresh).
`save_checkpoint` / `load_checkpoint` store and restore the model, the optimiser, the step, the
configuration and every random-number state, atomically, so that a resumed run continues exactly
as if it had never stopped.

Left out on purpose: mixed precision, gradient accumulation, compilation and several processes
(`llm_course.train`, notebook 09), and sampling (`llm_course.sampling`, notebook 08).
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export
import bisect
import dataclasses
import math
import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from llm_course.data import get_batch

# %% [markdown]
# ## 1. The loss: how surprised was the model by the true next token?
#
# Take a sequence $(s_1,\dots,s_\ell)$ from the training text ($\ell\le T$ is its length, `t` in the
# code's shapes, as in notebook 00), and the token that really comes next, $s_{\ell+1}$. The model maps the sequence to $\boldsymbol\alpha=\text{LLM}_\theta(s_1,\dots,s_\ell)$, a
# probability for every token of the vocabulary. The only number of $\boldsymbol\alpha$ that the
# data can judge is the probability it gave to what actually happened, $\alpha_{s_{\ell+1}}$. A good
# model gives it a large probability.
#
# **Likelihood.** Over a whole text $s_1,\dots,s_N$ the model gives the text the probability
# (the chain rule of probability, one next token at a time)
#
# $$
# P_\theta(s_2,\dots,s_N\mid s_1)=\prod_{j=1}^{N-1}\alpha^{(j)}_{s_{j+1}},
# \qquad \boldsymbol\alpha^{(j)}=\text{LLM}_\theta(s_1,\dots,s_j)\ \ (\text{at most the last } T \text{ tokens}).
# $$
#
# Training chooses $\theta$ to make the data as likely as possible: **maximum likelihood**. A
# product of a million numbers below 1 underflows, so we take logarithms (the maximiser does not
# change), flip the sign to get something to *minimise*, and divide by the number of terms to get
# an average that does not depend on the text's length:
#
# $$
# \mathcal{L}(\theta)=-\frac{1}{N-1}\sum_{j=1}^{N-1}\log\alpha^{(j)}_{s_{j+1}} .
# $$
#
# Each term $-\log\alpha_{s_{\ell+1}}$ is the **loss** of one position: 0 when the model was sure and
# right ($\alpha_{s_{\ell+1}}=1$), large when it gave the true token a small probability. Logarithms
# are natural, so the loss is measured in **nats** (throughout the course).
#
# **Cross-entropy.** Write the true next token as a one-hot vector $\mathbf{y}$ ($y_i=1$ for
# $i=s_{\ell+1}$, else 0). The cross-entropy between $\mathbf{y}$ and $\boldsymbol\alpha$ is
# $H(\mathbf{y},\boldsymbol\alpha)=-\sum_{i=1}^{n_{\text{vocab}}}y_i\log\alpha_i=-\log\alpha_{s_{\ell+1}}$:
# the same number, which is why the loss is called cross-entropy.
#
# **From logits.** The model outputs logits $\mathbf{z}$ and $\alpha_i=e^{z_i}/\sum_k e^{z_k}$, so
#
# $$
# -\log\alpha_{s_{\ell+1}}=\log\sum_{k=1}^{n_{\text{vocab}}}e^{z_k}\;-\;z_{s_{\ell+1}} .
# $$
#
# Computed naively, $e^{z_k}$ overflows for $z_k\gtrsim 89$ in float32. The **log-sum-exp** trick
# subtracts the largest logit $m$ first: $\log\sum_k e^{z_k}=m+\log\sum_k e^{z_k-m}$, and every
# $e^{z_k-m}\le 1$. That is how `cross_entropy` computes it (the same trick as `softmax` in
# notebook 05). Its input checks (types, shapes, index range) are in the folded cell.

# %% jupyter={"source_hidden": true}
#| export
def _check_int(name: str, value, minimum: int) -> int:
    """`value` if it is an int >= `minimum`, else a `ValueError` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _check_logits_and_targets(logits, targets) -> None:
    """Raise a clear error for anything `cross_entropy` cannot score: types, dtypes, shapes, indices."""
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            f"logits and targets must be tensors, got {type(logits).__name__} and {type(targets).__name__}"
        )
    if not logits.dtype.is_floating_point:
        raise TypeError(f"logits must be a floating-point tensor, got dtype {logits.dtype}")
    if targets.dtype.is_floating_point or targets.dtype.is_complex or targets.dtype == torch.bool:
        raise TypeError(f"targets must hold integer token indices, got dtype {targets.dtype}")
    if logits.ndim not in (2, 3):
        raise ValueError(f"logits must have shape (B, t, V) or (N, V), got shape {tuple(logits.shape)}")
    if tuple(targets.shape) != tuple(logits.shape[:-1]):
        raise ValueError(
            f"targets of shape {tuple(targets.shape)} do not match logits of shape {tuple(logits.shape)}: "
            f"expected targets of shape {tuple(logits.shape[:-1])}"
        )
    n_vocab = logits.shape[-1]
    if targets.numel() == 0 or n_vocab == 0:
        raise ValueError(f"cannot average the loss over an empty batch: logits of shape {tuple(logits.shape)}")
    low, high = targets.min().item(), targets.max().item()
    if low < 0 or high >= n_vocab:
        bad = low if low < 0 else high
        raise ValueError(f"target index {bad} is out of range for n_vocab={n_vocab} (0..{n_vocab - 1})")

# %%
#| export
def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean of $-\\log\\alpha_{s_{t+1}}$ over every position: logits `(B, t, V)` or `(N, V)`, targets `(B, t)` or `(N,)`.

    >>> round(cross_entropy(torch.zeros(1, 4), torch.tensor([2])).item(), 4)  # uniform: ln 4
    1.3863
    >>> round(cross_entropy(torch.tensor([[1e4, 0.0]]), torch.tensor([0])).item(), 4)  # sure and right
    0.0
    """
    _check_logits_and_targets(logits, targets)
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()  # half precision is too coarse for a sum over the vocabulary
    logits = logits.reshape(-1, logits.shape[-1])  # (N, V), N = B * t
    targets = targets.reshape(-1).long()  # (N,)
    largest = logits.amax(dim=-1, keepdim=True)  # (N, 1) the largest logit m
    log_normaliser = largest.squeeze(-1) + (logits - largest).exp().sum(dim=-1).log()  # (N,) log sum_k e^{z_k}
    true_logit = logits.gather(1, targets[:, None]).squeeze(1)  # (N,) z_{s_{t+1}}
    return (log_normaliser - true_logit).mean()  # mean over positions of -log alpha_{s_{t+1}}

# %% [markdown]
# It agrees with PyTorch's own `torch.nn.functional.cross_entropy`, and stays finite where the
# naive formula (softmax, then log) overflows:

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from llm_course.reproducibility import set_seed

set_seed(1337)
generator = torch.Generator().manual_seed(0)
logits = torch.randn(4, 8, 65, generator=generator) * 3  # (B, t, V)
targets = torch.randint(65, (4, 8), generator=generator)  # (B, t)
ours, theirs = cross_entropy(logits, targets), F.cross_entropy(logits.reshape(-1, 65), targets.reshape(-1))
assert torch.allclose(ours, theirs, atol=1e-6)
print("ours and torch.nn.functional.cross_entropy agree within 1e-6")

extreme, extreme_targets = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]]), torch.tensor([1, 2])
naive = -torch.log(extreme.exp() / extreme.exp().sum(dim=1, keepdim=True))[[0, 1], [1, 2]].mean()
print(f"logits of size 1e4: naive softmax-then-log gives {naive.item()}, log-sum-exp gives "
      f"{cross_entropy(extreme, extreme_targets).item():.1f}")
assert torch.isnan(naive) and cross_entropy(extreme, extreme_targets).item() == 5000.0

# %% [markdown]
# **The loss reads a probability; it does not compare a guess.** A common misreading is that the
# model "guesses" the next token, and the loss checks the guess. It does not. Generation *samples*
# a token $\hat s_{\ell+1}\sim\text{Categorical}(\boldsymbol\alpha)$ (notebook 08), but training never
# samples: it reads the probability $\boldsymbol\alpha$ gave to the true $s_{\ell+1}$. That matters,
# because a sample is an integer drawn at random: nudging the logits a little does not change it
# at all, so it has no gradient, while $-\log\alpha_{s_{\ell+1}}$ changes smoothly with every logit.
#
# **Its gradient, in two lines.** With $L=\log\sum_k e^{z_k}-z_y$ (writing $y=s_{\ell+1}$),
#
# $$
# \frac{\partial L}{\partial z_i}=\frac{e^{z_i}}{\sum_k e^{z_k}}-[i=y]=\alpha_i-[i=y],
# \qquad\text{so}\qquad \nabla_{\mathbf{z}}L=\boldsymbol\alpha-\text{one\_hot}(s_{\ell+1}).
# $$
#
# Every logit is pushed down in proportion to the probability it took, and the true token's logit
# is pushed up by $1-\alpha_{s_{\ell+1}}$: the gradient vanishes only when the model is sure and
# right. Side by side, for one position of a 5-token vocabulary, with autograd as the referee:

# %%
logits = torch.tensor([2.0, 0.5, -1.0, 1.0, 0.0], requires_grad=True)  # (V,) one position
true_next = 3  # s_{t+1}, from the data
alpha = torch.softmax(logits, dim=0)
sampled = torch.multinomial(alpha, 1, generator=torch.Generator().manual_seed(0))  # what generation does
loss = cross_entropy(logits[None, :], torch.tensor([true_next]))  # what training does
loss.backward()
print("alpha              ", [round(a, 3) for a in alpha.tolist()])
print(f"sampled token      {sampled.item()}  (an integer: requires_grad={sampled.requires_grad}, no gradient)")
print(f"loss -log alpha[{true_next}] {loss.item():.3f}  = -log {alpha[true_next].item():.3f}")
print("d loss / d logits  ", [round(g, 3) for g in logits.grad.tolist()], " = alpha - one_hot(3)")
assert torch.allclose(logits.grad, alpha.detach() - F.one_hot(torch.tensor(true_next), 5).float())

# %% [markdown]
# ## 2. Every position is a training example; batches
#
# Where do the pairs (sequence, true next token) come from? From the text itself: any window of
# $\ell+1$ consecutive tokens gives the input $(s_1,\dots,s_\ell)$ and, for **every** position
# $j\le \ell$, a true next token $s_{j+1}$. No one labels anything: the text is its own answer key.
# This is **self-supervised** learning.
#
# A model of the course returns logits for every position at once, `(B, t, V)`: position $j$
# sees only $s_1..s_j$ (the causal mask of notebook 06), and its logits are scored against
# $s_{j+1}$. So the targets are the inputs shifted by one position, and one window of $\ell$ tokens
# gives $\ell$ training examples for the price of one forward pass. `get_batch` (notebook 00) cuts
# $B$ random windows and returns `x` and `y = x` shifted by one; `cross_entropy` averages over all
# $B\cdot \ell$ positions. One window of 8 characters, read as the 8 examples it holds:

# %%
from llm_course.data import get_batch, load_text, train_val_split
from llm_course.tokenizers import CharTokenizer

text = load_text()
tokenizer = CharTokenizer.from_text(text)
ids = torch.tensor(tokenizer.encode(text))
train_ids, val_ids = train_val_split(ids, 0.9)
n_vocab = tokenizer.n_vocab
print(f"{len(text):,} characters, n_vocab = {n_vocab}; train {len(train_ids):,} / validation {len(val_ids):,} tokens")

x, y = get_batch(train_ids, batch_size=2, context_size=8, generator=torch.Generator().manual_seed(1))  # (B, T)
for j in range(8):
    print(f"x[0, :{j + 1}] = {tokenizer.decode(x[0, : j + 1].tolist())!r:>12}  ->  y[0, {j}] = {tokenizer.decode([y[0, j].item()])!r}")
assert torch.equal(x[:, 1:], y[:, :-1])

# %% [markdown]
# **Why batches?** The loss we want to minimise is the average over the *whole* training text;
# each step estimates it (and its gradient) from a random batch. A bigger batch gives a less
# noisy estimate: the spread shrinks like $1/\sqrt{B}$, and a vectorised batch costs far less
# than $B$ separate steps. Below, the loss of one fixed model (the bigram counts of notebook 05) on
# 200 random batches of each size $B$, windows of 32 characters:

# %%
from llm_course.models import BigramCounts, BigramModel, UniformModel

bigram = BigramCounts.from_indices(train_ids, n_vocab, smoothing=1.0)
bigram_log_probs = bigram.probs.double().log()  # (V, V), row i: log alpha after token i
batch_generator = torch.Generator().manual_seed(2)
batch_sizes, spreads = (1, 4, 16, 64), []
for batch_size in batch_sizes:
    batches = (get_batch(train_ids, batch_size, 32, generator=batch_generator) for _ in range(200))
    losses = torch.stack([cross_entropy(bigram_log_probs[xb], yb) for xb, yb in batches])  # (200,)
    spreads.append(losses.std().item())
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(batch_sizes, spreads, "o-", label="measured spread of the batch loss")
ax.loglog(batch_sizes, [spreads[0] / math.sqrt(b) for b in batch_sizes], "k:", label=r"$\propto 1/\sqrt{B}$")
ax.set_xlabel("batch size B (windows of 32 characters)")
ax.set_ylabel("standard deviation of the loss (nats)")
ax.set_title("A batch B times larger estimates the loss about √B times more precisely")
ax.legend()
plt.show()
assert spreads[3] < spreads[2] < spreads[1] < spreads[0]

# %% [markdown]
# ## 3. Baselines to beat
#
# Before training anything, three simple models tell us what a loss means. They are
# **baselines**: a trained GPT must beat them, or it has learned nothing they did not.
#
# - **Uniform**: $\alpha_i=1/n_{\text{vocab}}$ for every token, whatever the input. Its loss is
#   $-\log(1/n_{\text{vocab}})=\ln n_{\text{vocab}}$ at every position: $\ln 65\approx 4.17$ nats.
#   A model that knows nothing scores this.
# - **Unigram**: $\alpha_i$ = the frequency of token $i$ in the training text, ignoring the input.
# - **Bigram counts**: $\alpha$ = the frequencies of what followed the last token (notebook 05).
#
# All three are measured on the **validation** split: text the models did not count or train on.
#
# **Perplexity** $=e^{\text{loss}}$ turns a loss back into a count: the model is as unsure as if it
# chose uniformly among that many tokens. The uniform model's perplexity is $n_{\text{vocab}}$.

# %%
uniform_loss = cross_entropy(UniformModel(n_vocab, context_size=8)(val_ids[None, :8]), val_ids[None, 1:9]).item()
unigram_probs = torch.bincount(train_ids, minlength=n_vocab).double() / len(train_ids)  # (V,)
unigram_loss = -unigram_probs[val_ids[1:]].log().mean().item()  # every position of the validation split
bigram_loss = -bigram_log_probs[val_ids[:-1], val_ids[1:]].mean().item()  # -log P(s_{j+1} | s_j), every j
baselines = {"uniform": uniform_loss, "unigram": unigram_loss, "bigram counts": bigram_loss}
for name, loss in baselines.items():
    print(f"{name:>13}: validation loss {loss:.3f} nats, perplexity {math.exp(loss):5.2f}")
assert math.isclose(uniform_loss, math.log(n_vocab), rel_tol=1e-6)
assert bigram_loss < unigram_loss < uniform_loss

# %% [markdown]
# Each baseline uses more of what the training text teaches, and its loss drops: the unigram
# knows which characters are common (spaces, `e`, `t`), the bigram also what tends to follow what. A GPT that
# reads up to $T$ characters back should go further.

# %% [markdown]
# ## 4. The training loop
#
# Training repeats one step: draw a batch, compute the loss, back-propagate to get
# $\nabla_\theta\mathcal{L}$, and move $\theta$ a little against it. The details that make this
# work well on a transformer:
#
# - **AdamW**: Adam scales each parameter's step by running averages of its gradient (weight
#   $\beta_1$) and squared gradient (weight $\beta_2$); the "W" is *decoupled weight decay*, a small
#   pull of the weights towards zero. We decay the matrices only (embeddings, linear layers), not
#   biases or LayerNorm gains.
# - **Warm-up, then cosine decay** of the learning rate: a few dozen small steps first, while
#   Adam's averages are still poor estimates; then a slow decay, so that late steps refine instead
#   of jumping around. Update number $k$ (0-based) of $K$, with $W$ warm-up updates, uses
#
# $$
# \eta_k=\begin{cases}\eta_{\max}\,\dfrac{k+1}{W} & k<W,\\[1ex]
# \eta_{\min}+\tfrac12(\eta_{\max}-\eta_{\min})\Bigl(1+\cos\bigl(\pi\,\tfrac{k-W}{K-W}\bigr)\Bigr) & W\le k<K.\end{cases}
# $$
#
# - **Gradient clipping**: if the gradient's norm exceeds 1, scale it down to 1. A rare bad batch
#   then cannot throw the parameters far.
# - **Periodic validation**: every few hundred steps, the loss on the validation split (in
#   evaluation mode, without gradients).

# %% jupyter={"source_hidden": true}
#| export
def _check_schedule(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> None:
    """Raise a `ValueError` naming the first argument of `learning_rate` that makes no sense."""
    _check_int("step", step, 0)
    _check_int("warmup_steps", warmup_steps, 0)
    _check_int("total_steps", total_steps, 1)
    if warmup_steps > total_steps:
        raise ValueError(f"warmup_steps={warmup_steps} must not exceed total_steps={total_steps}")
    if not max_lr > 0:
        raise ValueError(f"max_lr must be > 0, got {max_lr!r}")
    if not 0 <= min_lr <= max_lr:
        raise ValueError(f"min_lr must lie in 0..max_lr={max_lr}, got {min_lr!r}")

# %%
#| export
def learning_rate(step: int, *, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """The learning rate of update number `step` (0-based): a linear warm-up, then a cosine decay to `min_lr`.

    >>> [round(learning_rate(s, max_lr=1.0, warmup_steps=2, total_steps=6), 3) for s in range(7)]
    [0.5, 1.0, 1.0, 0.854, 0.5, 0.146, 0.0]
    """
    _check_schedule(step, max_lr, warmup_steps, total_steps, min_lr)
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps  # update warmup_steps - 1 reaches max_lr
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)  # 0 -> 1
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def make_optimizer(
    model: nn.Module, *, lr: float, weight_decay: float, betas: tuple[float, float] = (0.9, 0.95)
) -> torch.optim.AdamW:
    """AdamW over `model`'s parameters, with weight decay on the matrices (2-D and up) only.

    Biases, layer-norm gains and other vectors are not decayed: shrinking them towards zero does
    not regularise anything. A tied weight (one tensor used twice) appears once.

    >>> optimizer = make_optimizer(nn.Linear(3, 2), lr=1e-3, weight_decay=0.1)
    >>> [(len(g["params"]), g["weight_decay"]) for g in optimizer.param_groups]
    [(1, 0.1), (1, 0.0)]
    """
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    parameters = [p for p in model.parameters() if p.requires_grad]  # each tensor once, even if tied
    if not parameters:
        raise ValueError(f"{type(model).__name__} has no trainable parameters to optimise")
    decay = [p for p in parameters if p.ndim >= 2]
    no_decay = [p for p in parameters if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=betas)

# %% [markdown]
# `train` is the loop itself, below. Around it, in the folded cell: `evaluate`, which measures a
# model on random batches of a split, in evaluation mode (no dropout) and without gradients; the
# checks of every argument before any work is done (a clear error for `steps=0`, a corpus shorter
# than one window, floats instead of token indices...); and `TrainingHistory`, which keeps what
# the loop measures.

# %% jupyter={"source_hidden": true}
#| export
def _model_device(model: nn.Module) -> torch.device:
    """The device of `model`'s first parameter or buffer (the CPU for a model with neither)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def _check_ids(name: str, ids, context_size: int) -> torch.Tensor:
    """`ids` as a 1-D integer tensor long enough for one window of `context_size + 1` tokens."""
    if ids is None:
        raise ValueError(f"{name} is None; pass a 1-D sequence of token indices")
    ids = torch.as_tensor(ids)
    if ids.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(ids.shape)}")
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer token indices, got dtype {ids.dtype}")
    if len(ids) == 0:
        raise ValueError(f"{name} is empty: there is nothing to learn from")
    if len(ids) < context_size + 1:
        raise ValueError(
            f"{name} holds {len(ids)} tokens, fewer than context_size + 1 = {context_size + 1} (one window and its target)"
        )
    return ids


def _context_size(model: nn.Module, context_size: int | None) -> int:
    """`context_size`, or the model's own when None; never more than the model accepts."""
    longest = getattr(model, "context_size", None)
    if context_size is None:
        if longest is None:
            raise ValueError(f"{type(model).__name__} has no context_size attribute; pass context_size")
        return longest
    _check_int("context_size", context_size, 1)
    if longest is not None and context_size > longest:
        raise ValueError(f"context_size={context_size} exceeds the model's context_size={longest}")
    return context_size


@dataclass
class TrainingHistory:
    """What `train` measured: one entry per evaluation, plus the loss of every training batch."""

    steps: list[int] = field(default_factory=list)  # updates done at each evaluation
    train_loss: list[float] = field(default_factory=list)  # mean training-batch loss since the previous evaluation
    val_loss: list[float] = field(default_factory=list)  # `evaluate` on the validation split (nan without one)
    batch_loss: list[float] = field(default_factory=list)  # the loss of every training batch, in order
    learning_rates: list[float] = field(default_factory=list)  # the learning rate of every update
    tokens: int = 0  # training tokens seen in this call (batch_size * context_size per update)
    seconds: float = 0.0  # wall-clock time of this call, evaluations included
    updates_at_last_evaluation: int = 0  # len(batch_loss) at the previous evaluation

    def record_update(self, loss: float, lr: float, tokens: int) -> None:
        self.batch_loss.append(loss)
        self.learning_rates.append(lr)
        self.tokens += tokens

    def record_evaluation(self, step: int, val_loss: float) -> None:
        since_previous = self.batch_loss[self.updates_at_last_evaluation :]
        self.updates_at_last_evaluation = len(self.batch_loss)
        self.steps.append(step)
        self.train_loss.append(sum(since_previous) / max(1, len(since_previous)))
        self.val_loss.append(val_loss)


def _prepare_training(model, train_ids, val_ids, *, steps, batch_size, context_size, max_lr, warmup_steps, min_lr,
                      weight_decay, grad_clip, eval_interval, eval_batches, start_step, optimizer, device):
    """Check every argument of `train` and fill in its defaults; return what the loop needs."""
    context_size = _context_size(model, context_size)
    for name, value, minimum in (("steps", steps, 1), ("batch_size", batch_size, 1), ("eval_interval", eval_interval, 1),
                                 ("eval_batches", eval_batches, 1), ("start_step", start_step, 0)):
        _check_int(name, value, minimum)
    if start_step >= steps:
        raise ValueError(f"start_step={start_step} leaves nothing to do: it must be less than steps={steps}")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"grad_clip must be > 0 or None, got {grad_clip!r}")
    if warmup_steps is None:
        warmup_steps = min(100, steps // 10)
    _check_schedule(0, max_lr, warmup_steps, steps, min_lr)
    train_ids = _check_ids("train_ids", train_ids, context_size)
    if val_ids is not None:
        val_ids = _check_ids("val_ids", val_ids, context_size)
    device = torch.device(device) if device is not None else _model_device(model)
    if optimizer is None:
        optimizer = make_optimizer(model, lr=max_lr, weight_decay=weight_decay)
    return context_size, warmup_steps, train_ids, val_ids, device, optimizer

def evaluate(model: nn.Module, ids, *, batch_size: int, context_size: int | None = None, n_batches: int = 20,
             generator: torch.Generator | None = None, device: str | torch.device | None = None) -> float:
    """The mean cross-entropy of `model` on `n_batches` random batches of `ids` (from `get_batch`).

    Runs without gradients and in evaluation mode (no dropout), then puts the model back in the
    mode it was in. Pass a seeded `generator` to score the same batches every time.
    """
    context_size = _context_size(model, context_size)
    ids = _check_ids("ids", ids, context_size)
    _check_int("batch_size", batch_size, 1), _check_int("n_batches", n_batches, 1)
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            losses = [cross_entropy(model(x), y).item()  # x, y: (B, T)
                      for x, y in (get_batch(ids, batch_size, context_size, generator=generator, device=device)
                                   for _ in range(n_batches))]
        return sum(losses) / n_batches
    finally:
        model.train(was_training)

# %%
#| export
def train(
    model: nn.Module, train_ids, val_ids=None, *, steps: int, batch_size: int, context_size: int | None = None,
    max_lr: float = 3e-3, warmup_steps: int | None = None, min_lr: float = 3e-4, weight_decay: float = 0.1,
    grad_clip: float | None = 1.0, eval_interval: int = 100, eval_batches: int = 10, eval_seed: int = 0,
    optimizer: torch.optim.Optimizer | None = None, generator: torch.Generator | None = None, start_step: int = 0,
    device: str | torch.device | None = None, progress: bool = True,
    callback: Callable[[int, float], bool | None] | None = None,
) -> TrainingHistory:
    """Train `model` on `train_ids` until `steps` updates are done; return a `TrainingHistory`.

    Each update draws a batch with `get_batch`, computes `cross_entropy`, back-propagates, clips the
    gradient norm to `grad_clip` (None: no clipping) and takes an AdamW step (`make_optimizer`
    unless an `optimizer` is given) at the rate `learning_rate(step, ...)` (`warmup_steps`
    defaults to `min(100, steps // 10)`). Every `eval_interval` updates and after the last, the
    validation loss is estimated with `evaluate` on `eval_batches` batches drawn by a generator
    seeded with `eval_seed` (the same batches every time). `start_step` resumes a run: updates
    `start_step..steps-1` are done, with the schedule of the whole run. `callback(step, loss)` is
    called after every update; returning True stops training early.
    """
    context_size, warmup_steps, train_ids, val_ids, device, optimizer = _prepare_training(
        model, train_ids, val_ids, steps=steps, batch_size=batch_size, context_size=context_size, max_lr=max_lr,
        warmup_steps=warmup_steps, min_lr=min_lr, weight_decay=weight_decay, grad_clip=grad_clip,
        eval_interval=eval_interval, eval_batches=eval_batches, start_step=start_step, optimizer=optimizer,
        device=device)
    from tqdm.auto import tqdm

    history, started = TrainingHistory(), time.perf_counter()
    bar = tqdm(total=steps, initial=start_step, unit="step", disable=not progress, mininterval=1.0)  # redraw once a second
    model.train()
    try:
        for step in range(start_step, steps):  # `step` updates are done; this one makes step + 1
            lr = learning_rate(step, max_lr=max_lr, warmup_steps=warmup_steps, total_steps=steps, min_lr=min_lr)
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = get_batch(train_ids, batch_size, context_size, generator=generator, device=device)  # (B, T)
            loss = cross_entropy(model(x), y)  # logits (B, T, V) against targets (B, T)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # back-propagation: d loss / d theta for every parameter
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()  # theta moves against the gradient
            history.record_update(loss.item(), lr, batch_size * context_size)
            stop = bool(callback(step + 1, history.batch_loss[-1])) if callback is not None else False
            if (step + 1) % eval_interval == 0 or step + 1 == steps or stop:
                val_loss = float("nan") if val_ids is None else evaluate(
                    model, val_ids, batch_size=batch_size, context_size=context_size, n_batches=eval_batches,
                    generator=torch.Generator().manual_seed(eval_seed), device=device)
                history.record_evaluation(step + 1, val_loss)
                bar.set_postfix(train=f"{history.train_loss[-1]:.3f}", val=f"{val_loss:.3f}")
            bar.update(1)
            if stop:
                break
    finally:
        bar.close()
        history.seconds = time.perf_counter() - started
    return history

# %% [markdown]
# **The recipe.** A training run is a handful of choices: the model's size, the batch, the
# schedule, the optimiser's settings. The course keeps them in one dataclass, `Recipe`, with a
# comment per field; `SHAKESPEARE_CHAR` is the recipe of section 7, which notebooks 08 and 09
# reuse. It was chosen by measuring validation loss against training tokens for many recipes
# (`benchmarks/tokens_to_loss.py`, tables in `benchmarks/README.md`): a higher learning rate and
# a schedule sized to the run reach 1.80 nats with far fewer tokens than a cautious one.

# %%
#| export
@dataclass(frozen=True)
class Recipe:
    """How notebook 07 trains its GPT on Tiny Shakespeare characters; notebooks 08 and 09 reuse it."""

    n_emb: int = 192  # C, the width of the residual stream: wide...
    n_layer: int = 2  # ...and shallow learns fastest per token at this budget
    n_head: int = 6  # attention heads per block, each of size C / n_head = 32
    context_size: int = 64  # T, characters the model sees
    dropout: float = 0.0  # no dropout: the run sees each character about once, too few to overfit
    batch_size: int = 16  # B windows of T tokens per update: small batches, more updates per token
    steps: int = 1300  # updates, fixed: a faster machine finishes sooner, it does not train longer
    max_lr: float = 5e-3  # peak learning rate, after the warm-up: 6e-3 ends a little higher across seeds
    min_lr: float = 6e-4  # learning rate at the end of the cosine
    warmup_steps: int = 50  # W, updates of linear warm-up: short, the run is short
    weight_decay: float = 0.1  # AdamW's decay, on matrices only
    betas: tuple[float, float] = (0.9, 0.99)  # AdamW's averaging weights; 0.99 smooths small batches
    seed: int = 1337  # seeds the initialisation
    batch_seed: int = 5  # seeds the batch generator

    def gpt_config(self, n_vocab: int, **changes):
        """The `GPTConfig` of this recipe for a vocabulary of `n_vocab` tokens (fields in `changes` replaced)."""
        from llm_course.gpt import GPTConfig

        sizes = dict(n_vocab=n_vocab, context_size=self.context_size, n_emb=self.n_emb, n_layer=self.n_layer,
                     n_head=self.n_head, dropout=self.dropout)
        return GPTConfig(**(sizes | changes))

    @property
    def tokens(self) -> int:
        """Training tokens seen in the whole run: steps x batch_size x context_size."""
        return self.steps * self.batch_size * self.context_size


SHAKESPEARE_CHAR = Recipe()  # notebook 07's run

# %% [markdown]
# Its learning-rate schedule, drawn:

# %%
recipe = SHAKESPEARE_CHAR
schedule = [learning_rate(k, max_lr=recipe.max_lr, warmup_steps=recipe.warmup_steps, total_steps=recipe.steps,
                          min_lr=recipe.min_lr) for k in range(recipe.steps)]
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(range(1, recipe.steps + 1), schedule)
ax.axvline(recipe.warmup_steps, color="grey", linestyle=":", label=f"end of the warm-up, W = {recipe.warmup_steps}")
ax.set_xlabel("update")
ax.set_ylabel("learning rate η")
ax.set_title(f"Linear warm-up to {recipe.max_lr:g}, then half a cosine down to {recipe.min_lr:g}")
ax.legend()
plt.show()
assert max(schedule) == recipe.max_lr and schedule[-1] >= recipe.min_lr

# %% [markdown]
# ## 5. Maximum likelihood, two ways
#
# For the bigram model the maximum-likelihood problem has a closed-form answer: count. If token
# $j$ followed token $i$ $N_{ij}$ times in the training text, the probabilities that make that text
# most likely are $P(s_{\ell+1}=j\mid s_\ell=i)=N_{ij}/\sum_k N_{ik}$ (`BigramCounts` with
# `smoothing=0`). The neural `BigramModel` of notebook 05 has a free logit for every pair $(i,j)$,
# so training it by gradient descent on the cross-entropy should find the same table. Let us
# check: train it with the loop above, then compare its probabilities with the counts, row by row,
# weighting each row by how often its token occurs.

# %%
set_seed(1337)
neural_bigram = BigramModel(n_vocab, context_size=64)
bigram_history = train(
    neural_bigram, train_ids, val_ids, steps=300, batch_size=64, max_lr=0.3, warmup_steps=10, min_lr=0.03,
    weight_decay=0.0, eval_interval=300, eval_batches=10, generator=torch.Generator().manual_seed(3), progress=False,
)
counted = BigramCounts.from_indices(train_ids, n_vocab, smoothing=0.0).probs.double()  # (V, V) maximum likelihood
learned = torch.softmax(neural_bigram.logits_table.weight.detach().double(), dim=1)  # (V, V) gradient descent
total_variation = 0.5 * (learned - counted).abs().sum(dim=1)  # (V,) distance between the two rows, 0..1
weighted_distance = (unigram_probs * total_variation).sum().item()
assert weighted_distance < 0.05 and abs(bigram_history.val_loss[-1] - bigram_loss) < 0.05
print("after 300 updates, the learned rows differ from the counted ones by a frequency-weighted "
      "total-variation distance below 0.05,")
print("and the validation losses of the two bigram models differ by less than 0.05 nats")

# %%
common = unigram_probs.argsort(descending=True)[:3].tolist()  # the three most frequent tokens
show = lambda token: {" ": "␣", "\n": "\\n"}.get(token, token)  # noqa: E731
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
for ax, i in zip(axes, common, strict=True):
    top = counted[i].argsort(descending=True)[:10].tolist()  # the 10 likeliest next tokens
    ax.bar([k - 0.2 for k in range(10)], counted[i, top].tolist(), width=0.4, label="counted")
    ax.bar([k + 0.2 for k in range(10)], learned[i, top].tolist(), width=0.4, label="gradient descent")
    ax.set_xticks(range(10), [show(tokenizer.decode([j])) for j in top])
    ax.set_xlabel(f"next character after {show(tokenizer.decode([i]))!r}")
axes[0].set_ylabel("P(next | current)")
axes[0].legend()
fig.suptitle("Counting and gradient descent find the same bigram probabilities (the 10 likeliest next characters)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Counting *is* the maximum-likelihood solution for a bigram table; gradient descent gets there
# too, more slowly. For a GPT there is no closed form, and gradient descent on the same
# cross-entropy is the only way.
#
# ## 6. How low can it go? The floor
#
# Could a perfect model reach a loss of 0? Only if the text were perfectly predictable. Real text
# is not: after "the " many words are possible. For a random **source** of text there is a
# **floor**, its **entropy rate** $H$: no model, however large, can have an expected loss below
# $H$ on text drawn from the source, and the source's own probabilities reach it exactly. (The
# expected cross-entropy of any model $q$ is $H$ plus the Kullback-Leibler divergence between the
# source and $q$, which is never negative.) Baselines are there to be beaten; the floor cannot be.
#
# For real text nobody knows $H$. For a **Markov chain** we can compute it: a chain over $n$
# symbols with transition probabilities $P_{ij}$ (the next symbol is $j$ with probability $P_{ij}$
# after symbol $i$) spends a fraction $\pi_i$ of its time in symbol $i$, where $\pi$ is the
# stationary distribution ($\pi P=\pi$). Its entropy rate is the average uncertainty of one step,
#
# $$
# H=-\sum_{i=1}^{n}\pi_i\sum_{j=1}^{n}P_{ij}\ln P_{ij}\quad\text{nats per symbol.}
# $$
#
# `MarkovSource` (folded: exercise 07.5 asks you to write its `entropy_rate`) computes $\pi$ and
# $H$, and samples text from the chain. We draw 200,000 symbols from a chain over 8 symbols, check $H$ against a
# Monte-Carlo estimate (the average of $-\ln P_{ab}$ over every pair of consecutive symbols $a,b$ of the sample), and train a small
# GPT on it.

# %% jupyter={"source_hidden": true}
#| export
class MarkovSource:
    """A first-order Markov chain over `n` symbols with known transition probabilities.

    `transition[i, j]` is the probability that symbol `j` follows symbol `i` (rows sum to 1).
    `stationary()` is the long-run distribution $\\pi$ ($\\pi P = \\pi$) and `entropy_rate()` the
    entropy rate $H = -\\sum_i \\pi_i \\sum_j P_{ij}\\ln P_{ij}$ in nats per symbol: the lowest
    average cross-entropy any model can reach on text drawn from the chain.

    >>> source = MarkovSource(torch.tensor([[0.5, 0.5], [0.5, 0.5]]))   # fair coin flips
    >>> round(source.entropy_rate(), 4)                                  # ln 2
    0.6931
    """

    def __init__(self, transition: torch.Tensor):
        transition = torch.as_tensor(transition, dtype=torch.float64)
        if transition.ndim != 2 or transition.shape[0] != transition.shape[1] or transition.shape[0] < 1:
            raise ValueError(f"transition must be a square (n, n) matrix, got shape {tuple(transition.shape)}")
        if (transition < 0).any():
            raise ValueError(f"transition probabilities must be >= 0, got a minimum of {transition.min().item()}")
        row_sums = transition.sum(dim=1)
        if not torch.allclose(row_sums, torch.ones_like(row_sums), atol=1e-6):
            raise ValueError(f"every row of transition must sum to 1, got row sums {[round(s, 4) for s in row_sums.tolist()]}")
        self.transition = transition  # (n, n), P[i, j] = P(next = j | current = i)
        self.n_symbols = transition.shape[0]

    @classmethod
    def random(cls, n_symbols: int, sharpness: float = 2.0, generator: torch.Generator | None = None) -> MarkovSource:
        """A chain whose rows are the softmax of Gaussian logits times `sharpness` (larger: more predictable)."""
        _check_int("n_symbols", n_symbols, 1)
        if not sharpness >= 0:
            raise ValueError(f"sharpness must be >= 0, got {sharpness!r}")
        logits = sharpness * torch.randn(n_symbols, n_symbols, generator=generator, dtype=torch.float64)  # (n, n)
        return cls(torch.softmax(logits, dim=1))

    def stationary(self) -> torch.Tensor:
        """$\\pi$ with $\\pi P = \\pi$, $\\sum_i\\pi_i = 1$: the left eigenvector of eigenvalue 1."""
        n = self.n_symbols
        # Solve pi (P - I) = 0 together with sum(pi) = 1, as a least-squares system.
        system = torch.cat([(self.transition - torch.eye(n, dtype=torch.float64)).T, torch.ones(1, n, dtype=torch.float64)])
        rhs = torch.cat([torch.zeros(n, dtype=torch.float64), torch.ones(1, dtype=torch.float64)])
        pi = torch.linalg.lstsq(system, rhs[:, None]).solution.squeeze(1)  # (n,)
        return pi.clamp(min=0) / pi.clamp(min=0).sum()

    def entropy_rate(self) -> float:
        """$H = -\\sum_i\\pi_i\\sum_j P_{ij}\\ln P_{ij}$, in nats per symbol."""
        p = self.transition
        row_entropy = -(torch.where(p > 0, p * p.log(), torch.zeros_like(p))).sum(dim=1)  # (n,)
        return float((self.stationary() * row_entropy).sum())

    def sample(self, length: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`length` symbols of the chain, the first drawn from $\\pi$: a 1-D `torch.long` tensor."""
        _check_int("length", length, 1)
        uniforms = torch.rand(length, generator=generator, dtype=torch.float64)  # one uniform per symbol
        cumulative = self.transition.cumsum(dim=1)  # (n, n)
        cumulative[:, -1] = 1.0  # guard against rounding
        first = int(torch.searchsorted(self.stationary().cumsum(0).contiguous(), uniforms[:1]).clamp(max=self.n_symbols - 1))
        symbols = [first]
        rows = cumulative.tolist()
        for u in uniforms[1:].tolist():
            symbols.append(min(bisect.bisect_right(rows[symbols[-1]], u), self.n_symbols - 1))
        return torch.tensor(symbols, dtype=torch.long)

# %%
from llm_course.gpt import GPT, GPTConfig

source = MarkovSource.random(8, sharpness=2.0, generator=torch.Generator().manual_seed(7))
markov_ids = source.sample(200_000, generator=torch.Generator().manual_seed(8))
entropy_rate = source.entropy_rate()
monte_carlo = -source.transition[markov_ids[:-1], markov_ids[1:]].log().mean().item()
print(f"stationary distribution pi: {[round(p, 3) for p in source.stationary().tolist()]}")
print(f"entropy rate H = {entropy_rate:.3f} nats/symbol (uniform would be ln 8 = {math.log(8):.3f}); "
      f"Monte-Carlo estimate {monte_carlo:.3f}")
assert abs(monte_carlo - entropy_rate) < 0.01

markov_train, markov_val = train_val_split(markov_ids, 0.9)
set_seed(1337)
small_gpt = GPT(GPTConfig(n_vocab=8, context_size=32, n_emb=32, n_layer=1, n_head=2))
markov_options = dict(batch_size=32, n_batches=20, generator=torch.Generator().manual_seed(0))
markov_start = evaluate(small_gpt, markov_val, **markov_options)  # step 0, the same batches as train's evaluations
markov_history = train(
    small_gpt, markov_train, markov_val, steps=300, batch_size=32, max_lr=1e-2, warmup_steps=20, min_lr=1e-3,
    eval_interval=25, eval_batches=20, generator=torch.Generator().manual_seed(9), progress=False,
)
MARGIN = 0.03  # the validation estimate (20 batches of 32 x 32 symbols) is noisy by about 0.01
assert entropy_rate - MARGIN < markov_history.val_loss[-1] < entropy_rate + MARGIN
assert min(markov_history.val_loss) > entropy_rate - MARGIN  # never (meaningfully) below the floor
print(f"after 300 updates the GPT's validation loss is within {MARGIN} of H, and never went below H - {MARGIN}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot([0, *markov_history.steps], [markov_start, *markov_history.val_loss], marker="o", label="GPT, validation loss")
ax.axhline(entropy_rate, color="black", linestyle="--", label=f"floor: entropy rate H = {entropy_rate:.3f}")
ax.axhline(math.log(8), color="grey", linestyle=":", label=f"uniform baseline, ln 8 = {math.log(8):.3f}")
ax.set_xlabel("update")
ax.set_ylabel("loss (nats per symbol)")
ax.set_title("On a Markov source the loss falls to the entropy rate H, not to zero")
ax.legend()
plt.show()

# %% [markdown]
# The loss starts at the uniform baseline $\ln 8$ (step 0), falls quickly to $H$ and stays there:
# the GPT sees 32 symbols of context, but the chain only depends on the last one, so there is
# nothing more to learn. Real text has such a floor too; nobody knows it exactly, so we can never
# tell from the loss alone how far a model is from perfect.
#
# ## 7. The real run: a GPT on Tiny Shakespeare
#
# Now the GPT of notebook 06 on the characters of Tiny Shakespeare, 90% for training and the last
# 10% for validation, with the recipe `SHAKESPEARE_CHAR` of section 4: 2 blocks of 6 heads,
# $n_{\text{emb}}=192$, context $T=64$ characters, batches of $B=16$ windows (1,024 tokens per
# update), about 0.9 million parameters.
#
# **The start, checked.** With the course's "scaled" initialisation (GPT-2's: every weight from
# $\mathcal{N}(0, 0.02^2)$, the layers that write into the residual stream shrunk by
# $1/\sqrt{2 n_{\text{layer}}}$) the loss at step 0 should be close to the uniform baseline
# $\ln 65$. PyTorch's layer defaults (an embedding table with $\mathcal{N}(0,1)$ entries, linear
# layers uniform in $\pm 1/\sqrt{\text{fan-in}}$) would start far above it, confidently wrong:
# our output layer shares its weights with the embedding table, so a $\mathcal{N}(0,1)$ table
# makes large logits, and the first hundreds of updates would be spent undoing them.

# %%
from llm_course.environment import best_device

x, y = get_batch(val_ids, batch_size=64, context_size=recipe.context_size, generator=torch.Generator().manual_seed(0))
step_0_loss = {}
for init in ("pytorch", "scaled"):
    set_seed(recipe.seed)
    with torch.no_grad():
        step_0_loss[init] = cross_entropy(GPT(recipe.gpt_config(n_vocab, init=init))(x), y).item()
assert step_0_loss["pytorch"] > 20 and abs(step_0_loss["scaled"] - math.log(n_vocab)) < 0.1
print(f"init='pytorch': loss at step 0 above 20 nats; init='scaled' (the course's default): within 0.1 of "
      f"ln {n_vocab} = {math.log(n_vocab):.2f}")

# %% [markdown]
# Before training, the GPT writes noise. A tiny sampling loop (notebook 08 builds the real one,
# `llm_course.sampling`): feed the last $T$ tokens, sample $\hat s_{\ell+1}\sim\text{Categorical}(\boldsymbol\alpha)$,
# append, repeat.

# %%
def sample_text(model, prompt: str, n_new: int, seed: int = 0) -> str:
    """A demo sampler: `n_new` characters after `prompt`, each drawn from next_token_probs."""
    generator, device = torch.Generator().manual_seed(seed), next(model.parameters()).device
    idx = torch.tensor(tokenizer.encode(prompt))  # (t,)
    model.eval()
    with torch.no_grad():
        for _ in range(n_new):
            probs = model.next_token_probs(idx[-model.context_size :].to(device)).cpu()  # (V,) alpha
            idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)])
    model.train()
    return tokenizer.decode(idx.tolist())


set_seed(recipe.seed)
model = GPT(recipe.gpt_config(n_vocab))
print(sample_text(model, "ROMEO:", 100))

# %% [markdown]
# **The run.** 1,300 updates of AdamW with $\beta=(0.9, 0.99)$ and weight decay 0.1 on the
# matrices; a peak learning rate of $5\cdot10^{-3}$ after 50 warm-up updates and a cosine decay
# to $6\cdot10^{-4}$; gradient clipping at 1; the validation loss every 200 updates. The number of updates is fixed, so every
# machine trains the same model (up to rounding). The cell trains on `best_device()`: the GPU
# when there is one (Colab's GPU runtime, an Apple GPU), else the CPU, where it takes from half a
# minute to about three minutes on two cores, depending on the machine (`benchmarks/README.md`
# times it on a slow one). While it runs, a progress bar shows the latest training and validation
# losses; the figure after it draws them all.

# %% tags=["nbval-ignore-output"]
device = best_device()
set_seed(recipe.seed)
model = GPT(recipe.gpt_config(n_vocab)).to(device)
optimizer = make_optimizer(model, lr=recipe.max_lr, weight_decay=recipe.weight_decay, betas=recipe.betas)
batch_generator = torch.Generator().manual_seed(recipe.batch_seed)
val_at_start = evaluate(model, val_ids, batch_size=recipe.batch_size, n_batches=20,  # step 0, as train evaluates
                        generator=torch.Generator().manual_seed(0), device=device)
history = train(
    model, train_ids, val_ids, steps=recipe.steps, batch_size=recipe.batch_size, max_lr=recipe.max_lr,
    warmup_steps=recipe.warmup_steps, min_lr=recipe.min_lr, weight_decay=recipe.weight_decay, grad_clip=1.0,
    eval_interval=200, eval_batches=20, optimizer=optimizer, generator=batch_generator, device=device,
)
final_val = history.val_loss[-1]
end_train = evaluate(model, train_ids, batch_size=recipe.batch_size, n_batches=20, generator=torch.Generator().manual_seed(0),
                     device=device)
print(f"on {device}: {history.tokens:,} training tokens in {history.seconds:.0f} s "
      f"({history.tokens / history.seconds:,.0f} tokens/s)")
print(f"validation loss {final_val:.3f} nats (perplexity {math.exp(final_val):.2f}), training loss {end_train:.3f}")
assert final_val <= 1.80, f"validation loss {final_val:.3f} is above the course's bound 1.80"
assert final_val - end_train > 0.1, "a gap between training and validation, studied below"

# %%
print(f"{recipe.steps} updates of {recipe.batch_size} x {recipe.context_size} characters = {recipe.tokens:,} tokens: "
      f"validation loss below 1.80 nats, perplexity below {math.exp(1.80):.2f}")
print(f"baselines beaten: uniform {uniform_loss:.2f}, unigram {unigram_loss:.2f}, bigram counts {bigram_loss:.2f}")
assert final_val < bigram_loss - 0.5 and dict(zip(history.steps, history.val_loss, strict=True))[200] < bigram_loss

fig, ax = plt.subplots(figsize=(8, 4.5))
tokens_per_update = recipe.batch_size * recipe.context_size / 1e6
ax.plot([k * tokens_per_update for k in range(1, len(history.batch_loss) + 1)], history.batch_loss, alpha=0.3,
        label="training batches")
ax.plot([0, *[k * tokens_per_update for k in history.steps]], [val_at_start, *history.val_loss], marker="s",
        label="validation")
for (name, loss), style in zip(baselines.items(), (":", "-.", "--"), strict=True):
    ax.axhline(loss, color="black", linestyle=style, linewidth=1, label=f"baseline: {name} ({loss:.2f})")
ax.axhline(1.80, color="tab:red", linewidth=1, label="the course's bound, 1.80")
ax.set_ylim(1.0, 4.6)
ax.set_xlabel("training tokens seen (millions)")
ax.set_ylabel("cross-entropy (nats per character)")
ax.set_title("The GPT passes the uniform, unigram and bigram baselines within 0.2 M tokens (200 updates)")
ax.legend(loc="upper right", fontsize=8)
plt.show()

# %% [markdown]
# **The gap between training and validation.** At the end of the run the training loss is clearly
# below the validation loss: the printout of the run shows both, each measured on 20 random
# batches of its split, and they differ by more than a tenth of a nat (asserted). Is that *overfitting*, the model
# memorising the very text it trained on, or is the last 10% simply different text, with other
# plays and other names? The two can be told apart. The run drew its batches from a seeded
# generator, so we can replay the draws and mark every position of the training text whose
# character was a target at least once: about three in four. The model never trained on the
# others, although they are training text. If the gap were memory, the positions it trained on
# would score far better than those it did not.

# %% tags=["nbval-ignore-output"]
T, replay = recipe.context_size, torch.Generator().manual_seed(recipe.batch_seed)  # the run's batch draws again
trained_on = torch.zeros(len(train_ids), dtype=torch.bool)
for _ in range(recipe.steps):
    for first in torch.randint(len(train_ids) - T, (recipe.batch_size,), generator=replay).tolist():
        trained_on[first + 1 : first + T + 1] = True  # the targets of this window
windows = torch.randint(len(train_ids) - T, (2000,), generator=torch.Generator().manual_seed(11))[:, None] + torch.arange(T)
model.eval()
with torch.no_grad():  # -log alpha at every position of 2,000 windows of training text, (2000, T)
    logits = torch.cat([model(train_ids[windows[i : i + 250]].to(device)).cpu().double() for i in range(0, 2000, 250)])
model.train()
losses = -logits.log_softmax(-1).gather(-1, train_ids[windows + 1][..., None]).squeeze(-1)
seen = trained_on[windows + 1]
seen_loss, unseen_loss = losses[seen].mean().item(), losses[~seen].mean().item()
print(f"{trained_on.float().mean().item():.0%} of the training positions were targets; loss on those "
      f"{seen_loss:.3f}, on the others {unseen_loss:.3f}; validation {final_val:.3f}")
assert seen_loss < unseen_loss < final_val and unseen_loss - seen_loss < 0.05 and final_val - unseen_loss > 0.1

# %% [markdown]
# Memory is there, but small: the positions the model trained on score better than those it never
# saw, by less than 0.05 nats (about 0.02 in the run shown). The rest of the gap, more than 0.1
# nats (about 0.15 here), is the text: characters of the training text the model never trained on
# are still much easier for it than the validation text. The assert checks both bounds. Even the
# bigram counts, which hold 4,225 numbers fitted to a million characters and cannot memorise
# anything, find the validation text harder; a model that reads 64 characters back also meets the
# validation text's new names and new plays.

# %%
bigram_train_loss = -bigram_log_probs[train_ids[:-1], train_ids[1:]].mean().item()
print(f"bigram counts: training text {bigram_train_loss:.3f}, validation text {bigram_loss:.3f} nats")
assert 0.0 < bigram_loss - bigram_train_loss < 0.1

# %% [markdown]
# So this run barely overfits. Train much longer, or a much larger model on this one megabyte, and
# the loss on the trained-on positions falls away from the rest and the validation curve flattens
# and turns up: notebook 09 warns about this for a GPT-2-sized run. A perplexity below 6.05
# means that at each character the model is about as unsure as a choice among six, down from 65. The same prompt after training:

# %% tags=["nbval-ignore-output"]
after = sample_text(model, "ROMEO:", 300)
print(after)
assert after.startswith("ROMEO:") and len(after) == 306

# %% [markdown]
# Words, names in capitals, line breaks and the shape of a play: all learned from the loss
# $-\log\alpha_{s_{\ell+1}}$ alone.
#
# **The embeddings** (back to notebook 04). The token-embedding table $\mathbf{E}$ started random.
# Projected onto its two main directions (principal component analysis, `pca_2d` of notebook 04),
# the trained rows are no longer a random cloud. Nobody told the model what a capital or a comma
# is; characters that behave alike in the text ended up with similar vectors:

# %%
from llm_course.embeddings import pca_2d

points = pca_2d(model.token_embedding.weight.detach().cpu())  # (V, 2)
groups = {"lower-case letters": str.islower, "capitals": str.isupper, "other": lambda c: not c.isalpha()}
fig, ax = plt.subplots(figsize=(7, 6))
for (name, belongs), colour in zip(groups.items(), ("tab:blue", "tab:red", "black"), strict=True):
    members = [i for i, c in enumerate(tokenizer.vocabulary.tokens) if belongs(c)]
    ax.scatter(points[members, 0], points[members, 1], s=150, color=colour, alpha=0.15, label=name)
    for i in members:
        ax.annotate(show(tokenizer.vocabulary.tokens[i]), points[i].tolist(), color=colour, ha="center", va="center")
ax.set_xlabel("first principal component")
ax.set_ylabel("second principal component")
ax.set_title("Trained character embeddings: punctuation apart, lower case and capitals on two sides")
ax.legend()
plt.show()

# %% [markdown]
# ## Summary
#
# - The loss of a language model at one position is $-\log\alpha_{s_{\ell+1}}$: minus the log of the
#   probability it gave to the true next token. Averaged over a text it is the negative
#   log-likelihood per token, the cross-entropy between the one-hot truth and $\boldsymbol\alpha$,
#   in nats. `cross_entropy` computes it from logits with a log-sum-exp, equal to PyTorch's.
# - Training reads that probability; it never samples. Sampling has no gradient; the loss has
#   one, $\nabla_{\mathbf z}L=\boldsymbol\alpha-\text{one\_hot}(s_{\ell+1})$.
# - Every position of every window is a training example: logits `(B, t, V)` against targets
#   shifted by one. Batches average many examples into one less noisy step.
# - Baselines to beat: uniform ($\ln n_{\text{vocab}}$, where a well-initialised model starts),
#   unigram, bigram. The floor no model can beat: the source's entropy rate, known for a Markov
#   chain, unknown for real text. Perplexity $e^{\text{loss}}$ reads a loss as a number of equally
#   likely choices.
# - Counting is maximum likelihood for a bigram; gradient descent finds the same table.
# - `train`: AdamW with decay on matrices, warm-up and cosine decay, clipping, validation. With the
#   recipe `SHAKESPEARE_CHAR` our GPT reaches a validation loss below 1.80 nats on Tiny
#   Shakespeare in 1.3 million training tokens (1,300 updates); most of its train/validation gap
#   is the validation text being different, not memorisation.
# - Checkpoints (appendix) store model, optimiser, step, configuration and every random state,
#   atomically; resuming is bitwise exact.
#
# ## Exercises
#
# Each exercise has a starter cell to complete and a check cell that tests your answer on several
# inputs and prints one line: ✓, or ✗ with a hint. Solutions are in
# `solutions/07_cross_entropy_training.py`: try first.
#
# **07.1 Perplexity.** Write `perplexity(loss)`: the perplexity of a model whose loss, in nats,
# is `loss`. What is the perplexity of a model that puts probability 0.9 on the true token at every
# position? And 0.01?

# %%
from llm_course.exercises import check


def perplexity(loss: float) -> float:
    raise NotImplementedError  # your code here


# %%
check("07.1", perplexity)

# %% [markdown]
# **07.2 The gradient by hand.** Write `logit_gradient(logits, target)`: the gradient of
# $-\log\alpha_{\text{target}}$ with respect to the logits of one position (`logits` has shape
# `(V,)`), without autograd. The check compares it with autograd's.

# %%
def logit_gradient(logits: torch.Tensor, target: int) -> torch.Tensor:
    raise NotImplementedError  # your code here: a (V,) tensor


# %%
check("07.2", logit_gradient)

# %% [markdown]
# **07.3 The schedule.** Write `lr_at(step, max_lr, warmup_steps, total_steps, min_lr)`, the
# learning rate of update `step` (0-based) under the warm-up and cosine schedule of section 4,
# from the formula (not by calling `learning_rate`).

# %%
def lr_at(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    raise NotImplementedError  # your code here


# %%
check("07.3", lr_at)

# %% [markdown]
# **07.4 A loss that never overflows.** Write `stable_cross_entropy(logits, targets)` for logits
# of shape `(N, V)` and targets `(N,)`, the mean of $-\log\alpha_{s_{\ell+1}}$, using only `exp`,
# `log`, `sum`, `max` and indexing. It must stay finite for logits of size $10^4$.

# %%
def stable_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError  # your code here


# %%
check("07.4", stable_cross_entropy)

# %% [markdown]
# **07.5 The floor of a Markov chain.** Write `entropy_rate(transition)`: $H$ in nats per symbol
# for a transition matrix $P$ (rows sum to 1). You need the stationary distribution $\pi$ first
# (the left eigenvector of $P$ for eigenvalue 1, scaled to sum to 1).

# %%
def entropy_rate(transition: torch.Tensor) -> float:
    raise NotImplementedError  # your code here


# %%
check("07.5", entropy_rate)

# %% [markdown]
# **To think about.** (a) Train the Markov GPT with `context_size=1`: does it still reach $H$?
# (b) Double `steps` in a copy of the recipe (`dataclasses.replace(recipe, steps=...)`): how much
# lower does the validation loss go, and does the gap to training grow? (c) Train with
# `grad_clip=None`, `warmup_steps=0` and `max_lr=3e-2`: what happens to the first updates?
#
# ## Appendix: checkpoints and exact resume
#
# Long runs stop: a laptop sleeps, a cloud machine is taken back. A **checkpoint** saves what is
# needed to continue as if nothing had happened, and that is more than the weights: the model's
# parameters; the optimiser's state (AdamW's running averages and step count); the step, so that
# the learning-rate schedule continues where it was; the configuration, to rebuild the model; and
# every random-number state (PyTorch's for dropout, Python's, NumPy's, and the generator that
# draws the batches), so that the resumed run sees the same batches and dropout masks.
#
# `save_checkpoint` writes to a temporary file in the same folder and renames it over the old one
# (`os.replace`, atomic), so a crash while saving leaves the previous checkpoint intact.
# `load_checkpoint` reads with `torch.load(weights_only=True)` (a checkpoint cannot run code),
# and refuses a file of another model shape, or a truncated one, with an error that says so. The
# code is plumbing, folded below; so is `shakespeare_char_model`, which notebooks 08 and 09 call
# to get this notebook's trained GPT (from the checkpoint saved here, or trained afresh).

# %% jupyter={"source_hidden": true}
#| export
CHECKPOINT_FORMAT = "llm-course-checkpoint/1"  # written into every checkpoint, checked on loading


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, or does not fit the model or optimiser it is loaded into."""


def _random_states(generator: torch.Generator | None) -> dict:
    """Every random-number state, as tensors and plain values (loadable with `weights_only=True`)."""
    version, internal, gauss_next = random.getstate()
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss_next": gauss_next},
        "numpy": {
            "name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian),
        },
        "generator": generator.get_state() if generator is not None else None,
    }


def _restore_random_states(states: dict, generator: torch.Generator | None) -> None:
    """Put back what `_random_states` stored."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
    python = states["python"]
    random.setstate((python["version"], tuple(python["internal"].tolist()), python["gauss_next"]))
    numpy = states["numpy"]
    np.random.set_state(
        (numpy["name"], numpy["keys"].numpy().astype(np.uint32), numpy["position"], numpy["has_gauss"], numpy["cached_gaussian"])
    )
    if generator is not None:
        generator.set_state(states["generator"])


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    step: int,
    config: dict | None = None,
    generator: torch.Generator | None = None,
    extra: dict | None = None,
) -> Path:
    """Write model, optimiser, step, configuration and every random-number state to `path`, atomically.

    The random states are PyTorch's (CPU, and CUDA when present), Python's `random`, NumPy's and
    that of `generator` (the batch generator). `config` is a dict, or a dataclass such as
    `GPTConfig` (stored as a dict). The file is written to a temporary file in the same folder,
    then renamed over `path` (`os.replace`), so a crash never leaves a half-written checkpoint
    where a good one was. Everything is stored as tensors and plain values, so that
    `torch.load(path, weights_only=True)` reads it.
    """
    _check_int("step", step, 0)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict, a dataclass or None, got {type(config).__name__}")
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"extra must be a dict or None, got {type(extra).__name__}")
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "step": step,
        "config": config,
        "random_states": _random_states(generator),
        "extra": extra if extra is not None else {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(checkpoint, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary_name, path)
    except BaseException:
        Path(temporary_name).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(
    path: str | os.PathLike,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
) -> dict:
    """Restore `model` (and `optimizer`, `generator`, every random state) from `path`; return its step, config, extra.

    Reads with `torch.load(weights_only=True)`: nothing in the file is executed. A truncated or
    corrupt file, a file that is not a checkpoint, or a model whose parameters have other names
    or shapes raise `CheckpointError` (a `ValueError`) that says what is wrong, before anything is
    changed. The returned dict is `{"step": ..., "config": ..., "extra": ...}`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zip, random bytes, a pickle of forbidden objects...
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): {error}") from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not an llm_course checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    stored, own = checkpoint["model"], model.state_dict()
    missing, unexpected = sorted(own.keys() - stored.keys()), sorted(stored.keys() - own.keys())
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not fit this {type(model).__name__}: parameters missing from the file {missing[:5]}, "
            f"unexpected in the file {unexpected[:5]}"
        )
    for name, tensor in own.items():
        if tuple(stored[name].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{path} does not fit this {type(model).__name__}: parameter {name!r} has shape "
                f"{tuple(stored[name].shape)} in the checkpoint but {tuple(tensor.shape)} in the model"
            )
    if optimizer is not None:
        if checkpoint["optimizer"] is None:
            raise CheckpointError(f"{path} holds no optimiser state, but an optimizer was passed")
        stored_groups = [len(g["params"]) for g in checkpoint["optimizer"]["param_groups"]]
        own_groups = [len(g["params"]) for g in optimizer.param_groups]
        if stored_groups != own_groups:
            raise CheckpointError(
                f"{path} holds an optimiser with parameter groups of sizes {stored_groups}, "
                f"but the optimizer passed has {own_groups}"
            )
    if generator is not None and checkpoint["random_states"]["generator"] is None:
        raise CheckpointError(f"{path} holds no batch-generator state, but a generator was passed")
    model.load_state_dict(stored)
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    _restore_random_states(checkpoint["random_states"], generator)
    return {"step": checkpoint["step"], "config": checkpoint["config"], "extra": checkpoint["extra"]}


def shakespeare_char_model(
    checkpoint: str | os.PathLike = "runs/07_shakespeare_char.pt",
    *,
    recipe: Recipe = SHAKESPEARE_CHAR,
    device: str | torch.device | None = None,
    progress: bool = False,
):
    """Notebook 07's trained GPT and its tokenizer: `(model, tokenizer, info)`, the model in eval mode.

    Loads `checkpoint` when notebook 07 has written it (with `weights_only=True`); otherwise trains
    a fresh GPT with `recipe` (a few minutes on a CPU), saves it there, and returns it. `info` holds
    `val_loss` (the validation loss at the end of training) and `source` (`"checkpoint"` or
    `"trained"`).
    """
    from llm_course.data import load_text, train_val_split
    from llm_course.gpt import GPT
    from llm_course.reproducibility import set_seed
    from llm_course.tokenizers import CharTokenizer

    path = Path(checkpoint)
    if path.is_file():
        record = torch.load(path, map_location="cpu", weights_only=True)
        tokenizer = CharTokenizer.from_text(record["extra"]["characters"])
        from llm_course.gpt import GPTConfig

        model = GPT(GPTConfig(**record["config"]))
        load_checkpoint(path, model=model)
        info = {"val_loss": float(record["extra"]["val_loss"]), "source": "checkpoint"}
    else:
        text = load_text()
        tokenizer = CharTokenizer.from_text(text)
        train_ids, val_ids = train_val_split(torch.tensor(tokenizer.encode(text)), 0.9)
        set_seed(recipe.seed)
        model = GPT(recipe.gpt_config(tokenizer.n_vocab))
        if device is not None:
            model.to(device)
        optimizer = make_optimizer(model, lr=recipe.max_lr, weight_decay=recipe.weight_decay, betas=recipe.betas)
        generator = torch.Generator().manual_seed(recipe.batch_seed)
        history = train(
            model, train_ids, val_ids, steps=recipe.steps, batch_size=recipe.batch_size, max_lr=recipe.max_lr,
            warmup_steps=recipe.warmup_steps, min_lr=recipe.min_lr, weight_decay=recipe.weight_decay,
            optimizer=optimizer, generator=generator, eval_interval=recipe.steps, eval_batches=20,
            device=device, progress=progress,
        )
        info = {"val_loss": history.val_loss[-1], "source": "trained"}
        save_checkpoint(path, model=model, optimizer=optimizer, step=recipe.steps, config=model.config,
                        generator=generator, extra={"characters": "".join(tokenizer.vocabulary.tokens),
                                                    "val_loss": info["val_loss"]})
    if device is not None:
        model.to(device)
    model.eval()
    return model, tokenizer, info

# %% [markdown]
# Save the trained model for notebook 08. The checkpoint holds the configuration and, in `extra`,
# the tokenizer's characters in order: `CharTokenizer.from_text(extra["characters"])` rebuilds the
# same tokenizer.

# %% jupyter={"source_hidden": true}
import os

os.makedirs("runs", exist_ok=True)
characters = "".join(tokenizer.vocabulary.tokens)
save_checkpoint("runs/07_shakespeare_char.pt", model=model, optimizer=optimizer, step=recipe.steps, config=model.config,
                generator=batch_generator, extra={"characters": characters, "val_loss": final_val})
restored, restored_tokenizer, info = shakespeare_char_model("runs/07_shakespeare_char.pt")
assert restored_tokenizer.vocabulary.tokens == tokenizer.vocabulary.tokens and info["source"] == "checkpoint"
assert all(torch.equal(a, b.cpu()) for a, b in zip(restored.state_dict().values(), model.state_dict().values(), strict=True))
print(f"saved runs/07_shakespeare_char.pt ({recipe.steps} updates) and loaded it back: identical parameters")

# %% [markdown]
# Resuming is exact. Below, with dropout on (so the random states matter), 30 updates in one go,
# and 15 updates, save, load into fresh objects, 15 more, give **bitwise** identical parameters;
# a checkpoint of another shape, or a truncated file, is refused with a clear error.

# %% jupyter={"source_hidden": true}
import tempfile
from pathlib import Path

tiny_config = GPTConfig(n_vocab=n_vocab, context_size=16, n_emb=32, n_layer=2, n_head=2, dropout=0.1)
run_options = dict(steps=30, batch_size=8, max_lr=3e-3, warmup_steps=5, eval_interval=10, eval_batches=2, progress=False)


def fresh_run(seed: int):
    """A new model, optimiser and batch generator."""
    set_seed(seed)
    tiny = GPT(tiny_config)
    return tiny, make_optimizer(tiny, lr=3e-3, weight_decay=0.1), torch.Generator().manual_seed(6)


tiny, tiny_optimizer, tiny_generator = fresh_run(1337)
train(tiny, train_ids, val_ids, optimizer=tiny_optimizer, generator=tiny_generator, **run_options)
one_go = tiny.state_dict()

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "ckpt.pt"
    tiny, tiny_optimizer, tiny_generator = fresh_run(1337)
    train(tiny, train_ids, val_ids, optimizer=tiny_optimizer, generator=tiny_generator,
          callback=lambda step, loss: step == 15, **run_options)  # stop after 15 of the 30 updates
    save_checkpoint(path, model=tiny, optimizer=tiny_optimizer, step=15, config=tiny_config, generator=tiny_generator)

    tiny, tiny_optimizer, tiny_generator = fresh_run(2024)  # fresh objects, other random states
    record = load_checkpoint(path, model=tiny, optimizer=tiny_optimizer, generator=tiny_generator)
    train(tiny, train_ids, val_ids, optimizer=tiny_optimizer, generator=tiny_generator, start_step=record["step"],
          **run_options)
    identical = all(torch.equal(tiny.state_dict()[name], tensor) for name, tensor in one_go.items())
    print(f"resumed at step {record['step']}; parameters bitwise identical to the uninterrupted run: {identical}")
    assert identical

    wider = GPT(GPTConfig(n_vocab=n_vocab, context_size=16, n_emb=64, n_layer=2, n_head=2))
    try:
        load_checkpoint(path, model=wider)
    except CheckpointError as error:
        print("another shape:", error.args[0].replace(folder, "<folder>"))
    good = path.read_bytes()
    (Path(folder) / "truncated.pt").write_bytes(good[: len(good) // 2])
    try:
        load_checkpoint(Path(folder) / "truncated.pt", model=tiny)
    except CheckpointError as error:
        print("truncated:", error.args[0].replace(folder, "<folder>").split(":")[0])

# %% jupyter={"source_hidden": true} tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

peak_mb = check_peak_memory()  # prints it, and fails above the course's limit
