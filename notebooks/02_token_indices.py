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
# indices) and a `decode` (indices to text). It draws a line of text as a strip of tokens over
# their indices, gives you a box to type into, and ends with the whole of Tiny Shakespeare as one
# tensor of indices: the input of every model that follows. It writes `llm_course.tokenizers`.

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
# in Python's string order, which compares characters by their Unicode code point. For the
# characters of Tiny Shakespeare that order is: the newline, the space, the punctuation marks
# `!$&',-.`, the digit `3`, then `:;?` (which come after the digits in Unicode), the capitals,
# and the small letters. The **index** of a token is its position in $\mathcal{S}$:
# $\mathbf{t}_i$ has index $i\in\mathcal{I}=\{1,\dots,n_{\text{vocab}}\}$. The order itself is
# arbitrary (any fixed order would do, and the model learns the same); what matters is that it
# never changes, because a model trained with one order is meaningless with another.
#
# **The maths counts from 1, the code counts from 0.** Python lists and PyTorch tensors start at
# 0, so in code the indices are $0,\dots,n_{\text{vocab}}-1$: the token the maths calls
# $\mathbf{t}_i$ is `vocabulary.tokens[i - 1]`, and the code index of a token is its maths index
# minus one. The course writes maths with 1 and code with 0, and says so wherever both appear.
# Here is the start and the end of $\mathcal{S}$ for the characters of the training text:

# %%
from llm_course.data import load_text, train_val_split
from llm_course.reproducibility import set_seed
from llm_course.vocabulary import Vocabulary

set_seed(1337)  # nothing here is random, but every notebook seeds first, out of habit
text = load_text("tiny-shakespeare")
train_text, val_text = train_val_split(text)
characters = Vocabulary(train_text)

print(f"n_vocab = {len(characters)}")
print(f"{'token':>7} | {'maths index i':>13} | {'code index':>10}")
for code_index in [0, 1, 2, 3, 9, 10, 12, 13, 39, 64]:
    token = characters.token(code_index)
    print(f"{token!r:>7} | {code_index + 1:>13} | {characters.index(token):>10}")
assert "".join(characters.tokens[:13]) == "\n !$&',-.3:;?" and characters.tokens[-1] == "z"
assert [characters.index(c) + 1 for c in "3Aa"] == [10, 14, 40]  # maths indices of '3', 'A', 'a'

# %% [markdown]
# So $\mathbf{t}_1$ is the newline and has code index 0; $\mathbf{t}_{65}$ is `z`, code index 64.
# The digit `3` is $\mathbf{t}_{10}$, the colon after it $\mathbf{t}_{11}$, the capital `A` is
# $\mathbf{t}_{14}$ and the small `a` is $\mathbf{t}_{40}$: in code 9, 10, 13 and 39.
#
# ## Encode and decode
#
# A **tokenizer** holds a vocabulary and a rule for cutting text into its tokens. Its two maps are
#
# $$\text{encode}: \text{text} \mapsto (s_1, \dots, s_\ell) \in \mathcal{I}^\ell, \qquad
# \text{decode}: (s_1, \dots, s_\ell) \mapsto \text{text},$$
#
# and the property we want is the **round trip**: $\text{decode}(\text{encode}(x)) = x$ for every
# text $x$ the vocabulary can spell. A text with a character or word outside $\mathcal{V}$ is an
# error that names it, unless we ask for an unknown token; then it encodes, but the round trip
# gives back `<unk>` in its place.
#
# The character tokenizer is the simplest: every character is a token. Its `encode` looks each
# character up in a dictionary from token to index; its `decode` looks each index up in
# $\mathcal{S}$ and joins the tokens. (The checks, the error for a character outside
# $\mathcal{V}$, and the module's docstring are in the folded cells.)

# %% jupyter={"source_hidden": true}
#| export
"""Tokenizers: text to a list of token indices and back, one token per character or per word.

`CharTokenizer` makes every character a token. `WordTokenizer` makes every run of ASCII letters
(`[A-Za-z]+`) a token and every other character (space, newline, punctuation, digit, any
non-ASCII character) a token of its own, so whitespace and punctuation are kept and `decode`
gives back the exact text. Both are built `from_text(text, unknown=None)`, hold a
`llm_course.vocabulary.Vocabulary`, and number tokens from 0 in code (1 in the maths). A word
tokenizer built with `character_fallback=True` also holds every letter, and spells a word it does
not know letter by letter (notebook 01's characters beside the words), so nothing is lost.

Errors (each message names the bad value): `encode` of a character or word outside the
vocabulary raises `UnknownTokenError` (a `KeyError`) unless the tokenizer has an unknown token,
which then takes its place (and `decode` gives back the unknown token, not the original);
`decode` of an index outside 0..n_vocab - 1 raises `IndexError`, of a non-integer `TypeError`;
a text that is not a `str` raises `TypeError`.

For looking at tokens (any tokenizer with `encode` and `decode`, `llm_course.bpe`'s too):
`token_strings`, `describe_tokens` (the printed view), `draw_token_strips` (a figure: each token
as a box over its index, boxes as wide as the characters they spell) and `token_box` (a text box
to type into, with the printed view as its fallback).

Left out on purpose: sub-word tokens learned from data (notebook 03, `llm_course.bpe`),
normalising text (case, Unicode forms) and special tokens other than the unknown token.
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from llm_course.vocabulary import UnknownTokenError, Vocabulary


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {text!r} of type {type(text).__name__}")
    return text


def _check_vocabulary(vocabulary: object, characters_only: bool = False) -> Vocabulary:
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(f"vocabulary must be a Vocabulary, got {vocabulary!r} of type {type(vocabulary).__name__}")
    long_tokens = [token for token in vocabulary.tokens if len(token) != 1 and token != vocabulary.unknown]
    if characters_only and long_tokens:
        raise ValueError(f"a character vocabulary holds single characters, got {long_tokens[0]!r}")
    return vocabulary


class _TokenizerPlumbing:
    """What both tokenizers need besides the idea: the error for a token outside the vocabulary, printing."""

    vocabulary: Vocabulary
    _unit = "tokens"  # how the error message counts the vocabulary

    @property
    def n_vocab(self) -> int:
        """The number of tokens, the unknown token included."""
        return len(self.vocabulary)

    def _unknown(self, tokens: Sequence[str], k: int) -> int:
        """The unknown token's index for `tokens[k]`, which is not in the vocabulary, or an error naming it."""
        if self.vocabulary.unknown is not None:
            return self.vocabulary.unknown_index
        token, position = tokens[k], sum(len(before) for before in tokens[:k])
        kind = "word" if self._unit == "tokens" and token.isascii() and token.isalpha() else "character"
        raise UnknownTokenError(
            f"{kind} {token!r} (position {position} of the text) is not in the vocabulary of "
            f"{self.n_vocab} {self._unit}; use from_text(..., unknown='<unk>') to encode it as unknown"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_vocab={self.n_vocab})"

# %%
#| export
class CharTokenizer(_TokenizerPlumbing):
    """One token per character.

    >>> tokenizer = CharTokenizer.from_text("hello world")
    >>> tokenizer.vocabulary.tokens
    (' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w')
    >>> tokenizer.encode("hello"), tokenizer.decode([7, 5, 6, 4, 1])
    ([3, 2, 4, 4, 5], 'world')
    """

    _unit = "characters"

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = _check_vocabulary(vocabulary, characters_only=True)
        self._index = {token: index for index, token in enumerate(vocabulary.tokens)}  # character -> index

    @classmethod
    def from_text(cls, text: str, unknown: str | None = None) -> CharTokenizer:
        """The tokenizer whose vocabulary is the distinct characters of `text` (plus `unknown`, last)."""
        return cls(Vocabulary(_check_text(text), unknown=unknown))

    def encode(self, text: str) -> list[int]:
        """The 0-based index of every character of `text`, in order."""
        index = self._index
        return [index[c] if c in index else self._unknown(text, k) for k, c in enumerate(_check_text(text))]

    def decode(self, indices: Iterable[int]) -> str:
        """The text spelled by the 0-based token `indices`."""
        return "".join(self.vocabulary.token(index) for index in indices)


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
# The round trip holds for the whole corpus, 1,115,394 characters, and a character outside
# $\mathcal{V}$ is an error that names it, as is an index outside $0,\dots,n_{\text{vocab}}-1$.
# With an unknown token the text encodes, but the round trip is no longer exact:

# %%
all_indices = char_tokenizer.encode(text)
assert char_tokenizer.decode(all_indices) == text
print(f"decode(encode(text)) == text for all {len(text):,} characters; indices from {min(all_indices)} "
      f"to {max(all_indices)}")
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
# and gives back the exact text: `"Hello,  world"`, with two spaces, is `Hello`, `,`, ` `, ` `,
# `world`. (Many word tokenizers split off punctuation, split on whitespace and drop it; then
# `decode` must guess where the spaces went, and joining the tokens with one space gives back
# `"Hello , world"`.) Cases are kept (`The` and `the` are two tokens) and an apostrophe splits a
# word: `I'll` is `I`, `'`, `ll`.
#
# As notebook 01 teaches, we build it from the **training** text, so the validation text holds
# words it has never seen (about 6% of them). What should `encode` do with one? Notebook 01's
# answer was to keep the characters beside the words and spell an unknown word with them; that is
# `character_fallback=True`, which adds every letter to $\mathcal{V}$. The other answer, the
# classic one, is to replace the word by the unknown token `<unk>`: the sequence stays one token
# per word, and the word is lost. `from_text` can also keep only the `max_words` most frequent
# words, leaving the rest to the fallback or to `<unk>`.

# %% jupyter={"source_hidden": true}
#| export
def _is_word(piece: str) -> bool:
    """Whether a piece of `split_words` is a word (a run of ASCII letters), not another character."""
    return piece.isascii() and piece.isalpha()


def _words_to_keep(pieces: Sequence[str], max_words: int | None) -> list[str]:
    """The words among `pieces`: all of them, or the `max_words` most frequent (ties broken by string order)."""
    counts = Counter(piece for piece in pieces if _is_word(piece))
    if max_words is None:
        return list(counts)
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 0:
        raise ValueError(f"max_words must be a non-negative int or None, got {max_words!r}")
    return sorted(counts, key=lambda word: (-counts[word], word))[:max_words]


# %%
#| export
WORD_PATTERN = re.compile(r"[A-Za-z]+|[^A-Za-z]")  # a run of letters, or any one other character


def split_words(text: str) -> list[str]:
    """Cut `text` into words (runs of A-Z, a-z) and single other characters; joining gives `text` back.

    >>> split_words("I'll go,  now!")
    ['I', "'", 'll', ' ', 'go', ',', ' ', ' ', 'now', '!']
    """
    return WORD_PATTERN.findall(_check_text(text))


class WordTokenizer(_TokenizerPlumbing):
    """One token per word (a run of letters) and one per other character; decode gives the exact text.

    >>> tokenizer = WordTokenizer.from_text("to be, or not to be")
    >>> tokenizer.vocabulary.tokens
    (' ', ',', 'be', 'not', 'or', 'to')
    >>> tokenizer.encode("not to be"), tokenizer.decode([5, 0, 2, 1])
    ([3, 0, 5, 0, 2], 'to be,')
    >>> WordTokenizer.from_text("to be", character_fallback=True).tokenize("bet to")
    ['b', 'e', 't', ' ', 'to']
    """

    def __init__(self, vocabulary: Vocabulary, character_fallback: bool = False) -> None:
        self.vocabulary = _check_vocabulary(vocabulary)
        self.character_fallback = character_fallback  # spell an unknown word letter by letter
        self._index = {token: index for index, token in enumerate(vocabulary.tokens)}  # token -> index

    @classmethod
    def from_text(cls, text: str, unknown: str | None = None, max_words: int | None = None,
                  character_fallback: bool = False) -> WordTokenizer:
        """The words (all, or the `max_words` most frequent) and other characters of `text`, every letter
        too with `character_fallback`, and `unknown` (last)."""
        pieces = split_words(text)
        words = _words_to_keep(pieces, max_words)
        others = {piece for piece in pieces if not _is_word(piece)}
        letters = {letter for piece in pieces if _is_word(piece) for letter in piece} if character_fallback else set()
        return cls(Vocabulary([*words, *others, *letters], unknown=unknown), character_fallback)

    def tokenize(self, text: str) -> list[str]:
        """The tokens of `text` as strings; with `character_fallback`, an unknown word becomes its letters."""
        tokens = []
        for piece in split_words(text):
            spell = self.character_fallback and piece not in self._index and _is_word(piece)
            tokens.extend(piece if spell else [piece])
        return tokens

    def encode(self, text: str) -> list[int]:
        """The 0-based index of every token of `text`, in order."""
        tokens, index = self.tokenize(text), self._index
        return [index[token] if token in index else self._unknown(tokens, k) for k, token in enumerate(tokens)]

    def decode(self, indices: Iterable[int]) -> str:
        """The text spelled by the 0-based token `indices`."""
        return "".join(self.vocabulary.token(index) for index in indices)


# %% [markdown]
# The three ways side by side on the validation text: without either answer, `encode` stops at the
# first unknown word and names it; with `<unk>` it encodes, and decoding shows what was lost;
# with the character fallback every word survives, at the price of 15% more tokens (55,138
# against 47,936: an unseen word is spelled letter by letter).

# %%
strict = WordTokenizer.from_text(train_text)
with_unknown = WordTokenizer.from_text(train_text, unknown="<unk>")
word_tokenizer = WordTokenizer.from_text(train_text, character_fallback=True)
try:
    strict.encode(val_text)
except KeyError as error:
    print(f"{type(error).__name__}: {error}\n")

print(f"{'word tokenizer':26} {'n_vocab':>8} {'tokens':>8} {'<unk>':>6}  round trip")
for name, tokenizer in [("unknown='<unk>'", with_unknown), ("character_fallback=True", word_tokenizer)]:
    ids = tokenizer.encode(val_text)
    unknown = ids.count(tokenizer.vocabulary.unknown_index)
    print(f"{name:26} {tokenizer.n_vocab:8,} {len(ids):8,} {unknown:6,}  {tokenizer.decode(ids) == val_text}")

line = next(line for line in val_text.splitlines() if "affability" in line)
print(f"\n{line!r}\n  <unk>:    {with_unknown.decode(with_unknown.encode(line))!r}"
      f"\n  fallback: {word_tokenizer.tokenize(line)}")
assert word_tokenizer.decode(word_tokenizer.encode(val_text)) == val_text

# %% [markdown]
# ## A strip of tokens over their indices
#
# A picture of what each tokenizer does to one line of verse: every token is a box as wide as the
# characters it spells, with its code index under it. The character tokenizer cuts at every
# character; the word tokenizer makes one box of each known word and of each space, and spells
# the unknown `affability` letter by letter. The indices show the order of $\mathcal{S}$: the
# newline and the space come first (the space is 1 in both rows), capitals come before small
# letters (`H` is 20, `Her` 1082), and the word tokens follow string order (`a` < `and` <
# `bashful` < `modesty`), with the fallback's single letters sorted among them. (The drawing
# helpers, `draw_token_strips` and `token_strings`, are folded; notebook 03 uses them too.)

# %% jupyter={"source_hidden": true}
#| export
def token_strings(tokenizer, indices: Iterable[int]) -> list[str]:
    """The text of each token, every index decoded on its own (any tokenizer with `decode`)."""
    return [tokenizer.decode([index]) for index in indices]


_COLOURS = ["#cfe2f3", "#fce5cd", "#d9ead3", "#ead1dc", "#fff2cc"]  # token boxes, in turn


def _visible(token: str) -> str:
    """A token with its whitespace made visible: '␣' for a space, '↵' for a newline, '⇥' for a tab."""
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


def draw_token_strips(rows: Sequence[tuple[str, Sequence[str], Sequence[int]]], title: str,
                      width_inches: float = 13.0) -> None:
    """Draw one strip per row `(label, tokens, indices)`: each token a box as wide as its characters,
    coloured in turn so that the boundaries show, with its index under it."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n_characters = max(sum(len(token) for token in tokens) for _, tokens, _ in rows)
    fig, ax = plt.subplots(figsize=(width_inches, 0.4 + 1.25 * len(rows)))
    for row, (label, tokens, indices) in enumerate(rows):
        y, x = -2.6 * row, 0
        ax.text(0, y + 1.25, label, ha="left", va="bottom", fontsize=9)
        for k, (token, index) in enumerate(zip(tokens, indices, strict=True)):
            width = max(len(token), 1)
            ax.add_patch(Rectangle((x, y), width, 1, facecolor=_COLOURS[k % len(_COLOURS)], edgecolor="#666666",
                                   linewidth=0.5))
            ax.text(x + width / 2, y + 0.5, _visible(token), ha="center", va="center", fontsize=9, family="monospace")
            ax.text(x + width / 2, y - 0.15, str(index), ha="center", va="top", fontsize=6.5,
                    rotation=90 if len(str(index)) > 2 * width else 0)
            x += width
    ax.set_xlim(-0.5, n_characters + 0.5)
    ax.set_ylim(-2.6 * (len(rows) - 1) - 1.5, 2.2)
    ax.axis("off")
    ax.set_title(title, fontsize=11)
    plt.show()


# %%
verse = next(line for line in val_text.splitlines() if "affability" in line)
rows = [(f"{name}: {len(ids)} tokens", token_strings(tokenizer, ids), ids)
        for name, tokenizer in [("characters", char_tokenizer), ("words, with the character fallback", word_tokenizer)]
        for ids in [tokenizer.encode(verse)]]
draw_token_strips(rows, "One line, two tokenizers: each box is a token, the number under it its index")

# %% [markdown]
# The other direction has a catch for words: `encode(decode(indices))` need not give back
# `indices`. Decode the indices of `to` and `be` with nothing between them and you get the text
# `tobe`, which encodes as one unknown word (or, with the fallback, as four letters). A tokenizer
# guarantees the round trip from text, not from any sequence of indices; a model that writes two
# words without a space writes a new word.

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
# Shakespeare as character indices, split into training and validation the same way as the text,
# and the same corpus as word indices:

# %%
import torch

data = torch.tensor(char_tokenizer.encode(text), dtype=torch.long)  # (N,)
train_data, val_data = train_val_split(data)
word_data = torch.tensor(word_tokenizer.encode(text), dtype=torch.long)  # (N_words,)
print(f"characters: {data.dtype}, shape {tuple(data.shape)}, indices 0..{char_tokenizer.n_vocab - 1}; "
      f"training {tuple(train_data.shape)}, validation {tuple(val_data.shape)}")
print("the first 24 indices:", data[:24].tolist(), "=", repr(char_tokenizer.decode(data[:24])))
print(f"words: shape {tuple(word_data.shape)}, indices 0..{word_tokenizer.n_vocab - 1:,}")
spaces = sum(token in (" ", "\n") for token in word_tokenizer.tokenize(text))
print(f"of the {word_data.numel():,} word tokens, {spaces / word_data.numel():.0%} are spaces or newlines")
assert data.dtype == torch.long and data.shape == (len(text),) and int(data.max()) < char_tokenizer.n_vocab
assert char_tokenizer.decode(train_data.tolist()) == train_text and word_data.numel() < data.numel() / 2
assert (word_data.numel(), word_tokenizer.n_vocab) == (480_021, 12_606), "the numbers of the summary"

# %% [markdown]
# The word sequence is less than half as long as the character sequence, its indices run up to a
# much larger $n_{\text{vocab}}$, and keeping every space and newline costs: 44% of its tokens are
# spaces or newlines. (GPT-2's tokens glue a space to the word after it, notebook 03.)
#
# ## Try it
#
# Type a text and see how both tokenizers cut it, each token a coloured box over its index. The
# cell below prints the result for one text, so that you can read it anywhere; the one after it
# is a text box, which works in JupyterLab and Colab (elsewhere, call
# `describe_tokens(tokenizer, text)` yourself).
# The helpers, `describe_tokens` and `token_box`, are folded; notebook 03 reuses them.

# %% jupyter={"source_hidden": true}
#| export
def describe_tokens(tokenizer, text: str, name: str | None = None) -> str:
    """How `tokenizer` cuts `text`, as three lines: a heading, the tokens separated by '|', their indices.

    >>> print(describe_tokens(CharTokenizer.from_text("to be"), "be", "characters"))
    characters (n_vocab = 5): 2 characters -> 2 tokens
      b|e
      [1, 2]
    """
    indices = tokenizer.encode(text)
    shown = "|".join(_visible(token) for token in token_strings(tokenizer, indices))
    heading = f"{name or type(tokenizer).__name__} (n_vocab = {tokenizer.n_vocab:,}): {len(text)} characters -> "
    return f"{heading}{len(indices)} tokens\n  {shown}\n  {indices}"


def _tokens_html(tokenizer, text: str, name: str) -> str:
    """The tokens of `text` as coloured boxes, each with its index under it (HTML, for `token_box`)."""
    import html

    indices = tokenizer.encode(text)
    boxes = "".join(
        f'<span style="display:inline-block;text-align:center;margin:1px;padding:0 2px;'
        f'background:{_COLOURS[k % len(_COLOURS)]}"><code>{html.escape(_visible(token))}</code><br>'
        f"<small>{index}</small></span>"
        for k, (token, index) in enumerate(zip(token_strings(tokenizer, indices), indices, strict=True))
    )
    heading = f"<b>{html.escape(name)}</b> (n_vocab = {tokenizer.n_vocab:,}): {len(text)} characters → {len(indices)} tokens"
    return f"<div>{heading}<br>{boxes}</div>"


def token_box(tokenizers: Mapping[str, object], text: str = "To be, or not to be"):
    """A text box: type, and see how each tokenizer cuts the text, as coloured tokens over their indices.

    Returns the widget, or `None` (after printing what to call instead) where ipywidgets is missing;
    `describe_tokens` prints the same view as text.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        print("ipywidgets is not installed: call describe_tokens(tokenizer, text) instead")
        return None
    import html

    box = widgets.Text(value=text, description="text", layout=widgets.Layout(width="95%"))
    shown = widgets.HTML()

    def update(change=None) -> None:
        views = []
        for name, tokenizer in tokenizers.items():
            try:
                views.append(_tokens_html(tokenizer, box.value, name))
            except (KeyError, ValueError) as error:  # a character outside the vocabulary, a special token
                views.append(f"<div><b>{html.escape(name)}</b>: {html.escape(str(error))}</div>")
        shown.value = "".join(views)

    box.observe(update, names="value")
    update()
    return widgets.VBox([box, shown])


# %%
tokenizers = {"characters": char_tokenizer, "words": word_tokenizer}
for name, tokenizer in tokenizers.items():
    print(describe_tokens(tokenizer, "Tybalt, you rat-catcher!", name))

# %%
token_box(tokenizers, text="Tybalt, you rat-catcher!")

# %% [markdown]
# ## Summary
#
# - Sorting $\mathcal{V}$ (here by Python's string order, by code point) gives $\mathcal{S} =
#   (\mathbf{t}_1, \dots, \mathbf{t}_{n_{\text{vocab}}})$; the index of $\mathbf{t}_i$ is $i$ in the
#   maths and $i-1$ in code. Any order works, as long as it never changes.
# - A tokenizer's `encode` maps text to indices and `decode` maps them back;
#   `decode(encode(x)) == x` for every text the vocabulary can spell.
# - `CharTokenizer`: $n_{\text{vocab}} = 65$ for Tiny Shakespeare, one index per character:
#   1,115,394 indices for the whole text.
# - `WordTokenizer`, built from the training text: words and single other characters. With
#   `character_fallback=True` it spells unknown words letter by letter and the round trip stays
#   exact; with `unknown="<unk>"` the unknown word is lost. With the fallback the whole text is
#   480,021 tokens, less than half as many as its characters. Do not confuse that count with
#   $n_{\text{vocab}} = 12{,}606$, the number of *distinct* tokens the vocabulary holds.
# - The model's input is a `torch.long` tensor of indices: all of Tiny Shakespeare, as characters,
#   is one of shape `(1115394,)`.
#
# ## Exercises
#
# Fill in each starter cell, run it, then run the `check` cell under it: it calls your function on
# several inputs, some drawn at random, compares with the course's tokenizers, and prints ✓ or a
# hint. Solutions are in `solutions/02_token_indices.py`; try first.
#
# **02.1 A character tokenizer in two functions.** From a training text, build `encode` and `decode`
# over its sorted distinct characters, 0-based, as `CharTokenizer` does, and return them both.

# %%
from llm_course.exercises import check


def make_codec(training_text: str):
    """(encode, decode): encode(text) -> list of 0-based indices in the sorted characters; decode inverts it."""
    raise NotImplementedError  # your code here


check("02.1", make_codec)

# %% [markdown]
# **02.2 Reading the maths.** A paper writes a sequence in the maths' indices, counted from 1:
# $(s_1, \dots, s_\ell)$ with $s_j \in \{1, \dots, n_{\text{vocab}}\}$. Turn it into text, given
# $\mathcal{S}$ as the tuple `tokens` (what `Vocabulary.tokens` returns).

# %%
def decode_maths(tokens: tuple[str, ...], maths_indices: list[int]) -> str:
    """The text of a sequence of 1-based (maths) indices into S = tokens."""
    raise NotImplementedError  # your code here


check("02.2", decode_maths)

# %% [markdown]
# **02.3 The character fallback.** Cut a text the way `WordTokenizer(..., character_fallback=True)`
# does: a run of letters that is in `words` stays one token, a run that is not is spelled letter by
# letter, and every other character is a token of its own. (`split_words` does the first cut.)

# %%
def tokenize_with_fallback(text: str, words: set[str]) -> list[str]:
    """Known words whole, unknown words letter by letter, every other character alone."""
    raise NotImplementedError  # your code here


check("02.3", tokenize_with_fallback)

# %% [markdown]
# Questions to think about (no check):
#
# 1. Sort the character vocabulary by frequency instead (most frequent first). Which indices
#    change? Would a model trained with one order work with the other?
# 2. Write a `LowerWordTokenizer` that lower-cases before splitting. What does `decode` give back
#    now, and what is its $n_{\text{vocab}}$ on Tiny Shakespeare?
# 3. Change `WORD_PATTERN` so that a word takes its leading space with it (`" the"`, as GPT-2's
#    tokens do). The pattern is compiled when its cell runs, and the tokenizers are built from
#    it: re-run that cell and every cell after it. How long is the corpus in tokens now? Is the
#    round trip still exact?
# 4. Find a sequence of indices `ids` of the character tokenizer for which
#    `encode(decode(ids)) != ids`, or explain why none exists.

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

peak_mb = check_peak_memory()
