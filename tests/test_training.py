"""Tests for llm_course.training: the loss against PyTorch's, the schedule, the loop, checkpoints, the entropy floor."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from llm_course.gpt import GPT, GPTConfig
from llm_course.models import BigramModel, LanguageModel
from llm_course.training import (
    CheckpointError,
    MarkovSource,
    TrainingHistory,
    cross_entropy,
    evaluate,
    learning_rate,
    load_checkpoint,
    make_optimizer,
    save_checkpoint,
    train,
)


class TinyModel(LanguageModel):
    """A small model with context, dropout (random state) and a 1-D parameter: enough to test the loop."""

    def __init__(self, n_vocab: int = 7, context_size: int = 8, width: int = 16):
        super().__init__(n_vocab=n_vocab, context_size=context_size)
        self.token_embedding = nn.Embedding(n_vocab, width)
        self.position_embedding = nn.Embedding(context_size, width)
        self.dropout = nn.Dropout(0.1)
        self.hidden = nn.Linear(width, width)
        self.lm_head = nn.Linear(width, n_vocab)

    def forward(self, idx):
        idx = self.check_input(idx)  # (B, t)
        t = idx.shape[1]
        h = self.token_embedding(idx) + self.position_embedding(torch.arange(t))  # (B, t, C)
        h = torch.tanh(self.hidden(self.dropout(h))).cumsum(dim=1) / torch.arange(1, t + 1)[:, None]  # causal mean
        return self.lm_head(h)  # (B, t, V)


def tiny_data(n: int = 2000, n_vocab: int = 7, seed: int = 0) -> torch.Tensor:
    return torch.randint(n_vocab, (n,), generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- the loss


@settings(max_examples=150, deadline=None)
@given(
    batch=st.integers(1, 4),
    length=st.integers(1, 5),
    n_vocab=st.integers(1, 9),
    scale=st.sampled_from([1.0, 30.0, 1e4]),
    seed=st.integers(0, 2**31 - 1),
)
def test_cross_entropy_equals_pytorch(batch, length, n_vocab, scale, seed):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, length, n_vocab, generator=generator, dtype=torch.float64) * scale
    logits[..., 0] = scale  # extreme values at the edges of the vocabulary
    logits[..., -1] = -scale
    targets = torch.randint(n_vocab, (batch, length), generator=generator)
    targets[0, 0], targets[-1, -1] = 0, n_vocab - 1
    expected = F.cross_entropy(logits.reshape(-1, n_vocab), targets.reshape(-1))
    assert torch.allclose(cross_entropy(logits, targets), expected, rtol=1e-10, atol=1e-10)
    flat = cross_entropy(logits.reshape(-1, n_vocab), targets.reshape(-1))  # (N, V) and (N,)
    assert torch.allclose(flat, expected, rtol=1e-10, atol=1e-10)


def test_cross_entropy_float32_extremes_and_gradient():
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [0.0, 0.0, 0.0]], requires_grad=True)
    targets = torch.tensor([0, 2, 2])
    ours = cross_entropy(logits, targets)
    theirs = F.cross_entropy(logits, targets)
    assert torch.isfinite(ours) and torch.allclose(ours, theirs)
    (grad_ours,) = torch.autograd.grad(ours, logits)
    (grad_theirs,) = torch.autograd.grad(theirs, logits)
    assert torch.allclose(grad_ours, grad_theirs, atol=1e-7)
    uniform = cross_entropy(torch.zeros(2, 3, 5), torch.zeros(2, 3, dtype=torch.long))
    assert math.isclose(uniform.item(), math.log(5), rel_tol=1e-6)


@pytest.mark.parametrize(
    ("logits", "targets", "error", "message"),
    [
        (torch.zeros(2, 3, 4), torch.zeros(2, 4, dtype=torch.long), ValueError, r"\(2, 4\).*\(2, 3, 4\)"),
        (torch.zeros(4), torch.zeros((), dtype=torch.long), ValueError, r"shape \(4,\)"),
        (torch.zeros(2, 4), torch.tensor([0, 4]), ValueError, r"target index 4 .*n_vocab=4"),
        (torch.zeros(2, 4), torch.tensor([-1, 0]), ValueError, r"target index -1"),
        (torch.zeros(2, 4), torch.tensor([0.0, 1.0]), TypeError, r"torch.float32"),
        (torch.zeros(2, 4, dtype=torch.long), torch.tensor([0, 1]), TypeError, r"torch.int64"),
        (torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), ValueError, r"empty"),
    ],
)
def test_cross_entropy_rejects_bad_input(logits, targets, error, message):
    with pytest.raises(error, match=message):
        cross_entropy(logits, targets)


# ---------------------------------------------------------------- schedule and optimiser


def test_learning_rate_schedule_by_hand():
    rates = [learning_rate(s, max_lr=1.0, warmup_steps=4, total_steps=12, min_lr=0.1) for s in range(13)]
    assert rates[:4] == [0.25, 0.5, 0.75, 1.0]
    assert rates[4] == 1.0 and math.isclose(rates[8], 0.55) and math.isclose(rates[12], 0.1)
    assert all(a >= b for a, b in zip(rates[3:], rates[4:], strict=False))  # never rises after the warm-up
    with pytest.raises(ValueError, match="warmup_steps=5 must not exceed total_steps=4"):
        learning_rate(0, max_lr=1.0, warmup_steps=5, total_steps=4)
    with pytest.raises(ValueError, match="min_lr"):
        learning_rate(0, max_lr=1.0, warmup_steps=0, total_steps=4, min_lr=2.0)
    with pytest.raises(ValueError, match="step must be an int >= 0, got -1"):
        learning_rate(-1, max_lr=1.0, warmup_steps=0, total_steps=4)


def test_make_optimizer_decays_matrices_only_and_counts_tied_weights_once():
    model = TinyModel()
    optimizer = make_optimizer(model, lr=1e-3, weight_decay=0.1)
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and all(p.ndim == 2 for p in decayed["params"])
    assert plain["weight_decay"] == 0.0 and all(p.ndim == 1 for p in plain["params"])
    assert optimizer.defaults["betas"] == (0.9, 0.95)
    tied = nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 5, bias=False))
    tied[1].weight = tied[0].weight
    assert sum(len(g["params"]) for g in make_optimizer(tied, lr=1e-3, weight_decay=0.1).param_groups) == 1
    with pytest.raises(ValueError, match="lr must be > 0, got 0"):
        make_optimizer(model, lr=0, weight_decay=0.1)


# ---------------------------------------------------------------- the loop


def test_evaluate_restores_mode_and_matches_the_uniform_floor():
    model = BigramModel(n_vocab=7, context_size=8)  # zero logits: the uniform model
    model.train()
    loss = evaluate(model, tiny_data(), batch_size=4, n_batches=3, generator=torch.Generator().manual_seed(0))
    assert math.isclose(loss, math.log(7), rel_tol=1e-6)
    assert model.training
    model.eval()
    evaluate(model, tiny_data(), batch_size=4, n_batches=1)
    assert not model.training


def test_gpt_starts_near_the_uniform_loss():
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_vocab=65, context_size=32, n_emb=64, n_layer=2, n_head=2))
    data = torch.randint(65, (5000,), generator=torch.Generator().manual_seed(0))
    loss = evaluate(model, data, batch_size=16, n_batches=4, generator=torch.Generator().manual_seed(1))
    assert abs(loss - math.log(65)) < 0.1


def test_train_overfits_a_single_batch():
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_vocab=7, context_size=8, n_emb=32, n_layer=1, n_head=2))
    data = tiny_data(9)  # exactly one window: every batch is the same sequence
    history = train(model, data, data, steps=150, batch_size=2, max_lr=3e-2, warmup_steps=10, min_lr=1e-3,
                    weight_decay=0.0, eval_interval=100, eval_batches=1, progress=False)
    assert isinstance(history, TrainingHistory)
    assert history.steps == [100, 150] and len(history.batch_loss) == 150
    assert history.tokens == 150 * 2 * 8 and history.seconds > 0
    assert history.batch_loss[0] > 1.5 and history.val_loss[-1] < 0.1


def test_train_callback_can_stop_early():
    model = TinyModel()
    seen = []
    history = train(model, tiny_data(), None, steps=50, batch_size=2, eval_interval=10, progress=False,
                    callback=lambda step, loss: seen.append(step) or step == 7)
    assert seen == list(range(1, 8)) and history.steps == [7] and math.isnan(history.val_loss[0])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"steps": 0}, "steps must be an int >= 1, got 0"),
        ({"batch_size": -2}, "batch_size must be an int >= 1, got -2"),
        ({"train_ids": torch.tensor([], dtype=torch.long)}, "train_ids is empty"),
        ({"train_ids": torch.arange(5)}, r"train_ids holds 5 tokens, fewer than context_size \+ 1 = 9"),
        ({"val_ids": torch.arange(3)}, "val_ids holds 3 tokens"),
        ({"context_size": 9}, "context_size=9 exceeds the model's context_size=8"),
        ({"start_step": 10}, "start_step=10 leaves nothing to do"),
        ({"grad_clip": 0.0}, "grad_clip must be > 0 or None, got 0.0"),
        ({"warmup_steps": 20}, "warmup_steps=20 must not exceed total_steps=10"),
        ({"max_lr": -1.0}, "max_lr must be > 0, got -1.0"),
    ],
)
def test_train_rejects_bad_arguments(changes, message):
    arguments = {"train_ids": tiny_data(), "val_ids": tiny_data(), "steps": 10, "batch_size": 2, "progress": False}
    arguments.update(changes)
    with pytest.raises(ValueError, match=message):
        train(TinyModel(), arguments.pop("train_ids"), arguments.pop("val_ids"), **arguments)


def test_train_rejects_float_data():
    with pytest.raises(TypeError, match="torch.float32"):
        train(TinyModel(), torch.zeros(100), None, steps=1, batch_size=1, progress=False)


# ---------------------------------------------------------------- checkpoints


def run(model, optimizer, generator, steps, start_step=0, stop_at=None):
    return train(model, tiny_data(), tiny_data(seed=1), steps=steps, start_step=start_step, batch_size=4,
                 max_lr=1e-2, warmup_steps=3, eval_interval=4, eval_batches=2, optimizer=optimizer,
                 generator=generator, progress=False, callback=lambda step, loss: step == stop_at)


def fresh(seed=0):
    torch.manual_seed(seed)
    model = TinyModel()
    return model, make_optimizer(model, lr=1e-2, weight_decay=0.1), torch.Generator().manual_seed(123)


def test_resume_is_bitwise_exact(tmp_path):
    total, first = 12, 5
    model, optimizer, generator = fresh()
    run(model, optimizer, generator, total)
    one_go = {k: v.clone() for k, v in model.state_dict().items()}

    model, optimizer, generator = fresh()
    run(model, optimizer, generator, total)  # burn: the resumed run must not depend on these
    model, optimizer, generator = fresh()
    assert run(model, optimizer, generator, total, stop_at=first).steps == [4, first]  # the schedule of all 12
    save_checkpoint(tmp_path / "ckpt.pt", model=model, optimizer=optimizer, step=first, config={"width": 16},
                    generator=generator, extra={"note": "half way"})
    torch.manual_seed(999)  # disturb every random state: loading must put them back
    random.seed(999)
    np.random.seed(999)
    model, optimizer, generator = fresh(seed=42)
    record = load_checkpoint(tmp_path / "ckpt.pt", model=model, optimizer=optimizer, generator=generator)
    assert record == {"step": first, "config": {"width": 16}, "extra": {"note": "half way"}}
    run(model, optimizer, generator, total, start_step=record["step"])
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, one_go[name]), name


def test_checkpoint_restores_python_and_numpy_random_states(tmp_path):
    model = TinyModel()
    random.seed(1)
    np.random.seed(2)
    save_checkpoint(tmp_path / "c.pt", model=model, step=0)
    expected = (random.random(), float(np.random.rand()), torch.rand(1).item())
    load_checkpoint(tmp_path / "c.pt", model=TinyModel())
    assert (random.random(), float(np.random.rand()), torch.rand(1).item()) == expected
    assert isinstance(torch.load(tmp_path / "c.pt", weights_only=True), dict)


def test_checkpoint_stores_a_dataclass_config(tmp_path):
    from dataclasses import dataclass

    @dataclass
    class Config:
        width: int = 16

    save_checkpoint(tmp_path / "c.pt", model=TinyModel(), step=3, config=Config())
    assert load_checkpoint(tmp_path / "c.pt", model=TinyModel())["config"] == {"width": 16}


def test_checkpoint_of_another_shape_is_rejected(tmp_path):
    save_checkpoint(tmp_path / "c.pt", model=TinyModel(width=16), step=0)
    model = TinyModel(width=8)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    message = r"'token_embedding.weight' has shape \(7, 16\) in the checkpoint but \(7, 8\)"
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(tmp_path / "c.pt", model=model)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # nothing changed
    with pytest.raises(CheckpointError, match="missing from the file"):
        load_checkpoint(tmp_path / "c.pt", model=BigramModel(7, 8))


def test_truncated_checkpoint_is_rejected_and_the_previous_one_survives(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_checkpoint(path, model=TinyModel(), step=1)
    good = path.read_bytes()
    (tmp_path / "broken.pt").write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="broken.pt is not a readable checkpoint"):
        load_checkpoint(tmp_path / "broken.pt", model=TinyModel())
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        (tmp_path / "noise.pt").write_bytes(b"\x00not a zip file")
        load_checkpoint(tmp_path / "noise.pt", model=TinyModel())

    def crash_half_way(obj, file, *args, **kwargs):  # a crash while writing the next checkpoint
        file.write(good[:100])
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model=TinyModel(), step=2)
    monkeypatch.undo()
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["broken.pt", "c.pt", "noise.pt"]
    assert load_checkpoint(path, model=TinyModel())["step"] == 1
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt", model=TinyModel())


# ---------------------------------------------------------------- how low the loss can go


def test_entropy_rate_by_hand_and_by_monte_carlo():
    # Two states: stay with probability 0.9 / 0.6. Stationary pi = (0.8, 0.2).
    source = MarkovSource(torch.tensor([[0.9, 0.1], [0.4, 0.6]], dtype=torch.float64))
    assert torch.allclose(source.stationary(), torch.tensor([0.8, 0.2], dtype=torch.float64))
    h = lambda p: -(p * math.log(p) + (1 - p) * math.log(1 - p))  # noqa: E731
    assert math.isclose(source.entropy_rate(), 0.8 * h(0.9) + 0.2 * h(0.4), rel_tol=1e-9)

    source = MarkovSource.random(6, sharpness=2.0, generator=torch.Generator().manual_seed(0))
    symbols = source.sample(200_000, generator=torch.Generator().manual_seed(1))
    monte_carlo = -source.transition[symbols[:-1], symbols[1:]].log().mean().item()
    assert abs(monte_carlo - source.entropy_rate()) < 0.01
    frequencies = torch.bincount(symbols, minlength=6).double() / len(symbols)
    assert torch.allclose(frequencies, source.stationary(), atol=0.01)


def test_a_short_run_approaches_the_entropy_rate_from_above():
    source = MarkovSource.random(6, sharpness=2.0, generator=torch.Generator().manual_seed(0))
    data = source.sample(20_000, generator=torch.Generator().manual_seed(1))
    train_ids, val_ids = data[:18_000], data[18_000:]
    torch.manual_seed(0)
    model = BigramModel(n_vocab=6, context_size=16)
    history = train(model, train_ids, val_ids, steps=150, batch_size=16, max_lr=0.1, warmup_steps=10, min_lr=0.01,
                    weight_decay=0.0, eval_interval=150, eval_batches=20, progress=False)
    H = source.entropy_rate()
    assert H - 0.05 < history.val_loss[-1] < H + 0.05


def test_markov_source_rejects_bad_matrices():
    with pytest.raises(ValueError, match="sum to 1"):
        MarkovSource(torch.tensor([[0.5, 0.4], [0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        MarkovSource(torch.ones(2, 3) / 3)
