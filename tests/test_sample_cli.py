"""The sampler `python -m llm_course.sample`: text from a checkpoint of `python -m llm_course.train`.

Oracles: `llm_course.sampling.generate` called once with the same seed (the streamed text is the same
tokens), the tokenizer's own decode (the prompt is a prefix), and the run's options. Short runs call
`main(argv)` in this process; the command line itself runs as a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from llm_course import sample, train
from llm_course.bpe import BPETokenizer
from llm_course.models import LanguageModel
from llm_course.sampling import generate

TINY = ["--n-layer", "1", "--n-head", "2", "--n-emb", "16", "--context-size", "16", "--batch-size", "8",
        "--eval-batches", "2", "--device", "cpu", "--seed", "7", "--steps", "3", "--eval-interval", "3"]


@pytest.fixture(scope="module")
def char_run(tmp_path_factory, shakespeare) -> Path:
    """A trained (for 3 steps) character-level run on a user's text file."""
    folder = tmp_path_factory.mktemp("char")
    corpus = folder / "text.txt"
    corpus.write_text(shakespeare[:50_000], encoding="utf-8")
    train.main([*TINY, "--corpus", str(corpus), "--out", str(folder / "run")])
    return folder / "run"


@pytest.fixture(scope="module")
def bpe_run(tmp_path_factory) -> Path:
    """A BPE run on text with multi-byte characters, so that a token can end inside a character."""
    folder = tmp_path_factory.mktemp("bpe")
    corpus = folder / "text.txt"
    corpus.write_text("Ünïcödé façade, naïve café — 東京 und Köln. " * 400, encoding="utf-8")
    train.main([*TINY, "--corpus", str(corpus), "--tokenizer", "bpe", "--bpe-vocab", "300",
                "--out", str(folder / "run")])
    return folder / "run"


def samples(argv: list[str], capsys) -> tuple[list[str], str]:
    texts = sample.main(argv)
    return texts, capsys.readouterr().out


def test_help_documents_every_option():
    result = subprocess.run([sys.executable, "-m", "llm_course.sample", "--help"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0
    options = [a for a in sample.build_parser()._actions if a.option_strings and a.dest != "help"]
    for required in ["--out", "--checkpoint", "--prompt", "--prompt-file", "--max-new-tokens", "--temperature",
                     "--top-k", "--top-p", "--num-samples", "--seed", "--device"]:
        assert required in result.stdout
        assert any(required in a.option_strings for a in options)
    for action in options:
        assert action.help and len(action.help) > 10, f"{action.dest} has no help text"


def test_same_seed_same_text_and_the_prompt_is_a_prefix(char_run, capsys):
    argv = ["--out", str(char_run), "--prompt", "ROMEO:", "--max-new-tokens", "40", "--device", "cpu"]
    first, printed = samples([*argv, "--seed", "5"], capsys)
    again, printed_again = samples([*argv, "--seed", "5"], capsys)
    other, _ = samples([*argv, "--seed", "6"], capsys)
    assert first == again and printed == printed_again and first != other
    assert len(first) == 1 and first[0].startswith("ROMEO:") and len(first[0]) == len("ROMEO:") + 40
    assert printed == first[0] + "\n", "what is printed is the sample, prompt first"


def test_streaming_gives_the_tokens_of_one_call_to_generate(char_run):
    model, tokenizer = sample.load_run(char_run / "ckpt.pt", "cpu")
    prompt = tokenizer.encode("KING")
    pieces = []
    streamed = sample.stream(model, tokenizer, prompt, 30, pieces.append, temperature=0.8, top_k=10,
                             generator=torch.Generator().manual_seed(3))
    whole = generate(model, prompt, 30, temperature=0.8, top_k=10, generator=torch.Generator().manual_seed(3))
    assert streamed == whole.tolist() and len(pieces) == 31  # one piece per token, and an empty last one
    assert "".join(pieces) == tokenizer.decode(whole.tolist())[len("KING"):]


class Scripted(LanguageModel):
    """A 'model' sure of every next token: the bytes of `script`, in order (for a byte-level tokenizer)."""

    def __init__(self, script: bytes, n_prompt: int):
        super().__init__(n_vocab=256, context_size=64)
        self.script, self.n_prompt = script, n_prompt
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # gives the model a device

    def forward(self, idx):
        idx = self.check_input(idx)  # (B, t)
        logits = torch.zeros(*idx.shape, self.n_vocab)  # (B, t, V)
        logits[:, -1, self.script[idx.shape[1] - self.n_prompt]] = 10.0
        return logits


def test_pieces_wait_for_whole_characters():
    bytes_only = BPETokenizer([], ())  # 256 tokens, one per byte: a 3-byte character takes 3 tokens
    script = "東京 ok".encode()
    pieces = []
    ids = sample.stream(Scripted(script, 1), bytes_only, [ord("a")], len(script), pieces.append, temperature=0)
    assert bytes_only.decode(ids) == "a東京 ok"
    assert pieces == ["東", "京", " ", "o", "k", ""], "a character is written once all its bytes are there"


def test_a_bpe_run_samples_from_the_command_line(bpe_run, capsys):
    texts, printed = samples(["--out", str(bpe_run), "--prompt", "Köln", "--max-new-tokens", "10", "--device", "cpu"],
                             capsys)
    assert texts[0].startswith("Köln") and printed == texts[0] + "\n"


def test_several_samples_a_prompt_file_and_greedy(char_run, tmp_path, capsys):
    prompt_file = tmp_path / "prompt.txt"
    prompt_file.write_text("First Citizen:\n", encoding="utf-8")
    texts, printed = samples(["--checkpoint", str(char_run / "ckpt.pt"), "--prompt-file", str(prompt_file),
                              "--num-samples", "3", "--max-new-tokens", "15", "--top-p", "0.9", "--device", "cpu"],
                             capsys)
    assert len(texts) == 3 and all(t.startswith("First Citizen:\n") for t in texts)
    assert printed == sample.SEPARATOR.join(texts) + "\n"
    greedy, _ = samples(["--out", str(char_run), "--temperature", "0", "--num-samples", "2", "--max-new-tokens", "10",
                         "--device", "cpu"], capsys)
    assert greedy[0] == greedy[1], "greedy decoding repeats itself"
    assert greedy[0].startswith("\n"), "the default prompt is a newline"


def stops_with(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        sample.main(argv)
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("python -m llm_course.sample: error: ")
    return lines[-1]


def test_clear_errors(char_run, tmp_path, capsys):
    missing = tmp_path / "nothing"
    assert f"no checkpoint at {missing / 'ckpt.pt'}" in stops_with(["--out", str(missing)], capsys)
    line = stops_with(["--out", str(char_run), "--prompt", "Ωmega ж"], capsys)
    assert "'Ωж'" in line and "not in this model's vocabulary of" in line
    assert "give --prompt or --prompt-file, not both" in stops_with(
        ["--out", str(char_run), "--prompt", "a", "--prompt-file", "p.txt"], capsys)
    assert "give --out or --checkpoint, not both" in stops_with(
        ["--out", str(char_run), "--checkpoint", str(char_run / "ckpt.pt")], capsys)
    assert "--temperature 0 is greedy decoding" in stops_with(
        ["--out", str(char_run), "--temperature", "0", "--top-k", "5"], capsys)
    assert "the prompt is empty" in stops_with(["--out", str(char_run), "--prompt", ""], capsys)
    assert "--top-p: must lie in (0, 1], got '1.5'" in stops_with(["--out", str(char_run), "--top-p", "1.5"], capsys)
    assert "--max-new-tokens: must be a positive integer" in stops_with(
        ["--out", str(char_run), "--max-new-tokens", "0"], capsys)
    foreign = tmp_path / "foreign" / "ckpt.pt"
    foreign.parent.mkdir()
    torch.save({"model": {}}, foreign)
    assert "is not a checkpoint written by llm_course.train" in stops_with(["--checkpoint", str(foreign)], capsys)
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "ckpt.pt").write_bytes((char_run / "ckpt.pt").read_bytes())
    assert f"no tokenizer at {lone / 'tokenizer.json'}" in stops_with(["--out", str(lone)], capsys)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("déjà".encode("latin-1"))
    assert f"--prompt-file {latin1}" in stops_with(["--out", str(char_run), "--prompt-file", str(latin1)], capsys)


def test_the_command_line_prints_as_it_generates(char_run, tmp_path):
    result = subprocess.run([sys.executable, "-m", "llm_course.sample", "--out", str(char_run), "--prompt", "ROMEO:",
                             "--max-new-tokens", "25", "--seed", "2"], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ROMEO:") and len(result.stdout) == len("ROMEO:") + 25 + 1 and result.stderr == ""
