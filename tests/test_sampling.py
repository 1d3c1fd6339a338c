"""Tests for llm_course.sampling: draws follow alpha, the cuts keep what they promise, generate's contract."""

from __future__ import annotations

import doctest
import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

import llm_course.sampling as sampling
from llm_course.models import BigramModel, LanguageModel
from llm_course.sampling import (
    apply_temperature,
    entropy,
    evaluation_mode,
    explore,
    generate,
    sample_next,
    sampling_probs,
    top_k_filter,
    top_p_filter,
)

# Chi-square critical value for 5 degrees of freedom at a false-alarm rate of 1e-3
# (the 0.999 quantile, from any chi-square table): the test below fails by chance once in 1,000 seeds.
CHI2_CRITICAL_DF5_P001 = 20.515


def test_docstring_examples():
    assert doctest.testmod(sampling).failed == 0


def test_apply_temperature_and_entropy_against_worked_examples():
    assert apply_temperature(torch.tensor([1.0, 2.0, 3.0]), 0.5).tolist() == [-4.0, -2.0, 0.0]
    logits = torch.tensor([[0.3, -1.2, 2.0, 0.0], [5.0, 5.0, 5.0, 5.0]])
    for tau in (0.1, 1.0, 3.0):  # softmax ignores the shift: same distribution as logits / tau
        assert torch.allclose(torch.softmax(apply_temperature(logits, tau), -1), torch.softmax(logits / tau, -1))
    probs = torch.softmax(logits, -1)
    assert torch.allclose(entropy(probs), torch.distributions.Categorical(probs=probs).entropy())
    assert entropy(torch.full((7,), 1 / 7)).item() == pytest.approx(math.log(7))
    assert entropy(torch.tensor([0.0, 1.0, 0.0])).item() == 0.0


def test_frequencies_match_alpha_chi_square():
    logits = torch.tensor([1.5, 0.2, -0.3, 0.9, -1.0, 0.0])
    alpha = torch.softmax(logits.double(), -1)
    n = 30_000
    draws = sample_next(logits.expand(n, -1), generator=torch.Generator().manual_seed(1234))
    assert draws.shape == (n,) and draws.dtype == torch.long
    observed = torch.bincount(draws, minlength=6).double()
    expected = n * alpha
    statistic = ((observed - expected) ** 2 / expected).sum().item()
    try:
        from scipy.stats import chi2

        assert chi2.sf(statistic, df=5) > 1e-3
    except ImportError:
        assert statistic < CHI2_CRITICAL_DF5_P001


def test_temperature_scales_the_distribution_before_sampling():
    logits = torch.tensor([1.0, 0.0, -1.0])
    n = 20_000
    draws = sample_next(logits.expand(n, -1), temperature=2.0, generator=torch.Generator().manual_seed(0))
    frequencies = torch.bincount(draws, minlength=3).double() / n
    assert torch.allclose(frequencies, torch.softmax(logits.double() / 2.0, -1), atol=0.015)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), n_vocab=st.integers(2, 30), data=st.data())
def test_top_k_never_returns_a_token_outside_the_k_most_likely(seed, n_vocab, data):
    k = data.draw(st.integers(1, n_vocab))
    logits = torch.randn(n_vocab, generator=torch.Generator().manual_seed(seed)) * 3
    allowed = set(torch.argsort(logits, descending=True)[:k].tolist())
    draws = sample_next(logits.expand(200, -1), top_k=k, generator=torch.Generator().manual_seed(seed))
    assert set(draws.tolist()) <= allowed
    assert int(torch.isfinite(top_k_filter(logits, k)).sum()) == k


def smallest_nucleus(probs: list[float], p: float) -> set[int]:
    """Oracle: sort by probability and add tokens until their total reaches p."""
    order = sorted(range(len(probs)), key=lambda i: -probs[i])
    total, kept = 0.0, set()
    for i in order:
        kept.add(i)
        total += probs[i]
        if total >= p:
            break
    return kept


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), n_vocab=st.integers(2, 30), p=st.floats(0.01, 1.0))
def test_top_p_never_returns_a_token_outside_the_smallest_set_reaching_p(seed, n_vocab, p):
    logits = torch.randn(n_vocab, generator=torch.Generator().manual_seed(seed)).double() * 3
    probs = torch.softmax(logits, -1).tolist()
    partial_sums = torch.tensor(sorted(probs, reverse=True)).cumsum(0)
    assume(bool(((partial_sums - p).abs() > 1e-9).all()))  # stay off the floating-point boundary
    assume(len(set(probs)) == len(probs))  # ties are the next test's business
    nucleus = smallest_nucleus(probs, p)
    draws = sample_next(logits.expand(300, -1), top_p=p, generator=torch.Generator().manual_seed(seed))
    assert set(draws.tolist()) <= nucleus
    assert set(torch.nonzero(torch.isfinite(top_p_filter(logits, p))).flatten().tolist()) == nucleus


def test_top_p_worked_example_and_order_of_the_cuts():
    alpha = torch.tensor([0.4, 0.3, 0.2, 0.1]).log()
    assert torch.isfinite(top_p_filter(alpha, 0.7)).tolist() == [True, True, False, False]  # 0.4 < 0.7 <= 0.7
    assert torch.isfinite(top_p_filter(alpha, 0.4)).tolist() == [True, False, False, False]
    assert torch.equal(top_p_filter(alpha, 1.0), alpha)
    # sample_next applies top-k then top-p: with k=2 the survivors are (4/7, 3/7) and p=0.5 keeps only the first
    draws = sample_next(alpha.expand(500, -1), top_k=2, top_p=0.5, generator=torch.Generator().manual_seed(0))
    assert set(draws.tolist()) == {0}


def test_top_k_larger_than_the_vocabulary_keeps_everything():
    logits = torch.tensor([0.1, 0.2, 0.3])
    assert torch.equal(top_k_filter(logits, 10), logits)


def test_temperature_towards_zero_converges_to_greedy():
    logits = torch.randn(8, 50, generator=torch.Generator().manual_seed(3))
    greedy = logits.argmax(-1)
    assert torch.equal(sample_next(logits, temperature=0), greedy)
    taus = (1, 0.1, 0.01, 0.001)
    mass_on_argmax = [torch.softmax(apply_temperature(logits, tau), -1).max(-1).values.min().item() for tau in taus]
    assert mass_on_argmax == sorted(mass_on_argmax) and mass_on_argmax[-1] > 0.999
    for tau in (1e-4, 1e-30, 1e-300):  # tiny temperatures neither overflow nor give NaN
        draws = sample_next(logits.repeat(50, 1), temperature=tau, generator=torch.Generator().manual_seed(0))
        assert torch.equal(draws, greedy.repeat(50))
    assert int(sample_next(torch.tensor([0.0, 2.0, 2.0]), temperature=0)) == 1  # ties: the first maximum


def test_shapes_and_dtype_of_sample_next():
    one = sample_next(torch.tensor([0.0, 1.0, 2.0]), generator=torch.Generator().manual_seed(0))
    assert one.shape == () and one.dtype == torch.long
    batch = sample_next(torch.zeros(4, 3), generator=torch.Generator().manual_seed(0))
    assert batch.shape == (4,) and batch.dtype == torch.long
    masked = torch.tensor([float("-inf"), 0.0, float("-inf")])
    assert int(sample_next(masked, generator=torch.Generator().manual_seed(0))) == 1


class RecordingModel(LanguageModel):
    """Fixed random bigram logits; records every input it is given."""

    def __init__(self, n_vocab: int = 7, context_size: int = 4):
        super().__init__(n_vocab, context_size)
        self.table = torch.nn.Parameter(torch.randn(n_vocab, n_vocab, generator=torch.Generator().manual_seed(0)))
        self.inputs: list[torch.Tensor] = []
        self.grad_enabled: list[bool] = []
        self.training_flags: list[bool] = []

    def forward(self, idx):
        idx = self.check_input(idx)  # (B, t)
        self.inputs.append(idx.clone())
        self.grad_enabled.append(torch.is_grad_enabled())
        self.training_flags.append(self.training)
        return self.table[idx]  # (B, t, V)


@pytest.mark.parametrize("prompt", [[3], [1, 2, 3, 4, 5, 6, 0], [[1, 2], [3, 4]]])
def test_generate_never_feeds_more_than_context_size(prompt):
    model = RecordingModel(context_size=4)
    model.train()
    out = generate(model, prompt, 20, generator=torch.Generator().manual_seed(0))
    prompt = torch.tensor(prompt)
    assert out.ndim == prompt.ndim and out.dtype == torch.long
    assert out.shape[-1] == prompt.shape[-1] + 20
    assert torch.equal(out[..., : prompt.shape[-1]], prompt)
    assert len(model.inputs) == 20
    assert max(x.shape[1] for x in model.inputs) <= 4
    rows = out if out.ndim == 2 else out.unsqueeze(0)
    for step, window in enumerate(model.inputs):  # each window is the last <= 4 tokens so far
        end = prompt.shape[-1] + step
        assert torch.equal(window, rows[:, max(0, end - 4) : end])
    assert not any(model.grad_enabled) and not any(model.training_flags)
    assert model.training, "generate restores the model's mode"


def test_generate_restores_eval_mode_and_handles_zero_new_tokens():
    model = RecordingModel().eval()
    out = generate(model, torch.tensor([2, 3]), 0)
    assert out.tolist() == [2, 3] and model.inputs == [] and not model.training


def test_same_seed_same_text_other_seed_other_text():
    torch.manual_seed(0)
    model = BigramModel(n_vocab=20, context_size=8)
    torch.nn.init.normal_(model.logits_table.weight)
    a = generate(model, [0], 60, generator=torch.Generator().manual_seed(5))
    b = generate(model, [0], 60, generator=torch.Generator().manual_seed(5))
    c = generate(model, [0], 60, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    greedy = generate(model, [0], 10, temperature=0)
    table = model.logits_table.weight
    for t in range(10):  # greedy follows the argmax of the bigram table
        assert greedy[t + 1] == table[greedy[t]].argmax()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(temperature=-0.5), ValueError, r"temperature.*-0\.5"),
        (dict(temperature=float("nan")), ValueError, r"temperature.*nan"),
        (dict(temperature="hot"), TypeError, r"temperature.*'hot'"),
        (dict(top_k=0), ValueError, r"top_k.*0"),
        (dict(top_k=-3), ValueError, r"top_k.*-3"),
        (dict(top_k=2.5), TypeError, r"top_k.*2\.5"),
        (dict(top_k=True), TypeError, r"top_k.*True"),
        (dict(top_p=0.0), ValueError, r"top_p.*0\.0"),
        (dict(top_p=1.5), ValueError, r"top_p.*1\.5"),
        (dict(top_p=-0.1), ValueError, r"top_p.*-0\.1"),
        (dict(generator=42), TypeError, r"generator.*int"),
    ],
)
def test_bad_options_raise_naming_the_value(kwargs, error, match):
    with pytest.raises(error, match=match):
        sample_next(torch.zeros(5), **kwargs)
    with pytest.raises(error, match=match):
        generate(RecordingModel(), [1], 3, **kwargs)


@pytest.mark.parametrize(
    ("logits", "error", "match"),
    [
        (torch.tensor(1.0), ValueError, r"shape \(\)"),
        (torch.zeros(2, 3, 4), ValueError, r"shape \(2, 3, 4\)"),
        (torch.zeros(0), ValueError, r"shape \(0,\)"),
        (torch.zeros(2, 0), ValueError, r"shape \(2, 0\)"),
        (torch.tensor([0.0, float("nan")]), ValueError, r"NaN.*\[1\]"),
        (torch.tensor([0.0, float("inf")]), ValueError, r"\+inf"),
        (torch.tensor([float("-inf")] * 3), ValueError, r"-inf"),
        (torch.tensor([1, 2]), TypeError, r"torch\.int64"),
        ([0.0, 1.0], TypeError, r"list"),
    ],
)
def test_bad_logits_raise_naming_the_value(logits, error, match):
    with pytest.raises(error, match=match):
        sample_next(logits)


@pytest.mark.parametrize(
    ("idx", "max_new_tokens", "error", "match"),
    [
        ([1], -1, ValueError, r"max_new_tokens.*-1"),
        ([1], 2.0, ValueError, r"max_new_tokens.*2\.0"),
        ([], 3, ValueError, r"shape \(0,\)"),
        ([[[1]]], 3, ValueError, r"shape \(1, 1, 1\)"),
        ([1, 9], 3, ValueError, r"9.*n_vocab=7"),
        ([1.0], 3, TypeError, r"torch\.float32"),
    ],
)
def test_generate_bad_input_raises_naming_the_value(idx, max_new_tokens, error, match):
    with pytest.raises(error, match=match):
        generate(RecordingModel(), idx, max_new_tokens)
    with pytest.raises(TypeError, match="Linear"):
        generate(torch.nn.Linear(2, 2), [1], 3)


def test_top_p_breaks_ties_by_index():
    """The course's tie rule: equal probabilities are sorted by index (a stable sort), smaller first."""
    assert torch.isfinite(top_p_filter(torch.zeros(4), 0.5)).tolist() == [True, True, False, False]
    assert torch.isfinite(top_p_filter(torch.tensor([0.2, 0.4, 0.4]).log(), 0.3)).tolist() == [False, True, False]
    many = torch.zeros(3, 65)  # 65 equal tokens: an unstable sort scrambles them
    kept = torch.isfinite(top_p_filter(many, 0.1))
    assert all(torch.nonzero(row).flatten().tolist() == list(range(7)) for row in kept)  # 6/65 < 0.1 <= 7/65


def test_sampling_probs_is_what_sample_next_draws_from():
    generator = torch.Generator().manual_seed(7)
    logits = torch.randn(3, 12, generator=generator) * 2
    every_option = {"temperature": 1.5, "top_k": 5, "top_p": 0.8}
    for options in ({}, {"temperature": 0.7}, {"top_k": 4}, {"top_p": 0.6}, every_option):
        expected = logits / options.get("temperature", 1.0)
        if "top_k" in options:
            expected = top_k_filter(expected, options["top_k"])
        if "top_p" in options:
            expected = top_p_filter(expected, options["top_p"])
        probs = sampling_probs(logits, **options)
        assert torch.allclose(probs, torch.softmax(expected, -1), atol=1e-6)
        draws = sample_next(logits.repeat(300, 1), **options, generator=torch.Generator().manual_seed(0))
        assert bool((probs.repeat(300, 1).gather(1, draws[:, None]) > 0).all()), "never a token of probability 0"
    greedy = sampling_probs(torch.tensor([[0.0, 2.0, 2.0], [5.0, 1.0, 0.0]]), temperature=0)
    assert greedy.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]  # all the mass on the first argmax


class NoFloat64(TorchDispatchMode):
    """Records every PyTorch operation that creates or reads a float64 tensor (Apple's MPS has no float64)."""

    def __init__(self):
        super().__init__()
        self.offenders: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        tensors = [x for x in (*args, *(kwargs or {}).values()) if isinstance(x, torch.Tensor)]
        tensors += [x for x in (out if isinstance(out, (tuple, list)) else [out]) if isinstance(x, torch.Tensor)]
        if any(x.dtype == torch.float64 for x in tensors):
            self.offenders.append(str(func))
        return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_sample_next_and_generate_never_use_float64(dtype):
    logits = (torch.randn(4, 30, generator=torch.Generator().manual_seed(0)) * 3).to(dtype)
    model = RecordingModel()
    with NoFloat64() as mode:
        every_option = {"temperature": 0.7, "top_k": 5, "top_p": 0.8}
        for options in ({}, {"temperature": 0}, {"temperature": 1e-300}, every_option):
            draws = sample_next(logits, **options, generator=torch.Generator().manual_seed(1))
            assert draws.dtype == torch.long and draws.shape == (4,)
        generate(model, [1, 2], 5, top_k=3, top_p=0.9, generator=torch.Generator().manual_seed(0))
        explore(model, StandInTokenizer(), "abc", temperature=0.8, top_k=3, top_p=0.9, n_samples=1, n_tokens=3)
    assert mode.offenders == [], f"float64 used by {sorted(set(mode.offenders))}"


def test_half_precision_logits_sample_like_float32():
    logits = torch.randn(6, 20, generator=torch.Generator().manual_seed(2)).to(torch.bfloat16)
    assert torch.equal(sample_next(logits, temperature=0), logits.float().argmax(-1))
    a = sample_next(logits, top_k=5, generator=torch.Generator().manual_seed(3))
    b = sample_next(logits.float(), top_k=5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b), "bfloat16 logits are sampled in float32, from the same numbers"


def test_the_draw_happens_where_the_generator_lives(monkeypatch):
    """A CPU generator with logits elsewhere: the probabilities move to the generator's device, the result back."""
    seen = []
    real_multinomial = torch.multinomial

    def spy(probs, num_samples, generator=None, **kwargs):
        seen.append((probs.device, None if generator is None else generator.device))
        return real_multinomial(probs, num_samples, generator=generator, **kwargs)

    monkeypatch.setattr(torch, "multinomial", spy)
    logits = torch.randn(3, 8, generator=torch.Generator().manual_seed(4), device=torch.device("cpu"))
    generator = torch.Generator(device=torch.device("cpu")).manual_seed(5)
    draws = sample_next(logits, generator=generator)
    assert seen == [(generator.device, generator.device)]
    assert draws.device == logits.device
    sample_next(logits)  # no generator: the draw happens on the logits' device
    assert seen[-1] == (logits.device, None)


def test_generate_moves_the_prompt_to_the_model_device(monkeypatch):
    model = RecordingModel()
    asked = []

    def stand_in_device(m):
        asked.append(m)
        return torch.device("cpu")  # stands in for "cuda" or "mps" on a machine without them

    monkeypatch.setattr(sampling, "_model_device", stand_in_device)
    out = generate(model, torch.tensor([1, 2], dtype=torch.int32), 3, generator=torch.Generator().manual_seed(0))
    assert asked == [model]
    assert out.dtype == torch.long and out.device == torch.device("cpu")
    assert all(x.device == torch.device("cpu") and x.dtype == torch.long for x in model.inputs)


def test_model_device_reads_parameters_then_buffers():
    assert sampling._model_device(RecordingModel()) == torch.device("cpu")
    assert sampling._model_device(torch.nn.Identity()) == torch.device("cpu")  # no parameters at all
    holder = torch.nn.Module()
    holder.register_buffer("table", torch.zeros(2, device="cpu"))
    assert sampling._model_device(holder) == torch.device("cpu")


class FailingModel(RecordingModel):
    """Raises on its third call, as an out-of-memory error would half-way through generation."""

    def forward(self, idx):
        if len(self.inputs) == 2:
            raise RuntimeError("boom on the third step")
        return super().forward(idx)


def test_evaluation_mode_restores_every_mode_even_after_an_error():
    model = FailingModel()
    model.train()
    model.extra = torch.nn.Dropout(0.5).eval()  # a submodule in another mode than its parent
    with pytest.raises(RuntimeError, match="boom"):
        generate(model, [1], 5, generator=torch.Generator().manual_seed(0))
    assert model.training_flags == [False, False], "the model ran in evaluation mode"
    assert model.training and not model.extra.training, "every module is back in its own mode"
    with evaluation_mode(model):
        assert not model.training and not model.extra.training
    assert model.training and not model.extra.training


class StandInTokenizer:
    """Characters a..g are indices 0..6 (RecordingModel has n_vocab = 7)."""

    def encode(self, text):
        return [ord(c) - ord("a") for c in text]

    def decode(self, indices):
        return "".join(chr(ord("a") + i) for i in indices)


def test_explore_restores_the_mode_and_prints_the_rows_of_sampling_probs(capsys):
    model = RecordingModel(context_size=4).train()
    rows = explore(model, StandInTokenizer(), "abcdefg", temperature=0.8, top_k=3, n_top=7, n_samples=2, n_tokens=4)
    assert model.training and not any(model.training_flags)
    assert max(x.shape[1] for x in model.inputs) <= 4, "explore crops the prompt to the context size"
    logits = model.table[6]  # the model's logits after 'g' (a bigram table)
    alpha, final = torch.softmax(logits, -1), sampling_probs(logits, 0.8, 3)
    order = alpha.argsort(descending=True).tolist()
    assert [token for token, _, _ in rows] == [chr(ord("a") + i) for i in order]
    assert [a for _, a, _ in rows] == pytest.approx(alpha[order].tolist())
    assert [f for _, _, f in rows] == pytest.approx(final[order].tolist())
    printed = capsys.readouterr().out
    assert printed.count("sample:") == 2 and "tokens that can be drawn: 3" in printed


@pytest.mark.parametrize("prompt", ["", None])
def test_explore_refuses_an_empty_prompt(prompt):
    with pytest.raises(ValueError, match="prompt must be a non-empty string"):
        explore(RecordingModel(), StandInTokenizer(), prompt)


def test_generate_refuses_an_empty_prompt_clearly():
    for empty in ([], torch.zeros(0, dtype=torch.long), torch.zeros(2, 0, dtype=torch.long)):
        with pytest.raises(ValueError, match="the prompt is empty"):
            generate(RecordingModel(), empty, 3)
