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

# %%

# %% [markdown]
# # 07 · Cross-entropy and training
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/07_cross_entropy_training.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/07_cross_entropy_training.ipynb)
#
# A freshly built GPT (notebook 06) gives every token about the same probability: its parameters
# $\theta$ are random. This notebook teaches it. It defines what "good" means, a number called the
# **cross-entropy loss**, shows why every position of every sequence is a training example, finds
# the floors a loss cannot go below, and then trains a GPT on Tiny Shakespeare in a few minutes on
# a laptop CPU. It ends with checkpoints that let a run stop and resume exactly.
#
# It writes the module `llm_course.training`.

# %%
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
#| default_exp training

# %%
#| export
"""Training a language model: the cross-entropy loss, the learning-rate schedule, the loop, checkpoints.

`cross_entropy(logits, targets)` is the loss of the course, -log alpha[s_{t+1}] averaged over
every position of every sequence, computed from logits with a log-sum-exp so that it never
overflows. `learning_rate` is a linear warm-up followed by a cosine decay. `make_optimizer` builds
AdamW with weight decay on the matrices only. `evaluate` estimates the loss of a model on a split
from random batches; `train` is the training loop (AdamW, warm-up and cosine decay, gradient
clipping, periodic validation, a progress bar) and returns a `TrainingHistory`.
`save_checkpoint` / `load_checkpoint` store and restore the model, the optimiser, the step, the
configuration and every random-number state, atomically, so that a resumed run continues exactly
as if it had never stopped. `MarkovSource` is a source of text whose entropy rate, the lowest
loss any model can reach on it, is known exactly.

Left out on purpose: mixed precision, gradient accumulation, compilation and several processes
(`llm_course.train`, notebook 09), and sampling (`llm_course.sampling`, notebook 08).
"""

from __future__ import annotations

# %%
#| export
import bisect
import dataclasses
import math
import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from llm_course.data import get_batch

# %%
#| export
def _check_int(name: str, value, minimum: int) -> int:
    """`value` if it is an int >= `minimum`, else a `ValueError` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean of $-\\log\\alpha_{s_{t+1}}$ over every position: logits `(B, t, V)` or `(N, V)`, targets `(B, t)` or `(N,)`.

    $\\alpha$ is the softmax of each position's logits, so $-\\log\\alpha_y = \\log\\sum_i e^{z_i} - z_y$;
    the log-sum-exp is computed with the largest logit subtracted, so that logits of any size
    are fine. Half-precision logits are computed in float32.

    >>> round(cross_entropy(torch.zeros(1, 4), torch.tensor([2])).item(), 4)  # uniform: ln 4
    1.3863
    >>> round(cross_entropy(torch.tensor([[1e4, 0.0]]), torch.tensor([0])).item(), 4)  # sure and right
    0.0
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            f"logits and targets must be tensors, got {type(logits).__name__} and {type(targets).__name__}"
        )
    if not logits.dtype.is_floating_point:
        raise TypeError(f"logits must be a floating-point tensor, got dtype {logits.dtype}")
    if targets.dtype.is_floating_point or targets.dtype.is_complex or targets.dtype == torch.bool:
        raise TypeError(f"targets must hold integer token indices, got dtype {targets.dtype}")
    if logits.ndim not in (2, 3):
        raise ValueError(f"logits must have shape (B, t, V) or (N, V), got shape {tuple(logits.shape)}")
    if tuple(targets.shape) != tuple(logits.shape[:-1]):
        raise ValueError(
            f"targets of shape {tuple(targets.shape)} do not match logits of shape {tuple(logits.shape)}: "
            f"expected targets of shape {tuple(logits.shape[:-1])}"
        )
    n_vocab = logits.shape[-1]
    if targets.numel() == 0 or n_vocab == 0:
        raise ValueError(f"cannot average the loss over an empty batch: logits of shape {tuple(logits.shape)}")
    low, high = targets.min().item(), targets.max().item()
    if low < 0 or high >= n_vocab:
        bad = low if low < 0 else high
        raise ValueError(f"target index {bad} is out of range for n_vocab={n_vocab} (0..{n_vocab - 1})")
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    logits = logits.reshape(-1, n_vocab)  # (N, V), N = B * t
    targets = targets.reshape(-1).long()  # (N,)
    largest = logits.amax(dim=-1, keepdim=True)  # (N, 1)
    log_normaliser = largest.squeeze(-1) + (logits - largest).exp().sum(dim=-1).log()  # (N,) log sum_i e^{z_i}
    true_logit = logits.gather(1, targets[:, None]).squeeze(1)  # (N,) z_{s_{t+1}}
    return (log_normaliser - true_logit).mean()  # mean over positions of -log alpha_{s_{t+1}}

# %%
#| export
def learning_rate(step: int, *, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """The learning rate of update number `step` (0-based): a linear warm-up, then a cosine decay to `min_lr`.

    Steps `0..warmup_steps-1` climb linearly to `max_lr` (step `warmup_steps-1` reaches it); the
    remaining steps follow half a cosine from `max_lr` down to `min_lr`, reached at `total_steps`.

    >>> [round(learning_rate(s, max_lr=1.0, warmup_steps=2, total_steps=6), 3) for s in range(7)]
    [0.5, 1.0, 1.0, 0.854, 0.5, 0.146, 0.0]
    """
    _check_int("step", step, 0)
    _check_int("warmup_steps", warmup_steps, 0)
    _check_int("total_steps", total_steps, 1)
    if warmup_steps > total_steps:
        raise ValueError(f"warmup_steps={warmup_steps} must not exceed total_steps={total_steps}")
    if not max_lr > 0:
        raise ValueError(f"max_lr must be > 0, got {max_lr!r}")
    if not 0 <= min_lr <= max_lr:
        raise ValueError(f"min_lr must lie in 0..max_lr={max_lr}, got {min_lr!r}")
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)  # 0 -> 1
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def make_optimizer(
    model: nn.Module, *, lr: float, weight_decay: float, betas: tuple[float, float] = (0.9, 0.95)
) -> torch.optim.AdamW:
    """AdamW over `model`'s parameters, with weight decay on the matrices (2-D and up) only.

    Biases, layer-norm gains and other vectors are not decayed: shrinking them towards zero does
    not regularise anything. A tied weight (one tensor used twice) appears once.

    >>> optimizer = make_optimizer(nn.Linear(3, 2), lr=1e-3, weight_decay=0.1)
    >>> [(len(g["params"]), g["weight_decay"]) for g in optimizer.param_groups]
    [(1, 0.1), (1, 0.0)]
    """
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    parameters = [p for p in model.parameters() if p.requires_grad]  # each tensor once, even if tied
    if not parameters:
        raise ValueError(f"{type(model).__name__} has no trainable parameters to optimise")
    decay = [p for p in parameters if p.ndim >= 2]
    no_decay = [p for p in parameters if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=betas)

# %%
#| export
def _model_device(model: nn.Module) -> torch.device:
    """The device of `model`'s first parameter or buffer (the CPU for a model with neither)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def _check_ids(name: str, ids, context_size: int) -> torch.Tensor:
    """`ids` as a 1-D integer tensor long enough for one window of `context_size + 1` tokens."""
    if ids is None:
        raise ValueError(f"{name} is None; pass a 1-D sequence of token indices")
    ids = torch.as_tensor(ids)
    if ids.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(ids.shape)}")
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer token indices, got dtype {ids.dtype}")
    if len(ids) == 0:
        raise ValueError(f"{name} is empty: there is nothing to learn from")
    if len(ids) < context_size + 1:
        raise ValueError(
            f"{name} holds {len(ids)} tokens, fewer than context_size + 1 = {context_size + 1} (one window and its target)"
        )
    return ids


def _context_size(model: nn.Module, context_size: int | None) -> int:
    """`context_size`, or the model's own when None; never more than the model accepts."""
    longest = getattr(model, "context_size", None)
    if context_size is None:
        if longest is None:
            raise ValueError(f"{type(model).__name__} has no context_size attribute; pass context_size")
        return longest
    _check_int("context_size", context_size, 1)
    if longest is not None and context_size > longest:
        raise ValueError(f"context_size={context_size} exceeds the model's context_size={longest}")
    return context_size


def evaluate(
    model: nn.Module,
    ids,
    *,
    batch_size: int,
    context_size: int | None = None,
    n_batches: int = 20,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
) -> float:
    """The mean cross-entropy of `model` on `n_batches` random batches of `ids` (from `get_batch`).

    Runs under `torch.no_grad()` with the model in evaluation mode (no dropout) and puts the model
    back in the mode it was in. Pass a seeded `generator` to score the same batches every time.
    """
    context_size = _context_size(model, context_size)
    ids = _check_ids("ids", ids, context_size)
    _check_int("batch_size", batch_size, 1)
    _check_int("n_batches", n_batches, 1)
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    try:
        total = 0.0
        with torch.no_grad():
            for _ in range(n_batches):
                x, y = get_batch(ids, batch_size, context_size, generator=generator, device=device)  # (B, T)
                total += cross_entropy(model(x), y).item()
        return total / n_batches
    finally:
        model.train(was_training)

# %%
#| export
@dataclass
class TrainingHistory:
    """What `train` measured: one entry per evaluation, plus the loss of every training batch."""

    steps: list[int] = field(default_factory=list)  # updates done at each evaluation
    train_loss: list[float] = field(default_factory=list)  # mean training-batch loss since the previous evaluation
    val_loss: list[float] = field(default_factory=list)  # `evaluate` on the validation split (nan without one)
    batch_loss: list[float] = field(default_factory=list)  # the loss of every training batch, in order
    learning_rates: list[float] = field(default_factory=list)  # the learning rate of every update
    tokens: int = 0  # training tokens seen in this call (batch_size * context_size per update)
    seconds: float = 0.0  # wall-clock time of this call, evaluations included


def train(
    model: nn.Module,
    train_ids,
    val_ids=None,
    *,
    steps: int,
    batch_size: int,
    context_size: int | None = None,
    max_lr: float = 3e-3,
    warmup_steps: int | None = None,
    min_lr: float = 3e-4,
    weight_decay: float = 0.1,
    grad_clip: float | None = 1.0,
    eval_interval: int = 100,
    eval_batches: int = 10,
    eval_seed: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
    start_step: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
    callback: Callable[[int, float], bool | None] | None = None,
) -> TrainingHistory:
    """Train `model` on `train_ids` until `steps` updates are done; returns a `TrainingHistory`.

    Each update draws a batch with `get_batch(train_ids, batch_size, context_size, generator)`,
    computes `cross_entropy`, back-propagates, clips the gradient norm to `grad_clip` (None: no
    clipping) and takes an AdamW step (`make_optimizer(model, lr=max_lr, weight_decay=...)` unless
    an `optimizer` is given) at the rate `learning_rate(step, ...)` (`warmup_steps` defaults to
`min(100, steps // 10)`). Every `eval_interval` updates
    and after the last, the validation loss is estimated with `evaluate` on `eval_batches` batches
    drawn by a generator seeded with `eval_seed` (the same batches every time; the training
    batches are not disturbed). `start_step` resumes a run: updates `start_step..steps-1` are done,
    with the schedule of the whole run. `callback(step, loss)` is called after every update with
    the number of updates done and the batch loss; returning True stops training early.
    """
    context_size = _context_size(model, context_size)
    _check_int("steps", steps, 1)
    _check_int("batch_size", batch_size, 1)
    _check_int("eval_interval", eval_interval, 1)
    _check_int("eval_batches", eval_batches, 1)
    _check_int("start_step", start_step, 0)
    if start_step >= steps:
        raise ValueError(f"start_step={start_step} leaves nothing to do: it must be less than steps={steps}")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"grad_clip must be > 0 or None, got {grad_clip!r}")
    if warmup_steps is None:
        warmup_steps = min(100, steps // 10)
    learning_rate(0, max_lr=max_lr, warmup_steps=warmup_steps, total_steps=steps, min_lr=min_lr)  # checks them
    train_ids = _check_ids("train_ids", train_ids, context_size)
    if val_ids is not None:
        val_ids = _check_ids("val_ids", val_ids, context_size)
    device = torch.device(device) if device is not None else _model_device(model)
    if optimizer is None:
        optimizer = make_optimizer(model, lr=max_lr, weight_decay=weight_decay)

    from tqdm.auto import tqdm

    history = TrainingHistory()
    since_eval: list[float] = []
    started = time.perf_counter()
    model.train()
    bar = tqdm(total=steps, initial=start_step, unit="step", disable=not progress)
    try:
        for step in range(start_step, steps):  # `step` updates are done; this one makes step + 1
            lr = learning_rate(step, max_lr=max_lr, warmup_steps=warmup_steps, total_steps=steps, min_lr=min_lr)
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = get_batch(train_ids, batch_size, context_size, generator=generator, device=device)  # (B, T)
            loss = cross_entropy(model(x), y)  # logits (B, T, V) against targets (B, T)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()

            done, loss_value = step + 1, loss.item()
            history.batch_loss.append(loss_value)
            history.learning_rates.append(lr)
            history.tokens += batch_size * context_size
            since_eval.append(loss_value)
            stop = bool(callback(done, loss_value)) if callback is not None else False
            if done % eval_interval == 0 or done == steps or stop:
                val_loss = float("nan")
                if val_ids is not None:
                    val_loss = evaluate(
                        model, val_ids, batch_size=batch_size, context_size=context_size, n_batches=eval_batches,
                        generator=torch.Generator().manual_seed(eval_seed), device=device,
                    )
                history.steps.append(done)
                history.train_loss.append(sum(since_eval) / len(since_eval))
                history.val_loss.append(val_loss)
                since_eval = []
                bar.set_postfix(train=f"{history.train_loss[-1]:.3f}", val=f"{val_loss:.3f}")
            bar.update(1)
            if stop:
                break
    finally:
        bar.close()
        history.seconds = time.perf_counter() - started
    return history

# %%
#| export
CHECKPOINT_FORMAT = "llm-course-checkpoint/1"  # written into every checkpoint, checked on loading


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, or does not fit the model or optimiser it is loaded into."""


def _random_states(generator: torch.Generator | None) -> dict:
    """Every random-number state, as tensors and plain values (loadable with `weights_only=True`)."""
    version, internal, gauss_next = random.getstate()
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss_next": gauss_next},
        "numpy": {
            "name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian),
        },
        "generator": generator.get_state() if generator is not None else None,
    }


def _restore_random_states(states: dict, generator: torch.Generator | None) -> None:
    """Put back what `_random_states` stored."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
    python = states["python"]
    random.setstate((python["version"], tuple(python["internal"].tolist()), python["gauss_next"]))
    numpy = states["numpy"]
    np.random.set_state(
        (numpy["name"], numpy["keys"].numpy().astype(np.uint32), numpy["position"], numpy["has_gauss"], numpy["cached_gaussian"])
    )
    if generator is not None:
        generator.set_state(states["generator"])


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    step: int,
    config: dict | None = None,
    generator: torch.Generator | None = None,
    extra: dict | None = None,
) -> Path:
    """Write model, optimiser, step, configuration and every random-number state to `path`, atomically.

    The random states are PyTorch's (CPU, and CUDA when present), Python's `random`, NumPy's and
    that of `generator` (the batch generator). `config` is a dict, or a dataclass such as
    `GPTConfig` (stored as a dict). The file is written to a temporary file in the same folder,
    then renamed over `path` (`os.replace`), so a crash never leaves a half-written checkpoint
    where a good one was. Everything is stored as tensors and plain values, so that
    `torch.load(path, weights_only=True)` reads it.
    """
    _check_int("step", step, 0)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict, a dataclass or None, got {type(config).__name__}")
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"extra must be a dict or None, got {type(extra).__name__}")
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "step": step,
        "config": config,
        "random_states": _random_states(generator),
        "extra": extra if extra is not None else {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(checkpoint, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary_name, path)
    except BaseException:
        Path(temporary_name).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(
    path: str | os.PathLike,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
) -> dict:
    """Restore `model` (and `optimizer`, `generator`, every random state) from `path`; return its step, config, extra.

    Reads with `torch.load(weights_only=True)`: nothing in the file is executed. A truncated or
    corrupt file, a file that is not a checkpoint, or a model whose parameters have other names
    or shapes raise `CheckpointError` (a `ValueError`) that says what is wrong, before anything is
    changed. The returned dict is `{"step": ..., "config": ..., "extra": ...}`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zip, random bytes, a pickle of forbidden objects...
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): {error}") from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not an llm_course checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    stored, own = checkpoint["model"], model.state_dict()
    missing, unexpected = sorted(own.keys() - stored.keys()), sorted(stored.keys() - own.keys())
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not fit this {type(model).__name__}: parameters missing from the file {missing[:5]}, "
            f"unexpected in the file {unexpected[:5]}"
        )
    for name, tensor in own.items():
        if tuple(stored[name].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{path} does not fit this {type(model).__name__}: parameter {name!r} has shape "
                f"{tuple(stored[name].shape)} in the checkpoint but {tuple(tensor.shape)} in the model"
            )
    if optimizer is not None:
        if checkpoint["optimizer"] is None:
            raise CheckpointError(f"{path} holds no optimiser state, but an optimizer was passed")
        stored_groups = [len(g["params"]) for g in checkpoint["optimizer"]["param_groups"]]
        own_groups = [len(g["params"]) for g in optimizer.param_groups]
        if stored_groups != own_groups:
            raise CheckpointError(
                f"{path} holds an optimiser with parameter groups of sizes {stored_groups}, "
                f"but the optimizer passed has {own_groups}"
            )
    if generator is not None and checkpoint["random_states"]["generator"] is None:
        raise CheckpointError(f"{path} holds no batch-generator state, but a generator was passed")
    model.load_state_dict(stored)
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    _restore_random_states(checkpoint["random_states"], generator)
    return {"step": checkpoint["step"], "config": checkpoint["config"], "extra": checkpoint["extra"]}

# %%
#| export
class MarkovSource:
    """A first-order Markov chain over `n` symbols with known transition probabilities.

    `transition[i, j]` is the probability that symbol `j` follows symbol `i` (rows sum to 1).
    `stationary()` is the long-run distribution $\\pi$ ($\\pi P = \\pi$) and `entropy_rate()` the
    entropy rate $H = -\\sum_i \\pi_i \\sum_j P_{ij}\\ln P_{ij}$ in nats per symbol: the lowest
    average cross-entropy any model can reach on text drawn from the chain.

    >>> source = MarkovSource(torch.tensor([[0.5, 0.5], [0.5, 0.5]]))   # fair coin flips
    >>> round(source.entropy_rate(), 4)                                  # ln 2
    0.6931
    """

    def __init__(self, transition: torch.Tensor):
        transition = torch.as_tensor(transition, dtype=torch.float64)
        if transition.ndim != 2 or transition.shape[0] != transition.shape[1] or transition.shape[0] < 1:
            raise ValueError(f"transition must be a square (n, n) matrix, got shape {tuple(transition.shape)}")
        if (transition < 0).any():
            raise ValueError(f"transition probabilities must be >= 0, got a minimum of {transition.min().item()}")
        row_sums = transition.sum(dim=1)
        if not torch.allclose(row_sums, torch.ones_like(row_sums), atol=1e-6):
            raise ValueError(f"every row of transition must sum to 1, got row sums {[round(s, 4) for s in row_sums.tolist()]}")
        self.transition = transition  # (n, n), P[i, j] = P(next = j | current = i)
        self.n_symbols = transition.shape[0]

    @classmethod
    def random(cls, n_symbols: int, sharpness: float = 2.0, generator: torch.Generator | None = None) -> MarkovSource:
        """A chain whose rows are the softmax of Gaussian logits times `sharpness` (larger: more predictable)."""
        _check_int("n_symbols", n_symbols, 1)
        if not sharpness >= 0:
            raise ValueError(f"sharpness must be >= 0, got {sharpness!r}")
        logits = sharpness * torch.randn(n_symbols, n_symbols, generator=generator, dtype=torch.float64)  # (n, n)
        return cls(torch.softmax(logits, dim=1))

    def stationary(self) -> torch.Tensor:
        """$\\pi$ with $\\pi P = \\pi$, $\\sum_i\\pi_i = 1$: the left eigenvector of eigenvalue 1."""
        n = self.n_symbols
        # Solve pi (P - I) = 0 together with sum(pi) = 1, as a least-squares system.
        system = torch.cat([(self.transition - torch.eye(n, dtype=torch.float64)).T, torch.ones(1, n, dtype=torch.float64)])
        rhs = torch.cat([torch.zeros(n, dtype=torch.float64), torch.ones(1, dtype=torch.float64)])
        pi = torch.linalg.lstsq(system, rhs[:, None]).solution.squeeze(1)  # (n,)
        return pi.clamp(min=0) / pi.clamp(min=0).sum()

    def entropy_rate(self) -> float:
        """$H = -\\sum_i\\pi_i\\sum_j P_{ij}\\ln P_{ij}$, in nats per symbol."""
        p = self.transition
        row_entropy = -(torch.where(p > 0, p * p.log(), torch.zeros_like(p))).sum(dim=1)  # (n,)
        return float((self.stationary() * row_entropy).sum())

    def sample(self, length: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`length` symbols of the chain, the first drawn from $\\pi$: a 1-D `torch.long` tensor."""
        _check_int("length", length, 1)
        uniforms = torch.rand(length, generator=generator, dtype=torch.float64)  # one uniform per symbol
        cumulative = self.transition.cumsum(dim=1)  # (n, n)
        cumulative[:, -1] = 1.0  # guard against rounding
        first = int(torch.searchsorted(self.stationary().cumsum(0).contiguous(), uniforms[:1]).clamp(max=self.n_symbols - 1))
        symbols = [first]
        rows = cumulative.tolist()
        for u in uniforms[1:].tolist():
            symbols.append(min(bisect.bisect_right(rows[symbols[-1]], u), self.n_symbols - 1))
        return torch.tensor(symbols, dtype=torch.long)
