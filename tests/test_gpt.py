"""llm_course.gpt: configuration, parameter count, initialisation, and the forward pass against a reference."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from llm_course.gpt import GPT, GPTConfig, parameter_count

SMALL = dict(n_vocab=11, context_size=6, n_emb=8, n_layer=2, n_head=2)


def small_gpt(**overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**SMALL, **overrides})).eval()


# --- the configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(n_vocab=0), "n_vocab.*0"),
        (dict(context_size=-4), "context_size.*-4"),
        (dict(n_emb=2.0), "n_emb.*2.0"),
        (dict(n_layer=True), "n_layer.*True"),
        (dict(n_head=0), "n_head.*0"),
        (dict(n_emb=10, n_head=4), "n_head=4.*n_emb=10"),
        (dict(dropout=1.0), "dropout.*1.0"),
        (dict(dropout=-0.1), "dropout.*-0.1"),
        (dict(init="xavier"), "init.*xavier"),
        (dict(bias="yes"), "bias.*yes"),
        (dict(fused_attention=1), "fused_attention.*1"),
        (dict(gelu_approximate="sigmoid"), "gelu_approximate.*sigmoid"),
        (dict(layer_norm_eps=0.0), "layer_norm_eps.*0.0"),
        (dict(layer_norm_eps="1e-5"), "layer_norm_eps.*1e-5"),
    ],
)
def test_config_validation(overrides, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**{**SMALL, **overrides})


def test_config_round_trips_through_a_dict():
    config = GPTConfig(**SMALL, dropout=0.1, bias=False, init="pytorch", fused_attention=False)
    as_dict = dataclasses.asdict(config)
    assert GPTConfig(**as_dict) == config
    assert set(as_dict) >= {"n_vocab", "context_size", "n_emb", "n_layer", "n_head", "dropout"}


def test_a_config_saved_before_the_gelu_and_eps_options_still_loads():
    old = {"n_vocab": 65, "context_size": 64, "n_emb": 128, "n_layer": 4, "n_head": 4, "dropout": 0.0, "bias": True,
           "init": "scaled", "fused_attention": True}  # a checkpoint's config dict before notebook 10's options
    config = GPTConfig(**old)
    assert (config.gelu_approximate, config.layer_norm_eps) == ("none", 1e-5)


def test_gelu_and_layer_norm_options_reach_the_layers():
    model = small_gpt(gelu_approximate="tanh", layer_norm_eps=1e-6)
    assert model.blocks[0].mlp.gelu.approximate == "tanh"
    assert {m.eps for m in model.modules() if isinstance(m, torch.nn.LayerNorm)} == {1e-6}
    assert small_gpt().blocks[1].mlp.gelu.approximate == "none" and small_gpt().ln_f.eps == 1e-5


def test_the_gpt2_options_compute_gpt2s_functions():
    """Oracle: GPT-2's own formulas (the tanh GELU of OpenAI's code, LayerNorm with its epsilon) written out."""
    model = small_gpt(gelu_approximate="tanh", layer_norm_eps=0.5)  # a large epsilon, so that it shows
    mlp, ln = model.blocks[0].mlp, model.blocks[0].ln_1
    x = torch.randn(2, 3, SMALL["n_emb"], generator=torch.Generator().manual_seed(5)) * 3
    h = x @ mlp.fc.weight.T + mlp.fc.bias
    gelu = 0.5 * h * (1 + torch.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h**3)))
    with torch.no_grad():
        assert torch.allclose(mlp(x), gelu @ mlp.proj.weight.T + mlp.proj.bias, atol=1e-5)
        mean, variance = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
        assert torch.allclose(ln(x), (x - mean) / torch.sqrt(variance + 0.5) * ln.weight + ln.bias, atol=1e-5)
        assert not torch.allclose(small_gpt().blocks[0].mlp.gelu(h), torch.nn.functional.gelu(h, approximate="tanh"))


def test_a_checkpoint_saved_before_the_gpt2_options_gives_the_same_logits():
    """Weights and a config dict without gelu_approximate and layer_norm_eps: the same model as before them."""
    saved = small_gpt()
    old_config = {k: v for k, v in dataclasses.asdict(saved.config).items() if k not in ("gelu_approximate",
                                                                                       "layer_norm_eps")}
    loaded = GPT(GPTConfig(**old_config)).eval()
    loaded.load_state_dict(saved.state_dict())
    idx = torch.randint(SMALL["n_vocab"], (2, SMALL["context_size"]), generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        assert torch.equal(loaded(idx), saved(idx))


def test_gpt_wants_a_config():
    with pytest.raises(TypeError, match="dict"):
        GPT(SMALL)


# --- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("sizes", [SMALL, dict(n_vocab=65, context_size=64, n_emb=128, n_layer=4, n_head=4),
                                   dict(n_vocab=3, context_size=1, n_emb=4, n_layer=1, n_head=1)])
def test_parameter_count_formula(sizes, bias):
    config = GPTConfig(**sizes, bias=bias)
    model = GPT(config)
    assert parameter_count(config) == sum(p.numel() for p in model.parameters()) == model.count_parameters()


def test_parameter_count_of_gpt2_small():
    # GPT-2 small with tied embeddings has 124,439,808 parameters (nanoGPT's count, which includes positions).
    config = GPTConfig(n_vocab=50257, context_size=1024, n_emb=768, n_layer=12, n_head=12)
    assert parameter_count(config) == 124_439_808


def test_embeddings_are_tied():
    model = small_gpt()
    assert model.lm_head.weight is model.token_embedding.weight
    assert model.config == GPTConfig(**SMALL)


def test_scaled_initialisation():
    torch.manual_seed(0)
    config = GPTConfig(n_vocab=500, context_size=32, n_emb=128, n_layer=4, n_head=4)
    model = GPT(config)
    residual_std = 0.02 / math.sqrt(2 * config.n_layer)
    for name, parameter in model.named_parameters():
        if name.endswith("proj.weight"):
            assert abs(parameter.std().item() - residual_std) < 0.1 * residual_std, name
        elif name.endswith("weight") and parameter.ndim == 2:
            assert abs(parameter.std().item() - 0.02) < 0.002, name
        elif name.endswith("bias") and "ln" not in name:
            assert torch.equal(parameter, torch.zeros_like(parameter)), name
    # nearly uniform predictions at the start: logits e_i . x with |x|^2 = C (after ln_f) and e ~ N(0, 0.02^2)
    # have variance sigma^2 = 0.02^2 C, and the expected loss is about ln V + sigma^2 / 2
    idx = torch.randint(500, (8, 32))
    loss = torch.nn.functional.cross_entropy(model(idx)[:, :-1].reshape(-1, 500), idx[:, 1:].reshape(-1))
    sigma2 = 0.02**2 * config.n_emb
    assert abs(loss.item() - (math.log(500) + sigma2 / 2)) < 0.02


def test_pytorch_initialisation_keeps_the_defaults():
    torch.manual_seed(0)
    model = GPT(GPTConfig(**SMALL, init="pytorch"))
    torch.manual_seed(0)
    reference = torch.nn.Embedding(SMALL["n_vocab"], SMALL["n_emb"])
    assert torch.equal(model.token_embedding.weight, reference.weight), "the token table is drawn first, N(0, 1)"
    assert model.blocks[0].attention.qkv.bias.abs().sum() > 0, "PyTorch's Linear biases are not zero"


# --- the forward pass ---------------------------------------------------------------------------


def layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def reference_forward(model: GPT, idx: torch.Tensor) -> torch.Tensor:
    """The GPT written out step by step from its parameters, one head and one position at a time."""
    p = dict(model.named_parameters())
    C, H = model.config.n_emb, model.config.n_head
    D = C // H
    B, t = idx.shape
    x = p["token_embedding.weight"][idx] + p["position_embedding.weight"][:t]
    for layer in range(model.config.n_layer):
        pre = f"blocks.{layer}."
        h = layer_norm(x, p[pre + "ln_1.weight"], p[pre + "ln_1.bias"])
        qkv = h @ p[pre + "attention.qkv.weight"].T + p[pre + "attention.qkv.bias"]
        q, k, v = qkv[..., :C], qkv[..., C : 2 * C], qkv[..., 2 * C :]
        heads = torch.zeros(B, t, C, dtype=x.dtype)
        for head in range(H):
            s = slice(head * D, (head + 1) * D)
            for j in range(t):
                scores = q[:, j : j + 1, s] @ k[:, : j + 1, s].transpose(1, 2) / math.sqrt(D)  # (B, 1, j + 1)
                heads[:, j, s] = (torch.softmax(scores, dim=-1) @ v[:, : j + 1, s])[:, 0]
        x = x + heads @ p[pre + "attention.proj.weight"].T + p[pre + "attention.proj.bias"]
        h = layer_norm(x, p[pre + "ln_2.weight"], p[pre + "ln_2.bias"])
        h = gelu(h @ p[pre + "mlp.fc.weight"].T + p[pre + "mlp.fc.bias"])
        x = x + h @ p[pre + "mlp.proj.weight"].T + p[pre + "mlp.proj.bias"]
    x = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"])
    return x @ p["token_embedding.weight"].T  # tied output layer


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("init", ["scaled", "pytorch"])
def test_forward_matches_a_step_by_step_reference(fused, init):
    model = small_gpt(fused_attention=fused, init=init).double()
    with torch.no_grad():  # make every parameter matter, LayerNorms included
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    idx = torch.randint(SMALL["n_vocab"], (3, 6), generator=torch.Generator().manual_seed(1))
    for t in (1, 6):
        assert torch.allclose(model(idx[:, :t]), reference_forward(model, idx[:, :t]), atol=1e-9)


@pytest.mark.parametrize("fused", [False, True])
def test_probabilities_for_every_length(fused):
    model = small_gpt(fused_attention=fused)
    generator = torch.Generator().manual_seed(2)
    for t in range(1, SMALL["context_size"] + 1):
        idx = torch.randint(SMALL["n_vocab"], (2, t), generator=generator)
        assert model(idx).shape == (2, t, SMALL["n_vocab"])
        probs = model.next_token_probs(idx)
        assert probs.shape == (2, SMALL["n_vocab"]) and (probs >= 0).all()
        assert torch.allclose(probs.sum(dim=-1), torch.ones(2), atol=1e-5)
    assert model(torch.tensor([1, 2])).shape == (1, 2, SMALL["n_vocab"])
    assert model.next_token_probs(torch.tensor([1, 2])).shape == (SMALL["n_vocab"],)


def test_fused_and_explicit_paths_agree():
    explicit, fused = small_gpt(fused_attention=False), small_gpt(fused_attention=True)
    fused.load_state_dict(explicit.state_dict())
    idx = torch.randint(SMALL["n_vocab"], (4, 6), generator=torch.Generator().manual_seed(3))
    assert torch.allclose(explicit(idx), fused(idx), atol=1e-5)


@pytest.mark.parametrize("fused", [False, True])
def test_causality_and_batch_independence(fused):
    model = small_gpt(fused_attention=fused)
    idx = torch.randint(SMALL["n_vocab"], (3, 6), generator=torch.Generator().manual_seed(4))
    logits = model(idx)
    for j in range(6):
        changed = idx.clone()
        changed[:, j] = (changed[:, j] + 1) % SMALL["n_vocab"]
        new = model(changed)
        assert torch.allclose(new[:, :j], logits[:, :j], atol=1e-6), f"a change at {j} reached an earlier position"
        assert not torch.allclose(new[:, j:], logits[:, j:])
    for b in range(3):
        assert torch.allclose(model(idx[b : b + 1]), logits[b : b + 1], atol=1e-6)


def test_attention_weights():
    model = small_gpt()
    idx = torch.tensor([[1, 2, 3, 4]])
    weights = model.attention_weights(idx)
    assert len(weights) == SMALL["n_layer"]
    for w in weights:
        assert w.shape == (1, SMALL["n_head"], 4, 4)
        assert torch.allclose(w.sum(dim=-1), torch.ones(1, SMALL["n_head"], 4), atol=1e-6)
        assert torch.equal(w.triu(diagonal=1), torch.zeros_like(w))
    # the weights of block 0 are those of its attention on the normalised embeddings
    x = model.token_embedding(idx) + model.position_embedding(4)
    assert torch.allclose(weights[0], model.blocks[0].attention.attention_weights(model.blocks[0].ln_1(x)))


@pytest.mark.parametrize("fused", [False, True])
def test_next_token_logits_compute_lm_head_at_the_last_position_only(fused):
    model = small_gpt(fused_attention=fused)
    idx = torch.randint(SMALL["n_vocab"], (3, 6), generator=torch.Generator().manual_seed(7))
    shapes = []
    model.lm_head.register_forward_hook(lambda module, inputs, output: shapes.append(tuple(inputs[0].shape)))
    logits = model.next_token_logits(idx)
    assert shapes == [(3, SMALL["n_emb"])], "lm_head reads one position per sequence"
    assert torch.allclose(logits, model(idx)[:, -1], atol=1e-6)
    assert torch.allclose(model.next_token_probs(idx), torch.softmax(model(idx)[:, -1], dim=-1), atol=1e-6)


def test_the_input_is_checked_once_per_forward(monkeypatch):
    import llm_course.attention as attention_module
    import llm_course.embeddings as embeddings_module
    import llm_course.models as models_module

    model = small_gpt()
    idx = torch.randint(SMALL["n_vocab"], (2, 6), generator=torch.Generator().manual_seed(8))
    calls = []
    for module, name in ((models_module, "check_token_sequences"), (models_module, "check_token_indices"),
                         (embeddings_module, "check_token_indices"), (attention_module, "check_attention_input")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _name=name, _original=original, **k: calls.append(_name)
                            or _original(*a, **k))
    reads = []  # host synchronisations: values read back from the tensors
    for method in ("item", "tolist"):
        original = getattr(torch.Tensor, method)
        monkeypatch.setattr(torch.Tensor, method, lambda self, _original=original, _m=method: reads.append(_m)
                            or _original(self))
    model(idx)
    model.next_token_probs(idx)
    assert calls == ["check_token_sequences", "check_token_indices"] * 2, "one check per call, none per layer"
    assert reads == ["tolist"] * 2, "one read from the device per call: the index range"


def test_the_scaled_initialisation_is_a_static_method():
    # notebook 11 reuses GPT._init_scaled on its own modules
    linear = torch.nn.Linear(5, 5)
    GPT._init_scaled(linear)
    assert torch.equal(linear.bias, torch.zeros(5)) and abs(linear.weight.std().item() - 0.02) < 0.02


def test_dropout_only_in_training():
    model = small_gpt(dropout=0.2)
    idx = torch.randint(SMALL["n_vocab"], (2, 6), generator=torch.Generator().manual_seed(5))
    assert torch.equal(model(idx), model(idx))
    model.train()
    assert not torch.equal(model(idx), model(idx))


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ([1, 2], TypeError, "list"),
        (torch.tensor([[0.5]]), TypeError, "float32"),
        (torch.zeros(2, 7, dtype=torch.long), ValueError, "t=7.*context_size=6"),
        (torch.tensor([[11]]), ValueError, "11.*n_vocab=11"),
        (torch.zeros(1, 1, 1, dtype=torch.long), ValueError, r"\(1, 1, 1\)"),
    ],
)
def test_bad_input_gets_a_clear_error(bad, error, message):
    model = small_gpt()
    with pytest.raises(error, match=message):
        model(bad)
    with pytest.raises(error, match=message):
        model.attention_weights(bad)


def test_state_dict_round_trip(tmp_path):
    model = small_gpt()
    path = tmp_path / "gpt.pt"
    torch.save({"config": dataclasses.asdict(model.config), "model": model.state_dict()}, path)
    saved = torch.load(path, weights_only=True)
    restored = GPT(GPTConfig(**saved["config"])).eval()
    restored.load_state_dict(saved["model"])
    idx = torch.tensor([[1, 2, 3]])
    assert torch.equal(restored(idx), model(idx))
    assert restored.lm_head.weight is restored.token_embedding.weight


def test_compiles_without_graph_breaks():
    model = small_gpt()
    idx = torch.randint(SMALL["n_vocab"], (2, 5), generator=torch.Generator().manual_seed(6))
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model)(idx)
    assert explanation.graph_break_count == 0, explanation.break_reasons
