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
# the maths is `vocabulary.token(i - 1)` in the code, and `vocabulary.index(t)` returns the
# 0-based index.
#
# The class below is that idea and little more. It also holds an optional **unknown token**
# (often written `<unk>`): a token that stands for anything not in $\mathcal{V}$. We put it
# *last*, after the sorted tokens, so that adding it never changes the index of another token.

# %%
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

# %%
#| export
import operator
from collections.abc import Iterable, Iterator, Sequence


class UnknownTokenError(KeyError):
    """A token that is not in the vocabulary. A `KeyError`, so `except KeyError` catches it too."""

    def __str__(self) -> str:  # KeyError would show the message in quotes; show it as written
        return str(self.args[0]) if self.args else ""


class Vocabulary:
    """A set of tokens sorted into the sequence S = (t_1, ..., t_n_vocab), indexed from 0 in code.

    >>> vocabulary = Vocabulary(["b", "a", "c", "a"])   # any iterable of strings; duplicates collapse
    >>> len(vocabulary), vocabulary.tokens
    (3, ('a', 'b', 'c'))
    >>> vocabulary.index("c"), vocabulary.token(0), "b" in vocabulary
    (2, 'a', True)
    >>> with_unknown = Vocabulary("banana", unknown="<unk>")   # a string is an iterable of characters
    >>> with_unknown.tokens, with_unknown.index("z")
    (('a', 'b', 'n', '<unk>'), 3)
    """

    def __init__(self, tokens: Iterable[str], unknown: str | None = None) -> None:
        if unknown is not None:
            self._check_token(unknown, what="the unknown token")
        distinct: set[str] = set()
        for token in tokens:
            self._check_token(token, what="a token")
            distinct.add(token)
        distinct.discard(unknown)  # the unknown token has its own place, at the end
        if not distinct:
            shown = repr(tokens) if isinstance(tokens, (str, list, tuple, set, frozenset, dict)) else "an empty iterable"
            besides = f" besides the unknown token {unknown!r}" if unknown is not None else ""
            raise ValueError(f"a vocabulary needs at least one token{besides}, got 0 tokens from {shown}")
        self._tokens: tuple[str, ...] = tuple(sorted(distinct)) + ((unknown,) if unknown is not None else ())
        self._index: dict[str, int] = {token: index for index, token in enumerate(self._tokens)}
        self.unknown = unknown

    @staticmethod
    def _check_token(token: object, what: str) -> None:
        if not isinstance(token, str):
            raise TypeError(f"{what} must be a str, got {token!r} of type {type(token).__name__}")
        if token == "":
            raise ValueError(f"{what} must not be the empty string '' (it would spell nothing)")

    @property
    def tokens(self) -> tuple[str, ...]:
        """S: the sorted tokens, then the unknown token (if any). `tokens[i - 1]` is t_i of the maths."""
        return self._tokens

    @property
    def n_vocab(self) -> int:
        """The number of tokens, the unknown token included (the same as `len(vocabulary)`)."""
        return len(self._tokens)

    @property
    def unknown_index(self) -> int | None:
        """The index of the unknown token (always the last one), or `None` when there is none."""
        return None if self.unknown is None else len(self._tokens) - 1

    def index(self, token: str) -> int:
        """The 0-based index of `token`; of the unknown token if `token` is not in the vocabulary.

        Raises `UnknownTokenError` (a `KeyError`) naming `token` when it is not in the vocabulary
        and there is no unknown token, and `TypeError` when `token` is not a `str`.

        >>> Vocabulary("abc").index("b")
        1
        """
        if not isinstance(token, str):
            raise TypeError(f"a token must be a str, got {token!r} of type {type(token).__name__}")
        index = self._index.get(token)
        if index is not None:
            return index
        if self.unknown is not None:
            return len(self._tokens) - 1
        raise UnknownTokenError(
            f"token {token!r} is not in the vocabulary (n_vocab = {len(self._tokens)}); "
            "build the vocabulary with unknown='<unk>' to map such tokens to an unknown token"
        )

    def token(self, index: int) -> str:
        """The token with 0-based index `index` (t_{index + 1} of the maths).

        Raises `TypeError` naming `index` when it is not an integer (a `bool` or a float is not),
        and `IndexError` naming it when it is below 0 or at least n_vocab.

        >>> Vocabulary("abc").token(2)
        'c'
        """
        if isinstance(index, bool):
            raise TypeError(f"a token index must be an int, got {index!r} of type bool")
        try:
            position = operator.index(index)  # accepts int, NumPy and 0-d PyTorch integers
        except TypeError:
            raise TypeError(f"a token index must be an int, got {index!r} of type {type(index).__name__}") from None
        if not 0 <= position < len(self._tokens):
            raise IndexError(
                f"token index {position} is out of range: this vocabulary has n_vocab = {len(self._tokens)} "
                f"tokens, with indices 0..{len(self._tokens) - 1} in code"
            )
        return self._tokens[position]

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and token in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._tokens)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self._tokens == other._tokens and self.unknown == other.unknown

    def __hash__(self) -> int:
        return hash((self._tokens, self.unknown))

    def __repr__(self) -> str:
        shown = list(self._tokens[:5])
        more = f", ... ({len(self._tokens) - 5} more)" if len(self._tokens) > 5 else ""
        unknown = f", unknown={self.unknown!r}" if self.unknown is not None else ""
        return f"Vocabulary(n_vocab={len(self._tokens)}, tokens={shown}{more}{unknown})"


def coverage(vocabulary: Vocabulary, tokens: Sequence[str]) -> float:
    """The fraction of the occurrences in `tokens` that are tokens of `vocabulary`.

    The unknown token itself does not count as known: coverage measures what the vocabulary can
    spell exactly. Raises `ValueError` on an empty sequence.

    >>> coverage(Vocabulary(["to", "be"]), ["to", "be", "or", "not", "to", "be"])
    0.6666666666666666
    """
    if len(tokens) == 0:
        raise ValueError("coverage of an empty sequence of tokens is undefined; got 0 tokens")
    known = sum(1 for token in tokens if token in vocabulary and token != vocabulary.unknown)
    return known / len(tokens)


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
assert all(vocabulary.token(vocabulary.index(t)) == t for t in vocabulary.tokens)

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
import re
import string
from collections import Counter

from llm_course.data import load_text, train_val_split
from llm_course.reproducibility import set_seed

set_seed(1337)  # nothing here is random; every notebook seeds first all the same
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
keyboard = Vocabulary(string.ascii_letters + string.digits + string.punctuation + " \n")
train_characters = Vocabulary(train_text)
print(f"keyboard characters:      n_vocab = {len(keyboard)}")
print(f"training-text characters: n_vocab = {len(train_characters)}")
print("  ", repr("".join(train_characters.tokens)))
print("keyboard characters Shakespeare never types:", repr("".join(t for t in keyboard if t not in train_characters)))
assert len(keyboard) == 96 and len(train_characters) == 65
assert all(t in keyboard for t in train_characters)

# %% [markdown]
# **Coverage** is the fraction of the validation text that a vocabulary can spell exactly. For
# characters it is the fraction of validation characters that are tokens:
#
# $$\text{coverage} = \frac{\#\{\text{positions } j : c_j \in \mathcal{V}\}}{\#\{\text{positions}\}}.$$

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
word_pattern = re.compile(r"[A-Za-z]+")
train_words = word_pattern.findall(train_text)
val_words = word_pattern.findall(val_text)
word_counts = Counter(train_words)
print(f"training text: {len(train_words):,} words, {len(word_counts):,} distinct")
print(f"validation text: {len(val_words):,} words, {len(set(val_words)):,} distinct")
print("the 12 most frequent:", [f"{w} {n}" for w, n in word_counts.most_common(12)])

# %% [markdown]
# ### Frequency against rank: Zipf's law
#
# Sort the words by how often they occur and plot the count against the rank, both on log
# scales. The points fall close to a straight line of slope about $-1$ (Zipf's law): the word of
# rank $r$ occurs about $1/r$ times as often as the most frequent one. A few words are
# everywhere, and a long tail of words occurs once or twice. Characters follow a different
# curve: there are few of them and even the rarest occur a handful of times.

# %%
import matplotlib.pyplot as plt
import numpy as np

word_frequencies = np.array(sorted(word_counts.values(), reverse=True))
character_frequencies = np.array(sorted(Counter(train_text).values(), reverse=True))
ranks = np.arange(1, len(word_frequencies) + 1)
slope = np.polyfit(np.log(ranks[9:1000]), np.log(word_frequencies[9:1000]), 1)[0]
seen_once = int((word_frequencies == 1).sum())
print(f"slope of log count against log rank (ranks 10..1000): {slope:.2f}")
print(f"words seen once in training: {seen_once:,} of {len(word_frequencies):,} ({seen_once / len(word_frequencies):.0%})")

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.loglog(ranks, word_frequencies, ".", markersize=3, label=f"words ({len(word_frequencies):,} distinct)")
ax.loglog(np.arange(1, len(character_frequencies) + 1), character_frequencies, "o-", markersize=3,
          label=f"characters ({len(character_frequencies)} distinct)")
ax.loglog(ranks, word_frequencies[0] / ranks, "k--", linewidth=1, label="Zipf: count ∝ 1 / rank")
ax.set_xlabel("rank (1 = most frequent)")
ax.set_ylabel("count in the training text")
ax.set_title("Token frequency against rank: a few words are everywhere, most are rare")
ax.legend()
plt.show()
assert -1.3 < slope < -0.7

# %% [markdown]
# ### Unknown words
#
# A vocabulary of words alone cannot spell a word it has not seen: the tokenizer must replace it
# by the unknown token `<unk>`, and the model loses it. The **unknown-token rate** is the fraction
# of validation words that are not in $\mathcal{V}$ (one minus the word coverage). We try the
# 1,000, 5,000 and 10,000 most frequent training words, and all of them.

# %%
sizes = [1_000, 5_000, 10_000, len(word_counts)]
word_vocabularies = {
    k: Vocabulary([w for w, _ in word_counts.most_common(k)], unknown="<unk>") for k in sizes
}
unknown_rates = {}
print(f"{'words kept':>12} {'n_vocab':>8} {'word coverage':>14} {'unknown rate':>13}")
for k, vocab in word_vocabularies.items():
    unknown_rates[k] = 1 - coverage(vocab, val_words)
    print(f"{k:>12,} {len(vocab):>8,} {1 - unknown_rates[k]:>14.2%} {unknown_rates[k]:>13.2%}")
unseen = Counter(w for w in val_words if w not in word_counts)
print(f"{sum(unseen.values()):,} unknown occurrences of {len(unseen):,} distinct unseen words; the most frequent:")
print("  ", [w for w, _ in unseen.most_common(10)])
print("   and in lower case:", [w for w, _ in unseen.most_common() if w.islower()][:24])
assert unknown_rates[1_000] > unknown_rates[5_000] > unknown_rates[10_000] > unknown_rates[len(word_counts)] > 0

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
    """Cut `word` into tokens of `vocabulary`, taking the longest match at each step.

    greedy_pieces("unkind", Vocabulary(["un", "kind", *"unkid"]), 4) -> ['un', 'kind']
    """
    pieces, start = [], 0
    while start < len(word):
        for end in range(min(len(word), start + longest), start, -1):
            if word[start:end] in vocabulary:
                pieces.append(word[start:end])
                start = end
                break
        else:
            raise ValueError(f"{word[start]!r} in {word!r} is not in the vocabulary")
    return pieces


def tokenize(text: str, vocabulary: Vocabulary) -> list[str]:
    """Words (runs of letters) by greedy longest match; every other character is one token."""
    longest = max(len(t) for t in vocabulary)
    cache: dict[str, list[str]] = {}
    tokens: list[str] = []
    for piece in re.findall(r"[A-Za-z]+|[^A-Za-z]", text):
        if piece not in cache:
            cache[piece] = greedy_pieces(piece, vocabulary, longest)
        tokens.extend(cache[piece])
    return tokens


example_vocab = Vocabulary([*train_characters.tokens, "un", "kind"])
print(greedy_pieces("unkind", example_vocab, 4), greedy_pieces("unkindly", example_vocab, 4))
assert "".join(tokenize(val_text[:500], train_characters)) == val_text[:500]
assert len(tokenize(val_text, train_characters)) == len(val_text)

# %% [markdown]
# ## Kind 3: prefixes and suffixes
#
# Many unknown words are known words with a prefix or a suffix: `un`+`kiss`, `want`+`ing`. Adding
# common affixes to $\mathcal{V}$ lets the greedy rule spell such a word with two or three tokens
# instead of one per letter. Here is a short hand-made list of English (and Shakespearean:
# `eth`, `est`) affixes, with how many training words start or end with each:

# %%
prefixes = ["un", "re", "dis", "mis", "in", "im", "en", "fore", "over", "out", "be", "pre", "de", "with"]
suffixes = ["ing", "ed", "s", "es", "er", "est", "eth", "st", "ly", "ness", "ment", "ful", "less", "able",
            "tion", "ous", "ance", "ence", "ity", "ship", "ward", "y", "en"]
affixes = sorted(set(prefixes + suffixes))
distinct_words = list(word_counts)
print("prefix: training words starting with it")
print("  ", ", ".join(f"{p} {sum(w.lower().startswith(p) for w in distinct_words)}" for p in prefixes))
print("suffix: training words ending with it")
print("  ", ", ".join(f"{s} {sum(w.endswith(s) for w in distinct_words)}" for s in suffixes))
print(f"{len(affixes)} distinct affixes")

# %% [markdown]
# ## The trade-off: $n_{\text{vocab}}$ against sequence length
#
# Now every vocabulary side by side, measured on the validation text: $n_{\text{vocab}}$; the
# word coverage (validation words that are one token); the character coverage (validation
# characters the vocabulary can spell at all); and the length of the token sequence of the
# validation text, with the average number of characters per token.

# %%
def measure(name: str, vocab: Vocabulary) -> dict:
    tokens = tokenize(val_text, vocab)
    assert "".join(tokens) == val_text  # every vocabulary here spells the text exactly
    return {
        "name": name,
        "n_vocab": len(vocab),
        "word coverage": coverage(vocab, val_words),
        "character coverage": coverage(vocab, val_characters),
        "tokens": len(tokens),
        "characters per token": len(val_text) / len(tokens),
    }


characters = train_characters.tokens
top = {k: [w for w, _ in word_counts.most_common(k)] for k in [100, 300, *sizes]}
rows = [measure("1: characters", train_characters)]
rows += [measure(f"2: + top {k:,} words", Vocabulary([*characters, *top[k]])) for k in [1_000, 5_000, 10_000]]
rows.append(measure("2: + all training words", Vocabulary([*characters, *top[len(word_counts)]])))
rows += [measure(f"3: + top {k:,} words + affixes", Vocabulary([*characters, *top[k], *affixes]))
         for k in [1_000, 5_000, 10_000]]
rows.append(measure("3: + all words + affixes", Vocabulary([*characters, *top[len(word_counts)], *affixes])))

print(f"{'vocabulary':32} {'n_vocab':>8} {'word cov.':>10} {'char cov.':>10} {'tokens':>9} {'chars/token':>12}")
for row in rows:
    print(f"{row['name']:32} {row['n_vocab']:>8,} {row['word coverage']:>10.2%} {row['character coverage']:>10.2%} "
          f"{row['tokens']:>9,} {row['characters per token']:>12.2f}")
by_name = {row["name"]: row for row in rows}
assert by_name["2: + all training words"]["tokens"] < by_name["2: + top 1,000 words"]["tokens"] < len(val_text)
assert by_name["3: + top 1,000 words + affixes"]["tokens"] < by_name["2: + top 1,000 words"]["tokens"]

# %% [markdown]
# Three things to read in the table. The characters alone already "cover" 6.6% of the words: the
# one-letter words such as `I`, `a` and `s`. Words cut the sequence to less than half the characters'
# length (most of what remains are spaces and punctuation, one token each), and most of that gain
# comes from the first thousand words: Zipf's law again. Our hand-made affixes help, but little:
# about 2% shorter with 1,000 words, less with more, because the greedy rule only uses a suffix
# when the rest of the word happens to be cut just before it. Choosing sub-words by hand does not
# scale; notebook 03 learns them from data.
#
# The plot shows the whole curve, sweeping the number of words kept:

# %%
sweep = [0, 30, 100, 300, 1_000, 3_000, 5_000, 10_000, len(word_counts)]
curves = {}
for with_affixes in (False, True):
    extra = affixes if with_affixes else []
    curves[with_affixes] = [
        (len(v), len(tokenize(val_text, v)))
        for v in (Vocabulary([*characters, *[w for w, _ in word_counts.most_common(k)], *extra]) for k in sweep)
    ]

fig, ax = plt.subplots(figsize=(7, 4.5))
for with_affixes, label in [(False, "characters + top-k words"), (True, "characters + top-k words + affixes")]:
    n_vocabs, lengths = zip(*curves[with_affixes], strict=True)
    ax.plot(n_vocabs, lengths, "o-", label=label)
ax.set_xscale("log")
ax.set_xlabel("$n_{vocab}$ (log scale)")
ax.set_ylabel("tokens in the validation text")
ax.set_title("A larger vocabulary, a shorter sequence: the gains shrink fast")
ax.axhline(len(val_text), color="grey", linestyle=":", label="one token per character")
ax.legend()
plt.show()
print("n_vocab -> tokens:", [f"{n:,} -> {t:,}" for n, t in curves[False]])
assert [t for _, t in curves[False]] == sorted((t for _, t in curves[False]), reverse=True)

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
# The curve above flattens quickly, so past some size each extra token buys little. Production
# models settle at tens of thousands: GPT-2 has $n_{\text{vocab}} = 50{,}257$, that is 256 byte
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
# - Words: far shorter sequences, but $\mathcal{V}$ grows with the text (Zipf's law) and new
#   text always brings unknown words; characters beside the words spell them.
# - Prefixes and suffixes spell some unknown words in a few tokens; chosen by hand they help little.
# - Larger $n_{\text{vocab}}$, shorter sequences, bigger and slower output layers; production
#   models settle near 50k learned sub-words (GPT-2: 50,257).
#
# ## Exercises
#
# 1. Lower-case the text before counting words. How much smaller is the all-words vocabulary, and
#    how does its unknown-token rate change?
# 2. Treat `'` as a letter (so `I'll` is one word). Does the unknown-token rate go up or down? Why?
# 3. Add the 20 affixes you think matter most for Shakespeare (look at the unseen validation words
#    printed above). How much shorter does the validation sequence of "top 1,000 words + affixes" get?
# 4. Greedy longest match can cut badly: find a word it cuts into pieces that do not follow its
#    meaning (hint: try `there`, `reason` or `finest` with a short word list).
# 5. Estimate, with the GPT-2 numbers above, the size of the embedding table of a model with a
#    word vocabulary of 1,000,000 words.

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

peak_mb = check_peak_memory()
