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
# # 10 · The GPT you built is GPT-2
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/10_gpt2.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/10_gpt2.ipynb)
#
# In 2019 OpenAI released GPT-2, a family of language models whose smallest member has 124
# million parameters. It was the model that made people take generated text seriously, and its
# code and weights are public. This notebook shows that you have already built it. GPT-2 is
# notebook 03's byte-level BPE tokenizer with 50,000 merges, followed by notebook 06's GPT with
# $n_{\text{emb}} = 768$, 12 blocks of 12 heads and a context of $T = 1024$ tokens. The differences are
# a few numbers and names, no new idea.
#
# We prove it with the course's own classes:
#
# 1. GPT-2's tokenizer files load into notebook 03's `BPETokenizer`, and give GPT-2's own token
#    indices (the tests check them against OpenAI's `tiktoken`, on the whole corpus and on 1,000
#    random strings);
# 2. its merges, learned from web pages, compress Shakespeare less well than merges learned
#    from Shakespeare at the same vocabulary size, and better only with a much larger vocabulary;
# 3. notebook 06's formula counts GPT-2's parameters: 124,439,808;
# 4. a model shaped like GPT-2 in Hugging Face's `transformers` library and the course's `GPT`
#    with the same weights give the same logits;
# 5. with GPT-2's real weights (548 MB, fetched when you ask for them), notebook 08's `generate`
#    writes text with GPT-2.
#
# This notebook writes `llm_course.gpt2`. As everywhere in the course, token indices are
# $1..n_{\text{vocab}}$ in the maths and $0..n_{\text{vocab}}-1$ in the code; GPT-2's files use
# the code's numbering.

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
#| default_exp gpt2

# %% jupyter={"source_hidden": true}
#| export
"""GPT-2 in the course's classes: its tokenizer in `BPETokenizer`, its weights in `GPT`.

`gpt2_tokenizer()` reads GPT-2's two tokenizer files, verified by `llm_course.data.load_file`,
into notebook 03's `BPETokenizer`, with GPT-2's own token indices. `gpt2_config(...)` is notebook
06's `GPTConfig` with what GPT-2 needs (biases, GELU's tanh approximation, LayerNorm epsilon
1e-5); its defaults are the smallest GPT-2, 124M parameters, and `GPT2_SIZES` lists the four sizes
OpenAI released. `gpt2_name(name)` maps a parameter of the course's `GPT` to its name in a
Hugging Face GPT-2 state dict. `from_hf_state_dict(state_dict, n_head)` returns a `GPT` that holds
the weights of a Hugging Face `GPT2LMHeadModel` (or `GPT2Model`, or the file `model.safetensors`):
the sizes are read from the shapes, Conv1D weights are transposed, the attention-mask buffers
`attn.bias` and `attn.masked_bias` are ignored, and a `lm_head.weight` must be the token table.
`load_gpt2()` fetches the 124M model's `model.safetensors` through the verified loader (known
SHA-256, cached; offline with no copy, a `CorpusError` that says where to put the file), reads it
with `safetensors` and returns the course's `GPT`.

Errors name the problem: `GPT2WeightsError` (a `ValueError`) for a file that is not safetensors or
is truncated, a missing or unexpected weight, a wrong shape, or an `n_head` that does not divide
n_emb. The number of heads is not stored in the weights (768 = 12 x 64 = 6 x 128), so `n_head`
must be given, and a wrong divisor cannot be detected from the weights alone.

Left out on purpose: key/value caching for fast generation, fine-tuning, mixed precision, and
other model families (their names and layouts differ).
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import torch

from llm_course.bpe import BPETokenizer
from llm_course.data import load_file
from llm_course.gpt import GPT, GPTConfig

# %% [markdown]
# ## GPT-2's tokenizer is notebook 03's BPE
#
# GPT-2's tokenizer is two files. `vocab.bpe` lists the 50,000 merges in the order they were
# learned, one pair per line; `encoder.json` gives every token its index. `llm_course.data`
# registers both with their SHA-256 fingerprints, and `load_file` finds a verified copy (in
# `LLM_COURSE_DATA`, in the cache, or downloaded once), as `load_text` does for the corpus.

# %%
import json

from llm_course.data import load_file

encoder_json, vocab_bpe = load_file("gpt2-encoder"), load_file("gpt2-vocab")
print(vocab_bpe.read_text(encoding="utf-8").splitlines()[:6])
encoder = json.loads(encoder_json.read_text(encoding="utf-8"))
print(len(encoder), {token: encoder[token] for token in ["!", "A", "Ġ", "Ġt", "Ġthe", "<|endoftext|>"]})

# %% [markdown]
# The first merge, `Ġ t`, is the space followed by `t`, exactly what notebook 03's tokenizer learned
# first on Shakespeare (its token 256 was ` t`). GPT-2's files write every byte as a printable
# character, so that each token is a readable string without spaces: the 188 bytes whose Latin-1
# character prints (`!` for byte 33, `A`, `é` for byte 233...) stand for themselves, and the 68
# others (the space, the newline, control bytes...) take the characters from U+0100 on, in byte order. The space, byte 32, is `Ġ`, the newline `Ċ`.
# `gpt2_byte_characters()` in `llm_course.bpe` is that map. The indices tell the rest of the story:
#
# - the first 256 tokens are the 256 bytes, as in notebook 03, but **in another order**: `!` is
#   token 0, because GPT-2 numbered the printable bytes first, and the space is token 220;
# - merge $j$ (counting from 0) makes token $256 + j$, as in notebook 03: `Ġt` is token 256;
# - the one special token, `<|endoftext|>`, takes the last index, 50,256, as notebook 03's special
#   tokens do; $n_{\text{vocab}} = 256 + 50{,}000 + 1 = 50{,}257$.
#
# So the only thing notebook 03's `BPETokenizer` needed was an explicit table from byte value to
# token index, `byte_ids`, instead of assuming that byte $b$ is token $b$. Encoding starts from each
# byte's token and applies the merges in learning order, exactly as before.
# `BPETokenizer.from_gpt2_files` reads the two files, checks that they belong together (merge $j$
# must make the token numbered $256 + j$) and builds the tokenizer:

# %%
#| export
def gpt2_tokenizer() -> BPETokenizer:
    """GPT-2's tokenizer with GPT-2's token indices (n_vocab 50,257), from its verified files."""
    return BPETokenizer.from_gpt2_files(load_file("gpt2-encoder"), load_file("gpt2-vocab"))


# %%
from llm_course.bpe import gpt2_byte_characters

tokenizer = gpt2_tokenizer()
print(tokenizer)
print("byte -> token:", ", ".join(f"{chr(b)!r} -> {tokenizer.byte_ids[b]}" for b in b"!A \n"),
      f"| the space is written {gpt2_byte_characters()[32]!r}, the newline {gpt2_byte_characters()[10]!r}")
print("the first merges:", [tokenizer.decode([256 + j]) for j in range(10)])
assert tokenizer.n_vocab == 50_257 and tokenizer.special_indices == {"<|endoftext|>": 50_256}
assert tokenizer.byte_ids[ord("!")] == 0 and tokenizer.byte_ids[ord(" ")] == 220

# %% [markdown]
# The first merges are the same kind as Shakespeare's in notebook 03: a space before a common
# letter, `he`, `in`, ` the`. The longest tokens show where GPT-2 learned: web pages. Runs of `=`
# and `-` that draw lines in text files, and `Ã` and `Â` repeated, the trace of text decoded with the
# wrong encoding again and again (called *mojibake*), were frequent enough in its training data to
# earn a token of their own:

# %%
longest = sorted(range(50_256), key=lambda i: (-len(tokenizer.token_bytes(i)), i))[:6]
for index in longest:
    print(f"{index:6}: {len(tokenizer.token_bytes(index))} bytes, {tokenizer.decode([index])[:40]!r}")

# %% [markdown]
# A line of the play, with notebook 03's tokenizer trained on Shakespeare at $n_{\text{vocab}} = 2{,}048$
# above and GPT-2's below (the helper `draw_token_strips` comes from notebook 02). Both make a
# token of each common word with its space, and both need 15 tokens for this line, but not the same
# ones. GPT-2 knows ` rich` as one token, where the small vocabulary spells it ` ri` + `ch`; and
# GPT-2's `ROMEO` is two tokens, `ROM` + `EO`, because names in capitals are rare on the web.

# %%
from llm_course.bpe import BPETokenizer
from llm_course.data import load_text, train_val_split
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import draw_token_strips, token_strings

set_seed(1337)  # nothing here is random, but every notebook starts the same way
text = load_text("tiny-shakespeare")
train_text, val_text = train_val_split(text)
shakespeare_bpe = BPETokenizer.train(train_text, n_vocab=2048)  # notebook 03's larger tokenizer
verse = "ROMEO:\nFor 'tis the mind that makes the body rich;"
rows = [(f"{name}: {len(ids)} tokens", token_strings(candidate, ids), ids)
        for name, candidate in [("BPE trained on Shakespeare, n_vocab = 2,048", shakespeare_bpe),
                                ("GPT-2, n_vocab = 50,257", tokenizer)] for ids in [candidate.encode(verse)]]
draw_token_strips(rows, "The same line, two BPE tokenizers: GPT-2 has more whole words, but splits the speaker's name")
assert [len(ids) for _, _, ids in rows] == [15, 15] and tokenizer.encode(" rich") == [5527]
assert [tokenizer.decode([i]) for i in tokenizer.encode("ROMEO")] == ["ROM", "EO"]

# %% [markdown]
# ## A stream of text, a piece at a time
#
# GPT-2 was trained on 40 GB of text, which no one holds in memory as one string. A tokenizer for
# such data reads a stream: `encode_iterable` takes any iterable of strings (a file opened for
# reading yields its lines) and yields token indices as it goes, holding only a block of text at
# a time. The subtle part is where it may cut: a word split between two pieces must not become two
# chunks, nor `'l` + `l` two tokens where `'ll` is one. So it encodes a block only up to the end of
# a chunk that more text cannot change, before the last two chunks, and keeps the rest for the
# next piece (the rule is in its docstring; the tests split random texts at random places and
# compare with `encode`). On the whole corpus, read line by line:

# %%
with open(load_file("tiny-shakespeare"), encoding="utf-8") as lines:
    streamed = list(tokenizer.encode_iterable(lines))
print(f"{len(text):,} characters -> {len(streamed):,} GPT-2 tokens, {len(text) / len(streamed):.3f} characters per token")
assert streamed == tokenizer.encode(text), "the stream gives the indices of the whole text"

# %% [markdown]
# Encoding the corpus takes about a second here; OpenAI's `tiktoken`, written in Rust, is about five
# times faster and gives the same indices (`benchmarks/gpt2_tokenizer.py` measures both side by side).
#
# ## Compression: merges learned from the web against merges learned from Shakespeare
#
# Notebook 03 measured how many characters a token stands for, on the validation text, as the
# vocabulary grows. Training is greedy, so the first $m$ merges of a tokenizer are a tokenizer of
# size $256 + m$ on their own; that holds for GPT-2's merges too (with GPT-2's byte order). So we
# can draw two curves on the same validation text: notebook 03's merges, learned on Shakespeare's
# training split, up to 2,048 tokens, and GPT-2's merges, learned on web text, up to all 50,257.

# %%
def characters_per_token(merges, n_vocab, byte_ids=None):
    """Characters per token on the validation text, with the first n_vocab - 256 merges."""
    return len(val_text) / len(BPETokenizer(merges[: n_vocab - 256], byte_ids=byte_ids).encode(val_text))


shakespeare_sizes = [256, 384, 512, 768, 1024, 1536, 2048]
gpt2_sizes = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 50256]
shakespeare_curve = [characters_per_token(shakespeare_bpe.merges, n) for n in shakespeare_sizes]
gpt2_curve = [characters_per_token(tokenizer.merges, n, tokenizer.byte_ids) for n in gpt2_sizes]
for name, sizes, curve in [("Shakespeare's merges", shakespeare_sizes, shakespeare_curve),
                           ("GPT-2's merges", gpt2_sizes, gpt2_curve)]:
    print(f"{name:20}", ", ".join(f"{n:,}: {c:.3f}" for n, c in zip(sizes, curve, strict=True)))
assert gpt2_curve[3] < gpt2_curve[4] < shakespeare_curve[-1] < gpt2_curve[5], "GPT-2 needs 4,096 to 8,192 tokens"

# %% jupyter={"source_hidden": true}
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 4.2))
ax.plot(shakespeare_sizes, shakespeare_curve, marker="o", label="merges learned on Shakespeare (notebook 03)")
ax.plot(gpt2_sizes, gpt2_curve, marker="s", label="GPT-2's merges, learned on web text")
ax.axhline(gpt2_curve[-1], color="#999999", linestyle=":", linewidth=1)
ax.set_xscale("log", base=2)
ax.set_xlabel("$n_{vocab}$ (log scale; the first $n_{vocab} - 256$ merges)")
ax.set_ylabel("characters per token (validation text)")
ax.set_title("At equal size, merges learned on Shakespeare compress Shakespeare better;\n"
             "GPT-2's merges need 2 to 4 times as many tokens to match 2,048 of them")
ax.legend()
ax.grid(True, alpha=0.3)
plt.show()

# %% [markdown]
# At 2,048 tokens the Shakespeare merges reach 2.557 characters per token and GPT-2's first
# merges only 2.284: a vocabulary learned on the text it will encode fits it better. GPT-2's
# merges need between 4,096 and 8,192 tokens to match them, and end at 3.093 with all 50,257.
# That is the price of a general vocabulary, and its reward: it also fits Python code, German and
# e-mail, which Shakespeare's does not.
# On English web text GPT-2 reaches about four characters per token; Shakespeare's spelling
# (`'tis`, `thou`, `ROMEO`) costs it almost one character per token.
#
# ## GPT-2's sizes, counted with notebook 06's formula
#
# The model side is notebook 06's `GPT`, with three details of GPT-2 that `GPTConfig` takes as
# options:
#
# - **biases** in every `Linear` and `LayerNorm` (`bias=True`, the course's default already);
# - **LayerNorm's $\varepsilon = 10^{-5}$**, the small number added to the variance before the
#   square root (`layer_norm_eps`, PyTorch's default too);
# - **GELU's tanh approximation**. GELU is $x\,\Phi(x)$, where $\Phi$ is the normal distribution's
#   cumulative distribution function; GPT-2 computes it as
#   $\tfrac12 x\bigl(1+\tanh\bigl(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\bigr)\bigr)$, which was faster in
#   2018 and differs from the exact value by up to about $3\times10^{-4}$ (`gelu_approximate="tanh"`).
#
# `gpt2_config` fixes these options; its sizes default to the smallest GPT-2, and `GPT2_SIZES`
# holds the four sizes OpenAI released. None of them needs dropout to run, so it is 0.

# %%
#| export
GPT2_SIZES = {  # name -> (n_layer, n_head, n_emb), as OpenAI released them; all have n_vocab 50,257, T = 1024
    "gpt2": (12, 12, 768),  # 124M, the one `load_gpt2` loads
    "gpt2-medium": (24, 16, 1024),  # 355M
    "gpt2-large": (36, 20, 1280),  # 774M
    "gpt2-xl": (48, 25, 1600),  # 1.5B
}


def gpt2_config(n_layer: int = 12, n_head: int = 12, n_emb: int = 768, n_vocab: int = 50_257,
                context_size: int = 1024) -> GPTConfig:
    """Notebook 06's GPTConfig with GPT-2's choices: biases, GELU's tanh approximation, LayerNorm eps 1e-5."""
    return GPTConfig(n_vocab=n_vocab, context_size=context_size, n_emb=n_emb, n_layer=n_layer, n_head=n_head,
                     dropout=0.0, bias=True, gelu_approximate="tanh", layer_norm_eps=1e-5)


# %% [markdown]
# Notebook 06 counted the parameters of `GPT(config)` by formula: $n_{\text{vocab}} C$ for the token table
# (shared with the output layer), $T C$ for the positions, $12C^2 + 13C$ per block and $2C$ for the
# final LayerNorm, with $C = n_{\text{emb}}$. For GPT-2's four sizes:

# %%
from llm_course.gpt import parameter_count

for name, (n_layer, n_head, n_emb) in GPT2_SIZES.items():
    config = gpt2_config(n_layer, n_head, n_emb)
    share = config.n_vocab * config.n_emb / parameter_count(config)
    print(f"{name:12} {n_layer:2} blocks of {n_head:2} heads, n_emb {n_emb:4}: {parameter_count(config):>13,} "
          f"parameters, {share:.0%} of them in the token table")
assert parameter_count(gpt2_config()) == 124_439_808

# %% [markdown]
# 124,439,808 is the number Hugging Face reports for GPT-2 (OpenAI's "117M" counted differently).
# In the small model almost a third of the parameters are the token table, one row of 768 numbers
# per token; in the largest, 5%. Most of a large model's parameters are in its blocks.
#
# ## Same weights, same logits
#
# The most used copy of GPT-2's weights is Hugging Face's (`openai-community/gpt2`), in the format
# of its `transformers` library. Its model stores the same tensors as the course's `GPT`, under
# other names, with one twist: its linear layers are `Conv1D` modules (a name from OpenAI's
# original code), which store their weight as (in, out), computing $xW + b$, where PyTorch's
# `nn.Linear` stores (out, in) and computes $xW^\top + b$. So four weights per block must be
# transposed. Its blocks also carry the causal mask as a buffer (`attn.bias`, and an old
# `attn.masked_bias`), which is not a weight: the course's attention makes its own mask. The names:

# %%
#| export
GPT2_NAMES = (  # (the course's name, GPT-2's name in a Hugging Face state dict), replaced in turn
    ("token_embedding", "wte"),  # word token embedding
    ("position_embedding", "wpe"),  # word position embedding
    ("blocks.", "h."),  # the blocks ("hidden" layers)
    ("attention.qkv", "attn.c_attn"),
    ("attention.proj", "attn.c_proj"),
    ("mlp.fc", "mlp.c_fc"),
    ("mlp.proj", "mlp.c_proj"),
)
CONV1D_WEIGHTS = ("c_attn.weight", "c_proj.weight", "c_fc.weight")  # stored (in, out): transposed for nn.Linear


def gpt2_name(name: str) -> str:
    """The name that the course GPT's parameter `name` has in a Hugging Face GPT-2 state dict.

    >>> gpt2_name("blocks.3.attention.qkv.weight"), gpt2_name("ln_f.bias")
    ('h.3.attn.c_attn.weight', 'ln_f.bias')
    """
    for course, gpt2 in GPT2_NAMES:
        name = name.replace(course, gpt2)
    return name


# %% [markdown]
# To compare, we build a small model in Hugging Face's library: GPT-2's architecture and
# vocabulary, but 2 blocks of 4 heads and $n_{\text{emb}} = 64$, with random weights (drawn with a
# spread of 0.1 instead of GPT-2's initial 0.02, so that the logits spread over a few units, as
# a trained model's do). Here are the weights of its first block beside the course's names:

# %%
from transformers import GPT2Config, GPT2LMHeadModel

from llm_course.gpt import GPT

torch.manual_seed(0)
small = GPT2Config(vocab_size=50_257, n_positions=64, n_embd=64, n_layer=2, n_head=4, initializer_range=0.1)
hf_model = GPT2LMHeadModel(small).eval()
hf_weights = {name.removeprefix("transformer."): tensor for name, tensor in hf_model.state_dict().items()}
course_shapes = dict(GPT(gpt2_config(n_layer=2, n_head=4, n_emb=64, context_size=64)).named_parameters())
for name, parameter in course_shapes.items():
    if name.startswith("blocks.0.") or "blocks" not in name:
        theirs = hf_weights[gpt2_name(name)]
        print(f"{name:30} {str(tuple(parameter.shape)):11} <- {gpt2_name(name):22} {tuple(theirs.shape)}"
              + ("  transposed" if gpt2_name(name).endswith(CONV1D_WEIGHTS) else ""))

# %% [markdown]
# The same tensors, with the shapes of notebook 06: `qkv` maps $C$ to $3C$ (queries, keys and
# values of all heads), `fc` widens to $4C$, and the output layer is the token table again (GPT-2
# ties them too, so its `lm_head.weight` is `wte.weight`). Converting is a loop over the course's
# parameters: find the GPT-2 name, transpose a Conv1D weight, copy. The checks (every weight
# present, no weight left over, every shape right, the output layer tied) are in a folded cell;
# the sizes come from the shapes, except the number of heads, which the weights do not record.

# %% jupyter={"source_hidden": true}
#| export
class GPT2WeightsError(ValueError):
    """Weights that are not a GPT-2 state dict, or a file that is not a complete safetensors file."""


_MASK_BUFFER = re.compile(r"h\.\d+\.attn\.(bias|masked_bias)")  # the causal mask of old checkpoints, not a weight
_BLOCK = re.compile(r"h\.(\d+)\.")


def gpt2_shapes(n_vocab: int, context_size: int, n_emb: int, n_layer: int) -> dict[str, tuple[int, ...]]:
    """Every weight of a GPT-2 state dict (Hugging Face's names, no `transformer.` prefix) with its shape."""
    V, T, C = n_vocab, context_size, n_emb
    shapes = {"wte.weight": (V, C), "wpe.weight": (T, C), "ln_f.weight": (C,), "ln_f.bias": (C,)}
    for i in range(n_layer):
        shapes.update({
            f"h.{i}.ln_1.weight": (C,), f"h.{i}.ln_1.bias": (C,),
            f"h.{i}.attn.c_attn.weight": (C, 3 * C), f"h.{i}.attn.c_attn.bias": (3 * C,),
            f"h.{i}.attn.c_proj.weight": (C, C), f"h.{i}.attn.c_proj.bias": (C,),
            f"h.{i}.ln_2.weight": (C,), f"h.{i}.ln_2.bias": (C,),
            f"h.{i}.mlp.c_fc.weight": (C, 4 * C), f"h.{i}.mlp.c_fc.bias": (4 * C,),
            f"h.{i}.mlp.c_proj.weight": (4 * C, C), f"h.{i}.mlp.c_proj.bias": (C,),
        })
    return shapes


def _check_hf_state_dict(state_dict: object, n_head: object) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
    """GPT-2's weights by name (no `transformer.` prefix, no mask buffers, no tied lm_head) and the sizes they imply.

    Raises `GPT2WeightsError` naming the first problem: not a mapping of tensors, no token table,
    an `n_head` that does not divide n_emb, a missing or unexpected weight, a wrong shape, or an
    output layer that is not the token table.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping from names to tensors, got {type(state_dict).__name__}")
    if isinstance(n_head, bool) or not isinstance(n_head, int) or n_head < 1:
        raise GPT2WeightsError(f"n_head must be a positive int, got {n_head!r} (GPT-2 124M has 12 heads)")
    weights = {}
    for key, value in state_dict.items():
        name = str(key).removeprefix("transformer.")
        if _MASK_BUFFER.fullmatch(name):
            continue  # a buffer: the course's attention makes its own causal mask
        if not isinstance(value, torch.Tensor):
            raise GPT2WeightsError(f"{key} is a {type(value).__name__}, not a tensor")
        weights[name] = value
    lm_head = weights.pop("lm_head.weight", None)
    for required in ("wte.weight", "wpe.weight"):
        if required not in weights or weights[required].ndim != 2:
            raise GPT2WeightsError(f"not a GPT-2 state dict: no 2-D {required} (its keys start with "
                                   f"{list(state_dict)[:3]})")
    (V, C), T = weights["wte.weight"].shape, weights["wpe.weight"].shape[0]
    if C % n_head != 0:
        raise GPT2WeightsError(f"n_head={n_head} does not divide n_emb={C}: these weights need a number of heads "
                               f"that divides {C} (GPT-2 124M has 12)")
    L = 1 + max((int(match.group(1)) for name in weights if (match := _BLOCK.match(name))), default=-1)
    if L == 0:
        raise GPT2WeightsError("the state dict has no blocks (no weight named h.0.*): not a GPT-2 state dict")
    expected = gpt2_shapes(V, T, C, L)
    missing = [name for name in expected if name not in weights]
    if missing:
        raise GPT2WeightsError(f"the state dict lacks {len(missing)} of GPT-2's weights, {missing[:3]}: "
                               "a truncated or damaged checkpoint, or not GPT-2's")
    unexpected = [name for name in weights if name not in expected]
    if unexpected:
        raise GPT2WeightsError(f"the state dict has weights GPT-2 does not have: {unexpected[:3]}")
    for name, shape in expected.items():
        if tuple(weights[name].shape) != shape:
            raise GPT2WeightsError(f"{name} has shape {tuple(weights[name].shape)}, expected {shape} for "
                                   f"n_vocab={V}, T={T}, n_emb={C} (GPT-2's Conv1D stores a weight as (in, out))")
    if lm_head is not None and not (lm_head.shape == (V, C) and torch.equal(lm_head, weights["wte.weight"])):
        raise GPT2WeightsError("lm_head.weight is not wte.weight: GPT-2 ties its output layer to the token table")
    return weights, {"n_vocab": V, "context_size": T, "n_emb": C, "n_layer": L}


# %%
#| export
def from_hf_state_dict(state_dict: Mapping[str, torch.Tensor], n_head: int) -> GPT:
    """The course's GPT holding the weights of a Hugging Face GPT-2 state dict; sizes read from the shapes."""
    weights, sizes = _check_hf_state_dict(state_dict, n_head)  # GPT-2's names, checked; n_vocab, T, n_emb, n_layer
    model = GPT(gpt2_config(n_head=n_head, **sizes))
    with torch.no_grad():
        for name, parameter in model.named_parameters():  # the tied lm_head.weight is token_embedding.weight
            weight = weights[gpt2_name(name)]
            parameter.copy_(weight.T if gpt2_name(name).endswith(CONV1D_WEIGHTS) else weight)  # Conv1D: (in, out)
    return model.eval()


# %% [markdown]
# Now the test: the same batch of token indices, a line of the play and a random sequence, through
# both models. We print the bound the cell asserts, not the difference itself, because the last
# digits of a float32 sum depend on the CPU; they are of the order of $10^{-6}$ here, for logits that
# span several units. That is float32 rounding, not a difference of computation: in float64 the two
# models agree to $10^{-10}$, and in float32 the course's GPT is as close to the float64 result as
# `transformers` itself (the tests check both, on a wider model with larger logits too).

# %%
course_model = from_hf_state_dict(hf_model.state_dict(), n_head=4)
line = torch.tensor(tokenizer.encode("ROMEO:\nWherefore art thou Romeo? Deny thy father"))  # 14 tokens
idx = torch.stack([line, torch.randint(50_257, (len(line),), generator=torch.Generator().manual_seed(1))])  # (2, 14)
with torch.no_grad():
    hf_logits, course_logits = hf_model(idx).logits, course_model(idx)  # (2, 14, 50257) each
assert course_logits.shape == hf_logits.shape == (2, 14, 50_257) and hf_logits.abs().max() > 2
assert (course_logits - hf_logits).abs().max() < 1e-5
print(f"logits of shape {tuple(course_logits.shape)}: the course's GPT and transformers' GPT-2 agree within 1e-5")

# %% [markdown]
# Two mistakes show what the details are worth. The same weights with the exact GELU, the course's
# default, move the logits by about $10^{-3}$: small, but a real difference, and it grows with the
# model. The same weights read as 2 heads of 32 numbers instead of 4 heads of 16 give another
# model altogether: nothing in the tensors says how many heads they hold, because it is only how
# the $3C$ columns of `qkv` are grouped. That is why `from_hf_state_dict` asks for `n_head`.

# %%
import dataclasses

exact_gelu = GPT(dataclasses.replace(course_model.config, gelu_approximate="none"))
exact_gelu.load_state_dict(course_model.state_dict())
two_heads = from_hf_state_dict(hf_model.state_dict(), n_head=2)
with torch.no_grad():
    exact_gap = (exact_gelu.eval()(idx) - hf_logits).abs().max()
    heads_gap = (two_heads(idx) - hf_logits).abs().max()
assert 1e-4 < exact_gap < 1e-2 and heads_gap > 0.1
print("exact GELU instead of the tanh approximation: logits differ by 1e-4 to 1e-2")
print("2 heads instead of 4: logits differ by more than 0.1")

# %% [markdown]
# ## The real GPT-2
#
# GPT-2's weights are the file `model.safetensors` of `openai-community/gpt2` on the Hugging Face
# Hub: 548 MB, in the *safetensors* format (a JSON header that names every tensor, its shape and
# where its bytes lie, then the bytes; reading it runs no code, unlike a pickle). `llm_course.data`
# registers it with its SHA-256, pinned to one revision, so `load_gpt2` downloads it once through
# the same verified loader as the corpus, checks it, caches it, and converts it with
# `from_hf_state_dict`. The reading, with its checks of a damaged file, is folded.

# %% jupyter={"source_hidden": true}
#| export
def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of the safetensors file at `path`; `GPT2WeightsError` for a file that is not one, or is truncated."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        header_length = int.from_bytes(file.read(8), "little")
        if size < 8 or not 2 <= header_length <= size - 8:
            raise GPT2WeightsError(f"{path} is not a safetensors file: its first 8 bytes do not give the length of "
                                   f"a header that fits in its {size:,} bytes")
        try:
            header = json.loads(file.read(header_length))
            end = max((entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"),
                      default=0)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, KeyError, IndexError, AttributeError):
            raise GPT2WeightsError(f"{path} is not a safetensors file: its header is not the JSON of one") from None
    if 8 + header_length + end != size:
        raise GPT2WeightsError(f"{path} is truncated or damaged: its header describes {8 + header_length + end:,} "
                               f"bytes, the file has {size:,}")
    try:
        from safetensors.torch import load_file as load_safetensors
    except ImportError:
        raise ImportError("reading GPT-2's weights needs the package safetensors: pip install safetensors") from None
    return load_safetensors(path)


# %%
#| export
def load_gpt2(path: str | os.PathLike | None = None, *, n_head: int = 12, download: bool = True) -> GPT:
    """GPT-2 as the course's GPT: by default the 124M model, from the verified, cached `model.safetensors`.

    `path`: a safetensors file of your own instead (another size: pass its `n_head`, 16 for
    gpt2-medium, 20 for large, 25 for xl). Without it, `load_file("gpt2-weights")` finds or downloads
    (548 MB, once) the file of `openai-community/gpt2`; offline with no copy, or with
    `download=False`, it raises a `CorpusError` that says where to put the file.
    """
    path = Path(path) if path is not None else load_file("gpt2-weights", download=download)
    return from_hf_state_dict(_read_safetensors(path), n_head=n_head)


# %% [markdown]
# The last cell generates with the real GPT-2 and notebook 08's `generate` when the weights are
# here. It never downloads on its own, except in Colab: set `DOWNLOAD_GPT2 = True` to fetch the
# 548 MB (Binder has the memory for it, barely). The 124M model needs about 1 GB of memory; it
# writes a line of text in a few seconds on a laptop CPU. Without the weights it says so in one
# line. Its output depends on whether the weights are here, so the tests do not compare it; the
# cell asserts what it produced instead.

# %% tags=["nbval-ignore-output"]
from llm_course.data import CorpusError
from llm_course.sampling import generate

DOWNLOAD_GPT2 = "google.colab" in sys.modules  # set to True to download GPT-2's weights (548 MB) once
prompt = "ROMEO:\nWherefore art thou"
try:
    gpt2 = load_gpt2(download=DOWNLOAD_GPT2)
except CorpusError:
    gpt2 = None
    print(f"GPT-2's weights are not here: with them, this cell would load GPT-2 (124M) into the course's GPT and "
          f"continue {prompt!r} with generate (top-k 40, seed 0); set DOWNLOAD_GPT2 = True to fetch them (548 MB), "
          "or put model.safetensors of openai-community/gpt2, renamed gpt2_model.safetensors, in ~/.cache/llm-course.")
if gpt2 is not None:
    assert gpt2.count_parameters() == 124_439_808
    prompt_ids = torch.tensor(tokenizer.encode(prompt))
    sample = generate(gpt2, prompt_ids, max_new_tokens=40, top_k=40, generator=torch.Generator().manual_seed(0))
    print(tokenizer.decode(sample.tolist()))
    assert sample[: len(prompt_ids)].tolist() == prompt_ids.tolist()

# %% [markdown]
# ## Summary
#
# - GPT-2's tokenizer is notebook 03's byte-level BPE: 256 byte tokens, 50,000 merges (merge $j$
#   makes token $256+j$) and `<|endoftext|>` at 50,256. Its one difference is the order of the byte
#   tokens, so `BPETokenizer` holds an explicit table from byte to index (`byte_ids`);
#   `from_gpt2_files` reads GPT-2's files, whose tokens are written with one printable character
#   per byte (`Ġ` is the space). The indices equal OpenAI's `tiktoken`'s.
# - `encode_iterable` encodes a stream a block at a time, cutting only where more text cannot
#   change the chunks; its indices equal those of the whole text.
# - Merges learned from the web compress Shakespeare worse than merges learned from Shakespeare at
#   the same $n_{\text{vocab}}$; GPT-2's 50,257 tokens reach 3.09 characters per token on it.
# - GPT-2 is notebook 06's GPT with biases, GELU's tanh approximation and LayerNorm's
#   $\varepsilon = 10^{-5}$; the formula gives 124,439,808 parameters for the smallest size.
# - Hugging Face's copy stores the same tensors under other names; Conv1D weights are transposed,
#   mask buffers ignored. With the same weights, the course's GPT and `transformers` give the same
#   logits (within $10^{-5}$ in float32). The number of heads is not in the weights.
# - `load_gpt2()` loads the real weights through the verified loader, and `generate` writes with them.
#
# ## Exercises
#
# Fill in each starter cell, run it, then run the `check` cell under it: it calls your function on
# several inputs, some drawn at random, compares with the course's code or PyTorch, and prints ✓
# or a hint. Solutions are in `solutions/10_gpt2.py`; try first.
#
# **10.1 GELU, as GPT-2 computes it.** Write GELU's tanh approximation,
# $\tfrac12 x\bigl(1+\tanh\bigl(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\bigr)\bigr)$, for a tensor `x`,
# elementwise, without calling PyTorch's GELU.

# %%
from llm_course.exercises import check


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """GELU's tanh approximation of every element of x."""
    raise NotImplementedError  # your code here


check("10.1", gelu_tanh)

# %% [markdown]
# **10.2 A Conv1D as an `nn.Linear`.** GPT-2's `Conv1D` holds `weight` of shape (in, out) and
# `bias` of shape (out,), and computes $xW + b$. Return an `nn.Linear` that computes the same
# thing for every `x` of shape (..., in).

# %%
from torch import nn


def linear_from_conv1d(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    """An nn.Linear equal to GPT-2's Conv1D with this weight (in, out) and bias (out,)."""
    raise NotImplementedError  # your code here


check("10.2", linear_from_conv1d)

# %% [markdown]
# **10.3 One head's queries.** `c_attn_weight` is GPT-2's `attn.c_attn.weight`, of shape
# $(C, 3C)$: $x$ times it gives the queries, keys and values of all heads side by side, in the
# layout notebook 06's attention splits with `"B T (three H D) -> three B H T D"`. Return the
# weight of head `h`'s queries as a tensor of shape $(D, C)$, $D = C / H$, so that
# `x @ weight.T` is head `h`'s query for every position.

# %%
def head_query_weight(c_attn_weight: torch.Tensor, n_head: int, h: int) -> torch.Tensor:
    """The (D, C) weight of head h's queries inside GPT-2's (C, 3C) c_attn weight."""
    raise NotImplementedError  # your code here


check("10.3", head_query_weight)

# %% [markdown]
# **10.4 How GPT-2's files write a token.** Return the string that `encoder.json` and `vocab.bpe`
# use for a token with bytes `token`: each byte becomes one character. The printable bytes
# 33..126, 161..172 and 174..255 stand for themselves; the 68 others, in increasing order, take
# the characters `chr(256)`, `chr(257)`, ... (so the space, byte 32, is `Ġ`, which is `chr(288)`).

# %%
def written_form(token: bytes) -> str:
    """The string GPT-2's files use for the token with these bytes."""
    raise NotImplementedError  # your code here


check("10.4", written_form)

# %% [markdown]
# Questions to think about (no check):
#
# 1. Encode a paragraph of Python code and one of German with GPT-2's tokenizer and with the
#    Shakespeare tokenizer of this notebook. Which one wins now, and why?
# 2. GPT-2's `ROMEO` is `ROM` + `EO`. Find other words of the play that GPT-2 cuts oddly. What do
#    they have in common?
# 3. `from_hf_state_dict` cannot detect a wrong `n_head` that divides $n_{\text{emb}}$. Could you
#    detect it from the model's behaviour, with a few sentences of text?
# 4. With the real weights: what loss does GPT-2 reach on Shakespeare's validation text, in nats
#    per token (use notebook 07's `evaluate`)? Compare it with notebook 07's character model, per
#    character.
#
# The peak memory of this notebook's kernel:

# %% tags=["nbval-ignore-output"]
from llm_course.environment import check_peak_memory

check_peak_memory()
