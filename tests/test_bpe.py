"""llm_course.bpe: byte-level BPE against worked examples, an independent naive trainer, tiktoken's
educational trainer and tiktoken's encoder (when installed) and round trips; special tokens, refused
by default as tiktoken refuses them; files; bad inputs.

GPT-2's tokenizer (`from_gpt2_files`, GPT-2's own ids) against tiktoken's `gpt2` encoding, which must
be installed (a dev dependency: these comparisons run, never skip) and is read offline from a
`TIKTOKEN_CACHE_DIR` filled with the local copies of the two files: on the corpus, on 1,000 random
Unicode strings and on the special token. `encode_iterable` against `encode` of the concatenation,
on random texts cut at random places, and its memory on a long stream."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llm_course.bpe import BPETokenizer, TokenizerFileError, count_words, train_merges, train_merges_fast

# GPT-2's pattern, written out here again so that a change to the module's copy is caught.
GPT2_PATTERN = r"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
EOT = "<|endoftext|>"


def merge_in_words(words: Counter, pair: tuple[bytes, bytes]) -> Counter:
    """Replace every non-overlapping occurrence of `pair`, left to right, in each word (a tuple of byte strings).

    >>> merge_in_words(Counter({(b"a", b"a", b"a"): 2}), (b"a", b"a"))
    Counter({(b'aa', b'a'): 2})
    """
    merged = Counter()
    for word, freq in words.items():
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
                out.append(word[i] + word[i + 1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        merged[tuple(out)] += freq
    return merged


def oracle_merges(text: str, n_merges: int) -> list[tuple[bytes, bytes]]:
    """An independent naive trainer: tokens are byte strings, every pair is recounted after every merge.

    Returns the merged pairs as (left bytes, right bytes); ties go to the greatest pair of byte strings.
    """
    words = Counter(tuple(bytes([b]) for b in chunk.encode("utf-8")) for chunk in regex.findall(GPT2_PATTERN, text))
    merges = []
    for _ in range(n_merges):
        counts = Counter()
        for word, freq in words.items():
            for left, right in zip(word, word[1:], strict=False):
                counts[(left, right)] += freq
        if not counts:
            break
        best = max(counts, key=lambda pair: (counts[pair], pair))
        words = merge_in_words(words, best)
        merges.append(best)
    return merges


def merges_as_bytes(tokenizer: BPETokenizer) -> list[tuple[bytes, bytes]]:
    return [(tokenizer.token_bytes(left), tokenizer.token_bytes(right)) for left, right in tokenizer.merges]


@pytest.fixture(scope="module")
def small_text(shakespeare) -> str:
    return shakespeare[:20_000]


@pytest.fixture(scope="module")
def tokenizer(small_text) -> BPETokenizer:
    return BPETokenizer.train(small_text, n_vocab=400, special_tokens=[EOT])


# --- worked examples -------------------------------------------------------------------------------


def test_worked_example_by_hand():
    # "aaabdaaabac" is one chunk; bytes a=97, b=98, c=99, d=100.
    # 1. pairs: aa x4, ab x2, bd, da, ba, ac -> merge (a, a) into 256:  Z a b d Z a b a c
    # 2. pairs: Za x2, ab x2 (tie) -> compare left bytes: b"aa" > b"a", so (Z, a) -> 257 = "aaa":  Y b d Y b a c
    # 3. pairs: Yb x2 -> (257, b) -> 258 = "aaab":  X d X a c
    tokenizer = BPETokenizer.train("aaabdaaabac", n_vocab=259)
    assert tokenizer.merges == [(97, 97), (256, 97), (257, 98)]
    assert [tokenizer.token_bytes(i) for i in (256, 257, 258)] == [b"aa", b"aaa", b"aaab"]
    assert tokenizer.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tokenizer.n_vocab == 259


def test_ties_go_to_the_greatest_pair_of_bytes():
    # "abcd": ab, bc, cd once each; the greatest (left, right) is (c, d) -> 256; then ab, bZ tie:
    # left bytes b"b" > b"a", so (b, Z) -> 257 = "bcd"; then (a, 257) -> 258 = "abcd".
    tokenizer = BPETokenizer.train("abcd", n_vocab=259)
    assert tokenizer.merges == [(99, 100), (98, 256), (97, 257)]


def test_merges_stay_inside_pre_tokenized_chunks():
    # " the the the": chunks " the" x3; no pair with a space in the middle of two words can appear.
    tokenizer = BPETokenizer.train("the the the the", n_vocab=300)
    learned = [tokenizer.token_bytes(256 + j) for j in range(len(tokenizer.merges))]
    assert all(b"e " not in token and not token.endswith(b" ") for token in learned)
    assert b" the" in learned and b"the" in learned
    assert len(learned) < 300 - 256  # the text ran out of pairs: training stopped early
    assert tokenizer.n_vocab == 256 + len(learned)


# --- against oracles ---------------------------------------------------------------------------------


def test_merges_agree_with_an_independent_naive_trainer(small_text):
    tokenizer = BPETokenizer.train(small_text, n_vocab=256 + 60)
    assert merges_as_bytes(tokenizer) == oracle_merges(small_text, 60)


def test_the_fast_and_the_readable_trainers_agree_on_a_larger_prefix(shakespeare):
    word_counts = count_words(shakespeare[:30_000])
    assert train_merges_fast(word_counts, 120) == train_merges(word_counts, 120)


def test_train_uses_either_trainer_with_the_same_result(small_text):
    fast = BPETokenizer.train(small_text[:8_000], n_vocab=300)
    readable = BPETokenizer.train(small_text[:8_000], n_vocab=300, fast=False)
    assert fast.merges == readable.merges and len(fast.merges) == 44


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet="aabbc \n'", max_size=60), n_merges=st.integers(0, 12))
def test_both_trainers_equal_the_oracle_on_tie_heavy_texts(text, n_merges):
    tokenizer = BPETokenizer.train(text, n_vocab=256 + n_merges)
    assert merges_as_bytes(tokenizer) == oracle_merges(text, n_merges)
    assert train_merges(count_words(text), n_merges) == tokenizer.merges


def test_merges_agree_with_tiktoken_educational_trainer_until_the_first_tie(small_text):
    educational = pytest.importorskip("tiktoken._educational")
    text = small_text[:5_000]
    ranks = educational.bpe_train(data=text, vocab_size=256 + 40, pat_str=GPT2_PATTERN, visualise=None)
    theirs = [token for token, rank in sorted(ranks.items(), key=lambda item: item[1]) if rank >= 256]
    ours = BPETokenizer.train(text, n_vocab=256 + 40)
    ours_tokens = [ours.token_bytes(256 + j) for j in range(len(ours.merges))]
    # tiktoken breaks ties by first occurrence, we by the greatest bytes: compare up to the first tie.
    oracle = oracle_merges(text, 40)
    tie = next(step for step in range(41) if step == 40 or _is_tie(text, oracle[:step]))
    assert tie >= 5, "the comparison should cover several merges"
    assert ours_tokens[:tie] == theirs[:tie]


def _is_tie(text: str, merges: list[tuple[bytes, bytes]]) -> bool:
    """Whether, after applying `merges`, two pairs share the top count."""
    words = Counter(tuple(bytes([b]) for b in c.encode()) for c in regex.findall(GPT2_PATTERN, text))
    for best in merges:
        words = merge_in_words(words, best)
    counts = Counter()
    for word, freq in words.items():
        for pair in zip(word, word[1:], strict=False):
            counts[pair] += freq
    top = counts.most_common(2)
    return len(top) == 2 and top[0][1] == top[1][1]


def test_encoding_applies_merges_in_rank_order(tokenizer, shakespeare):
    """Oracle: tiktoken's algorithm, merging one occurrence at a time of the lowest-ranked adjacent pair."""
    rank = {tokenizer.token_bytes(256 + j): 256 + j for j in range(len(tokenizer.merges))}
    text = shakespeare[500_000:505_000]
    expected = []
    for chunk in regex.findall(GPT2_PATTERN, text):
        parts = [bytes([b]) for b in chunk.encode("utf-8")]
        while len(parts) > 1:
            ranked = [(rank.get(a + b, 10**9), i) for i, (a, b) in enumerate(zip(parts, parts[1:], strict=False))]
            best_rank, i = min(ranked)
            if best_rank == 10**9:
                break
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        expected += [rank.get(part, part[0] if len(part) == 1 else None) for part in parts]
    assert tokenizer.encode(text) == expected


def test_encoding_the_training_text_compresses_it(tokenizer, small_text):
    ids = tokenizer.encode(small_text)
    assert len(ids) < len(small_text.encode("utf-8"))
    assert tokenizer.decode(ids) == small_text


# --- round trips ---------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(text=st.text())
@example(text="")
@example(text="héllo wörld, naïve café")
@example(text="世界你好，こんにちは")
@example(text="👋🏽 🇫🇷 👨‍👩‍👧")
@example(text="   \t\t\n\n  \r\n   ")
@example(text=f"two{EOT}documents{EOT}")
def test_decode_inverts_encode_for_any_string(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text, allowed_special="all")) == text
    assert tokenizer.decode(tokenizer.encode_ordinary(text)) == text
    if EOT not in text:
        assert tokenizer.encode(text) == tokenizer.encode_ordinary(text)


def test_a_lone_surrogate_is_rejected_with_its_position(tokenizer):
    with pytest.raises(ValueError, match=r"lone surrogate '\\ud800' at position 3"):
        tokenizer.encode("abc\ud800")
    with pytest.raises(ValueError, match=r"lone surrogate '\\udfff' at position 0"):
        BPETokenizer.train("\udfff", n_vocab=260)


def test_decode_of_a_cut_character_uses_the_replacement_character(tokenizer):
    ids = tokenizer.encode("é")  # two bytes, no merge for them in English text
    assert tokenizer.decode_bytes(ids[:1]) == "é".encode()[:1]
    assert tokenizer.decode(ids[:1]) == "\ufffd"


# --- special tokens --------------------------------------------------------------------------------------


def test_special_tokens_take_the_last_indices_and_are_never_merged(small_text):
    text = EOT.join(small_text[i : i + 500] for i in range(0, 10_000, 500))  # Shakespeare has no '<' or '|'
    tokenizer = BPETokenizer.train(text, n_vocab=300, special_tokens=[EOT, "<|pad|>"])
    assert tokenizer.n_vocab == 300
    assert tokenizer.special_indices == {EOT: 298, "<|pad|>": 299}
    assert tokenizer.token_bytes(298) == EOT.encode()
    learned = [tokenizer.token_bytes(256 + j) for j in range(len(tokenizer.merges))]
    assert len(learned) == 300 - 256 - 2
    assert not any(b"<" in token or b"|" in token for token in learned), "no merge uses the special tokens' text"
    assert all(max(pair) < 298 for pair in tokenizer.merges)
    ids = tokenizer.encode(f"hello{EOT}world<|pad|>", allowed_special="all")
    assert ids.count(298) == 1 and ids[-1] == 299
    assert 298 not in tokenizer.encode_ordinary(f"hello{EOT}")


def test_a_longer_special_token_wins_over_its_prefix():
    tokenizer = BPETokenizer.train("abc", n_vocab=258, special_tokens=["<|end|>", "<|end|>!"])
    end, end_bang = tokenizer.special_indices["<|end|>"], tokenizer.special_indices["<|end|>!"]
    assert tokenizer.encode("<|end|>!<|end|>", allowed_special="all") == [end_bang, end]


def test_special_tokens_are_refused_by_default_as_tiktoken_does(tokenizer):
    eot = tokenizer.special_indices[EOT]
    with pytest.raises(ValueError, match=r"special token '<\|endoftext\|>' at position 5, which encode refuses"):
        tokenizer.encode(f"hello{EOT}world")
    with pytest.raises(ValueError, match=r"allowed_special=\{'<\|endoftext\|>'\}.*encode_ordinary"):
        tokenizer.encode(EOT)
    assert tokenizer.encode(f"hello{EOT}", allowed_special={EOT})[-1] == eot
    text = f"hello{EOT}"
    assert tokenizer.encode(text, allowed_special="all") == tokenizer.encode(text, allowed_special=[EOT])
    assert eot not in tokenizer.encode_ordinary(f"hello{EOT}")
    assert tokenizer.decode(tokenizer.encode_ordinary(EOT)) == EOT
    assert tokenizer.encode("hello") == tokenizer.encode_ordinary("hello")  # no special token: nothing to refuse


def test_only_the_special_tokens_not_allowed_are_refused():
    tokenizer = BPETokenizer.train("abc", n_vocab=258, special_tokens=["<a>", "<b>"])
    assert tokenizer.encode("x<a>", allowed_special={"<a>"})[-1] == tokenizer.special_indices["<a>"]
    with pytest.raises(ValueError, match=r"special token '<b>' at position 4"):
        tokenizer.encode("x<a><b>", allowed_special={"<a>"})


@pytest.mark.parametrize(
    ("allowed", "error", "message"),
    [
        (True, TypeError, r"allowed_special must be 'all' or a collection of special tokens, got True"),
        (False, TypeError, r"got False .*use encode_ordinary"),
        ("none", TypeError, r"got 'none'"),
        ({"<|pad|>"}, ValueError, r"allowed_special names \['<\|pad\|>'\], which are not special tokens"),
    ],
)
def test_a_bad_allowed_special_gives_a_clear_error(tokenizer, allowed, error, message):
    with pytest.raises(error, match=message):
        tokenizer.encode("hello", allowed_special=allowed)


def test_encoding_matches_tiktoken_with_the_same_merges(tokenizer, shakespeare):
    """Oracle: tiktoken's own encoder, built from our merges; the same ids, the same refusal of special tokens."""
    tiktoken = pytest.importorskip("tiktoken")
    eot = tokenizer.special_indices[EOT]
    encoding = tiktoken.Encoding(
        name="course-test",
        pat_str=GPT2_PATTERN,
        mergeable_ranks={tokenizer.token_bytes(i): i for i in range(eot)},
        special_tokens={EOT: eot},
    )
    text = shakespeare[300_000:306_000] + EOT + "naïve café 世界 👋" + EOT
    assert tokenizer.encode(text, allowed_special="all") == encoding.encode(text, allowed_special="all")
    assert tokenizer.encode_ordinary(text) == encoding.encode_ordinary(text)
    with pytest.raises(ValueError):
        encoding.encode(text)  # tiktoken refuses by default...
    with pytest.raises(ValueError):
        tokenizer.encode(text)  # ...and so do we


# --- files ---------------------------------------------------------------------------------------------


def test_save_then_load_gives_identical_encodings(tokenizer, tmp_path, shakespeare):
    path = tmp_path / "bpe.json"
    tokenizer.save(path)
    loaded = BPETokenizer.load(path)
    assert loaded.merges == tokenizer.merges
    assert loaded.special_tokens == tokenizer.special_tokens and loaded.n_vocab == tokenizer.n_vocab
    text = shakespeare[200_000:210_000] + EOT + "世界 👋"
    assert loaded.encode(text, allowed_special="all") == tokenizer.encode(text, allowed_special="all")
    content = json.loads(path.read_text(encoding="utf-8"))
    assert content["format"] == "llm_course.bpe" and content["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["bpe.json"], "no temporary file is left behind"


def test_a_truncated_file_gives_a_clear_error(tokenizer, tmp_path):
    path = tmp_path / "bpe.json"
    tokenizer.save(path)
    path.write_text(path.read_text()[:50])
    with pytest.raises(TokenizerFileError, match=r"bpe\.json is not a tokenizer file: it is not valid JSON"):
        BPETokenizer.load(path)
    assert issubclass(TokenizerFileError, ValueError)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"version": "1.0", "model": {"type": "BPE", "merges": []}}, r"its format is None, expected 'llm_course\.bpe'"),
        ([1, 2, 3], r"its format is 'list'"),
        ({"format": "llm_course.bpe", "version": 3}, r"version 3 is not supported"),
        ({"format": "llm_course.bpe", "version": 2, "merges": [], "special_tokens": []},
         r"a version-2 file, and only such a file, stores 'byte_ids'"),
        ({"format": "llm_course.bpe", "version": 1, "merges": [], "special_tokens": [], "byte_ids": list(range(256))},
         r"a version-2 file, and only such a file, stores 'byte_ids'"),
        ({"format": "llm_course.bpe", "version": 2, "merges": [], "special_tokens": [], "byte_ids": [0] * 256},
         r"byte_ids must hold each index 0\.\.255 exactly once"),
        ({"format": "llm_course.bpe", "version": 1, "pattern": r"\w+", "merges": [], "special_tokens": []},
         r"pattern is not GPT-2's"),
        ({"format": "llm_course.bpe", "version": 1, "merges": [[97, 300]], "special_tokens": []},
         r"merge 0 is \[97, 300\], but only indices 0\.\.255 exist"),
        ({"format": "llm_course.bpe", "version": 1, "merges": [[97, "b"]], "special_tokens": []},
         r"merge 0 must be a pair of ints"),
        ({"format": "llm_course.bpe", "version": 1, "merges": {}, "special_tokens": []}, r"must be lists"),
    ],
)
def test_a_foreign_or_inconsistent_file_gives_a_clear_error(tmp_path, content, message):
    from llm_course.bpe import GPT2_SPLIT_PATTERN

    if isinstance(content, dict) and content.get("version") in (1, 2) and "pattern" not in content:
        content["pattern"] = GPT2_SPLIT_PATTERN
    path = tmp_path / "other.json"
    path.write_text(json.dumps(content))
    with pytest.raises(TokenizerFileError, match=r"other\.json.*" + message):
        BPETokenizer.load(path)


# --- bad inputs --------------------------------------------------------------------------------------------


def test_n_vocab_too_small():
    with pytest.raises(ValueError, match=r"n_vocab=255 is too small: it must be at least 256"):
        BPETokenizer.train("abc", n_vocab=255)
    with pytest.raises(ValueError, match=r"n_vocab=257 is too small: it must be at least 258"):
        BPETokenizer.train("abc", n_vocab=257, special_tokens=["<a>", "<b>"])


@pytest.mark.parametrize(("n_vocab", "name"), [(300.0, "float"), ("300", "str"), (True, "bool")])
def test_n_vocab_must_be_an_int(n_vocab, name):
    with pytest.raises(TypeError, match=rf"n_vocab must be an int, got {name}"):
        BPETokenizer.train("abc", n_vocab=n_vocab)


@pytest.mark.parametrize(("text", "name"), [(b"abc", "bytes"), (None, "NoneType"), (["abc"], "list")])
def test_text_must_be_a_string(tokenizer, text, name):
    with pytest.raises(TypeError, match=rf"text must be a str, got {name}"):
        BPETokenizer.train(text, n_vocab=300)
    with pytest.raises(TypeError, match=rf"text must be a str, got {name}"):
        tokenizer.encode(text)


def test_bad_special_tokens():
    with pytest.raises(TypeError, match=r"special_tokens must be a sequence of strings, got '<\|eot\|>'"):
        BPETokenizer.train("abc", n_vocab=300, special_tokens="<|eot|>")
    with pytest.raises(ValueError, match=r"special tokens must be distinct"):
        BPETokenizer.train("abc", n_vocab=300, special_tokens=["<a>", "<a>"])
    with pytest.raises(ValueError, match=r"a special token must be a non-empty str, got ''"):
        BPETokenizer.train("abc", n_vocab=300, special_tokens=[""])


def test_decode_rejects_indices_out_of_range(tokenizer):
    last = tokenizer.n_vocab - 1
    with pytest.raises(IndexError, match=rf"token index {last + 1} is out of range: indices go from 0 to {last}"):
        tokenizer.decode([104, 105, last + 1])
    with pytest.raises(IndexError, match=r"token index -1 is out of range"):
        tokenizer.decode([-1])
    with pytest.raises(TypeError, match=r"a token index must be an int, got str: 'a'"):
        tokenizer.decode(["a"])
    with pytest.raises(TypeError, match=r"a token index must be an int, got float: 104.0"):
        tokenizer.decode([104.0])
    with pytest.raises(TypeError, match=r"a token index must be an int, got bool: True"):
        tokenizer.token_bytes(True)
    with pytest.raises(IndexError, match=rf"token index {last + 5} is out of range"):
        tokenizer.token_bytes(last + 5)


def test_decode_accepts_numpy_and_torch_integers(tokenizer):
    import numpy as np
    import torch

    ids = tokenizer.encode("To be, or not to be")
    assert tokenizer.decode(torch.tensor(ids)) == "To be, or not to be"
    assert tokenizer.decode(np.array(ids)) == "To be, or not to be"


# --- GPT-2's tokenizer: GPT-2's own ids, equal to tiktoken's gpt2 encoding ----------------------------------

TIKTOKEN_GPT2_URLS = {  # the files tiktoken's gpt2 encoding reads; its cache names them by the SHA-1 of the URL
    "gpt2-vocab": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "gpt2-encoder": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
}


@pytest.fixture(scope="module")
def gpt2_paths():
    """GPT-2's encoder.json and vocab.bpe from LLM_COURSE_DATA, verified (never downloaded)."""
    from llm_course.data import CorpusError, load_file

    try:
        return load_file("gpt2-encoder", download=False), load_file("gpt2-vocab", download=False)
    except CorpusError as error:
        pytest.skip(f"no local copy of GPT-2's tokenizer files: {error}")


@pytest.fixture(scope="module")
def gpt2(gpt2_paths) -> BPETokenizer:
    return BPETokenizer.from_gpt2_files(*gpt2_paths)


@pytest.fixture(scope="module")
def tiktoken_gpt2(gpt2_paths, tmp_path_factory):
    """tiktoken's own gpt2 encoding, offline: its cache folder filled with the same two files."""
    import hashlib
    import shutil

    import tiktoken  # a dev dependency: the comparison must run, not skip

    cache = tmp_path_factory.mktemp("tiktoken-cache")
    urls = (TIKTOKEN_GPT2_URLS["gpt2-encoder"], TIKTOKEN_GPT2_URLS["gpt2-vocab"])
    for path, url in zip(gpt2_paths, urls, strict=True):
        shutil.copyfile(path, cache / hashlib.sha1(url.encode()).hexdigest())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        return tiktoken.get_encoding("gpt2")


def random_unicode_strings(count: int, seed: int) -> list[str]:
    """Strings that stress a tokenizer: every script, spaces and newlines in runs, contractions, digits, emoji.

    Only characters assigned in Python's Unicode database (14.0 for Python 3.11) are drawn: whether a
    code point assigned later (CJK extension J, say) is a letter depends on the Unicode tables of the
    regex engine, and `regex` and tiktoken's engine ship different versions, so GPT-2's pattern cuts
    such text differently in the two. That is a difference of Unicode versions, not of BPE.
    """
    import random
    import unicodedata

    rng = random.Random(seed)
    pieces = [" ", "  ", "\n", "\n\n", "\t", "\r\n", "\u00a0", "\u3000", "'s", "'ll", "'ve", "'re", "'t", "'", "''",
              "<|", "|>", "endoftext", "123", " 4", "...", "!?", "—"]

    def character() -> str:
        drawn = draw()
        while unicodedata.category(drawn) in ("Cn", "Cs"):  # unassigned (in Unicode 14) or a lone surrogate
            drawn = draw()
        return drawn

    def draw() -> str:
        kind = rng.random()
        if kind < 0.45:
            return chr(rng.randint(32, 126))
        if kind < 0.6:
            return chr(rng.randint(0xA0, 0x24F))  # Latin-1 and Latin Extended: accents
        if kind < 0.7:
            return chr(rng.randint(0x4E00, 0x9FFF))  # CJK
        if kind < 0.78:
            return chr(rng.randint(0x1F300, 0x1FAFF))  # emoji
        if kind < 0.82:
            return chr(rng.choice([0x0301, 0x0308, 0x200D, 0xFE0F]))  # combining marks, joiners
        return chr(rng.randint(0, 0x10FFFF))  # any code point

    return ["".join(rng.choice(pieces) if rng.random() < 0.25 else character() for _ in range(rng.randint(0, 40)))
            for _ in range(count)]


def test_gpt2_tokenizer_has_gpt2s_own_ids(gpt2, gpt2_paths):
    encoder = json.loads(gpt2_paths[0].read_text(encoding="utf-8"))
    assert gpt2.n_vocab == len(encoder) == 50_257 and len(gpt2.merges) == 50_000
    assert gpt2.special_indices == {EOT: 50256} and gpt2.token_bytes(50256) == EOT.encode()
    assert sorted(gpt2.byte_ids) == list(range(256)) and gpt2.byte_ids != list(range(256)), "GPT-2 permutes bytes"
    assert gpt2.byte_ids[ord("!")] == 0 and gpt2.token_bytes(0) == b"!", "GPT-2's first token is '!'"
    # Every token's bytes, read back through GPT-2's printable-character map, is its entry in encoder.json.
    from llm_course.bpe import gpt2_byte_characters

    characters = gpt2_byte_characters()
    written = {"".join(characters[b] for b in gpt2.token_bytes(i)): i for i in range(50_256)}
    assert written == {token: index for token, index in encoder.items() if token != EOT}


def test_gpt2_ids_equal_tiktoken_on_the_corpus(gpt2, tiktoken_gpt2, shakespeare):
    ids = gpt2.encode(shakespeare)
    assert ids == tiktoken_gpt2.encode_ordinary(shakespeare) == tiktoken_gpt2.encode(shakespeare)
    assert gpt2.decode(ids) == shakespeare


def test_gpt2_ids_equal_tiktoken_on_1000_random_unicode_strings(gpt2, tiktoken_gpt2):
    for text in random_unicode_strings(1000, seed=17):
        ids = gpt2.encode_ordinary(text)
        assert ids == tiktoken_gpt2.encode_ordinary(text), f"the ids of {text!r} differ from tiktoken's"
        assert gpt2.decode(ids) == tiktoken_gpt2.decode(ids) == text


def test_gpt2_special_token_as_tiktoken_treats_it(gpt2, tiktoken_gpt2):
    text = "The end.<|endoftext|>A new document, with <|endoftext|> twice"
    allowed = gpt2.encode(text, allowed_special="all")
    assert allowed == tiktoken_gpt2.encode(text, allowed_special="all") and allowed.count(50256) == 2
    assert gpt2.encode(text, allowed_special={EOT}) == allowed
    assert gpt2.encode_ordinary(text) == tiktoken_gpt2.encode_ordinary(text) and 50256 not in gpt2.encode_ordinary(text)
    with pytest.raises(ValueError, match="special token"):
        tiktoken_gpt2.encode(text)
    with pytest.raises(ValueError, match=r"'<\|endoftext\|>' at position 8"):
        gpt2.encode(text)
    assert gpt2.decode(allowed) == text


def test_gpt2_tokenizer_saves_and_loads_with_its_byte_order(gpt2, tmp_path, shakespeare):
    path = tmp_path / "gpt2.json"
    gpt2.save(path)
    content = json.loads(path.read_text(encoding="utf-8"))
    assert content["version"] == 2 and content["byte_ids"] == gpt2.byte_ids
    loaded = BPETokenizer.load(path)
    assert loaded.byte_ids == gpt2.byte_ids and loaded.merges == gpt2.merges and loaded.n_vocab == 50_257
    assert loaded.encode(shakespeare[:20_000]) == gpt2.encode(shakespeare[:20_000])


def test_an_old_version_1_file_still_loads(tmp_path):
    """A file as notebook 03 wrote it before byte orders existed: byte tokens in byte order."""
    from llm_course.bpe import GPT2_SPLIT_PATTERN

    path = tmp_path / "old.json"
    path.write_text(json.dumps({"format": "llm_course.bpe", "version": 1, "pattern": GPT2_SPLIT_PATTERN,
                                "special_tokens": [EOT], "merges": [[97, 97], [256, 97], [257, 98]]}))
    loaded = BPETokenizer.load(path)
    assert loaded.byte_ids == list(range(256)) and loaded.n_vocab == 260 and loaded.special_indices == {EOT: 259}
    assert loaded.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    loaded.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["version"] == 1, "byte order is still written as version 1"


def test_a_permuted_byte_order_round_trips():
    reversed_order = list(range(255, -1, -1))  # byte b is token 255 - b
    tokenizer = BPETokenizer([(255 - ord("a"), 255 - ord("b"))], byte_ids=reversed_order)
    assert tokenizer.encode("abc") == [256, 255 - ord("c")] and tokenizer.token_bytes(0) == b"\xff"
    assert tokenizer.decode(tokenizer.encode("naïve 世界")) == "naïve 世界"


@pytest.mark.parametrize(
    ("byte_ids", "error", "message"),
    [
        (list(range(255)), ValueError, r"each index 0\.\.255 exactly once"),
        ([0] + list(range(1, 255)) + [1], ValueError, r"each index 0\.\.255 exactly once"),
        ([float(i) for i in range(256)], ValueError, r"each index 0\.\.255 exactly once"),
        ("abc", TypeError, r"byte_ids must be a sequence of 256 ints"),
    ],
)
def test_bad_byte_ids(byte_ids, error, message):
    with pytest.raises(error, match=message):
        BPETokenizer(byte_ids=byte_ids)


def test_gpt2_files_that_are_wrong_give_clear_errors(gpt2_paths, tmp_path):
    encoder_json, vocab_bpe = gpt2_paths
    with pytest.raises(TokenizerFileError, match=r"gpt2_vocab\.bpe is not GPT-2's encoder\.json: it is not valid JSON"):
        BPETokenizer.from_gpt2_files(vocab_bpe, encoder_json)  # the two files swapped
    truncated = tmp_path / "encoder.json"
    truncated.write_bytes(encoder_json.read_bytes()[:500_000])
    with pytest.raises(TokenizerFileError, match=r"encoder\.json is not GPT-2's encoder\.json: it is not valid JSON"):
        BPETokenizer.from_gpt2_files(truncated, vocab_bpe)
    lines = vocab_bpe.read_text(encoding="utf-8").splitlines()
    short = tmp_path / "vocab.bpe"
    short.write_text("\n".join(lines[:-10]) + "\n", encoding="utf-8")
    with pytest.raises(TokenizerFileError, match=r"explain 50,246 .* truncated"):
        BPETokenizer.from_gpt2_files(encoder_json, short)
    swapped = tmp_path / "swapped.bpe"
    swapped.write_text("\n".join([lines[0], lines[2], lines[1], *lines[3:]]) + "\n", encoding="utf-8")
    with pytest.raises(TokenizerFileError, match=r"merge 0 makes .* not 256: the two files do not belong together"):
        BPETokenizer.from_gpt2_files(encoder_json, swapped)
    headless = tmp_path / "headless.bpe"
    headless.write_text("\n".join(lines[1:]), encoding="utf-8")
    with pytest.raises(TokenizerFileError, match=r"first line should be '#version: 0\.2'"):
        BPETokenizer.from_gpt2_files(encoder_json, headless)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2, 3]")
    with pytest.raises(TokenizerFileError, match=r"must map token strings to ints"):
        BPETokenizer.from_gpt2_files(listed, vocab_bpe)


# --- encode_iterable: a stream, piece by piece --------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from([*"ab 'lsv\n\t.,!1é世\u3000", "<|endoftext|>", "<|", "|>", "   "]), max_size=40).map(
        "".join),
    cuts=st.lists(st.integers(0, 80), max_size=8),
    block=st.integers(1, 12),
    allowed=st.sampled_from(["all", ()]),
)
@example(text="x'll", cuts=[2, 3], block=1, allowed=())
@example(text="a \nb", cuts=[3], block=1, allowed=())
@example(text="a<|endoftext|>b", cuts=[3, 9], block=1, allowed="all")
def test_encode_iterable_equals_encode_of_the_concatenation(tokenizer, text, cuts, block, allowed):
    """Any split of any text into pieces, with blocks as small as one character: the same ids as `encode`."""
    bounds = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    pieces = [text[a:b] for a, b in pairwise(bounds)]
    tokenizer.stream_block = block
    try:
        try:
            expected = tokenizer.encode(text, allowed_special=allowed)
        except ValueError:
            with pytest.raises(ValueError, match="special token"):
                list(tokenizer.encode_iterable(iter(pieces), allowed_special=allowed))
            return
        assert list(tokenizer.encode_iterable(iter(pieces), allowed_special=allowed)) == expected
    finally:
        del tokenizer.stream_block


def test_encode_iterable_on_a_file_equals_tiktoken(gpt2, tiktoken_gpt2, gpt2_paths, shakespeare, tmp_path):
    path = tmp_path / "shakespeare.txt"
    path.write_text(shakespeare[:200_000], encoding="utf-8")
    with open(path, encoding="utf-8") as lines:  # a file yields its lines
        assert list(gpt2.encode_iterable(lines)) == tiktoken_gpt2.encode_ordinary(shakespeare[:200_000])


def test_encode_iterable_holds_a_bounded_amount_of_memory(tokenizer, shakespeare):
    """Memory does not grow with the stream: 2 and 8 copies of the corpus (2 and 9 MB of text) peak alike."""
    import tracemalloc

    lines = shakespeare.splitlines(keepends=True)
    per_copy = len(tokenizer.encode(shakespeare))  # also fills the chunk cache before measuring

    def streamed_peak(copies: int) -> tuple[int, int]:
        tracemalloc.start()
        try:
            count = sum(1 for _ in tokenizer.encode_iterable(line for _ in range(copies) for line in lines))
            return count, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    (count_2, peak_2), (count_8, peak_8) = streamed_peak(2), streamed_peak(8)
    assert count_2 > 2 * per_copy * 0.99 and count_8 > 8 * per_copy * 0.99  # copies join at their ends
    assert peak_8 < 3_000_000, f"encode_iterable held {peak_8:,} bytes for a 9 MB stream"
    assert peak_8 < 1.5 * peak_2, f"memory grew with the stream: {peak_2:,} bytes for 2 copies, {peak_8:,} for 8"


def test_encode_iterable_refuses_a_single_string(tokenizer):
    with pytest.raises(TypeError, match="an iterable of strings.*for one string, call encode"):
        list(tokenizer.encode_iterable("To be"))
    with pytest.raises(TypeError, match="text must be a str, got bytes"):
        list(tokenizer.encode_iterable(["To be", b"or not"]))


def test_the_docstring_examples_hold():
    """The worked examples in the module's docstrings (merge steps, GPT-2's byte characters, stream cuts)."""
    import doctest

    from llm_course import bpe

    results = doctest.testmod(bpe)
    assert results.attempted >= 15 and results.failed == 0
