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
# $-\log\alpha_{s_{\ell+1}}$, the surprise at the true next token. This notebook uses the same
# $\boldsymbol\alpha$ the other way round, to *write* text. Generation is a loop:
#
# 1. give the model the sequence $(s_1,\dots,s_\ell)$, at most its last $T$ tokens, and get $\boldsymbol\alpha$;
# 2. draw the next token $\hat s_{\ell+1}\sim\text{Categorical}(\boldsymbol\alpha)$, that is, token $i$ with probability $\alpha_i$;
# 3. append $\hat s_{\ell+1}$ to the sequence and repeat. Once the sequence is longer than $T$, the
#    model only sees a window of its last $T$ tokens, which slides forward one token per step.
#
# Step 2 has knobs: take the most likely token (greedy), or draw at random, after reshaping
# $\boldsymbol\alpha$ with a *temperature*, a *top-k* cut or a *top-p* (nucleus) cut. Each knob
# trades the *quality* of the text (how likely the model finds it) against its *diversity* (how
# rarely it repeats itself), and we measure that trade-off. This notebook writes the knobs into
# `llm_course.sampling`: `sample_next` draws one token from logits and `generate` runs the loop
# on any `LanguageModel`.
#
# As everywhere in the course, token indices are $1..n_{\text{vocab}}$ in the maths and
# $0..n_{\text{vocab}}-1$ in the code, and the length $\ell$ of the maths is `t` in the code's
# shapes, such as `(B, t)`.

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

# %% jupyter={"source_hidden": true}
#| export
"""Generating text from a language model: temperature, top-k, top-p, and the sampling loop.

`sample_next(logits, temperature, top_k, top_p, generator)` turns next-token logits into one
sampled token index per row. `sampling_probs` is the distribution it draws from, built in this
order: divide by the temperature (`apply_temperature`), keep the `top_k` most likely tokens
(`top_k_filter`), keep the smallest set of tokens whose probability reaches `top_p`
(`top_p_filter`), softmax. `temperature=0` means greedy decoding (the argmax). The draw is
`torch.multinomial` with a seeded `torch.Generator`, on the generator's device, so a CPU
generator works with logits on any device. Everything is computed in float32 or wider, never
float64 unless the logits are (Apple's MPS has no float64).
`generate(model, idx, max_new_tokens, ...)` runs the loop on any `LanguageModel`: it moves the
prompt to the model's device, feeds the last `context_size` tokens, samples, appends, and
repeats, in evaluation mode (`evaluation_mode` restores the model's mode afterwards). `entropy`
measures how spread out a distribution is; `explore` prints the top next tokens after a prompt.

Left out on purpose: a key-value cache (every step re-reads the whole window, which is simple
and fast enough for the course's small models), beam search, repetition penalties, min-p and
typical sampling, stop tokens, and batched prompts of different lengths (pad them yourself).
"""

from __future__ import annotations

# %%
#| export
import contextlib
import math

import torch

from llm_course.models import LanguageModel, softmax

# %%
import matplotlib.pyplot as plt

from llm_course.data import load_text, train_val_split
from llm_course.environment import best_device, check_peak_memory
from llm_course.exercises import check
from llm_course.reproducibility import set_seed
from llm_course.training import cross_entropy, shakespeare_char_model

set_seed(8)

# %% [markdown]
# ## A model that has learned something
#
# Sampling from an untrained model gives noise whatever the knobs, so we sample from notebook
# 07's character-level GPT. `shakespeare_char_model` loads the checkpoint notebook 07 wrote in
# `runs/07_shakespeare_char.pt`; if you have not run notebook 07, it trains the same recipe
# first (a few minutes on a laptop CPU, much less on a GPU) and saves it there. The training,
# if any, runs on the best device here; the sampling below runs on the CPU, where our
# hand-written loops build their tensors (`generate` itself works on any device). Writing text
# needs no gradients, so we switch them off for the rest of the notebook.

# %%
model, tokenizer, info = shakespeare_char_model("runs/07_shakespeare_char.pt", device=best_device())
model = model.cpu()
torch.set_grad_enabled(False)  # from here on we only sample: no gradients needed
assert info["val_loss"] <= 1.80, "notebook 07's recipe reaches a validation loss of 1.80 or less"
print(f"validation loss <= 1.80 nats per character (uniform guessing: ln {tokenizer.n_vocab} = {math.log(tokenizer.n_vocab):.3f})")

# %% [markdown]
# ## Greedy decoding, and why it loops
#
# The simplest rule takes the most likely token every time, $\hat s_{\ell+1}=\arg\max_i\alpha_i$.
# Here is the loop written out by hand, with the rule that picks a token as an argument: crop
# to the last $T$ tokens, ask for $\boldsymbol\alpha$, pick, append.


# %%
def continue_text(prompt: str, n_tokens: int, pick) -> str:
    sequence = tokenizer.encode(prompt)
    for _ in range(n_tokens):
        window = torch.tensor(sequence[-model.context_size :])  # the last T tokens, (t,) with t <= T
        alpha = model.next_token_probs(window)  # (V,)
        sequence.append(int(pick(alpha)))
    return tokenizer.decode(sequence)


# %% tags=["nbval-ignore-output"]
prompt = "ROMEO:\n"
greedy_text = continue_text(prompt, 250, pick=torch.argmax)
print(greedy_text)
assert greedy_text.startswith(prompt) and len(greedy_text) == len(prompt) + 250

# %% [markdown]
# Greedy text soon repeats itself. The next token depends only on the window, and greedy decoding
# always answers the same window the same way; once a phrase leads back to itself, the text is
# caught in a cycle it can never leave. To put a number on repetition we use **distinct-4**: cut
# the text into its overlapping 4-character pieces (4-grams) and count which fraction of them are
# different. Text that never repeats a 4-gram scores 1; a text stuck in a cycle of $c$
# characters has at most $c$ different 4-grams however long it runs.


# %%
def distinct_4(texts: list[str]) -> float:
    grams = [text[i : i + 4] for text in texts for i in range(len(text) - 3)]
    return len(set(grams)) / len(grams)


# %% [markdown]
# ## Sampling, with a seed
#
# Drawing $\hat s_{\ell+1}\sim\text{Categorical}(\boldsymbol\alpha)$ is one call,
# `torch.multinomial(alpha, 1)`. It uses a random number generator; pass your own
# `torch.Generator`, seeded, and the same seed gives the same draws, so the same text.

# %% tags=["nbval-ignore-output"]
def sample_by_hand(seed: int) -> str:
    generator = torch.Generator().manual_seed(seed)
    return continue_text(prompt, 250, pick=lambda alpha: torch.multinomial(alpha, 1, generator=generator))


first, again, other = sample_by_hand(1), sample_by_hand(1), sample_by_hand(2)
print(first)
print(f"\ndistinct-4: greedy {distinct_4([greedy_text]):.2f}, sampled {distinct_4([first]):.2f}")
assert first == again and first != other, "the same seed gives the same text, another seed other text"
assert distinct_4([greedy_text]) < distinct_4([first]), "sampled text repeats itself less than greedy text"

# %% [markdown]
# Sampled text loops less often: a cycle lasts only until a draw leaves it, and every step may
# take a less likely branch. It is also noisier: now and then it draws a character the model gave
# little probability to, and a word derails. The three knobs below trade these two failure modes
# against each other.
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
#
# The entropy $H(\boldsymbol\alpha)=-\sum_i\alpha_i\ln\alpha_i$ measures the spread: 0 when one
# token is certain, $\ln n_{\text{vocab}}$ for the uniform distribution.

# %%
#| export
def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Logits divided by `temperature > 0`, after subtracting their maximum (softmax ignores the shift).

    Subtracting the maximum first makes the largest logit 0, so a tiny temperature sends the
    others towards -inf and never overflows. A temperature below the smallest positive normal
    number of the dtype (1.2e-38 in float32) counts as that number, which is already greedy.

    >>> apply_temperature(torch.tensor([1.0, 2.0, 3.0]), 0.5).tolist()
    [-4.0, -2.0, 0.0]
    >>> apply_temperature(torch.tensor([1.0, 2.0, 3.0]), 2.0).tolist()
    [-1.0, -0.5, 0.0]
    """
    temperature = max(temperature, torch.finfo(logits.dtype).tiny)  # 1e-300 would round to 0 in float32
    return (logits - logits.amax(dim=-1, keepdim=True)) / temperature  # (..., V)


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of each distribution along the last dimension, -sum_i p_i ln p_i (0 ln 0 = 0).

    >>> round(entropy(torch.tensor([0.5, 0.5])).item(), 4)  # ln 2
    0.6931
    >>> [round(h, 4) for h in entropy(torch.tensor([[1.0, 0.0], [0.25, 0.75]])).tolist()]
    [0.0, 0.5623]
    """
    logs = torch.where(probs > 0, probs.log(), torch.zeros_like(probs))  # 0 ln 0 = 0
    return -(probs * logs).sum(dim=-1) + 0.0  # + 0.0 turns -0.0 into 0.0

# %% [markdown]
# Here is $\boldsymbol\alpha$ after the prompt `"ROMEO:\nWhat shall I d"` at three temperatures
# (the 12 most likely characters; newline shows as `\n` and space as `␣`), and on the right the
# entropy of $\boldsymbol\alpha(\tau)$ for $\tau$ from 0.01 to 100.

# %%
def label(index: int) -> str:
    return repr(tokenizer.decode([index]))[1:-1].replace(" ", "␣")  # newline as \n, space as ␣


logits = model(torch.tensor(tokenizer.encode("ROMEO:\nWhat shall I d")))[0, -1]  # (V,)
order = logits.argsort(descending=True)[:12].tolist()
taus = torch.logspace(-2, 2, 41).tolist()
entropies = [entropy(softmax(apply_temperature(logits, tau))).item() for tau in taus]
fig, axes = plt.subplots(1, 4, figsize=(15, 3.3), layout="constrained")
for ax, tau in zip(axes[:3], [0.5, 1.0, 2.0], strict=True):
    ax.bar([label(i) for i in order], softmax(apply_temperature(logits, tau))[order].tolist())
    ax.set(xlabel="next character", ylabel=r"probability $\alpha_i(\tau)$", ylim=(0, 1), title=f"τ = {tau}")
axes[3].semilogx(taus, entropies, marker=".")
axes[3].axhline(math.log(tokenizer.n_vocab), color="gray", linestyle="--", label=r"uniform: $\ln n_{\mathrm{vocab}}$")
axes[3].set(xlabel="temperature τ", ylabel="entropy of α(τ), nats", title="entropy rises with τ")
axes[3].legend(loc="lower right")  # under the dashed line, right of the rise: the empty corner
fig.suptitle("Low temperature sharpens α, high temperature flattens it; the order never changes")
plt.show()
assert all(a <= b + 1e-6 for a, b in zip(entropies[:-1], entropies[1:], strict=True)), "entropy never falls as τ rises"
assert entropies[0] < 0.01 and abs(entropies[-1] - math.log(tokenizer.n_vocab)) < 0.1

# %% [markdown]
# ## Top-k
#
# Temperature reshapes the whole distribution, including its long tail of unlikely tokens; drawn
# often enough, one of them comes out and the text derails. *Top-k* removes the tail: keep the
# $k$ largest logits, set the others to $-\infty$ (probability 0 after the softmax), and
# renormalise. $k=1$ is greedy; $k=n_{\text{vocab}}$ changes nothing. With
# $\boldsymbol\alpha=(0.4,0.3,0.2,0.1)$ and $k=2$, the survivors get $0.4/0.7$ and $0.3/0.7$:

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
alpha = torch.tensor([0.4, 0.3, 0.2, 0.1])
print("after top-k with k = 2:", [round(p, 4) for p in softmax(top_k_filter(alpha.log(), 2)).tolist()])

# %% [markdown]
# ## Top-p (nucleus)
#
# A fixed $k$ fits some contexts badly. In the middle of a word a handful of letters carry almost
# all the mass and $k=10$ keeps several bad choices; after a blank line many capital letters can
# start the next speaker's name, and $k=10$ cuts good ones. *Top-p* (Holtzman et al., 2019, "nucleus sampling")
# adapts: sort the tokens by probability and keep the smallest set whose total probability
# reaches $p$,
#
# $$N_p=\{i_1,\dots,i_m\},\quad \alpha_{i_1}\ge\alpha_{i_2}\ge\dots,\quad m=\min\Big\{r:\sum_{j=1}^{r}\alpha_{i_j}\ge p\Big\},$$
#
# then renormalise over $N_p$. So a token is kept when the mass of the tokens *sorted before it*
# is still below $p$: the token that crosses $p$ is kept, and the most likely token always is.
# Tokens with equal probability are sorted by index (a stable sort), so at a tie on the
# boundary the smaller index is kept: with $\boldsymbol\alpha=(0.25,0.25,0.25,0.25)$ and $p=0.5$,
# tokens 1 and 2 stay.

# %%
#| export
def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches `p`; set the rest to -inf.

    In each row the tokens are sorted by probability, equal ones by index (a stable sort); a token
    is kept when the probability of the tokens sorted before it is still below `p`, so the token
    that crosses `p` is kept and so is the most likely one. `p = 1` keeps everything.

    >>> top_p_filter(torch.tensor([0.5, 0.3, 0.2]).log(), 0.7).isfinite().tolist()  # 0.5 < 0.7 <= 0.5 + 0.3
    [True, True, False]
    >>> top_p_filter(torch.tensor([0.25, 0.25, 0.25, 0.25]).log(), 0.5).isfinite().tolist()  # ties: by index
    [True, True, False, False]
    """
    if p >= 1:
        return logits
    sorted_logits, sorted_indices = torch.sort(logits, dim=-1, descending=True, stable=True)  # (..., V)
    sorted_probs = softmax(sorted_logits, dim=-1)  # (..., V)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # (..., V) mass of the tokens sorted before
    remove_sorted = mass_before >= p  # (..., V) the first token has mass_before 0 < p: always kept
    remove = remove_sorted.scatter(-1, sorted_indices, remove_sorted)  # back to vocabulary order
    return logits.masked_fill(remove, float("-inf"))

# %% [markdown]
# Here are both cuts on the model, after a context where it is sure of the next character (the
# middle of a word) and after one where it is not (a blank line, where any speaker may start).

# %%
contexts = {"sure: 'my lo'": "my lo", "unsure: a blank line": "To be.\n\n"}
cuts = {"α (the model)": lambda z: z, "top-k, k = 10": lambda z: top_k_filter(z, 10), "top-p, p = 0.9": lambda z: top_p_filter(z, 0.9)}
fig, axes = plt.subplots(2, 3, figsize=(13, 5.5), sharey="row", layout="constrained")
kept = {}
for row, (name, context) in zip(axes, contexts.items(), strict=True):
    context_logits = model(torch.tensor(tokenizer.encode(context)))[0, -1]  # (V,)
    top = context_logits.argsort(descending=True)[:20].tolist()
    for ax, (cut_name, cut) in zip(row, cuts.items(), strict=True):
        cut_logits = cut(context_logits)
        kept[name, cut_name] = int(torch.isfinite(cut_logits).sum())
        ax.bar([label(i) for i in top], softmax(cut_logits)[top].tolist())
        ax.set(title=f"{name}\n{cut_name}: {kept[name, cut_name]} characters kept", xlabel="next character (20 most likely)")
    row[0].set_ylabel("probability drawn from")
fig.suptitle("Top-k keeps 10 characters whatever the context; top-p keeps few when the model is sure, many when it is not")
plt.show()
assert kept["sure: 'my lo'", "top-p, p = 0.9"] < 10 < kept["unsure: a blank line", "top-p, p = 0.9"]
print("top-p with p = 0.9 keeps fewer than 10 characters after 'my lo' and more than 10 after a blank line")

# %% [markdown]
# ## Putting them together, and in which order
#
# `sampling_probs` builds the distribution we draw from in this order: **temperature, then
# top-k, then top-p, then softmax** (the order of Hugging Face's `generate` as well).
#
# - Temperature comes first because top-p is defined by probabilities: the nucleus must be
#   computed from the distribution we actually draw from, and the same $p$ keeps more tokens at a
#   high temperature (a flatter $\boldsymbol\alpha$) than at a low one. Temperature never changes
#   the *order*, so top-k keeps the same tokens before or after it.
# - Top-p comes after top-k, on the renormalised survivors, so that $p$ is a fraction of the
#   distribution we finally sample from. The two cuts do not commute: with
#   $\boldsymbol\alpha=(0.4,0.3,0.2,0.1)$, $k=2$ and $p=0.5$, top-k first leaves $(0.57,0.43)$,
#   whose nucleus is the first token alone; top-p first keeps two tokens ($0.4<0.5$), and top-k
#   then keeps both.
# - $\tau=0$ skips all this and puts all the mass on the argmax, which every cut keeps anyway.

# %%
#| export
def sampling_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                   top_p: float | None = None) -> torch.Tensor:
    """What `sample_next` draws from, shaped like `logits`: temperature, top-k, top-p, softmax.

    `temperature=0` puts all the mass on the argmax (the first one on ties).

    >>> [round(p, 4) for p in sampling_probs(torch.tensor([0.4, 0.3, 0.2, 0.1]).log(), top_k=2).tolist()]
    [0.5714, 0.4286, 0.0, 0.0]
    >>> sampling_probs(torch.tensor([0.4, 0.3, 0.2, 0.1]).log(), top_k=2, top_p=0.5).tolist()
    [1.0, 0.0, 0.0, 0.0]
    """
    if temperature == 0:
        return torch.zeros_like(logits).scatter(-1, logits.argmax(dim=-1, keepdim=True), 1.0)  # greedy
    shaped = apply_temperature(logits, temperature)  # (..., V)
    if top_k is not None:
        shaped = top_k_filter(shaped, top_k)
    if top_p is not None:
        shaped = top_p_filter(shaped, top_p)
    return softmax(shaped, dim=-1)

# %%
p_then_k = softmax(top_k_filter(top_p_filter(alpha.log(), 0.5), 2))
print("top-k then top-p:", [round(x, 4) for x in sampling_probs(alpha.log(), top_k=2, top_p=0.5).tolist()])
print("top-p then top-k:", [round(x, 4) for x in p_then_k.tolist()])

# %% [markdown]
# `sample_next` checks its arguments (helpers folded just below: an error names the bad value
# rather than failing deep inside PyTorch), then draws one token per row from `sampling_probs`.
# It computes in float32 (in float64 only if the logits already are: Apple's MPS has no float64)
# and draws on the device of the generator, so a CPU `torch.Generator` works with logits on a GPU.

# %% jupyter={"source_hidden": true}
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


def _check_sampling_options(temperature, top_k, top_p, generator=None) -> None:
    """Raise an error naming the value when temperature, top_k, top_p or generator is not valid."""
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
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")

# %%
#| export
def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw the next token index from next-token `logits` `(V,)` or `(B, V)`: a long tensor `()` or `(B,)`.

    One draw per row from `sampling_probs(...)` with `torch.multinomial`, on the generator's device
    (the result goes back to the device of `logits`); `temperature=0` takes the argmax, with no
    randomness. Half precision is computed in float32, never float64 unless the logits are. Bad
    logits or options raise a `TypeError`/`ValueError` that names the value.

    >>> int(sample_next(torch.tensor([0.0, 5.0, 1.0]), temperature=0))
    1
    >>> sample_next(torch.tensor([[0.0, 5.0], [9.0, 0.0]]), top_k=1).tolist()
    [1, 0]
    """
    _check_logits(logits)
    _check_sampling_options(temperature, top_k, top_p, generator)
    rows = logits.reshape(-1, logits.shape[-1])  # (B, V)
    rows = rows.to(torch.promote_types(rows.dtype, torch.float32))  # float16/bfloat16 -> float32
    probs = sampling_probs(rows, temperature, top_k, top_p)  # (B, V)
    if temperature == 0:
        next_idx = probs.argmax(dim=-1)  # (B,) greedy: no randomness
    else:
        where = generator.device if generator is not None else probs.device  # draw where the generator lives
        next_idx = torch.multinomial(probs.to(where), num_samples=1, generator=generator).squeeze(-1)  # (B,)
    next_idx = next_idx.to(logits.device)
    return next_idx if logits.ndim == 2 else next_idx[0]

# %% [markdown]
# Two checks against what the maths says. Sampled many times, the frequency of each token must
# approach $\alpha_i$; with a tiny temperature the draw must be the argmax.

# %%
sampler = torch.Generator().manual_seed(0)
toy_logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
draws = sample_next(toy_logits.expand(20_000, -1), generator=sampler)  # (20000,): one draw per row
frequencies = torch.bincount(draws, minlength=5) / 20_000
print("alpha:      ", [round(x, 2) for x in softmax(toy_logits).tolist()])
print("frequencies:", [round(x, 2) for x in frequencies.tolist()])
assert (frequencies - softmax(toy_logits)).abs().max() < 0.01
assert int(sample_next(toy_logits, temperature=1e-6, generator=sampler)) == int(toy_logits.argmax())

# %% [markdown]
# ## `generate`: the loop for any model
#
# `generate` packages the loop: crop to the last `context_size` tokens (never more: a model
# refuses longer inputs), take the logits at the last position, `sample_next`, append. It works
# for every `LanguageModel` of notebooks 05 and 06, because it only uses the contract:
# `forward(idx)` and `context_size`. Three details, which `explore` below shares:
#
# - it runs under `torch.no_grad()` (no gradients are needed to write text), in evaluation mode
#   (no dropout), and `evaluation_mode` puts the model back in the mode it was in, even if
#   something fails half-way;
# - the prompt may be a list or a tensor on any device: it is moved to the model's device;
# - an empty prompt is refused with a clear error: the model needs at least one token to
#   compute $\boldsymbol\alpha$ (start from `"\n"` if you have nothing to say).

# %% jupyter={"source_hidden": true}
#| export
def _model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's first parameter (or buffer); the CPU for a model with neither."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextlib.contextmanager
def evaluation_mode(model: torch.nn.Module):
    """Put `model` in evaluation mode (no dropout) inside a `with` block; restore every submodule's mode after."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training


def _check_prompt(model, idx, max_new_tokens: int) -> torch.Tensor:
    """Validate generate's arguments; return the prompt as a `(B, t)` long tensor on the model's device."""
    if not isinstance(model, LanguageModel):
        raise TypeError(f"model must be a LanguageModel, got {type(model).__name__}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    idx = torch.as_tensor(idx)
    if idx.numel() == 0 and idx.ndim in (1, 2):
        raise ValueError(
            f"the prompt is empty (shape {tuple(idx.shape)}): give at least one token, for example the index of '\\n'"
        )
    if idx.ndim not in (1, 2):
        raise ValueError(f"idx must have shape (t,) or (B, t) with t >= 1, got shape {tuple(idx.shape)}")
    if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
        raise TypeError(f"idx must hold integer token indices, got dtype {idx.dtype}")
    low, high = idx.min().item(), idx.max().item()
    if low < 0 or high >= model.n_vocab:
        bad = low if low < 0 else high
        raise ValueError(f"token index {bad} is out of range for n_vocab={model.n_vocab} (0..{model.n_vocab - 1})")
    return idx.long().reshape(-1, idx.shape[-1]).to(_model_device(model))  # (B, t)

# %%
#| export
def generate(model: LanguageModel, idx, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Extend the prompt `idx` by `max_new_tokens` tokens sampled from `model`; return prompt + new tokens.

    `idx`: token indices `(t,)` or `(B, t)`, `t >= 1`, a list or a tensor on any device. The result
    has the same number of dimensions, `t + max_new_tokens` long, on the model's device. Each step
    feeds the last `model.context_size` tokens and calls `sample_next`. Runs under `no_grad` in
    evaluation mode, then restores the model's mode.
    """
    _check_sampling_options(temperature, top_k, top_p, generator)
    sequence = _check_prompt(model, idx, max_new_tokens)  # (B, t) on the model's device
    with evaluation_mode(model), torch.no_grad():
        for _ in range(max_new_tokens):
            window = sequence[:, -model.context_size :]  # (B, t') with t' <= T
            logits = model(window)[:, -1, :]  # (B, V): the scores of the next token
            next_idx = sample_next(logits, temperature, top_k, top_p, generator=generator)  # (B,)
            sequence = torch.cat([sequence, next_idx.unsqueeze(1)], dim=1)  # (B, t + 1)
    return sequence[0] if torch.as_tensor(idx).ndim == 1 else sequence

# %% [markdown]
# `generate` at $\tau=1$ with the same seed reproduces the text we sampled by hand (same model,
# same draws in the same order), and `temperature=0` reproduces the greedy text.

# %%
prompt_ids = tokenizer.encode(prompt)
by_generate = tokenizer.decode(generate(model, prompt_ids, 250, generator=torch.Generator().manual_seed(1)).tolist())
assert by_generate == first and tokenizer.decode(generate(model, prompt_ids, 250, temperature=0).tolist()) == greedy_text
print("generate matches the loops written by hand")

# %% [markdown]
# ## Quality against diversity
#
# Every knob moves the text between two failures: repetitive (greedy, low $\tau$, small $k$ or
# $p$) and derailed (high $\tau$, no cut). We measure both on the same prompt, 16 samples of 48
# characters per setting (fewer if the context size $T$ is below 55: a sample must fit in one window):
#
# - **quality**: the mean of $\log\alpha_{\hat s_{\ell+1}}$ over the sampled characters, read from
#   the model's own $\boldsymbol\alpha$ at $\tau=1$ before any cut. It is minus the loss of
#   notebook 07, computed on the samples instead of on Shakespeare: higher means text the model
#   finds more likely;
# - **diversity**: distinct-4 of the 16 samples together, so that repeating oneself and
#   repeating the other samples both count.
#
# Each sample fits in one window of $T$ characters, so one forward pass scores it. For
# reference, the same two numbers for 16 stretches of Shakespeare's own text (the validation
# split), scored by the same model.

# %%
def quality_and_diversity(sequences: torch.Tensor, n_prompt: int) -> tuple[float, float]:
    """Mean log alpha (at tau = 1, no cut) of the tokens after the prompt, and their distinct-4."""
    log_alpha = torch.log_softmax(model(sequences[:, :-1]), dim=-1)  # (B, t - 1, V)
    log_alpha_next = log_alpha.gather(-1, sequences[:, 1:, None])[:, n_prompt - 1 :]  # (B, new, 1)
    return log_alpha_next.mean().item(), distinct_4([tokenizer.decode(row[n_prompt:].tolist()) for row in sequences])


n_new = min(48, model.context_size - len(prompt_ids))  # prompt + sample fit in one window
settings = {"greedy": dict(temperature=0)} | {f"τ={tau}": dict(temperature=tau) for tau in (0.5, 0.75, 1.0, 1.25, 1.5)}
settings |= {f"k={k}": dict(top_k=k) for k in (2, 5, 15)} | {f"p={p}": dict(top_p=p) for p in (0.5, 0.7, 0.9)}
samples, measured = {}, {}
for name, setting in settings.items():  # the same seed for every setting: the differences come from the knobs
    samples[name] = generate(model, [prompt_ids] * 16, n_new, **setting, generator=torch.Generator().manual_seed(0))
    measured[name] = quality_and_diversity(samples[name], len(prompt_ids))

_, val_ids = train_val_split(torch.tensor(tokenizer.encode(load_text())))
starts = torch.randint(len(val_ids) - n_new, (16,), generator=torch.Generator().manual_seed(0)).tolist()
measured["Shakespeare"] = quality_and_diversity(torch.stack([val_ids[s : s + n_new + 1] for s in starts]), 1)
quality, diversity = {n: q for n, (q, _) in measured.items()}, {n: d for n, (_, d) in measured.items()}

# %%
fig, ax = plt.subplots(figsize=(8, 5))
for knob, marker in (("τ=", "o"), ("k=", "s"), ("p=", "^")):
    names = [n for n in settings if n.startswith(knob)]
    label_text = f"{knob[0]} = " + ", ".join(n[2:] for n in names) + (", then no cut (τ = 1)" if knob != "τ=" else "")
    names += ["τ=1.0"] * (knob != "τ=")  # the cut's curve ends where no cut is made: τ = 1
    ax.plot([diversity[n] for n in names], [quality[n] for n in names], marker=marker, label=label_text)
for name in ("τ=0.5", "τ=1.0", "τ=1.5", "k=2", "p=0.5"):  # the ends of the curves; the legend gives the order
    ax.annotate(name, (diversity[name], quality[name]), textcoords="offset points", xytext=(4, 4), fontsize=8)
ax.plot(diversity["greedy"], quality["greedy"], "kX", markersize=10, label="greedy (τ = 0)")
ax.plot(diversity["Shakespeare"], quality["Shakespeare"], "r*", markersize=14, label="Shakespeare's own text")
ax.set(xlabel="diversity: distinct-4 of 16 samples (1: no 4-gram repeats)", ylabel="quality: mean log α of the characters (nats)")
ax.set_title("Every knob trades quality for diversity: the likelier the text, the more it repeats")
ax.legend(loc="lower left")
plt.show()
assert max(quality, key=quality.get) == "greedy" and min(diversity, key=diversity.get) == "greedy"
assert quality["τ=0.5"] > quality["τ=1.0"] > quality["τ=1.5"] and diversity["τ=0.5"] < diversity["τ=1.5"]
assert quality["k=2"] > quality["τ=1.0"] and quality["p=0.5"] > quality["τ=1.0"]
assert diversity["k=2"] < diversity["τ=1.0"] and diversity["p=0.5"] < diversity["τ=1.0"]
assert quality["Shakespeare"] < quality["τ=1.0"] and abs(diversity["Shakespeare"] - diversity["τ=1.0"]) < 0.1
print("greedy: the most likely and the least diverse; lowering τ, k or p raises quality and lowers diversity")
print("Shakespeare's text: as diverse as the samples at τ = 1 (within 0.1), and less likely under the model")

# %% [markdown]
# The three knobs draw three curves through the same plane, and the cuts' curves end where no
# cut is made, at $\tau=1$. Greedy decoding sits at the top left: the most likely text, and the
# most repetitive. Temperature covers the widest range: at $\tau=1.5$ the samples are diverse,
# and the model itself finds them unlikely, which is what derailed text means. Where one curve
# lies above another at the same diversity, that knob buys more quality for the same variety.
#
# Shakespeare's own text is a useful mark. It is about as diverse as the samples at $\tau=1$,
# yet the model finds it less likely. At $\tau=1$ the mean $\log\alpha$ of the samples is, on
# average, minus the entropy of the model's own $\boldsymbol\alpha$; on real text it is minus
# the loss of notebook 07. The gap measures how much more Shakespeare surprises the model than
# the model surprises itself. Here are some of the samples (the first of the 16 at each setting).

# %% tags=["nbval-ignore-output"]
for name in ("greedy", "τ=0.5", "τ=1.0", "τ=1.5", "k=5", "p=0.9"):
    print(f"{name:>7} |", repr(tokenizer.decode(samples[name][0, len(prompt_ids) :].tolist())))
assert all(s.shape == (16, len(prompt_ids) + n_new) for s in samples.values())
assert all(set(tokenizer.decode(s[0].tolist())) <= set(tokenizer.vocabulary.tokens) for s in samples.values())

# %% [markdown]
# ## Closing the loop with notebook 07: a sample is a guess, the loss is a score
#
# Take a stretch of validation text. At each position the model gives $\boldsymbol\alpha$. A
# *sample* is what the model guesses comes next; the *loss* is minus the log of the probability
# it assigned to what truly came next, $-\log\alpha_{s_{\ell+1}}$. The loss never looks at a
# sample: it reads one entry of $\boldsymbol\alpha$, so it is the same whatever we would have
# drawn, and it can be differentiated, while a draw cannot. Still the two are linked: a draw hits
# the true token with probability $\alpha_{s_{\ell+1}}$, so the fraction of hits estimates the mean
# of $\alpha_{s_{\ell+1}}$, position by position.

# %%
x, y = val_ids[None, : model.context_size], val_ids[None, 1 : model.context_size + 1]  # (1, T): inputs, true next tokens
logits = model(x)  # (1, T, V)
alpha_true = softmax(logits[0]).gather(-1, y[0, :, None]).squeeze(-1)  # (T,): alpha of each true next token
assert abs(cross_entropy(logits, y).item() - (-alpha_true.log()).mean().item()) < 1e-5
guesses = sample_next(logits[0].repeat(500, 1), generator=torch.Generator().manual_seed(0))  # 500 guesses per position
hits = (guesses.reshape(500, -1) == y[0]).float().mean().item()
assert abs(hits - alpha_true.mean().item()) < 0.02
print("the loss equals the mean of -log alpha_true (within 1e-5); the guesses hit the truth as often as alpha_true says (within 0.02)")

# %% [markdown]
# ## An explorer
#
# `explore` (folded below: it is a printing tool) shows the most likely next tokens after a
# prompt, with their probability under the model ($\alpha_i$) and after temperature, top-k and
# top-p (`sampling_probs`, what `sample_next` draws from), and a few continuations sampled with
# those settings. It works anywhere, even without a browser.

# %% jupyter={"source_hidden": true}
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
    after `temperature`, `top_k` and `top_p` (`sampling_probs`: 0 where a cut removed the token;
    `temperature=0` puts all of it on the argmax). `tokenizer` is any object with
    `encode(str) -> list[int]` and `decode(list[int]) -> str`. Like `generate`, it runs in
    evaluation mode on the model's device and restores the model's mode. Returns the rows.
    """
    _check_sampling_options(temperature, top_k, top_p)
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt must be a non-empty string (start from '\\n' if you have nothing to say), got {prompt!r}")
    idx = tokenizer.encode(prompt)
    window = _check_prompt(model, idx[-model.context_size :], n_tokens)  # (1, t) on the model's device
    with evaluation_mode(model), torch.no_grad():
        logits = model(window)[0, -1].float()  # (V,)
    alpha = softmax(logits)
    final = sampling_probs(logits, temperature, top_k, top_p)
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

# %% tags=["nbval-ignore-output"]
rows = explore(model, tokenizer, "KING HENRY:\nWhat", temperature=0.8, top_k=10, top_p=0.9)
alphas = [alpha for _, alpha, _ in rows]
assert alphas == sorted(alphas, reverse=True), "the table is sorted by alpha"
assert abs(sum(final for _, _, final in rows) - 1.0) < 1e-5, "with top_k = n_top = 10, every token that can be drawn is in the table"

# %% [markdown]
# In JupyterLab (or Colab) the cell below builds sliders around `explore`: type a prompt, move
# temperature, top-k (0 means no cut) and top-p, and see $\boldsymbol\alpha$ before and after as
# bars. Where `ipywidgets` or a front-end is missing it says so, and `explore` above still works.
# (Its output is a widget, which differs from run to run, so the tests ignore it.)


# %% jupyter={"source_hidden": true}
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
        positions = list(range(len(rows)))
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
#   $\hat s_{\ell+1}\sim\text{Categorical}(\boldsymbol\alpha)$, append. `generate` does it for any
#   `LanguageModel`, on any device, in evaluation mode; `sample_next` does one draw.
# - Greedy decoding (the argmax, $\tau=0$) is deterministic and falls into loops. Sampling with a
#   seeded `torch.Generator` is random but repeatable: same seed, same text. It loops less often.
# - Temperature $\tau$ divides the logits: below 1 it sharpens $\boldsymbol\alpha$ (entropy
#   towards 0), above 1 it flattens it (entropy towards $\ln n_{\text{vocab}}$).
# - Top-k keeps the $k$ most likely tokens; top-p keeps the smallest set whose mass reaches $p$
#   (ties broken by index), and adapts to how sure the model is. We apply temperature, then
#   top-k, then top-p, then draw.
# - Each knob trades quality (mean $\log\alpha$ of the samples) for diversity (distinct-4).
# - A sample is the model's guess; the loss of notebook 07 is minus the log of the probability it
#   gave the truth. Sampling is not differentiable and plays no part in training.
#
# ## Exercises
#
# Each exercise has a starter cell: complete the function, run the cell, then run the check
# below it, which tries your function on inputs of its own and prints ✓ or a hint. Solutions are
# in `solutions/08_sampling.py`: try first.
#
# **08.1 Temperature.** Write $\boldsymbol\alpha(\tau)$ from logits $\mathbf z$ of shape `(V,)`
# or `(B, V)`, for $\tau>0$, with `torch.softmax` along the last dimension.

# %%
def probs_at_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    raise NotImplementedError  # your code: alpha(tau), shape like logits


check("08.1", probs_at_temperature)

# %% [markdown]
# **08.2 Top-k.** Return the logits with every entry outside the $k$ largest of its row set to
# $-\infty$ (the kept ones unchanged), for `(V,)` or `(B, V)` and $1\le k\le n_{\text{vocab}}$.
# Hint: `torch.topk`. On ties the course keeps every logit equal to the $k$-th largest, so a few
# more than $k$ may survive; the check draws logits without ties, so either choice passes.

# %%
def my_top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    raise NotImplementedError  # your code


check("08.2", my_top_k_filter)

# %% [markdown]
# **08.3 Top-p, with the course's tie rule.** Return the logits with every token outside the
# nucleus $N_p$ set to $-\infty$: sort by probability, equal probabilities by index, and keep a
# token when the mass sorted before it is below $p$. Hint: `torch.sort(..., stable=True)`.

# %%
def my_top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    raise NotImplementedError  # your code


check("08.3", my_top_p_filter)

# %% [markdown]
# **08.4 Greedy decoding.** Write the greedy loop for any `LanguageModel`: from a list of token
# indices, append the argmax of $\boldsymbol\alpha$ `n_tokens` times, feeding the model at most
# its last `model.context_size` tokens, and return the whole list.

# %%
def greedy_decode(model, prompt_ids: list[int], n_tokens: int) -> list[int]:
    raise NotImplementedError  # your code


check("08.4", greedy_decode)

# %% [markdown]
# To think about:
#
# 5. Find a prompt after which greedy decoding does *not* loop within 300 characters. Is it rare?
# 6. *Min-p* sampling keeps the tokens with $\alpha_i\ge p_{\min}\cdot\max_j\alpha_j$. Add it to
#    the quality-diversity figure. Where does its curve lie, against top-p's?
#
# Every notebook ends by reporting the peak memory of its kernel (Binder allows 2 GB).

# %% tags=["nbval-ignore-output"]
check_peak_memory()
