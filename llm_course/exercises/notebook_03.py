"""The checks of notebook 03_subword_tokens's exercises (solutions: solutions/03_subword_tokens.py)."""

from __future__ import annotations

import math

import torch

from llm_course.exercises import NotYet, as_number, call, exercise, expect

NOTEBOOK = "03_subword_tokens"


@exercise("03.1", NOTEBOOK, "one BPE merge step")
def _merge(merge) -> None:
    from llm_course.bpe import merge_pair

    cases = [([1, 2, 3, 1, 2], (1, 2), 4), ([7, 7, 7], (7, 7), 8), ([5, 6], (5, 6), 9), ([5], (5, 5), 9), ([], (1, 2), 3)]
    generator = torch.Generator().manual_seed(31)
    for _ in range(6):  # short alphabets, so that the pair occurs often, next to itself too
        ids = torch.randint(3, (int(torch.randint(5, 30, (1,), generator=generator)),), generator=generator).tolist()
        pair = tuple(torch.randint(3, (2,), generator=generator).tolist())
        cases.append((ids, pair, 256))
    for ids, pair, new_index in cases:
        expected = merge_pair(ids, pair, new_index)  # the course's own implementation
        got = call(merge, list(ids), pair, new_index)
        expect(isinstance(got, (list, tuple)), f"merge({ids}, {pair}, {new_index}) should return a list of ints")
        got = list(got)
        if got != expected:
            raise NotYet(f"merge({ids[:12]}{'...' if len(ids) > 12 else ''}, {pair}, {new_index}) should be "
                         f"{expected[:12]}, got {got[:12]}: scan from the left; after a match, skip both "
                         "tokens; keep the last token when it starts no pair")


def _oracle_best_pair(words, freqs, vocab):
    from llm_course.bpe import pair_counts

    counts = pair_counts(words, freqs)
    return max(counts, key=lambda pair: (counts[pair], vocab[pair[0]], vocab[pair[1]]))


@exercise("03.2", NOTEBOOK, "the most frequent pair, with the course's tie rule")
def _best_pair(best_pair) -> None:
    vocab = [bytes([b]) for b in range(256)] + [b"aa", b"aaa"]  # 256 = aa, 257 = aaa
    cases = [
        ([[256, 97, 98, 100, 256, 97, 98, 97, 99]], [1], vocab),  # Za x2 and ab x2: (aa, a) > (a, b) wins
        ([[256, 97], [98, 97]], [1, 1], vocab),  # a tie where byte order and index order disagree: (b, a) wins
        ([[104, 105], [106, 107, 106, 107]], [5, 1], vocab),  # weighted: (h, i) 5 times against (j, k) twice
    ]
    generator = torch.Generator().manual_seed(32)
    for _ in range(5):
        words = [torch.tensor([97, 98, 256, 257])[torch.randint(4, (int(n),), generator=generator)].tolist()
                 for n in torch.randint(2, 7, (4,), generator=generator)]
        freqs = torch.randint(1, 4, (4,), generator=generator).tolist()
        cases.append((words, freqs, vocab))
    for words, freqs, vocab_ in cases:
        expected = _oracle_best_pair(words, freqs, vocab_)
        got = call(best_pair, [list(w) for w in words], list(freqs), list(vocab_))
        expect(isinstance(got, (tuple, list)) and len(got) == 2, "best_pair should return a pair (a, b) of indices")
        got = tuple(got)
        if got != expected:
            left, right = vocab_[expected[0]], vocab_[expected[1]]
            raise NotYet(f"for words {words} with frequencies {freqs} the next merge is {expected} = "
                         f"({left!r}, {right!r}), got "
                         f"{got}: weight each chunk's pairs by its frequency, and break ties by the bytes the "
                         "indices stand for (the greatest wins), not by the indices")


@exercise("03.3", NOTEBOOK, "compression: characters per token at a smaller n_vocab")
def _characters_per_token(characters_per_token) -> None:
    from llm_course.bpe import BPETokenizer

    training = "the cat sat on the mat. the hat! naïve café, naïve thé " * 8
    trained = BPETokenizer.train(training, n_vocab=300)
    generator = torch.Generator().manual_seed(33)
    texts = ["the cat, the hat; the mat.", "naïve café thé", training[:120]]
    for text in texts:
        for n_vocab in (256, 260, int(torch.randint(261, trained.n_vocab + 1, (1,), generator=generator))):
            expected = len(text) / len(BPETokenizer(trained.merges[: n_vocab - 256]).encode(text))
            got = as_number(call(characters_per_token, list(trained.merges), n_vocab, text),
                            f"characters_per_token(merges, {n_vocab}, {text[:16]!r}...)")
            if not math.isclose(got, expected, rel_tol=1e-9):
                raise NotYet(f"characters_per_token(merges, n_vocab={n_vocab}, {text[:20]!r}) should be "
                             f"{expected:.4f}, got {got:.4f}: n_vocab counts the 256 bytes too, so keep the first "
                             "n_vocab - 256 merges; divide characters (not bytes) by tokens")
