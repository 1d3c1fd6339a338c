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
# # 01 · The vocabulary
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/01_vocabulary.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/01_vocabulary.ipynb)
#
# An LLM never sees text. It sees a sequence of **tokens**, each drawn from a fixed, finite set:
# the **vocabulary** $\mathcal{V}$. Its size is $n_{\text{vocab}} = |\mathcal{V}|$. Everything the
# model can read or write must be spelled with tokens of $\mathcal{V}$, so choosing $\mathcal{V}$
# is the first design decision of every language model.
#
# A course starts from three kinds of tokens, each kind added to the one before:
#
# 1. **characters**: letters, the digits 0–9 and the other symbols on a keyboard;
# 2. in addition, **whole words** from a dictionary;
# 3. in addition, common **prefixes and suffixes** such as `un` and `ing`.
#
# We build each kind from the training part of Tiny Shakespeare and measure it on the validation
# part, which it never saw: how large $\mathcal{V}$ is, how much of the new text it covers, how
# often it meets a word it does not know, and how long the sequence of tokens becomes. This
# notebook writes `llm_course.vocabulary`, the `Vocabulary` class every later notebook uses.

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
#| default_exp vocabulary

# %% [markdown]
# ## A vocabulary is a set of tokens
#
# A token $\mathbf{t}$ is a string: `"a"`, `"the"`, `"ing"`, even `"\n"`. The vocabulary is a
# *set*: each token is in it once, and it has no order of its own. To give every token a number
# we sort the set into a sequence,
#
# $$\mathcal{S} = (\mathbf{t}_1, \mathbf{t}_2, \dots, \mathbf{t}_{n_{\text{vocab}}}),$$
#
# and call $i$ the **index** of $\mathbf{t}_i$. Any fixed order works; we use Python's string
# order (by Unicode code point), so that the same set always gives the same $\mathcal{S}$,
# whatever order its tokens arrived in. Notebook 02 is about $\mathcal{S}$ and the indices.
#
# **Counting from 1 or from 0.** The maths numbers the tokens $1,\dots,n_{\text{vocab}}$; the code,
# like Python and PyTorch, numbers them $0,\dots,n_{\text{vocab}}-1$. The token $\mathbf{t}_i$ of
# the maths is `vocabulary.token(i - 1)` in the code, and `vocabulary.index(token)` returns the
# 0-based index.
#
# The class below is that idea and little more. It also holds an optional **unknown token**
# (often written `<unk>`): a token that stands for anything not in $\mathcal{V}$. We put it
# *last*, after the sorted tokens, so that adding it never changes the index of another token.

# %% jupyter={"source_hidden": true}
#| export
"""The vocabulary: a set of tokens sorted into a sequence, with a 0-based index for each token.

`Vocabulary(tokens, unknown=None)` collects distinct strings, sorts them by Python's string order
(so the order is the same whatever order the tokens came in) and numbers them 0, 1, ...,
n_vocab - 1. The maths of the course numbers them 1..n_vocab: token t_i of the maths is
`vocabulary.token(i - 1)`. An optional unknown token (such as "<unk>") sits last, after the
sorted tokens, and stands for every token not in the vocabulary. `coverage` measures how much of
a sequence of tokens a vocabulary knows.

Errors (each message names the bad value):
- `TypeError`: a token that is not a `str`; an index that is not an `int`.
- `ValueError`: no tokens at all; the empty string as a token.
- `UnknownTokenError` (a `KeyError`): `index(token)` of a token not in the vocabulary when there
  is no unknown token.
- `IndexError`: `token(index)` with an index below 0 or at least n_vocab.

Left out on purpose: how text is cut into tokens (that is a tokenizer's job: notebook 02 and,
learned from data, notebook 03) and special tokens other than the unknown token.
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export
import operator
from collections.abc import Iterable, Iterator, Sequence


class UnknownTokenError(KeyError):
    """A token that is not in the vocabulary. A `KeyError`, so `except KeyError` catches it too."""

    def __str__(self) -> str:  # KeyError would show the message in quotes; show it as written
        return str(self.args[0]) if self.args else ""


def _check_token(token: object, what: str) -> str:
    """`token` if it is a non-empty `str`; otherwise a `TypeError` or `ValueError` that names it."""
    if not isinstance(token, str):
        raise TypeError(f"{what} must be a str, got {token!r} of type {type(token).__name__}")
    if token == "":
        raise ValueError(f"{what} must not be the empty string '' (it would spell nothing)")
    return token


def _distinct_tokens(tokens: Iterable[str], unknown: str | None) -> set[str]:
    """The distinct tokens, each checked, without the unknown token; a `ValueError` when none is left."""
    if unknown is not None:
        _check_token(unknown, what="the unknown token")
    distinct = {_check_token(token, what="a token") for token in tokens} - {unknown}
    if not distinct:
        shown = repr(tokens) if isinstance(tokens, (str, list, tuple, set, frozenset, dict)) else "an empty iterable"
        besides = f" besides the unknown token {unknown!r}" if unknown is not None else ""
        raise ValueError(f"a vocabulary needs at least one token{besides}, got 0 tokens from {shown}")
    return distinct


def _check_index(index: object, n_vocab: int) -> int:
    """`index` as an int in 0..n_vocab - 1 (NumPy and 0-d PyTorch integers too), or an error naming it."""
    if isinstance(index, bool):
        raise TypeError(f"a token index must be an int, got {index!r} of type bool")
    try:
        position = operator.index(index)
    except TypeError:
        raise TypeError(f"a token index must be an int, got {index!r} of type {type(index).__name__}") from None
    if not 0 <= position < n_vocab:
        raise IndexError(
            f"token index {position} is out of range: this vocabulary has n_vocab = {n_vocab} "
            f"tokens, with indices 0..{n_vocab - 1} in code"
        )
    return position


class _VocabularyPlumbing:
    """What a `Vocabulary` needs besides the idea: errors for unknown tokens, equality, hashing, printing."""

    _tokens: tuple[str, ...]
    unknown: str | None

    def _index_of_unknown(self, token: object) -> int:
        """The unknown token's index for a `token` not in the vocabulary, or an error that names `token`."""
        if not isinstance(token, str):
            raise TypeError(f"a token must be a str, got {token!r} of type {type(token).__name__}")
        if self.unknown is not None:
            return len(self._tokens) - 1
        raise UnknownTokenError(
            f"token {token!r} is not in the vocabulary (n_vocab = {len(self._tokens)}); "
            "build the vocabulary with unknown='<unk>' to map such tokens to an unknown token"
        )

    @property
    def unknown_index(self) -> int | None:
        """The index of the unknown token (always the last one), or `None` when there is none."""
        return None if self.unknown is None else len(self._tokens) - 1

    def __len__(self) -> int:
        return len(self._tokens)

    def __iter__(self) -> Iterator[str]:
        return iter(self._tokens)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _VocabularyPlumbing):
            return NotImplemented
        return self._tokens == other._tokens and self.unknown == other.unknown

    def __hash__(self) -> int:
        return hash((self._tokens, self.unknown))

    def __repr__(self) -> str:
        shown = list(self._tokens[:5])
        more = f", ... ({len(self._tokens) - 5} more)" if len(self._tokens) > 5 else ""
        unknown = f", unknown={self.unknown!r}" if self.unknown is not None else ""
        return f"Vocabulary(n_vocab={len(self._tokens)}, tokens={shown}{more}{unknown})"


# %% [markdown]
# The idea fits in a few lines: keep the distinct tokens, sort them, and number them in that
# order; a dictionary maps each token back to its number. (The checks of bad input, the error for
# a token that is not there, equality and printing are in the folded cells above.)

# %%
#| export
class Vocabulary(_VocabularyPlumbing):
    """A set of tokens sorted into the sequence S = (t_1, ..., t_n_vocab), indexed from 0 in code.

    >>> vocabulary = Vocabulary(["b", "a", "c", "a"])   # any iterable of strings; duplicates collapse
    >>> len(vocabulary), vocabulary.tokens, vocabulary.index("c"), vocabulary.token(0), "b" in vocabulary
    (3, ('a', 'b', 'c'), 2, 'a', True)
    >>> Vocabulary("banana", unknown="<unk>").tokens   # a string is an iterable of characters
    ('a', 'b', 'n', '<unk>')
    """

    def __init__(self, tokens: Iterable[str], unknown: str | None = None) -> None:
        sorted_tokens = tuple(sorted(_distinct_tokens(tokens, unknown)))  # S, in Python's string order
        self._tokens = sorted_tokens + ((unknown,) if unknown is not None else ())  # the unknown token last
        self._index = {token: index for index, token in enumerate(self._tokens)}  # token -> 0-based index
        self.unknown = unknown

    @property
    def tokens(self) -> tuple[str, ...]:
        """S: the sorted tokens, then the unknown token (if any). `tokens[i - 1]` is t_i of the maths."""
        return self._tokens

    @property
    def n_vocab(self) -> int:
        """The number of tokens, the unknown token included (the same as `len(vocabulary)`)."""
        return len(self._tokens)

    def index(self, token: str) -> int:
        """The 0-based index of `token`; for a token not in the vocabulary, the unknown token's (or an error)."""
        if isinstance(token, str) and token in self._index:
            return self._index[token]
        return self._index_of_unknown(token)

    def token(self, index: int) -> str:
        """The token with 0-based index `index`: t_{index + 1} of the maths."""
        return self._tokens[_check_index(index, len(self._tokens))]

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and token in self._index


def coverage(vocabulary: Vocabulary, tokens: Sequence[str]) -> float:
    """The fraction of the occurrences in `tokens` that are tokens of `vocabulary` (the unknown token is not).

    >>> coverage(Vocabulary(["to", "be"]), ["to", "be", "or", "not", "to", "be"])
    0.6666666666666666
    """
    if len(tokens) == 0:
        raise ValueError("coverage of an empty sequence of tokens is undefined; got 0 tokens")
    return sum(token in vocabulary and token != vocabulary.unknown for token in tokens) / len(tokens)


# %% [markdown]
# A first look: duplicates collapse, the order is the sorted one whatever the input order, and
# the index and the token are inverse maps.

# %%
vocabulary = Vocabulary(["to", "be", "or", "not", "to", "be"])
print(vocabulary)
print("n_vocab =", len(vocabulary))
for index, token in enumerate(vocabulary.tokens):
    print(f"maths i = {index + 1}   code index = {index}   token = {token!r}")
assert vocabulary == Vocabulary(["not", "or", "be", "to"])
assert all(vocabulary.token(vocabulary.index(token)) == token for token in vocabulary.tokens)

# %% [markdown]
# A token outside $\mathcal{V}$ is an error that names it, unless we asked for an unknown token:

# %%
try:
    vocabulary.index("question")
except KeyError as error:
    print(f"{type(error).__name__}: {error}")

with_unknown = Vocabulary(["to", "be", "or", "not"], unknown="<unk>")
print(with_unknown.tokens, "  index of 'question':", with_unknown.index("question"))
assert with_unknown.index("question") == with_unknown.unknown_index == len(with_unknown) - 1

# %% [markdown]
# ## The corpus, split
#
# We build every vocabulary from the **training** text (the first 90%) and measure it on the
# **validation** text (the last 10%), which plays the part of text the model meets later.

# %%
from collections import Counter

from llm_course.data import load_text, train_val_split
from llm_course.reproducibility import set_seed

set_seed(1337)  # nothing here is random, but every notebook seeds first, out of habit
text = load_text("tiny-shakespeare")
train_text, val_text = train_val_split(text)
print(f"training: {len(train_text):,} characters   validation: {len(val_text):,} characters")

# %% [markdown]
# ## Kind 1: characters
#
# The smallest useful vocabulary holds single characters. A keyboard gives us 26 + 26 letters,
# the digits 0–9, 32 other symbols, the space and the newline. The training text itself uses
# fewer: its distinct characters make a 65-token vocabulary, which is the one character-level
# models of Tiny Shakespeare use.

# %%
import string

keyboard = Vocabulary(string.ascii_letters + string.digits + string.punctuation + " \n")
train_characters = Vocabulary(train_text)
print(f"keyboard characters: n_vocab = {len(keyboard)};  training-text characters: n_vocab = {len(train_characters)}")
print("keyboard characters Shakespeare never types:", repr("".join(token for token in keyboard if token not in train_characters)))
character_counts = Counter(train_text).most_common()
print("the most frequent training characters:", character_counts[:3])
print("the rarest training characters:", character_counts[:-9:-1])
assert len(keyboard) == 96 and len(train_characters) == 65 and all(token in keyboard for token in train_characters)

# %% [markdown]
# Not every character is common: the space occurs more than 150,000 times in the training text,
# but `$` occurs once, `&` three times and the digit `3` 27 times.
#
# **Coverage** is the fraction of a text that a vocabulary can spell exactly. Write the validation
# text as its characters $c_1, c_2, \dots, c_N$, in order ($N$ is its length, and $c_j$ the
# character at position $j$). For characters the coverage is the fraction of positions whose
# character is a token:
#
# $$\text{coverage} = \frac{\#\{j : c_j \in \mathcal{V}\}}{N}.$$

# %%
val_characters = list(val_text)
for name, vocab in [("keyboard", keyboard), ("training characters", train_characters)]:
    print(f"{name:20} coverage of the validation characters: {coverage(vocab, val_characters):.2%}")
assert coverage(train_characters, val_characters) == 1.0

# %% [markdown]
# Both cover everything, and any English text typed on a keyboard would be covered by the 96.
# The price is length: one token per character, so the validation text is a sequence of
# 111,540 tokens, and a model with a context of $T$ tokens sees only $T$ characters: a line or two.
#
# ## Kind 2: whole words
#
# A word is a run of letters (`[A-Za-z]+`); everything else (spaces, newlines, punctuation,
# digits) we leave to the character tokens. So `"I'll"` is the word `I`, the character `'` and
# the word `ll`, and `The` and `the` are different words. The "dictionary" is the set of words in
# the training text, most frequent first.

# %%
import re

train_words = re.findall(r"[A-Za-z]+", train_text)
val_words = re.findall(r"[A-Za-z]+", val_text)
word_counts = Counter(train_words)
print(f"training text: {len(train_words):,} words, {len(word_counts):,} distinct")
print(f"validation text: {len(val_words):,} words, {len(set(val_words)):,} distinct")
print("the 12 most frequent:", [f"{w} {n}" for w, n in word_counts.most_common(12)])

# %% [markdown]
# ### Frequency against rank: Zipf's law
#
# Sort the words by how often they occur and plot the count against the rank, both on log
# scales. Between rank 10 and rank 1,000 the points fall close to a straight line, and its slope,
# fitted below, is about $-1.06$: the count of the word of rank $r$ is close to $C\,r^{-1.06}$.
# That is **Zipf's law** (an exponent near $-1$). It is a law about the middle of the curve, not
# its head: the strict form, "rank $r$ occurs $1/r$ times as often as rank 1", predicts about 50
# occurrences at rank 100, but the fitted line predicts about 280 and the data holds 286; the top
# ten words lie below the line. A few words are everywhere, and a long tail of words occurs once
# or twice. Characters follow a different curve: there are only 65 of them, the space and `e`
# are everywhere, and the rarest are very rare.

# %%
import matplotlib.pyplot as plt
import numpy as np

word_frequencies = np.array(sorted(word_counts.values(), reverse=True))  # count of rank 1, 2, ...
ranks = np.arange(1, len(word_frequencies) + 1)
slope, intercept = np.polyfit(np.log(ranks[9:1000]), np.log(word_frequencies[9:1000]), 1)  # ranks 10..1000
fitted = np.exp(intercept) * ranks.astype(float) ** slope
print(f"slope of log count against log rank (ranks 10..1000): {slope:.2f}")
print(f"rank 100: {word_frequencies[99]} occurrences; the fitted line says {fitted[99]:.0f}, "
      f"the strict 1/r law {word_frequencies[0] / 100:.0f}")
seen_once = int((word_frequencies == 1).sum())
print(f"words seen once in training: {seen_once:,} of {len(word_frequencies):,} ({seen_once / len(word_frequencies):.0%})")
assert -1.10 < slope < -1.02 and abs(fitted[99] - word_frequencies[99]) < 20 < word_frequencies[99] - 100
assert (word_frequencies[:10] < fitted[:10]).all(), "the top ten words lie below the line"

character_frequencies = np.array(sorted(Counter(train_text).values(), reverse=True))
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.loglog(ranks, word_frequencies, ".", markersize=3, label=f"words ({len(word_frequencies):,} distinct)")
ax.loglog(np.arange(1, 66), character_frequencies, "o-", markersize=3, label="characters (65 distinct)")
ax.loglog(ranks, fitted, "k--", linewidth=1, label=f"fit on ranks 10–1,000: count ∝ rank^{slope:.2f}")
ax.set_xlabel("rank (1 = most frequent)")
ax.set_ylabel("count in the training text")
ax.set_title("Word counts fall on a line of slope -1.06 (Zipf): a few words are everywhere, most are rare")
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ### Unknown words
#
# A vocabulary of words alone cannot spell a word it has not seen: the tokenizer must replace it
# by the unknown token `<unk>`, and the model loses it. The **unknown-token rate** is the fraction
# of validation words that are not in $\mathcal{V}$ (one minus the word coverage). We try the
# 1,000, 5,000 and 10,000 most frequent training words, and all of them.

# %%
top = {k: [w for w, _ in word_counts.most_common(k)] for k in [30, 100, 300, 1_000, 3_000, 5_000, 10_000]}
top["all"] = list(word_counts)
print(f"{'words kept':>12} {'n_vocab':>8} {'unknown rate':>13}")
for k in [1_000, 5_000, 10_000, "all"]:
    vocab = Vocabulary(top[k], unknown="<unk>")
    print(f"{len(top[k]):>12,} {len(vocab):>8,} {1 - coverage(vocab, val_words):>13.2%}")
unseen = Counter(w for w in val_words if w not in word_counts)
print(f"{sum(unseen.values()):,} unknown occurrences of {len(unseen):,} distinct unseen words; the most frequent:")
print("  ", [w for w, _ in unseen.most_common(10)])
print("   and in lower case:", [w for w, _ in unseen.most_common() if w.islower()][:24])

# %% [markdown]
# Even with every one of the training words, about one validation word in 17 is unknown: the
# names of people who only appear in the plays at the end of the text (`PROSPERO`, `MIRANDA`),
# some Latin (`hic`, `est`), and ordinary words the training text happens not to contain, several
# of them a known word with a suffix (`drown`+`ing`, `finger`+`ing`, `tutor`+`s`). A word
# vocabulary never closes: new text brings new words.
#
# That is why kind 2 keeps the characters: $\mathcal{V} = \text{characters} \cup \text{words}$. A
# known word is one token; an unknown word is spelled with smaller tokens, so nothing is lost.
#
# ### Cutting text into the tokens of a vocabulary
#
# To measure sequence lengths we need a rule that cuts text into tokens of a given $\mathcal{V}$.
# We use the simplest one: within each word, take the **longest token of $\mathcal{V}$ that the
# rest of the word starts with**, again and again (greedy longest match); every other character
# is one token. With characters only this gives one token per character; with words, one token
# per known word. (Notebook 02 builds the tokenizers proper, and notebook 03 learns a better rule.)

# %%
def greedy_pieces(word: str, vocabulary: Vocabulary, longest: int) -> list[str]:
    """Cut `word` into tokens of `vocabulary`, taking the longest match at each step."""
    pieces, start = [], 0
    while start < len(word):
        end = next(e for e in range(min(len(word), start + longest), start, -1) if word[start:e] in vocabulary)
        pieces.append(word[start:end])
        start = end
    return pieces


def tokenize(text: str, vocabulary: Vocabulary) -> list[str]:
    """Words (runs of letters) by greedy longest match; every other character is one token."""
    longest, cache = max(len(token) for token in vocabulary), {}  # a word seen before is cut the same way
    pieces = re.findall(r"[A-Za-z]+|[^A-Za-z]", text)
    return [token for piece in pieces for token in cache.setdefault(piece, greedy_pieces(piece, vocabulary, longest))]


example_vocab = Vocabulary([*train_characters.tokens, "un", "kind"])
print(greedy_pieces("unkind", example_vocab, 4), greedy_pieces("unkindly", example_vocab, 4))
assert len(tokenize(val_text, train_characters)) == len(val_text)

# %% [markdown]
# ## Kind 3: prefixes and suffixes
#
# Many unknown words are known words with a prefix or a suffix: the unseen validation words
# `drowning`, `tutors` and `moveable` are the training words `drown`, `tutor` and `move` with
# `ing`, `s` and `able`. Adding common affixes to $\mathcal{V}$ lets the greedy rule spell such a
# word in two or three tokens instead of one per letter (printed below, with all training words). Here is a short hand-made list (with Shakespeare's `eth` and `est`);
# we count, in lower case for both kinds, how many distinct training words start with one of the
# prefixes or end with one of the suffixes:

# %%
prefixes = ["un", "re", "dis", "mis", "in", "im", "en", "fore", "over", "out", "be", "pre", "de", "with"]
suffixes = ["ing", "ed", "s", "es", "er", "est", "eth", "st", "ly", "ness", "ment", "ful", "less", "able",
            "tion", "ous", "ance", "ence", "ity", "ship", "ward", "y", "en"]
affixes = sorted(set(prefixes + suffixes))
lower_words = {w.lower() for w in word_counts}
print(f"{len(affixes)} affixes; of {len(lower_words):,} distinct lower-cased training words, "
      f"{sum(w.startswith(tuple(prefixes)) for w in lower_words):,} start with a prefix and "
      f"{sum(w.endswith(tuple(suffixes)) for w in lower_words):,} end with a suffix")
with_affixes = Vocabulary([*train_characters.tokens, *top["all"], *affixes])
unseen_words = ["drowning", "tutors", "moveable"]
print("unseen words, cut by greedy longest match:", [tokenize(word, with_affixes) for word in unseen_words])
assert tokenize("drowning", with_affixes) == ["drown", "ing"] and "drowning" not in word_counts

# %% [markdown]
# ## The trade-off: $n_{\text{vocab}}$ against sequence length
#
# Now the vocabularies side by side, measured on the validation text: $n_{\text{vocab}}$, the
# word coverage (validation words that are one token), and the length of the token sequence of
# the validation text, with the average number of characters per token. Every one of them spells
# the validation text exactly, since the characters are always in: the character coverage is
# 100% for all, so it is not a column.

# %%
def measure(name: str, vocab: Vocabulary) -> None:
    tokens = tokenize(val_text, vocab)
    assert "".join(tokens) == val_text  # every vocabulary here spells the text exactly
    lengths[name] = len(tokens)
    print(f"{name:30} {len(vocab):>8,} {coverage(vocab, val_words):>10.2%} {len(tokens):>9,} "
          f"{len(val_text) / len(tokens):>12.2f}")


lengths, characters = {}, train_characters.tokens
print(f"{'vocabulary':30} {'n_vocab':>8} {'word cov.':>10} {'tokens':>9} {'chars/token':>12}")
measure("1: characters", train_characters)
for k in [1_000, 5_000, 10_000, "all"]:
    measure(f"2: + {k:,} words" if k != "all" else "2: + all training words", Vocabulary([*characters, *top[k]]))
measure("3: + 1,000 words + affixes", Vocabulary([*characters, *top[1_000], *affixes]))
measure("3: + all words + affixes", Vocabulary([*characters, *top["all"], *affixes]))
assert lengths["2: + all training words"] < lengths["2: + 1,000 words"] < len(val_text)
assert lengths["3: + 1,000 words + affixes"] < lengths["2: + 1,000 words"]

# %% [markdown]
# Three things to read in the table. The characters alone already "cover" 6.6% of the words: the
# one-letter words such as `I`, `a` and `s`. Words cut the sequence to less than half the
# characters' length (most of what remains are spaces and punctuation, one token each), and most
# of that gain comes from the first thousand words: Zipf's law again. Our hand-made affixes help,
# but little: about 2% shorter with 1,000 words, less with all of them, because the greedy rule
# only uses a suffix when the rest of the word happens to be cut just before it. Choosing
# sub-words by hand does not scale; notebook 03 learns them from data.
#
# The plot shows the whole curve, sweeping the number of words kept:

# %%
sweep = [0, 30, 100, 300, 1_000, 3_000, 5_000, 10_000, "all"]
fig, ax = plt.subplots(figsize=(7, 4.5))
for extra, label in [([], "characters + top-k words"), (affixes, "characters + top-k words + affixes")]:
    vocabularies = [Vocabulary([*characters, *top.get(k, []), *extra]) for k in sweep]
    curve = [(len(v), len(tokenize(val_text, v))) for v in vocabularies]
    ax.plot(*zip(*curve, strict=True), "o-", label=label)
    n_tokens = [n for _, n in curve]
    assert n_tokens == sorted(n_tokens, reverse=True), "more words, fewer tokens"
    print(f"{label}:", ", ".join(f"{n_vocab:,} -> {n:,}" for n_vocab, n in curve))
ax.axhline(len(val_text), color="grey", linestyle=":", label="one token per character")
ax.set_xscale("log")
ax.set_xlabel("$n_{vocab}$ (log scale)")
ax.set_ylabel("tokens in the validation text")
ax.set_title("A larger vocabulary, a shorter sequence; past about 3,000 tokens the gains shrink")
ax.legend()
plt.show()

# %% [markdown]
# ## Why production models sit near 50,000 tokens
#
# Both ends of the curve cost something.
#
# - **A small $\mathcal{V}$ makes long sequences.** A transformer (notebook 06) attends from every
#   position to every earlier one, so its cost grows with the square of the sequence length, and
#   its context of $T$ tokens holds less text. Each step also predicts less: one character
#   instead of a word.
# - **A large $\mathcal{V}$ makes a large model and rare tokens.** The model holds one embedding
#   row per token at its input (notebook 04) and one output score per token at each step, so two
#   matrices of $n_{\text{vocab}}\times n_{\text{emb}}$ numbers, and a softmax over $n_{\text{vocab}}$
#   at every position. And by Zipf's law most tokens of a huge vocabulary are rare, so the model
#   sees too few examples of them to learn them well.
#
# On its log axis the curve above is close to straight from about 100 to 3,000 tokens: there, each
# tenfold larger vocabulary saves roughly as many tokens as the tenfold before (20,000 to 30,000).
# Past about 3,000 it flattens. Counted per token added, the gains shrink fast: the first thousand
# words save about 43,000 tokens, the next two thousand about 10,500, the last 9,500 fewer than
# 5,600. So past some size each extra token buys little. Production models settle at tens of
# thousands: GPT-2 has $n_{\text{vocab}} = 50{,}257$, that is 256 byte
# tokens, 50,000 learned merges (notebook 03) and one end-of-text token. With GPT-2's smallest
# embedding size, $n_{\text{emb}} = 768$, its embedding table alone holds:

# %%
gpt2_n_vocab, gpt2_n_emb, gpt2_parameters = 50_257, 768, 124_439_808
embedding_parameters = gpt2_n_vocab * gpt2_n_emb
print(f"GPT-2 embedding table: {gpt2_n_vocab:,} x {gpt2_n_emb} = {embedding_parameters:,} numbers, "
      f"{embedding_parameters / gpt2_parameters:.0%} of its {gpt2_parameters:,} parameters")
assert gpt2_n_vocab == 256 + 50_000 + 1

# %% [markdown]
# Almost a third of the smallest GPT-2 is its vocabulary. (GPT-2 shares that matrix between the
# input and the output; a model that does not pays twice.) Production vocabularies are learned
# sub-words, not a word list with hand-made affixes: they start from bytes, so their character
# coverage is 100% of any text in any script, and their unknown-token rate is zero by
# construction. That is notebook 03.
#
# ## Summary
#
# - A vocabulary $\mathcal{V}$ is a set of tokens; sorted, it is $\mathcal{S} = (\mathbf{t}_1,
#   \dots,\mathbf{t}_{n_{\text{vocab}}})$. `Vocabulary(tokens, unknown=None)` sorts by Python's
#   string order, puts the unknown token last, and numbers the tokens from 0 in code (from 1 in
#   the maths).
# - Characters: 65 tokens cover all of Tiny Shakespeare, but one token per character makes long
#   sequences.
# - Words: far shorter sequences, but $\mathcal{V}$ grows with the text (word counts fall with rank
#   as $r^{-1.06}$, Zipf's law) and new text always brings unknown words; characters beside the
#   words spell them.
# - Prefixes and suffixes chosen by hand shorten the sequence by about 2%: too little to be worth it.
# - Larger $n_{\text{vocab}}$, shorter sequences, bigger and slower output layers; production
#   models settle near 50k learned sub-words (GPT-2: 50,257).
#
# ## Exercises
#
# Fill in each starter cell, run it, then run the `check` cell under it: it calls your function on
# several inputs, some drawn at random, and prints ✓ or a hint. Solutions are in
# `solutions/01_vocabulary.py`; try first.
#
# **01.1 Coverage.** Write the coverage of a sequence of tokens by a set of known tokens: the
# fraction of the *occurrences* (positions $j$) whose token is known, as in the formula above.

# %%
from llm_course.exercises import check


def my_coverage(known: set[str], tokens: list[str]) -> float:
    """The fraction of the positions of `tokens` that hold a token of `known`."""
    raise NotImplementedError  # your code here


check("01.1", my_coverage)

# %% [markdown]
# **01.2 Zipf's slope.** Given the counts of the distinct words (in any order), return the slope
# of the least-squares straight line through the points $(\log r, \log \text{count}_r)$ for the
# ranks $r$ from `first_rank` to `last_rank` (both included; rank 1 is the most frequent word).
# On the training words, `zipf_slope(list(word_counts.values()), 10, 1000)` should give the
# $-1.06$ above. (`np.polyfit(x, y, 1)` returns the slope first.)

# %%
def zipf_slope(counts: list[int], first_rank: int, last_rank: int) -> float:
    """The slope of log(count) against log(rank), fitted over ranks first_rank..last_rank."""
    raise NotImplementedError  # your code here


check("01.2", zipf_slope)

# %% [markdown]
# **01.3 Greedy longest match.** Cut a word into tokens of a vocabulary the way `greedy_pieces`
# does: from the left, take the longest token the rest of the word starts with, again and again.
# Every single letter of the word is in the vocabulary, so the cut always succeeds.

# %%
def greedy_split(word: str, vocabulary: set[str]) -> list[str]:
    """`word` cut into tokens of `vocabulary`, longest match first, from left to right."""
    raise NotImplementedError  # your code here


check("01.3", greedy_split)

# %% [markdown]
# Questions to think about (no check):
#
# 1. Lower-case the text before counting words. How much smaller is the all-words vocabulary, and
#    how does its unknown-token rate change?
# 2. Treat `'` as a letter (so `I'll` is one word). Does the unknown-token rate go up or down? Why?
# 3. Greedy longest match can cut badly: find a word it cuts into pieces that do not follow its
#    meaning (hint: try `there`, `reason` or `finest` with a short word list).
# 4. Estimate, with the GPT-2 numbers above, the size of the embedding table of a model with a
#    word vocabulary of 1,000,000 words.

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

peak_mb = check_peak_memory()
