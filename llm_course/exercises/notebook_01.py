"""The checks of notebook 01_vocabulary's exercises (solutions: solutions/01_vocabulary.py)."""

from __future__ import annotations

import math

import numpy as np
import torch

from llm_course.exercises import NotYet, as_number, call, exercise, expect

NOTEBOOK = "01_vocabulary"


@exercise("01.1", NOTEBOOK, "the coverage of a sequence of tokens")
def _coverage(my_coverage) -> None:
    from llm_course.vocabulary import Vocabulary, coverage

    words = ["to", "be", "or", "not", "that", "is", "the", "question", "a", "I"]
    cases = [({"to", "be"}, ["to", "be", "or", "not", "to", "be"])]  # 4 of 6 positions, 2 of 4 distinct words
    generator = torch.Generator().manual_seed(11)
    for n_known, length in ((3, 40), (7, 200), (1, 25)):
        order = torch.randperm(len(words), generator=generator).tolist()
        known = {words[i] for i in order[:n_known]}
        # Zipf-like draws: a few tokens are frequent, so counting occurrences and counting types differ.
        weights = 1.0 / torch.arange(1, len(words) + 1, dtype=torch.float64)
        tokens = [words[order[i]] for i in torch.multinomial(weights, length, replacement=True, generator=generator)]
        cases.append((known, tokens))
    for known, tokens in cases:
        expected = coverage(Vocabulary(known), tokens)  # the course's own implementation
        got = as_number(call(my_coverage, set(known), list(tokens)), "my_coverage(known, tokens)")
        expect(
            math.isclose(got, expected, rel_tol=1e-9),
            f"with known = {sorted(known)} and {len(tokens)} tokens the coverage is {expected:.4f}, got {got:.4f}: "
            "count positions (occurrences), not distinct tokens, and divide by the number of positions",
        )


def _zipf_counts(generator: torch.Generator, n_words: int, exponent: float) -> list[int]:
    """Counts that follow count_r ~ C r^-exponent with noise, shuffled (the learner must sort them)."""
    ranks = torch.arange(1, n_words + 1, dtype=torch.float64)
    noise = torch.exp(0.3 * torch.randn(n_words, generator=generator, dtype=torch.float64))
    counts = (20_000 * ranks**-exponent * noise).round().clamp_min(1).long()
    return counts[torch.randperm(n_words, generator=generator)].tolist()


@exercise("01.2", NOTEBOOK, "Zipf's slope: log count against log rank")
def _zipf_slope(zipf_slope) -> None:
    generator = torch.Generator().manual_seed(12)
    for n_words, exponent, first, last in ((400, 1.0, 1, 400), (3000, 1.2, 10, 1000), (800, 0.8, 5, 300)):
        counts = _zipf_counts(generator, n_words, exponent)
        ordered = np.array(sorted(counts, reverse=True), dtype=float)
        ranks = np.arange(1, len(ordered) + 1, dtype=float)
        expected = float(np.polyfit(np.log(ranks[first - 1 : last]), np.log(ordered[first - 1 : last]), 1)[0])
        got = as_number(call(zipf_slope, list(counts), first, last), f"zipf_slope(counts, {first}, {last})")
        if not math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            hint = (
                "sort the counts from the largest down first (rank 1 is the most frequent word), "
                "take ranks first_rank..last_rank (both included, counted from 1), and fit log count "
                "against log rank, natural logarithms on both axes"
            )
            raise NotYet(f"zipf_slope(counts, {first}, {last}) should be {expected:.4f}, got {got:.4f}: {hint}")
        expect(got < 0, "a slope of counts sorted from the largest down is negative")


def _greedy_oracle(word: str, vocabulary: set[str]) -> list[str]:
    pieces, start = [], 0
    while start < len(word):
        end = max(e for e in range(start + 1, len(word) + 1) if word[start:e] in vocabulary)
        pieces.append(word[start:end])
        start = end
    return pieces


@exercise("01.3", NOTEBOOK, "greedy longest match")
def _greedy_split(greedy_split) -> None:
    cases = [("unkindly", {"un", "kind", "unkind", "ly", *"unkidly"}), ("aab", {"a", "b", "aa", "ab"})]
    generator = torch.Generator().manual_seed(13)
    alphabet = "abc"
    for _ in range(6):
        word = "".join(alphabet[i] for i in torch.randint(3, (int(torch.randint(4, 12, (1,), generator=generator)),),
                                                          generator=generator))
        pieces = set(alphabet)
        for _ in range(5):  # a few substrings of the word, of length 2 to 4
            start = int(torch.randint(len(word) - 1, (1,), generator=generator))
            pieces.add(word[start : start + int(torch.randint(2, 5, (1,), generator=generator))])
        cases.append((word, pieces))
    for word, vocabulary in cases:
        expected = _greedy_oracle(word, vocabulary)
        got = call(greedy_split, word, set(vocabulary))
        expect(isinstance(got, (list, tuple)), f"greedy_split({word!r}, ...) should return a list of strings")
        got = list(got)
        expect("".join(map(str, got)) == word, f"greedy_split({word!r}, ...) gave {got}, which does not spell the word")
        expect(all(piece in vocabulary for piece in got), f"greedy_split({word!r}, ...) gave {got}: some pieces are "
                                                          "not in the vocabulary")
        expect(got == expected, f"greedy_split({word!r}, {sorted(vocabulary, key=lambda t: (len(t), t))}) should be "
                                f"{expected}, got {got}: from the left, take the longest token that the rest of the "
                                "word starts with")
