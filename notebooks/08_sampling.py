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
# # 08 · Sampling: generating text
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/08_sampling.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/08_sampling.ipynb)
#
# Notebook 07 used the next-token distribution $\boldsymbol\alpha$ to *score* text: the loss is
# $-\log\alpha_{s_{t+1}}$, the surprise at the true next token. This notebook uses the same
# $\boldsymbol\alpha$ the other way round, to *write* text. Generation is a loop:
#
# 1. give the model the sequence $(s_1,\dots,s_t)$, at most its last $T$ tokens, and get $\boldsymbol\alpha$;
# 2. draw the next token $\hat s_{t+1}\sim\text{Categorical}(\boldsymbol\alpha)$, that is, token $i$ with probability $\alpha_i$;
# 3. append $\hat s_{t+1}$ to the sequence and repeat. Once the sequence is longer than $T$, the
#    model only sees a window of its last $T$ tokens, which slides forward one token per step.
#
# Step 2 has knobs: take the most likely token (greedy), or draw at random, after reshaping
# $\boldsymbol\alpha$ with a *temperature*, a *top-k* cut or a *top-p* (nucleus) cut. This
# notebook writes them into `llm_course.sampling`: `sample_next` draws one token from logits and
# `generate` runs the loop on any `LanguageModel`.
#
# As everywhere in the course, token indices are $1..n_{\text{vocab}}$ in the maths and
# $0..n_{\text{vocab}}-1$ in the code.

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
#| default_exp sampling

# %%
#| export
"""Generating text from a language model: temperature, top-k, top-p, and the sampling loop.

`sample_next(logits, temperature, top_k, top_p, generator)` turns next-token logits into one
sampled token index per row, in this order: divide by the temperature (`apply_temperature`),
keep the `top_k` most likely tokens (`top_k_filter`), keep the smallest set of tokens whose
probability reaches `top_p` (`top_p_filter`), then draw from what is left with
`torch.multinomial` and a seeded `torch.Generator`. `temperature=0` means greedy decoding (the
argmax). `generate(model, idx, max_new_tokens, ...)` runs the loop on any `LanguageModel`: it
feeds the last `context_size` tokens, samples, appends, and repeats. `entropy` measures how
spread out a distribution is; `explore` prints the top next tokens after a prompt as a table.

Left out on purpose: a key-value cache (every step re-reads the whole window, which is simple
and fast enough for the course's small models), beam search, repetition penalties, min-p and
typical sampling, stop tokens, and batched prompts of different lengths (pad them yourself).
"""

from __future__ import annotations

# %%
#| export
import math

import torch

from llm_course.models import LanguageModel, softmax

# %%
import os
import time

import matplotlib.pyplot as plt

from llm_course.data import load_text, train_val_split
from llm_course.environment import check_peak_memory
from llm_course.gpt import GPT, GPTConfig
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer
from llm_course.training import cross_entropy, evaluate, load_checkpoint, save_checkpoint, train

set_seed(8)

# %% [markdown]
# ## A model to sample from
#
# We need a trained model. This notebook owns a small character-level GPT (notebook 06), trained
# with `llm_course.training.train` (notebook 07) for a fixed number of steps from a fixed seed,
# and cached in `runs/08_sampling_model.pt`: the first run trains it (well under a minute on a
# laptop), later runs load it. Either way the weights are the same, so every output below is too.
# It is smaller and less trained than notebook 07's model, so its Shakespeare is rougher; load
# `runs/07_shakespeare_char.pt` into a `GPT` of notebook 07's configuration to hear a better one.

# %%
text = load_text()
tokenizer = CharTokenizer.from_text(text)
ids = torch.tensor(tokenizer.encode(text))
train_ids, val_ids = train_val_split(ids)
config = GPTConfig(n_vocab=tokenizer.n_vocab, context_size=32, n_emb=64, n_layer=2, n_head=4, dropout=0.0)
TRAINING = dict(steps=300, batch_size=32, max_lr=1e-2, seed=8)  # a short, fixed run
model_path = "runs/08_sampling_model.pt"
os.makedirs("runs", exist_ok=True)

set_seed(TRAINING["seed"])
model = GPT(config)
cached = False
if os.path.exists(model_path):
    try:
        stored = load_checkpoint(model_path, model=model)
        cached = stored["config"] == {**config.__dict__} and stored["extra"].get("training") == TRAINING
    except ValueError:  # a checkpoint of another model: train afresh
        cached = False
if not cached:
    set_seed(TRAINING["seed"])
    model = GPT(config)
    started = time.perf_counter()
    train(
        model, train_ids, steps=TRAINING["steps"], batch_size=TRAINING["batch_size"], max_lr=TRAINING["max_lr"],
        eval_interval=TRAINING["steps"], generator=torch.Generator().manual_seed(TRAINING["seed"]), progress=False,
    )
    training_seconds = time.perf_counter() - started
    save_checkpoint(model_path, model=model, step=TRAINING["steps"], config=config, extra={"training": TRAINING})
model.eval()
set_seed(8)  # loading restores the random state stored with the checkpoint: start again from a known one
val_loss = evaluate(model, val_ids, batch_size=32, n_batches=20, generator=torch.Generator().manual_seed(0))
print(f"n_vocab = {tokenizer.n_vocab}, context_size T = {model.context_size}, parameters: {model.count_parameters():,}")
print(f"validation loss: {val_loss:.3f} nats per character (uniform guessing: ln {tokenizer.n_vocab} = {math.log(tokenizer.n_vocab):.3f})")
assert val_loss < 2.8, "the model must have learned something"

# %% [markdown]
# ## Greedy decoding, and why it loops
#
# The simplest rule takes the most likely token every time, $\hat s_{t+1}=\arg\max_i\alpha_i$.
# Here is the loop written out by hand: crop to the last $T$ tokens, ask for $\boldsymbol\alpha$,
# take the argmax, append.

# %%
prompt = "ROMEO:\n"
sequence = tokenizer.encode(prompt)
with torch.no_grad():
    for _ in range(300):
        window = torch.tensor(sequence[-model.context_size :])  # the last T tokens, (t,) with t <= T
        alpha = model.next_token_probs(window)  # (V,)
        sequence.append(int(alpha.argmax()))
greedy_text = tokenizer.decode(sequence)
print(greedy_text)

# %% [markdown]
# Greedy text soon repeats itself. The next token depends only on the window, and greedy decoding
# always answers the same window the same way; once a phrase leads back to itself (a frequent
# word, a newline, the same word again) the text is caught in a cycle it can never leave. Below
# we find the period: the smallest shift $p$ for which the end of the text equals itself shifted
# by $p$ characters.


# %%
def smallest_period(text: str, span: int) -> int | None:
    """The smallest p such that the last `span` characters repeat with period p, or None."""
    tail = text[-span:]
    for p in range(1, span // 2 + 1):
        if all(tail[j] == tail[j - p] for j in range(p, span)):
            return p
    return None


period = smallest_period(greedy_text, span=120)
print(f"the last 120 characters of the greedy text repeat every {period} characters: {greedy_text[-period:]!r}")
assert period is not None and period <= 60, "greedy decoding fell into a short cycle"

# %% [markdown]
# Real text does not work like that: a writer who always said the most likely word would be
# boring and repetitive, and the most likely *sequence* is not the sequence of most likely tokens
# anyway. So we sample instead.
#
# ## Sampling, with a seed
#
# Drawing $\hat s_{t+1}\sim\text{Categorical}(\boldsymbol\alpha)$ is one call,
# `torch.multinomial(alpha, 1)`. It uses a random number generator; pass your own
# `torch.Generator`, seeded, and the same seed gives the same draws, so the same text.


# %%
def sample_by_hand(prompt: str, n_tokens: int, seed: int) -> str:
    generator = torch.Generator().manual_seed(seed)
    sequence = tokenizer.encode(prompt)
    with torch.no_grad():
        for _ in range(n_tokens):
            alpha = model.next_token_probs(torch.tensor(sequence[-model.context_size :]))  # (V,)
            sequence.append(int(torch.multinomial(alpha, 1, generator=generator)))
    return tokenizer.decode(sequence)


first, again, other = sample_by_hand(prompt, 150, seed=1), sample_by_hand(prompt, 150, seed=1), sample_by_hand(prompt, 150, seed=2)
print(first, "\n----- seed 2 -----")
print(other)
assert first == again, "the same seed gives the same text"
assert first != other, "another seed gives other text"

# %% [markdown]
# Sampled text does not loop: every step may take a less likely branch. It is also noisier: now
# and then it draws a token the model gave little probability to, and the text derails. The
# three knobs below trade those two failure modes against each other.
#
# ## Temperature
#
# Write $\boldsymbol\alpha=\text{softmax}(\mathbf z)$ with logits $\mathbf z$. Temperature
# $\tau>0$ divides the logits before the softmax:
#
# $$\alpha_i(\tau)=\frac{\exp(z_i/\tau)}{\sum_j\exp(z_j/\tau)}.$$
#
# $\tau=1$ is the model's own $\boldsymbol\alpha$; $\tau<1$ sharpens it (the ratio
# $\alpha_i/\alpha_j=\exp((z_i-z_j)/\tau)$ grows), and as $\tau\to0$ all the mass goes to the
# argmax: greedy decoding is the limit $\tau=0$. $\tau>1$ flattens it, and as $\tau\to\infty$ it
# tends to the uniform distribution. The order of the tokens never changes.

# %%
#| export
def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Logits divided by `temperature > 0`, after subtracting their maximum (softmax ignores the shift).

    Subtracting the maximum first makes the largest logit 0, so a tiny temperature sends the
    others towards -inf and never overflows.

    >>> apply_temperature(torch.tensor([1.0, 2.0, 3.0]), 0.5).tolist()
    [-4.0, -2.0, 0.0]
    >>> apply_temperature(torch.tensor([1.0, 2.0, 3.0]), 2.0).tolist()
    [-1.0, -0.5, 0.0]
    """
    return (logits - logits.amax(dim=-1, keepdim=True)) / temperature  # (..., V)


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of each distribution along the last dimension, -sum_i p_i ln p_i (0 ln 0 = 0).

    It is 0 for a certain outcome and ln(n) for n equally likely ones.

    >>> round(entropy(torch.tensor([0.5, 0.5])).item(), 4)  # ln 2
    0.6931
    >>> [round(h, 4) for h in entropy(torch.tensor([[1.0, 0.0], [0.25, 0.75]])).tolist()]
    [0.0, 0.5623]
    """
    logs = torch.where(probs > 0, probs.log(), torch.zeros_like(probs))  # 0 ln 0 = 0
    return -(probs * logs).sum(dim=-1) + 0.0  # + 0.0 turns -0.0 into 0.0

# %% [markdown]
# Here is $\boldsymbol\alpha$ after the prompt `"ROMEO:\nWhat shall I d"`, at three temperatures
# (the 15 most likely characters; newline shows as `\n` and space as `␣`).

# %%
temperature_prompt = "ROMEO:\nWhat shall I d"
with torch.no_grad():
    logits = model(torch.tensor(tokenizer.encode(temperature_prompt)))[0, -1]  # (V,)
order = logits.argsort(descending=True)[:15].tolist()
labels = [repr(tokenizer.decode([i]))[1:-1].replace(" ", "␣") for i in order]
temperatures = [0.5, 1.0, 2.0]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), sharey=True)
for ax, tau in zip(axes, temperatures, strict=True):
    alpha_tau = softmax(apply_temperature(logits, tau))
    ax.bar(range(len(order)), alpha_tau[order].tolist())
    ax.set_xticks(range(len(order)), labels)
    ax.set_xlabel("next character")
    ax.set_title(f"τ = {tau}: entropy {entropy(alpha_tau).item():.2f} nats")
axes[0].set_ylabel("probability α_i(τ)")
fig.suptitle("Low temperature sharpens α, high temperature flattens it; the order never changes")
plt.tight_layout()
plt.show()
for tau in temperatures:
    alpha_tau = softmax(apply_temperature(logits, tau))
    print(f"τ = {tau}: top 5 {[(labels[k], round(alpha_tau[i].item(), 3)) for k, i in enumerate(order[:5])]}")

# %% [markdown]
# The entropy $H(\boldsymbol\alpha)=-\sum_i\alpha_i\ln\alpha_i$ measures the spread: 0 when one
# token is certain, $\ln n_{\text{vocab}}$ for the uniform distribution. It grows with $\tau$
# from 0 (greedy) to $\ln n_{\text{vocab}}$.

# %%
taus = torch.logspace(-2, 2, 41).tolist()
entropies = [entropy(softmax(apply_temperature(logits, tau))).item() for tau in taus]
plt.figure(figsize=(6, 3.5))
plt.semilogx(taus, entropies, marker=".")
plt.axhline(math.log(tokenizer.n_vocab), color="gray", linestyle="--", label=f"ln n_vocab = {math.log(tokenizer.n_vocab):.2f} (uniform)")
plt.axvline(1.0, color="gray", linestyle=":", label="τ = 1: the model's own α")
plt.xlabel("temperature τ")
plt.ylabel("entropy of α(τ) in nats")
plt.title("Entropy rises with temperature, from 0 (greedy) to ln n_vocab")
plt.legend()
plt.show()
print(f"entropy at τ = 0.01: {entropies[0]:.4f}, at τ = 1: {entropy(softmax(logits)).item():.4f}, at τ = 100: {entropies[-1]:.4f}")
assert all(a <= b + 1e-6 for a, b in zip(entropies[:-1], entropies[1:], strict=True)), "entropy never falls as τ rises"
assert entropies[0] < 0.01 and abs(entropies[-1] - math.log(tokenizer.n_vocab)) < 0.05

# %% [markdown]
# ## Top-k
#
# Temperature reshapes the whole distribution, including its long tail of unlikely tokens; drawn
# often enough, one of them comes out and the text derails. *Top-k* removes the tail: keep the
# $k$ largest logits, set the others to $-\infty$ (probability 0 after the softmax), and
# renormalise. $k=1$ is greedy; $k=n_{\text{vocab}}$ changes nothing.

# %%
#| export
def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the `k` largest logits of each row and set the others to -inf (probability 0).

    A logit tied with the k-th largest is kept too, so with ties a few more than k survive;
    `k >= n_vocab` keeps everything.

    >>> top_k_filter(torch.tensor([1.0, 3.0, 2.0, 0.0]), 2).tolist()
    [-inf, 3.0, 2.0, -inf]
    """
    k = min(k, logits.shape[-1])
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]  # (..., 1)
    return logits.masked_fill(logits < kth_largest, float("-inf"))  # (..., V)

# %%
probs = torch.tensor([0.4, 0.3, 0.2, 0.1])
kept = softmax(top_k_filter(probs.log(), 2))
print("alpha:", [round(p, 4) for p in probs.tolist()], "-> after top-k with k = 2:", [round(p, 4) for p in kept.tolist()])
assert torch.allclose(kept, torch.tensor([0.4, 0.3, 0, 0]) / 0.7)

# %% [markdown]
# ## Top-p (nucleus)
#
# A fixed $k$ fits some contexts badly. After `"Th"` at the start of a line, a handful of letters
# (`e`, `a`, `o`, ...) carry almost all the mass and $k=10$ keeps several bad choices; after a
# space, dozens of words can start, and $k=10$ cuts good ones.
# *Top-p* (Holtzman et al., 2019, "nucleus sampling") adapts: sort the tokens by probability and
# keep the smallest set whose total probability reaches $p$,
#
# $$N_p=\{i_1,\dots,i_m\},\quad \alpha_{i_1}\ge\alpha_{i_2}\ge\dots,\quad m=\min\Big\{m:\sum_{j=1}^{m}\alpha_{i_j}\ge p\Big\},$$
#
# then renormalise over $N_p$. A token is kept when the mass of the tokens strictly more likely
# than it is still below $p$, so the most likely token is always kept.

# %%
#| export
def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches `p`; set the rest to -inf.

    In each row the tokens are sorted by probability; a token is kept when the probability of
    the tokens before it is still below `p`, so the most likely one is always kept. `p = 1`
    keeps everything. With tied probabilities at the boundary, the sort decides which is kept.

    >>> top_p_filter(torch.tensor([0.5, 0.3, 0.2]).log(), 0.7).isfinite().tolist()  # 0.5 < 0.7 <= 0.5 + 0.3
    [True, True, False]
    >>> top_p_filter(torch.tensor([0.5, 0.3, 0.2]).log(), 0.5).isfinite().tolist()  # 0.5 alone reaches 0.5
    [True, False, False]
    """
    if p >= 1:
        return logits
    sorted_logits, sorted_indices = torch.sort(logits, dim=-1, descending=True)  # (..., V)
    sorted_probs = softmax(sorted_logits, dim=-1)  # (..., V)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # (..., V) mass of the more likely tokens
    remove_sorted = mass_before >= p  # (..., V) the first token has mass_before 0 < p: always kept
    remove = remove_sorted.scatter(-1, sorted_indices, remove_sorted)  # back to vocabulary order
    return logits.masked_fill(remove, float("-inf"))

# %%
def nucleus_size(prompt: str, p: float) -> int:
    with torch.no_grad():
        logits = model(torch.tensor(tokenizer.encode(prompt)[-model.context_size :]))[0, -1]  # (V,)
    return int(torch.isfinite(top_p_filter(logits, p)).sum())


sure, unsure = "KING HENRY VI:\nTh", "I pray you, sir, "
for context in (sure, unsure):
    print(f"after {context!r}: the nucleus for p = 0.9 holds {nucleus_size(context, 0.9)} characters")
assert nucleus_size(sure, 0.9) < 10 < nucleus_size(unsure, 0.9), "the nucleus adapts to how sure the model is"

# %% [markdown]
# ## Putting them together, and in which order
#
# `sample_next` applies the steps in this order: **temperature, then top-k, then top-p, then
# sample** (the order of Hugging Face's `generate` as well).
#
# - Temperature comes first because it changes the *probabilities*, and top-p is defined by
#   probabilities: the nucleus must be computed from the distribution we actually draw from. The
#   same $p$ keeps more tokens at a high temperature (a flatter $\boldsymbol\alpha$) than at a
#   low one. Temperature never changes the *order*, so top-k keeps the same tokens before or
#   after it.
# - Top-p comes after top-k, on the renormalised survivors, so that $p$ is a fraction of the
#   distribution we finally sample from. Then every token that can come out is among the $k$
#   most likely, *and* the kept set is exactly the nucleus of the distribution we draw from. The
#   two cuts do not commute, as the example shows: with $\boldsymbol\alpha=(0.4,0.3,0.2,0.1)$,
#   $k=2$ and $p=0.5$, top-k first leaves $(0.57,0.43)$, whose nucleus is the first token alone;
#   top-p first keeps two tokens ($0.4<0.5$), and top-k then keeps both.
# - $\tau=0$ skips all this and takes the argmax, which every cut keeps anyway.

# %%
alpha = torch.tensor([0.4, 0.3, 0.2, 0.1])
k_then_p = softmax(top_p_filter(top_k_filter(alpha.log(), 2), 0.5))
p_then_k = softmax(top_k_filter(top_p_filter(alpha.log(), 0.5), 2))
print("top-k then top-p:", [round(x, 4) for x in k_then_p.tolist()])
print("top-p then top-k:", [round(x, 4) for x in p_then_k.tolist()])
assert k_then_p.tolist() == [1.0, 0.0, 0.0, 0.0] and torch.allclose(p_then_k, torch.tensor([4 / 7, 3 / 7, 0, 0]))

# %% [markdown]
# `sample_next` checks its arguments first, so that a mistake gets an error that names the bad
# value rather than a failure deep inside PyTorch, then applies the steps.

# %%
#| export
def _check_logits(logits) -> torch.Tensor:
    """Validate `logits` of shape (V,) or (B, V): a non-empty floating-point tensor, no NaN or +inf."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.dtype.is_floating_point:
        raise TypeError(f"logits must be a floating-point tensor, got dtype {logits.dtype}")
    if logits.ndim not in (1, 2) or logits.numel() == 0:
        raise ValueError(f"logits must have shape (V,) or (B, V) with V >= 1 and B >= 1, got shape {tuple(logits.shape)}")
    if torch.isnan(logits).any():
        where = torch.nonzero(torch.isnan(logits))[0].tolist()
        raise ValueError(f"logits contain NaN (first at position {where}); check the model's output")
    if torch.isposinf(logits).any():
        where = torch.nonzero(torch.isposinf(logits))[0].tolist()
        raise ValueError(f"logits contain +inf (first at position {where}); logits must be finite or -inf")
    all_masked = torch.isneginf(logits).all(dim=-1)  # (B,) or ()
    if all_masked.any():
        raise ValueError("every logit of a row is -inf: there is no token left to sample")
    return logits


def _check_sampling_options(temperature, top_k, top_p) -> None:
    """Raise an error naming the value when temperature, top_k or top_p is out of range."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(f"temperature must be a number >= 0, got {temperature!r}")
    if not (temperature >= 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be a finite number >= 0 (0 means greedy), got {temperature!r}")
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, int):
            raise TypeError(f"top_k must be a positive int or None, got {top_k!r}")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1 (or None for no cut), got {top_k!r}")
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, (int, float)):
            raise TypeError(f"top_p must be a number in (0, 1] or None, got {top_p!r}")
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must lie in (0, 1] (or None for no cut), got {top_p!r}")


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw the next token index from next-token `logits` of shape `(V,)` or `(B, V)`.

    Steps, in order: `apply_temperature`, `top_k_filter` (if `top_k`), `top_p_filter` (if
    `top_p`), then one draw per row from the softmax with `torch.multinomial(generator=...)`.
    `temperature=0` is greedy decoding: the argmax (the first one on ties), with no randomness.
    Computed in float64, so that tiny temperatures neither overflow nor underflow to NaN.

    Returns a `torch.long` tensor of indices: 0-d for logits `(V,)` (use `int(...)`), `(B,)` for
    logits `(B, V)`. Raises `TypeError`/`ValueError` naming the value for logits that are not a
    non-empty 1-D or 2-D float tensor or contain NaN, a negative temperature, a `top_k` that is
    not an int >= 1, or a `top_p` outside (0, 1].

    >>> int(sample_next(torch.tensor([0.0, 5.0, 1.0]), temperature=0))
    1
    >>> sample_next(torch.tensor([[0.0, 5.0], [9.0, 0.0]]), top_k=1).tolist()
    [1, 0]
    """
    logits = _check_logits(logits)
    _check_sampling_options(temperature, top_k, top_p)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    rows = logits.double() if logits.ndim == 2 else logits.double().unsqueeze(0)  # (B, V)
    if temperature == 0:
        next_idx = rows.argmax(dim=-1)  # (B,) greedy: every cut would keep the argmax anyway
    else:
        rows = apply_temperature(rows, temperature)  # (B, V)
        if top_k is not None:
            rows = top_k_filter(rows, top_k)
        if top_p is not None:
            rows = top_p_filter(rows, top_p)
        probs = softmax(rows, dim=-1)  # (B, V)
        next_idx = torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)  # (B,)
    next_idx = next_idx.to(device=logits.device)
    return next_idx if logits.ndim == 2 else next_idx[0]

# %% [markdown]
# Two checks against what the maths says. Sampled many times, the frequency of each token must
# approach $\alpha_i$; with a tiny temperature the draw must be the argmax.

# %%
sampler = torch.Generator().manual_seed(0)
n_draws = 20_000
toy_logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
draws = sample_next(toy_logits.expand(n_draws, -1), generator=sampler)  # (n_draws,): one per row
frequencies = torch.bincount(draws, minlength=5) / n_draws
print("alpha:      ", [round(x, 3) for x in softmax(toy_logits).tolist()])
print("frequencies:", [round(x, 3) for x in frequencies.tolist()])
assert (frequencies - softmax(toy_logits)).abs().max() < 0.02
assert int(sample_next(toy_logits, temperature=1e-6, generator=sampler)) == int(toy_logits.argmax())
assert set(sample_next(toy_logits.expand(1000, -1), top_k=2, generator=sampler).tolist()) <= {0, 1}

# %% [markdown]
# ## `generate`: the loop for any model
#
# `generate` packages the loop: crop to the last `context_size` tokens (never more: a model
# refuses longer inputs), take the logits at the last position, `sample_next`, append. It runs
# under `torch.no_grad()` (no gradients are needed to write text), switches the model to
# evaluation mode (no dropout) and puts it back afterwards. It works for every `LanguageModel`
# of notebooks 05 and 06, because it only uses the contract: `forward(idx)` and `context_size`.

# %%
#| export
def generate(
    model: LanguageModel,
    idx,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Extend the prompt `idx` by `max_new_tokens` tokens sampled from `model`; return prompt + new tokens.

    `idx` is a list or tensor of token indices, `(t,)` or `(B, t)` with `t >= 1`; the result has
    the same number of dimensions, `t + max_new_tokens` tokens long, dtype `torch.long`. Before
    each step the sequence is cropped to its last `model.context_size` tokens (the model never
    sees more), then `sample_next(logits, temperature, top_k, top_p, generator)` picks the next
    token. Runs under `torch.no_grad()` in evaluation mode, restoring the model's mode.
    """
    if not isinstance(model, LanguageModel):
        raise TypeError(f"model must be a LanguageModel, got {type(model).__name__}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    _check_sampling_options(temperature, top_k, top_p)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    idx = torch.as_tensor(idx)
    if idx.ndim not in (1, 2) or idx.numel() == 0:
        raise ValueError(f"idx must have shape (t,) or (B, t) with t >= 1, got shape {tuple(idx.shape)}")
    if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
        raise TypeError(f"idx must hold integer token indices, got dtype {idx.dtype}")
    low, high = idx.min().item(), idx.max().item()
    if low < 0 or high >= model.n_vocab:
        bad = low if low < 0 else high
        raise ValueError(f"token index {bad} is out of range for n_vocab={model.n_vocab} (0..{model.n_vocab - 1})")
    parameter = next(model.parameters(), None)
    sequence = idx.long().to(parameter.device if parameter is not None else idx.device)
    sequence = sequence.unsqueeze(0) if idx.ndim == 1 else sequence  # (B, t)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for _ in range(max_new_tokens):
                window = sequence[:, -model.context_size :]  # (B, t') with t' <= T
                logits = model(window)[:, -1, :]  # (B, V): the scores of the next token
                next_idx = sample_next(logits, temperature, top_k, top_p, generator=generator)  # (B,)
                sequence = torch.cat([sequence, next_idx.unsqueeze(1)], dim=1)  # (B, t + 1)
    finally:
        model.train(was_training)
    return sequence[0] if idx.ndim == 1 else sequence

# %% [markdown]
# `generate` at $\tau=1$ with the same seed reproduces the text we sampled by hand (same model,
# same draws in the same order), and `temperature=0` reproduces the greedy text.

# %%
prompt_ids = tokenizer.encode(prompt)
by_generate = tokenizer.decode(generate(model, prompt_ids, 150, generator=torch.Generator().manual_seed(1)).tolist())
greedy_by_generate = tokenizer.decode(generate(model, prompt_ids, 300, temperature=0).tolist())
assert by_generate == first and greedy_by_generate == greedy_text
print("generate matches the loops written by hand")

# %% [markdown]
# ## Shakespeare at a few settings
#
# The same prompt and seed at five settings. At $\tau=0.5$ the text is safer and more repetitive;
# at $\tau=1.5$ it falls apart into rare characters; the cuts keep a high temperature's variety
# while removing its worst draws.

# %%
settings = [
    dict(temperature=0.5),
    dict(temperature=1.0),
    dict(temperature=1.5),
    dict(temperature=1.0, top_k=5),
    dict(temperature=1.2, top_p=0.8),
]
samples = {}
for setting in settings:
    out = generate(model, prompt_ids, 200, **setting, generator=torch.Generator().manual_seed(42))
    samples[str(setting)] = tokenizer.decode(out.tolist())
    print(f"===== {setting} =====")
    print(samples[str(setting)])
assert all(s.startswith(prompt) and len(s) == len(prompt) + 200 for s in samples.values())

# %% [markdown]
# ## Closing the loop with notebook 07: a sample is a guess, the loss is a score
#
# Take a stretch of validation text. At each position the model gives $\boldsymbol\alpha$. A
# *sample* is what the model guesses comes next; the *loss* $-\log\alpha_{s_{t+1}}$ is the
# probability it assigned to what truly came next. The loss never looks at a sample: it reads one
# entry of $\boldsymbol\alpha$, so it is the same whatever we would have drawn, and it can be
# differentiated, while a draw cannot. Still the two are linked: a draw hits the true token with
# probability $\alpha_{s_{t+1}}$, so the fraction of hits estimates the mean of
# $\alpha_{s_{t+1}}=e^{-\text{loss}}$, position by position.

# %%
snippet = val_ids[:model.context_size + 1]
x, y = snippet[:-1].unsqueeze(0), snippet[1:].unsqueeze(0)  # (1, T): inputs and true next tokens
with torch.no_grad():
    logits = model(x)  # (1, T, V)
alpha_true = softmax(logits[0], dim=-1).gather(-1, y[0].unsqueeze(-1)).squeeze(-1)  # (T,) alpha_{s_{t+1}}
loss = cross_entropy(logits, y).item()
print(f"loss on this stretch: {loss:.4f} = mean of -log alpha_true = {(-alpha_true.log()).mean().item():.4f}")
assert abs(loss - (-alpha_true.log()).mean().item()) < 1e-5

guesses = sample_next(logits[0].expand(500, -1, -1).reshape(-1, tokenizer.n_vocab), generator=torch.Generator().manual_seed(0))
hits = (guesses.reshape(500, -1) == y[0]).float().mean().item()  # 500 guesses at each of the T positions
print(f"a guess equals the true next character {hits:.3f} of the time; the mean of alpha_true is {alpha_true.mean().item():.3f}")
assert abs(hits - alpha_true.mean().item()) < 0.02
print("truth:   ", repr(tokenizer.decode(y[0].tolist())))
print("a guess: ", repr(tokenizer.decode(guesses[: model.context_size].tolist())))

# %% [markdown]
# ## An explorer
#
# `explore` prints the most likely next tokens after a prompt, with their probability under the
# model ($\alpha_i$) and after temperature, top-k and top-p (what `sample_next` draws from), and
# a few continuations sampled with those settings. It works anywhere, even without a browser.

# %%
#| export
def explore(
    model: LanguageModel,
    tokenizer,
    prompt: str,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    n_top: int = 10,
    n_samples: int = 3,
    n_tokens: int = 40,
    seed: int = 0,
) -> list[tuple[str, float, float]]:
    """Print a table of the `n_top` most likely next tokens after `prompt`, and sampled continuations.

    Each row is `(token, alpha, sampled_prob)`: the model's probability, and the probability
    after `temperature`, `top_k` and `top_p` (0 where a cut removed the token; `temperature=0`
    puts all of it on the argmax). `tokenizer` is any object with `encode(str) -> list[int]` and
    `decode(list[int]) -> str`. Returns the rows.
    """
    _check_sampling_options(temperature, top_k, top_p)
    idx = tokenizer.encode(prompt)
    with torch.no_grad():
        logits = model(torch.tensor(idx[-model.context_size :]))[0, -1].double()  # (V,)
    alpha = softmax(logits)
    if temperature == 0:
        final = torch.zeros_like(alpha).scatter(0, alpha.argmax().unsqueeze(0), 1.0)
    else:
        shaped = apply_temperature(logits, temperature)
        shaped = top_k_filter(shaped, top_k) if top_k is not None else shaped
        shaped = top_p_filter(shaped, top_p) if top_p is not None else shaped
        final = softmax(shaped)
    rows = []
    print(f"after {prompt[-30:]!r}  (temperature={temperature}, top_k={top_k}, top_p={top_p})")
    print(f"{'rank':>4}  {'token':<8} {'alpha':>7} {'sampled':>8}")
    for rank, i in enumerate(alpha.argsort(descending=True)[:n_top].tolist(), start=1):
        token = tokenizer.decode([i])
        rows.append((token, alpha[i].item(), final[i].item()))
        print(f"{rank:>4}  {repr(token):<8} {alpha[i].item():>7.3f} {final[i].item():>8.3f}")
    print(f"entropy of alpha: {entropy(alpha).item():.3f} nats; tokens that can be drawn: {int((final > 0).sum())}")
    generator = torch.Generator().manual_seed(seed)
    for _ in range(n_samples):
        out = generate(model, idx, n_tokens, temperature, top_k, top_p, generator=generator)
        print("  sample:", repr(tokenizer.decode(out[len(idx) :].tolist())))
    return rows

# %%
rows = explore(model, tokenizer, "KING HENRY:\nWhat", temperature=0.8, top_k=10, top_p=0.9)
alphas = [alpha for _, alpha, _ in rows]
assert alphas == sorted(alphas, reverse=True), "the table is sorted by alpha"
assert abs(sum(final for _, _, final in rows) - 1.0) < 1e-9, "with top_k = n_top = 10, every token that can be drawn is in the table"

# %% [markdown]
# In JupyterLab (or Colab) the cell below builds sliders around `explore`: type a prompt, move
# temperature, top-k (0 means no cut) and top-p, and see $\boldsymbol\alpha$ before and after as
# bars. Where `ipywidgets` or a front-end is missing it says so, and `explore` above still works.
# (Its output is a widget, which differs from run to run, so the tests ignore it.)


# %%
def explorer_widget(model, tokenizer, prompt: str = "ROMEO:\n", n_top: int = 15):
    """Sliders around `explore`, with bar charts; None (and a message) where widgets cannot be shown."""
    try:
        import ipywidgets as widgets
        from IPython import get_ipython
    except ImportError:
        print("ipywidgets is not installed: use explore(model, tokenizer, prompt, ...) instead")
        return None
    if get_ipython() is None or not hasattr(get_ipython(), "kernel"):
        print("no notebook front-end: use explore(model, tokenizer, prompt, ...) instead")
        return None

    def show(prompt, temperature, top_k, top_p, seed):
        try:
            rows = explore(model, tokenizer, prompt, temperature, top_k or None, top_p, n_top=n_top, seed=seed)
        except (KeyError, ValueError) as error:  # a character the vocabulary lacks, an empty prompt
            print(error)
            return
        labels = [repr(token)[1:-1].replace(" ", "␣") for token, _, _ in rows]
        positions = torch.arange(len(rows)).tolist()
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.bar([p - 0.2 for p in positions], [a for _, a, _ in rows], width=0.4, label="α (the model)")
        ax.bar([p + 0.2 for p in positions], [f for _, _, f in rows], width=0.4, label="after τ, top-k, top-p")
        ax.set_xticks(positions, labels)
        ax.set_xlabel("next token")
        ax.set_ylabel("probability")
        ax.set_title("What the sampler draws from, against the model's α")
        ax.legend()
        plt.show()

    return widgets.interactive(
        show,
        prompt=widgets.Text(value=prompt, description="prompt"),
        temperature=widgets.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.05, description="temperature"),
        top_k=widgets.IntSlider(value=0, min=0, max=model.n_vocab, description="top-k (0: off)"),
        top_p=widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="top-p"),
        seed=widgets.IntText(value=0, description="seed"),
    )


# %% tags=["nbval-ignore-output"]
explorer_widget(model, tokenizer)

# %% [markdown]
# ## Summary
#
# - Generation repeats: crop to the last $T$ tokens, compute $\boldsymbol\alpha$, draw
#   $\hat s_{t+1}\sim\text{Categorical}(\boldsymbol\alpha)$, append. `generate` does it for any
#   `LanguageModel`; `sample_next` does one draw.
# - Greedy decoding (the argmax, $\tau=0$) is deterministic and falls into loops. Sampling with a
#   seeded `torch.Generator` is random but repeatable: same seed, same text.
# - Temperature $\tau$ divides the logits: below 1 it sharpens $\boldsymbol\alpha$ (entropy
#   towards 0), above 1 it flattens it (entropy towards $\ln n_{\text{vocab}}$).
# - Top-k keeps the $k$ most likely tokens; top-p keeps the smallest set whose mass reaches $p$,
#   and adapts to how sure the model is. We apply temperature, then top-k, then top-p, then draw.
# - A sample is the model's guess; the loss of notebook 07 is the probability it gave the truth.
#   Sampling is not differentiable and plays no part in training.
#
# ## Exercises
#
# 1. Find a prompt after which greedy decoding does *not* loop within 300 characters. Is it rare?
# 2. Plot the entropy of $\boldsymbol\alpha$ at every position of a validation stretch. Where is
#    the model sure (entropy near 0), and where is it unsure?
# 3. Show that top-k followed by top-p never keeps more tokens than top-p alone. When do they
#    keep the same set?
# 4. *Min-p* sampling keeps the tokens with $\alpha_i\ge p_{\min}\cdot\max_j\alpha_j$. Write
#    `min_p_filter(logits, p_min)` with a worked example, and compare its kept sets with top-p's.
# 5. Draw 1,000 continuations of 1 token at $\tau=0.7$, and estimate the distribution they come
#    from. Compare it with $\boldsymbol\alpha(0.7)$ computed directly.
# 6. Load notebook 07's model (`runs/07_shakespeare_char.pt`, with its configuration) and
#    generate with the same settings. Which looks better, and why?

# %% [markdown]
# Every notebook ends by reporting the peak memory of its kernel (Binder allows 2 GB).

# %% tags=["nbval-ignore-output"]
check_peak_memory()
