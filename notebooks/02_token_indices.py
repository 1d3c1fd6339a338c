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
# # 02 · Token indices: encode and decode
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/02_token_indices.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/02_token_indices.ipynb)
#
# A neural network computes with numbers, not strings. So before an LLM sees a text, the text is
# cut into tokens of the vocabulary $\mathcal{V}$ (notebook 01) and every token is replaced by its
# **index**, a whole number. The model's input is that sequence of indices; its output, a
# probability for each index, is turned back into text the same way in reverse.
#
# This notebook sorts $\mathcal{V}$ into $\mathcal{S}$, defines the index of a token, and builds
# two **tokenizers**, one over characters and one over words, each with an `encode` (text to
# indices) and a `decode` (indices to text). It writes `llm_course.tokenizers`, and ends with the
# whole of Tiny Shakespeare as one tensor of indices: the input of every model that follows.

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
#| default_exp tokenizers

# %% [markdown]
# ## From the set $\mathcal{V}$ to the sequence $\mathcal{S}$
#
# A set has no order, so "the 7th token" means nothing until we fix one. We sort $\mathcal{V}$:
#
# $$\mathcal{S} = (\mathbf{t}_1, \mathbf{t}_2, \dots, \mathbf{t}_{n_{\text{vocab}}}),
# \qquad \mathbf{t}_1 < \mathbf{t}_2 < \dots < \mathbf{t}_{n_{\text{vocab}}}$$
#
# in Python's string order (by Unicode code point: the newline, then the space, punctuation,
# digits, capitals, lower case). The **index** of a token is its position in $\mathcal{S}$:
# $\mathbf{t}_i$ has index $i\in\mathcal{I}=\{1,\dots,n_{\text{vocab}}\}$. The order itself is
# arbitrary (any fixed order would do, and the model learns the same); what matters is that it
# never changes, because a model trained with one order is meaningless with another.
#
# **The maths counts from 1, the code counts from 0.** Python lists and PyTorch tensors start at
# 0, so in code the indices are $0,\dots,n_{\text{vocab}}-1$: the token the maths calls
# $\mathbf{t}_i$ is `vocabulary.tokens[i - 1]`, and the code index of a token is its maths index
# minus one. The course writes maths with 1 and code with 0, and says so wherever both appear.
# Here is the start and the end of $\mathcal{S}$ for the characters of Tiny Shakespeare:

# %%
from llm_course.data import load_text, train_val_split
from llm_course.reproducibility import set_seed
from llm_course.vocabulary import Vocabulary

set_seed(1337)  # nothing here is random; every notebook seeds first all the same
text = load_text("tiny-shakespeare")
train_text, val_text = train_val_split(text)
characters = Vocabulary(train_text)

print(f"n_vocab = {len(characters)}")
print(f"{'token':>7} | {'maths index i':>13} | {'code index':>10}")
print(f"{'-' * 7}-+-{'-' * 13}-+-{'-' * 10}")
for code_index in [0, 1, 2, 3, 9, 13, 14, 39, 40, 64]:
    token = characters.token(code_index)
    print(f"{token!r:>7} | {code_index + 1:>13} | {characters.index(token):>10}")
assert characters.tokens[0] == "\n" and characters.tokens[-1] == "z"
assert [characters.index(c) + 1 for c in "3Aa"] == [10, 14, 40]  # maths indices of '3', 'A', 'a'

# %% [markdown]
# So $\mathbf{t}_1$ is the newline and has code index 0; $\mathbf{t}_{65}$ is `z`, code index 64.
# The digit `3` is $\mathbf{t}_{10}$, the capital `A` is $\mathbf{t}_{14}$ and the small `a` is
# $\mathbf{t}_{40}$: in code 9, 13 and 39.
#
# ## Encode and decode
#
# A **tokenizer** holds a vocabulary and a rule for cutting text into its tokens. Its two maps are
#
# $$\text{encode}: \text{text} \mapsto (s_1, \dots, s_n) \in \mathcal{I}^n, \qquad
# \text{decode}: (s_1, \dots, s_n) \mapsto \text{text},$$
#
# and the property we want is the **round trip**: $\text{decode}(\text{encode}(x)) = x$ for every
# text $x$ the vocabulary can spell. A text with a character or word outside $\mathcal{V}$ is an
# error that names it, unless we ask for an unknown token; then it encodes, but the round trip
# gives back `<unk>` in its place.
#
# The character tokenizer is the simplest: every character is a token.

# %%
#| export
"""Tokenizers: text to a list of token indices and back, one token per character or per word.

`CharTokenizer` makes every character a token. `WordTokenizer` makes every run of ASCII letters
(`[A-Za-z]+`) a token and every other character (space, newline, punctuation, digit, any
non-ASCII character) a token of its own, so whitespace and punctuation are kept and `decode`
gives back the exact text. Both are built `from_text(text, unknown=None)`, hold a
`llm_course.vocabulary.Vocabulary`, and number tokens from 0 in code (1 in the maths).

Errors (each message names the bad value): `encode` of a character or word outside the
vocabulary raises `UnknownTokenError` (a `KeyError`) unless the tokenizer has an unknown token,
which then takes its place (and `decode` gives back the unknown token, not the original);
`decode` of an index outside 0..n_vocab - 1 raises `IndexError`, of a non-integer `TypeError`;
a text that is not a `str` raises `TypeError`.

Left out on purpose: sub-word tokens learned from data (notebook 03, `llm_course.bpe`),
normalising text (case, Unicode forms) and special tokens other than the unknown token.
"""

from __future__ import annotations

# %%
#| export
import re
from collections import Counter
from collections.abc import Iterable

from llm_course.vocabulary import UnknownTokenError, Vocabulary


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {text!r} of type {type(text).__name__}")
    return text


def _check_vocabulary(vocabulary: object) -> Vocabulary:
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(f"vocabulary must be a Vocabulary, got {vocabulary!r} of type {type(vocabulary).__name__}")
    return vocabulary


class CharTokenizer:
    """One token per character.

    >>> tokenizer = CharTokenizer.from_text("hello world")
    >>> tokenizer.vocabulary.tokens
    (' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w')
    >>> tokenizer.encode("hello")
    [3, 2, 4, 4, 5]
    >>> tokenizer.decode([7, 5, 6, 4, 1])
    'world'
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = _check_vocabulary(vocabulary)
        long_tokens = [t for t in vocabulary.tokens if len(t) != 1 and t != vocabulary.unknown]
        if long_tokens:
            raise ValueError(f"a character vocabulary holds single characters, got {long_tokens[0]!r}")
        self._index = {token: index for index, token in enumerate(vocabulary.tokens)}

    @classmethod
    def from_text(cls, text: str, unknown: str | None = None) -> CharTokenizer:
        """The tokenizer whose vocabulary is the distinct characters of `text` (plus `unknown`, last)."""
        return cls(Vocabulary(_check_text(text), unknown=unknown))

    @property
    def n_vocab(self) -> int:
        """The number of tokens, the unknown token included."""
        return len(self.vocabulary)

    def encode(self, text: str) -> list[int]:
        """The 0-based index of every character of `text`, in order."""
        unknown_index = self.vocabulary.unknown_index
        indices = []
        for position, character in enumerate(_check_text(text)):
            index = self._index.get(character, unknown_index)
            if index is None:
                raise UnknownTokenError(
                    f"character {character!r} (position {position} of the text) is not in the vocabulary "
                    f"of {self.n_vocab} characters; use from_text(..., unknown='<unk>') to encode it as unknown"
                )
            indices.append(index)
        return indices

    def decode(self, indices: Iterable[int]) -> str:
        """The text spelled by the 0-based token `indices`; `IndexError` names an index out of range."""
        return "".join(self.vocabulary.token(index) for index in indices)

    def __repr__(self) -> str:
        return f"CharTokenizer(n_vocab={self.n_vocab})"


# %% [markdown]
# Its vocabulary is built from the training text: the same 65 characters as the whole corpus.
# Encoding a line and decoding it back:

# %%
char_tokenizer = CharTokenizer.from_text(train_text)
line = "First Citizen:\nBefore we proceed any further, hear me speak."
indices = char_tokenizer.encode(line)
print(char_tokenizer, "  built on", char_tokenizer.vocabulary)
print("text:   ", repr(line[:20]))
print("indices:", indices[:20])
print("decoded:", repr(char_tokenizer.decode(indices[:20])))
print("the same indices counted from 1, as the maths does:", [i + 1 for i in indices[:20]])
assert char_tokenizer.n_vocab == 65 and char_tokenizer.decode(indices) == line

# %% [markdown]
# The round trip holds for the whole corpus, 1,115,394 characters:

# %%
all_indices = char_tokenizer.encode(text)
assert char_tokenizer.decode(all_indices) == text
print(f"decode(encode(text)) == text for all {len(text):,} characters; {len(all_indices):,} indices, "
      f"smallest {min(all_indices)}, largest {max(all_indices)}")

# %% [markdown]
# A character outside $\mathcal{V}$ is an error that names it, and so is an index outside
# $0,\dots,n_{\text{vocab}}-1$. With an unknown token, the text encodes, but the round trip is no
# longer exact:

# %%
for bad_call in (lambda: char_tokenizer.encode("café"), lambda: char_tokenizer.decode([7, 65])):
    try:
        bad_call()
    except (KeyError, IndexError) as error:
        print(f"{type(error).__name__}: {error}")

char_tokenizer_unk = CharTokenizer.from_text(train_text, unknown="<unk>")
ids = char_tokenizer_unk.encode("café")
print(f"with unknown='<unk>': n_vocab = {char_tokenizer_unk.n_vocab}, encode('café') = {ids}, "
      f"decode = {char_tokenizer_unk.decode(ids)!r}")
assert ids[-1] == char_tokenizer_unk.vocabulary.unknown_index == 65

# %% [markdown]
# ## A word tokenizer
#
# Words make shorter sequences (notebook 01). The rule we use: a **word** is a run of the letters
# `A`–`Z`, `a`–`z`; **every other character** (the space, the newline, each punctuation mark,
# each digit) is a token of its own. Nothing is thrown away, so decoding is joining the tokens
# and gives back the exact text. (Many word tokenizers split on whitespace and drop it; then
# `decode` must guess where the spaces went, and `"Hello,  world"` comes back as
# `"Hello , world"`. Keeping them costs sequence length: about a third of the tokens below are
# spaces and newlines.)
#
# Cases are kept (`The` and `the` are two tokens) and an apostrophe splits a word: `I'll` is
# `I`, `'`, `ll`. `from_text` can keep only the `max_words` most frequent words; the rest then
# need the unknown token.

# %%
#| export
WORD_PATTERN = re.compile(r"[A-Za-z]+|[^A-Za-z]")  # a run of letters, or any one other character


def split_words(text: str) -> list[str]:
    """Cut `text` into words (runs of A-Z, a-z) and single other characters; joining gives `text` back.

    >>> split_words("I'll go,  now!")
    ['I', "'", 'll', ' ', 'go', ',', ' ', ' ', 'now', '!']
    """
    return WORD_PATTERN.findall(_check_text(text))


class WordTokenizer:
    """One token per word (a run of letters) and one per other character; decode gives the exact text.

    >>> tokenizer = WordTokenizer.from_text("to be, or not to be")
    >>> tokenizer.vocabulary.tokens
    (' ', ',', 'be', 'not', 'or', 'to')
    >>> tokenizer.encode("not to be")
    [3, 0, 5, 0, 2]
    >>> tokenizer.decode([5, 0, 2, 1])
    'to be,'
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = _check_vocabulary(vocabulary)
        self._index = {token: index for index, token in enumerate(vocabulary.tokens)}

    @classmethod
    def from_text(cls, text: str, unknown: str | None = None, max_words: int | None = None) -> WordTokenizer:
        """The tokenizer whose vocabulary is the words and other characters of `text` (plus `unknown`, last).

        With `max_words`, only the `max_words` most frequent words are kept (ties broken by string
        order); every other character of `text` is always kept.
        """
        pieces = split_words(text)
        if max_words is None:
            return cls(Vocabulary(pieces, unknown=unknown))
        if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 0:
            raise ValueError(f"max_words must be a non-negative int or None, got {max_words!r}")
        counts = Counter(piece for piece in pieces if piece.isascii() and piece.isalpha())
        words = sorted(counts, key=lambda word: (-counts[word], word))[:max_words]
        others = {piece for piece in pieces if piece not in counts}
        return cls(Vocabulary([*words, *others], unknown=unknown))

    @property
    def n_vocab(self) -> int:
        """The number of tokens, the unknown token included."""
        return len(self.vocabulary)

    def tokenize(self, text: str) -> list[str]:
        """The tokens of `text` as strings (before they become indices)."""
        return split_words(text)

    def encode(self, text: str) -> list[int]:
        """The 0-based index of every word and every other character of `text`, in order."""
        unknown_index = self.vocabulary.unknown_index
        indices, position = [], 0
        for piece in self.tokenize(text):
            index = self._index.get(piece, unknown_index)
            if index is None:
                kind = "word" if piece.isascii() and piece.isalpha() else "character"
                raise UnknownTokenError(
                    f"{kind} {piece!r} (position {position} of the text) is not in the vocabulary of "
                    f"{self.n_vocab} tokens; use from_text(..., unknown='<unk>') to encode it as unknown"
                )
            indices.append(index)
            position += len(piece)
        return indices

    def decode(self, indices: Iterable[int]) -> str:
        """The text spelled by the 0-based token `indices`; `IndexError` names an index out of range."""
        return "".join(self.vocabulary.token(index) for index in indices)

    def __repr__(self) -> str:
        return f"WordTokenizer(n_vocab={self.n_vocab})"


# %%
word_tokenizer = WordTokenizer.from_text(text)
line = "KING RICHARD II:\nI'll be with you, my lord."
print(word_tokenizer)
print("tokens: ", word_tokenizer.tokenize(line))
print("indices:", word_tokenizer.encode(line))
print("decoded:", repr(word_tokenizer.decode(word_tokenizer.encode(line))))
assert word_tokenizer.decode(word_tokenizer.encode(line)) == line

word_indices = word_tokenizer.encode(text)
assert word_tokenizer.decode(word_indices) == text
spaces = sum(token in (" ", "\n") for token in split_words(text))
print(f"the whole corpus: {len(word_indices):,} tokens ({len(text) / len(word_indices):.2f} characters per token), "
      f"{spaces / len(word_indices):.0%} of them spaces or newlines; decode(encode(text)) == text")

# %% [markdown]
# Exact, because the vocabulary was built from the whole text. Build it from the training text
# alone and the validation text holds words it never saw (notebook 01: about 6% of them). Without
# an unknown token, encoding fails and names the first one; with `unknown="<unk>"` it encodes, and
# decoding shows exactly what was lost:

# %%
train_words_tokenizer = WordTokenizer.from_text(train_text)
try:
    train_words_tokenizer.encode(val_text)
except KeyError as error:
    print(f"{type(error).__name__}: {error}")

with_unknown = WordTokenizer.from_text(train_text, unknown="<unk>")
passage = val_text[:3000]
round_trip = with_unknown.decode(with_unknown.encode(passage))
print(f"\nn_vocab = {with_unknown.n_vocab:,}; the unknown token {with_unknown.vocabulary.unknown!r} has the last index, "
      f"{with_unknown.vocabulary.unknown_index:,}")
lost = [token for token in with_unknown.tokenize(passage) if token not in with_unknown.vocabulary]
print(f"the first 3,000 validation characters: {len(lost)} unknown words {lost}")
print("where the round trip differs (original, then decode(encode(original))):")
for original_line, decoded_line in [pair for pair in zip(passage.splitlines(), round_trip.splitlines(), strict=True)
                                    if pair[0] != pair[1]][:3]:
    print(f"  {original_line!r}\n  {decoded_line!r}")
assert round_trip != passage and round_trip.count("<unk>") == len(lost) > 0

# %% [markdown]
# The other direction has a catch for words: `encode(decode(indices))` need not give back
# `indices`. Decode the indices of `to` and `be` with nothing between them and you get the text
# `tobe`, which encodes as one unknown word. A tokenizer guarantees the round trip from text, not
# from any sequence of indices; a model that writes two words without a space writes a new word.

# %%
small = WordTokenizer.from_text("to be or not to be", unknown="<unk>")
joined = small.decode([small.vocabulary.index("to"), small.vocabulary.index("be")])
print(repr(joined), "->", small.encode(joined), "=", [small.vocabulary.token(i) for i in small.encode(joined)])
assert small.encode(joined) == [small.vocabulary.unknown_index]

# %% [markdown]
# ## The input of an LLM is a sequence of indices
#
# From here on, models never see a string. They see a tensor of integer indices of type
# `torch.long` (64-bit integers, what PyTorch uses to index rows of a table). Here is all of Tiny
# Shakespeare as character indices, split into training and validation the same way as the text:

# %%
import torch

data = torch.tensor(char_tokenizer.encode(text), dtype=torch.long)  # (N,)
train_data, val_data = train_val_split(data)
print("data:", data.dtype, tuple(data.shape))
print("the first 24 indices:", data[:24].tolist())
print(f"training {tuple(train_data.shape)}, validation {tuple(val_data.shape)}")
print("decoded:", repr(char_tokenizer.decode(data[:24])))
assert data.dtype == torch.long and data.shape == (len(text),)
assert int(data.min()) >= 0 and int(data.max()) < char_tokenizer.n_vocab
assert char_tokenizer.decode(train_data.tolist()) == train_text

# %% [markdown]
# The same corpus as word indices is less than half as long, and its indices run up to a much
# larger $n_{\text{vocab}}$:

# %%
word_data = torch.tensor(word_tokenizer.encode(text), dtype=torch.long)  # (N_words,)
print("word indices:", word_data.dtype, tuple(word_data.shape), f"  n_vocab = {word_tokenizer.n_vocab:,}")
print(f"characters: {data.numel():,} indices in 0..{char_tokenizer.n_vocab - 1}; "
      f"words: {word_data.numel():,} indices in 0..{word_tokenizer.n_vocab - 1:,}")
assert word_data.numel() < data.numel() / 2

# %% [markdown]
# ## Summary
#
# - Sorting $\mathcal{V}$ (here by Python's string order) gives $\mathcal{S} = (\mathbf{t}_1,
#   \dots, \mathbf{t}_{n_{\text{vocab}}})$; the index of $\mathbf{t}_i$ is $i$ in the maths and
#   $i-1$ in code. Any order works, as long as it never changes.
# - A tokenizer's `encode` maps text to indices and `decode` maps them back;
#   `decode(encode(x)) == x` for every text the vocabulary can spell.
# - `CharTokenizer`: 65 tokens for Tiny Shakespeare, one index per character.
#   `WordTokenizer`: words and single other characters, exact round trip, 13,333 tokens.
# - Outside the vocabulary: an error naming the character or word, or, if asked, an unknown token,
#   which encodes everything but loses what it replaces.
# - The model's input is a `torch.long` tensor of indices: all of Tiny Shakespeare is one of
#   shape `(1115394,)`.
#
# ## Exercises
#
# 1. Sort the character vocabulary by frequency instead (most frequent first). Which indices
#    change? Would a model trained with one order work with the other?
# 2. Write a `LowerWordTokenizer` that lower-cases before splitting. What does `decode` give back
#    now, and what is its $n_{\text{vocab}}$ on Tiny Shakespeare?
# 3. Change `WORD_PATTERN` so that a word takes its leading space with it (`" the"`, as GPT-2's
#    tokens do). How long is the corpus in tokens now? Is the round trip still exact?
# 4. Build a `WordTokenizer` with `max_words=1000, unknown="<unk>"` from the training text. What
#    fraction of the validation tokens is `<unk>`?
# 5. Find a sequence of indices `ids` of the character tokenizer for which
#    `encode(decode(ids)) != ids`, or explain why none exists.

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

peak_mb = check_peak_memory()
