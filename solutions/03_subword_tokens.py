"""Solutions to the exercises of notebook 03 (sub-word tokens, BPE). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

from collections import Counter


def merge(ids: list[int], pair: tuple[int, int], new_index: int) -> list[int]:
    """03.1: scan left to right; a match becomes new_index and skips both tokens."""
    merged, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            merged.append(new_index)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


def best_pair(words: list[list[int]], freqs: list[int], vocab: list[bytes]) -> tuple[int, int]:
    """03.2: count pairs weighted by the chunk frequencies; the largest (count, left bytes, right bytes) wins."""
    counts = Counter()
    for word, freq in zip(words, freqs, strict=True):
        for pair in zip(word, word[1:], strict=False):
            counts[pair] += freq
    return max(counts, key=lambda pair: (counts[pair], vocab[pair[0]], vocab[pair[1]]))


def characters_per_token(merges: list[tuple[int, int]], n_vocab: int, text: str) -> float:
    """03.3: n_vocab = 256 bytes + merges, so keep the first n_vocab - 256 merges."""
    from llm_course.bpe import BPETokenizer

    return len(text) / len(BPETokenizer(merges[: n_vocab - 256]).encode(text))


SOLUTIONS = {
    "03.1": merge,
    "03.2": best_pair,
    "03.3": characters_per_token,
}


def _merge_drops_the_last_token(ids, pair, new_index):
    merged, i = [], 0
    while i < len(ids) - 1:  # the classic loop bound: the last token is never looked at alone
        if (ids[i], ids[i + 1]) == tuple(pair):
            merged.append(new_index)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


def _merge_overlapping(ids, pair, new_index):
    merged = [new_index if (a, b) == tuple(pair) else a for a, b in zip(ids, ids[1:], strict=False)]
    return merged + ids[-1:] if ids else []  # replaces every position, overlapping matches too


def _ties_by_index(words, freqs, vocab):
    counts = Counter()
    for word, freq in zip(words, freqs, strict=True):
        for pair in zip(word, word[1:], strict=False):
            counts[pair] += freq
    return max(counts, key=lambda pair: (counts[pair], pair))  # the greatest indices, not the greatest bytes


def _frequencies_ignored(words, freqs, vocab):
    return best_pair(words, [1] * len(words), vocab)


def _n_vocab_merges(merges, n_vocab, text):
    from llm_course.bpe import BPETokenizer

    return len(text) / len(BPETokenizer(merges[:n_vocab]).encode(text))  # forgot the 256 byte tokens


def _bytes_per_token(merges, n_vocab, text):
    from llm_course.bpe import BPETokenizer

    return len(text.encode("utf-8")) / len(BPETokenizer(merges[: n_vocab - 256]).encode(text))


MISTAKES = {
    "03.1": {
        "the loop stops before the last token": _merge_drops_the_last_token,
        "overlapping matches replaced too": _merge_overlapping,
    },
    "03.2": {
        "ties broken by the indices, not the bytes": _ties_by_index,
        "chunk frequencies ignored": _frequencies_ignored,
    },
    "03.3": {
        "keeps n_vocab merges (forgets the 256 bytes)": _n_vocab_merges,
        "bytes per token instead of characters": _bytes_per_token,
    },
}
