"""The checks of notebook 02_token_indices's exercises (solutions: solutions/02_token_indices.py)."""

from __future__ import annotations

import torch

from llm_course.exercises import NotYet, call, exercise, expect

NOTEBOOK = "02_token_indices"
_ALPHABET = "\n !',.:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _random_text(generator: torch.Generator, length: int, alphabet: str = _ALPHABET) -> str:
    return "".join(alphabet[i] for i in torch.randint(len(alphabet), (length,), generator=generator).tolist())


@exercise("02.1", NOTEBOOK, "encode and decode over the sorted characters")
def _make_codec(make_codec) -> None:
    from llm_course.tokenizers import CharTokenizer

    generator = torch.Generator().manual_seed(21)
    # "hello world": the sorted characters are ' ' d e h l o r w, so the first-seen order (h e l o ...) differs.
    trainings = ["hello world", _random_text(generator, 300), _random_text(generator, 40, "zyxwvu tsr")]
    for training_text in trainings:
        oracle = CharTokenizer.from_text(training_text)
        answer = call(make_codec, training_text)
        expect(isinstance(answer, (tuple, list)) and len(answer) == 2,
               f"make_codec({training_text[:12]!r}...) should return a pair of functions (encode, decode)")
        encode, decode = answer
        probe = "".join(sorted(set(training_text))) + training_text[: len(training_text) // 2]
        got = call(encode, probe, what="your encode(text)")
        expected = oracle.encode(probe)
        if got != expected:
            if isinstance(got, list) and len(got) == len(expected) and [i - 1 for i in got] == expected:
                raise NotYet("your indices are one too large: the code counts from 0 (the first sorted character is 0)")
            raise NotYet(f"encode({probe[:15]!r}...) should be {expected[:8]}..., got {str(got)[:60]}: the index of "
                         "a character is its position in the *sorted* distinct characters of the training text")
        text = call(decode, list(expected), what="your decode(indices)")
        expect(text == probe, f"decode(encode(x)) should give x back, got {str(text)[:30]!r} for {probe[:30]!r}")


@exercise("02.2", NOTEBOOK, "from the maths' 1-based indices to text")
def _decode_maths(decode_maths) -> None:
    from llm_course.vocabulary import Vocabulary

    generator = torch.Generator().manual_seed(22)
    vocabularies = [Vocabulary("to be or not"), Vocabulary(_random_text(generator, 200)),
                    Vocabulary(["the", "king", " ", ",", "queen", "\n"])]
    for vocabulary in vocabularies:
        n_vocab = len(vocabulary)
        # Always include the first and the last token, t_1 and t_{n_vocab}.
        maths = [1, n_vocab] + (torch.randint(n_vocab, (10,), generator=generator) + 1).tolist()
        expected = "".join(vocabulary.token(i - 1) for i in maths)
        got = call(decode_maths, vocabulary.tokens, list(maths), what="decode_maths(tokens, maths_indices)")
        expect(isinstance(got, str), f"decode_maths should return a str, got {type(got).__name__}")
        expect(got == expected, f"with S = {vocabulary.tokens[:6]}... the maths indices {maths[:4]}... spell "
                                f"{expected[:20]!r}..., got {got[:20]!r}: s_j = i means the token t_i, "
                                "which is tokens[i - 1] in code")


@exercise("02.3", NOTEBOOK, "the word tokenizer's character fallback")
def _tokenize_with_fallback(tokenize_with_fallback) -> None:
    from llm_course.tokenizers import WordTokenizer

    generator = torch.Generator().manual_seed(23)
    cases = [("to be, or not to bet!", {"to", "be", "or"}), ("I'll see thee anon.", {"I", "see"})]
    words = ["to", "be", "the", "king", "kingdom", "a", "art", "thou"]
    for _ in range(4):
        chosen = [words[i] for i in torch.randint(len(words), (12,), generator=generator).tolist()]
        glue = [" ,.\n'"[i] for i in torch.randint(5, (12,), generator=generator).tolist()]
        known = {words[i] for i in torch.randperm(len(words), generator=generator)[:4].tolist()}
        cases.append(("".join(w + g for w, g in zip(chosen, glue, strict=True)), known))
    for text, known in cases:
        # The oracle: the course's tokenizer, built from the known words with every letter added.
        letters = "".join(sorted({c for c in text if c.isalpha()}))
        oracle = WordTokenizer.from_text(" ".join(sorted(known)) + " " + letters + ",.\n'!", character_fallback=True)
        expected = oracle.tokenize(text)
        got = call(tokenize_with_fallback, text, set(known))
        expect(isinstance(got, (list, tuple)), "tokenize_with_fallback should return a list of strings")
        got = list(got)
        expect("".join(map(str, got)) == text, f"your tokens {got[:8]}... do not join back into {text[:30]!r}")
        expect(got == expected, f"tokenize_with_fallback({text[:30]!r}..., {sorted(known)}) should be "
                                f"{expected[:10]}..., got {got[:10]}...: known words stay whole, an unknown run of "
                                "letters becomes its letters, every other character is alone")
