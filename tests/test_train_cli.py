"""The command-line trainer `python -m llm_course.train`: options, checks, runs, resume, torchrun.

Short runs call `main(argv)` in this process (no start-up cost); the command line itself, `--help`
and torchrun run as subprocesses. Oracles: the loss at initialisation is about ln n_vocab and
falls; a resumed run equals the uninterrupted one bit for bit; two data-parallel ranks end with
the same parameters as rank 0's checkpoint; FLOP counts worked by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from llm_course import train
from llm_course.gpt import GPT, GPTConfig
from llm_course.training import load_checkpoint

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


def environment() -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if os.environ.get("LLM_COURSE_DATA"):
        env["LLM_COURSE_DATA"] = os.environ["LLM_COURSE_DATA"]
    return env


def run_module(args: list[str], cwd: Path, timeout: float = 60, env: dict | None = None):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env or environment(), capture_output=True,
                          text=True, timeout=timeout)


def checkpoint_model(path: Path, n_emb: int = 16, n_head: int = 2, n_layer: int = 1, context_size: int = 16) -> GPT:
    model = GPT(GPTConfig(n_vocab=N_VOCAB, context_size=context_size, n_emb=n_emb, n_layer=n_layer, n_head=n_head))
    load_checkpoint(path, model=model, optimizer=None, generator=None)
    return model


# --- the command line ---------------------------------------------------------------------------------


def test_help_documents_every_option(tmp_path):
    result = run_module(["-m", "llm_course.train", "--help"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    options = [a for a in train.build_parser()._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 24
    for action in options:
        assert action.help and len(action.help) > 10, f"{action.dest} has no help text"
        assert action.option_strings[0] in result.stdout, action.option_strings[0]
    for required in ["--corpus", "--tokenizer", "--bpe-vocab", "--n-layer", "--n-head", "--n-emb", "--dropout",
                     "--batch-size", "--context-size", "--steps", "--lr", "--min-lr", "--warmup-steps",
                     "--weight-decay", "--grad-clip", "--eval-interval", "--eval-batches", "--out", "--resume",
                     "--seed", "--device", "--precision", "--compile"]:
        assert required in result.stdout
    assert "torchrun" in result.stdout


def test_defaults_train_a_small_character_gpt_on_shakespeare():
    parser = train.build_parser()
    args = parser.parse_args([])
    train.check_args(args, parser)  # the defaults pass the checks
    assert (args.corpus, args.tokenizer, args.device, args.precision) == ("tiny-shakespeare", "char", "auto", "auto")
    assert args.n_emb % args.n_head == 0 and args.resume is None and not args.compile
    assert all(value is not None for name, value in vars(args).items() if name != "resume")
    assert args.warmup_steps == 100 and args.steps == 2000  # --warmup-steps' default, filled in by check_args


BAD_OPTIONS = [
    (["--corpus", "war-and-peace"], "invalid choice: 'war-and-peace'"),
    (["--tokenizer", "words"], "invalid choice: 'words'"),
    (["--n-emb", "30", "--n-head", "4"], "--n-head 4 must divide --n-emb 30"),
    (["--n-layer", "0"], "--n-layer: must be a positive integer, got '0'"),
    (["--batch-size", "-3"], "--batch-size: must be a positive integer, got '-3'"),
    (["--context-size", "ten"], "--context-size: must be a positive integer, got 'ten'"),
    (["--steps", "0"], "--steps: must be a positive integer, got '0'"),
    (["--lr", "0"], "--lr must be positive, got 0.0"),
    (["--lr", "nan"], "--lr: must be a finite non-negative number, got 'nan'"),
    (["--lr", "1e-3", "--min-lr", "1e-2"], "--min-lr 0.01 must not exceed --lr 0.001"),
    (["--dropout", "1.5"], "--dropout must lie in [0, 1), got 1.5"),
    (["--warmup-steps", "50", "--steps", "10"], "--warmup-steps 50 must not exceed --steps 10"),
    (["--tokenizer", "bpe", "--bpe-vocab", "100"], "--bpe-vocab must be at least 256 (the byte tokens), got 100"),
    (["--precision", "fp16"], "invalid choice: 'fp16'"),
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
    checkpoint = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=True)
    assert checkpoint["extra"]["trainer"] == "llm_course.train" and checkpoint["extra"]["step"] == 40
    assert not list(out.glob("*.tmp")), "no temporary files are left behind"
    model = checkpoint_model(out / "ckpt.pt")
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_resume_continues_exactly_where_the_run_stopped(tmp_path, capsys):
    # A constant learning rate (no warm-up, min-lr = lr) makes the schedule independent of --steps.
    constant = [*TINY, "--lr", "3e-3", "--min-lr", "3e-3", "--warmup-steps", "0", "--eval-interval", "6",
                "--log-interval", "3"]
    train.main([*constant, "--steps", "12", "--out", str(tmp_path / "straight")])
    train.main([*constant, "--steps", "6", "--out", str(tmp_path / "stopped")])
    train.main([*constant, "--steps", "12", "--out", str(tmp_path / "stopped"), "--resume"])
    capsys.readouterr()
    straight = checkpoint_model(tmp_path / "straight" / "ckpt.pt")
    resumed = checkpoint_model(tmp_path / "stopped" / "ckpt.pt")
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), f"{name} differs after resuming"
    log = json.loads((tmp_path / "stopped" / "log.json").read_text())
    assert [e["step"] for e in log["train"]] == [3, 6, 9, 12] and [e["step"] for e in log["val"]] == [6, 12]
    straight_log = json.loads((tmp_path / "straight" / "log.json").read_text())
    assert log["train"] == straight_log["train"]


def test_resume_refuses_missing_foreign_and_mismatched_checkpoints(tmp_path, capsys):
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

    train.main([*TINY, "--steps", "2", "--eval-interval", "2", "--out", str(out)])
    with pytest.raises(SystemExit):
        train.main([*TINY, "--n-emb", "32", "--steps", "4", "--out", str(out), "--resume"])
    assert "was trained with --n-emb 16, this run asks for 32" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.main([*TINY, "--steps", "2", "--out", str(out), "--resume"])
    assert "is at step 2, --steps is 2: nothing to train" in capsys.readouterr().err


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
    assert summary["mfu"] is None  # MFU is reported on GPUs only
    model = checkpoint_model(tmp_path / "run" / "ckpt.pt")
    assert all(p.dtype == torch.float32 for p in model.parameters()), "autocast keeps the parameters in fp32"


def test_bpe_tokenizer_is_trained_saved_and_reused(tmp_path, capsys):
    from llm_course.bpe import BPETokenizer

    out = tmp_path / "run"
    bpe = ["--tokenizer", "bpe", "--bpe-vocab", "270", "--steps", "2", "--eval-interval", "2"]
    train.main([*TINY, *bpe, "--out", str(out)])
    saved = out / "tokenizer.json"
    assert BPETokenizer.load(saved).n_vocab == 270
    assert "bpe tokens, n_vocab=270" in capsys.readouterr().out
    written = saved.stat().st_mtime_ns
    train.main([*TINY, *bpe[:-4], "--steps", "4", "--eval-interval", "2", "--out", str(out), "--resume"])
    assert saved.stat().st_mtime_ns == written, "the saved tokenizer is read back, not trained again"
    assert "for steps 3..4" in capsys.readouterr().out


def test_two_processes_under_torchrun_end_with_identical_parameters(tmp_path):
    digests = tmp_path / "digests"
    env = {**environment(), "LLM_COURSE_TRAIN_DIGESTS": str(digests)}
    result = run_module(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "llm_course.train",
                         *TINY, "--steps", "6", "--eval-interval", "3", "--log-interval", "3", "--out", "run"],
                        cwd=tmp_path, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("validation loss") == 1, "only rank 0 prints"
    rank0, rank1 = (digests / "rank0.txt").read_text(), (digests / "rank1.txt").read_text()
    assert rank0 == rank1, "DDP keeps the copies identical"
    assert train.parameter_digest(checkpoint_model(tmp_path / "run" / "ckpt.pt")) == rank0.strip()
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert log["world_size"] == 2 and [e["step"] for e in log["val"]] == [3, 6]
    states = torch.load(tmp_path / "run" / "ckpt.pt", weights_only=True)["extra"]["rank_generator_states"]
    assert len(states) == 2 and not torch.equal(states[0], states[1]), "each rank draws its own batches"


# --- helpers -----------------------------------------------------------------------------------------------


def test_flops_per_token_by_hand():
    # 6N + 12 L H Q T = 6 * 1000 + 12 * 2 * 4 * 16 * 32
    assert train.flops_per_token(1000, n_layer=2, n_head=4, n_emb=64, context_size=32) == 6000 + 49152
    # GPT-2 small: N = 12 blocks of 12 n_emb^2 weights + the tied output layer 50257 x 768 = 123,532,032;
    # 6N = 741,192,192 and 12 L H Q T = 12 * 12 * 12 * 64 * 1024 = 113,246,208
    n = 12 * 12 * 768**2 + 50257 * 768
    assert train.flops_per_token(n, 12, 12, 768, 1024) == 741_192_192 + 113_246_208


def test_matmul_parameters_counts_tied_output_layers_once_and_skips_lookups():
    embedding, linear = torch.nn.Embedding(10, 4), torch.nn.Linear(4, 10, bias=False)
    untied = torch.nn.ModuleDict({"emb": embedding, "position": torch.nn.Embedding(8, 4), "head": linear})
    assert train.matmul_parameters(untied) == 40
    tied = torch.nn.ModuleDict({"emb": torch.nn.Embedding(10, 4), "head": torch.nn.Linear(4, 10, bias=False)})
    tied["head"].weight = tied["emb"].weight
    assert train.matmul_parameters(tied) == 40


def test_peak_table_prefers_specific_names():
    assert train.peak_bf16_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert train.peak_bf16_flops("NVIDIA H100 PCIe") == 756e12
    assert train.peak_bf16_flops("NVIDIA L40S") == 362e12 and train.peak_bf16_flops("NVIDIA L4") == 121e12
    assert train.peak_bf16_flops("NVIDIA A100-SXM4-80GB") == 312e12 and train.peak_bf16_flops("a CPU") is None


def test_precision_and_ranks():
    assert train.resolve_precision("fp32", "cuda") is None and train.resolve_precision("bf16", "cpu") is torch.bfloat16
    assert train.resolve_precision("auto", "cpu") is None
    ranks = train.distributed_from_environment({"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2"})
    assert ranks.enabled and not ranks.is_main
    assert not train.distributed_from_environment({}).enabled


def test_type_functions_name_the_bad_value():
    with pytest.raises(argparse.ArgumentTypeError, match="'-1'"):
        train.positive_int("-1")
    with pytest.raises(argparse.ArgumentTypeError, match="'inf'"):
        train.non_negative_float("inf")
    assert train.non_negative_int("0") == 0 and train.non_negative_float("1e-3") == 1e-3


def test_json_is_written_atomically(tmp_path):
    path = tmp_path / "a" / "log.json"
    train.write_json_atomic(path, {"x": [1, 2]})
    train.write_json_atomic(path, {"x": [3]})
    assert json.loads(path.read_text()) == {"x": [3]} and [p.name for p in path.parent.iterdir()] == ["log.json"]
