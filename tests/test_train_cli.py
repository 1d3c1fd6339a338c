"""The command-line trainer `python -m llm_course.train`: options, corpora, token files, runs, resume, torchrun.

Short runs call `main(argv)` in this process (no start-up cost); the command line itself, `--help`,
the memory measurement and torchrun run as subprocesses. Oracles: the loss at initialisation is about
ln n_vocab and falls; a resumed run equals the uninterrupted one bit for bit; gradient accumulation
equals the larger batch (PyTorch's float tolerance); the fast loss equals notebook 07's
`cross_entropy`; the token file equals the tokenizer's own `encode`; data-parallel ranks end with the
parameters of rank 0's checkpoint (digests computed here from the saved file); FLOP counts by hand.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from llm_course import train
from llm_course.bpe import BPETokenizer
from llm_course.gpt import GPT, GPTConfig
from llm_course.modern import MODERN_PIECES, ModernConfig, ModernGPT, MuonWithAdamW, build_model, config_from_dict
from llm_course.tokenizers import CharTokenizer
from llm_course.training import SHAKESPEARE_CHAR, cross_entropy, load_checkpoint

TINY = ["--n-layer", "1", "--n-head", "2", "--n-emb", "16", "--context-size", "16", "--batch-size", "8",
        "--eval-batches", "2", "--device", "cpu", "--seed", "7"]
N_VOCAB = 65  # Tiny Shakespeare's characters


@pytest.fixture(autouse=True)
def _corpus_and_one_thread(shakespeare):
    """Every test here needs the local corpus (skipped, never downloaded, without it), and runs in-process
    training on one thread: on a small shared machine two threads on tiny matrices mostly wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def text_file(tmp_path, shakespeare) -> Path:
    """A user's text file: the first 60,000 characters of Tiny Shakespeare."""
    path = tmp_path / "my text.txt"
    path.write_text(shakespeare[:60_000], encoding="utf-8")
    return path


def environment() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def run_module(args: list[str], cwd: Path, timeout: float = 120, env: dict | None = None):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env or environment(), capture_output=True,
                          text=True, timeout=timeout)


def checkpoint_model(path: Path) -> GPT:
    """The model of a trainer checkpoint, rebuilt from the configuration it stores (a GPT or a ModernGPT)."""
    config = torch.load(path, map_location="cpu", weights_only=True)["config"]
    model = build_model(config_from_dict(config))
    load_checkpoint(path, model=model)
    return model


def assert_same_parameters(a: Path, b: Path, exact: bool = True, atol: float = 1e-5) -> None:
    """Equal parameters; with `exact=False`, to `atol`. Adam divides by sqrt(v), so a gradient that is only
    rounding noise (such as the key bias's, 0 in exact arithmetic: softmax ignores a constant) moves by a small
    fraction of the learning rate, differently in the two runs: 1e-5 is far below the recipe's 5e-3 per step."""
    for (name, x), (_, y) in zip(checkpoint_model(a).state_dict().items(), checkpoint_model(b).state_dict().items(),
                                 strict=True):
        if exact:
            assert torch.equal(x, y), f"{name} differs"
        else:
            assert torch.allclose(x, y, atol=atol, rtol=0), f"{name} differs by {(x - y).abs().max():.2e}"


# --- the command line ---------------------------------------------------------------------------------


def test_help_documents_every_option(tmp_path):
    result = run_module(["-m", "llm_course.train", "--help"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    options = [a for a in train.build_parser()._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 26
    for action in options:
        assert action.help and len(action.help) > 10, f"{action.dest} has no help text"
        assert action.option_strings[0] in result.stdout, action.option_strings[0]
    for required in ["--corpus", "--tokenizer", "--bpe-vocab", "--tokens-dir", "--n-layer", "--n-head", "--n-emb",
                     "--dropout", "--batch-size", "--grad-accum", "--context-size", "--steps", "--lr", "--min-lr",
                     "--warmup-steps", "--weight-decay", "--grad-clip", "--eval-interval", "--eval-batches", "--out",
                     "--resume", "--seed", "--device", "--precision", "--compile", "--modern", "--norm", "--position",
                     "--mlp", "--bias", "--no-bias", "--optimizer"]:
        assert required in result.stdout
    assert "torchrun" in result.stdout and "(default: None)" not in result.stdout


def test_defaults_follow_notebook_07s_recipe():
    parser = train.build_parser()
    args = parser.parse_args([])
    train.check_args(args, parser)  # the defaults pass the checks
    recipe = SHAKESPEARE_CHAR
    assert (args.corpus, args.tokenizer, args.device, args.precision) == ("tiny-shakespeare", "char", "auto", "auto")
    assert (args.n_layer, args.n_head, args.n_emb, args.context_size, args.dropout) == (
        recipe.n_layer, recipe.n_head, recipe.n_emb, recipe.context_size, recipe.dropout)
    assert (args.batch_size, args.steps, args.weight_decay, args.seed) == (
        recipe.batch_size, recipe.steps, recipe.weight_decay, recipe.seed)
    assert args.grad_accum == 1 and args.resume is None and not args.compile
    pieces = (args.norm, args.position, args.mlp, args.bias, args.optimizer)
    assert pieces == ("layernorm", "learned", "gelu", True, "adamw")
    assert type(train.model_config(args, N_VOCAB)) is GPTConfig, "GPT-2's pieces: notebook 06's GPT"
    schedule = train.resolve_schedule(args, None)
    assert schedule == {"lr": recipe.max_lr, "min_lr": recipe.min_lr, "warmup_steps": recipe.warmup_steps,
                        "horizon": recipe.steps}
    shorter = train.resolve_schedule(parser.parse_args(["--steps", str(recipe.steps // 2)]), None)
    assert shorter["warmup_steps"] == round(recipe.warmup_steps / 2)  # the same fraction of the run


BAD_OPTIONS = [
    (["--tokenizer", "words"], "invalid choice: 'words'"),
    (["--n-emb", "30", "--n-head", "4"], "--n-head 4 must divide --n-emb 30"),
    (["--n-layer", "0"], "--n-layer: must be a positive integer, got '0'"),
    (["--batch-size", "-3"], "--batch-size: must be a positive integer, got '-3'"),
    (["--grad-accum", "0"], "--grad-accum: must be a positive integer, got '0'"),
    (["--context-size", "ten"], "--context-size: must be a positive integer, got 'ten'"),
    (["--steps", "0"], "--steps: must be a positive integer, got '0'"),
    (["--lr", "0"], "--lr must be positive, got 0.0"),
    (["--lr", "nan"], "--lr: must be a finite non-negative number, got 'nan'"),
    (["--lr", "1e-3", "--min-lr", "1e-2"], "--min-lr 0.01 must not exceed --lr 0.001"),
    (["--dropout", "1.5"], "--dropout must lie in [0, 1), got 1.5"),
    (["--warmup-steps", "50", "--steps", "10"], "--warmup-steps 50 must not exceed --steps 10"),
    (["--tokenizer", "bpe", "--bpe-vocab", "100"], "--bpe-vocab must be at least 256 (the byte tokens), got 100"),
    (["--precision", "fp16"], "invalid choice: 'fp16'"),
    (["--norm", "batchnorm"], "invalid choice: 'batchnorm'"),
    (["--optimizer", "sgd"], "invalid choice: 'sgd'"),
    (["--position", "rope", "--n-emb", "18", "--n-head", "6"], "--position rope rotates pairs: the head size "
                                                               "--n-emb / --n-head = 3 must be even"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_options_stop_before_training(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        train.main([*argv, "--out", str(out)])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists(), "nothing is written before the options are checked"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_a_missing_gpu_stops(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        train.main(["--device", "cuda", "--out", str(tmp_path / "out")])
    assert stop.value.code == 2 and "--device cuda: no CUDA GPU" in capsys.readouterr().err


def test_bad_option_from_the_command_line_is_one_line_on_stderr(tmp_path):
    result = run_module(["-m", "llm_course.train", "--n-emb", "30", "--n-head", "4"], cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "python -m llm_course.train: error: --n-head 4 must divide --n-emb 30")


# --- corpora: registered names, files, folders; each bad one a one-line error ----------------------------


def stops_with(argv: list[str], capsys) -> str:
    """The one error line `main(argv)` stops with (exit status 2)."""
    with pytest.raises(SystemExit) as stop:
        train.main(argv)
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("python -m llm_course.train: error: ")
    return lines[-1]


def test_corpus_errors_are_one_line_before_training(tmp_path, capsys):
    out = tmp_path / "out"
    missing = tmp_path / "missing.txt"
    line = stops_with([*TINY, "--corpus", str(missing), "--out", str(out)], capsys)
    assert f"no such file or folder: {missing}" in line and "tiny-shakespeare" in line

    empty_folder = tmp_path / "no-text"
    empty_folder.mkdir()
    (empty_folder / "notes.md").write_text("not a .txt file")
    assert "holds no .txt files" in stops_with([*TINY, "--corpus", str(empty_folder), "--out", str(out)], capsys)

    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert "the corpus is empty" in stops_with([*TINY, "--corpus", str(empty), "--out", str(out)], capsys)

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("abc déjà vu".encode("latin-1"))  # é is the byte 0xe9 at offset 5
    line = stops_with([*TINY, "--corpus", str(latin1), "--out", str(out)], capsys)
    assert f"{latin1} is not UTF-8 text: byte 5 (0xe9) cannot be decoded" in line
    assert not out.exists(), "nothing is written for a corpus that fails its checks"

    short = tmp_path / "short.txt"
    short.write_text("far too few words for a context of 16 characters in its last tenth " * 2)
    n_validation = 134 - int(134 * 0.9)  # the split of data.train_val_split
    line = stops_with([*TINY, "--corpus", str(short), "--out", str(out)], capsys)
    assert f"--context-size 16 is longer than the validation text ({n_validation} tokens" in line


def test_not_utf8_names_the_byte_offset_across_chunks(tmp_path):
    path = tmp_path / "late.txt"
    text = "é" * 1000  # two bytes each: offsets 0..1999, so chunks of 7 bytes split characters
    path.write_bytes(text.encode("utf-8") + b"ok\xff")
    with pytest.raises(train.CorpusError, match=r"byte 2,002 \(0xff\)"):
        list(train.read_corpus(str(path), (path,), chunk_bytes=7))
    good = tmp_path / "good.txt"
    good.write_text(text + "ok", encoding="utf-8")
    assert "".join(train.read_corpus(str(good), (good,), chunk_bytes=7)) == text + "ok"


def test_a_folder_of_text_files_is_read_in_name_order(tmp_path, shakespeare, capsys):
    folder = tmp_path / "books"
    (folder / "b").mkdir(parents=True)
    (folder / "a.txt").write_text(shakespeare[:30_000])
    (folder / "b" / "c.txt").write_text(shakespeare[30_000:60_000])
    (folder / "skipped.md").write_text("ignored")
    scan = train.scan_corpus(str(folder))
    assert [p.name for p in scan.files] == ["a.txt", "c.txt"]
    assert "".join(train.read_corpus(scan.name, scan.files)) == shakespeare[:60_000]
    assert scan.n_characters == 60_000 and scan.characters == "".join(sorted(set(shakespeare[:60_000])))
    summary = train.main([*TINY, "--corpus", str(folder), "--steps", "2", "--eval-interval", "2",
                          "--out", str(tmp_path / "run")])
    assert math.isfinite(summary["val_loss"]) and "on " + str(folder) in capsys.readouterr().out


def test_fingerprints_change_with_content_and_names(tmp_path):
    first = tmp_path / "one"
    first.mkdir()
    (first / "a.txt").write_text("hello world")
    fingerprint = train.scan_corpus(str(first)).fingerprint
    (first / "a.txt").write_text("hello worle")
    assert train.scan_corpus(str(first)).fingerprint != fingerprint
    assert train.scan_corpus("tiny-shakespeare").fingerprint == train.CORPORA["tiny-shakespeare"].sha256


# --- tokens: once, to a file, memory-mapped -----------------------------------------------------------------


def test_token_file_is_written_once_and_equals_the_tokenizers_encode(tmp_path, text_file, capsys):
    out = tmp_path / "run"
    train.main([*TINY, "--corpus", str(text_file), "--steps", "2", "--eval-interval", "2", "--out", str(out)])
    assert "tokenising" in capsys.readouterr().out
    [token_path] = (out / "tokens").iterdir()
    assert token_path.suffix == ".uint16" and not list((out / "tokens").glob(".*.tmp"))
    text = text_file.read_text(encoding="utf-8")
    tokenizer = CharTokenizer.from_text(text)
    assert np.fromfile(token_path, dtype=np.uint16).tolist() == tokenizer.encode(text)
    saved = train.load_tokenizer(out / "tokenizer.json")
    assert isinstance(saved, CharTokenizer) and saved.vocabulary.tokens == tokenizer.vocabulary.tokens
    written = token_path.stat().st_mtime_ns
    train.main([*TINY, "--corpus", str(text_file), "--steps", "4", "--eval-interval", "2", "--out", str(out),
                "--resume"])
    assert "tokenising" not in capsys.readouterr().out and token_path.stat().st_mtime_ns == written
    shared = tmp_path / "shared-tokens"
    train.main([*TINY, "--corpus", str(text_file), "--steps", "2", "--eval-interval", "2",
                "--out", str(tmp_path / "r2"), "--tokens-dir", str(shared)])
    assert [p.name for p in shared.iterdir()] == [token_path.name], "named by corpus and tokenizer, not by run"


def test_token_files_use_the_smallest_integer_type():
    assert train.token_dtype(65) == np.uint16 and train.token_dtype(65_536) == np.uint16
    assert train.token_dtype(65_537) == np.uint32 and train.token_dtype(100_000) == np.uint32


def test_opened_tokens_are_memory_mapped_and_batches_match_get_batch(tmp_path):
    from llm_course.data import get_batch

    ids = np.random.default_rng(0).integers(0, 1000, 5000)
    path = tmp_path / "ids.uint16"
    assert train.write_tokens(path, iter([ids[:2000], ids[2000:]]), np.dtype(np.uint16)) == 5000
    mapped = train.open_tokens(path, np.dtype(np.uint16))
    assert mapped.dtype == torch.uint16 and mapped.tolist() == ids.tolist()
    x1, y1 = get_batch(mapped, 4, 32, generator=torch.Generator().manual_seed(3))
    x2, y2 = get_batch(torch.tensor(ids), 4, 32, generator=torch.Generator().manual_seed(3))
    assert torch.equal(x1, x2) and torch.equal(y1, y2) and x1.dtype == torch.long


def test_bpe_text_is_encoded_in_pieces_exactly_as_a_whole(shakespeare):
    text = shakespeare[:20_000] + "\n  indented\n\nword\n x\ny  \nz"
    tokenizer = BPETokenizer.train(text, 300)
    chunks = [text[i:i + 97] for i in range(0, len(text), 97)]  # cuts anywhere, even inside words
    pieces = list(train._bpe_pieces(iter(chunks)))
    assert "".join(pieces) == text and len(pieces) > 50
    streamed = np.concatenate(list(train.encode_stream(tokenizer, iter(chunks))))
    assert streamed.tolist() == tokenizer.encode(text)


def test_the_50_mb_corpus_is_never_held_in_memory(tmp_path):
    """10 steps on a generated 52 MB text: the peak memory of the rank, against the same run on a 1 MB text.

    Measured in a fresh process each (VmHWM: peak resident memory; RssAnon: private memory at the end).
    The corpus as a tensor of token ids (torch.long, how notebook 07 holds it) would take 8 bytes a token."""
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz  \n", dtype=np.uint8)
    rng = np.random.default_rng(0)
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    with open(big, "wb") as file:
        for _ in range(13):
            file.write(alphabet[rng.integers(0, len(alphabet), 4_000_000)].tobytes())
    small.write_bytes(big.read_bytes()[:1_000_000])
    probe = ("import json, sys, torch; from llm_course import train; torch.set_num_threads(1); "
             "train.main(sys.argv[1:]); "
             "print(json.dumps({l.split(':')[0]: int(l.split()[1]) / 1024 for l in open('/proc/self/status') "
             "if l.startswith(('VmHWM', 'RssAnon'))}))")
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux's /proc to read a process's peak memory")
    measured = {}
    for corpus in (small, big):
        result = run_module(["-c", probe, *TINY, "--corpus", str(corpus), "--steps", "10", "--eval-interval", "10",
                             "--out", str(tmp_path / corpus.stem)], cwd=tmp_path, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        measured[corpus.stem] = json.loads(result.stdout.strip().splitlines()[-1])
    as_tensor_mb = 8 * big.stat().st_size / 2**20  # one token per character, int64
    extra_peak = measured["big"]["VmHWM"] - measured["small"]["VmHWM"]
    extra_private = measured["big"]["RssAnon"] - measured["small"]["RssAnon"]
    print(f"\n52 MB corpus: peak {measured['big']['VmHWM']:.0f} MB, 1 MB corpus: {measured['small']['VmHWM']:.0f} MB; "
          f"difference {extra_peak:.0f} MB (private: {extra_private:.0f} MB) against {as_tensor_mb:.0f} MB as a tensor")
    assert extra_peak < 0.3 * as_tensor_mb, "at most pages of the uint16 file, a quarter of the tensor, are mapped"
    assert extra_private < 0.05 * as_tensor_mb, "no private copy of the corpus"


# --- runs ------------------------------------------------------------------------------------------------


def test_short_run_writes_a_checkpoint_and_a_log_and_the_loss_falls(tmp_path, capsys):
    out = tmp_path / "run"
    summary = train.main([*TINY, "--steps", "40", "--lr", "1e-2", "--warmup-steps", "4", "--eval-interval", "20",
                          "--log-interval", "4", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "validation loss" in printed and "tokens/s" in printed
    log = json.loads((out / "log.json").read_text())
    assert [e["step"] for e in log["train"]] == list(range(4, 41, 4))
    assert [e["step"] for e in log["val"]] == [20, 40]
    assert abs(log["train"][0]["loss"] - math.log(N_VOCAB)) < 1.0  # a fresh model guesses about uniformly
    assert log["train"][-1]["loss"] < log["train"][0]["loss"] - 0.5
    assert log["val"][-1]["loss"] < math.log(N_VOCAB) - 0.5
    assert summary["val_loss"] == pytest.approx(log["val"][-1]["loss"], abs=1e-4) and summary["tokens_per_second"] > 0
    assert summary["tokens_per_step"] == 8 * 16 and summary["flops_per_token"] == train.flops_per_token(
        train.matmul_parameters(checkpoint_model(out / "ckpt.pt")), 1, 2, 16, 16)
    checkpoint = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=True)
    extra = checkpoint["extra"]
    assert extra["trainer"] == "llm_course.train" and extra["step"] == 40
    assert extra["schedule"] == {"lr": 1e-2, "min_lr": SHAKESPEARE_CHAR.min_lr, "warmup_steps": 4, "horizon": 40}
    assert not list(out.glob("*.tmp")), "no temporary files are left behind"
    model = checkpoint_model(out / "ckpt.pt")
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert extra["rank_parameter_digests"] == [train.parameter_digest(model)]


@pytest.mark.parametrize("bias", [True, False])
def test_matmul_parameters_leave_out_the_looked_up_position_table(bias):
    """N of 6N by hand: the tied token table once, 12 C^2 of matrices per block, biases and norms; no P."""
    for V, T, C, L, H in [(65, 64, 192, 2, 6), (65, 16, 16, 1, 2), (4096, 1024, 768, 12, 12)]:
        config = GPTConfig(n_vocab=V, context_size=T, n_emb=C, n_layer=L, n_head=H, bias=bias)
        per_block = 12 * C * C + (13 * C if bias else 2 * C)  # matrices, then biases and LayerNorm gains (and biases)
        by_hand = V * C + L * per_block + (2 * C if bias else C)  # tied token table + blocks + final LayerNorm
        assert train.matmul_parameters(GPT(config)) == by_hand
        assert GPT(config).count_parameters() == by_hand + T * C  # the position table is all that is left out
    modern = ModernConfig(n_vocab=65, context_size=16, n_emb=16, n_layer=1, n_head=2, position="learned")
    model = ModernGPT(modern)
    assert train.matmul_parameters(model) == model.count_parameters() - 16 * 16
    rope = ModernGPT(ModernConfig(n_vocab=65, context_size=16, n_emb=16, n_layer=1, n_head=2))
    assert train.matmul_parameters(rope) == rope.count_parameters()  # RoPE has no table to leave out


def test_flops_per_token_of_the_recipe_by_hand():
    """6N + 12 L H Q T for notebook 07's recipe, N without the position table."""
    r = SHAKESPEARE_CHAR
    C, L, T = r.n_emb, r.n_layer, r.context_size
    n = N_VOCAB * C + L * (12 * C * C + 13 * C) + 2 * C
    model = GPT(GPTConfig(n_vocab=N_VOCAB, context_size=T, n_emb=C, n_layer=L, n_head=r.n_head))
    assert train.flops_per_token(train.matmul_parameters(model), L, r.n_head, C, T) == 6 * n + 12 * L * C * T


def test_the_fast_loss_equals_notebook_07s_cross_entropy():
    generator = torch.Generator().manual_seed(0)
    for shape in [(1, 1, 2), (4, 16, 65), (3, 7, 1000)]:
        logits = torch.randn(*shape, generator=generator) * 4
        targets = torch.randint(shape[-1], shape[:2], generator=generator)
        assert torch.allclose(train.next_token_loss(logits, targets), cross_entropy(logits, targets), atol=1e-6)
        half = logits.bfloat16()
        assert torch.allclose(train.next_token_loss(half, targets), cross_entropy(half, targets), atol=1e-5)
        assert train.next_token_loss(half, targets).dtype == torch.float32


def test_train_step_with_micro_batches_equals_one_batch():
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_vocab=30, context_size=8, n_emb=16, n_layer=1, n_head=2))
    x, y = torch.randint(30, (8, 8)), torch.randint(30, (8, 8))
    copies = [GPT(model.config) for _ in range(2)]
    for copy in copies:
        copy.load_state_dict(model.state_dict())
    losses = []
    for copy, micro_batches in zip(copies, [[(x, y)], [(x[:4], y[:4]), (x[4:], y[4:])]], strict=True):
        optimizer = torch.optim.SGD(copy.parameters(), lr=0.1)
        losses.append(train.train_step(copy, optimizer, micro_batches, lr=0.1, grad_clip=1.0))
        assert all(p.grad is None for p in copy.parameters()), "gradients are cleared for the next step"
    assert torch.allclose(losses[0], losses[1], atol=1e-6)
    for a, b in zip(copies[0].parameters(), copies[1].parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_grad_accum_16_x_2_equals_32_x_1(tmp_path, text_file, capsys):
    common = [*TINY, "--corpus", str(text_file), "--steps", "6", "--eval-interval", "6"]
    big = train.main([*common, "--batch-size", "32", "--out", str(tmp_path / "32x1")])
    accumulated = train.main([*common, "--batch-size", "16", "--grad-accum", "2", "--out", str(tmp_path / "16x2")])
    assert "global batch 16 x 2 x 1 sequences" in capsys.readouterr().out
    assert_same_parameters(tmp_path / "32x1" / "ckpt.pt", tmp_path / "16x2" / "ckpt.pt", exact=False)
    assert big["tokens_per_step"] == accumulated["tokens_per_step"] == 32 * 16


def test_fused_adamw_on_cuda_keeps_notebook_07s_groups():
    model = GPT(GPTConfig(n_vocab=30, context_size=8, n_emb=16, n_layer=1, n_head=2))
    plain = train.build_optimizer(model, 1e-3, 0.1, "cpu")
    assert not plain.defaults.get("fused")
    try:
        fused = train.build_optimizer(model, 1e-3, 0.1, "cuda")  # fused AdamW also accepts CPU tensors in torch >= 2.4
    except RuntimeError as error:
        pytest.skip(f"this PyTorch has no fused AdamW for CPU tensors: {error}")
    assert fused.defaults["fused"] is True and fused.defaults["betas"] == SHAKESPEARE_CHAR.betas
    assert [(len(g["params"]), g["weight_decay"]) for g in fused.param_groups] == [
        (len(g["params"]), g["weight_decay"]) for g in plain.param_groups]


def test_no_test_only_hooks_in_the_trainer():
    source = Path(train.__file__).read_text()
    assert "LLM_COURSE_TRAIN_DIGESTS" not in source and "os.environ.get(\"LLM_COURSE" not in source


# --- resume and the schedule's horizon ------------------------------------------------------------------------


def test_resume_continues_exactly_where_an_interrupted_run_stopped(tmp_path, capsys, monkeypatch):
    schedule = [*TINY, "--lr", "3e-3", "--warmup-steps", "2", "--eval-interval", "4", "--log-interval", "2",
                "--dropout", "0.1"]
    train.main([*schedule, "--steps", "12", "--out", str(tmp_path / "straight")])

    saved = train.save_checkpoint

    def save_then_stop(*args, **kwargs):  # an interruption (Ctrl-C) just after the checkpoint of step 4
        saved(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train.main([*schedule, "--steps", "12", "--out", str(tmp_path / "stopped")])
    monkeypatch.setattr(train, "save_checkpoint", saved)
    train.main([*TINY, "--eval-interval", "4", "--log-interval", "2", "--dropout", "0.1", "--steps", "12",
                "--out", str(tmp_path / "stopped"), "--resume"])  # schedule options left out: the checkpoint's
    assert "for steps 5..12" in capsys.readouterr().out
    assert_same_parameters(tmp_path / "straight" / "ckpt.pt", tmp_path / "stopped" / "ckpt.pt")
    log = json.loads((tmp_path / "stopped" / "log.json").read_text())
    straight_log = json.loads((tmp_path / "straight" / "log.json").read_text())
    assert log["train"] == straight_log["train"] and [e["step"] for e in log["val"]] == [4, 8, 12]


def test_a_larger_steps_extends_the_run_at_min_lr(tmp_path, capsys):
    run = [*TINY, "--eval-interval", "4", "--log-interval", "1", "--out", str(tmp_path / "run")]
    train.main([*run, "--steps", "8", "--lr", "4e-3", "--min-lr", "4e-4", "--warmup-steps", "2"])
    train.main([*run, "--steps", "12", "--resume"])
    printed = capsys.readouterr().out
    assert "steps 9..12 lie past the schedule's horizon (step 8): learning rate held at --min-lr 4.00e-04" in printed
    rates = [e["lr"] for e in json.loads((tmp_path / "run" / "log.json").read_text())["train"]]
    from llm_course.training import learning_rate

    assert rates == [learning_rate(s, max_lr=4e-3, warmup_steps=2, total_steps=8, min_lr=4e-4) for s in range(12)]
    falling = all(b <= a for a, b in zip(rates[1:], rates[2:], strict=False))
    assert rates[8:] == [4e-4] * 4 and falling, "no jump at the horizon"
    extra = torch.load(tmp_path / "run" / "ckpt.pt", weights_only=True)["extra"]
    assert extra["step"] == 12 and extra["schedule"]["horizon"] == 8


def test_resume_refuses_missing_foreign_and_mismatched_checkpoints(tmp_path, capsys, text_file):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as stop:
        train.main([*TINY, "--out", str(out), "--resume"])
    assert stop.value.code == 2 and f"--resume: no checkpoint at {out / 'ckpt.pt'}" in capsys.readouterr().err

    foreign = tmp_path / "foreign.pt"
    torch.save({"model": {}, "step": 3}, foreign)
    with pytest.raises(SystemExit):
        train.main([*TINY, "--out", str(out), "--resume", str(foreign)])
    assert f"{foreign} is not a checkpoint written by llm_course.train" in capsys.readouterr().err

    garbage = tmp_path / "garbage.pt"
    garbage.write_text("not a checkpoint")
    with pytest.raises(SystemExit):
        train.main([*TINY, "--out", str(out), "--resume", str(garbage)])
    assert f"{garbage} is not a checkpoint" in capsys.readouterr().err
    assert not out.exists()

    train.main([*TINY, "--steps", "2", "--eval-interval", "2", "--lr", "2e-3", "--out", str(out)])
    with pytest.raises(SystemExit):
        train.main([*TINY, "--n-emb", "32", "--steps", "4", "--out", str(out), "--resume"])
    assert "was trained with --n-emb 16, this run asks for 32" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.main([*TINY, "--steps", "2", "--out", str(out), "--resume"])
    assert "is at step 2, --steps is 2: nothing to train" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.main([*TINY, "--steps", "4", "--lr", "5e-3", "--out", str(out), "--resume"])
    assert "the checkpoint's schedule has --lr 0.002, this run asks for 0.005" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.main([*TINY, "--steps", "4", "--corpus", str(text_file), "--out", str(out), "--resume"])
    assert "was trained on another corpus" in capsys.readouterr().err


def test_resume_auto_starts_afresh_without_a_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    train.main([*TINY, "--steps", "2", "--eval-interval", "2", "--out", str(out), "--resume", "auto"])
    train.main([*TINY, "--steps", "4", "--eval-interval", "2", "--out", str(out), "--resume", "auto"])
    assert "for steps 3..4" in capsys.readouterr().out
    assert [e["step"] for e in json.loads((out / "log.json").read_text())["val"]] == [2, 4]


def test_bf16_autocast_path_runs_on_the_cpu(tmp_path, capsys):
    """The GPU's mixed-precision path (autocast to bfloat16), exercised where no GPU is lent."""
    summary = train.main([*TINY, "--precision", "bf16", "--steps", "4", "--eval-interval", "4",
                          "--out", str(tmp_path / "run")])
    assert "cpu, bf16" in capsys.readouterr().out
    assert math.isfinite(summary["val_loss"]) and abs(summary["val_loss"] - math.log(N_VOCAB)) < 1.0
    assert summary["mfu"] is None and summary["precision"] == "bf16"  # MFU against a known peak: GPUs only
    model = checkpoint_model(tmp_path / "run" / "ckpt.pt")
    assert all(p.dtype == torch.float32 for p in model.parameters()), "autocast keeps the parameters in fp32"


def test_bpe_tokenizer_is_trained_once_saved_and_reused(tmp_path, capsys):
    out = tmp_path / "run"
    bpe = ["--tokenizer", "bpe", "--bpe-vocab", "270", "--eval-interval", "2"]
    train.main([*TINY, *bpe, "--steps", "2", "--out", str(out)])
    saved = out / "tokenizer.json"
    assert BPETokenizer.load(saved).n_vocab == 270
    printed = capsys.readouterr().out
    assert "bpe tokens, n_vocab=270" in printed and printed.count("training a byte-level BPE tokenizer") == 1
    written = saved.stat().st_mtime_ns
    train.main([*TINY, *bpe, "--steps", "4", "--out", str(out), "--resume"])
    printed = capsys.readouterr().out
    assert saved.stat().st_mtime_ns == written, "the saved tokenizer is read back, not trained again"
    assert "for steps 3..4" in printed and "training a byte-level BPE" not in printed
    train.main([*TINY, *bpe, "--steps", "2", "--out", str(out)])  # a fresh run: the cached tokenizer
    assert "training a byte-level BPE" not in capsys.readouterr().out


# --- torchrun: two ranks ----------------------------------------------------------------------------------------


def torchrun(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = run_module(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "llm_course.train",
                         *argv], cwd=cwd, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_two_ranks_with_grad_accum_on_a_text_file_then_sample(tmp_path, text_file):
    """2 processes, BPE trained once by rank 0, --grad-accum 2 equal to a doubled batch; then sampling from it."""
    common = [*TINY, "--corpus", str(text_file), "--tokenizer", "bpe", "--bpe-vocab", "280", "--steps", "4",
              "--eval-interval", "2", "--log-interval", "2"]
    accumulated = torchrun([*common, "--batch-size", "4", "--grad-accum", "2", "--out", "accumulated"], tmp_path)
    assert accumulated.stdout.count("validation loss") == 1, "only rank 0 prints"
    assert accumulated.stdout.count("training a byte-level BPE tokenizer") == 1, "rank 0 trains it, rank 1 loads it"
    assert "global batch 4 x 2 x 2 sequences" in accumulated.stdout
    torchrun([*common, "--batch-size", "8", "--out", "doubled", "--tokens-dir", "accumulated/tokens"], tmp_path)
    checkpoint = tmp_path / "accumulated" / "ckpt.pt"
    assert_same_parameters(checkpoint, tmp_path / "doubled" / "ckpt.pt", exact=False)
    extra = torch.load(checkpoint, weights_only=True)["extra"]
    digest = train.parameter_digest(checkpoint_model(checkpoint))
    assert extra["rank_parameter_digests"] == [digest, digest], "DDP keeps the copies identical"
    log = json.loads((tmp_path / "accumulated" / "log.json").read_text())
    assert log["world_size"] == 2 and log["summary"]["tokens_per_step"] == 4 * 2 * 2 * 16

    sampled = run_module(["-m", "llm_course.sample", "--out", "accumulated", "--prompt", "ROMEO:", "--max-new-tokens",
                          "20", "--seed", "3"], cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    assert sampled.stdout.startswith("ROMEO:") and len(sampled.stdout) > len("ROMEO:")


def test_two_ranks_resume_each_rank_with_its_own_random_states(tmp_path):
    """With dropout, each rank draws its own masks (seed + rank) and its own batches, and a run stopped at step 2
    and resumed equals the straight one bit for bit: each rank restored its own random states, not rank 0's."""
    constant = [*TINY, "--dropout", "0.2", "--lr", "3e-3", "--min-lr", "3e-3", "--warmup-steps", "0",
                "--eval-interval", "2", "--log-interval", "2"]  # a constant rate: the horizon does not matter
    torchrun([*constant, "--steps", "4", "--out", "straight"], tmp_path)
    torchrun([*constant, "--steps", "2", "--out", "stopped"], tmp_path)
    resumed = torchrun([*constant, "--steps", "4", "--out", "stopped", "--resume"], tmp_path)
    assert "for steps 3..4" in resumed.stdout
    assert_same_parameters(tmp_path / "straight" / "ckpt.pt", tmp_path / "stopped" / "ckpt.pt")
    states = torch.load(tmp_path / "straight" / "ckpt.pt", weights_only=True)["extra"]["rank_states"]
    assert len(states) == 2 and not torch.equal(states[0]["torch"], states[1]["torch"]), "own dropout streams"
    assert not torch.equal(states[0]["batches"], states[1]["batches"]), "own batches"


# --- notebook 11's pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--modern"], MODERN_PIECES),
        (["--modern", "--norm", "layernorm"], MODERN_PIECES | {"norm": "layernorm"}),
        (["--position", "rope"], {"norm": "layernorm", "position": "rope", "mlp": "gelu", "bias": True,
                                  "optimizer": "adamw"}),
        (["--no-bias", "--optimizer", "muon"], {"norm": "layernorm", "position": "learned", "mlp": "gelu",
                                                "bias": False, "optimizer": "muon"}),
    ],
)
def test_each_piece_option_reaches_the_model_and_the_optimiser(argv, expected):
    parser = train.build_parser()
    args = parser.parse_args([*TINY, *argv])
    train.check_args(args, parser)
    assert {name: getattr(args, name) for name in expected} == expected
    config = train.model_config(args, N_VOCAB)
    model = build_model(config)
    if (args.norm, args.position, args.mlp) == ("layernorm", "learned", "gelu"):
        assert type(config) is GPTConfig and type(model) is GPT and config.bias == args.bias
    else:
        assert isinstance(config, ModernConfig) and isinstance(model, ModernGPT)
        chosen = (config.norm, config.position, config.mlp, config.bias)
        assert chosen == (args.norm, args.position, args.mlp, args.bias)
    optimizer = train.build_optimizer(model, 1e-3, 0.1, "cpu", args.optimizer)
    assert isinstance(optimizer, MuonWithAdamW) == (args.optimizer == "muon")


def test_a_modern_run_learns_resumes_exactly_and_samples(tmp_path, capsys, monkeypatch):
    schedule = [*TINY, "--modern", "--lr", "1e-2", "--warmup-steps", "2", "--eval-interval", "4", "--log-interval", "2"]
    summary = train.main([*schedule, "--steps", "12", "--out", str(tmp_path / "straight")])
    assert "training a ModernGPT of" in capsys.readouterr().out
    assert summary["val_loss"] < math.log(N_VOCAB) - 0.3
    checkpoint = torch.load(tmp_path / "straight" / "ckpt.pt", map_location="cpu", weights_only=True)
    assert checkpoint["config"]["position"] == "rope" and checkpoint["extra"]["model_options"]["optimizer"] == "muon"
    assert any("momentum_buffer" in state for state in checkpoint["optimizer"]["state"].values())

    saved = train.save_checkpoint

    def save_then_stop(*args, **kwargs):  # interrupted just after the checkpoint of step 4
        saved(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train.main([*schedule, "--steps", "12", "--out", str(tmp_path / "stopped")])
    monkeypatch.setattr(train, "save_checkpoint", saved)
    train.main([*TINY, "--modern", "--eval-interval", "4", "--log-interval", "2", "--steps", "12",
                "--out", str(tmp_path / "stopped"), "--resume"])
    assert_same_parameters(tmp_path / "straight" / "ckpt.pt", tmp_path / "stopped" / "ckpt.pt")

    from llm_course import sample

    texts = sample.main(["--out", str(tmp_path / "straight"), "--prompt", "ROMEO:", "--max-new-tokens", "20",
                         "--device", "cpu"])
    assert texts[0].startswith("ROMEO:") and len(texts[0]) == 26


def test_resume_refuses_other_pieces(tmp_path, capsys):
    gpt2 = tmp_path / "gpt2"
    train.main([*TINY, "--steps", "2", "--eval-interval", "2", "--out", str(gpt2)])
    with pytest.raises(SystemExit):
        train.main([*TINY, "--steps", "4", "--position", "rope", "--out", str(gpt2), "--resume"])
    assert "was trained with --position learned, this run asks for rope" in capsys.readouterr().err
    modern = tmp_path / "modern"
    train.main([*TINY, "--modern", "--steps", "2", "--eval-interval", "2", "--out", str(modern)])
    with pytest.raises(SystemExit):
        train.main([*TINY, "--steps", "4", "--out", str(modern), "--resume"])  # --modern forgotten
    assert "was trained with --bias False, this run asks for True" in capsys.readouterr().err
