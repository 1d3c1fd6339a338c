"""llm_course.data: every branch of the corpus loader without the network, plus split and batches."""

from __future__ import annotations

import hashlib
import urllib.error

import pytest
import torch

from llm_course import data
from llm_course.data import Corpus, CorpusError, get_batch, load_text, train_val_split

TEXT = "To be, or not to be, that is the question:\n" * 50


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    """A small corpus served from a file:// URL, with its true SHA-256, and empty data/cache folders."""
    source = tmp_path / "source" / "tiny.txt"
    source.parent.mkdir()
    source.write_text(TEXT, encoding="utf-8")
    tiny = Corpus(
        name="tiny-test",
        filename="tiny.txt",
        url=source.as_uri(),
        sha256=hashlib.sha256(TEXT.encode()).hexdigest(),
    )
    monkeypatch.setitem(data.CORPORA, tiny.name, tiny)
    monkeypatch.setenv("LLM_COURSE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LLM_COURSE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    return tiny


def test_found_in_data_folder(corpus, tmp_path, monkeypatch):
    (tmp_path / "data" / corpus.filename).write_text(TEXT, encoding="utf-8")
    monkeypatch.setattr(data, "_download", _no_download)
    assert load_text(corpus.name) == TEXT
    assert not (tmp_path / "cache" / corpus.filename).exists(), "a copy in LLM_COURSE_DATA is not cached again"


def test_found_in_cache(corpus, tmp_path, monkeypatch):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / corpus.filename).write_text(TEXT, encoding="utf-8")
    monkeypatch.setattr(data, "_download", _no_download)
    assert load_text(corpus.name) == TEXT


def test_downloaded_verified_and_cached(corpus, tmp_path):
    assert load_text(corpus.name) == TEXT
    cached = tmp_path / "cache" / corpus.filename
    assert cached.read_text(encoding="utf-8") == TEXT
    assert data.sha256_of(cached) == corpus.sha256
    assert not list(cached.parent.glob("*.part")), "no temporary file is left behind"


def test_wrong_hash_in_download_is_rejected_and_not_kept(corpus, tmp_path, monkeypatch):
    source = tmp_path / "source" / "tiny.txt"
    source.write_text(TEXT.replace("question", "answer"), encoding="utf-8")
    with pytest.raises(CorpusError, match="SHA-256 .* expected " + corpus.sha256):
        load_text(corpus.name)
    assert list((tmp_path / "cache").iterdir()) == [], "nothing is kept after a failed download"


def test_truncated_download_is_rejected_and_not_kept(corpus, tmp_path):
    source = tmp_path / "source" / "tiny.txt"
    source.write_text(TEXT[: len(TEXT) // 2], encoding="utf-8")
    with pytest.raises(CorpusError, match="SHA-256"):
        load_text(corpus.name)
    assert list((tmp_path / "cache").iterdir()) == []


def test_short_read_is_reported_as_truncated(corpus, tmp_path, monkeypatch):
    """A server that promises more bytes than it sends: the Content-Length check names the truncation."""

    class ShortResponse:
        headers = {"Content-Length": str(len(TEXT.encode()) + 100)}

        def __init__(self):
            self.chunks = [TEXT.encode()]

        def read(self, size):
            return self.chunks.pop() if self.chunks else b""

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: ShortResponse())
    with pytest.raises(CorpusError, match="truncated"):
        load_text(corpus.name)
    assert list((tmp_path / "cache").iterdir()) == []


def test_wrong_hash_in_cache_is_removed_and_downloaded_again(corpus, tmp_path):
    (tmp_path / "cache").mkdir()
    damaged = tmp_path / "cache" / corpus.filename
    damaged.write_text("damaged", encoding="utf-8")
    assert load_text(corpus.name) == TEXT
    assert damaged.read_text(encoding="utf-8") == TEXT


def test_wrong_hash_in_data_folder_is_rejected_and_left_alone(corpus, tmp_path, monkeypatch):
    copy = tmp_path / "data" / corpus.filename
    copy.write_text("not the text", encoding="utf-8")
    monkeypatch.setattr(data, "_download", _no_download)
    with pytest.raises(CorpusError, match=f"{copy.name} has SHA-256 .* expected {corpus.sha256}"):
        load_text(corpus.name)
    assert copy.read_text(encoding="utf-8") == "not the text", "the user's own file is not deleted"


def test_offline_error_says_where_to_put_the_file(corpus, tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(CorpusError) as error:
        load_text(corpus.name)
    message = str(error.value)
    assert "could not download" in message and "offline" in message
    assert str(tmp_path / "cache") in message and "LLM_COURSE_DATA" in message and corpus.filename in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_no_download_allowed(corpus, tmp_path):
    with pytest.raises(CorpusError, match="download=False"):
        load_text(corpus.name, download=False)


def test_unknown_corpus_name():
    with pytest.raises(ValueError, match="unknown corpus 'war-and-peace'.*tiny-shakespeare"):
        load_text("war-and-peace")


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("LLM_COURSE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data.cache_dir() == tmp_path / "llm-course"
    monkeypatch.setenv("LLM_COURSE_CACHE", str(tmp_path / "elsewhere"))
    assert data.cache_dir() == tmp_path / "elsewhere"


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "x.bin"
    payload = bytes(range(256)) * 5000
    path.write_bytes(payload)
    assert data.sha256_of(path) == hashlib.sha256(payload).hexdigest()


def test_the_course_corpus(shakespeare):
    assert len(shakespeare) == 1_115_394
    assert len(set(shakespeare)) == 65
    assert shakespeare.startswith("First Citizen:")


def _no_download(*args, **kwargs):
    raise AssertionError("the loader must not download when a verified copy is available")


# --- train_val_split ------------------------------------------------------------------------------


def test_train_val_split_keeps_order_and_everything():
    ids = list(range(100))
    train, val = train_val_split(ids)
    assert train == list(range(90)) and val == list(range(90, 100))
    tensor_train, tensor_val = train_val_split(torch.arange(10), 0.7)
    assert tensor_train.tolist() == list(range(7)) and tensor_val.tolist() == [7, 8, 9]


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 1.5])
def test_train_val_split_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match=f"train_fraction .* got {fraction}"):
        train_val_split(list(range(10)), fraction)


def test_train_val_split_never_leaves_a_side_empty():
    train, val = train_val_split([1, 2], 0.99)
    assert train == [1] and val == [2]
    with pytest.raises(ValueError, match="at least 2"):
        train_val_split([1])


# --- get_batch ------------------------------------------------------------------------------------


def test_get_batch_targets_are_inputs_shifted_by_one():
    ids = torch.arange(1000) * 7 % 65
    x, y = get_batch(ids, batch_size=16, context_size=12, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (16, 12) and x.dtype == y.dtype == torch.long
    for row_x, row_y in zip(x.tolist(), y.tolist(), strict=True):
        # find where the window starts, then check both against the source
        starts = [s for s in range(len(ids) - 12) if ids[s : s + 12].tolist() == row_x]
        assert any(ids[s + 1 : s + 13].tolist() == row_y for s in starts)


def test_get_batch_is_reproducible_with_a_generator():
    ids = torch.arange(500)
    a = get_batch(ids, 4, 8, generator=torch.Generator().manual_seed(3))
    b = get_batch(ids, 4, 8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_get_batch_reaches_the_last_window():
    ids = torch.arange(10)
    seen = set()
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        x, _ = get_batch(ids, 1, 9, generator=generator)
        seen.add(x[0, 0].item())
    assert seen == {0}, "with 10 tokens and context 9 there is exactly one window"
    x, y = get_batch(torch.arange(11), 64, 9, generator=generator)
    assert set(x[:, 0].tolist()) == {0, 1} and y.max().item() == 10


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ids": torch.arange(5), "batch_size": 2, "context_size": 5}, ValueError, "5 tokens, too few .* 6"),
        ({"ids": torch.arange(50), "batch_size": 0, "context_size": 4}, ValueError, "batch_size .* got 0"),
        ({"ids": torch.arange(50), "batch_size": 2, "context_size": -1}, ValueError, "context_size .* got -1"),
        ({"ids": torch.zeros(50), "batch_size": 2, "context_size": 4}, TypeError, "dtype torch.float32"),
        ({"ids": torch.zeros(5, 10, dtype=torch.long), "batch_size": 2, "context_size": 4},
         ValueError, r"1-D.*\(5, 10\)"),
    ],
)
def test_get_batch_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        get_batch(**kwargs)


def test_set_seed_repeats_every_generator():
    import random

    import numpy as np

    from llm_course.reproducibility import set_seed

    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(1))

    set_seed(42)
    first = draw()
    set_seed(42)
    assert draw() == first
    set_seed(43)
    assert draw() != first
    with pytest.raises(ValueError, match="seed .* got -1"):
        set_seed(-1)
    with pytest.raises(ValueError, match="seed .* got 'a'"):
        set_seed("a")


# --- load_file: verified files that are not text corpora (GPT-2's tokenizer files and weights) ------------

PAYLOAD = bytes(range(256)) * 40  # not UTF-8 text: load_file never decodes


@pytest.fixture
def data_file(tmp_path, monkeypatch):
    """A binary file with a known size, served from a file:// URL, registered in data.FILES; empty folders."""
    source = tmp_path / "source" / "weights.bin"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    record = data.DataFile(
        name="test-weights",
        filename="test_weights.bin",
        url=source.as_uri(),
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        size=len(PAYLOAD),
    )
    monkeypatch.setitem(data.FILES, record.name, record)
    monkeypatch.setenv("LLM_COURSE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LLM_COURSE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    return record


def test_load_file_finds_the_data_folder_copy(data_file, tmp_path, monkeypatch):
    (tmp_path / "data" / data_file.filename).write_bytes(PAYLOAD)
    monkeypatch.setattr(data, "_download", _no_download)
    path = data.load_file(data_file.name)
    assert path == tmp_path / "data" / data_file.filename and path.read_bytes() == PAYLOAD


def test_load_file_downloads_verifies_and_caches(data_file, tmp_path):
    path = data.load_file(data_file.name)
    assert path == tmp_path / "cache" / data_file.filename and path.read_bytes() == PAYLOAD
    assert not list(path.parent.glob("*.part")), "no temporary file is left behind"


def test_load_file_refuses_a_copy_of_the_wrong_size_before_hashing(data_file, tmp_path, monkeypatch):
    copy = tmp_path / "data" / data_file.filename
    copy.write_bytes(PAYLOAD[:1000])
    monkeypatch.setattr(data, "_download", _no_download)
    monkeypatch.setattr(data, "sha256_of", _no_download)  # the size alone decides
    with pytest.raises(CorpusError, match=rf"{copy.name} has 1,000 bytes, expected {len(PAYLOAD):,} \(truncated"):
        data.load_file(data_file.name)
    assert copy.read_bytes() == PAYLOAD[:1000], "the user's own file is not deleted"


def test_load_file_refuses_a_copy_with_the_right_size_and_the_wrong_hash(data_file, tmp_path, monkeypatch):
    (tmp_path / "data" / data_file.filename).write_bytes(PAYLOAD[::-1])
    monkeypatch.setattr(data, "_download", _no_download)
    with pytest.raises(CorpusError, match=f"has SHA-256 .* expected {data_file.sha256}"):
        data.load_file(data_file.name)


def test_load_file_replaces_a_truncated_cached_copy(data_file, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / data_file.filename).write_bytes(PAYLOAD[:10])
    assert data.load_file(data_file.name).read_bytes() == PAYLOAD


def test_load_file_reports_a_truncated_download(data_file, tmp_path):
    (tmp_path / "source" / "weights.bin").write_bytes(PAYLOAD[:100])
    with pytest.raises(CorpusError, match=rf"was truncated: 100 of {len(PAYLOAD)} bytes"):
        data.load_file(data_file.name)
    assert list((tmp_path / "cache").iterdir()) == [], "nothing is kept after a failed download"


def test_load_file_offline_says_where_to_put_the_file(data_file, tmp_path):
    with pytest.raises(CorpusError) as error:
        data.load_file(data_file.name, download=False)
    message = str(error.value)
    assert data_file.filename in message and str(tmp_path / "cache") in message and "LLM_COURSE_DATA" in message
    assert data_file.url in message and data_file.sha256 in message


def test_load_file_unknown_name():
    with pytest.raises(ValueError, match="unknown data file 'gpt3-weights'.*gpt2-encoder.*gpt2-vocab.*tiny-shake"):
        data.load_file("gpt3-weights")


def test_load_file_knows_the_corpora_too(shakespeare):
    assert data.load_file("tiny-shakespeare", download=False).read_text(encoding="utf-8") == shakespeare


def test_gpt2_tokenizer_files_are_registered_as_the_issue_gives_them():
    """The fingerprints of OpenAI's GPT-2 release, the files tiktoken's gpt2 encoding downloads."""
    encoder, vocab = data.FILES["gpt2-encoder"], data.FILES["gpt2-vocab"]
    assert encoder.url.endswith("gpt-2/encodings/main/encoder.json") and encoder.size == 1_042_301
    assert encoder.sha256 == "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
    assert vocab.url.endswith("gpt-2/encodings/main/vocab.bpe") and vocab.size == 456_318
    assert vocab.sha256 == "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
    weights = data.FILES["gpt2-weights"]
    assert weights.url.startswith("https://huggingface.co/openai-community/gpt2/resolve/") and weights.size > 5e8


def test_the_local_gpt2_tokenizer_files_verify():
    """The copies in LLM_COURSE_DATA (../shared/data in CI): found, verified, never downloaded."""
    try:
        paths = [data.load_file(name, download=False) for name in ("gpt2-encoder", "gpt2-vocab")]
    except CorpusError as error:
        pytest.skip(f"no local copy of GPT-2's tokenizer files: {error}")
    assert [data.sha256_of(p) for p in paths] == [data.FILES[n].sha256 for n in ("gpt2-encoder", "gpt2-vocab")]
