"""Benchmark: encoding Tiny Shakespeare with GPT-2's tokenizer, the course's class against tiktoken.

Both encode the full text (1,115,394 characters) with GPT-2's 50,000 merges, in one run, side by
side, and must give the same ids:

- `llm_course.bpe.BPETokenizer.from_gpt2_files` (notebook 03's class with GPT-2's byte order; pure
  Python: the `regex` package cuts the text into chunks, each distinct chunk is merged once and
  cached). Every timed run starts from a fresh tokenizer, so its chunk cache starts empty;
- tiktoken's `gpt2` encoding (Rust), `encode_ordinary`, read offline from a temporary
  `TIKTOKEN_CACHE_DIR` filled with the same two files (tiktoken names them by the SHA-1 of their URL);
- `encode_iterable` over the file's lines, the course's streaming path (for information).

The files come from `llm_course.data.load_file` (LLM_COURSE_DATA, the cache, or a verified download).

Usage: python benchmarks/gpt2_tokenizer.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time

from llm_course.bpe import BPETokenizer
from llm_course.data import FILES, load_file, load_text


def best_of(repeat: int, function) -> tuple[float, object]:
    """The shortest wall-clock time of `repeat` calls of `function`, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def tiktoken_gpt2(encoder_json, vocab_bpe, cache: str):
    """tiktoken's gpt2 encoding, offline: its cache folder holds the two files under the SHA-1 of their URLs."""
    for record, path in ((FILES["gpt2-encoder"], encoder_json), (FILES["gpt2-vocab"], vocab_bpe)):
        shutil.copyfile(path, os.path.join(cache, hashlib.sha1(record.url.encode()).hexdigest()))
    os.environ["TIKTOKEN_CACHE_DIR"] = cache
    import tiktoken

    return tiktoken.get_encoding("gpt2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each encoder; the best counts")
    args = parser.parse_args()

    text = load_text("tiny-shakespeare")
    encoder_json, vocab_bpe = load_file("gpt2-encoder"), load_file("gpt2-vocab")
    with tempfile.TemporaryDirectory() as cache:
        encoding = tiktoken_gpt2(encoder_json, vocab_bpe, cache)
        tiktoken_seconds, expected = best_of(args.repeat, lambda: encoding.encode_ordinary(text))
    ours = BPETokenizer.from_gpt2_files(encoder_json, vocab_bpe)  # loading the files is not timed

    def fresh_encode():
        ours._cache.clear()  # every run merges every distinct chunk again
        return ours.encode_ordinary(text)

    def fresh_stream():
        ours._cache.clear()
        with open(load_file("tiny-shakespeare"), encoding="utf-8") as lines:
            return list(ours.encode_iterable(lines))

    our_seconds, ids = best_of(args.repeat, fresh_encode)
    stream_seconds, streamed = best_of(args.repeat, fresh_stream)
    assert ids == expected, "the course's ids differ from tiktoken's"
    assert streamed == expected, "encode_iterable's ids differ from tiktoken's"

    print(f"Tiny Shakespeare: {len(text):,} characters -> {len(ids):,} GPT-2 tokens (ids equal: True); "
          f"best of {args.repeat} runs, load average {os.getloadavg()[0]:.1f}")
    print()
    print("| encoder | seconds | characters per second | relative to tiktoken |")
    print("|---|---:|---:|---:|")
    for name, seconds in (("tiktoken gpt2 `encode_ordinary` (Rust)", tiktoken_seconds),
                          ("llm_course.bpe `encode_ordinary` (Python)", our_seconds),
                          ("llm_course.bpe `encode_iterable` over the lines (Python)", stream_seconds)):
        print(f"| {name} | {seconds:.3f} | {len(text) / seconds:,.0f} | {seconds / tiktoken_seconds:.2f}× |")
    print()
    print(f"ratio to tiktoken: {our_seconds / tiktoken_seconds:.2f}× (target ≤ 10×)")


if __name__ == "__main__":
    main()
