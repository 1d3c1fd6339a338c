"""llm_course.modern: every piece against an oracle (PyTorch's own version, a complex-number or SVD
reference, or the course's GPT), the LanguageModel contract of tests/test_models.py run on ModernGPT,
and the optimiser against torch.optim.Muon and torch.optim.AdamW."""

from __future__ import annotations

import dataclasses
import math

import pytest
import test_models as contract  # the course's contract tests (tests/test_models.py), run here on ModernGPT
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from llm_course.gpt import GPT, GPTConfig
from llm_course.modern import (
    GPT2_OPTIONS,
    GPT2_PIECES,
    MODERN_PIECES,
    VARIANTS,
    ModernConfig,
    ModernGPT,
    MuonWithAdamW,
    RMSNorm,
    RotaryCausalSelfAttention,
    SwiGLU,
    apply_rope,
    build_model,
    config_from_dict,
    make_muon_optimizer,
    newton_schulz,
    rope_rotations,
    scaled_dot_product_attention,
    silu,
    swiglu_hidden_size,
)
from llm_course.training import Recipe, load_checkpoint, make_optimizer, save_checkpoint, train

SMALL = dict(n_vocab=11, context_size=6, n_emb=8, n_layer=2, n_head=2)
OPTION_SETS = {
    "gpt2": GPT2_OPTIONS,
    "modern": {},
    "rope-layernorm-bias": dict(position="rope", norm="layernorm", bias=True, mlp="gelu"),
    "rmsnorm-swiglu-learned": dict(position="learned", norm="rmsnorm", mlp="swiglu"),
}


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- attention with any boolean mask ------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    t=st.integers(1, 7), s=st.integers(1, 7), d=st.integers(1, 9),
    mask_shape=st.sampled_from(["full", "query", "key", "none"]), seed=st.integers(0, 10_000),
)
def test_attention_matches_pytorch_for_any_mask(t, s, d, mask_shape, seed):
    g = generator(seed)
    q, k = torch.randn(2, 3, t, d, generator=g), torch.randn(2, 3, s, d, generator=g)
    v = torch.randn(2, 3, s, 5, generator=g)
    shape = {"full": (2, 3, t, s), "query": (t, 1), "key": (2, 1, 1, s), "none": None}[mask_shape]
    mask = None if shape is None else torch.rand(shape, generator=g) < 0.6
    ours = scaled_dot_product_attention(q, k, v, mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert ours.shape == (2, 3, t, 5)
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_attention_gradients_match_pytorch():
    g = generator(1)
    inputs = [torch.randn(2, 4, 5, 8, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(3)]
    mask = torch.ones(5, 5, dtype=torch.bool).tril()
    scaled_dot_product_attention(*inputs, mask).pow(2).sum().backward()
    ours = [x.grad.clone() for x in inputs]
    for x in inputs:
        x.grad = None
    F.scaled_dot_product_attention(*inputs, attn_mask=mask).pow(2).sum().backward()
    for a, x in zip(ours, inputs, strict=True):
        assert torch.allclose(a, x.grad, atol=1e-10)


def test_a_query_that_sees_nothing_gets_zeros():
    g = generator(2)
    q, k, v = (torch.randn(1, 4, 3, generator=g) for _ in range(3))
    mask = torch.ones(4, 4, dtype=torch.bool).tril()
    mask[2] = False
    out = scaled_dot_product_attention(q, k, v, mask)
    assert torch.equal(out[0, 2], torch.zeros(3))
    assert torch.isfinite(out).all()
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-6)


def test_the_causal_mask_gives_notebook_06s_attention():
    g = generator(3)
    q, k, v = (torch.randn(2, 2, 6, 4, generator=g) for _ in range(3))
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    assert torch.allclose(scaled_dot_product_attention(q, k, v, causal),
                          F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-6)


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(mask=torch.ones(3, 3)), TypeError, "boolean.*float32"),
        (dict(mask=[[True]]), TypeError, "boolean.*list"),
        (dict(mask=torch.ones(4, 4, dtype=torch.bool)), ValueError, r"mask of shape \(4, 4\).*\(2, 3, 3\)"),
        (dict(k=torch.randn(2, 3, 5)), ValueError, "same last size d.*4 and 5"),
        (dict(v=torch.randn(2, 2, 4)), ValueError, "same number of positions.*3 and 2"),
        (dict(q=torch.ones(2, 3, 4, dtype=torch.long)), TypeError, "q must be a floating-point"),
        (dict(v=[1.0]), TypeError, "v must be.*list"),
    ],
)
def test_attention_bad_input_gets_a_clear_error(change, error, message):
    arguments = dict(q=torch.randn(2, 3, 4), k=torch.randn(2, 3, 4), v=torch.randn(2, 3, 4), mask=None) | change
    with pytest.raises(error, match=message):
        scaled_dot_product_attention(**arguments)


# --- RMSNorm ------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(nn, "RMSNorm"), reason="torch.nn.RMSNorm needs PyTorch 2.4")
@pytest.mark.parametrize("shape", [(5,), (3, 7), (2, 4, 16)])
def test_rmsnorm_matches_pytorch_values_and_gradients(shape):
    g = generator(4)
    x = (torch.randn(shape, generator=g, dtype=torch.float64) * 3 + 1).requires_grad_(True)
    ours, theirs = RMSNorm(shape[-1]).double(), nn.RMSNorm(shape[-1], eps=1e-6).double()
    with torch.no_grad():
        ours.weight.uniform_(0.5, 2.0, generator=g)
        theirs.weight.copy_(ours.weight)
    y = ours(x)
    assert torch.allclose(y, theirs(x), atol=1e-12)
    grad_ours = torch.autograd.grad(y.sin().sum(), (x, ours.weight))
    grad_theirs = torch.autograd.grad(theirs(x).sin().sum(), (x, theirs.weight))
    for a, b in zip(grad_ours, grad_theirs, strict=True):
        assert torch.allclose(a, b, atol=1e-10)


def test_rmsnorm_formula_and_its_relation_to_layernorm():
    x = torch.tensor([3.0, 4.0])
    assert torch.allclose(RMSNorm(2, eps=0.0)(x), x / math.sqrt(12.5))
    g = generator(5)
    x = torch.randn(4, 9, generator=g, dtype=torch.float64) + 2
    centred = x - x.mean(-1, keepdim=True)
    assert torch.allclose(F.layer_norm(x, (9,), eps=1e-6), RMSNorm(9).double()(centred), atol=1e-10)
    out = RMSNorm(9, eps=0.0).double()(x)
    assert torch.allclose(out.pow(2).mean(-1), torch.ones(4, dtype=torch.float64))  # unit root mean square


# --- RoPE ---------------------------------------------------------------------------------------


def complex_rope(x: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """A complex-number reference: pair i is x_2i + i x_2i+1, multiplied by exp(i m theta_i), in complex128."""
    t, d = x.shape[-2], x.shape[-1]
    z = torch.complex(x[..., 0::2].double(), x[..., 1::2].double())
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = torch.arange(t, dtype=torch.float64)[:, None] * theta
    rotated = z * torch.exp(1j * angles)
    return torch.stack([rotated.real, rotated.imag], dim=-1).flatten(-2)


def rotation_matrix_rope(x: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """A real reference: every pair times its 2x2 rotation matrix, one position and one pair at a time."""
    t, d = x.shape[-2], x.shape[-1]
    out = torch.empty_like(x, dtype=torch.float64)
    for m in range(t):
        for i in range(d // 2):
            angle = m * base ** (-2 * i / d)
            rotation = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]],
                                    dtype=torch.float64)
            out[..., m, 2 * i : 2 * i + 2] = x[..., m, 2 * i : 2 * i + 2].double() @ rotation.T
    return out


def test_rope_rotations_by_hand():
    rotations = rope_rotations(context_size=3, head_size=4, base=100.0)  # theta = (1, 1/10)
    assert rotations.shape == (3, 2) and rotations.is_complex()
    expected = torch.tensor([[0.0, 0.0], [1.0, 0.1], [2.0, 0.2]], dtype=torch.float64)
    assert torch.allclose(rotations.angle().double(), expected, atol=1e-6)
    assert torch.allclose(rotations.abs(), torch.ones(3, 2))
    with pytest.raises(ValueError, match="even.*5"):
        rope_rotations(4, 5)


@settings(max_examples=30, deadline=None)
@given(t=st.integers(1, 20), half=st.integers(1, 12), base=st.sampled_from([100.0, 10000.0, 500000.0]),
       seed=st.integers(0, 999))
def test_rope_equals_the_complex_number_reference(t, half, base, seed):
    d = 2 * half
    x = torch.randn(3, t, d, generator=generator(seed), dtype=torch.float64)
    assert torch.allclose(apply_rope(x, rope_rotations(20, d, base)), complex_rope(x, base), atol=1e-6)


def test_rope_equals_rotation_matrices():
    x = torch.randn(2, 7, 10, generator=generator(16))
    assert torch.allclose(apply_rope(x, rope_rotations(7, 10)).double(), rotation_matrix_rope(x), atol=1e-5)


def test_the_real_arithmetic_path_for_torch_compile_is_the_same_rotation(monkeypatch):
    import llm_course.modern as modern

    x = torch.randn(2, 3, 9, 12, generator=generator(18))
    rotations = rope_rotations(16, 12)
    complex_path = apply_rope(x, rotations)
    monkeypatch.setattr(modern, "_compiling", lambda: True)
    assert torch.allclose(apply_rope(x, rotations), complex_path, atol=1e-6)


def test_rope_keeps_the_dtype_and_works_on_views():
    x = torch.randn(2, 5, 3, 8, generator=generator(17))
    view = x.transpose(1, 2)  # (2, 3, 5, 8), not contiguous
    rotations = rope_rotations(5, 8)
    assert torch.allclose(apply_rope(view, rotations), apply_rope(view.contiguous(), rotations))
    half = apply_rope(x.transpose(1, 2).bfloat16(), rotations)
    assert half.dtype == torch.bfloat16
    assert torch.allclose(half.float(), apply_rope(view, rotations), atol=0.05)


def test_rope_scores_depend_only_on_the_relative_position():
    d, T = 16, 40
    rotations = rope_rotations(T, d)
    q, k = torch.randn(2, d, generator=generator(6), dtype=torch.float64)
    queries = apply_rope(q.expand(T, d), rotations)  # the same content at every position
    keys = apply_rope(k.expand(T, d), rotations)
    scores = queries @ keys.T  # (T, T)
    for m in range(T):
        for n in range(T):
            shift = min(T - 1 - m, T - 1 - n)
            assert abs(scores[m, n] - scores[m + shift, n + shift]) < 1e-5
    assert abs(scores[5, 2] - scores[2, 5]) > 1e-3, "the score is not symmetric in m - n: it knows the direction"


def test_rope_keeps_lengths_and_position_zero():
    rotations = rope_rotations(8, 6)
    x = torch.randn(4, 8, 6, generator=generator(7))
    rotated = apply_rope(x, rotations)
    assert torch.allclose(rotated.norm(dim=-1), x.norm(dim=-1), atol=1e-5)
    assert torch.equal(rotated[:, 0], x[:, 0]), "position 0 is not rotated"
    assert torch.allclose(apply_rope(x[:, :3], rotations), rotated[:, :3]), "a shorter input uses the first rows"


def test_rotary_attention_against_a_reference():
    torch.manual_seed(0)
    attention = RotaryCausalSelfAttention(n_emb=8, n_head=2, context_size=6, bias=False).eval()
    x = torch.randn(3, 5, 8, generator=generator(8))
    q, k, v = attention.qkv(x).split(8, dim=-1)
    heads = [t.reshape(3, 5, 2, 4).transpose(1, 2) for t in (q, k, v)]  # (B, H, t, D)
    q, k = complex_rope(heads[0]).float(), complex_rope(heads[1]).float()
    y = F.scaled_dot_product_attention(q, k, heads[2], is_causal=True).transpose(1, 2).reshape(3, 5, 8)
    assert torch.allclose(attention(x), attention.proj(y), atol=1e-5)
    attention.fused = True
    assert torch.allclose(attention(x), attention.proj(y), atol=1e-5)
    with pytest.raises(ValueError, match="T=7.*context_size=6"):
        attention(torch.randn(1, 7, 8))
    with pytest.raises(ValueError, match="fused=True"):
        RotaryCausalSelfAttention(8, 2, 6, dropout=0.1, fused=False)


# --- SiLU and SwiGLU ----------------------------------------------------------------------------


def test_silu_matches_pytorch():
    u = torch.linspace(-30, 30, 1001, dtype=torch.float64)
    assert torch.allclose(silu(u), F.silu(u), atol=1e-12)


def test_swiglu_formula_and_size():
    torch.manual_seed(0)
    layer = SwiGLU(12, hidden=20, bias=True)
    x = torch.randn(2, 3, 12, generator=generator(9))
    hidden = F.silu(F.linear(x, layer.gate.weight, layer.gate.bias)) * F.linear(x, layer.up.weight, layer.up.bias)
    expected = F.linear(hidden, layer.proj.weight, layer.proj.bias)
    assert torch.allclose(layer(x), expected, atol=1e-6)
    assert swiglu_hidden_size(128) == 352 and swiglu_hidden_size(96) == 256
    assert swiglu_hidden_size(48, multiple=8) == 128
    default = SwiGLU(96)
    assert sum(p.numel() for p in default.parameters()) == 3 * 96 * 256  # about 8 C^2 = 73,728
    assert not any(name.endswith("bias") for name, _ in default.named_parameters())


# --- the configuration and the model ------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(norm="batchnorm"), "norm.*batchnorm"),
        (dict(position="alibi"), "position.*alibi"),
        (dict(mlp="relu"), "mlp.*relu"),
        (dict(n_emb=6, n_head=2), "head size.*3.*even"),
        (dict(rope_base=1.0), "rope_base.*1.0"),
        (dict(rope_base="big"), "rope_base.*big"),
        (dict(dropout=0.1, fused_attention=False), "fused_attention=True"),
        (dict(n_layer=0), "n_layer.*0"),  # GPTConfig's own checks still run
    ],
)
def test_config_validation(overrides, message):
    with pytest.raises(ValueError, match=message):
        ModernConfig(**SMALL | overrides)


def test_config_round_trips_and_is_a_gpt_config():
    config = ModernConfig(**SMALL, norm="layernorm", rope_base=500.0)
    assert isinstance(config, GPTConfig)
    assert ModernConfig(**dataclasses.asdict(config)) == config
    with pytest.raises(TypeError, match="ModernConfig.*GPTConfig"):
        ModernGPT(GPTConfig(**SMALL))


@pytest.mark.parametrize("init", ["scaled", "pytorch"])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("gpt2_numerics", [{}, dict(gelu_approximate="tanh", layer_norm_eps=1e-3)])
def test_gpt2_options_give_the_courses_gpt(init, fused, gpt2_numerics):
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(**SMALL, init=init, fused_attention=fused, **gpt2_numerics)).eval()
    torch.manual_seed(0)
    modern = ModernGPT(ModernConfig(**SMALL | GPT2_OPTIONS, init=init, fused_attention=fused, **gpt2_numerics)).eval()
    assert list(gpt.state_dict()) == list(modern.state_dict())
    for (name, a), b in zip(gpt.state_dict().items(), modern.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    idx = torch.randint(11, (3, 6), generator=generator(10))
    assert torch.equal(gpt(idx), modern(idx))


def test_the_modern_model_has_no_position_table_and_no_biases():
    model = ModernGPT(ModernConfig(**SMALL))
    names = [name for name, _ in model.named_parameters()]
    assert model.position_embedding is None and not any("position" in name for name in names)
    assert not any(name.endswith("bias") for name in names)
    assert model.lm_head.weight is model.token_embedding.weight
    assert model.count_parameters() == sum(p.numel() for p in model.parameters())


def contract_models() -> list[ModernGPT]:
    """ModernGPTs at the sizes of the contract tests (tests/test_models.py: V, T), in several option sets."""
    models = []
    for index, options in enumerate(OPTION_SETS.values()):
        torch.manual_seed(index)
        config = ModernConfig(n_vocab=contract.V, context_size=contract.T, n_emb=8, n_layer=2, n_head=2, **options)
        models.append(ModernGPT(config).eval())
    return models


MODELS = contract_models()


def _parameters(test, argnames: str) -> list:
    """The parameter sets of a test of tests/test_models.py, read from its parametrize mark."""
    return next(mark.args[1] for mark in test.pytestmark if mark.name == "parametrize" and mark.args[0] == argnames)


@pytest.mark.parametrize("model", MODELS, ids=list(OPTION_SETS))
def test_contract_probabilities_for_every_length(model):
    contract.test_probabilities_for_every_length(model)


@pytest.mark.parametrize("model", MODELS, ids=list(OPTION_SETS))
def test_contract_next_token_logits_are_the_last_position(model):
    contract.test_next_token_logits_are_the_last_position(model)


def test_contract_the_input_is_checked_once_per_call(monkeypatch):
    import llm_course.models as models_module

    calls = []
    original = models_module.check_token_sequences
    monkeypatch.setattr(models_module, "check_token_sequences", lambda *a: calls.append(1) or original(*a))
    for model in MODELS:
        calls.clear()
        model.next_token_probs(torch.tensor([[1, 2, 3]]))
        assert len(calls) == 1, f"{model.config} checked its input {len(calls)} times"


@pytest.mark.parametrize("model", MODELS, ids=list(OPTION_SETS))
def test_contract_one_dimensional_input(model):
    contract.test_one_dimensional_input(model)


@pytest.mark.parametrize("model", MODELS, ids=list(OPTION_SETS))
def test_contract_causal_and_batch_rows_independent(model):
    contract.test_causal_and_batch_rows_independent(model)


BAD_INPUTS = _parameters(contract.test_bad_input_gets_a_clear_error, "bad, error, message")


@pytest.mark.parametrize("bad, error, message", BAD_INPUTS)
@pytest.mark.parametrize("model", MODELS, ids=list(OPTION_SETS))
def test_contract_bad_input_gets_a_clear_error(model, bad, error, message):
    contract.test_bad_input_gets_a_clear_error(model, bad, error, message)


@pytest.mark.parametrize("options", OPTION_SETS.values(), ids=list(OPTION_SETS))
def test_fused_and_explicit_attention_agree(options):
    torch.manual_seed(0)
    fused = ModernGPT(ModernConfig(**SMALL | options, fused_attention=True)).eval()
    explicit = ModernGPT(ModernConfig(**SMALL | options, fused_attention=False)).eval()
    explicit.load_state_dict(fused.state_dict())
    idx = torch.randint(11, (4, 6), generator=generator(11))
    assert torch.allclose(fused(idx), explicit(idx), atol=1e-5)


def test_dropout_only_in_training():
    torch.manual_seed(0)
    model = ModernGPT(ModernConfig(**SMALL, dropout=0.5))
    idx = torch.randint(11, (2, 6), generator=generator(12))
    model.train()
    assert not torch.equal(model(idx), model(idx))
    model.eval()
    assert torch.equal(model(idx), model(idx))


# --- Newton-Schulz and the optimiser ------------------------------------------------------------


@pytest.mark.parametrize("shape", [(16, 16), (24, 8), (8, 40), (5, 3, 7)])
def test_newton_schulz_keeps_the_singular_vectors_and_pushes_values_to_one(shape):
    g = generator(13)
    u, _, vh = torch.linalg.svd(torch.randn(shape, generator=g, dtype=torch.float64), full_matrices=False)
    values = torch.logspace(0, -1.5, u.shape[-1], dtype=torch.float64).expand(*u.shape[:-2], -1)  # 1 .. 0.03
    matrix = u @ torch.diag_embed(values) @ vh  # U S V^T with known factors
    out = newton_schulz(matrix)
    assert out.shape == matrix.shape
    diagonal = u.mT @ out @ vh.mT  # U^T O V: diagonal when O = U S' V^T
    off = diagonal - torch.diag_embed(torch.diagonal(diagonal, dim1=-2, dim2=-1))
    assert off.abs().max() < 1e-6
    assert torch.linalg.svdvals(out).min() > 0.6 and torch.linalg.svdvals(out).max() < 1.25
    assert torch.allclose(newton_schulz(matrix.mT), out.mT, atol=1e-12), "a tall matrix is done as its transpose"


def test_newton_schulz_polynomial_by_hand():
    # one step on a diagonal matrix maps each singular value s to a s + b s^3 + c s^5, after scaling by the norm
    matrix = torch.diag(torch.tensor([0.6, 0.8], dtype=torch.float64))  # Frobenius norm 1
    a, b, c = 3.4445, -4.7750, 2.0315
    expected = torch.tensor([a * s + b * s**3 + c * s**5 for s in (0.6, 0.8)], dtype=torch.float64)
    assert torch.allclose(torch.diagonal(newton_schulz(matrix, steps=1)), expected)


def _random_gradients(model, seed):
    g = generator(seed)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=g)


def _pair_of_models():
    torch.manual_seed(0)
    ours = ModernGPT(ModernConfig(n_vocab=13, context_size=8, n_emb=16, n_layer=2, n_head=2))
    theirs = ModernGPT(ModernConfig(n_vocab=13, context_size=8, n_emb=16, n_layer=2, n_head=2))
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


@pytest.mark.skipif(not hasattr(torch.optim, "Muon"), reason="torch.optim.Muon needs PyTorch 2.9")
def test_three_steps_match_torch_muon_and_adamw():
    ours, theirs = _pair_of_models()
    optimizer = make_muon_optimizer(ours, lr=0.02, weight_decay=0.1)
    muon_group, decay_group, no_decay_group = make_muon_optimizer(theirs, lr=0.02, weight_decay=0.1).param_groups
    reference = [
        torch.optim.Muon(muon_group["params"], lr=0.02, weight_decay=0.1, adjust_lr_fn="match_rms_adamw"),
        torch.optim.AdamW(decay_group["params"], lr=0.02, weight_decay=0.1, betas=(0.9, 0.95)),
        torch.optim.AdamW(no_decay_group["params"], lr=0.02, weight_decay=0.0, betas=(0.9, 0.95)),
    ]
    start = [p.detach().clone() for p in ours.parameters()]
    for step in range(3):
        _random_gradients(ours, step), _random_gradients(theirs, step)
        optimizer.step()
        for r in reference:
            r.step()
    muon_ids = {id(p) for p in muon_group["params"]}
    for s, a, b in zip(start, ours.parameters(), theirs.parameters(), strict=True):
        relative = ((a - b).norm() / (b - s).norm()).item()
        assert relative < (0.03 if id(b) in muon_ids else 1e-5)  # torch's Newton-Schulz runs in bfloat16


def test_adamw_half_equals_torch_adamw_exactly_enough():
    ours, theirs = _pair_of_models()
    groups = [dict(params=list(ours.parameters()), weight_decay=0.1)]
    optimizer = MuonWithAdamW(groups, lr=0.01, weight_decay=0.1, betas=(0.8, 0.9))
    reference = torch.optim.AdamW(theirs.parameters(), lr=0.01, weight_decay=0.1, betas=(0.8, 0.9))
    for step in range(5):
        _random_gradients(ours, step), _random_gradients(theirs, step)
        optimizer.step(), reference.step()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_muon_step_by_hand():
    w = nn.Parameter(torch.eye(3, 2, dtype=torch.float64) * 0.5)
    optimizer = MuonWithAdamW([dict(params=[w], use_muon=True)], lr=0.1, weight_decay=0.5, momentum=0.9)
    gradient = torch.randn(3, 2, generator=generator(14), dtype=torch.float64)
    w.grad = gradient.clone()
    before = w.detach().clone()
    optimizer.step()
    momentum = 0.1 * gradient  # M = 0.9 * 0 + 0.1 G
    direction = 0.1 * gradient + 0.9 * momentum  # Nesterov
    expected = before * (1 - 0.1 * 0.5) - 0.1 * 0.2 * math.sqrt(3) * newton_schulz(direction)
    assert torch.allclose(w.detach(), expected)
    assert torch.allclose(optimizer.state[w]["momentum_buffer"], momentum)


def test_make_muon_optimizer_groups():
    model = ModernGPT(ModernConfig(**SMALL))
    optimizer = make_muon_optimizer(model, lr=1e-3, weight_decay=0.1)
    muon, decay, no_decay = optimizer.param_groups
    names = {id(p): name for name, p in model.named_parameters()}
    assert muon["use_muon"] and all(names[id(p)].startswith("blocks.") and p.ndim == 2 for p in muon["params"])
    assert [names[id(p)] for p in decay["params"]] == ["token_embedding.weight"]  # tied with lm_head: once
    assert no_decay["weight_decay"] == 0.0 and all(p.ndim == 1 for p in no_decay["params"])
    counted = sum(len(group["params"]) for group in optimizer.param_groups)
    assert counted == len(list(model.parameters()))


@pytest.mark.parametrize(
    "arguments, message",
    [(dict(lr=0.0), "lr.*0.0"), (dict(weight_decay=-1.0), "weight_decay.*-1.0"), (dict(betas=(0.9, 1.0)), "betas"),
     (dict(momentum=1.0), "momentum.*1.0"), (dict(ns_steps=0), "ns_steps.*0")],
)
def test_optimizer_settings_are_checked(arguments, message):
    with pytest.raises(ValueError, match=message):
        MuonWithAdamW([nn.Parameter(torch.zeros(2, 2))], **arguments)


def test_muon_refuses_a_vector():
    with pytest.raises(ValueError, match=r"matrices only.*\(4,\)"):
        MuonWithAdamW([dict(params=[nn.Parameter(torch.zeros(4))], use_muon=True)])


def test_trains_with_the_courses_loop_and_resumes_from_a_checkpoint(tmp_path):
    ids = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 60)  # a counting sequence: easy to learn
    torch.manual_seed(0)
    model = ModernGPT(ModernConfig(**SMALL))
    optimizer = make_muon_optimizer(model, lr=1e-2, weight_decay=0.0)
    history = train(model, ids, ids, steps=40, batch_size=8, max_lr=1e-2, min_lr=1e-3, warmup_steps=5,
                    optimizer=optimizer, generator=generator(15), eval_interval=40, progress=False)
    assert history.val_loss[-1] < 0.7 * math.log(11), "the model learns to count"
    assert all(group["lr"] == history.learning_rates[-1] for group in optimizer.param_groups), "one schedule for all"
    path = save_checkpoint(tmp_path / "modern.pt", model=model, optimizer=optimizer, step=40, config=model.config)
    restored = ModernGPT(ModernConfig(**SMALL))
    restored_optimizer = make_muon_optimizer(restored, lr=1e-2, weight_decay=0.0)
    info = load_checkpoint(path, model=restored, optimizer=restored_optimizer)
    assert ModernConfig(**info["config"]) == model.config
    assert torch.equal(restored(ids[:6]), model(ids[:6]))
    momentum = restored_optimizer.state[restored_optimizer.param_groups[0]["params"][0]]["momentum_buffer"]
    assert momentum.abs().sum() > 0


def test_config_from_dict_and_build_model_round_trip_checkpoint_configs():
    for config in (GPTConfig(**SMALL), ModernConfig(**SMALL), ModernConfig(**SMALL | GPT2_OPTIONS)):
        stored = dataclasses.asdict(config)
        again = config_from_dict(stored)
        assert again == config and type(again) is type(config)
        assert type(build_model(again)) is (ModernGPT if isinstance(config, ModernConfig) else GPT)
    assert GPT2_PIECES == GPT2_OPTIONS | {"optimizer": "adamw"}
    assert MODERN_PIECES == {"bias": False, "norm": "rmsnorm", "position": "rope", "mlp": "swiglu", "optimizer": "muon"}


# --- the ablation's rows ------------------------------------------------------------------------


def test_variants_add_one_change_at_a_time():
    assert VARIANTS[0].key == "gpt" and dict(VARIANTS[0].options) == GPT2_OPTIONS and VARIANTS[0].optimizer == "adamw"
    for before, after in zip(VARIANTS, VARIANTS[1:], strict=False):
        changed = {k for k in dict(after.options) if dict(after.options)[k] != dict(before.options)[k]}
        changed |= {"optimizer"} if after.optimizer != before.optimizer else set()
        assert len(changed) == 1, f"{after.key} changes {changed}"
        assert after.max_lr == before.max_lr or "optimizer" in changed, "a new lr only with a new optimiser"
    assert len({v.key for v in VARIANTS}) == len(VARIANTS)
    last = VARIANTS[-1].config(65, Recipe())
    assert (last.norm, last.position, last.mlp, last.bias) == ("rmsnorm", "rope", "swiglu", False)


def test_variants_build_their_models_and_optimizers():
    recipe = Recipe(n_emb=8, n_layer=1, n_head=2, context_size=6, max_lr=4e-3, min_lr=4e-4)
    for variant in VARIANTS:
        model = ModernGPT(variant.config(11, recipe))
        optimizer = variant.make_optimizer(model, recipe)
        adamw = type(make_optimizer(model, lr=1e-3, weight_decay=0.1))
        expected = MuonWithAdamW if variant.optimizer == "muon" else adamw
        assert type(optimizer) is expected
        own = variant.recipe(recipe)
        assert all(group["lr"] == own.max_lr for group in optimizer.param_groups)
        if variant.max_lr is None:
            assert own == recipe
        else:
            assert own.max_lr == variant.max_lr and own.min_lr == pytest.approx(variant.max_lr / 10)
            assert dataclasses.replace(own, max_lr=recipe.max_lr, min_lr=recipe.min_lr) == recipe
