"""Benchmark: how long training a byte-level BPE tokenizer takes (Tiny Shakespeare, n_vocab=512).

Compares, on the same text, in one run:

- `llm_course.bpe.BPETokenizer.train` (pure Python, incremental pair counts);
- tiktoken's educational trainer (`tiktoken._educational.bpe_train`, pure Python, recounts every pair
  after every merge). It takes minutes on the full text, so it runs on a prefix and its time is
  scaled linearly by length (an underestimate if anything: its cost per merge grows with the text);
- the Hugging Face `tokenizers` BPE trainer (Rust; ByteLevel pre-tokenizer, vocab 512).

It also checks that our merges equal the educational trainer's on the prefix up to the first tie
(the educational trainer breaks ties by first occurrence, ours by the greatest bytes).

Usage: python benchmarks/bpe_training.py [--prefix 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time

from llm_course.bpe import GPT2_SPLIT_PATTERN, BPETokenizer, count_words, merge_pair, pair_counts
from llm_course.data import load_text

N_VOCAB = 512


def best_of(repeat: int, function) -> tuple[float, object]:
    """The shortest wall-clock time of `repeat` calls of `function`, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def common_prefix_length(a: list, b: list) -> int:
    """How many leading items `a` and `b` share: common_prefix_length([1, 2, 3], [1, 2, 4]) == 2."""
    for position, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return position
    return min(len(a), len(b))


def educational_merges(text: str, n_vocab: int) -> list[bytes]:
    """The tokens (byte strings) tiktoken's educational trainer learns, in order."""
    from tiktoken._educational import bpe_train

    ranks = bpe_train(data=text, vocab_size=n_vocab, pat_str=GPT2_SPLIT_PATTERN, visualise=None)
    return [token for token, rank in sorted(ranks.items(), key=lambda item: item[1]) if rank >= 256]


def first_tie(text: str, n_merges: int) -> int:
    """The number of merges made before the first tie for the most frequent pair (naive recount)."""
    word_counts = count_words(text)
    words, freqs = [list(w.encode("utf-8")) for w in word_counts], list(word_counts.values())
    for step in range(n_merges):
        counts = pair_counts(words, freqs)
        if not counts:
            return step
        top = max(counts.values())
        leaders = [pair for pair, count in counts.items() if count == top]
        if len(leaders) > 1:
            return step
        words = [merge_pair(word, leaders[0], 256 + step) for word in words]
    return n_merges


def hugging_face(text: str, n_vocab: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=n_vocab, min_frequency=0, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tokenizer.train_from_iterator([text], trainer=trainer)
    return tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=int, default=100_000, help="characters the educational trainer sees")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the fast trainers; the best is kept")
    args = parser.parse_args()

    text = load_text("tiny-shakespeare")
    prefix = text[: args.prefix]
    print(f"Tiny Shakespeare: {len(text):,} characters; n_vocab={N_VOCAB} ({N_VOCAB - 256} merges); "
          f"{os.cpu_count()} CPU cores; best of {args.repeat} runs for the fast trainers")

    ours_seconds, ours = best_of(args.repeat, lambda: BPETokenizer.train(text, N_VOCAB))
    hf_seconds, hf = best_of(args.repeat, lambda: hugging_face(text, N_VOCAB))
    edu_prefix_seconds, edu_tokens = best_of(1, lambda: educational_merges(prefix, N_VOCAB))
    edu_seconds = edu_prefix_seconds * len(text) / len(prefix)

    rows = [
        ("llm_course.bpe (this course, Python)", ours_seconds, "measured on the full text"),
        ("tiktoken educational trainer (Python)", edu_seconds,
         f"{edu_prefix_seconds:.1f} s on the first {len(prefix):,} characters, x {len(text) / len(prefix):.2f}"),
        ("Hugging Face tokenizers (Rust)", hf_seconds, "measured on the full text"),
    ]
    print()
    print("| trainer | seconds | note |\n|---|---:|---|")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.2f} | {note} |")
    print()
    print(f"speed-up over the educational trainer: {edu_seconds / ours_seconds:.0f}x (target >= 20x)")
    print(f"time relative to the Rust trainer: {ours_seconds / hf_seconds:.2f}x (target <= 3x)")

    # Agreement with tiktoken's educational trainer, up to the first tie on the prefix.
    ours_on_prefix = BPETokenizer.train(prefix, N_VOCAB)
    ours_tokens = [ours_on_prefix.token_bytes(256 + j) for j in range(len(ours_on_prefix.merges))]
    tie_free = first_tie(prefix, N_VOCAB - 256)
    agree = common_prefix_length(ours_tokens, edu_tokens)
    print(f"merges identical to the educational trainer's: the first {agree} of {N_VOCAB - 256} "
          f"on the prefix; its first tie for the top pair comes at merge {tie_free}")
    assert agree >= tie_free, "the merges must agree at least until the first tie"

    # Agreement with Hugging Face (different byte alphabet and tie rule; compare the learned strings).
    byte_decoder = {char: byte for byte, char in _bytes_to_unicode().items()}
    hf_merges = [bytes(byte_decoder[c] for c in left + right) for left, right in
                 (line.split(" ") for line in _hf_merges(hf))]
    ours_full = [ours.token_bytes(256 + j) for j in range(len(ours.merges))]
    same_prefix = common_prefix_length(ours_full, hf_merges)
    print(f"Hugging Face: {len(hf_merges)} merges; the first {same_prefix} equal ours, "
          f"{len(set(ours_full) & set(hf_merges))} learned tokens in common")


def _hf_merges(tokenizer) -> list[str]:
    import json

    merges = json.loads(tokenizer.to_str())["model"]["merges"]
    return [" ".join(m) if isinstance(m, list) else m for m in merges]


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's map from bytes to printable characters (what ByteLevel tokens are written in)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[byte] = chr(byte)
        else:
            chars[byte] = chr(256 + extra)
            extra += 1
    return chars


if __name__ == "__main__":
    main()
