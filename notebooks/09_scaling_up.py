# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Scaling up
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/09_scaling_up.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/09_scaling_up.ipynb)
#
# Notebook 07 trained a GPT inside a notebook. Real training runs are programs: started from a
# shell, on a machine with one or more GPUs, sometimes on several machines at once, for hours,
# writing checkpoints they can resume from. This notebook turns the training loop into such a
# program, `python -m llm_course.train`, and explains the four things that change when we scale up:
#
# 1. **options instead of edited cells**: every setting is a command-line option with a default;
# 2. **the device and the number format**: a GPU, 16-bit `bfloat16` arithmetic, a compiled model;
# 3. **many processes**: `torchrun` starts one process per GPU (or CPU core) and PyTorch's
#    `DistributedDataParallel` keeps their copies of the model identical;
# 4. **measuring speed**: tokens per second, and the fraction of the GPU's peak arithmetic we use.
#
# Nothing here changes *what* is learned: the model is notebook 06's GPT, the loss is notebook 07's
# cross-entropy $-\log\alpha_{s_{t+1}}$ averaged over positions and the batch, and the optimiser,
# schedule, evaluation and checkpoints are `llm_course.training`'s. The program only arranges them.

# %% jupyter={"source_hidden": true}
# Colab only: install the course package (Colab's own PyTorch is kept). Elsewhere this does nothing.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("llm_course") is None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "llm-course @ git+https://github.com/llm-course/llm-course"],
        check=True,
    )

# %%
#| default_exp train

# %% [markdown]
# ## The program's module
#
# The cells marked `#| export` below become `llm_course/train.py`. Python runs a module as a
# program with `python -m llm_course.train`; the last cell of the module calls `main()` when it
# is run that way, and tests call `main(["--steps", "4", ...])` directly.

# %%
#| export
"""The course's training loop as a command-line program, for one process or many (`torchrun`).

`python -m llm_course.train` trains a GPT (`llm_course.gpt`) on a corpus (`llm_course.data`) with
the loss, learning-rate schedule, evaluation and checkpoints of `llm_course.training`. Every
setting is an option with a default (`--help` lists them), so the command alone trains a small
character-level GPT on Tiny Shakespeare. Options are checked before any work starts.

Started by `torchrun --nproc_per_node=N` it trains data-parallel with PyTorch's
`DistributedDataParallel` (NCCL on GPUs, gloo on CPUs), initialised from the environment
variables torchrun sets (so `--nnodes` and rendezvous options work unchanged). Each process (rank)
draws its own batches from a generator seeded with `seed + rank`; `--batch-size` is per process.
Only rank 0 prints, evaluates and writes files: `ckpt.pt` (atomically, by
`training.save_checkpoint`), `log.json` (losses; temporary file + `os.replace`) and, for BPE,
`tokenizer.json`. A run ends by printing the validation loss, tokens per second and, on a GPU,
the model FLOPs utilisation (MFU) against the GPU's peak dense bf16 throughput.

`--resume` continues from `<out>/ckpt.pt` (or `--resume PATH`; `--resume auto` resumes when that
file exists and starts afresh otherwise, for torchrun's automatic restarts). The model and
tokenizer options must equal the checkpoint's. For debugging, the environment variable
`LLM_COURSE_TRAIN_DIGESTS=<folder>` makes every rank write the SHA-256 of its final parameters
to `<folder>/rank<r>.txt`.

Left out on purpose: gradient accumulation, sharded training (FSDP, tensor and pipeline
parallelism), data loaders with worker processes, experiment trackers, and sampling (see
`llm_course.sampling`).
"""

from __future__ import annotations

# %%
#| export
import argparse
import contextlib
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from llm_course.bpe import BPETokenizer
from llm_course.data import CORPORA, CorpusError, get_batch, load_text, train_val_split
from llm_course.environment import best_device
from llm_course.gpt import GPT, GPTConfig
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer
from llm_course.training import cross_entropy, evaluate, learning_rate, load_checkpoint, make_optimizer, save_checkpoint

# %% [markdown]
# ## Options instead of edited cells
#
# In a notebook we change a number in a cell and run it again. A program takes its settings as
# options: `--n-layer 6` instead of `n_layer = 6`. Python's `argparse` reads them, converts them
# to numbers, rejects unknown ones and writes `--help` for us from the help text of each option.
# Every option has a default, chosen so that the bare command trains something sensible on a
# laptop in a few minutes.
#
# A value that is the wrong type or out of range should stop the program at once, with a message
# that names it, not after ten minutes of loading data or deep inside a matrix multiplication.
# Small *type functions* do the conversion and the range check in one place:

# %%
#| export
def _whole_number(text: str, minimum: int, description: str) -> int:
    """Parse `text` as a whole number >= `minimum` for argparse, or raise its error naming `text`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a {description}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be a {description}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1.

    >>> positive_int("8")
    8
    >>> positive_int("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be a positive integer, got '0'
    """
    return _whole_number(text, 1, "positive integer")


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number >= 0. `non_negative_int("0") -> 0`."""
    return _whole_number(text, 0, "non-negative integer")


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number >= 0. `non_negative_float("1e-3") -> 0.001`."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite non-negative number, got {text!r}")
    return value


# %% [markdown]
# The parser itself is a list of options, grouped as `--help` shows them. Note `--resume`: on its
# own it means "the checkpoint in the output folder", with a path it means that file, and with
# `auto` it resumes when a checkpoint exists and starts afresh when none does, which is what a
# job that may be restarted automatically wants.

# %%
#| export
def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m llm_course.train`: every option has a default and a help text."""
    parser = argparse.ArgumentParser(
        prog="python -m llm_course.train",
        description="Train a GPT on a corpus, in one process or data-parallel under torchrun "
        "(torchrun --nproc_per_node=N -m llm_course.train ...). With no options: a small "
        "character-level GPT on Tiny Shakespeare, on the best device available.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument("--corpus", default="tiny-shakespeare", choices=sorted(CORPORA), help="the text to train on")
    data.add_argument("--tokenizer", default="char", choices=["char", "bpe"],
                      help="character-level, or byte-level BPE trained on the corpus (saved as OUT/tokenizer.json)")
    data.add_argument("--bpe-vocab", type=positive_int, default=512,
                      help="n_vocab of the BPE tokenizer (256 bytes + merges); only with --tokenizer bpe")

    model = parser.add_argument_group("model")
    model.add_argument("--n-layer", type=positive_int, default=4, help="number of transformer blocks")
    model.add_argument("--n-head", type=positive_int, default=4, help="attention heads per block; must divide --n-emb")
    model.add_argument("--n-emb", type=positive_int, default=128, help="embedding size n_emb")
    model.add_argument("--context-size", type=positive_int, default=128, help="context size T (tokens)")
    model.add_argument("--dropout", type=non_negative_float, default=0.0, help="dropout probability, in [0, 1)")

    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--batch-size", type=positive_int, default=32,
                       help="sequences per step and per process (the global batch is this times the number of processes)")
    optim.add_argument("--steps", type=positive_int, default=2000, help="total optimiser steps (a resumed run continues up to it)")
    optim.add_argument("--lr", type=non_negative_float, default=1e-3, help="peak learning rate (after warm-up)")
    optim.add_argument("--min-lr", type=non_negative_float, default=1e-4, help="learning rate at the end of the cosine decay")
    optim.add_argument("--warmup-steps", type=non_negative_int, default=None,
                       help="steps of linear warm-up from 0 to --lr (default: 100, or a tenth of --steps if that is less)")
    optim.add_argument("--weight-decay", type=non_negative_float, default=0.1, help="AdamW weight decay (matrices only)")
    optim.add_argument("--grad-clip", type=non_negative_float, default=1.0,
                       help="clip the gradient's global norm to this; 0 turns clipping off")

    run = parser.add_argument_group("evaluation, logging and checkpoints")
    run.add_argument("--eval-interval", type=positive_int, default=250,
                     help="evaluate, log and write a checkpoint every this many steps (and after the last)")
    run.add_argument("--eval-batches", type=positive_int, default=20, help="validation batches per evaluation")
    run.add_argument("--log-interval", type=positive_int, default=10, help="print and log the training loss every this many steps")
    run.add_argument("--out", default="runs/train", help="output folder for ckpt.pt, log.json (and tokenizer.json)")
    run.add_argument("--resume", nargs="?", const="last", default=None, metavar="CHECKPOINT",
                     help="continue a run: alone, from OUT/ckpt.pt; with a path, from that file; "
                     "'auto': from OUT/ckpt.pt if it exists, else start afresh. Model and tokenizer options must match it")
    run.add_argument("--seed", type=non_negative_int, default=1337, help="random seed (rank r draws batches with seed + r)")

    system = parser.add_argument_group("device and speed")
    system.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"],
                        help="auto picks CUDA, then Apple MPS, then the CPU; under torchrun each rank takes cuda:LOCAL_RANK")
    system.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                        help="bf16: autocast matrix products to bfloat16; auto: bf16 on a GPU that supports it, else fp32")
    system.add_argument("--compile", action="store_true", help="compile the model with torch.compile (slow start, faster steps)")
    return parser


# %% [markdown]
# `argparse` checks each option on its own. Some rules involve two options (the heads must divide
# the embedding size; the minimum learning rate must not exceed the peak) or the machine (CUDA
# must exist to be asked for). `check_args` applies them and stops with `parser.error`, which
# prints the usage and one line naming the problem, and exits with status 2.

# %%
#| export
def check_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Stop with `parser.error` (exit status 2, one line on stderr) on any bad combination of options."""
    if args.n_emb % args.n_head:
        parser.error(f"--n-head {args.n_head} must divide --n-emb {args.n_emb}")
    if not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout must lie in [0, 1), got {args.dropout}")
    if args.lr <= 0:
        parser.error(f"--lr must be positive, got {args.lr}")
    if args.min_lr > args.lr:
        parser.error(f"--min-lr {args.min_lr} must not exceed --lr {args.lr}")
    if args.warmup_steps is None:
        args.warmup_steps = min(100, args.steps // 10)
    if args.warmup_steps > args.steps:
        parser.error(f"--warmup-steps {args.warmup_steps} must not exceed --steps {args.steps}")
    if args.tokenizer == "bpe" and args.bpe_vocab < 256:
        parser.error(f"--bpe-vocab must be at least 256 (the byte tokens), got {args.bpe_vocab}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA GPU is available here (try --device auto)")
    if args.device == "mps" and not torch.backends.mps.is_available():
        parser.error("--device mps: Apple's MPS backend is not available here (try --device auto)")
    device = resolve_device(args.device)
    if args.precision == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        parser.error(f"--precision bf16: this GPU ({torch.cuda.get_device_name()}) has no bfloat16; use fp32")


# %% [markdown]
# ## The device and the number format
#
# `--device auto` asks `llm_course.environment.best_device()`: CUDA (an NVIDIA GPU), then MPS
# (an Apple GPU), then the CPU. Under `torchrun` on a GPU machine, each process takes its own GPU,
# `cuda:LOCAL_RANK`, where `LOCAL_RANK` $\in\{0,\dots,n_{\text{proc}}-1\}$ numbers the processes of
# one machine.
#
# **bfloat16.** A 32-bit float has 8 exponent bits and 23 mantissa bits; `bfloat16` keeps the 8
# exponent bits (so the same range, $\approx 10^{\pm38}$, and no overflow trouble) but only 7
# mantissa bits (about 3 significant digits). GPUs multiply bf16 matrices many times faster than
# fp32 ones: an H100 does about 989 TFLOP/s in dense bf16 against 67 in fp32. *Automatic mixed
# precision* (`torch.autocast`) runs the matrix products in bf16 and keeps the rest (the
# parameters, the optimiser's state, the softmax and the loss) in fp32, which is accurate enough
# for training. With `--precision auto` the trainer uses bf16 on a GPU that has it and fp32
# elsewhere: on a CPU, bf16 rarely pays.
#
# **Compilation.** `torch.compile` traces the model once and generates fused kernels (one pass
# over memory for what eager PyTorch does in several). The first step takes a minute; the later
# ones are faster, typically 1.3 to 2 times on a GPU. It is off by default (`--compile` turns it on).

# %%
#| export
def resolve_device(name: str) -> str:
    """The device kind for `--device`: `"auto"` becomes `best_device()` ("cuda", "mps" or "cpu")."""
    return best_device() if name == "auto" else name


def resolve_precision(precision: str, device: str) -> torch.dtype | None:
    """The autocast dtype for `--precision` on `device` (a kind: "cuda", "mps", "cpu"), or None for fp32.

    >>> resolve_precision("auto", "cpu") is None, resolve_precision("bf16", "cpu")
    (True, torch.bfloat16)
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    return torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else None


def autocast(device: str, dtype: torch.dtype | None):
    """A context that runs matrix products in `dtype` on `device` (a kind), or does nothing for fp32."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=dtype)


# %% [markdown]
# ## Many processes: data parallelism
#
# One step computes the gradient of the loss averaged over a batch of $B$ sequences. With $n$
# processes (*ranks*), each holding a full copy of the model, each rank computes the gradient on
# its *own* $B$ sequences; averaging the $n$ gradients gives exactly the gradient of the loss
# averaged over all $nB$ sequences. If every rank starts from the same parameters and applies
# the same averaged gradient, the copies stay identical, step after step.
#
# PyTorch's `DistributedDataParallel` (DDP) does this: at start it copies rank 0's parameters to
# every rank, and during `backward()` it averages the gradients across ranks with an
# **all-reduce**, bucket by bucket, while the rest of the backward pass still runs. Our part is to
# give each rank different batches (a generator seeded with `seed + rank`) and to let only rank 0
# print and write files.
#
# `torchrun` starts the processes and tells each who it is through environment variables:
# `RANK` (0 to $n-1$ across all machines), `LOCAL_RANK` (on this machine), `WORLD_SIZE` ($n$),
# and `MASTER_ADDR`/`MASTER_PORT`, where rank 0 waits for the others. `init_process_group` with
# no address reads them (the `env://` method), so the same program runs on one machine or many.
# The *backend* moves the tensors: NCCL between NVIDIA GPUs (over NVLink or InfiniBand), gloo
# between CPUs (over TCP).

# %%
#| export
@dataclass(frozen=True)
class Distributed:
    """Who this process is in a data-parallel run (one process: rank 0 of 1)."""

    rank: int = 0  # 0 .. world_size - 1 across every machine
    local_rank: int = 0  # 0 .. (processes on this machine) - 1
    world_size: int = 1  # the number of processes

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 prints, evaluates and writes files."""
        return self.rank == 0


def distributed_from_environment(environ=os.environ) -> Distributed:
    """Read `RANK`, `LOCAL_RANK` and `WORLD_SIZE` (set by torchrun); absent means one process.

    >>> distributed_from_environment({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4"})
    Distributed(rank=3, local_rank=1, world_size=4)
    >>> distributed_from_environment({})
    Distributed(rank=0, local_rank=0, world_size=1)
    """
    return Distributed(
        rank=int(environ.get("RANK", 0)),
        local_rank=int(environ.get("LOCAL_RANK", 0)),
        world_size=int(environ.get("WORLD_SIZE", 1)),
    )


def start_distributed(ranks: Distributed, device: str) -> str:
    """Join the process group (NCCL on CUDA, gloo otherwise) when there are several ranks; return this rank's device."""
    if device == "cuda":
        device = f"cuda:{ranks.local_rank}"
        torch.cuda.set_device(device)
    if ranks.enabled:
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend=backend, init_method="env://",
                                device_id=torch.device(device) if backend == "nccl" else None)
    return device


def mean_over_ranks(value: torch.Tensor, ranks: Distributed) -> torch.Tensor:
    """The mean of a scalar tensor over every rank (all ranks must call it)."""
    if not ranks.enabled:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / ranks.world_size


# %% [markdown]
# ## Measuring speed: tokens per second and MFU
#
# The number that matters is **tokens per second**: training tokens processed per second, by all
# ranks together. To know how good a number is, compare the arithmetic it implies with what the
# hardware can do. Training a transformer with $N$ parameters (in its matrices) costs about $6N$
# floating-point operations per token ($2N$ for the forward pass: a multiply and an add per
# weight; twice that for the backward pass), plus attention's $12\,L\,H\,Q\,T$, where $L$ is the
# number of layers, $H$ the heads, $Q=n_{\text{emb}}/H$ the head size and $T$ the context size
# (the PaLM paper's appendix B, also nanoGPT's). **Model FLOPs utilisation** is
#
# $$\text{MFU}=\frac{\text{tokens/s per GPU}\times(6N+12LHQT)}{\text{peak FLOP/s of the GPU}}.$$
#
# Good GPT training reaches 40-55% on an H100. Position embeddings are looked up, not multiplied,
# so $N$ leaves them out; a token-embedding table counts only when it is also the output layer
# (tied weights).

# %%
#| export
# Peak dense (not sparse) bf16 tensor-core throughput, in TFLOP/s, from NVIDIA's data sheets.
# The first name found in torch.cuda.get_device_name() wins, so specific names come first.
PEAK_BF16_TFLOPS: dict[str, float] = {
    "GH200": 989.0,
    "H200": 989.0,
    "H100 PCIe": 756.0,
    "H100 NVL": 835.0,
    "H100": 989.0,  # SXM
    "H800": 989.0,
    "B200": 2250.0,
    "A100": 312.0,
    "A800": 312.0,
    "L40S": 362.0,
    "L40": 181.0,
    "L4": 121.0,
    "A10G": 70.0,
    "A10": 125.0,
    "RTX 4090": 165.0,
    "RTX 3090": 71.0,
    "RTX A6000": 155.0,
}


def peak_bf16_flops(device_name: str) -> float | None:
    """Peak dense bf16 FLOP/s of a GPU named `device_name`, or None for one not in the table.

    >>> peak_bf16_flops("NVIDIA H100 80GB HBM3") / 1e12, peak_bf16_flops("NVIDIA H100 PCIe") / 1e12
    (989.0, 756.0)
    >>> peak_bf16_flops("Intel CPU") is None
    True
    """
    for name, tflops in PEAK_BF16_TFLOPS.items():
        if name in device_name:
            return tflops * 1e12
    return None


def matmul_parameters(model: torch.nn.Module) -> int:
    """Parameters that take part in matrix products: all, minus embedding tables that are only looked up."""
    looked_up = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters()}
    multiplied = {id(p) for m in model.modules() if isinstance(m, torch.nn.Linear) for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in looked_up or id(p) in multiplied)


def flops_per_token(n_params: int, n_layer: int, n_head: int, n_emb: int, context_size: int) -> int:
    """Training FLOPs per token, the PaLM way: 6N + 12 L H Q T with Q = n_emb / n_head.

    >>> flops_per_token(1000, n_layer=2, n_head=4, n_emb=64, context_size=32)
    55152
    """
    head_size = n_emb // n_head
    return 6 * n_params + 12 * n_layer * n_head * head_size * context_size


# %% [markdown]
# ## Checkpoints and the log
#
# A long run must survive being stopped. Every `--eval-interval` steps rank 0 writes
# `ckpt.pt` with `llm_course.training.save_checkpoint` (model, optimiser, step and the random
# state, written to a temporary file and renamed, so a crash never leaves half a checkpoint) and
# `log.json`, the losses so far, in the same atomic way. In a data-parallel run each rank has its
# own batch generator, so the checkpoint also keeps every rank's generator state: a resumed run
# draws exactly the batches the uninterrupted run would have drawn.
#
# The checkpoint's `extra` record says which program wrote it and with which model and tokenizer
# options; `--resume` refuses a file that is missing, is not a checkpoint of this program, or was
# trained with other options, and says why, before any training starts.

# %%
#| export
TRAINER = "llm_course.train"  # written into every checkpoint, to recognise our own
MODEL_OPTIONS = ("corpus", "tokenizer", "bpe_vocab", "n_layer", "n_head", "n_emb", "context_size")


def write_json_atomic(path: str | os.PathLike, data) -> None:
    """Write `data` as JSON to `path` so that readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(data, file, indent=1)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def model_options(args: argparse.Namespace) -> dict:
    """The options that decide the model's shape and its token indices (must match to resume)."""
    options = {name: getattr(args, name) for name in MODEL_OPTIONS}
    if args.tokenizer != "bpe":
        options.pop("bpe_vocab")
    return options


def checkpoint_path(args: argparse.Namespace) -> Path | None:
    """The checkpoint `--resume` names, or None when the run starts afresh."""
    if args.resume is None:
        return None
    if args.resume in ("last", "auto"):
        path = Path(args.out) / "ckpt.pt"
        return path if args.resume == "last" or path.exists() else None
    return Path(args.resume)


def read_checkpoint_record(path: Path, args: argparse.Namespace) -> dict:
    """The `extra` record of the checkpoint at `path`; raise ValueError if it cannot resume this run."""
    if not path.is_file():
        raise ValueError(f"--resume: no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a file torch cannot read, or one holding arbitrary objects
        raise ValueError(f"--resume: {path} is not a checkpoint (torch.load failed: {type(error).__name__})") from None
    record = checkpoint.get("extra") if isinstance(checkpoint, dict) else None
    if not isinstance(record, dict) or record.get("trainer") != TRAINER:
        raise ValueError(f"--resume: {path} is not a checkpoint written by {TRAINER}")
    expected = model_options(args)
    for name, value in expected.items():
        if record["model_options"].get(name) != value:
            theirs = record["model_options"].get(name)
            raise ValueError(f"--resume: {path} was trained with --{name.replace('_', '-')} {theirs}, "
                             f"this run asks for {value}")
    if record["step"] >= args.steps:
        raise ValueError(f"--resume: {path} is at step {record['step']}, --steps is {args.steps}: "
                         "nothing to train (raise --steps)")
    return record


def parameter_digest(model: torch.nn.Module) -> str:
    """SHA-256 of a model's parameters and buffers (names, shapes and bytes), to compare copies."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


# %% [markdown]
# ## The tokens
#
# The corpus becomes token indices once, before training. A character tokenizer is rebuilt from
# the text in a moment; a BPE tokenizer takes a while to train, so it is saved in the output
# folder and read back on later runs (and by `--resume`).

# %%
#| export
def load_tokens(args: argparse.Namespace, is_main: bool = True):
    """The tokenizer and the corpus as a 1-D tensor of token indices."""
    text = load_text(args.corpus)
    if args.tokenizer == "char":
        tokenizer = CharTokenizer.from_text(text)
    else:
        saved = Path(args.out) / "tokenizer.json"
        tokenizer = BPETokenizer.load(saved) if saved.is_file() else None
        if tokenizer is None or tokenizer.n_vocab != args.bpe_vocab:
            tokenizer = BPETokenizer.train(text, args.bpe_vocab)
            if is_main:
                saved.parent.mkdir(parents=True, exist_ok=True)
                tokenizer.save(saved)
    ids = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    return tokenizer, ids


# %% [markdown]
# ## The program
#
# `main` is notebook 07's loop with the pieces above around it. In order: read and check the
# options, load the tokens and build the model (both can fail on bad input, so they come before
# any process group or training), join the other ranks, wrap the model in DDP, then step. The
# learning rate follows `training.learning_rate`: a linear warm-up to `--lr`, then a cosine decay
# to `--min-lr` at `--steps`.
#
# The clock for tokens per second starts after the first step of the run (which pays for
# compilation and memory allocation) and stops for evaluations and checkpoints. On a GPU,
# `torch.cuda.synchronize()` waits for queued work before each reading of the clock: GPU calls
# return before the GPU has finished.

# %%
#| export
def main(argv: list[str] | None = None) -> dict:
    """Run `python -m llm_course.train` with `argv` (default: the command line); return a summary."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(args, parser)
    ranks = distributed_from_environment()
    device = resolve_device(args.device)
    amp_dtype = resolve_precision(args.precision, device)

    resume_from = checkpoint_path(args)
    record = None
    if resume_from is not None:
        try:
            record = read_checkpoint_record(resume_from, args)
        except ValueError as error:
            parser.error(str(error))
    try:
        tokenizer, ids = load_tokens(args, is_main=ranks.is_main)
    except (CorpusError, ValueError) as error:
        parser.error(f"--corpus {args.corpus}: {error}")
    train_ids, val_ids = train_val_split(ids)
    if len(val_ids) <= args.context_size:
        parser.error(f"--context-size {args.context_size} is longer than the validation text ({len(val_ids)} tokens)")
    try:
        config = GPTConfig(n_vocab=tokenizer.n_vocab, context_size=args.context_size, n_emb=args.n_emb,
                           n_layer=args.n_layer, n_head=args.n_head, dropout=args.dropout)
    except (ValueError, TypeError) as error:
        parser.error(str(error))

    # From here on the options are known to be good: set up the run.
    device = start_distributed(ranks, device)
    device_kind = torch.device(device).type
    try:
        return _train(args, ranks, device, device_kind, amp_dtype, config, train_ids, val_ids, resume_from, record)
    finally:
        if ranks.enabled:
            dist.destroy_process_group()


def _train(args, ranks, device, device_kind, amp_dtype, config, train_ids, val_ids, resume_from, record) -> dict:
    """The training loop of `main`, once the options are checked and the process group is joined."""
    out = Path(args.out)
    if device_kind == "cuda":
        torch.set_float32_matmul_precision("high")  # what stays fp32 may use TF32 tensor cores
    set_seed(args.seed)  # the same initial parameters on every rank (DDP also copies rank 0's)
    model = GPT(config).to(device)
    optimizer = make_optimizer(model, lr=args.lr, weight_decay=args.weight_decay)
    generator = torch.Generator().manual_seed(args.seed + ranks.rank)  # each rank its own batches
    log = {"options": vars(args), "world_size": ranks.world_size, "train": [], "val": []}
    start_step = 0
    if resume_from is not None:
        load_checkpoint(resume_from, model=model, optimizer=optimizer, generator=generator)
        start_step = record["step"]
        states = record.get("rank_generator_states", [])
        if len(states) == ranks.world_size:
            generator.set_state(states[ranks.rank])
        else:  # another number of processes: fresh, distinct streams
            generator.manual_seed(args.seed + 1000 * start_step + ranks.rank)
        log_file = out / "log.json"
        if log_file.is_file():
            previous = json.loads(log_file.read_text())
            log["train"] = [e for e in previous.get("train", []) if e["step"] <= start_step]
            log["val"] = [e for e in previous.get("val", []) if e["step"] <= start_step]

    trained = torch.compile(model) if args.compile else model
    if ranks.enabled:
        trained = DistributedDataParallel(trained, device_ids=[ranks.local_rank] if device_kind == "cuda" else None)

    def synchronize():
        if device_kind == "cuda":
            torch.cuda.synchronize()

    def evaluate_now() -> float:
        with autocast(device_kind, amp_dtype):
            return evaluate(model, val_ids, batch_size=args.batch_size, context_size=args.context_size,
                            n_batches=args.eval_batches, generator=torch.Generator().manual_seed(args.seed),
                            device=device)

    def save(step: int) -> None:
        states = [generator.get_state()]
        if ranks.enabled:
            states = [None] * ranks.world_size
            dist.all_gather_object(states, generator.get_state())
        if ranks.is_main:
            extra = {"trainer": TRAINER, "step": step, "model_options": model_options(args),
                     "world_size": ranks.world_size, "rank_generator_states": states}
            save_checkpoint(out / "ckpt.pt", model=model, optimizer=optimizer, step=step, config=config,
                            generator=generator, extra=extra)
            write_json_atomic(out / "log.json", log)

    if ranks.is_main:
        out.mkdir(parents=True, exist_ok=True)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"training a GPT of {n_params:,} parameters on {args.corpus} ({args.tokenizer} tokens, "
              f"n_vocab={config.n_vocab}) for steps {start_step + 1}..{args.steps}: {ranks.world_size} "
              f"process(es) on {device_kind}, {'bf16' if amp_dtype else 'fp32'}"
              f"{', compiled' if args.compile else ''}", flush=True)
    progress = tqdm(total=args.steps, initial=start_step, unit="step") if ranks.is_main and sys.stdout.isatty() else None

    def say(line: str) -> None:  # only rank 0 speaks
        if progress is not None:
            progress.write(line)
        elif ranks.is_main:
            print(line, flush=True)

    tokens_per_step = args.batch_size * args.context_size * ranks.world_size
    timed_seconds, timed_steps, clock = 0.0, 0, None
    val_loss = float("nan")
    model.train()
    for step in range(start_step, args.steps):  # `step` updates are done; this one makes it step + 1
        lr = learning_rate(step, max_lr=args.lr, warmup_steps=args.warmup_steps, total_steps=args.steps,
                           min_lr=args.min_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(train_ids, args.batch_size, args.context_size, generator=generator, device=device)  # (B, T)
        with autocast(device_kind, amp_dtype):
            logits = trained(x)  # (B, T, V)
            loss = cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # under DDP: gradients averaged over ranks here
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        done = step + 1

        if clock is None:  # the first step of this run warms up; the clock starts after it
            synchronize()
            clock = time.perf_counter()
        else:
            timed_steps += 1
        if done % args.log_interval == 0 or done == args.steps:
            mean_loss = mean_over_ranks(loss.detach().float(), ranks).item()
            log["train"].append({"step": done, "loss": round(mean_loss, 5), "lr": lr})
            if progress is not None:
                progress.set_postfix(loss=f"{mean_loss:.4f}")
            else:
                say(f"step {done:>6}/{args.steps} | train loss {mean_loss:.4f} | lr {lr:.2e}")
        if progress is not None:
            progress.update(1)
        if done % args.eval_interval == 0 or done == args.steps:
            synchronize()
            timed_seconds += time.perf_counter() - clock
            if ranks.is_main:
                val_loss = evaluate_now()
                log["val"].append({"step": done, "loss": round(val_loss, 5)})
                say(f"step {done:>6}/{args.steps} | val loss {val_loss:.4f}")
            save(done)
            synchronize()
            clock = time.perf_counter()
    if progress is not None:
        progress.close()

    tokens_per_second = timed_steps * tokens_per_step / timed_seconds if timed_seconds > 0 else float("nan")
    summary = {"steps": args.steps, "val_loss": val_loss, "tokens_per_second": tokens_per_second,
               "world_size": ranks.world_size, "device": device_kind, "mfu": None}
    n_flops = flops_per_token(matmul_parameters(model), config.n_layer, config.n_head, config.n_emb,
                              config.context_size)
    if device_kind == "cuda":
        peak = peak_bf16_flops(torch.cuda.get_device_name())
        if peak is not None:
            summary["mfu"] = tokens_per_second / ranks.world_size * n_flops / peak
    digests = os.environ.get("LLM_COURSE_TRAIN_DIGESTS")
    if digests:
        Path(digests).mkdir(parents=True, exist_ok=True)
        (Path(digests) / f"rank{ranks.rank}.txt").write_text(parameter_digest(model) + "\n")
    if ranks.is_main:
        log["summary"] = summary
        write_json_atomic(out / "log.json", log)
        print(f"validation loss {val_loss:.4f} after {args.steps} steps")
        print(f"throughput: {tokens_per_second:,.0f} tokens/s ({ranks.world_size} process(es) on {device_kind}, "
              f"{'bf16' if amp_dtype else 'fp32'}; {n_flops / 1e6:.2f} MFLOP per token)")
        if summary["mfu"] is not None:
            print(f"MFU: {100 * summary['mfu']:.1f}% of the {torch.cuda.get_device_name()}'s "
                  f"{peak / 1e12:.0f} TFLOP/s dense bf16 peak")
        elif device_kind == "cuda":
            print(f"MFU: unknown peak for {torch.cuda.get_device_name()} (add it to PEAK_BF16_TFLOPS)")
    return summary


if __name__ == "__main__" and "ipykernel" not in sys.modules:  # `python -m llm_course.train`, not this notebook
    main()

# %% [markdown]
# ## Running the program
#
# A notebook can run the program like any shell would, with `subprocess`; `sys.executable` is
# this kernel's Python, so the program sees the same packages. A tiny model, a short context and
# 60 steps take well under a minute on a laptop CPU. `--out` puts the checkpoint and the log under
# `runs/`.

# %%
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt

from llm_course.reproducibility import set_seed

set_seed(1337)
os.makedirs("runs", exist_ok=True)
environment = {**os.environ, "OMP_NUM_THREADS": "2"}
small = ["--n-layer", "2", "--n-head", "2", "--n-emb", "64", "--context-size", "64", "--batch-size", "16",
         "--lr", "3e-3", "--warmup-steps", "5", "--eval-batches", "4", "--seed", "1337", "--device", "cpu"]
first_run = [sys.executable, "-m", "llm_course.train", *small, "--steps", "60", "--eval-interval", "20",
             "--log-interval", "5", "--out", "runs/09_small"]
print(" ".join(first_run[1:]))

# %% tags=["nbval-ignore-output"]
result = subprocess.run(first_run, env=environment, capture_output=True, text=True, timeout=600)
print(result.stdout + result.stderr)
assert result.returncode == 0

# %% [markdown]
# The program printed its progress as plain lines because its output goes to a pipe, not a
# terminal (in a terminal it shows a progress bar). Its log is a small JSON file:

# %%
log = json.loads(Path("runs/09_small/log.json").read_text())
print(sorted(log), "world size", log["world_size"])
print("training-loss steps:", [entry["step"] for entry in log["train"]])
print("validation steps:   ", [entry["step"] for entry in log["val"]])
assert [entry["step"] for entry in log["train"]] == list(range(5, 61, 5))
assert [entry["step"] for entry in log["val"]] == [20, 40, 60]
assert log["val"][-1]["loss"] < log["val"][0]["loss"] and log["train"][-1]["loss"] < log["train"][0]["loss"] - 0.5

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot([e["step"] for e in log["train"]], [e["loss"] for e in log["train"]], label="training batches (every 5 steps)")
ax.plot([e["step"] for e in log["val"]], [e["loss"] for e in log["val"]], "o-", label="validation")
ax.axhline(math.log(65), color="grey", linestyle=":", label=r"$\ln n_{\mathrm{vocab}}$ (uniform guess)")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy (nats per token)")
ax.set_title("python -m llm_course.train: the loss falls from ln 65 as in notebook 07")
ax.legend()
plt.show()

# %% [markdown]
# ### Resuming
#
# The run stopped at step 60 with a checkpoint. Running the same command with a larger `--steps`
# and `--resume` continues from step 61: same parameters, same optimiser state, the batches the
# generator would have drawn next, and the learning-rate schedule recomputed for the new total.

# %% tags=["nbval-ignore-output"]
resumed = subprocess.run([*first_run[:first_run.index("--steps")], "--steps", "80", "--eval-interval", "20",
                          "--log-interval", "5", "--out", "runs/09_small", "--resume"],
                         env=environment, capture_output=True, text=True, timeout=600)
print(resumed.stdout + resumed.stderr)
assert resumed.returncode == 0

# %%
log = json.loads(Path("runs/09_small/log.json").read_text())
print("validation steps:", [entry["step"] for entry in log["val"]])
assert [entry["step"] for entry in log["val"]] == [20, 40, 60, 80]

# %% [markdown]
# A bad option stops the program before it loads anything, with one line that names the problem:

# %%
bad = subprocess.run([sys.executable, "-m", "llm_course.train", "--n-emb", "64", "--n-head", "5"],
                     env=environment, capture_output=True, text=True, timeout=120)
print("exit status", bad.returncode)
print(bad.stderr.strip().splitlines()[-1])
assert bad.returncode == 2 and "--n-head 5 must divide --n-emb 64" in bad.stderr

# %% [markdown]
# ## On a GPU
#
# The same program runs unchanged on a GPU machine; only the options differ. On one GPU,
# `--device auto` finds CUDA and `--precision auto` picks bf16; add `--compile`. A GPT-2-small
# shape (124 million parameters; BPE tokens, since characters would waste the context):
#
# ```bash
# python -m llm_course.train --tokenizer bpe --bpe-vocab 4096 --n-layer 12 --n-head 12 --n-emb 768 \
#     --context-size 1024 --batch-size 16 --steps 5000 --lr 6e-4 --min-lr 6e-5 --compile --out runs/gpt2s
# ```
#
# **Eight GPUs on one machine.** `torchrun` starts eight copies; each takes `cuda:LOCAL_RANK`, and
# NCCL averages the gradients over NVLink. The global batch is 8 × 16 sequences, so one step
# learns from 8 times as many tokens in about the same time:
#
# ```bash
# torchrun --standalone --nproc_per_node=8 -m llm_course.train --tokenizer bpe --bpe-vocab 4096 \
#     --n-layer 12 --n-head 12 --n-emb 768 --context-size 1024 --batch-size 16 --compile --out runs/gpt2s
# ```
#
# **Two machines with eight GPUs each** (16 ranks). Run the same command on both, with the
# address of one of them as the meeting point. With a fixed master (node 0 runs rank 0 and
# listens on port 29500; here its address is 10.0.0.1), on node 0:
#
# ```bash
# torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 --master_addr=10.0.0.1 --master_port=29500 \
#     -m llm_course.train --tokenizer bpe --bpe-vocab 4096 --n-layer 12 --n-head 12 --n-emb 768 \
#     --context-size 1024 --batch-size 16 --compile --out /shared/runs/gpt2s
# ```
#
# and on node 1 the same line with `--node_rank=1`. Ranks 0-7 live on node 0, ranks 8-15 on node 1.
#
# Or with torchrun's rendezvous, which assigns node ranks itself and can restart failed workers
# (`--max-restarts`; pair it with `--resume auto`); the same line runs on both machines:
#
# ```bash
# torchrun --nnodes=2 --nproc_per_node=8 --rdzv_id=run42 --rdzv_backend=c10d \
#     --rdzv_endpoint=10.0.0.1:29500 --max-restarts=3 -m llm_course.train ... --resume auto
# ```
#
# Only rank 0 writes the checkpoint, but when a run resumes every rank reads it: put `--out` on a
# file system both machines see (or copy the checkpoint to the same path on each). Between machines the all-reduce travels over the network (InfiniBand in a
# cluster), which is far slower than NVLink: the larger the model, the more it costs per step.
# `benchmarks/gpu_check.sh` runs the GPT-2-small shape for 50 steps and prints tokens per second
# and MFU.

# %% [markdown]
# ## Two processes on this CPU
#
# We cannot try GPUs here, but data parallelism works the same on CPUs, with gloo instead of
# NCCL. This machine has two cores. Which is faster: one process whose matrix products use two
# threads, or two processes of one thread each that average their gradients every step? We run
# the small model for the same number of steps under `torchrun --nproc_per_node=1`, then `=2`, and
# read the tokens per second the program reports (all ranks together). `OMP_NUM_THREADS` sets the
# threads of each process: one process with one thread is the baseline, then the two ways of
# using both cores.

# %%
def throughput(n_processes: int, threads_per_process: int, steps: int = 40) -> dict:
    """Run the small model under torchrun with `n_processes` ranks; return its log's summary."""
    out = f"runs/09_torchrun_{n_processes}x{threads_per_process}"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n_processes}",
               "-m", "llm_course.train", *small, "--steps", str(steps), "--eval-interval", str(steps),
               "--log-interval", str(steps), "--out", out]
    for attempt in (1, 2):  # a measurement, not a test: one retry if a rank dies at start-up on a busy machine
        run = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": str(threads_per_process)},
                             capture_output=True, text=True, timeout=600)
        if run.returncode == 0:
            break
        print(f"attempt {attempt} failed with exit code {run.returncode}:\n{run.stderr[:3000]}", file=sys.stderr)
    assert run.returncode == 0, run.stderr[:3000]
    return json.loads(Path(out, "log.json").read_text())["summary"]


# %% tags=["nbval-ignore-output"]
measured = {}
for n_processes, threads in [(1, 1), (1, 2), (2, 1)]:
    measured[n_processes, threads] = summary = throughput(n_processes, threads)
    print(f"{n_processes} process(es) x {threads} thread(s): {summary['tokens_per_second']:>8,.0f} tokens/s, "
          f"validation loss {summary['val_loss']:.3f}")
baseline = measured[1, 1]["tokens_per_second"]
for key in [(1, 2), (2, 1)]:
    print(f"{key[0]} x {key[1]}: {measured[key]['tokens_per_second'] / baseline:.2f} times the baseline")

# %%
assert [m["world_size"] for m in measured.values()] == [1, 1, 2]
assert all(m["tokens_per_second"] > 0 and m["val_loss"] < math.log(65) for m in measured.values())

# %% [markdown]
# What decides the outcome:
#
# - **The arithmetic per token is the same** in all three runs. The two-process run computes two
#   batches of 16 per step, one per core, and learns from twice the tokens per step; its tokens
#   per second counts both ranks.
# - **Two threads share one small product poorly.** A thread pool splits each matrix product and
#   waits at its end for the slowest thread. This model's products are small ($16\cdot64$ rows
#   by 64 or 256 columns) and a step has hundreds of them, so the threads synchronise hundreds of
#   times per step. Worse, when anything else runs on the machine (the notebook's kernel, other
#   users' programs), one of the two threads is often not running, and the other waits for it:
#   on a busy machine two threads can be *slower* than one.
# - **Two processes never wait for each other within a step, but once per step they do**, in the
#   all-reduce: every gradient (about 108,000 numbers, 0.4 MB, here) goes through gloo over the
#   loopback network, and the faster rank waits for the slower one. On a CPU this exchange cannot
#   overlap much with computation; for a model this small it costs little.
#
# On the course's build machine (2 cores) two measurements tell the story. On the quiet machine
# (nothing else running): 56,900 tokens/s for one process with one thread, 75,600 for one process
# with two threads (1.33 times) and 76,300 for two processes of one thread each (1.34 times): both
# ways of using the second core help, and neither doubles, because the threads synchronise at
# every small product and the processes pay the all-reduce. On the same machine shared with other
# jobs (load average about 6): 27,400, 4,300 and 39,100 tokens/s. The two-thread run collapsed,
# since the second thread was rarely running when the first waited for it, while the two
# independent processes still reached 1.4 times the baseline. Your numbers above will differ;
# the pattern is what to look for. On GPUs the same
# trade-off is why NCCL, NVLink and overlapping the all-reduce with the backward pass matter: with
# eight GPUs the gradient of a 124-million-parameter model (250 MB in bf16) is averaged at every step.

# %% [markdown]
# ## Summary
#
# - `python -m llm_course.train` is notebook 07's training loop as a program: argparse options with
#   defaults and help, checked before any work; checkpoints and a JSON log written atomically;
#   `--resume` continues exactly.
# - On a GPU: `--device auto` finds it, bf16 autocast multiplies matrices several times faster
#   than fp32 with the same range, `--compile` fuses kernels.
# - `torchrun --nproc_per_node=N` runs N ranks of the same program; `DistributedDataParallel`
#   averages their gradients with an all-reduce, so N different batches make one larger step;
#   `--nnodes`, `--node_rank`, `--master_addr` or `--rdzv_*` spread the ranks over machines.
# - Tokens per second measures speed; MFU $=$ tokens/s per GPU $\times(6N+12LHQT)$ / peak FLOP/s
#   says how much of the hardware a run uses.
#
# ## Exercises
#
# 1. Run `python -m llm_course.train --help` in a terminal and train the default model. How long
#    does it take, and what validation loss does it reach? Compare with notebook 07.
# 2. Interrupt a run with Ctrl-C after its first checkpoint and continue it with `--resume`.
#    Check in `log.json` that no step is missing or repeated.
# 3. Run the two-process measurement with `OMP_NUM_THREADS=2` for each process (four threads on
#    two cores). What happens to tokens per second, and why?
# 4. Compute $6N+12LHQT$ for the GPT-2-small shape ($N\approx85$ million in the blocks plus the
#    output layer, $L=H=12$, $Q=64$, $T=1024$). How many tokens per second must one H100 reach
#    for 50% MFU?
# 5. With 2 processes the global batch doubles. Which option would you change to keep the same
#    global batch, and what happens to the number of steps needed?

# %%
from llm_course.environment import check_peak_memory

# %% tags=["nbval-ignore-output"]
check_peak_memory()
