"""llm_course.gpt2: GPT-2's weights in the course's GPT, checked against Hugging Face `transformers`.

Oracles: `transformers`' GPT2LMHeadModel built from small GPT2Configs (GPT-2's real weights cannot be
fetched here), whose logits the converted course GPT must reproduce within 1e-5 in float32;
`transformers`' own parameter count on the meta device; synthetic safetensors files written with
the `safetensors` package. Bad inputs (a wrong file, a truncated file, a missing key, a wrong
n_head...) must raise errors that name the problem. No network: the verified loader is exercised
with file:// URLs.
"""

from __future__ import annotations

import hashlib
import urllib.error

import pytest
import torch
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

from llm_course import data
from llm_course.data import CorpusError
from llm_course.gpt import GPT, parameter_count
from llm_course.gpt2 import (
    GPT2_SIZES,
    GPT2WeightsError,
    from_hf_state_dict,
    gpt2_config,
    gpt2_name,
    gpt2_tokenizer,
    load_gpt2,
)

TOLERANCE = 1e-5  # the issue's bound on |logits - transformers' logits| in float32


def hf_gpt2(seed: int = 0, **sizes) -> GPT2LMHeadModel:
    """A small GPT-2 of transformers with random weights, in evaluation mode."""
    torch.manual_seed(seed)
    config = {"vocab_size": 97, "n_positions": 16, "n_embd": 32, "n_layer": 2, "n_head": 4, **sizes}
    last = config["vocab_size"] - 1  # GPT-2's <|endoftext|> is its last token
    return GPT2LMHeadModel(GPT2Config(**config, bos_token_id=last, eos_token_id=last)).eval()


def largest_difference(course: GPT, hf: GPT2LMHeadModel, idx: torch.Tensor) -> float:
    with torch.no_grad():
        return (course(idx) - hf(idx).logits).abs().max().item()


def random_indices(hf: GPT2LMHeadModel, batch: int, length: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(hf.config.vocab_size, (batch, length), generator=torch.Generator().manual_seed(seed))


def gpt2_model_state_dict(hf: GPT2LMHeadModel) -> dict[str, torch.Tensor]:
    """The keys of GPT-2's model.safetensors: no `transformer.` prefix, no lm_head (it is tied to wte)."""
    return {name.removeprefix("transformer."): tensor.clone() for name, tensor in hf.state_dict().items()
            if name != "lm_head.weight"}


# --- the logits equal transformers' ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes",
    [
        {},
        {"n_layer": 1, "n_head": 1, "n_embd": 16},
        {"n_layer": 3, "n_head": 2, "n_embd": 48, "initializer_range": 0.1},
        {"n_layer": 2, "n_head": 8, "n_embd": 64, "vocab_size": 50_257, "n_positions": 32, "initializer_range": 0.1},
    ],
    ids=["default", "one-head", "spread-0.1", "gpt2-vocabulary"],
)
def test_logits_equal_transformers(sizes):
    hf = hf_gpt2(**sizes)
    course = from_hf_state_dict(hf.state_dict(), n_head=hf.config.n_head)
    assert not course.training, "the converted model is in evaluation mode"
    T = hf.config.n_positions
    for idx in (random_indices(hf, 3, T), random_indices(hf, 1, 1, seed=2), random_indices(hf, 2, T // 2, seed=3)):
        assert largest_difference(course, hf, idx) < TOLERANCE


def test_logits_are_not_trivially_small():
    """The bound means something: the logits spread over several units while agreeing within 1e-5."""
    hf = hf_gpt2(n_embd=64, initializer_range=0.1)
    idx = random_indices(hf, 2, 16)
    with torch.no_grad():
        assert hf(idx).logits.abs().max() > 2
    assert largest_difference(from_hf_state_dict(hf.state_dict(), n_head=4), hf, idx) < TOLERANCE


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_in_float64_the_two_computations_are_the_same(attention):
    """With rounding out of the way (float64), a wide model with large logits agrees to 1e-10: the same function."""
    hf = hf_gpt2(n_layer=3, n_head=6, n_embd=384, vocab_size=2000, n_positions=64, initializer_range=0.2,
                 attn_implementation=attention)
    course = from_hf_state_dict(hf.state_dict(), n_head=6)
    idx = random_indices(hf, 2, 64)
    with torch.no_grad():
        exact = hf.double()(idx).logits
        assert exact.abs().max() > 10, "large logits, where float32 rounding shows"
        assert (course.double()(idx) - exact).abs().max() < 1e-10


def test_in_float32_the_difference_is_transformers_own_rounding():
    """For large logits the float32 difference can pass 1e-5; it stays within transformers' own float32 error."""
    hf = hf_gpt2(n_layer=3, n_head=6, n_embd=384, vocab_size=2000, n_positions=64, initializer_range=0.2)
    course = from_hf_state_dict(hf.state_dict(), n_head=6)
    idx = random_indices(hf, 2, 64)
    with torch.no_grad():
        hf_float32, ours = hf(idx).logits.double(), course(idx).double()
        exact = hf.double()(idx).logits
    assert (ours - exact).abs().max() <= 2 * (hf_float32 - exact).abs().max()
    assert (ours - hf_float32).abs().max() <= 1e-6 * exact.abs().max() * 10


def test_the_gpt2_file_layout_and_mask_buffers_give_the_same_model():
    """model.safetensors has no `transformer.` prefix and no lm_head; old checkpoints carry attn.bias/masked_bias."""
    hf = hf_gpt2(initializer_range=0.1)
    weights = gpt2_model_state_dict(hf)
    T = hf.config.n_positions
    for i in range(hf.config.n_layer):
        weights[f"h.{i}.attn.bias"] = torch.tril(torch.ones(T, T)).view(1, 1, T, T)  # the causal mask buffer
        weights[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    course = from_hf_state_dict(weights, n_head=4)
    assert largest_difference(course, hf, random_indices(hf, 2, T)) < TOLERANCE


def test_half_precision_weights_are_converted_to_float32():
    hf = hf_gpt2()
    half = {name: tensor.half() for name, tensor in hf.state_dict().items()}
    course = from_hf_state_dict(half, n_head=4)
    assert all(p.dtype == torch.float32 for p in course.parameters())
    assert torch.equal(course.token_embedding.weight, half["transformer.wte.weight"].float())


def test_greedy_generation_equals_transformers():
    from llm_course.sampling import generate

    hf = hf_gpt2(initializer_range=0.1)
    course = from_hf_state_dict(hf.state_dict(), n_head=4)
    prompt = torch.tensor([5, 17, 42])
    ours = generate(course, prompt, max_new_tokens=10, top_k=1)
    sequence = prompt[None, :]
    with torch.no_grad():
        for _ in range(10):  # transformers' greedy loop, by hand
            sequence = torch.cat([sequence, hf(sequence).logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert ours.tolist() == sequence[0].tolist()


def test_the_configuration_is_gpt2s():
    hf = hf_gpt2(n_layer=3, n_head=2, n_embd=48, vocab_size=101, n_positions=24)
    config = from_hf_state_dict(hf.state_dict(), n_head=2).config
    assert (config.n_vocab, config.context_size, config.n_emb, config.n_layer, config.n_head) == (101, 24, 48, 3, 2)
    assert config.bias and config.gelu_approximate == "tanh" and config.layer_norm_eps == hf.config.layer_norm_epsilon
    assert config.dropout == 0.0


# --- names and sizes ---------------------------------------------------------------------------------------------


def test_every_course_parameter_has_exactly_one_gpt2_weight():
    hf = hf_gpt2()
    course = GPT(gpt2_config(n_layer=2, n_head=4, n_emb=32, n_vocab=97, context_size=16))
    theirs = {name.removeprefix("transformer."): tuple(t.shape) for name, t in hf.state_dict().items()}
    theirs.pop("lm_head.weight")  # tied to wte, as the course's lm_head is tied to token_embedding
    mapped = {gpt2_name(name): tuple(p.shape) for name, p in course.named_parameters()}
    assert set(mapped) == set(theirs)
    for name, shape in mapped.items():
        assert shape in (theirs[name], theirs[name][::-1]), name


@pytest.mark.parametrize("size", sorted(GPT2_SIZES))
def test_parameter_count_equals_transformers(size):
    """Oracle: transformers' own GPT-2 of each size, built on the meta device (no memory)."""
    n_layer, n_head, n_emb = GPT2_SIZES[size]
    with torch.device("meta"):
        hf = GPT2LMHeadModel(GPT2Config(n_layer=n_layer, n_head=n_head, n_embd=n_emb))
        course = GPT(gpt2_config(n_layer, n_head, n_emb))
    expected = sum(p.numel() for p in hf.parameters())
    assert parameter_count(gpt2_config(n_layer, n_head, n_emb)) == course.count_parameters() == expected
    if size == "gpt2":
        assert expected == 124_439_808


def test_gpt2_tokenizer_uses_gpt2s_ids(tmp_path):
    try:
        tokenizer = gpt2_tokenizer()
    except CorpusError as error:
        pytest.skip(f"no local copy of GPT-2's tokenizer files: {error}")
    assert tokenizer.n_vocab == 50_257 and tokenizer.encode("Hello world") == [15496, 995]


# --- bad state dicts ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weights() -> dict[str, torch.Tensor]:
    return gpt2_model_state_dict(hf_gpt2())


def test_a_missing_weight_is_named(weights):
    damaged = {name: t for name, t in weights.items() if name != "h.1.mlp.c_fc.bias"}
    with pytest.raises(GPT2WeightsError, match=r"lacks 1 of GPT-2's weights, \['h\.1\.mlp\.c_fc\.bias'\]"):
        from_hf_state_dict(damaged, n_head=4)


def test_a_missing_block_is_noticed(weights):
    damaged = {name: t for name, t in weights.items() if not name.startswith("h.0.")}
    with pytest.raises(GPT2WeightsError, match=r"lacks 12 of GPT-2's weights, \['h\.0\.ln_1\.weight'"):
        from_hf_state_dict(damaged, n_head=4)


def test_an_unexpected_weight_is_named(weights):
    with pytest.raises(GPT2WeightsError, match=r"weights GPT-2 does not have: \['h\.0\.attn\.q_proj\.weight'\]"):
        from_hf_state_dict({**weights, "h.0.attn.q_proj.weight": torch.zeros(32, 32)}, n_head=4)


def test_a_weight_stored_as_nn_linear_is_refused(weights):
    transposed = {**weights, "h.0.attn.c_attn.weight": weights["h.0.attn.c_attn.weight"].T}
    with pytest.raises(GPT2WeightsError, match=r"h\.0\.attn\.c_attn\.weight has shape \(96, 32\), expected \(32, 96\)"):
        from_hf_state_dict(transposed, n_head=4)


def test_an_untied_output_layer_is_refused(weights):
    with pytest.raises(GPT2WeightsError, match="lm_head.weight is not wte.weight"):
        from_hf_state_dict({**weights, "lm_head.weight": torch.zeros_like(weights["wte.weight"])}, n_head=4)


@pytest.mark.parametrize(
    ("n_head", "message"),
    [(5, r"n_head=5 does not divide n_emb=32"), (0, r"n_head must be a positive int, got 0"),
     (True, r"n_head must be a positive int, got True"), ("4", r"n_head must be a positive int, got '4'")],
)
def test_a_wrong_n_head_is_refused(weights, n_head, message):
    with pytest.raises(GPT2WeightsError, match=message):
        from_hf_state_dict(weights, n_head=n_head)


def test_a_wrong_n_head_that_divides_n_emb_gives_another_model():
    """The weights do not record the number of heads: 2 heads load, and compute something else."""
    hf = hf_gpt2(initializer_range=0.1)
    idx = random_indices(hf, 1, 16)
    assert largest_difference(from_hf_state_dict(hf.state_dict(), n_head=2), hf, idx) > 0.1


@pytest.mark.parametrize(
    ("state_dict", "error", "message"),
    [
        ([1, 2, 3], TypeError, r"state_dict must be a mapping from names to tensors, got list"),
        ({"wte.weight": [[0.0]]}, GPT2WeightsError, r"wte\.weight is a list, not a tensor"),
        ({"model.embed_tokens.weight": torch.zeros(3, 4)}, GPT2WeightsError,
         r"not a GPT-2 state dict: no 2-D wte\.weight \(its keys start with \['model\.embed_tokens\.weight'\]\)"),
        ({"wte.weight": torch.zeros(10, 8), "wpe.weight": torch.zeros(4, 8)}, GPT2WeightsError,
         r"has no blocks \(no weight named h\.0\.\*\)"),
    ],
)
def test_foreign_state_dicts_are_refused(state_dict, error, message):
    with pytest.raises(error, match=message):
        from_hf_state_dict(state_dict, n_head=2)


# --- safetensors files and the verified loader ------------------------------------------------------------------


@pytest.fixture
def weights_file(tmp_path):
    """A small GPT-2 in GPT-2's own file layout, written with the safetensors package; and its model."""
    hf = hf_gpt2(initializer_range=0.1)
    path = tmp_path / "model.safetensors"
    save_file(gpt2_model_state_dict(hf), str(path), metadata={"format": "pt"})
    return path, hf


def test_load_gpt2_reads_a_safetensors_file(weights_file):
    path, hf = weights_file
    course = load_gpt2(path, n_head=4)
    assert largest_difference(course, hf, random_indices(hf, 2, 16)) < TOLERANCE


def test_load_gpt2_fetches_through_the_verified_loader(weights_file, tmp_path, monkeypatch):
    """The registered file is downloaded (here from a file:// URL), verified against its SHA-256 and size, cached."""
    path, hf = weights_file
    payload = path.read_bytes()
    record = data.DataFile(name="gpt2-weights", filename="gpt2_model.safetensors", url=path.as_uri(),
                           sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))
    monkeypatch.setitem(data.FILES, "gpt2-weights", record)
    monkeypatch.setenv("LLM_COURSE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("LLM_COURSE_CACHE", str(tmp_path / "cache"))
    course = load_gpt2(n_head=4)
    assert (tmp_path / "cache" / "gpt2_model.safetensors").read_bytes() == payload
    assert largest_difference(course, hf, random_indices(hf, 1, 16)) < TOLERANCE
    path.write_bytes(payload[:-10])  # a damaged source is never used: the verified cached copy is
    assert largest_difference(load_gpt2(n_head=4), hf, random_indices(hf, 1, 16)) < TOLERANCE


def test_load_gpt2_offline_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_COURSE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("LLM_COURSE_CACHE", str(tmp_path / "cache"))

    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(CorpusError) as error:
        load_gpt2()
    message = str(error.value)
    assert "could not download 'gpt2-weights'" in message and "offline" in message
    assert "gpt2_model.safetensors" in message and str(tmp_path / "cache") in message and "LLM_COURSE_DATA" in message
    with pytest.raises(CorpusError, match=r"download=False: put gpt2_model\.safetensors .*huggingface\.co"):
        load_gpt2(download=False)


def test_a_wrong_file_is_refused(tmp_path):
    path = tmp_path / "vocab.bpe"
    path.write_text("#version: 0.2\nĠ t\nĠ a\nh e\n", encoding="utf-8")
    with pytest.raises(GPT2WeightsError, match=r"vocab\.bpe is not a safetensors file: its first 8 bytes"):
        load_gpt2(path)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(GPT2WeightsError, match=r"empty\.safetensors is not a safetensors file"):
        load_gpt2(empty)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes((20).to_bytes(8, "little") + b"{not json at all!!!}" + b"\0" * 100)
    with pytest.raises(GPT2WeightsError, match=r"garbage\.safetensors is not a safetensors file: its header"):
        load_gpt2(garbage)


def test_a_truncated_file_is_refused(weights_file, tmp_path):
    path, _ = weights_file
    truncated = tmp_path / "truncated.safetensors"
    payload = path.read_bytes()
    truncated.write_bytes(payload[: len(payload) - 1000])
    message = rf"truncated\.safetensors is truncated or damaged: its header describes {len(payload):,} bytes"
    with pytest.raises(GPT2WeightsError, match=message + rf", the file has {len(payload) - 1000:,}"):
        load_gpt2(truncated, n_head=4)


def test_a_file_with_a_missing_tensor_is_refused(tmp_path):
    hf = hf_gpt2()
    weights = gpt2_model_state_dict(hf)
    del weights["ln_f.bias"]
    path = tmp_path / "partial.safetensors"
    save_file(weights, str(path))
    with pytest.raises(GPT2WeightsError, match=r"lacks 1 of GPT-2's weights, \['ln_f\.bias'\]"):
        load_gpt2(path, n_head=4)


def test_a_file_with_a_wrong_n_head_is_refused(weights_file):
    path, _ = weights_file
    with pytest.raises(GPT2WeightsError, match=r"n_head=12 does not divide n_emb=32"):
        load_gpt2(path)  # the default n_head is GPT-2 124M's, 12


def test_the_docstring_examples_hold():
    import doctest

    from llm_course import gpt2

    results = doctest.testmod(gpt2)
    assert results.attempted >= 1 and results.failed == 0
