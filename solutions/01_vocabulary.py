"""Solutions to the exercises of notebook 01 (the vocabulary). Try them yourself first.

`SOLUTIONS` maps each exercise id to its answer, `MISTAKES` to realistic wrong answers that the
check must refuse (the tests in tests/test_exercises.py run both).
"""

from __future__ import annotations

import numpy as np


def my_coverage(known: set[str], tokens: list[str]) -> float:
    """01.1: #{j : t_j in V} / N, counted over positions (occurrences), not over distinct tokens."""
    return sum(token in known for token in tokens) / len(tokens)


def zipf_slope(counts: list[int], first_rank: int, last_rank: int) -> float:
    """01.2: sort the counts from the largest down, then fit log count = a + slope * log rank."""
    ordered = np.sort(np.asarray(counts, dtype=float))[::-1]  # rank 1, 2, ...
    ranks = np.arange(1, len(ordered) + 1)
    chosen = slice(first_rank - 1, last_rank)  # ranks first_rank..last_rank, counted from 1
    slope, _intercept = np.polyfit(np.log(ranks[chosen]), np.log(ordered[chosen]), 1)
    return float(slope)


def greedy_split(word: str, vocabulary: set[str]) -> list[str]:
    """01.3: from the left, the longest token of `vocabulary` that the rest of `word` starts with."""
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while word[start:end] not in vocabulary:  # shorten until the piece is a token
            end -= 1
        pieces.append(word[start:end])
        start = end
    return pieces


SOLUTIONS = {
    "01.1": my_coverage,
    "01.2": zipf_slope,
    "01.3": greedy_split,
}


def _coverage_of_distinct_tokens(known, tokens):
    return len({token for token in tokens if token in known}) / len(set(tokens))


def _slope_unsorted(counts, first_rank, last_rank):
    ordered = np.asarray(counts, dtype=float)  # forgot to sort: the "rank" is the order of the list
    ranks = np.arange(1, len(ordered) + 1)
    chosen = slice(first_rank - 1, last_rank)
    return float(np.polyfit(np.log(ranks[chosen]), np.log(ordered[chosen]), 1)[0])


def _slope_against_rank(counts, first_rank, last_rank):
    ordered = np.sort(np.asarray(counts, dtype=float))[::-1]
    ranks = np.arange(1, len(ordered) + 1)
    chosen = slice(first_rank - 1, last_rank)
    return float(np.polyfit(ranks[chosen], np.log(ordered[chosen]), 1)[0])  # log count against the rank itself


def _greedy_from_the_right(word, vocabulary):
    pieces, end = [], len(word)
    while end > 0:
        start = min(s for s in range(end) if word[s:end] in vocabulary)
        pieces.insert(0, word[start:end])
        end = start
    return pieces


def _shortest_match(word, vocabulary):
    return list(word)  # every letter is a token: the shortest match is always one letter


MISTAKES = {
    "01.1": {"counts distinct tokens instead of occurrences": _coverage_of_distinct_tokens},
    "01.2": {
        "counts not sorted by frequency first": _slope_unsorted,
        "log count against the rank, not the log rank": _slope_against_rank,
    },
    "01.3": {
        "longest match taken from the right end of the word": _greedy_from_the_right,
        "shortest match (one letter at a time)": _shortest_match,
    },
}
