"""Tests for llm_course.vocabulary: ordering, index/token inverse, the unknown token, errors, coverage."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_course.vocabulary import UnknownTokenError, Vocabulary, coverage

# The oracle: the 65 distinct characters of Tiny Shakespeare, written out in Python's string order.
SHAKESPEARE_CHARACTERS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

token_lists = st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(tokens=token_lists, seed=st.integers(0, 2**32 - 1))
def test_order_is_sorted_and_independent_of_input_order(tokens, seed):
    shuffled = list(tokens)
    random.Random(seed).shuffle(shuffled)
    vocabulary = Vocabulary(tokens)
    assert vocabulary.tokens == tuple(sorted(set(tokens)))  # oracle: Python's own sort of the set
    assert Vocabulary(shuffled).tokens == vocabulary.tokens
    assert Vocabulary(reversed(tokens)) == vocabulary  # any iterable, even a one-shot iterator
    assert len(vocabulary) == vocabulary.n_vocab == len(set(tokens))


@settings(max_examples=150, deadline=None)
@given(tokens=token_lists)
def test_index_and_token_are_inverse_for_every_token(tokens):
    vocabulary = Vocabulary(tokens)
    for index, token in enumerate(vocabulary.tokens):
        assert vocabulary.index(token) == index
        assert vocabulary.token(index) == token
        assert token in vocabulary
    assert [vocabulary.index(vocabulary.token(i)) for i in range(len(vocabulary))] == list(range(len(vocabulary)))


def test_worked_example_duplicates_collapse():
    vocabulary = Vocabulary(["to", "be", "or", "not", "to", "be"])
    assert vocabulary.tokens == ("be", "not", "or", "to")
    assert len(vocabulary) == 4
    assert vocabulary.index("to") == 3 and vocabulary.token(0) == "be"
    assert list(vocabulary) == ["be", "not", "or", "to"]


def test_a_string_is_an_iterable_of_characters():
    assert Vocabulary("banana").tokens == ("a", "b", "n")


def test_shakespeare_characters_are_reproduced_exactly(shakespeare):
    vocabulary = Vocabulary(shakespeare)
    assert len(vocabulary) == 65
    assert "".join(vocabulary.tokens) == SHAKESPEARE_CHARACTERS
    assert vocabulary.index("\n") == 0 and vocabulary.index("z") == 64  # code counts from 0
    assert vocabulary.token(SHAKESPEARE_CHARACTERS.index("A")) == "A"


def test_unknown_token_sits_last_and_takes_every_unknown_token():
    vocabulary = Vocabulary(["b", "a", "c"], unknown="<unk>")
    assert vocabulary.tokens == ("a", "b", "c", "<unk>")  # "<unk>" sorts before "a" but sits last
    assert vocabulary.unknown == "<unk>" and vocabulary.unknown_index == 3 == len(vocabulary) - 1
    assert vocabulary.index("zebra") == 3 and vocabulary.index("<unk>") == 3
    assert vocabulary.index("b") == Vocabulary(["b", "a", "c"]).index("b")  # other indices unchanged
    assert "<unk>" in vocabulary and "zebra" not in vocabulary
    assert Vocabulary(["a", "<unk>", "b"], unknown="<unk>").tokens == ("a", "b", "<unk>")  # no duplicate
    assert Vocabulary("ab").unknown_index is None


def test_equality_and_hash():
    assert Vocabulary("abc") == Vocabulary("cba")
    assert Vocabulary("abc") != Vocabulary("abc", unknown="?")
    assert hash(Vocabulary("abc")) == hash(Vocabulary(["c", "b", "a"]))
    assert Vocabulary("abc") != "abc"


def test_integer_like_indices_are_accepted():
    vocabulary = Vocabulary("abc")
    assert vocabulary.token(np.int64(1)) == "b"
    assert vocabulary.token(torch.tensor(2)) == "c"


@pytest.mark.parametrize("tokens", [[], (), "", set(), iter([])])
def test_empty_vocabulary_raises(tokens):
    with pytest.raises(ValueError, match="0 tokens"):
        Vocabulary(tokens)


def test_only_an_unknown_token_is_empty_too():
    with pytest.raises(ValueError, match="besides the unknown token '<unk>'"):
        Vocabulary(["<unk>"], unknown="<unk>")


@pytest.mark.parametrize("bad", [1, None, b"a", 2.5, ("a",)])
def test_non_string_token_raises_naming_it(bad):
    with pytest.raises(TypeError, match=re.escape(repr(bad))):
        Vocabulary(["a", bad])


def test_empty_string_token_raises():
    with pytest.raises(ValueError, match="''"):
        Vocabulary(["a", ""])


@pytest.mark.parametrize("bad", [0, b"<unk>"])
def test_non_string_unknown_raises_naming_it(bad):
    with pytest.raises(TypeError, match=re.escape(repr(bad))):
        Vocabulary("ab", unknown=bad)


def test_unknown_token_without_unknown_raises_naming_it():
    vocabulary = Vocabulary(["to", "be"])
    with pytest.raises(UnknownTokenError, match="'question'"):
        vocabulary.index("question")
    with pytest.raises(KeyError, match="'question'"):  # UnknownTokenError is a KeyError
        vocabulary.index("question")
    assert str(UnknownTokenError("plain message")) == "plain message"


@pytest.mark.parametrize("bad", [1, None, b"to"])
def test_index_of_a_non_string_raises_naming_it(bad):
    with pytest.raises(TypeError, match=re.escape(repr(bad))):
        Vocabulary(["to", "be"]).index(bad)


@pytest.mark.parametrize("bad", [-1, 3, 100, -100])
def test_out_of_range_index_raises_naming_it_and_the_limit(bad):
    with pytest.raises(IndexError, match=rf"token index {bad} is out of range.*n_vocab = 3"):
        Vocabulary("abc").token(bad)


@pytest.mark.parametrize("bad", [1.0, "1", None, True, torch.tensor(1.0)])
def test_non_integer_index_raises_naming_it(bad):
    with pytest.raises(TypeError, match="must be an int, got " + re.escape(repr(bad))):
        Vocabulary("abc").token(bad)


def test_contains_is_false_for_non_strings():
    vocabulary = Vocabulary("abc")
    assert 1 not in vocabulary and None not in vocabulary and "d" not in vocabulary


def test_coverage_worked_example():
    vocabulary = Vocabulary(["to", "be"], unknown="<unk>")
    assert coverage(vocabulary, ["to", "be", "or", "not", "to", "be"]) == pytest.approx(4 / 6)
    assert coverage(vocabulary, ["<unk>", "to"]) == pytest.approx(1 / 2)  # the unknown token is not "known"
    assert coverage(Vocabulary("ab"), list("abab")) == 1.0


def test_coverage_of_nothing_raises():
    with pytest.raises(ValueError, match="0 tokens"):
        coverage(Vocabulary("ab"), [])


def test_repr_names_the_size():
    assert "n_vocab=65" in repr(Vocabulary(SHAKESPEARE_CHARACTERS))
    assert "unknown='<unk>'" in repr(Vocabulary("ab", unknown="<unk>"))
