"""Tests for llm_course.tokenizers: worked examples, round trips, unknown tokens and errors."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_course.tokenizers import CharTokenizer, WordTokenizer, split_words
from llm_course.vocabulary import UnknownTokenError, Vocabulary

# The oracle: the 65 distinct characters of Tiny Shakespeare, written out in Python's string order.
SHAKESPEARE_CHARACTERS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def char_tokenizer(shakespeare):
    return CharTokenizer.from_text(shakespeare)


@pytest.fixture(scope="module")
def word_tokenizer(shakespeare):
    return WordTokenizer.from_text(shakespeare)


# ---- CharTokenizer -------------------------------------------------------------------------------


def test_char_worked_example_by_hand():
    tokenizer = CharTokenizer.from_text("hello world")
    # sorted distinct characters: ' ' d e h l o r w  ->  indices 0..7
    assert tokenizer.vocabulary.tokens == (" ", "d", "e", "h", "l", "o", "r", "w")
    assert tokenizer.encode("hello") == [3, 2, 4, 4, 5]
    assert tokenizer.decode([7, 5, 6, 4, 1]) == "world"
    assert tokenizer.n_vocab == len(tokenizer.vocabulary) == 8
    assert isinstance(tokenizer.vocabulary, Vocabulary)  # the one from llm_course.vocabulary, not a copy


def test_char_vocabulary_of_shakespeare_is_the_65_characters(char_tokenizer):
    assert char_tokenizer.n_vocab == 65
    assert "".join(char_tokenizer.vocabulary.tokens) == SHAKESPEARE_CHARACTERS
    assert char_tokenizer.encode(SHAKESPEARE_CHARACTERS) == list(range(65))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=SHAKESPEARE_CHARACTERS, max_size=200))
def test_char_encode_is_the_position_in_the_sorted_characters_and_round_trips(char_tokenizer, text):
    indices = char_tokenizer.encode(text)
    assert indices == [SHAKESPEARE_CHARACTERS.index(c) for c in text]
    assert char_tokenizer.decode(indices) == text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 64), max_size=100))
def test_char_indices_round_trip(char_tokenizer, indices):
    assert char_tokenizer.encode(char_tokenizer.decode(indices)) == indices


def test_char_round_trip_of_the_whole_corpus(char_tokenizer, shakespeare):
    assert char_tokenizer.decode(char_tokenizer.encode(shakespeare)) == shakespeare


def test_char_unknown_character_raises_naming_it(char_tokenizer):
    with pytest.raises(UnknownTokenError, match=r"character 'é' \(position 3"):
        char_tokenizer.encode("café")
    with pytest.raises(KeyError, match="'#'"):
        char_tokenizer.encode("#")


def test_char_unknown_token_when_asked_for(shakespeare):
    tokenizer = CharTokenizer.from_text(shakespeare, unknown="<unk>")
    assert tokenizer.n_vocab == 66 and tokenizer.vocabulary.unknown_index == 65
    assert tokenizer.encode("café") == [SHAKESPEARE_CHARACTERS.index(c) for c in "caf"] + [65]
    assert tokenizer.decode(tokenizer.encode("café")) == "caf<unk>"


@pytest.mark.parametrize("bad", [65, -1, 1000])
def test_char_decode_out_of_range_raises_naming_the_index(char_tokenizer, bad):
    with pytest.raises(IndexError, match=rf"token index {bad} is out of range"):
        char_tokenizer.decode([0, bad])


@pytest.mark.parametrize("bad", [1.5, "a", None])
def test_char_decode_non_integer_raises_naming_it(char_tokenizer, bad):
    with pytest.raises(TypeError, match=re.escape(repr(bad))):
        char_tokenizer.decode([0, bad])


def test_decode_accepts_a_tensor(char_tokenizer):
    assert char_tokenizer.decode(torch.tensor([18, 47, 56, 57, 58])) == "First"


@pytest.mark.parametrize("bad", [None, 3, b"abc", ["a"]])
def test_non_string_text_raises_naming_it(char_tokenizer, word_tokenizer, bad):
    for call in (char_tokenizer.encode, word_tokenizer.encode, CharTokenizer.from_text, WordTokenizer.from_text):
        with pytest.raises(TypeError, match=re.escape(repr(bad))):
            call(bad)


def test_from_empty_text_raises():
    for tokenizer_class in (CharTokenizer, WordTokenizer):
        with pytest.raises(ValueError, match="0 tokens"):
            tokenizer_class.from_text("")


def test_char_tokenizer_refuses_a_word_vocabulary():
    with pytest.raises(ValueError, match="'to'"):
        CharTokenizer(Vocabulary(["to", "b"]))
    with pytest.raises(TypeError, match="'abc'"):
        CharTokenizer("abc")


# ---- WordTokenizer -------------------------------------------------------------------------------


def test_split_words_worked_example():
    assert split_words("I'll go,  now!") == ["I", "'", "ll", " ", "go", ",", " ", " ", "now", "!"]
    assert split_words("caf\u00e9 3rd") == ["caf", "\u00e9", " ", "3", "rd"]
    assert split_words("") == []


def test_word_worked_example_by_hand():
    tokenizer = WordTokenizer.from_text("to be, or not to be")
    # words be not or to, and the characters ' ' and ',' ; sorted: ' ' ',' be not or to
    assert tokenizer.vocabulary.tokens == (" ", ",", "be", "not", "or", "to")
    assert tokenizer.encode("not to be") == [3, 0, 5, 0, 2]
    assert tokenizer.decode([5, 0, 2, 1]) == "to be,"
    assert tokenizer.tokenize("to be,") == ["to", " ", "be", ","]


@pytest.fixture(scope="module")
def word_text_strategy(word_tokenizer):
    """Text over the tokenizer's vocabulary: words, each followed by one or more non-letter tokens."""
    words = st.sampled_from([t for t in word_tokenizer.vocabulary.tokens if t.isalpha()])
    others = st.sampled_from([t for t in word_tokenizer.vocabulary.tokens if not t.isalpha()])
    pieces = st.lists(st.tuples(words, st.lists(others, min_size=1, max_size=3)), max_size=30)
    start = st.lists(others, max_size=2)
    return st.builds(lambda s, p: "".join(s) + "".join(w + "".join(after) for w, after in p), start, pieces)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_word_round_trip_for_text_over_the_vocabulary(word_tokenizer, word_text_strategy, data):
    text = data.draw(word_text_strategy)
    indices = word_tokenizer.encode(text)
    assert word_tokenizer.decode(indices) == text
    assert [word_tokenizer.vocabulary.token(i) for i in indices] == split_words(text)


def test_word_round_trip_of_the_whole_corpus(word_tokenizer, shakespeare):
    indices = word_tokenizer.encode(shakespeare)
    assert word_tokenizer.decode(indices) == shakespeare
    assert len(indices) == len(re.findall(r"[A-Za-z]+|[^A-Za-z]", shakespeare))  # oracle: the regex itself
    distinct_words = set(re.findall(r"[A-Za-z]+", shakespeare))
    assert word_tokenizer.n_vocab == len(distinct_words) + len(set(re.sub(r"[A-Za-z]", "", shakespeare)))


def test_word_unknown_word_raises_naming_it(word_tokenizer):
    with pytest.raises(UnknownTokenError, match=r"word 'Zyxwv' \(position 4"):
        word_tokenizer.encode("the Zyxwv")
    with pytest.raises(UnknownTokenError, match=r"character '#'"):
        word_tokenizer.encode("the #")


def test_word_unknown_token_when_asked_for_and_where_decode_differs():
    tokenizer = WordTokenizer.from_text("to be or not to be", unknown="<unk>")
    unk = tokenizer.vocabulary.unknown_index
    assert unk == tokenizer.n_vocab - 1
    assert tokenizer.encode("to sleep") == [tokenizer.vocabulary.index("to"), tokenizer.vocabulary.index(" "), unk]
    assert tokenizer.decode(tokenizer.encode("to sleep, be")) == "to <unk><unk> be"  # the word and ',' are lost


def test_word_decode_out_of_range_raises_naming_the_index():
    tokenizer = WordTokenizer.from_text("to be")
    with pytest.raises(IndexError, match=r"token index 3 is out of range.*n_vocab = 3"):
        tokenizer.decode([0, 3])


def test_word_max_words_keeps_the_most_frequent():
    tokenizer = WordTokenizer.from_text("a a a b b c d, d", unknown="<unk>", max_words=2)
    # counts: a 3, b 2, d 2, c 1; ties by string order keep b before d; ' ' and ',' always kept
    assert tokenizer.vocabulary.tokens == (" ", ",", "a", "b", "<unk>")
    assert WordTokenizer.from_text("a b", max_words=0).vocabulary.tokens == (" ",)


@pytest.mark.parametrize("bad", [-1, 2.0, True, "3"])
def test_word_bad_max_words_raises_naming_it(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        WordTokenizer.from_text("a b", max_words=bad)


# ---- the character fallback ---------------------------------------------------------------------


def test_character_fallback_spells_unknown_words_letter_by_letter():
    tokenizer = WordTokenizer.from_text("to be, or not to be", character_fallback=True)
    # the vocabulary: the words, the other characters, and every letter of the text
    assert set(tokenizer.vocabulary.tokens) == {"to", "be", "or", "not", " ", ","} | set("tobernot")
    assert tokenizer.tokenize("bent to,") == ["b", "e", "n", "t", " ", "to", ","]
    assert tokenizer.decode(tokenizer.encode("bent to,")) == "bent to,"
    with pytest.raises(UnknownTokenError, match=r"word 'z'"):  # a letter the text never had
        tokenizer.encode("zen")


def test_character_fallback_round_trips_the_validation_text(shakespeare):
    # Oracle: the regex cut, with every run of letters outside the training words replaced by its letters.
    train, val = shakespeare[:1_000_000], shakespeare[1_000_000:1_030_000]
    tokenizer = WordTokenizer.from_text(train, character_fallback=True)
    known = set(re.findall(r"[A-Za-z]+", train))
    expected = []
    for piece in re.findall(r"[A-Za-z]+|[^A-Za-z]", val):
        expected.extend(list(piece) if piece.isalpha() and piece not in known else [piece])
    assert tokenizer.tokenize(val) == expected
    assert tokenizer.decode(tokenizer.encode(val)) == val
    assert tokenizer.vocabulary.unknown is None


def test_character_fallback_with_max_words_keeps_every_letter():
    tokenizer = WordTokenizer.from_text("aa aa bb cc", max_words=1, character_fallback=True)
    assert tokenizer.vocabulary.tokens == (" ", "a", "aa", "b", "c")
    assert tokenizer.tokenize("bb aa") == ["b", "b", " ", "aa"]


# ---- looking at tokens ----------------------------------------------------------------------------


def test_token_strings_and_describe_tokens(char_tokenizer):
    from llm_course.tokenizers import describe_tokens, token_strings

    tokenizer = WordTokenizer.from_text("to be, or not to be")
    ids = tokenizer.encode("not to be,")
    assert token_strings(tokenizer, ids) == ["not", " ", "to", " ", "be", ","]
    lines = describe_tokens(tokenizer, "not to be,", "words").splitlines()
    assert lines == ["words (n_vocab = 6): 10 characters -> 6 tokens", "  not|␣|to|␣|be|,", f"  {ids}"]
    assert describe_tokens(char_tokenizer, "a\nb").splitlines()[1] == "  a|↵|b"


def test_token_box_shows_every_tokenizer_and_follows_the_text(char_tokenizer):
    pytest.importorskip("ipywidgets")
    from llm_course.tokenizers import token_box

    words = WordTokenizer.from_text("to be, or not to be")
    box = token_box({"characters": char_tokenizer, "words": words}, text="to be")
    text_box, shown = box.children
    assert "<b>characters</b> (n_vocab = 65): 5 characters → 5 tokens" in shown.value
    assert "<b>words</b> (n_vocab = 6): 5 characters → 3 tokens" in shown.value
    text_box.value = "to #"  # '#' is in neither vocabulary: the error is shown, not raised
    assert "character &#x27;#&#x27; (position 3" in shown.value and "→ 4 tokens" not in shown.value


def test_draw_token_strips_draws_one_box_per_token(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from llm_course.tokenizers import draw_token_strips

    monkeypatch.setattr(plt, "show", lambda: None)
    draw_token_strips([("a", ["to", " ", "be"], [5, 0, 2]), ("b", list("to be"), [4, 3, 0, 1, 2])], "title")
    ax = plt.gcf().axes[0]
    assert len(ax.patches) == 3 + 5 and ax.get_title() == "title"
    assert sum(patch.get_width() for patch in ax.patches[:3]) == len("to be")  # boxes as wide as their characters
    plt.close("all")
