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
# Notebook 07 trained a GPT inside a notebook, on one processor, in 32-bit floats. Real training
# runs spread the work over many GPUs, multiply in 16-bit numbers, are judged by how much of the
# hardware they use, and choose the size of the model for the compute they can afford. This
# notebook runs each of these ideas in front of you, in seven sections:
#
# 1. **One batch, or two halves**: the gradient of a batch is the average of the gradients of its
#    parts, so $n$ processes can each take a part and average (data parallelism), and one process
#    can take the parts one after the other (gradient accumulation);
# 2. **Sixteen bits**: what bfloat16 numbers lose, and why the parameters stay in 32 bits;
# 3. **The program**: train on a text file, continue the run, sample from it, in three commands;
# 4. **Measuring speed**: tokens per second, and the MFU: the arithmetic a model needs per token
#    against what the hardware can do;
# 5. **Scaling**: at a fixed budget, how the loss depends on the size of the model;
# 6. **On GPUs**: the same program on one GPU, eight, and two machines;
# 7. **Two processes on this CPU**: data parallelism run for real, with its speed measured.
#
# The program of section 3, `python -m llm_course.train`, is notebook 07's training loop with
# options instead of edited cells, for one process or many (`torchrun`); a partner program,
# `python -m llm_course.sample`, writes text from its checkpoints. The model is notebook 06's
# GPT and the loss notebook 07's cross-entropy $-\log\alpha_{s_{t+1}}$ in nats; the programs
# only arrange them. Their code (argument parsing, files, checkpoints) is folded into collapsed
# cells in the appendix: click a bar to open one.

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

# %% jupyter={"source_hidden": true}
#| export
"""The course's training loop as a command-line program, for one process or many (`torchrun`).

`python -m llm_course.train` trains a GPT (`llm_course.gpt`) with the loss, learning-rate schedule,
evaluation and checkpoints of `llm_course.training`. Every setting is an option with a default
(`--help` lists them); the defaults are notebook 07's recipe (`training.SHAKESPEARE_CHAR`), so the bare
command trains notebook 07's character-level GPT on Tiny Shakespeare.
`--modern` (or `--norm`, `--position`, `--mlp`, `--no-bias`, `--optimizer`, one piece at a time)
trains notebook 11's `ModernGPT` instead (`llm_course.modern`: RMSNorm, RoPE, SwiGLU, no biases, Muon).

`--corpus` is a registered name (`tiny-shakespeare`) or a path: a UTF-8 text file, or a folder whose
`.txt` files are read in name order. It is checked and fingerprinted in one streaming pass, then
tokenised once into a file of `uint16` token ids (`uint32` above 65,536 tokens) under `OUT/tokens`
(or `--tokens-dir`), named by the corpus's fingerprint and the tokenizer's and written atomically;
every rank reads its batches from that file through `numpy.memmap`, so no process holds the corpus in
memory. The tokenizer (characters, or byte-level BPE learned from the corpus) is saved as
`OUT/tokenizer.json`, beside the checkpoint, for `python -m llm_course.sample`.

Started by `torchrun --nproc_per_node=N` it trains data-parallel with `DistributedDataParallel` (NCCL
on GPUs, gloo on CPUs). Rank 0 prepares the tokenizer and the token file while the other ranks wait.
Every rank draws its own batches and its own dropout masks (seed + rank). `--batch-size` is per
process and per micro-step: `--grad-accum K` sums K micro-batches into one optimiser step, the
all-reduce running on the last only, so the global batch is batch x K x processes. The loss of the
hot path is PyTorch's fused `cross_entropy` (no host synchronisation per step); AdamW is fused on
CUDA. Only rank 0 prints, evaluates and writes `ckpt.pt` and `log.json` (atomically). A checkpoint
holds the learning-rate schedule (its horizon included), every rank's random states and a digest of
every rank's parameters, which must agree.

`--resume` continues from `OUT/ckpt.pt` (or a path; `auto`: when it exists) on the checkpoint's
schedule; a larger `--steps` extends the run at `--min-lr`. A run ends by printing the validation
loss, tokens per second (the global batch) and, on a GPU, the model FLOPs utilisation (MFU).

Left out on purpose: sharded training (FSDP, tensor and pipeline parallelism), data loaders with
worker processes and experiment trackers; sampling is `llm_course.sample`.
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export
import argparse
import codecs
import contextlib
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import regex
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from llm_course.bpe import BPETokenizer
from llm_course.data import CORPORA, CorpusError, get_batch, load_text, train_val_split
from llm_course.embeddings import PositionEmbedding
from llm_course.environment import best_device
from llm_course.gpt import GPTConfig
from llm_course.modern import GPT2_PIECES, MLPS, MODERN_PIECES, NORMS, POSITIONS, ModernConfig, build_model
from llm_course.modern import make_muon_optimizer
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer
from llm_course.training import (
    SHAKESPEARE_CHAR,
    evaluate,
    learning_rate,
    load_checkpoint,
    make_optimizer,
    save_checkpoint,
)

# %% [markdown]
# ## 1. One batch, or two halves: the identity behind data parallelism
#
# A training step computes the gradient of the loss averaged over a batch: $B$ sequences of $T$
# positions, each position a term $-\log\alpha_{s_{t+1}}$. A gradient is linear, so the gradient of
# an average is the average of the gradients. Split the batch into two halves of equal size: the
# mean of the two half-batch gradients is exactly the full-batch gradient. Let us check it on a
# small GPT and a batch of 8 Tiny Shakespeare windows.

# %%
import torch

from llm_course.data import get_batch, load_text, train_val_split
from llm_course.gpt import GPT, GPTConfig
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer
from llm_course.training import cross_entropy

set_seed(1337)
text = load_text()
tokenizer = CharTokenizer.from_text(text)
ids = torch.tensor(tokenizer.encode(text))
model = GPT(GPTConfig(n_vocab=tokenizer.n_vocab, context_size=32, n_emb=32, n_layer=2, n_head=2))
x, y = get_batch(ids, batch_size=8, context_size=32, generator=torch.Generator().manual_seed(0))  # (B, T)


def gradient(x, y) -> torch.Tensor:
    """The gradient of the mean loss over the batch (x, y): every parameter's, in one vector."""
    model.zero_grad()
    cross_entropy(model(x), y).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


full = gradient(x, y)  # one process, all 8 sequences
halves = (gradient(x[:4], y[:4]) + gradient(x[4:], y[4:])) / 2  # two processes of 4, then the average
assert (full - halves).abs().max() < 1e-6
print(f"{full.numel():,} gradient entries; full batch and mean of two halves differ by less than 1e-6")

# %% [markdown]
# The two differ only by the order of additions in floating point. This identity is
# **data parallelism**: $n$ processes (*ranks*), each holding a full copy of the model, each
# compute the gradient on their own $B$ sequences; averaging the $n$ gradients gives the gradient
# of the loss over all $nB$ sequences. If every rank starts from the same parameters and applies
# the same averaged gradient, the copies stay identical, step after step.
#
# PyTorch's `DistributedDataParallel` (DDP) does the averaging: at the start it copies rank 0's
# parameters to every rank, and during `backward()` it averages the gradients across ranks with an
# **all-reduce**, bucket by bucket, while the rest of the backward pass still runs. `torchrun`
# starts the processes and tells each who it is through environment variables: `RANK` (0 to
# $n-1$ over all machines), `LOCAL_RANK` (on this machine), `WORLD_SIZE` ($n$), and
# `MASTER_ADDR`/`MASTER_PORT`, where rank 0 waits for the others. The *backend* moves the
# tensors: NCCL between NVIDIA GPUs, gloo between CPUs.
#
# The same identity works in time instead of space. **Gradient accumulation** runs $K$
# micro-batches one after the other, adds their gradients (each loss divided by $K$), and steps
# once: a batch $K$ times larger than memory holds. Under DDP only the last micro-step needs the
# all-reduce; the others run inside `model.no_sync()`. The global batch is then
# $B\times K\times n$ sequences. This is the trainer's step:

# %%
#| export
def next_token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Notebook 07's `cross_entropy` for logits (B, T, V) and targets (B, T), by PyTorch's fused kernel.

    The same number, without the checks: those read values back from the device (`.item()`), which
    makes the CPU wait for the GPU at every step.
    """
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())  # (B*T, V) against (B*T,)


def train_step(model, optimizer, micro_batches, lr: float, grad_clip: float = 0.0,
               precision: Callable = contextlib.nullcontext) -> torch.Tensor:
    """One optimiser step from `micro_batches` [(x, y), ...] of equal size; returns the loss, on the device.

    The gradients of the micro-batches are summed (each loss divided by their number, so the sum is
    the mean); under DDP every micro-step but the last skips the all-reduce (`no_sync`).
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    total = 0.0
    for k, (x, y) in enumerate(micro_batches):
        last = k == len(micro_batches) - 1
        with contextlib.nullcontext() if last or not isinstance(model, DistributedDataParallel) else model.no_sync():
            with precision():  # e.g. autocast to bfloat16
                loss = next_token_loss(model(x), y) / len(micro_batches)
            loss.backward()  # adds to .grad; under DDP the last one also averages over the ranks
        total = total + loss.detach()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total


# %% [markdown]
# One step on the whole batch of 8, and one step on two micro-batches of 4, from the same
# parameters, with AdamW: the two steps report the same loss (the mean over the 8 sequences) and
# leave the same parameters.

# %%
import copy

from llm_course.training import make_optimizer

one, two = copy.deepcopy(model), copy.deepcopy(model)
losses = [train_step(copy_, make_optimizer(copy_, lr=1e-3, weight_decay=0.1), micro_batches, lr=1e-3, grad_clip=1.0)
          for copy_, micro_batches in [(one, [(x, y)]), (two, [(x[:4], y[:4]), (x[4:], y[4:])])]]
gap = max((a - b).abs().max().item() for a, b in zip(one.parameters(), two.parameters(), strict=True))
assert gap < 1e-6 and abs(losses[0] - losses[1]) < 1e-6
assert abs(next_token_loss(model(x), y) - cross_entropy(model(x), y)) < 1e-6
print("batch 8 x 1 micro-step and 4 x 2 micro-steps: losses and parameters after the step agree to 1e-6")
print("next_token_loss (PyTorch's kernel) and cross_entropy (notebook 07): equal to 1e-6")

# %% [markdown]
# The micro-batches must have equal sizes for the plain mean to be right; exercise 09.4 asks what
# to do when they do not.
#
# ## 2. Sixteen bits: bfloat16
#
# A 32-bit float (fp32) has 8 exponent bits and 23 mantissa bits. `bfloat16` (bf16) keeps the 8
# exponent bits, so the same range (about $10^{\pm38}$, no overflow trouble), and only 7 mantissa
# bits: between 1 and 2 its numbers are $2^{-7}=0.0078125$ apart. So $1+2^{-7}$ exists in bf16,
# $1+2^{-8}$ lies exactly halfway between two neighbours and rounds to the one with an even last
# bit, which is 1, and $1+3\cdot2^{-9}$ rounds up:

# %%
for value in [1 + 2**-7, 1 + 2**-8, 1 + 3 * 2**-9]:
    print(f"{value:.9f}  fp32: {torch.tensor(value).item():.9f}  bf16: {torch.tensor(value).bfloat16().item():.9f}")

weight, update = torch.tensor(1.0), 1e-3 * 0.1  # a learning rate of 1e-3 times a gradient of 0.1
print(f"weight + update  fp32: {(weight + update).item():.6f}  bf16: {(weight.bfloat16() + update).item():.6f}")

# %% [markdown]
# The last line is why training does not keep its parameters in bf16: an update smaller than
# half the gap between neighbours, $2^{-8}$ of the weight, vanishes entirely, every step, and a
# learning rate of $10^{-3}$ times a gradient of 0.1 is ten thousand times smaller than a weight
# of 1. GPUs multiply bf16 matrices many times
# faster than fp32 ones (an H100 SXM: about 989 TFLOP/s dense bf16, 495 in TF32, 67 in plain
# fp32), so **automatic mixed precision** (`torch.autocast`) runs the matrix products in bf16 and
# keeps everything else in fp32: the parameters, their gradients and the optimiser's state.
# Inside autocast, a layer casts a bf16 *copy* of its fp32 weight for the product; the backward
# pass flows through that cast, so the gradient arrives in the parameter's own dtype:

# %%
layer = torch.nn.Linear(64, 64)
with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
    out = layer(torch.randn(8, 64))
out.float().pow(2).mean().backward()
print(f"output {out.dtype}; weight {layer.weight.dtype}; its gradient {layer.weight.grad.dtype}")

# %% [markdown]
# So for a GPT-2-sized model of 124 million parameters, mixed precision keeps 0.5 GB of fp32
# parameters, 0.5 GB of fp32 gradients and 1 GB of AdamW state (two fp32 numbers per parameter);
# only the activations and the products' inputs are bf16. The trainer (`--precision auto`) uses
# bf16 autocast on a GPU with bf16 tensor cores (NVIDIA Ampere or newer) and fp32 elsewhere, and
# lets the products that stay in fp32 use TF32 tensor cores.
#
# ## 3. The program: train on a text file, continue, sample
#
# The trainer takes its settings as options (`--n-layer 2` instead of `n_layer = 2`); every
# option has a default, and the defaults are notebook 07's recipe, so
# `python -m llm_course.train` alone trains notebook 07's model. Training cells run on the best
# device PyTorch finds here:

# %% tags=["nbval-ignore-output"]
from llm_course.environment import best_device

device = best_device()
assert device in ("cuda", "mps", "cpu")
print("device:", device)

# %% [markdown]
# **On Colab**, choose *Runtime → Change runtime type → T4 GPU* (free) and run the notebook again
# from the top: `device` becomes `cuda` and the training cells below run on the GPU, several times
# faster. A T4 has no bf16 tensor cores, so the trainer stays in fp32 there.
#
# The journey takes three commands. The corpus is any UTF-8 text file (or a folder of `.txt`
# files); we write Tiny Shakespeare to one to stand for yours. The model is small, so that it
# trains in seconds:
#
# ```bash
# python -m llm_course.train --corpus runs/09/shakespeare.txt --out runs/09/char --steps 150 ...
# python -m llm_course.train --corpus runs/09/shakespeare.txt --out runs/09/char --steps 200 --resume
# python -m llm_course.sample --out runs/09/char --prompt "ROMEO:" --max-new-tokens 200
# ```

# %% jupyter={"source_hidden": true}
import json
import math
import os
import shlex
import time
from collections.abc import Callable
from pathlib import Path

os.makedirs("runs/09", exist_ok=True)
environment = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread per program: steady on a shared machine


def shell(command: str, show: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a `python -m ...` command line with this kernel's Python; print its output; fail loudly."""
    words = shlex.split(command)
    words[0] = sys.executable if words[0] == "python" else words[0]
    run = subprocess.run(words, env=environment, capture_output=True, text=True, timeout=timeout)
    if show:
        print(run.stdout + run.stderr)
    return run


def timed(operation: Callable, device: str) -> float:
    """Seconds one call of `operation` takes (waiting for a GPU to finish)."""
    synchronize = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    synchronize()
    start = time.perf_counter()
    operation()
    synchronize()
    return time.perf_counter() - start


def matmul_peak(device: str, precision: str, repeats: int = 20) -> float:
    """FLOP/s of the best of a few matrix products (2 n^3 FLOPs each), on one thread like the runs."""
    n = 4096 if device == "cuda" else 512
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16 if precision == "bf16" else torch.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(int(environment["OMP_NUM_THREADS"]))
    try:
        return 2 * n**3 / min(timed(lambda: a @ a, device) for _ in range(repeats))
    finally:
        torch.set_num_threads(threads)


# %%
text_file = Path("runs/09/shakespeare.txt")
text_file.write_text(text, encoding="utf-8")
SMALL = "--n-layer 2 --n-head 4 --n-emb 64 --context-size 64 --batch-size 16"
RUN = f"--corpus {text_file} --out runs/09/char {SMALL} --device {device} --eval-interval 50 --log-interval 10"

# %% tags=["nbval-ignore-output"]
first = shell(f"python -m llm_course.train {RUN} --steps 150")
assert first.returncode == 0

# %% [markdown]
# The program checked and fingerprinted the text, wrote its token ids once to a file under
# `runs/09/char/tokens/`, saved the tokenizer beside the checkpoint, and printed plain lines,
# because its output is a pipe (in a terminal it shows a progress bar). Now the second command:
# the same line with `--resume` and a larger `--steps`. The run started with `--steps 150`, so its
# learning-rate schedule (warm-up, then a cosine down to `--min-lr` at step 150) is stored in the
# checkpoint, horizon included. Resuming continues that schedule exactly; steps past its horizon
# extend the run at `--min-lr`, and the program says so.

# %% tags=["nbval-ignore-output"]
resumed = shell(f"python -m llm_course.train {RUN} --steps 200 --resume")
assert resumed.returncode == 0 and "past the schedule's horizon" in resumed.stdout

# %%
log = json.loads(Path("runs/09/char/log.json").read_text())
rates = {entry["step"]: entry["lr"] for entry in log["train"]}
print("validation steps:", [entry["step"] for entry in log["val"]])
print(f"learning rate at steps 150, 160, 200: {rates[150]:.1e}, {rates[160]:.1e}, {rates[200]:.1e}")
assert rates[160] == rates[200] == log["options"]["min_lr"] and abs(rates[150] - rates[160]) < 1e-4
assert log["val"][-1]["loss"] < log["val"][0]["loss"] < math.log(tokenizer.n_vocab)

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot([e["step"] for e in log["train"]], [e["loss"] for e in log["train"]], label="training batches")
ax.plot([e["step"] for e in log["val"]], [e["loss"] for e in log["val"]], "o-", label="validation")
ax.axhline(math.log(tokenizer.n_vocab), color="grey", linestyle=":", label=r"$\ln n_{\mathrm{vocab}}$ (uniform baseline)")
ax.axvline(150, color="black", linewidth=0.8, linestyle="--", label="resumed: steps past 150 at --min-lr")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy (nats per token)")
ax.set_title("python -m llm_course.train: 150 steps, then --resume to step 200")
ax.legend(loc="center right")
plt.show()

# %% [markdown]
# The third command writes text from the checkpoint, printing it as it is generated. Sampling is
# notebook 08's `generate` with its temperature, top-k and top-p; `--seed` makes it repeatable.
# After 200 short steps the model has learned that the play comes in lines and in words of a few
# letters, not yet how to spell them; notebook 08 samples from a better model.

# %% tags=["nbval-ignore-output"]
sampled = shell('python -m llm_course.sample --out runs/09/char --prompt "ROMEO:" --max-new-tokens 200 --seed 1')
assert sampled.returncode == 0 and sampled.stdout.startswith("ROMEO:") and len(sampled.stdout) > 200

# %% [markdown]
# Bad input stops a program before any work, with one line that names the problem:

# %%
for command in [f"python -m llm_course.train --corpus runs/09/missing.txt --out runs/09/bad {SMALL}",
                'python -m llm_course.sample --out runs/09/char --prompt "Ω"']:
    failed = shell(command, show=False)
    assert failed.returncode == 2
    print(failed.stderr.strip().splitlines()[-1])

# %% [markdown]
# ## 4. Measuring speed: tokens per second and MFU
#
# The number that matters is **tokens per second**: training tokens processed per second, the
# whole global batch counted. To know how good it is, compare the arithmetic it implies with what
# the hardware can do. Training a transformer with $N$ parameters in its matrix products costs
# about $6N$ floating-point operations per token ($2N$ for the forward pass, a multiply and an add
# per weight, and twice that for the backward pass), plus attention's $12\,L\,H\,Q\,T$, where $L$
# is the number of layers, $H$ the heads, $Q=n_{\text{emb}}/H$ the head size and $T$ the context
# size (PaLM's appendix B). Position embeddings are looked up, not multiplied, so $N$ leaves them
# out; the token embedding counts, because the output layer is tied to it. **Model FLOPs
# utilisation** is
#
# $$\text{MFU}=\frac{\text{tokens/s}\times(6N+12LHQT)}{n_{\text{devices}}\times\text{peak FLOP/s of one device}}.$$

# %%
#| export
def flops_per_token(n_params: int, n_layer: int, n_head: int, n_emb: int, context_size: int) -> int:
    """Training FLOPs per token, the PaLM way: 6N + 12 L H Q T, with Q = n_emb / n_head.

    >>> flops_per_token(1000, n_layer=2, n_head=4, n_emb=64, context_size=32)
    55152
    """
    head_size = n_emb // n_head
    return 6 * n_params + 12 * n_layer * n_head * head_size * context_size


# %% [markdown]
# The run above reported its tokens per second and its FLOPs per token. The peak of this machine
# we measure ourselves, on one thread like the run: the best of twenty matrix products, $2n^3$
# FLOPs each for $n\times n$ matrices.

# %% tags=["nbval-ignore-output"]
summary = json.loads(Path("runs/09/char/log.json").read_text())["summary"]  # of the last run, the resumed one
peak = matmul_peak(device, summary["precision"])  # FLOP/s
mfu = summary["tokens_per_second"] * summary["flops_per_token"] / (summary["world_size"] * peak)
print(f"{summary['tokens_per_second']:,.0f} tokens/s x {summary['flops_per_token']:,} FLOPs per token "
      f"/ {peak / 1e9:,.1f} GFLOP/s peak = MFU {100 * mfu:.1f}%")
assert 0 < mfu < 1

# %% [markdown]
# The value depends on this machine. A GPU's peak is thousands of times that of a CPU core, and
# a model this small would use a tiny fraction of it: its matrices (64 by 64, 64 by 256) are too
# small to keep the tensor cores busy, and much of each step is Python, memory traffic and small
# operations. Good GPT training on GPUs reaches 40-55% MFU, with models of hundreds of millions
# of parameters. What that means for GPT-2 small on one H100:

# %%
from llm_course.gpt import parameter_count

gpt2 = GPTConfig(n_vocab=50257, context_size=1024, n_emb=768, n_layer=12, n_head=12)
n_gpt2 = parameter_count(gpt2) - 1024 * 768  # the position table is looked up, not multiplied
per_token = flops_per_token(n_gpt2, 12, 12, 768, 1024)
print(f"GPT-2 small: N = {n_gpt2:,} in products, {per_token / 1e9:.2f} GFLOP per token")
print(f"40% MFU on an H100 (989 TFLOP/s): {0.4 * 989e12 / per_token:,.0f} tokens/s")

# %% [markdown]
# ## 5. Scaling: what a bigger model buys at a fixed budget
#
# Given a budget, how large should the model be? We train four GPTs of widths 16, 32, 64 and 128
# (two blocks of four heads each) on the **same number of tokens**, with notebook 07's recipe for everything
# else, and compare their validation losses. A fixed token budget, rather than a time limit,
# makes the result the same on every machine. Each run takes a few seconds to tens of seconds.

# %%
from llm_course.training import SHAKESPEARE_CHAR as recipe
from llm_course.training import train

torch.set_num_threads(1)  # small models: one thread is about as fast, and steady on a shared machine (section 7)
train_ids, val_ids = train_val_split(ids)
TOKENS = 307_200  # training tokens per model, the same for every size: 300 steps of the recipe's batch
steps = TOKENS // (recipe.batch_size * recipe.context_size)
sweep = {}
for n_emb in (16, 32, 64, 128):
    set_seed(recipe.seed)
    model = GPT(GPTConfig(n_vocab=tokenizer.n_vocab, context_size=recipe.context_size, n_emb=n_emb, n_layer=2, n_head=4)).to(device)
    optimizer = make_optimizer(model, lr=recipe.max_lr, weight_decay=recipe.weight_decay, betas=recipe.betas)
    history = train(model, train_ids, val_ids, steps=steps, batch_size=recipe.batch_size, max_lr=recipe.max_lr,
                    min_lr=recipe.min_lr, warmup_steps=steps // 10, optimizer=optimizer, eval_interval=steps // 5,
                    eval_batches=8, generator=torch.Generator().manual_seed(recipe.batch_seed), device=device, progress=False)
    flops = flops_per_token(model.count_parameters() - recipe.context_size * n_emb, 2, 4, n_emb, recipe.context_size)
    sweep[n_emb] = {"params": model.count_parameters(), "flops": flops, "steps": history.steps, "val": history.val_loss}

# %% tags=["nbval-ignore-output"]
for n_emb, run in sweep.items():
    print(f"n_emb {n_emb:>3}: {run['params']:>7,} parameters, validation loss {run['val'][-1]:.3f}")

# %%
final = [run["val"][-1] for run in sweep.values()]
falls = all(big < small for small, big in zip(final, final[1:], strict=False))
tokens_per_step = recipe.batch_size * recipe.context_size
spent = {n_emb: [run["flops"] * tokens_per_step * step for step in run["steps"]] for n_emb, run in sweep.items()}
budget, widest = spent[128][0], sweep[128]["val"][0]  # the widest model's first evaluation
ahead = any(loss < widest for n_emb in (16, 32, 64) for flops, loss in zip(spent[n_emb], sweep[n_emb]["val"],
                                                                           strict=True) if flops <= budget)
assert falls and ahead and final[0] < math.log(tokenizer.n_vocab)
for n_emb, run in sweep.items():
    print(f"n_emb {n_emb:>3}: {run['params']:>7,} parameters, {TOKENS / run['params']:5.1f} tokens per parameter")
print("every wider model ends with a lower validation loss:", falls)
print(f"for at most {budget:.1e} FLOPs (the widest model's first evaluation) a narrower one was ahead:", ahead)

# %%
from matplotlib.ticker import FormatStrFormatter, NullFormatter

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.loglog([run["params"] for run in sweep.values()], final, "o-")
left.set_xlabel("parameters")
left.set_ylabel("validation loss (nats per token)")
left.set_title(f"same {TOKENS:,} tokens: loss falls with size")
for n_emb, run in sweep.items():
    right.loglog(spent[n_emb], run["val"], "o-", label=f"n_emb {n_emb}")
right.set_xlabel("training FLOPs spent")
right.set_ylabel("validation loss (nats per token)")
right.set_title("same FLOPs: the best model depends on the budget")
right.legend()
for ax in (left, right):  # log axes: a labelled tick every 0.1 nats, no minor labels
    low, high = ax.get_ylim()
    ax.set_yticks([k / 10 for k in range(math.ceil(10 * low), math.floor(10 * high) + 1)])
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.1f"))
    ax.yaxis.set_minor_formatter(NullFormatter())
plt.show()

# %% [markdown]
# Left: on the same tokens, every doubling of the width lowered the loss. Right: the same runs
# against the compute they spent. A wider model costs more per token, so at a small budget a
# narrower one is ahead (read the curves at one value of the horizontal axis), while the widest
# ends lowest. The lower envelope of the curves is the best loss each budget can buy, and along
# it the best model gets wider as the budget grows. That is the question scaling laws answer.
# Hoffmann et al. (2022, "Chinchilla") trained hundreds of models and found that for a
# compute-optimal run the parameters and the training tokens should grow together, about
# **20 tokens per parameter**.
# Our widest model saw less than one token per parameter and the narrowest about 35: the wide ones
# are far from trained, which is why the narrow ones lead at small budgets. (At these tiny sizes the
# exact ratio differs; the lesson, that size must match data and compute, does not.)
#
# The other side of that rule: a model needs text. A GPT-2-small shape with a 4,096-token BPE
# (the vocabulary a 1 MB corpus supports) has 89 million parameters, not GPT-2's 124 million
# (most of the difference is GPT-2's 50,257-row embedding table), and Chinchilla would feed it
# about 1.8 billion tokens. Tiny Shakespeare has a third of a million:

# %%
import dataclasses

from llm_course.bpe import BPETokenizer

for n_vocab in (50257, 4096):
    n = parameter_count(dataclasses.replace(gpt2, n_vocab=n_vocab))
    print(f"GPT-2 small shape, n_vocab {n_vocab:>6,}: {n:>12,} parameters; Chinchilla's 20 tokens each: {20 * n:,}")
corpus_tokens = len(BPETokenizer.train(text, 4096).encode(text))
recipe_tokens = 5000 * 16 * 1024  # the one-GPU recipe below: steps x batch x context
print(f"Tiny Shakespeare in 4,096 BPE tokens: {corpus_tokens:,}, of which 90% train")
print(f"the recipe below reads {recipe_tokens:,} tokens: {recipe_tokens / (0.9 * corpus_tokens):.0f} epochs")

# %% [markdown]
# ## 6. On GPUs
#
# The program runs unchanged on a GPU machine; only the options differ. On one GPU,
# `--device auto` finds CUDA, `--precision auto` picks bf16 and `--compile` fuses kernels (the
# first step takes a minute, later ones run faster). A GPT-2-small shape, to measure speed:
#
# ```bash
# python -m llm_course.train --tokenizer bpe --bpe-vocab 4096 --n-layer 12 --n-head 12 --n-emb 768 \
#     --context-size 1024 --batch-size 16 --steps 5000 --lr 6e-4 --min-lr 6e-5 --compile --out runs/gpt2s
# ```
#
# **Warning: on Tiny Shakespeare this recipe overfits.** As computed above, it reads the 1 MB
# corpus about 260 times: 89 million parameters memorise a third of a million tokens, so the
# training loss keeps falling while the validation loss turns and climbs. Use it to measure
# tokens per second and MFU
# (`benchmarks/gpu_check.sh` does), or point `--corpus` at a folder of text with billions of
# tokens; on Tiny Shakespeare, use the default character model.
#
# **Eight GPUs on one machine.** `torchrun` starts eight copies; each takes `cuda:LOCAL_RANK`, and
# NCCL averages the gradients over NVLink. `--grad-accum` raises the global batch further
# without more memory: here $16\times2\times8=256$ sequences per step.
#
# ```bash
# torchrun --standalone --nproc_per_node=8 -m llm_course.train --corpus /data/books/ --tokenizer bpe \
#     --bpe-vocab 4096 --n-layer 12 --n-head 12 --n-emb 768 --context-size 1024 --batch-size 16 \
#     --grad-accum 2 --compile --out runs/gpt2s
# ```
#
# **Two machines of eight GPUs** (16 ranks): run the same command on both, with one machine's
# address as the meeting point. With torchrun's rendezvous the same line runs on each machine,
# and failed workers restart (`--max-restarts`, with `--resume auto`):
#
# ```bash
# torchrun --nnodes=2 --nproc_per_node=8 --rdzv_id=run42 --rdzv_backend=c10d \
#     --rdzv_endpoint=10.0.0.1:29500 --max-restarts=3 -m llm_course.train ... --resume auto
# ```
#
# Only rank 0 writes checkpoints, but every rank reads one to resume: put `--out` on a file system
# both machines see. Between machines the all-reduce travels over the network, far slower than
# NVLink, so the larger the model the more each step waits for it.
#
# ## 7. Two processes on this CPU
#
# Data parallelism works the same on CPUs, with gloo. This machine's cores can serve one process
# with two threads, or two processes of one thread that average their gradients every step. We
# run the small model for 30 steps each way, and one process of one thread as the baseline:

# %% jupyter={"source_hidden": true}
def throughput(n_processes: int, threads: int, steps: int = 30) -> dict:
    """Run the small model on the CPU under torchrun with `n_processes` ranks; return its log's summary."""
    out = f"runs/09/torchrun_{n_processes}x{threads}"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n_processes}",
               "-m", "llm_course.train", "--corpus", str(text_file), *shlex.split(SMALL), "--device", "cpu",
               "--steps", str(steps), "--eval-interval", str(steps), "--log-interval", str(steps), "--out", out]
    for attempt in (1, 2):  # a measurement, not a test: one retry if a rank dies at start-up on a busy machine
        run = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"},
                             capture_output=True, text=True, timeout=600)
        if run.returncode == 0:
            break
        print(f"attempt {attempt} failed with exit code {run.returncode}:\n{run.stderr[-3000:]}", file=sys.stderr)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(Path(out, "log.json").read_text())["summary"]


# %% tags=["nbval-ignore-output"]
measured = {(n, threads): throughput(n, threads) for n, threads in [(1, 1), (1, 2), (2, 1)]}
for (n, threads), result in measured.items():
    ratio = result["tokens_per_second"] / measured[1, 1]["tokens_per_second"]
    print(f"{n} process(es) x {threads} thread(s): {result['tokens_per_second']:>8,.0f} tokens/s, {ratio:.2f} x baseline")

# %%
ratios = {key: result["tokens_per_second"] / measured[1, 1]["tokens_per_second"] for key, result in measured.items()}
assert [result["world_size"] for result in measured.values()] == [1, 1, 2]
assert 0.2 < ratios[2, 1] < 2.5 and 0.1 < ratios[1, 2] < 2.5, ratios  # two cores: at most about twice the baseline
digests = torch.load("runs/09/torchrun_2x1/ckpt.pt", weights_only=True)["extra"]["rank_parameter_digests"]
assert len(digests) == 2
print("two ranks after 30 steps, their parameters identical:", digests[0] == digests[1])

# %% [markdown]
# The last line is DDP's promise, checked: the checkpoint stores a fingerprint (SHA-256) of every
# rank's parameters. Your speed ratios above depend on the machine; what decides them:
#
# - **The arithmetic per token is the same** in the three runs. The two-process run computes two
#   batches of 16 per step, one per core, and its tokens per second counts both; it can at most
#   double the baseline, since it uses two cores.
# - **Two threads share one small product poorly.** A thread pool splits each matrix product and
#   waits at its end for the slower thread. These products are small and a step has hundreds of
#   them, so the threads synchronise hundreds of times per step; when anything else runs on the
#   machine, one of them is often not running and the other waits. On a busy machine two threads
#   can be slower than one.
# - **How a thread waits matters.** By default a waiting OpenMP thread *spins*, polling for work,
#   on the very core its partner may need; on a shared machine that made the two-thread run tens
#   of times slower than the baseline. The runs here set `OMP_WAIT_POLICY=PASSIVE`: a waiting
#   thread sleeps and gives its core back.
# - **Two processes wait for each other once per step**, in the all-reduce of every gradient
#   (about 108,000 numbers here) through gloo over the loopback network. For a model this small
#   that costs little, so on an idle machine two processes come closer to twice the baseline.
#
# On GPUs the same trade-off is why NCCL, NVLink and overlapping the all-reduce with the backward
# pass matter: with eight GPUs, the 0.5 GB of fp32 gradients of a 124-million-parameter model are
# averaged at every step.
#
# ## Summary
#
# - The gradient of a batch is the mean of the gradients of equal parts: data parallelism (DDP
#   averages over ranks with an all-reduce) and gradient accumulation (`no_sync` until the last
#   micro-step) both rest on it. The global batch is $B\times K\times n$.
# - bf16 keeps fp32's range with 7 mantissa bits: $1+2^{-8}$ rounds to 1. Autocast multiplies in
#   bf16 and keeps parameters, gradients and optimiser state in fp32.
# - MFU $=$ tokens/s $\times(6N+12LHQT)$ / (devices $\times$ peak FLOP/s) says how much of the
#   hardware a run uses.
# - At a fixed token budget a larger model learns more; at a fixed compute budget the best size
#   grows with the budget, about 20 tokens per parameter (Chinchilla). A 1 MB corpus cannot feed
#   a GPT-2-sized model.
# - Three commands: `python -m llm_course.train --corpus FILE --out RUN`, the same with `--resume`
#   (a larger `--steps` extends at `--min-lr`), and `python -m llm_course.sample --out RUN`.
#
# ## Exercises
#
# Each exercise has a starter cell: complete the function, run the cell, and the check under it
# tries your function on inputs of its own and prints ✓ or a hint. Solutions are in
# `solutions/09_scaling_up.py`: try first.
#
# **09.1 The gap between bf16 neighbours.** Section 2 found bf16 numbers $2^{-7}$ apart between 1
# and 2. For any positive bf16 number $w$, return the distance to the next larger bf16 number: with
# $2^e\le w<2^{e+1}$, the 7 mantissa bits cut that interval into $2^7$ equal steps (`math.frexp`
# gives $e$). Then use it: an update smaller than half the gap vanishes. Does an update of $10^{-4}$
# survive on a weight of 0.01 in bf16? On a weight of 1?

# %%
from llm_course.exercises import check


def bf16_gap(w: float) -> float:
    return None  # your code


check("09.1", bf16_gap)

# %% [markdown]
# **09.2 Training FLOPs per token from a config.** Return $6N+12LHQT$ for a GPT, where $N$ counts
# the parameters used in matrix products: all but the position table. Notebook 06's
# `parameter_count` (in `llm_course.gpt`) counts them all.

# %%
def training_flops_per_token(n_vocab: int, context_size: int, n_emb: int, n_layer: int, n_head: int) -> int:
    return None  # your code


check("09.2", training_flops_per_token)

# %% [markdown]
# **09.3 MFU of a multi-GPU run.** A run on `n_gpus` GPUs reports `tokens_per_second` for the
# whole global batch. Return its MFU as a fraction.

# %%
def model_flops_utilisation(tokens_per_second: float, flops_per_token: float, n_gpus: int,
                            peak_flops_per_gpu: float) -> float:
    return None  # your code


check("09.3", model_flops_utilisation)

# %% [markdown]
# **09.4 Ranks with unequal batches.** Each rank $r$ computed the gradient of its *mean* loss over
# its own $m_r$ positions; the sizes differ (the last batch of an epoch is often short). Combine
# the list of gradients into the gradient of the mean loss over all positions.

# %%
def combine_gradients(gradients: list[torch.Tensor], sizes: list[int]) -> torch.Tensor:
    return None  # your code


check("09.4", combine_gradients)

# %% [markdown]
# **09.5 Epochs.** How many times does a run read its corpus? It takes `steps` optimiser steps of
# `batch_size` sequences of `context_size` tokens per micro-step, `grad_accum` micro-steps per
# step, on `n_processes` ranks, from a training text of `corpus_tokens` tokens.

# %%
def epochs(steps: int, batch_size: int, context_size: int, grad_accum: int, n_processes: int,
           corpus_tokens: int) -> float:
    return None  # your code


check("09.5", epochs)

# %% [markdown]
# Questions to discuss:
#
# 1. Interrupt a run with Ctrl-C after its first checkpoint and continue it with `--resume`.
#    Check in `log.json` that no step is missing or repeated.
# 2. Run the two-process measurement with `OMP_NUM_THREADS=2` for each process (four threads on
#    two cores). What happens to tokens per second, and why?
# 3. With 2 processes the global batch doubles. Which option keeps it the same, and what happens
#    to the number of steps needed?
#
# ## Appendix: the programs' code
#
# The cells below are the rest of `llm_course/train.py` and `llm_course/sample.py`, folded: click
# a bar to read one. They run and export like any other cell.
#
# **Options.** `argparse` reads the options, converts them, rejects unknown ones and writes
# `--help`. Small *type functions* convert and check one value, so that a bad value stops the
# program at once with a message that names it. Options that involve each other (the heads must
# divide the width) or the machine (CUDA must exist to be asked for) are checked next, by
# `check_args`, which stops with `parser.error`: the usage, one line naming the problem, exit
# status 2.
#
# **Notebook 11's pieces.** `--norm`, `--position`, `--mlp`, `--bias`/`--no-bias` and
# `--optimizer` choose each piece that changed after GPT-2; `--modern` takes all of them
# (notebook 11's best recipe), and a piece given explicitly still wins. With GPT-2's pieces the
# model is notebook 06's `GPT`, otherwise notebook 11's `ModernGPT`; the checkpoint records which.

# %% jupyter={"source_hidden": true}
#| export
RECIPE = SHAKESPEARE_CHAR  # notebook 07's recipe: the defaults of every model and optimisation option
BATCH_SEED_OFFSET = 10_007  # rank r draws batches from seed + 10,007 + r, dropout masks from seed + r


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


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """`--help` shows each default, except None (those options explain their default in words)."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


# %% jupyter={"source_hidden": true}
#| export
def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m llm_course.train`: every option has a default and a help text."""
    parser = argparse.ArgumentParser(
        prog="python -m llm_course.train",
        description="Train a GPT on a corpus, in one process or data-parallel under torchrun "
        "(torchrun --nproc_per_node=N -m llm_course.train ...). With no options: notebook 07's "
        "character-level GPT on Tiny Shakespeare, on the best device available.",
        formatter_class=_HelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument("--corpus", default="tiny-shakespeare",
                      help=f"a registered corpus ({', '.join(sorted(CORPORA))}) or a path: a UTF-8 text file, "
                      "or a folder whose .txt files are read in name order")
    data.add_argument("--tokenizer", default="char", choices=["char", "bpe"],
                      help="character-level, or byte-level BPE learned from the corpus (saved as OUT/tokenizer.json)")
    data.add_argument("--bpe-vocab", type=positive_int, default=512,
                      help="n_vocab of the BPE tokenizer (256 bytes + merges); only with --tokenizer bpe")
    data.add_argument("--tokens-dir", default=None,
                      help="folder for the tokenised corpus (token-id files named by corpus and tokenizer; "
                      "share one between runs). Default: OUT/tokens")

    model = parser.add_argument_group("model")
    model.add_argument("--n-layer", type=positive_int, default=RECIPE.n_layer, help="number of transformer blocks")
    model.add_argument("--n-head", type=positive_int, default=RECIPE.n_head,
                       help="attention heads per block; must divide --n-emb")
    model.add_argument("--n-emb", type=positive_int, default=RECIPE.n_emb, help="embedding size n_emb")
    model.add_argument("--context-size", type=positive_int, default=RECIPE.context_size, help="context size T (tokens)")
    model.add_argument("--dropout", type=non_negative_float, default=RECIPE.dropout, help="dropout probability, in [0, 1)")
    _add_piece_options(parser)

    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--batch-size", type=positive_int, default=RECIPE.batch_size,
                       help="sequences per micro-step and per process (global batch: this x --grad-accum x processes)")
    optim.add_argument("--grad-accum", type=positive_int, default=1,
                       help="micro-batches whose gradients are summed into one optimiser step")
    optim.add_argument("--steps", type=positive_int, default=RECIPE.steps,
                       help="optimiser steps to train up to (a resumed run continues up to it)")
    optim.add_argument("--lr", type=non_negative_float, default=None,
                       help=f"peak learning rate, after warm-up (default: {RECIPE.max_lr}; on --resume: the checkpoint's)")
    optim.add_argument("--min-lr", type=non_negative_float, default=None,
                       help=f"learning rate at the end of the cosine decay (default: {RECIPE.min_lr}; "
                       "on --resume: the checkpoint's)")
    optim.add_argument("--warmup-steps", type=non_negative_int, default=None,
                       help=f"steps of linear warm-up from 0 to --lr (default: the recipe's fraction of --steps, "
                       f"{RECIPE.warmup_steps}/{RECIPE.steps}; on --resume: the checkpoint's)")
    optim.add_argument("--weight-decay", type=non_negative_float, default=RECIPE.weight_decay,
                       help="AdamW weight decay (matrices only)")
    optim.add_argument("--grad-clip", type=non_negative_float, default=1.0,
                       help="clip the gradient's global norm to this; 0 turns clipping off")

    run = parser.add_argument_group("evaluation, logging and checkpoints")
    run.add_argument("--eval-interval", type=positive_int, default=250,
                     help="evaluate, log and write a checkpoint every this many steps (and after the last)")
    run.add_argument("--eval-batches", type=positive_int, default=20, help="validation batches per evaluation")
    run.add_argument("--log-interval", type=positive_int, default=10, help="print and log the training loss every this many steps")
    run.add_argument("--out", default="runs/train", help="output folder for ckpt.pt, log.json and tokenizer.json")
    run.add_argument("--resume", nargs="?", const="last", default=None, metavar="CHECKPOINT",
                     help="continue a run on its own schedule: alone, from OUT/ckpt.pt; with a path, from that file; "
                     "'auto': from OUT/ckpt.pt if it exists, else start afresh. Model and tokenizer options must "
                     "match it; a larger --steps extends the run at --min-lr")
    run.add_argument("--seed", type=non_negative_int, default=RECIPE.seed,
                     help="random seed: the initial parameters; rank r's dropout masks use seed + r")

    system = parser.add_argument_group("device and speed")
    system.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"],
                        help="auto picks CUDA, then Apple MPS, then the CPU; under torchrun each rank takes cuda:LOCAL_RANK")
    system.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                        help="bf16: autocast matrix products to bfloat16; auto: bf16 on a GPU with bf16 tensor cores, else fp32")
    system.add_argument("--compile", action="store_true", help="compile the model with torch.compile (slow start, faster steps)")
    return parser


def check_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Stop with `parser.error` (exit status 2, one line on stderr) on any bad combination of options."""
    if args.n_emb % args.n_head:
        parser.error(f"--n-head {args.n_head} must divide --n-emb {args.n_emb}")
    resolve_pieces(args)
    if args.position == "rope" and (args.n_emb // args.n_head) % 2:
        parser.error(f"--position rope rotates pairs: the head size --n-emb / --n-head = {args.n_emb // args.n_head} "
                     "must be even")
    if not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout must lie in [0, 1), got {args.dropout}")
    if args.lr is not None and args.lr <= 0:
        parser.error(f"--lr must be positive, got {args.lr}")
    if args.tokenizer == "bpe" and args.bpe_vocab < 256:
        parser.error(f"--bpe-vocab must be at least 256 (the byte tokens), got {args.bpe_vocab}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA GPU is available here (try --device auto)")
    if args.device == "mps" and not torch.backends.mps.is_available():
        parser.error("--device mps: Apple's MPS backend is not available here (try --device auto)")
    if args.precision == "bf16" and resolve_device(args.device) == "cuda" and not _bf16_tensor_cores():
        parser.error(f"--precision bf16: this GPU ({torch.cuda.get_device_name()}) has no bfloat16 tensor cores; use fp32")


def _add_piece_options(parser: argparse.ArgumentParser) -> None:
    """The options of notebook 11's pieces; None means "GPT-2's, or the modern one with --modern"."""
    pieces = parser.add_argument_group("pieces after GPT-2 (notebook 11); default GPT-2's, --modern for all")
    pieces.add_argument("--modern", action="store_true",
                        help="every piece of notebook 11: " + ", ".join(f"{k} {v}" for k, v in MODERN_PIECES.items()))
    pieces.add_argument("--norm", choices=NORMS, default=None, help="normalisation layer (default: layernorm)")
    pieces.add_argument("--position", choices=POSITIONS, default=None,
                        help="positions: a learned table, or rotary embeddings (rope) (default: learned)")
    pieces.add_argument("--mlp", choices=MLPS, default=None, help="feed-forward layer (default: gelu)")
    pieces.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None,
                        help="biases in the linear and normalisation layers (default: on)")
    pieces.add_argument("--optimizer", choices=("adamw", "muon"), default=None,
                        help="muon: Muon for the blocks' matrices, AdamW for the rest (default: adamw)")


def resolve_pieces(args: argparse.Namespace) -> None:
    """Fill the pieces left out: GPT-2's, or with `--modern` notebook 11's."""
    defaults = MODERN_PIECES if args.modern else GPT2_PIECES
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def model_config(args: argparse.Namespace, n_vocab: int) -> GPTConfig:
    """The model's configuration: a `GPTConfig` with GPT-2's pieces, else a `ModernConfig` naming them."""
    sizes = dict(n_vocab=n_vocab, context_size=args.context_size, n_emb=args.n_emb, n_layer=args.n_layer,
                 n_head=args.n_head, dropout=args.dropout, bias=args.bias)
    pieces = {name: getattr(args, name) for name in ("norm", "position", "mlp")}
    if all(value == GPT2_PIECES[name] for name, value in pieces.items()):
        return GPTConfig(**sizes)
    return ModernConfig(**sizes, **pieces)


# %% [markdown]
# **The device and the number format.** `--device auto` asks `best_device()`; under `torchrun` on a
# GPU machine each process takes its own GPU, `cuda:LOCAL_RANK`. `--precision auto` picks bf16
# autocast where the GPU has bf16 tensor cores.

# %% jupyter={"source_hidden": true}
#| export
def resolve_device(name: str) -> str:
    """The device kind for `--device`: `"auto"` becomes `best_device()` ("cuda", "mps" or "cpu")."""
    return best_device() if name == "auto" else name


def _bf16_tensor_cores() -> bool:
    """Whether this CUDA GPU multiplies bfloat16 natively (compute capability 8.0, Ampere, or newer)."""
    return torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)


def resolve_precision(precision: str, device: str) -> torch.dtype | None:
    """The autocast dtype for `--precision` on `device` (a kind: "cuda", "mps", "cpu"), or None for fp32.

    >>> resolve_precision("auto", "cpu") is None, resolve_precision("bf16", "cpu")
    (True, torch.bfloat16)
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    return torch.bfloat16 if device == "cuda" and _bf16_tensor_cores() else None


def autocast(device: str, dtype: torch.dtype | None):
    """A context that runs matrix products in `dtype` on `device` (a kind), or does nothing for fp32."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=dtype)


def to_device(tensor: torch.Tensor, device: str) -> torch.Tensor:
    """`tensor` on `device`; to a GPU through pinned memory without waiting (no host synchronisation)."""
    if device.startswith("cuda"):
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


# %% [markdown]
# **Ranks.** `Distributed` says who this process is. `start_distributed` joins the process group
# (NCCL on CUDA, gloo otherwise) from the environment variables torchrun sets, so the same program
# runs on one machine or many. `main_rank_first` lets rank 0 do a piece of work (preparing the
# tokens) while the others wait, and stops every rank with rank 0's message if it fails.

# %% jupyter={"source_hidden": true}
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


def gather_from_ranks(value, ranks: Distributed) -> list:
    """Every rank's `value` (any picklable object), in rank order (all ranks must call it)."""
    if not ranks.enabled:
        return [value]
    values = [None] * ranks.world_size
    dist.all_gather_object(values, value)
    return values


def main_rank_first(ranks: Distributed, work: Callable[[], None]) -> None:
    """Run `work()` on rank 0 while the other ranks wait; if it fails, raise its message on every rank."""
    failure = None
    if ranks.is_main:
        try:
            work()
        except (CorpusError, ValueError, OSError) as error:
            failure = str(error)
    if ranks.enabled:
        shared = [failure]
        dist.broadcast_object_list(shared, src=0)
        failure = shared[0]
    if failure is not None:
        raise CorpusError(failure)


# %% [markdown]
# **The corpus, read as a stream.** A corpus may be larger than memory, so it is never read whole
# (except a registered one, which is small). `read_corpus` decodes UTF-8 a megabyte at a time
# and names the file and byte offset of anything that is not UTF-8; `scan_corpus` makes one
# pass to check it, count its characters and fingerprint it (SHA-256 of the file names and
# content).

# %% jupyter={"source_hidden": true}
#| export
TEXT_CHUNK_BYTES = 1 << 20  # a corpus is read 1 MB at a time
BPE_TRAINING_CHARACTERS = 10_000_000  # a BPE tokenizer learns its merges from the first 10 million characters


@dataclass(frozen=True)
class CorpusScan:
    """What one streaming pass over a corpus found."""

    name: str  # what --corpus said
    files: tuple[Path, ...]  # the text files in reading order; empty for a registered corpus
    fingerprint: str  # SHA-256 of the content (and, for a folder, of the files' names)
    characters: str  # the distinct characters, sorted
    n_characters: int


def corpus_files(corpus: str) -> tuple[Path, ...]:
    """The text files `corpus` names: a file, or a folder's `.txt` files in name order; `()` for a registered name."""
    if corpus in CORPORA:
        return ()
    path = Path(corpus).expanduser()
    if path.is_file():
        return (path,)
    if path.is_dir():
        files = sorted((p for p in path.rglob("*.txt") if p.is_file()), key=lambda p: p.relative_to(path).as_posix())
        if not files:
            raise CorpusError(f"the folder {path} holds no .txt files")
        return tuple(files)
    raise CorpusError(f"no such file or folder: {path} (nor a registered corpus: {', '.join(sorted(CORPORA))})")


def read_corpus(corpus: str, files: tuple[Path, ...], chunk_bytes: int = TEXT_CHUNK_BYTES) -> Iterator[str]:
    """The text of a corpus, decoded from UTF-8 about `chunk_bytes` bytes at a time, in order."""
    if not files:
        yield load_text(corpus)
        return
    for path in files:
        decoder = codecs.getincrementaldecoder("utf-8")()
        done = 0  # bytes of this file read so far
        with open(path, "rb") as file:
            while True:
                data = file.read(chunk_bytes)
                pending = len(decoder.getstate()[0])  # bytes of an unfinished character carried over
                try:
                    text = decoder.decode(data, final=not data)
                except UnicodeDecodeError as error:
                    offset = done - pending + error.start
                    raise CorpusError(f"{path} is not UTF-8 text: byte {offset:,} (0x{error.object[error.start]:02x}) "
                                      "cannot be decoded") from None
                done += len(data)
                if text:
                    yield text
                if not data:
                    break


def scan_corpus(corpus: str) -> CorpusScan:
    """Check `corpus` (missing, not UTF-8, empty: a `CorpusError`), count its characters and fingerprint it."""
    files = corpus_files(corpus)
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.name}\0".encode())
    characters, n_characters = set(), 0
    for text in read_corpus(corpus, files):
        digest.update(text.encode("utf-8"))
        characters.update(text)
        n_characters += len(text)
    if n_characters == 0:
        raise CorpusError("the corpus is empty: there is no text to learn from")
    fingerprint = CORPORA[corpus].sha256 if corpus in CORPORA else digest.hexdigest()
    return CorpusScan(corpus, files, fingerprint, "".join(sorted(characters)), n_characters)


# %% [markdown]
# **Tokenise once, then memory-map.** The tokenizer is saved as `OUT/tokenizer.json` (a BPE file,
# or the list of characters). The token ids go, once, into a file of `uint16` numbers
# (`uint32` for vocabularies above 65,536), written atomically and named by the corpus's and the
# tokenizer's fingerprints, so a changed corpus or tokenizer gets a new file. Rank 0 writes it
# while the others wait; then every rank opens it with `numpy.memmap`: the operating system reads
# only the pages a batch touches. A BPE text is encoded in pieces cut only at a newline between
# two non-space characters, where GPT-2's pre-tokenizer cuts too, so the ids equal those of the
# whole text.

# %% jupyter={"source_hidden": true}
#| export
CHAR_TOKENIZER_FORMAT = "llm-course-char-tokenizer"


def save_tokenizer(tokenizer, path: Path) -> None:
    """Write a `CharTokenizer` (its characters, as JSON) or a `BPETokenizer` (its own file) to `path`."""
    if isinstance(tokenizer, BPETokenizer):
        tokenizer.save(path)
    else:
        write_json_atomic(path, {"format": CHAR_TOKENIZER_FORMAT, "characters": "".join(tokenizer.vocabulary.tokens)})


def load_tokenizer(path: str | os.PathLike):
    """The tokenizer `save_tokenizer` wrote; a missing or foreign file is a `ValueError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no tokenizer at {path}")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"{path} is not a tokenizer file (not JSON)") from None
    if isinstance(content, dict) and content.get("format") == CHAR_TOKENIZER_FORMAT:
        return CharTokenizer.from_text(content["characters"])
    return BPETokenizer.load(path)  # raises TokenizerFileError (a ValueError) for anything else


def tokenizer_fingerprint(tokenizer) -> str:
    """SHA-256 of what defines a tokenizer: its characters, or its merges and special tokens."""
    if isinstance(tokenizer, BPETokenizer):
        record = {"merges": tokenizer.merges, "special": list(tokenizer.special_tokens)}
    else:
        record = {"characters": "".join(tokenizer.vocabulary.tokens)}
    return hashlib.sha256(json.dumps(record).encode()).hexdigest()


def token_dtype(n_vocab: int) -> np.dtype:
    """The smallest unsigned integer type for ids 0..n_vocab-1: uint16 up to 65,536 tokens, else uint32."""
    return np.dtype(np.uint16) if n_vocab <= 2**16 else np.dtype(np.uint32)


def _bpe_pieces(texts: Iterator[str]) -> Iterator[str]:
    """Re-cut a stream of text at newlines between two non-space characters (GPT-2's pre-tokens never cross them)."""
    carry = ""
    for text in texts:
        carry += text
        cut = regex.search(r"(?r)(?<=\S)\n(?=\S)", carry)  # the last such newline
        if cut is not None:
            yield carry[: cut.end()]
            carry = carry[cut.end():]
    if carry:
        yield carry


def encode_stream(tokenizer, texts: Iterator[str]) -> Iterator[np.ndarray]:
    """The token ids of a stream of text, one NumPy array per piece."""
    if isinstance(tokenizer, BPETokenizer):
        for piece in _bpe_pieces(texts):
            yield np.asarray(tokenizer.encode(piece), dtype=np.int64)
        return
    characters = "".join(tokenizer.vocabulary.tokens)
    codepoints = np.array([ord(c) for c in characters], dtype=np.uint32)
    order = np.argsort(codepoints)
    sorted_codepoints = codepoints[order]
    ids_in_order = np.asarray(tokenizer.encode("".join(characters[i] for i in order)), dtype=np.int64)
    for text in texts:
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        where = np.minimum(np.searchsorted(sorted_codepoints, points), len(sorted_codepoints) - 1)
        if not (sorted_codepoints[where] == points).all():
            unknown = chr(points[sorted_codepoints[where] != points][0])
            raise ValueError(f"the character {unknown!r} is not in the tokenizer's vocabulary")
        yield ids_in_order[where]


def write_tokens(path: Path, arrays: Iterator[np.ndarray], dtype: np.dtype) -> int:
    """Write token ids to `path` as raw `dtype` numbers, atomically; return how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(handle, "wb") as file:
            for ids in arrays:
                file.write(ids.astype(dtype).tobytes())
                count += len(ids)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return count


def open_tokens(path: Path, dtype: np.dtype) -> torch.Tensor:
    """The token ids in `path` as a 1-D tensor backed by a memory map: pages are read when a batch touches them."""
    return torch.from_numpy(np.memmap(path, dtype=dtype, mode="c"))  # copy-on-write: never changes the file


def token_file(folder: Path, scan: CorpusScan, tokenizer) -> Path:
    """Where the ids of `scan`'s corpus under `tokenizer` live: named by both fingerprints and the dtype."""
    dtype = token_dtype(tokenizer.n_vocab)
    return folder / f"{scan.fingerprint[:16]}-{tokenizer_fingerprint(tokenizer)[:16]}.{dtype.name}"


# %% jupyter={"source_hidden": true}
#| export
def _first_characters(scan: CorpusScan, limit: int) -> str:
    """The first `limit` characters of the corpus (what a BPE tokenizer learns from)."""
    pieces, kept = [], 0
    for text in read_corpus(scan.name, scan.files):
        pieces.append(text[: limit - kept])
        kept += len(pieces[-1])
        if kept >= limit:
            break
    return "".join(pieces)


def _build_tokenizer(args, scan: CorpusScan, folder: Path, resume_from: Path | None, record: dict | None):
    """The run's tokenizer: the checkpoint's when resuming, else from the corpus (a BPE one trained once, cached)."""
    if resume_from is not None:
        tokenizer = load_tokenizer(resume_from.parent / "tokenizer.json")
        if tokenizer_fingerprint(tokenizer) != record.get("tokenizer_fingerprint"):
            raise ValueError(f"{resume_from.parent / 'tokenizer.json'} is not the tokenizer {resume_from} was trained with")
        return tokenizer
    if args.tokenizer == "char":
        return CharTokenizer.from_text(scan.characters)
    cached = folder / f"{scan.fingerprint[:16]}.bpe{args.bpe_vocab}.json"
    if cached.is_file():
        return BPETokenizer.load(cached)
    sample = _first_characters(scan, BPE_TRAINING_CHARACTERS)
    print(f"training a byte-level BPE tokenizer (n_vocab {args.bpe_vocab}) on {len(sample):,} characters", flush=True)
    tokenizer = BPETokenizer.train(sample, args.bpe_vocab)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(cached)
    return tokenizer


def prepare_tokens(args, scan: CorpusScan, ranks: Distributed, resume_from: Path | None = None,
                   record: dict | None = None):
    """The tokenizer and the corpus's token ids (a memory-mapped tensor): rank 0 prepares, the others wait."""
    out = Path(args.out)
    folder = Path(args.tokens_dir) if args.tokens_dir else out / "tokens"

    def prepare() -> None:
        tokenizer = _build_tokenizer(args, scan, folder, resume_from, record)
        saved = out / "tokenizer.json"
        out.mkdir(parents=True, exist_ok=True)
        if not saved.is_file() or tokenizer_fingerprint(load_tokenizer(saved)) != tokenizer_fingerprint(tokenizer):
            save_tokenizer(tokenizer, saved)
        path = token_file(folder, scan, tokenizer)
        if not path.is_file():
            print(f"tokenising {scan.name} ({scan.n_characters:,} characters) into {path}", flush=True)
            write_tokens(path, encode_stream(tokenizer, read_corpus(scan.name, scan.files)), token_dtype(tokenizer.n_vocab))

    main_rank_first(ranks, prepare)
    tokenizer = load_tokenizer(out / "tokenizer.json")  # every rank reads what rank 0 wrote
    return tokenizer, open_tokens(token_file(folder, scan, tokenizer), token_dtype(tokenizer.n_vocab))


# %% [markdown]
# **Speed bookkeeping.** The peak dense bf16 throughput of common GPUs, from NVIDIA's data sheets,
# and the parameters that take part in matrix products ($N$ of the MFU formula).

# %% jupyter={"source_hidden": true}
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
    """N of the 6N rule: every parameter but the tables that are only looked up (nanoGPT's convention).

    The learned position table is looked up and added, never multiplied: it is left out. The token
    table is looked up too, but the tied output layer multiplies by it, so it counts, once. Biases and
    norm gains count (a tiny share). For the course's GPT: `parameter_count(config) - T * n_emb`.
    """
    tables = (torch.nn.Embedding, PositionEmbedding)
    looked_up = {id(p) for m in model.modules() if isinstance(m, tables) for p in m.parameters(recurse=False)}
    multiplied = {id(p) for m in model.modules() if isinstance(m, torch.nn.Linear) for p in m.parameters(recurse=False)}
    return sum(p.numel() for p in model.parameters() if id(p) not in looked_up or id(p) in multiplied)


# %% [markdown]
# **Checkpoints and the schedule.** Every `--eval-interval` steps rank 0 writes `ckpt.pt` with
# `training.save_checkpoint` (atomic) and `log.json`. Its `extra` record says which program wrote
# it, with which model options, corpus and tokenizer, and holds the learning-rate schedule
# (`lr`, `min_lr`, `warmup_steps` and its horizon, the `--steps` of the run that started it) and,
# for every rank, its batch generator, its PyTorch (and CUDA) random states and a digest of its
# parameters. `--resume` refuses a file that is missing, foreign, or trained with other model
# options, and continues the stored schedule: options left out come from the checkpoint, options
# given must agree with it, and steps past the horizon run at `min_lr`.

# %% jupyter={"source_hidden": true}
#| export
TRAINER = "llm_course.train"  # written into every checkpoint, to recognise our own
MODEL_OPTIONS = ("tokenizer", "bpe_vocab", "n_layer", "n_head", "n_emb", "context_size")


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
    """The options that decide the model's shape and its token indices (must match to resume).

    Notebook 11's pieces (and the optimiser) are recorded when they differ from GPT-2's, so that a
    checkpoint of notebook 06's GPT reads the same as before they existed.
    """
    options = {name: getattr(args, name) for name in MODEL_OPTIONS}
    if args.tokenizer != "bpe":
        options.pop("bpe_vocab")
    options |= {name: getattr(args, name) for name, gpt2 in GPT2_PIECES.items() if getattr(args, name) != gpt2}
    return options


def checkpoint_path(args: argparse.Namespace) -> Path | None:
    """The checkpoint `--resume` names, or None when the run starts afresh."""
    if args.resume is None:
        return None
    if args.resume in ("last", "auto"):
        path = Path(args.out) / "ckpt.pt"
        return path if args.resume == "last" or path.exists() else None
    return Path(args.resume)


def read_trainer_checkpoint(path: Path) -> dict:
    """The checkpoint at `path` (loaded with `weights_only=True`); a `ValueError` unless this program wrote it."""
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a file torch cannot read, or one holding arbitrary objects
        raise ValueError(f"{path} is not a checkpoint (torch.load failed: {type(error).__name__})") from None
    record = checkpoint.get("extra") if isinstance(checkpoint, dict) else None
    if not isinstance(record, dict) or record.get("trainer") != TRAINER:
        raise ValueError(f"{path} is not a checkpoint written by {TRAINER}")
    return checkpoint


def read_checkpoint_record(path: Path, args: argparse.Namespace) -> dict:
    """The `extra` record of the checkpoint at `path`; raise ValueError if it cannot resume this run."""
    try:
        record = read_trainer_checkpoint(path)["extra"]
    except ValueError as error:
        raise ValueError(f"--resume: {error}") from None
    ours, stored = model_options(args), record["model_options"]
    for name in sorted(ours.keys() | stored.keys()):
        value, theirs = ours.get(name, GPT2_PIECES.get(name)), stored.get(name, GPT2_PIECES.get(name))
        if theirs != value:
            raise ValueError(f"--resume: {path} was trained with --{name.replace('_', '-')} {theirs}, "
                             f"this run asks for {value}")
    if record["step"] >= args.steps:
        raise ValueError(f"--resume: {path} is at step {record['step']}, --steps is {args.steps}: "
                         "nothing to train (raise --steps)")
    return record


def resolve_schedule(args: argparse.Namespace, record: dict | None) -> dict:
    """The learning-rate schedule: from the options (recipe defaults), or on resume the checkpoint's."""
    if record is not None:
        stored = record["schedule"]
        for name in ("lr", "min_lr", "warmup_steps"):
            given = getattr(args, name)
            if given is not None and given != stored[name]:
                raise ValueError(f"--resume: the checkpoint's schedule has --{name.replace('_', '-')} {stored[name]}, "
                                 f"this run asks for {given} (leave it out to continue the run's schedule)")
        return dict(stored)
    lr = RECIPE.max_lr if args.lr is None else args.lr
    min_lr = RECIPE.min_lr if args.min_lr is None else args.min_lr
    warmup = round(args.steps * RECIPE.warmup_steps / RECIPE.steps) if args.warmup_steps is None else args.warmup_steps
    if min_lr > lr:
        raise ValueError(f"--min-lr {min_lr} must not exceed --lr {lr}")
    if warmup > args.steps:
        raise ValueError(f"--warmup-steps {warmup} must not exceed --steps {args.steps}")
    return {"lr": lr, "min_lr": min_lr, "warmup_steps": min(warmup, args.steps), "horizon": args.steps}


def parameter_digest(model: torch.nn.Module) -> str:
    """SHA-256 of a model's parameters and buffers (names, shapes and bytes), to compare copies."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def rank_state(model, generator: torch.Generator, device: str) -> dict:
    """This rank's random states (batches, dropout on the CPU and on its GPU) and its parameters' digest."""
    return {"batches": generator.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.startswith("cuda") else None,
            "digest": parameter_digest(model)}


def restore_rank_state(states: list[dict], ranks: Distributed, generator, device: str, seed: int, step: int) -> None:
    """Put back this rank's own random states; with another number of ranks, start fresh, distinct streams."""
    if len(states) == ranks.world_size:
        mine = states[ranks.rank]
        generator.set_state(mine["batches"])
        torch.set_rng_state(mine["torch"])
        if mine["cuda"] is not None and device.startswith("cuda"):
            torch.cuda.set_rng_state(mine["cuda"], device)
    else:
        generator.manual_seed(seed + BATCH_SEED_OFFSET + 1000 * step + ranks.rank)
        torch.manual_seed(seed + 1000 * step + ranks.rank)


def build_optimizer(model, lr: float, weight_decay: float, device_kind: str, kind: str = "adamw"):
    """Notebook 07's AdamW (`make_optimizer`: decay on matrices only), fused into one kernel on CUDA; or
    notebook 11's Muon for the blocks' matrices with AdamW for the rest (`kind="muon"`), same lr and decay."""
    if kind == "muon":
        return make_muon_optimizer(model, lr=lr, weight_decay=weight_decay, betas=RECIPE.betas)
    optimizer = make_optimizer(model, lr=lr, weight_decay=weight_decay, betas=RECIPE.betas)
    if device_kind != "cuda":
        return optimizer
    groups = [{"params": g["params"], "weight_decay": g["weight_decay"]} for g in optimizer.param_groups]
    return torch.optim.AdamW(groups, lr=lr, betas=RECIPE.betas, fused=True)


# %% [markdown]
# **The program.** `main` reads and checks the options, reads the checkpoint to resume (if any)
# and scans the corpus, all before any work; then it joins the other ranks, prepares the tokens,
# and hands over to the loop, which is `train_step` of section 1 with the schedule of notebook
# 07. The clock for tokens per second starts after the first step of the run (which pays for
# compilation and memory allocation) and stops for evaluations and checkpoints; on a GPU,
# `torch.cuda.synchronize()` waits for queued work before each reading of the clock. Between
# log lines the loop never reads a value back from the GPU, so the CPU queues the next step while
# the GPU computes, with one exception: in eager mode the GPT checks its input's index range
# (notebook 04), one read per forward pass; `--compile` skips it.

# %% jupyter={"source_hidden": true}
#| export
def _stop(parser: argparse.ArgumentParser, ranks: Distributed, message: str):
    """Stop every rank with exit status 2; rank 0 prints the usage and `message` (one line)."""
    if ranks.is_main:
        parser.error(message)
    raise SystemExit(2)


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
    try:
        record = read_checkpoint_record(resume_from, args) if resume_from is not None else None
        schedule = resolve_schedule(args, record)
    except ValueError as error:
        parser.error(str(error))
    try:
        scan = scan_corpus(args.corpus)
    except (CorpusError, ValueError) as error:
        parser.error(f"--corpus {args.corpus}: {error}")
    if record is not None and record.get("corpus_fingerprint") != scan.fingerprint:
        parser.error(f"--resume: {resume_from} was trained on another corpus than --corpus {args.corpus}")

    # From here on the options are known to be good: set up the run.
    device = start_distributed(ranks, device)
    try:
        try:
            tokenizer, ids = prepare_tokens(args, scan, ranks, resume_from, record)
            train_ids, val_ids = train_val_split(ids)
        except (CorpusError, ValueError) as error:
            _stop(parser, ranks, f"--corpus {args.corpus}: {error}")
        if len(val_ids) <= args.context_size:
            _stop(parser, ranks, f"--context-size {args.context_size} is longer than the validation text "
                  f"({len(val_ids)} tokens, the last 10% of the corpus): use a longer corpus or a shorter context")
        config = model_config(args, tokenizer.n_vocab)
        run = {"args": args, "ranks": ranks, "device": device, "amp_dtype": amp_dtype, "config": config,
               "schedule": schedule, "scan": scan, "tokenizer": tokenizer}
        return _train(run, train_ids, val_ids, resume_from, record)
    finally:
        if ranks.enabled:
            dist.destroy_process_group()


# %% jupyter={"source_hidden": true}
#| export
def _train(run: dict, train_ids, val_ids, resume_from: Path | None, record: dict | None) -> dict:
    """The training loop of `main`, once the options are checked, the ranks joined and the tokens ready."""
    args, ranks, device, amp_dtype, config = run["args"], run["ranks"], run["device"], run["amp_dtype"], run["config"]
    schedule, out = run["schedule"], Path(args.out)
    device_kind = torch.device(device).type
    if device_kind == "cuda":
        torch.set_float32_matmul_precision("high")  # what stays fp32 may use TF32 tensor cores
    set_seed(args.seed)  # the same initial parameters on every rank (DDP also copies rank 0's)
    model = build_model(config).to(device)  # notebook 06's GPT, or notebook 11's ModernGPT
    optimizer = build_optimizer(model, schedule["lr"], args.weight_decay, device_kind, args.optimizer)
    torch.manual_seed(args.seed + ranks.rank)  # each rank its own dropout masks
    generator = torch.Generator().manual_seed(args.seed + BATCH_SEED_OFFSET + ranks.rank)  # and its own batches
    log = {"options": {**vars(args), **{k: schedule[k] for k in ("lr", "min_lr", "warmup_steps")}},
           "schedule": schedule, "world_size": ranks.world_size, "train": [], "val": []}
    start_step = 0
    if resume_from is not None:
        fused = optimizer.defaults.get("fused")
        load_checkpoint(resume_from, model=model, optimizer=optimizer)
        for group in optimizer.param_groups:
            group["fused"] = fused  # the checkpoint may come from another device
        start_step = record["step"]
        restore_rank_state(record["rank_states"], ranks, generator, device, args.seed, start_step)
        if (out / "log.json").is_file():
            previous = json.loads((out / "log.json").read_text())
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
        states = gather_from_ranks(rank_state(model, generator, device), ranks)
        digests = [state.pop("digest") for state in states]
        if len(set(digests)) != 1:
            raise RuntimeError(f"the ranks' parameters differ at step {step}: {digests}")
        if ranks.is_main:
            extra = {"trainer": TRAINER, "step": step, "model_options": model_options(args), "schedule": schedule,
                     "corpus_fingerprint": run["scan"].fingerprint,
                     "tokenizer_fingerprint": tokenizer_fingerprint(run["tokenizer"]), "world_size": ranks.world_size,
                     "rank_states": states, "rank_parameter_digests": digests}
            write_json_atomic(out / "log.json", log)  # first: a resumed run drops what lies past its checkpoint
            save_checkpoint(out / "ckpt.pt", model=model, optimizer=optimizer, step=step, config=config,
                            generator=generator, extra=extra)

    tokens_per_step = args.batch_size * args.grad_accum * args.context_size * ranks.world_size  # the global batch
    precision = "bf16" if amp_dtype else "fp32"
    if ranks.is_main:
        print(f"training a {type(model).__name__} of {sum(p.numel() for p in model.parameters()):,} parameters on {args.corpus} "
              f"({args.tokenizer} tokens, n_vocab={config.n_vocab}) for steps {start_step + 1}..{args.steps}: global "
              f"batch {args.batch_size} x {args.grad_accum} x {ranks.world_size} sequences of {args.context_size} "
              f"tokens, {ranks.world_size} process(es) on {device_kind}, {precision}"
              f"{', fused AdamW' if device_kind == 'cuda' else ''}{', compiled' if args.compile else ''}", flush=True)
        if args.steps > schedule["horizon"]:
            print(f"steps {max(start_step, schedule['horizon']) + 1}..{args.steps} lie past the schedule's horizon "
                  f"(step {schedule['horizon']}): learning rate held at --min-lr {schedule['min_lr']:.2e}", flush=True)
    progress = tqdm(total=args.steps, initial=start_step, unit="step") if ranks.is_main and sys.stdout.isatty() else None

    def say(line: str) -> None:  # only rank 0 speaks
        if progress is not None:
            progress.write(line)
        elif ranks.is_main:
            print(line, flush=True)

    timed_seconds, timed_steps, clock = 0.0, 0, None
    val_loss = float("nan")
    model.train()
    for step in range(start_step, args.steps):  # `step` updates are done; this one makes it step + 1
        lr = learning_rate(step, max_lr=schedule["lr"], warmup_steps=schedule["warmup_steps"],
                           total_steps=schedule["horizon"], min_lr=schedule["min_lr"])
        x, y = get_batch(train_ids, args.batch_size * args.grad_accum, args.context_size, generator=generator)
        x, y = to_device(x, device), to_device(y, device)  # (B K, T)
        micro_batches = list(zip(x.chunk(args.grad_accum), y.chunk(args.grad_accum), strict=True))
        loss = train_step(trained, optimizer, micro_batches, lr, args.grad_clip, lambda: autocast(device_kind, amp_dtype))
        done = step + 1

        if clock is None:  # the first step of this run warms up; the clock starts after it
            synchronize()
            clock = time.perf_counter()
        else:
            timed_steps += 1
        if done % args.log_interval == 0 or done == args.steps:
            mean_loss = mean_over_ranks(loss.float(), ranks).item()  # the only host synchronisation
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
    n_flops = flops_per_token(matmul_parameters(model), config.n_layer, config.n_head, config.n_emb, config.context_size)
    summary = {"steps": args.steps, "val_loss": val_loss, "tokens_per_second": tokens_per_second,
               "tokens_per_step": tokens_per_step, "flops_per_token": n_flops, "world_size": ranks.world_size,
               "device": device_kind, "precision": precision, "mfu": None}
    peak = peak_bf16_flops(torch.cuda.get_device_name()) if device_kind == "cuda" else None
    if peak is not None:
        summary["mfu"] = tokens_per_second * n_flops / (ranks.world_size * peak)
    if ranks.is_main:
        log["summary"] = summary
        write_json_atomic(out / "log.json", log)
        print(f"validation loss {val_loss:.4f} after {args.steps} steps")
        print(f"throughput: {tokens_per_second:,.0f} tokens/s ({ranks.world_size} process(es) on {device_kind}, "
              f"{precision}; {n_flops / 1e6:.2f} MFLOP per token)")
        if summary["mfu"] is not None:
            print(f"MFU: {100 * summary['mfu']:.1f}% of the {torch.cuda.get_device_name()}'s "
                  f"{peak / 1e12:.0f} TFLOP/s dense bf16 peak")
        elif device_kind == "cuda":
            print(f"MFU: unknown peak for {torch.cuda.get_device_name()} (add it to PEAK_BF16_TFLOPS)")
    return summary


if __name__ == "__main__" and "ipykernel" not in sys.modules:  # `python -m llm_course.train`, not this notebook
    main()

# %% [markdown]
# **The sampler.** `python -m llm_course.sample` loads a checkpoint of the trainer (with
# `weights_only=True`) and the tokenizer saved beside it, and extends the prompt one token at a
# time with notebook 08's `generate`, printing each new piece of text at once. A BPE token can end
# in the middle of a character's bytes; such a piece waits until the character is complete.

# %% jupyter={"source_hidden": true}
#| export sample
"""`python -m llm_course.sample`: text from a checkpoint of `python -m llm_course.train`, printed as it is generated.

It loads `OUT/ckpt.pt` (or `--checkpoint PATH`) with `weights_only=True` and the run's tokenizer,
`tokenizer.json` beside it, encodes the prompt, and extends it with `llm_course.sampling.generate`
one token at a time (temperature, top-k, top-p as in notebook 08; a seeded generator on the model's
device), writing each piece of text as soon as its characters are complete. Each sample starts with
the prompt; several samples are separated by a line of dashes. Bad options, a missing checkpoint
and a prompt the vocabulary cannot spell stop it with one line on stderr (exit status 2).

Left out on purpose: batched generation, a key-value cache (`generate` recomputes the window) and
stop sequences.
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export sample
import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from llm_course.environment import best_device
from llm_course.modern import build_model, config_from_dict
from llm_course.sampling import generate
from llm_course.tokenizers import CharTokenizer
from llm_course.train import (
    load_tokenizer,
    non_negative_float,
    non_negative_int,
    positive_int,
    read_trainer_checkpoint,
)
from llm_course.training import load_checkpoint

SEPARATOR = "\n" + "-" * 40 + "\n"  # printed between samples


def probability(text: str) -> float:
    """An argparse type: a number in (0, 1]. `probability("0.9") -> 0.9`."""
    value = non_negative_float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1], got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m llm_course.sample`: every option has a default and a help text."""
    parser = argparse.ArgumentParser(
        prog="python -m llm_course.sample",
        description="Write text from a checkpoint of python -m llm_course.train, printing it as it is generated.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", default=None, help="the training run's folder: reads OUT/ckpt.pt and OUT/tokenizer.json "
                        "(default: runs/train, the trainer's)")
    parser.add_argument("--checkpoint", default=None, help="a checkpoint file instead of --out (its folder holds tokenizer.json)")
    parser.add_argument("--prompt", default=None, help="the text to continue (default: a newline)")
    parser.add_argument("--prompt-file", default=None, help="read the prompt from this UTF-8 file instead of --prompt")
    parser.add_argument("--max-new-tokens", type=positive_int, default=500, help="tokens to generate per sample")
    parser.add_argument("--temperature", type=non_negative_float, default=1.0,
                        help="divide the logits by this; below 1 sharper, above 1 flatter, 0 greedy (always the argmax)")
    parser.add_argument("--top-k", type=positive_int, default=None, help="sample only among the k most likely tokens")
    parser.add_argument("--top-p", type=probability, default=None,
                        help="sample only among the most likely tokens whose probability reaches p")
    parser.add_argument("--num-samples", type=positive_int, default=1, help="how many samples to write")
    parser.add_argument("--seed", type=non_negative_int, default=1337, help="random seed: the same seed gives the same text")
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"],
                        help="auto picks CUDA, then Apple MPS, then the CPU")
    return parser


def check_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Stop with `parser.error` on options that contradict each other or ask for a missing device."""
    if args.out is not None and args.checkpoint is not None:
        parser.error("give --out or --checkpoint, not both")
    if args.prompt is not None and args.prompt_file is not None:
        parser.error("give --prompt or --prompt-file, not both")
    if args.temperature == 0 and (args.top_k is not None or args.top_p is not None):
        parser.error("--temperature 0 is greedy decoding (always the most likely token): --top-k and --top-p "
                     "would change nothing; leave them out or use a temperature above 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA GPU is available here (try --device auto)")
    if args.device == "mps" and not torch.backends.mps.is_available():
        parser.error("--device mps: Apple's MPS backend is not available here (try --device auto)")


# %% jupyter={"source_hidden": true}
#| export sample
def load_run(checkpoint: Path, device: str):
    """The model of a trainer checkpoint, in evaluation mode on `device`, and the tokenizer saved beside it."""
    if not checkpoint.is_file():
        raise ValueError(f"no checkpoint at {checkpoint} (train one: python -m llm_course.train --out {checkpoint.parent})")
    config = read_trainer_checkpoint(checkpoint)["config"]
    tokenizer = load_tokenizer(checkpoint.parent / "tokenizer.json")
    if tokenizer.n_vocab != config["n_vocab"]:
        raise ValueError(f"{checkpoint.parent / 'tokenizer.json'} has {tokenizer.n_vocab} tokens, "
                         f"the model {config['n_vocab']}: they are not from the same run")
    model = build_model(config_from_dict(config))  # a GPT, or notebook 11's ModernGPT
    load_checkpoint(checkpoint, model=model)
    return model.to(device).eval(), tokenizer


def encode_prompt(tokenizer, prompt: str) -> list[int]:
    """The prompt's token ids; a `ValueError` naming the characters a character-level vocabulary lacks."""
    if not prompt:
        raise ValueError("the prompt is empty: give at least one character")
    if isinstance(tokenizer, CharTokenizer):
        unknown = "".join(c for c in dict.fromkeys(prompt) if c not in tokenizer.vocabulary)
        if unknown:
            raise ValueError(f"the prompt holds {unknown!r}, not in this model's vocabulary of {tokenizer.n_vocab} "
                             "characters (a character-level model knows only the characters of its corpus)")
    return tokenizer.encode(prompt)


def stream(model, tokenizer, prompt_ids: list[int], max_new_tokens: int, write: Callable[[str], None],
           **sampling) -> list[int]:
    """Extend `prompt_ids` one token at a time with `generate`; `write` each new piece of text; return all ids."""
    ids = torch.tensor(prompt_ids)
    shown = tokenizer.decode(prompt_ids)
    for _ in range(max_new_tokens):
        ids = generate(model, ids, 1, **sampling)  # (t + 1,)
        text = tokenizer.decode(ids.tolist())
        if not text.endswith("\ufffd"):  # a character whose bytes are not all there yet waits
            write(text[len(shown):])
            shown = text
    write(tokenizer.decode(ids.tolist())[len(shown):])
    return ids.tolist()


def main(argv: list[str] | None = None) -> list[str]:
    """Run `python -m llm_course.sample` with `argv` (default: the command line); return the samples' texts."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(args, parser)
    device = best_device() if args.device == "auto" else args.device
    checkpoint = Path(args.checkpoint) if args.checkpoint else Path(args.out or "runs/train") / "ckpt.pt"
    prompt = "\n" if args.prompt is None else args.prompt
    try:
        prompt = Path(args.prompt_file).read_text(encoding="utf-8") if args.prompt_file else prompt
    except (OSError, UnicodeDecodeError) as error:
        parser.error(f"--prompt-file {args.prompt_file}: {error}")
    try:
        model, tokenizer = load_run(checkpoint, device)
        prompt_ids = encode_prompt(tokenizer, prompt)
    except ValueError as error:
        parser.error(str(error))

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    generator = torch.Generator(device=device).manual_seed(args.seed)
    samples = []
    for number in range(args.num_samples):
        write(tokenizer.decode(prompt_ids))
        ids = stream(model, tokenizer, prompt_ids, args.max_new_tokens, write, temperature=args.temperature,
                     top_k=args.top_k, top_p=args.top_p, generator=generator)
        samples.append(tokenizer.decode(ids))
        write(SEPARATOR if number < args.num_samples - 1 else "\n")
    return samples


if __name__ == "__main__" and "ipykernel" not in sys.modules:  # `python -m llm_course.sample`, not this notebook
    main()

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

check_peak_memory()
