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
# # 03 · Sub-word tokens: byte-pair encoding
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/03_subword_tokens.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/03_subword_tokens.ipynb)
#
# Notebooks 01 and 02 built two vocabularies by hand. Characters give a tiny $\mathcal{V}$ that
# covers everything but makes sequences long; whole words give short sequences but a huge
# $\mathcal{V}$ that still misses the next new word. Production models sit in between: their
# tokens are *sub-words* such as `ing`, `un` or ` the`, and nobody writes that list. It is
# **learned from data** by byte-pair encoding (BPE):
#
# 1. start from the 256 byte values, so that any text, in any script, can be encoded;
# 2. count every pair of adjacent tokens in the training text;
# 3. merge the most frequent pair into a new token;
# 4. repeat 2-3 until $\mathcal{V}$ has $n_{\text{vocab}}$ tokens.
#
# This notebook writes `llm_course.bpe`, a byte-level BPE tokenizer with GPT-2's pre-tokenization,
# draws the merges of a worked example as a tree, trains the tokenizer on Tiny Shakespeare, shows
# a line of verse cut at two vocabulary sizes, and compares BPE with the character and word
# tokenizers. At the end, a box to type into shows all of them at once.

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
#| default_exp bpe

# %% jupyter={"source_hidden": true}
#| export
"""Byte-level byte-pair encoding (BPE): learn a vocabulary of sub-words from text.

`BPETokenizer.train(text, n_vocab, special_tokens=())` starts from the 256 byte values, splits
the text with GPT-2's pre-tokenization pattern (so no merge crosses a word boundary), and merges
the most frequent pair of adjacent tokens until the vocabulary holds `n_vocab` tokens: the 256
bytes, the merges, then the special tokens (which take the last indices and are never produced
by a merge). Ties between equally frequent pairs go to the lexicographically greatest pair of
byte strings. Token 256 + j is the j-th merge learned: indices follow learning order. `encode`
applies the merges in the order they were learned, `decode` inverts it, and `save` / `load`
write and read a small JSON file.

The tokenizer holds an explicit table from token index to bytes. The 256 byte tokens take
indices 0..255, in byte order unless `byte_ids` says otherwise: GPT-2 numbers them in another
order. `BPETokenizer.from_gpt2_files(encoder_json, vocab_bpe)` reads GPT-2's two tokenizer files
into this class with GPT-2's own indices (n_vocab 50,257, `<|endoftext|>` at 50256), and its
`encode_ordinary` equals tiktoken's `gpt2` encoding. `encode_iterable(texts)` encodes a stream
of strings (a file opened for reading, say) piece by piece, without holding it whole; its ids
equal those of `encode` on the concatenation.

Special tokens in text to encode are refused by default, as tiktoken refuses them: `encode`
raises `ValueError` for a special token that is not in `allowed_special` (a collection of
special tokens, or "all"); `encode_ordinary` encodes every special token's text as ordinary text.

Two trainers learn the same merges: `train_merges`, the readable core (count every pair, merge
the most frequent, repeat), and `train_merges_fast`, the labelled faster path that `train` uses
by default: it keeps the pair counts up to date incrementally (only the chunks that contain the
merged pair are touched) and finds the most frequent pair with a heap and lazy deletion.

Errors name the bad value: `TypeError` for a text that is not a `str` or an index that is not an
integer, `IndexError` for an index outside 0..n_vocab - 1, `ValueError` for an `n_vocab` too small,
a lone surrogate in the text or a special token that is not allowed, `TokenizerFileError` (a
`ValueError`) for a file `load` or `from_gpt2_files` cannot read.

Left out on purpose: printing tokens through GPT-2's map from bytes to printable characters
(`from_gpt2_files` only reads it), regex patterns other than GPT-2's, training with a permuted
byte order, dropout of merges, and a Rust-speed encoder.
"""

from __future__ import annotations

# %% [markdown]
# ## Start from bytes
#
# A computer stores text as bytes: UTF-8 writes each character as 1 to 4 bytes, each a number in
# $0..255$. If the first 256 tokens of $\mathcal{V}$ are these byte values, *every* string has an
# encoding, whatever its script, emoji included: there is no unknown token. The price is length:
# an English letter is one byte, an accented letter two, a Chinese character three, an emoji four.

# %%
for sample in ["hello", "héllo", "世界", "👋"]:
    data = sample.encode("utf-8")
    print(f"{sample!r:10} {len(sample)} characters -> {len(data)} bytes {list(data)}")

# %% [markdown]
# Byte-pair encoding shortens these sequences by giving frequent byte sequences their own token.
# Each merge turns a pair of existing tokens $(\mathbf{t}_a, \mathbf{t}_b)$ into a new token
# $\mathbf{t}_a\mathbf{t}_b$, whose index is the next free one: $256$ for the first merge, then
# $257$, and so on (0-based indices in code, as always; in the maths the same tokens are numbered
# from 1). After $m$ merges and with $k$ special tokens,
#
# $$n_{\text{vocab}} = 256 + m + k.$$
#
# Note the order: the indices of BPE tokens follow **learning order**, not the sorted
# $\mathcal{S}$ of notebook 02. Token 256 is the first merge learned, whatever its text; only the
# 256 byte tokens happen to sit in byte order. As notebook 02 said, any fixed order works, and this
# one has a use: a merge can only combine tokens with smaller indices, learned before it.

# %% [markdown]
# ## Pre-tokenization: GPT-2's pattern
#
# Before counting pairs, GPT-2 cuts the text into chunks with a regular expression and merges
# only *inside* a chunk. Without it, BPE would happily learn tokens such as `e t` or `. And`
# that glue the end of one word to the start of the next, wasting the vocabulary on accidents of
# word order. The pattern (with the `regex` package, which understands `\p{L}`, "any letter in any
# script", and `\p{N}`, "any digit") is an alternation, tried left to right at each position:
#
# | part | matches | example |
# |---|---|---|
# | `'(?:[sdmt]\|ll\|ve\|re)` | English contractions | `'s`, `'ll`, `'re` |
# | ` ?\p{L}+` | a word, with at most one space in front | ` thou` |
# | ` ?\p{N}+` | a number, with at most one space in front | ` 1623` |
# | ` ?[^\s\p{L}\p{N}]+` | a run of punctuation, with at most one space in front | ` --`, `!` |
# | `\s+(?!\S)` | a run of whitespace not followed by a non-space: it leaves the last whitespace character before a word to the next part | `"  "` of `"   thou"`, or `"\n\n"` at the end of the text |
# | `\s+` | any whitespace left: a last whitespace character that is not a space (a last space goes with the word) | the second `\n` of `"\n\nthou"` |
#
# So a space travels with the word that follows it (` the` is one chunk), and a run of spaces
# leaves its last space to the next word. Every character of the text lands in exactly one
# chunk: joining the chunks gives the text back.

# %% jupyter={"source_hidden": true}
#| export
import json
import math
import operator
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path

import regex

# %%
#| export
GPT2_SPLIT_PATTERN = r"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
_GPT2_SPLIT = regex.compile(GPT2_SPLIT_PATTERN)


def pre_tokenize(text: str) -> list[str]:
    """Cut `text` into chunks with GPT-2's pattern; merges never cross a chunk boundary.

    >>> pre_tokenize("I'll say't:  thou art 42!")
    ['I', "'ll", ' say', "'t", ':', ' ', ' thou', ' art', ' 42', '!']
    """
    return _GPT2_SPLIT.findall(text)


# %%
line = "I'll say't:  thou art 42!\n\nROMEO:"
chunks = pre_tokenize(line)
print(chunks)
assert "".join(chunks) == line, "pre-tokenization loses nothing"
assert chunks[-4:] == ["\n", "\n", "ROMEO", ":"], "a blank line before a word is two chunks"

# %% [markdown]
# Look at the blank line: `\n\n` before `ROMEO` became *two* chunks, `\n` and `\n`. The part
# `\s+(?!\S)` first tries both newlines, but a letter follows them, so it backs off to the first
# newline alone (a newline follows it, which is not a non-space); the second newline, right
# before the word, is left to `\s+`. Since merges never cross chunks, these two newlines can
# never become one token: in Tiny Shakespeare, where a blank line separates every speech, each
# blank line costs two tokens however large $n_{\text{vocab}}$ grows. (A run of whitespace
# becomes one chunk only where no word follows it, at the end of the text for instance.) Note
# also that `ROMEO:` is two chunks, a word and a punctuation mark: no BPE token with this pattern
# can hold both a letter and a colon.
#
# ## Two small helpers, and a worked example
#
# Training needs two operations on sequences of token indices: count the adjacent pairs, and
# replace every occurrence of one pair by a new index (left to right, so `aaa` becomes `[aa, a]`).

# %%
#| export
def pair_counts(words: Iterable[Sequence[int]], freqs: Iterable[int] | None = None) -> Counter:
    """Count adjacent pairs of indices over `words`, each word weighted by its frequency.

    >>> pair_counts([[1, 2, 3, 1, 2]])
    Counter({(1, 2): 2, (2, 3): 1, (3, 1): 1})
    >>> pair_counts([[1, 2], [2, 1, 2]], freqs=[10, 1])
    Counter({(1, 2): 11, (2, 1): 1})
    """
    words = list(words)
    freqs = [1] * len(words) if freqs is None else list(freqs)
    counts = Counter()
    for word, freq in zip(words, freqs, strict=True):
        for pair in pairwise(word):
            counts[pair] += freq
    return counts


def merge_pair(ids: Sequence[int], pair: tuple[int, int], new_index: int) -> list[int]:
    """Replace every occurrence of `pair` in `ids` by `new_index`, left to right.

    >>> merge_pair([1, 2, 3, 1, 2], (1, 2), 4)
    [4, 3, 4]
    >>> merge_pair([7, 7, 7], (7, 7), 8)
    [8, 7]
    """
    merged, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            merged.append(new_index)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


# %% [markdown]
# The classic example is the string `aaabdaaabac` (one chunk, no spaces). Its bytes are
# `a`=97, `b`=98, `c`=99, `d`=100. By hand:
#
# 1. pairs: `aa`×4, `ab`×2, `bd`, `da`, `ba`, `ac`. Merge `aa` into token 256: `Z a b d Z a b a c`
#    (writing Z for 256);
# 2. pairs: `Za`×2, `ab`×2, then singles. A tie: `Za` has bytes `aa` and `a`, `ab` has `a` and `b`.
#    Comparing the left byte strings, `aa` > `a`, so the greatest pair is `Za`: token 257 = `aaa`.
#    Now `Y b d Y b a c` (Y for 257);
# 3. pairs: `Yb`×2, then singles. Merge `Yb` into token 258 = `aaab`.
#
# The **tie rule** (the greatest pair of byte strings wins) matters: without a rule, the result would
# depend on the order in which a dictionary happens to list the pairs.
#
# Training is those steps in a loop. It receives each distinct chunk once, with how often it occurs
# in the text (` the` appears thousands of times, and its pairs are the same each time), counts the
# pairs weighted by those frequencies, merges the most frequent pair everywhere, and starts again:

# %%
#| export
def train_merges(word_counts: Mapping[str, int], n_merges: int) -> list[tuple[int, int]]:
    """Learn up to `n_merges` merges from chunk frequencies: count every pair, merge the most frequent, repeat.

    Ties go to the greatest pair of byte strings. Every merge recounts every chunk: simple, and slow
    on a large text; `train_merges_fast` learns the same merges much faster.

    >>> train_merges({"aaabdaaabac": 1}, 3)
    [(97, 97), (256, 97), (257, 98)]
    """
    words = [list(word.encode("utf-8")) for word in word_counts]  # each distinct chunk, as byte values
    freqs = list(word_counts.values())  # how often each chunk occurs in the text
    vocab = [bytes([byte]) for byte in range(256)]  # index -> the bytes it stands for
    merges = []
    for _ in range(n_merges):
        counts = pair_counts(words, freqs)
        if not counts:  # every chunk is a single token: nothing left to merge
            break
        best = max(counts, key=lambda pair: (counts[pair], vocab[pair[0]], vocab[pair[1]]))  # ties: greatest bytes
        new_index = len(vocab)
        words = [merge_pair(word, best, new_index) for word in words]
        vocab.append(vocab[best[0]] + vocab[best[1]])
        merges.append(best)
    return merges


# %%
merges = train_merges({"aaabdaaabac": 1}, 3)
print(merges)
assert merges == [(97, 97), (256, 97), (257, 98)], "the merges worked out by hand above"

# %% [markdown]
# The merges drawn as a tree over the bytes of the example: each new token sits above the two
# tokens it joins, and the top of each tree is a token of the final encoding,
# `[258, 100, 258, 97, 99]`. (The drawing code is folded.)

# %% jupyter={"source_hidden": true}
import matplotlib.pyplot as plt


def draw_merge_tree(text: str, merges: list[tuple[int, int]], final: list[int]) -> None:
    """Each final token of `text` as the tree of merges that built it, over the bytes it spells."""
    vocab = [bytes([b]) for b in range(256)]
    for left, right in merges:
        vocab.append(vocab[left] + vocab[right])
    fig, ax = plt.subplots(figsize=(9, 3.6))
    start = 0

    def place(index: int, first: int) -> tuple[float, int]:
        """Draw token `index` whose first byte is byte `first` of the text; return its (x, level)."""
        if index < 256:
            x, level = float(first), 0
        else:
            left, right = merges[index - 256]
            x_left, level_left = place(left, first)
            x_right, level_right = place(right, first + len(vocab[left]))
            x, level = (x_left + x_right) / 2, 1 + max(level_left, level_right)
            for x_child, level_child in ((x_left, level_left), (x_right, level_right)):
                ax.plot([x, x_child], [level, level_child], color="#888888", linewidth=1, zorder=1)
        colour = "#cfe2f3" if index < 256 else "#fce5cd"
        ax.text(x, level, f"{index}\n{vocab[index].decode()!r}", ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": colour, "edgecolor": "#666666"}, zorder=2)
        return x, level

    for index in final:
        place(index, start)
        start += len(vocab[index])
    ax.set_xlim(-0.7, len(text) - 0.3)
    ax.set_ylim(-0.6, 3.6)
    ax.set_xticks(range(len(text)), list(text))
    ax.set_yticks(range(4), ["bytes", "merge 1", "merge 2", "merge 3"])
    ax.set_xlabel("the text, one byte per column")
    ax.set_title("aaabdaaabac: three merges build 'aaab' (258) twice; 'd', 'a' and 'c' stay bytes")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    plt.show()


draw_merge_tree("aaabdaaabac", merges, final=[258, 100, 258, 97, 99])

# %% [markdown]
# ## Counting chunks, and special tokens
#
# `train_merges` takes the distinct chunks with their counts. The training text of Tiny
# Shakespeare, a million characters, is 266,995 chunks but only 14,134 different ones (printed
# below, where we train on it), so counting each once saves most of the work.
#
# **Special tokens** such as `<|endoftext|>` mark the boundary between two documents. They are
# reserved: they get the last indices of $\mathcal{V}$, and no merge may produce them or cross
# them. So the training text is first split at every special token (`split_special`, folded), and
# only the pieces in between are pre-tokenized and counted.

# %% jupyter={"source_hidden": true}
#| export
def split_special(text: str, special_tokens: Iterable[str]) -> list[str]:
    """Split `text` at every special token, keeping the special tokens as their own pieces.

    Longer special tokens are tried first, so one that starts with another still wins.

    >>> split_special("a<|endoftext|>b", ["<|endoftext|>"])
    ['a', '<|endoftext|>', 'b']
    """
    special_tokens = sorted(special_tokens, key=len, reverse=True)
    if not special_tokens:
        return [text]
    pattern = "(" + "|".join(regex.escape(token) for token in special_tokens) + ")"
    return [piece for piece in regex.split(pattern, text) if piece]


# %%
#| export
def count_words(text: str, special_tokens: Iterable[str] = ()) -> Counter:
    """Count the pre-tokenized chunks of `text`, leaving out the special tokens themselves.

    >>> count_words("the cat<|endoftext|>the dog", ["<|endoftext|>"])
    Counter({'the': 2, ' cat': 1, ' dog': 1})
    """
    special_tokens = set(special_tokens)
    counts = Counter()
    for piece in split_special(text, special_tokens):
        if piece not in special_tokens:
            counts.update(pre_tokenize(piece))
    return counts


# %%
print(count_words("To be, or not to be<|endoftext|>To sleep", ["<|endoftext|>"]))

# %% [markdown]
# ## A faster trainer (a labelled faster path)
#
# `train_merges` rescans every chunk for every merge. But a merge of $(a, b)$ only changes the
# chunks that contain $(a, b)$; every other chunk keeps its pairs. So `train_merges_fast`, which
# `BPETokenizer.train` uses by default (`fast=False` picks the readable one), keeps three
# structures up to date instead of recounting:
#
# - `counts`: pair $\to$ its frequency in the whole text;
# - `where`: pair $\to$ the set of chunks that contain it;
# - a heap (a priority queue) of `(-count, bytes, pair)` entries, whose top is the most frequent
#   pair (ties: the greatest bytes, thanks to `_Descending`).
#
# After merging $(a, b)$, for each chunk in `where[(a, b)]` it subtracts the old pairs' counts,
# merges, and adds the new pairs' counts. The pairs whose count changed are pushed onto the heap
# again with their new count; an entry whose count no longer matches `counts` is stale and is
# skipped when it reaches the top ("lazy deletion"). Early merges such as `(' ', 't')` touch
# thousands of chunks, late ones a handful, so training costs about the size of the text plus the
# work of the merges, instead of the size of the text *times* the number of merges. The code is
# folded: it is an optimisation, not a new idea, and the tests check that it learns exactly the
# merges of `train_merges`.

# %% jupyter={"source_hidden": true}
#| export
import heapq
from collections import defaultdict


class _Descending:
    """Bytes that compare in reverse, so that a min-heap pops the greatest byte string first.

    >>> _Descending(b"b") < _Descending(b"a")
    True
    """

    __slots__ = ("value",)

    def __init__(self, value: bytes):
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value


def train_merges_fast(word_counts: Mapping[str, int], n_merges: int) -> list[tuple[int, int]]:
    """The faster path: the merges of `train_merges`, with pair counts updated incrementally.

    Each merge only revisits the chunks that contain the merged pair; a heap with lazy deletion
    gives the most frequent pair (ties to the greatest bytes). Stops early when no pair is left.

    >>> train_merges_fast({"aaabdaaabac": 1}, 3)
    [(97, 97), (256, 97), (257, 98)]
    """
    words = [list(word.encode("utf-8")) for word in word_counts]  # each chunk, as token indices
    freqs = list(word_counts.values())  # how often each chunk occurs
    vocab = [bytes([byte]) for byte in range(256)]  # index -> the bytes it stands for
    counts: dict[tuple[int, int], int] = defaultdict(int)  # pair -> frequency in the text
    where: dict[tuple[int, int], set[int]] = defaultdict(set)  # pair -> ids of chunks holding it
    for word_id, (word, freq) in enumerate(zip(words, freqs, strict=True)):
        for pair in pairwise(word):
            counts[pair] += freq
            where[pair].add(word_id)

    def heap_entry(pair):
        return (-counts[pair], _Descending(vocab[pair[0]]), _Descending(vocab[pair[1]]), pair)

    heap = [heap_entry(pair) for pair in counts]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negative_count, _, _, best = heapq.heappop(heap)
        if counts.get(best, 0) != -negative_count:  # stale: the count changed since this push
            continue
        new_index = len(vocab)
        vocab.append(vocab[best[0]] + vocab[best[1]])
        merges.append(best)
        change: dict[tuple[int, int], int] = defaultdict(int)  # pair -> change of its count
        for word_id in where.pop(best):
            word, freq = words[word_id], freqs[word_id]
            merged = merge_pair(word, best, new_index)
            old_pairs, new_pairs = set(pairwise(word)), set(pairwise(merged))
            for pair in pairwise(word):
                change[pair] -= freq
            for pair in pairwise(merged):
                change[pair] += freq
            for pair in old_pairs - new_pairs - {best}:
                where[pair].discard(word_id)
            for pair in new_pairs:
                where[pair].add(word_id)
            words[word_id] = merged
        for pair, delta in change.items():
            if delta == 0:
                continue
            counts[pair] += delta
            if counts[pair] == 0:
                del counts[pair]
                where.pop(pair, None)
            else:
                heapq.heappush(heap, heap_entry(pair))
    return merges


# %% [markdown]
# Both learn the same merges from the first 100,000 characters of Tiny Shakespeare; the faster
# one is many times quicker already there, and the gap grows with the text and with
# $n_{\text{vocab}}$. (Timings vary from machine to machine, so the tests do not compare them.)

# %%
from llm_course.data import load_text, train_val_split
from llm_course.reproducibility import set_seed

set_seed(1337)  # nothing here is random, but every notebook starts the same way
text = load_text("tiny-shakespeare")
train_text, val_text = train_val_split(text)
print(f"training: {len(train_text):,} characters, validation: {len(val_text):,} characters")

# %% tags=["nbval-ignore-output"]
import time

sample_counts = count_words(train_text[:100_000])
seconds = {}
for trainer in (train_merges, train_merges_fast):
    start = time.perf_counter()
    learned = trainer(sample_counts, 100)
    seconds[trainer.__name__] = time.perf_counter() - start
    assert learned == train_merges_fast(sample_counts, 100), "both trainers learn the same merges"
print(f"{len(sample_counts):,} distinct chunks, 100 merges: "
      + ", ".join(f"{name} {s:.2f} s" for name, s in seconds.items()))

# %% [markdown]
# ## The tokenizer
#
# `BPETokenizer` holds the merges and the special tokens; everything else follows from them:
#
# - the bytes of each token, in an explicit table from index to bytes: the 256 byte tokens take
#   indices $0..255$, merge $j$ (0-based) makes token $256+j$ from the bytes of its pair, and
#   the $k$ special tokens take the last indices, $256+m$ to $256+m+k-1$. Here byte $b$ is token
#   $b$; the table `byte_ids` may give the byte tokens another order, which is all that GPT-2's
#   own tokenizer needs (notebook 10 loads it);
# - **encoding** a chunk starts from its bytes' tokens and applies the merges *in the order they were
#   learned* (lowest index first), exactly as training did, as GPT-2 and tiktoken do;
# - **decoding** joins the tokens' bytes and decodes them as UTF-8. A sequence of indices cut in the
#   middle of a character is not valid UTF-8; `decode` then shows `�` (the replacement character),
#   and `decode_bytes` gives the raw bytes.
#
# **Special tokens in text to encode are refused by default**, as tiktoken refuses them: if the
# text holds `<|endoftext|>`, `encode(text)` raises a `ValueError` that says what to do. Text
# typed by a user must not be able to end a document early. Where the marker is meant,
# `encode(text, allowed_special={"<|endoftext|>"})` (or `allowed_special="all"`) encodes it as its
# reserved index; `encode_ordinary(text)` encodes it as ordinary characters.
#
# The folded cell holds what the class needs besides the idea: checks of every input, with
# errors that name the bad value (a lone surrogate such as `"\ud800"`, which UTF-8 cannot encode,
# is refused with its position), the cache of chunk encodings, and the file format of `save` and
# `load`.

# %% jupyter={"source_hidden": true}
#| export
FILE_FORMAT = "llm_course.bpe"  # the "format" field of a saved tokenizer
FILE_VERSION = 1  # the "version" field of a tokenizer whose byte tokens are in byte order
FILE_VERSION_BYTE_IDS = 2  # the version of a file that also stores "byte_ids" (GPT-2's byte order)
N_BYTES = 256  # the first indices are the 256 byte tokens


class TokenizerFileError(ValueError):
    """A tokenizer file that cannot be read: damaged, of another format, or inconsistent."""


def _check_text(text: object) -> str:
    """Return `text` if it is a `str` that UTF-8 can encode; raise a clear error otherwise."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}: {text!r:.60}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"text holds a lone surrogate {text[error.start]!r} at position {error.start}, which UTF-8 "
            "cannot encode (it usually comes from a broken decode; clean the text first)"
        ) from None
    return text


def _check_special_tokens(special_tokens: object) -> tuple[str, ...]:
    """Return the special tokens as a tuple of distinct, non-empty strings, or raise."""
    if isinstance(special_tokens, str) or not isinstance(special_tokens, Iterable):
        raise TypeError(f"special_tokens must be a sequence of strings, got {special_tokens!r:.60}")
    special_tokens = tuple(special_tokens)
    for token in special_tokens:
        if not isinstance(token, str) or not token:
            raise ValueError(f"a special token must be a non-empty str, got {token!r}")
        _check_text(token)
    if len(set(special_tokens)) != len(special_tokens):
        raise ValueError(f"special tokens must be distinct, got {list(special_tokens)}")
    return special_tokens


def _check_training(text: object, n_vocab: object, special_tokens: object) -> tuple[str, ...]:
    """Check the arguments of `BPETokenizer.train`; return the special tokens as a tuple."""
    _check_text(text)
    special_tokens = _check_special_tokens(special_tokens)
    if isinstance(n_vocab, bool) or not isinstance(n_vocab, int):
        raise TypeError(f"n_vocab must be an int, got {type(n_vocab).__name__}: {n_vocab!r}")
    smallest = N_BYTES + len(special_tokens)
    if n_vocab < smallest:
        raise ValueError(f"n_vocab={n_vocab} is too small: it must be at least {smallest} "
                         f"(256 bytes + {len(special_tokens)} special tokens)")
    return special_tokens


def _check_byte_ids(byte_ids: object) -> list[int]:
    """The token index of each byte value 0..255: `byte_ids` checked, or byte order when it is None."""
    if byte_ids is None:
        return list(range(N_BYTES))
    if isinstance(byte_ids, (str, bytes)) or not isinstance(byte_ids, Iterable):
        raise TypeError(f"byte_ids must be a sequence of 256 ints, got {byte_ids!r:.60}")
    byte_ids = list(byte_ids)
    if sorted(byte_ids) != list(range(N_BYTES)) or not all(type(i) is int for i in byte_ids):
        raise ValueError(f"byte_ids must hold each index 0..255 exactly once (one per byte value), got "
                         f"{len(byte_ids)} values {byte_ids[:8]!r}...")
    return byte_ids


def _check_merge(pair: object, number: int, known: Mapping, n_tokens: int) -> tuple[int, int]:
    """`pair` as `(left, right)` if it is a new pair of two existing token indices; else a `ValueError`."""
    if (not isinstance(pair, Sequence) or len(pair) != 2
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in pair)):
        raise ValueError(f"merge {number} must be a pair of ints, got {pair!r}")
    left, right = pair
    if not (0 <= left < n_tokens and 0 <= right < n_tokens):
        raise ValueError(f"merge {number} is {list(pair)}, but only indices 0..{n_tokens - 1} exist before it")
    if (left, right) in known:
        raise ValueError(f"merge {number} repeats the pair {list(pair)}")
    return left, right


def gpt2_byte_characters() -> dict[int, str]:
    """GPT-2's map from each byte value to a printable character, which its files use to write tokens.

    Printable bytes stand for themselves; the others (control characters, the space...) take the
    characters from U+0100 on, in byte order. So the token ' the' is written 'Ġthe' in GPT-2's files.

    >>> characters = gpt2_byte_characters()
    >>> characters[ord("a")], characters[ord(" ")], characters[ord("\\n")]
    ('a', 'Ġ', 'Ċ')
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    others = [byte for byte in range(N_BYTES) if byte not in printable]
    return {**{byte: chr(byte) for byte in printable}, **{byte: chr(256 + k) for k, byte in enumerate(others)}}


def _read_gpt2_files(encoder_json: Path, vocab_bpe: Path) -> tuple[list[int], list[tuple[int, int]], list[str]]:
    """GPT-2's byte order, merges (as pairs of GPT-2 indices) and special tokens, read from its two files.

    Checks that the files belong together: merge j must make the token that encoder.json numbers
    256 + j, and every token after the merges must be a special token such as `<|endoftext|>`.
    """
    try:
        encoder = json.loads(encoder_json.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise TokenizerFileError(f"{encoder_json} is not GPT-2's encoder.json: it is not valid JSON ({error})") from None
    if not isinstance(encoder, dict) or not all(type(i) is int for i in encoder.values()):
        raise TokenizerFileError(f"{encoder_json} is not GPT-2's encoder.json: it must map token strings to ints")
    lines = vocab_bpe.read_bytes().decode("utf-8", errors="replace").splitlines()
    if not lines or not lines[0].startswith("#version"):
        raise TokenizerFileError(f"{vocab_bpe} is not GPT-2's vocab.bpe: its first line should be '#version: 0.2', "
                                 f"got {lines[0][:40] if lines else ''!r}")
    characters = gpt2_byte_characters()
    missing = [byte for byte in range(N_BYTES) if characters[byte] not in encoder]
    if missing:
        raise TokenizerFileError(f"{encoder_json} has no token for the bytes {missing[:5]}: not GPT-2's encoder.json")
    byte_ids = [encoder[characters[byte]] for byte in range(N_BYTES)]
    merges = []
    for number, line in enumerate(line for line in lines[1:] if line):
        parts = line.split(" ")
        if len(parts) != 2 or not all(part in encoder for part in parts):
            raise TokenizerFileError(f"{vocab_bpe}, merge {number}: {line[:60]!r} is not two tokens of {encoder_json.name}")
        if encoder.get(parts[0] + parts[1]) != N_BYTES + number:
            raise TokenizerFileError(
                f"{vocab_bpe}, merge {number} makes {parts[0] + parts[1]!r}, which {encoder_json.name} numbers "
                f"{encoder.get(parts[0] + parts[1])}, not {N_BYTES + number}: the two files do not belong together")
        merges.append((encoder[parts[0]], encoder[parts[1]]))
    extra = sorted((index, token) for token, index in encoder.items() if index >= N_BYTES + len(merges))
    if [index for index, _ in extra] != list(range(N_BYTES + len(merges), len(encoder))) or not all(
            regex.fullmatch(r"<\|[^|]+\|>", token) for _, token in extra):
        raise TokenizerFileError(
            f"{encoder_json} has {len(encoder):,} tokens, but 256 bytes + the {len(merges):,} merges of {vocab_bpe} "
            f"explain {N_BYTES + len(merges):,} and the rest {[t for _, t in extra][:3]} are not special tokens "
            "such as '<|endoftext|>' (is one of the files truncated?)")
    return byte_ids, merges, [token for _, token in extra]


_WHITESPACE = regex.compile(r"\s+")


def _chunk_boundary_near_the_end(text: str, margin: int = 256) -> int:
    """A position, at least `margin` characters before the end, where a chunk of `pre_tokenize(text)` starts; or 0.

    After a newline followed by a non-space a chunk always starts: only the two whitespace parts of
    GPT-2's pattern can hold a newline, and they stop before a non-space.

    >>> _chunk_boundary_near_the_end("To be,\\nor not", margin=3)
    7
    """
    end = len(text) - margin
    while end > 0:
        newline = text.rfind("\n", 0, end)
        if newline < 0:
            return 0
        if not _WHITESPACE.match(text, newline + 1):
            return newline + 1
        end = newline
    return 0


def _pieces_with_starts(text: str, special_tokens: Iterable[str]) -> Iterator[tuple[int, str]]:
    """The pieces of `split_special(text, special_tokens)`, each with its start position in `text`."""
    start = 0
    for piece in split_special(text, special_tokens):
        yield start, piece
        start += len(piece)


class _BPEPlumbing:
    """What `BPETokenizer` needs besides the idea: checks, the chunk cache, special-token refusal, files."""

    _vocab: list[bytes]
    _byte_ids: list[int]
    _ranks: dict[tuple[int, int], int]
    _cache: dict[str, list[int]]
    special_tokens: tuple[str, ...]
    special_indices: dict[str, int]
    stream_block = 1 << 16  # encode_iterable encodes once it holds this many characters

    @property
    def n_vocab(self) -> int:
        """The number of tokens: 256 bytes + the merges + the special tokens."""
        return len(self._vocab)

    @property
    def merges(self) -> list[tuple[int, int]]:
        """The merged pairs `(left, right)`, in the order they were learned (merge j makes 256 + j)."""
        return list(self._ranks)

    def token_bytes(self, index: int) -> bytes:
        """The bytes token `index` stands for (a special token: its UTF-8 text)."""
        return self._vocab[self._check_index(index)]

    def _check_index(self, index: object) -> int:
        """`index` as an int (a NumPy or 0-d PyTorch integer is fine), or a clear error."""
        try:
            if isinstance(index, bool):
                raise TypeError
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"a token index must be an int, got {type(index).__name__}: {index!r}") from None
        if not 0 <= index < len(self._vocab):
            raise IndexError(f"token index {index} is out of range: indices go from 0 to {len(self._vocab) - 1}")
        return index

    def decode_bytes(self, indices: Iterable[int]) -> bytes:
        """The bytes of a sequence of token indices, joined."""
        return b"".join(self._vocab[self._check_index(index)] for index in indices)

    def encode_ordinary(self, text: str) -> list[int]:
        """Token indices of `text`, with the text of every special token encoded as ordinary text."""
        return self._encode_ordinary(_check_text(text))

    def _encode_ordinary(self, text: str) -> list[int]:
        ids = []
        for chunk in pre_tokenize(text):
            if chunk not in self._cache:
                if len(self._cache) >= 100_000:  # bound the memory the cache may take
                    self._cache.clear()
                self._cache[chunk] = self._encode_chunk(chunk)
            ids.extend(self._cache[chunk])
        return ids

    def _allowed_special(self, text: object, allowed_special: object) -> set[str]:
        """The special tokens `encode` may produce; a `ValueError` for one in `text` that is not allowed."""
        _check_text(text)
        if allowed_special == "all":
            return set(self.special_tokens)
        if isinstance(allowed_special, (str, bool)) or not isinstance(allowed_special, Iterable):
            raise TypeError(f"allowed_special must be 'all' or a collection of special tokens, got "
                            f"{allowed_special!r:.60} (to encode special tokens as plain text, use encode_ordinary)")
        allowed = set(allowed_special)
        if allowed - set(self.special_tokens):
            raise ValueError(f"allowed_special names {sorted(allowed - set(self.special_tokens))}, which are not "
                             f"special tokens of this tokenizer (it has {list(self.special_tokens)})")
        for token in self.special_tokens:
            if token not in allowed and token in text:
                raise ValueError(
                    f"the text holds the special token {token!r} at position {text.index(token)}, which encode "
                    f"refuses unless it is allowed (as tiktoken does): pass allowed_special={{{token!r}}} (or 'all') "
                    f"to encode it as its reserved index {self.special_indices[token]}, or call "
                    "encode_ordinary(text) to encode it as ordinary text"
                )
        return allowed

    @property
    def byte_ids(self) -> list[int]:
        """The token index of each byte value 0..255 (byte order, except in GPT-2's tokenizer)."""
        return list(self._byte_ids)

    @classmethod
    def from_gpt2_files(cls, encoder_json: str | os.PathLike, vocab_bpe: str | os.PathLike):
        """GPT-2's tokenizer with GPT-2's own indices, from its files `encoder.json` and `vocab.bpe`.

        n_vocab is 50,257: GPT-2's 256 byte tokens (in its own order), its 50,000 merges, then
        `<|endoftext|>` at 50256. Files that are not GPT-2's, or do not belong together, raise
        `TokenizerFileError`.
        """
        byte_ids, merges, special_tokens = _read_gpt2_files(Path(encoder_json), Path(vocab_bpe))
        return cls(merges, special_tokens, byte_ids=byte_ids)

    def encode_iterable(self, texts: Iterable[str], allowed_special: str | Iterable[str] = ()) -> Iterator[int]:
        """Yield the token indices of a stream of strings (a file opened for reading, say), piece by piece.

        The indices equal `encode("".join(texts), allowed_special)`, but only a block of text is held
        at a time: what is read is encoded up to a cut that more text cannot change (before the last
        two chunks, outside any special token), and the rest waits for the next pieces.
        """
        if isinstance(texts, str):
            raise TypeError("encode_iterable takes an iterable of strings (a file, a list of lines); "
                            "for one string, call encode")
        held, size, offset = [], 0, 0  # text read but not yet encoded; its length; characters encoded so far
        for text in texts:
            held.append(_check_text(text))
            size += len(text)
            if size < self.stream_block:
                continue
            block = "".join(held)
            cut = self._stream_cut(block)
            yield from self._encode_block(block[:cut], allowed_special, offset)
            held, size, offset = [block[cut:]], len(block) - cut, offset + cut
        yield from self._encode_block("".join(held), allowed_special, offset)

    def _encode_block(self, text: str, allowed_special: object, offset: int) -> list[int]:
        """`encode(text)`; an error says where in the stream the block starts."""
        try:
            return self.encode(text, allowed_special)
        except ValueError as error:
            if offset == 0:
                raise
            raise ValueError(f"{error} (positions count from character {offset:,} of the stream)") from None

    def _stream_cut(self, text: str) -> int:
        """A position where `text` can be cut: encode(text[:cut]) + encode(text[cut:] + more) == encode(text + more).

        Text read later can only change the last two chunks of the pre-tokenization (a word that
        goes on, `'l` that becomes `'ll`, a run of spaces) or complete a special token cut in two;
        and a chunk that is only whitespace could change if the text stopped right after it. So
        the cut is the end of a special token, or the end of a chunk that is not only whitespace,
        before the last two chunks and at least (longest special token - 1) characters before the
        end of the text; 0 if there is none.
        """
        limit = len(text) - max((len(token) for token in self.special_tokens), default=1) + 1
        for start, piece in reversed(list(_pieces_with_starts(text, self.special_tokens))):
            if start >= limit:
                continue
            if piece in self.special_tokens:
                if start + len(piece) <= limit:
                    return start + len(piece)
                continue
            last = start + len(piece) == len(text)  # only the last piece can still grow
            for sync in (_chunk_boundary_near_the_end(piece), 0):  # pre-tokenize the end of the piece only
                chunks = pre_tokenize(piece[sync:])
                position, cut = start + sync, None
                for chunk in chunks[:-2] if last else chunks:
                    position += len(chunk)
                    if position > limit:
                        break
                    if not _WHITESPACE.fullmatch(chunk):
                        cut = position
                if cut is not None:
                    return cut
        return 0

    def save(self, path: str | os.PathLike) -> None:
        """Write the tokenizer to `path` as JSON, atomically (a temporary file, then a rename)."""
        path = Path(path)
        content = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "pattern": GPT2_SPLIT_PATTERN,
            "special_tokens": list(self.special_tokens),
            "merges": [list(pair) for pair in self.merges],
        }
        if self._byte_ids != list(range(N_BYTES)):  # GPT-2's byte order: a version-2 file stores it
            content["version"], content["byte_ids"] = FILE_VERSION_BYTE_IDS, self._byte_ids
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(content, file, ensure_ascii=False)
                file.write("\n")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Read a tokenizer written by `save`; a damaged or foreign file raises `TokenizerFileError`."""
        path = Path(path)
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise TokenizerFileError(f"{path} is not a tokenizer file: it is not valid JSON ({error})") from None
        if not isinstance(content, dict) or content.get("format") != FILE_FORMAT:
            found = content.get("format") if isinstance(content, dict) else type(content).__name__
            raise TokenizerFileError(f"{path} is not a tokenizer file: its format is {found!r}, "
                                     f"expected {FILE_FORMAT!r}")
        if content.get("version") not in (FILE_VERSION, FILE_VERSION_BYTE_IDS):
            raise TokenizerFileError(f"{path}: version {content.get('version')!r} is not supported "
                                     f"(this code reads versions {FILE_VERSION} and {FILE_VERSION_BYTE_IDS})")
        if (content.get("version") == FILE_VERSION_BYTE_IDS) != ("byte_ids" in content):
            raise TokenizerFileError(f"{path}: a version-{FILE_VERSION_BYTE_IDS} file, and only such a file, "
                                     "stores 'byte_ids'")
        if content.get("pattern") != GPT2_SPLIT_PATTERN:
            raise TokenizerFileError(f"{path}: its pre-tokenization pattern is not GPT-2's")
        merges, special_tokens = content.get("merges"), content.get("special_tokens")
        if not isinstance(merges, list) or not isinstance(special_tokens, list):
            raise TokenizerFileError(f"{path}: 'merges' and 'special_tokens' must be lists")
        try:
            return cls([tuple(pair) if isinstance(pair, list) else pair for pair in merges], special_tokens,
                       byte_ids=content.get("byte_ids"))
        except (TypeError, ValueError) as error:
            raise TokenizerFileError(f"{path}: {error}") from None

    def __repr__(self) -> str:
        return (f"BPETokenizer(n_vocab={self.n_vocab}, merges={len(self._ranks)}, "
                f"special_tokens={list(self.special_tokens)})")


# %%
#| export
class BPETokenizer(_BPEPlumbing):
    """A byte-level BPE tokenizer: 256 bytes, then the learned merges, then the special tokens.

    >>> tokenizer = BPETokenizer.train("aaabdaaabac", n_vocab=259)
    >>> tokenizer.merges
    [(97, 97), (256, 97), (257, 98)]
    >>> tokenizer.encode("aaabdaaabac"), tokenizer.token_bytes(258)
    ([258, 100, 258, 97, 99], b'aaab')
    """

    def __init__(self, merges: Sequence[tuple[int, int]] = (), special_tokens: Sequence[str] = (),
                 byte_ids: Sequence[int] | None = None):
        self.special_tokens = _check_special_tokens(special_tokens)
        self._byte_ids = _check_byte_ids(byte_ids)  # byte value -> its token index: byte order, or GPT-2's order
        self._vocab = [bytes([byte]) for byte in sorted(range(N_BYTES), key=self._byte_ids.__getitem__)]  # index -> bytes
        self._ranks: dict[tuple[int, int], int] = {}  # pair -> the index it merges into
        for number, pair in enumerate(merges):
            left, right = _check_merge(pair, number, self._ranks, len(self._vocab))
            self._ranks[(left, right)] = len(self._vocab)  # merge j makes token 256 + j
            self._vocab.append(self._vocab[left] + self._vocab[right])
        self.special_indices = {token: len(self._vocab) + k for k, token in enumerate(self.special_tokens)}
        self._vocab += [token.encode("utf-8") for token in self.special_tokens]  # the last indices
        self._cache: dict[str, list[int]] = {}  # chunk -> its encoding (chunks repeat)

    @classmethod
    def train(cls, text: str, n_vocab: int, special_tokens: Sequence[str] = (), fast: bool = True) -> BPETokenizer:
        """Learn `n_vocab - 256 - len(special_tokens)` merges from `text`, split at the special tokens.

        `fast=False` uses the readable `train_merges`; both learn the same merges. If the text runs
        out of pairs first, training stops early and `n_vocab` is smaller than asked.
        """
        special_tokens = _check_training(text, n_vocab, special_tokens)
        trainer = train_merges_fast if fast else train_merges
        merges = trainer(count_words(text, special_tokens), n_vocab - N_BYTES - len(special_tokens))
        return cls(merges, special_tokens)

    def _encode_chunk(self, chunk: str) -> list[int]:
        """One chunk: its bytes, then the merges in the order they were learned (the lowest index first)."""
        ids = [self._byte_ids[byte] for byte in chunk.encode("utf-8")]  # the byte tokens
        while len(ids) >= 2:
            pair = min(pairwise(ids), key=lambda p: self._ranks.get(p, math.inf))  # the earliest-learned pair
            if pair not in self._ranks:  # no pair of this chunk was ever merged
                break
            ids = merge_pair(ids, pair, self._ranks[pair])
        return ids

    def encode(self, text: str, allowed_special: str | Iterable[str] = ()) -> list[int]:
        """Token indices of `text`; a special token in it must be in `allowed_special` ("all" allows all)."""
        allowed = self._allowed_special(text, allowed_special)  # refuses a special token not allowed
        ids = []
        for piece in split_special(text, allowed):
            ids += [self.special_indices[piece]] if piece in allowed else self._encode_ordinary(piece)
        return ids

    def decode(self, indices: Iterable[int]) -> str:
        """The text of a sequence of token indices; bytes that are not valid UTF-8 become '�'."""
        return self.decode_bytes(indices).decode("utf-8", errors="replace")


# %% [markdown]
# The worked example again, through the class: three merges make $n_{\text{vocab}} = 259$, and the
# encoding is the top row of the tree above.

# %%
tiny = BPETokenizer.train("aaabdaaabac", n_vocab=259)
print(tiny)
print(tiny.encode("aaabdaaabac"), [tiny.token_bytes(i) for i in tiny.encode("aaabdaaabac")])
assert tiny.encode("aaabdaaabac") == [258, 100, 258, 97, 99] and tiny.decode([258, 100]) == "aaabd"

# %% [markdown]
# ## Training on Tiny Shakespeare
#
# We train on the training split twice: with $n_{\text{vocab}} = 512$ (the 256 bytes, 255 merges
# and one special token, `<|endoftext|>`, which takes the last index, 511), and with
# $n_{\text{vocab}} = 2048$ and no special token.

# %%
chunk_counts = count_words(train_text)
print(f"the training text: {sum(chunk_counts.values()):,} chunks, {len(chunk_counts):,} different ones")
tokenizer = BPETokenizer.train(train_text, n_vocab=512, special_tokens=["<|endoftext|>"])
big = BPETokenizer.train(train_text, n_vocab=2048)
print(tokenizer, big, sep="\n")
assert tokenizer.n_vocab == 512 and len(tokenizer.merges) == 255 and big.n_vocab == 2048

# %% [markdown]
# The first merges are the most frequent pairs of the text: a letter after a space, common endings,
# the most common short words. Each new token is built from two older ones, so `merge 256+j` can
# only use indices below $256+j$.

# %%
def show(token: bytes) -> str:
    """A token's bytes as readable text (spaces made visible as '·', newlines as '\\n')."""
    return token.decode("utf-8", errors="replace").replace(" ", "·").replace("\n", "\\n")


for j, (left, right) in enumerate(tokenizer.merges[:12]):
    print(f"{256 + j}: {show(tokenizer.token_bytes(left)):>4} + {show(tokenizer.token_bytes(right)):<4}"
          f" -> {show(tokenizer.token_bytes(256 + j))!r}")
assert all(max(pair) < 256 + j for j, pair in enumerate(tokenizer.merges)), "merges only use older tokens"

# %% [markdown]
# The longest learned tokens: at 512, frequent words with their leading space; at 2,048, names.
# Some are speakers' names in capitals, which open every speech at the start of a line, so with
# no space in front (`NORTHUMBERLAND`, `GLOUCESTER`), or the second word of a speaker's name, after
# its space (`·BOLINGBROKE` of `HENRY BOLINGBROKE`, `·VINCENTIO` of `DUKE VINCENTIO`); others are
# names in the verse (`·Bolingbroke`, `·Gloucester`). None holds the colon that follows a
# speaker's name (such as `ROMEO:`), although every speech starts with one: GPT-2's pattern cuts
# the colon from the name, and merges stay inside a chunk.

# %%
for sized in (tokenizer, big):
    learned = range(256, 256 + len(sized.merges))
    longest = sorted(learned, key=lambda i: (-len(sized.token_bytes(i)), i))[:10]
    print(f"n_vocab = {sized.n_vocab}:", [show(sized.token_bytes(i)) for i in longest])
learned_bytes = {big.token_bytes(i) for i in range(256, big.n_vocab)}
assert b"NORTHUMBERLAND" in learned_bytes and b"\n\n" not in learned_bytes, "no blank-line token, even at 2,048"
assert not any(b":" in big.token_bytes(i) and len(big.token_bytes(i)) > 1 for i in range(256, big.n_vocab))

# %% [markdown]
# ## Encoding and decoding
#
# A line of the validation text, token by token, at both sizes. Frequent words are single tokens
# (with their space), rarer ones are spelt from pieces; the larger vocabulary needs fewer tokens.
# Each box is a token and the number under it its index (the helper `draw_token_strips` comes from
# notebook 02's `llm_course.tokenizers`):

# %%
from llm_course.tokenizers import draw_token_strips, token_strings

verse = "For 'tis the mind that makes the body rich;"
assert verse in val_text
rows = [(f"n_vocab = {sized.n_vocab}: {len(ids)} tokens", token_strings(sized, ids), ids)
        for sized in (tokenizer, big) for ids in [sized.encode(verse)]]
draw_token_strips(rows, "One line of verse at two vocabulary sizes: more merges, longer tokens, fewer of them")
assert all(tok.decode(tok.encode(verse)) == verse for tok in (tokenizer, big))

# %% [markdown]
# A text in another script, never seen in training, still round-trips: it falls back to its bytes.
# And a sequence cut in the middle of a character is not valid UTF-8: `decode` shows the
# replacement character, `decode_bytes` the raw bytes.

# %%
for unseen in ["naïve café 世界 👋", "   spaces   and\ttabs\n"]:
    unseen_ids = tokenizer.encode(unseen)
    print(f"{unseen!r}: {len(unseen)} characters -> {len(unseen_ids)} tokens, round trip "
          f"{tokenizer.decode(unseen_ids) == unseen}")
    assert tokenizer.decode(unseen_ids) == unseen
wave = tokenizer.encode("👋")
print(wave, tokenizer.decode(wave[:2]), tokenizer.decode_bytes(wave[:2]))

# %% [markdown]
# ## Special tokens
#
# `<|endoftext|>` has the reserved index 511. Text that contains it is refused by default; allowed,
# it becomes that one index; with `encode_ordinary` it is spelt out as ordinary characters. No merge
# ever produced it: training split the text at special tokens before counting.

# %%
eot = tokenizer.special_indices["<|endoftext|>"]
two_documents = "Exeunt.<|endoftext|>ACT I"
try:
    tokenizer.encode(two_documents)
except ValueError as error:
    print(f"ValueError: {error}")
print(tokenizer.encode(two_documents, allowed_special={"<|endoftext|>"}))
print(tokenizer.encode_ordinary(two_documents))
assert eot == tokenizer.n_vocab - 1 and tokenizer.encode(two_documents, allowed_special="all").count(eot) == 1
assert eot not in tokenizer.encode_ordinary(two_documents) and all(eot not in pair for pair in tokenizer.merges)

# %% [markdown]
# ## Compression against $n_{\text{vocab}}$
#
# How many characters does a token stand for, on the validation text? Training is greedy: the
# first $m$ merges of a longer run are exactly the merges of a run that stops at $m$. So the run to
# $n_{\text{vocab}} = 2048$ gives every smaller tokenizer too, by keeping a prefix of its merges.

# %%
import matplotlib.pyplot as plt

assert big.merges[:255] == tokenizer.merges, "a prefix of the merges is the smaller tokenizer"
sizes = [256, 300, 384, 512, 768, 1024, 1536, 2048]
compression = [len(val_text) / len(BPETokenizer(big.merges[: n - 256]).encode(val_text)) for n in sizes]
print("characters per token:", ", ".join(f"{n}: {c:.3f}" for n, c in zip(sizes, compression, strict=True)))
assert compression == sorted(compression), "more merges never make the text longer"

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(sizes, compression, marker="o")
ax.set_xscale("log", base=2)
ax.set_xlabel("$n_{vocab}$ (log scale)")
ax.set_ylabel("characters per token (validation text)")
ax.set_title("Each doubling of the vocabulary buys less compression")
ax.grid(True, alpha=0.3)
plt.show()

# %% [markdown]
# At 256 tokens the text is its bytes (Tiny Shakespeare is plain ASCII, so one byte per character).
# The first merges pay most: frequent pairs like `·t` and `he` vanish quickly; later merges encode
# rarer and rarer words, so the curve flattens. GPT-2 stops at 50,257 tokens, where an English token is about
# four characters.
#
# ## Saving and loading
#
# A tokenizer is its merges and its special tokens (and, for GPT-2's, its byte order). `save` writes
# them as JSON with a format name and a version, through a temporary file renamed into place (so
# a crash never leaves half a file); `load` refuses anything else with a `TokenizerFileError` (a
# `ValueError`) that names the file.

# %%
from pathlib import Path

Path("runs").mkdir(exist_ok=True)
tokenizer.save("runs/bpe_512.json")
reloaded = BPETokenizer.load("runs/bpe_512.json")
assert reloaded.encode(val_text[:2000]) == tokenizer.encode(val_text[:2000])
print(Path("runs/bpe_512.json").read_text(encoding="utf-8")[:160], "...")

# %% [markdown]
# ## Characters, words and sub-words on the same text
#
# The tokenizers of notebook 02 and BPE, all built from the training split, encode the validation
# split. The word tokenizer appears twice. With `<unk>` it looks short, but that is flattery: each
# of its 1,231 unknown words is one `<unk>` token, and the word is lost. With the character
# fallback it loses nothing, and the fair count is 55,138 tokens. (Notebook 01's greedy cut, which
# also uses known words inside unknown ones, gets 52,161.) BPE needs neither: no text is unknown to it.
# `BPE, 512` is the tokenizer trained above, which spends one of its 512 indices on `<|endoftext|>`:
# with 255 merges it gets 1.877 characters per token, where the curve's point at 512, with 256
# merges and no special token, gets 1.878.

# %%
from llm_course.tokenizers import CharTokenizer, WordTokenizer

candidates = {
    "characters": CharTokenizer.from_text(train_text),
    "words, <unk>": WordTokenizer.from_text(train_text, unknown="<unk>"),
    "words, fallback": WordTokenizer.from_text(train_text, character_fallback=True),
    "BPE, 512": tokenizer,
    "BPE, 2048": big,
}
lengths = {}
print(f"{'tokenizer':16} {'n_vocab':>8} {'tokens':>8} {'chars/token':>12} {'<unk>':>6}  round trip")
for name, candidate in candidates.items():
    ids = candidate.encode(val_text)
    unknown = ids.count(candidate.vocabulary.unknown_index) if hasattr(candidate, "vocabulary") else 0
    lengths[name] = len(ids)
    print(f"{name:16} {candidate.n_vocab:8,} {len(ids):8,} {len(val_text) / len(ids):12.3f} {unknown:6,}  "
          f"{candidate.decode(ids) == val_text}")
assert lengths["BPE, 2048"] < lengths["words, <unk>"] < lengths["words, fallback"] == 55_138
assert lengths["BPE, 512"] < lengths["characters"]

# %% [markdown]
# Characters: the smallest $\mathcal{V}$ and the longest sequences. Words: short sequences, but a
# vocabulary of thousands that still meets unknown words in new text. BPE sits in between and
# loses nothing: with 512 tokens it already shortens the text by almost half, and with 2,048 its
# sequences are shorter than the word tokenizer's (even the flattered one), with a vocabulary six
# times smaller. That is why production models use it, with $n_{\text{vocab}}$ in the tens of
# thousands.
#
# ## Try it
#
# Type a text and see how every tokenizer above cuts it: notebook 02's box (`token_box`, from
# `llm_course.tokenizers`), with the two BPE tokenizers added. The first cell prints the view
# for one text, which reads anywhere; the second is the box, for JupyterLab and Colab. Try a name
# the training text never saw, a word in French, or `<|endoftext|>`.

# %%
from llm_course.tokenizers import describe_tokens, token_box

shown = {name: candidates[name] for name in ("characters", "words, fallback", "BPE, 512", "BPE, 2048")}
for name, candidate in shown.items():
    print(describe_tokens(candidate, "Wherefore art thou Romeo?", name))

# %%
token_box(shown, text="Wherefore art thou Romeo?")

# %% [markdown]
# ## Summary
#
# - Byte-level BPE starts from the 256 byte values, so any text has an encoding and there is no
#   unknown token; it learns $n_{\text{vocab}} - 256 - k$ merges of the most frequent adjacent pair
#   (ties: the greatest pair of byte strings), then reserves the last $k$ indices for special tokens.
#   Token indices follow learning order, not the sorted $\mathcal{S}$ of notebook 02.
# - GPT-2's pattern cuts the text into chunks (a word with its leading space, a number, punctuation,
#   whitespace) and merges stay inside a chunk: a blank line before a word is two chunks, so two
#   tokens, and no token holds a name with its colon. The text is also split at every special token.
# - `train_merges` is the whole algorithm: count, merge the most frequent pair, repeat.
#   `train_merges_fast`, the faster path, updates the counts of the chunks a merge touches and
#   finds the most frequent pair with a heap and lazy deletion; both learn the same merges.
# - Encoding applies the merges in the order they were learned; `decode(encode(s)) == s` for every
#   string UTF-8 can encode. A special token in the text is refused unless allowed, as in tiktoken.
# - More merges, shorter sequences, with diminishing returns; `llm_course.bpe.BPETokenizer` is the
#   tokenizer later notebooks can use.
#
# ## Exercises
#
# Fill in each starter cell, run it, then run the `check` cell under it: it calls your function on
# several inputs, some drawn at random, compares with `llm_course.bpe`, and prints ✓ or a hint.
# Solutions are in `solutions/03_subword_tokens.py`; try first.
#
# **03.1 One merge step.** Replace every occurrence of `pair` in `ids` by `new_index`, from left
# to right (so `[7, 7, 7]` with the pair `(7, 7)` becomes `[8, 7]`).

# %%
from llm_course.exercises import check


def merge(ids: list[int], pair: tuple[int, int], new_index: int) -> list[int]:
    """`ids` with every occurrence of `pair`, scanned from the left, replaced by `new_index`."""
    raise NotImplementedError  # your code here


check("03.1", merge)

# %% [markdown]
# **03.2 The pair to merge next.** Given the chunks as lists of token indices, how often each chunk
# occurs, and `vocab` (the bytes of every index so far), return the pair that training merges next:
# the most frequent adjacent pair, counted with the chunks' frequencies, and on a tie the pair
# whose byte strings `(vocab[a], vocab[b])` are the greatest.

# %%
def best_pair(words: list[list[int]], freqs: list[int], vocab: list[bytes]) -> tuple[int, int]:
    """The most frequent adjacent pair (weighted by freqs); ties go to the greatest pair of byte strings."""
    raise NotImplementedError  # your code here


check("03.2", best_pair)

# %% [markdown]
# **03.3 Compression.** Given the merges of a trained tokenizer (in learning order), a size
# `n_vocab` and a text, return the characters per token on that text of the tokenizer of size
# `n_vocab` made from the first merges (no special tokens), as in the curve above.

# %%
def characters_per_token(merges: list[tuple[int, int]], n_vocab: int, text: str) -> float:
    """len(text) / the number of tokens of `text` with the first merges that n_vocab allows."""
    raise NotImplementedError  # your code here


check("03.3", characters_per_token)

# %% [markdown]
# Questions to think about (no check):
#
# 1. Train with `n_vocab=300` and print all 44 merges. Which are whole words?
# 2. Remove the pre-tokenization (treat the whole text as one chunk in `train_merges` on the
#    first 20,000 characters). Which merges cross word boundaries?
# 3. Why does `merge_pair([7, 7, 7], (7, 7), 8)` give `[8, 7]` and not `[7, 8]`? Does the order matter
#    for training?
# 4. Change GPT-2's pattern so that a blank line before a word is one chunk. How many tokens does
#    the validation text save at $n_{\text{vocab}} = 512$?
# 5. Plot characters per token on a text in French or German (write a few sentences). Why does the
#    curve stay lower than on Shakespeare?
#
# The peak memory of this notebook's kernel:

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

check_peak_memory()
