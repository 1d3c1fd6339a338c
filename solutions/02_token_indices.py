"""Solutions to the exercises of notebook 02 (token indices). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import re


def make_codec(training_text: str):
    """02.1: S is the sorted distinct characters; encode looks each character up, decode indexes S."""
    tokens = sorted(set(training_text))  # S, 0-based in code
    index = {token: i for i, token in enumerate(tokens)}

    def encode(text: str) -> list[int]:
        return [index[c] for c in text]

    def decode(indices: list[int]) -> str:
        return "".join(tokens[i] for i in indices)

    return encode, decode


def decode_maths(tokens: tuple[str, ...], maths_indices: list[int]) -> str:
    """02.2: the maths' s_j = i names t_i, which the code stores at tokens[i - 1]."""
    return "".join(tokens[i - 1] for i in maths_indices)


def tokenize_with_fallback(text: str, words: set[str]) -> list[str]:
    """02.3: split into runs of letters and single other characters; spell the unknown runs."""
    tokens = []
    for piece in re.findall(r"[A-Za-z]+|[^A-Za-z]", text):
        if piece.isalpha() and piece not in words:
            tokens.extend(piece)  # an unknown word, letter by letter
        else:
            tokens.append(piece)
    return tokens


SOLUTIONS = {
    "02.1": make_codec,
    "02.2": decode_maths,
    "02.3": tokenize_with_fallback,
}


def _codec_in_order_of_appearance(training_text):
    tokens = list(dict.fromkeys(training_text))  # first-seen order: not sorted
    index = {token: i for i, token in enumerate(tokens)}
    return (lambda text: [index[c] for c in text]), (lambda indices: "".join(tokens[i] for i in indices))


def _codec_counting_from_one(training_text):
    tokens = sorted(set(training_text))
    index = {token: i + 1 for i, token in enumerate(tokens)}  # maths indices in code
    return (lambda text: [index[c] for c in text]), (lambda indices: "".join(tokens[i - 1] for i in indices))


def _fallback_for_every_word(text, words):
    return list(text)  # spells known words too: the character tokenizer


def _unknown_words_kept_whole(text, words):
    return re.findall(r"[A-Za-z]+|[^A-Za-z]", text)


MISTAKES = {
    "02.1": {
        "indices in order of first appearance, not sorted": _codec_in_order_of_appearance,
        "1-based indices in code": _codec_counting_from_one,
    },
    "02.2": {"forgot to subtract one (tokens[i])": lambda tokens, maths_indices: "".join(
        tokens[i % len(tokens)] for i in maths_indices)},
    "02.3": {
        "known words spelled letter by letter too": _fallback_for_every_word,
        "unknown words kept whole (no fallback)": _unknown_words_kept_whole,
    },
}
