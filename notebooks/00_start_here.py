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
# # 00 · Start here
#
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/llm-course/llm-course/main?urlpath=lab/tree/notebooks/00_start_here.ipynb)
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/llm-course/llm-course/blob/main/notebooks/00_start_here.ipynb)
#
# This course explains how a large language model (LLM) works, from its notation up, one idea per
# notebook. Every notebook is prose, maths and code you run; the code that matters is written
# *into* a small Python package, `llm_course`, which later notebooks import. By notebook 07 the
# package trains a GPT that writes Shakespeare-like text on a laptop CPU in a few minutes.
#
# This notebook shows the whole road in one picture, fixes the notation, shows how to run the
# course, and loads the text we will learn from. It writes three small modules:
# `llm_course.data` (the corpus, the split into training and validation text, and batches),
# `llm_course.reproducibility` (one call that seeds every random number generator) and
# `llm_course.environment` (a check of your installation).
#
# **How to read a notebook.** Some code cells are *folded*: JupyterLab shows them as a thin bar
# with `⋯`, and a click opens them. They hold plumbing (checks of bad input, file handling,
# drawing code) that the package needs but the idea does not. They still run, and their output
# stays visible. Lines that start with `#|` are instructions to the exporter that writes the
# package: `#| default_exp data`, just below the folded install cell, names the module this notebook
# writes (`llm_course/data.py`), and a cell that starts with `#| export` is copied into it
# (`#| export environment` into `llm_course/environment.py`); cells without it are demonstrations.

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
#| default_exp data

# %% [markdown]
# ## The course in one picture
#
# A text is cut into **tokens**, tokens become whole-number **indices**, each index picks a vector
# $\mathbf{e}_i$, and the model $\text{LLM}_\theta$ turns the sequence into $\boldsymbol\alpha$,
# one probability for every token of the vocabulary: how likely each is to come next. From
# $\boldsymbol\alpha$ the road forks. In **training** we read the probability $\boldsymbol\alpha$
# gives to the token that really came next, $s_{\ell+1}$ (after $\ell$ tokens), and the loss
# $-\log\alpha_{s_{\ell+1}}$ says how surprised the model was; in **generation** we draw the next token from $\boldsymbol\alpha$ and
# append it. Under each box is the notebook that builds it. (The indices are those of the
# 65 characters of our corpus, counted from 0 as the code does; the cell that draws the picture is
# folded.)

# %% jupyter={"source_hidden": true}
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

def draw_pipeline(example: str, indices: list[int]) -> None:
    """The course in one picture: text -> tokens -> indices -> vectors -> LLM -> alpha -> loss / sample."""
    stages = [
        ("text", f'"{example}"', "00"),
        ("tokens", " ".join("␣" if c == " " else c for c in example), "01, 03"),
        ("indices (code: 0-based)", " ".join(map(str, indices)), "02"),
        ("vectors", r"$\mathbf{e}_{s_1},\dots,\mathbf{e}_{s_\ell}$", "04"),
        ("the model", r"$\mathrm{LLM}_\theta$", "05, 06"),
        ("next-token probabilities", r"$\alpha\in\Delta^{n_{vocab}}$", "05"),
    ]
    fig, ax = plt.subplots(figsize=(14, 3.8))
    ax.set_xlim(0, 14.2)
    ax.set_ylim(0, 3.6)
    ax.axis("off")
    width, height, gap, y = 1.6, 1.0, 0.3, 1.5
    for k, (name, content, notebooks) in enumerate(stages):
        x = 0.1 + k * (width + gap)
        ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.05", facecolor="#e8f0fb", edgecolor="#3b6ea8"))
        ax.text(x + width / 2, y + height + 0.2, name, ha="center", fontsize=9, color="#333333")
        ax.text(x + width / 2, y + height / 2, content, ha="center", va="center", fontsize=11)
        ax.text(x + width / 2, y - 0.25, f"notebook {notebooks}", ha="center", fontsize=8, color="#777777")
        if k:
            ax.annotate("", xy=(x - 0.03, y + height / 2), xytext=(x - gap + 0.03, y + height / 2),
                        arrowprops={"arrowstyle": "->", "color": "#3b6ea8"})
    x_alpha = 0.1 + (len(stages) - 1) * (width + gap) + width
    ends = [(2.6, "training: the loss", r"$-\log\,\alpha_{s_{\ell+1}}$", "07", "#fbe8e8", "#a83b3b"),
            (0.35, "generation: a sample", r"$\hat{s}_{\ell+1}\sim\mathrm{Categorical}(\alpha)$", "08", "#e8fbea", "#3ba84a")]
    for y_end, name, content, notebook, face, edge in ends:
        x = x_alpha + 0.4
        ax.add_patch(FancyBboxPatch((x, y_end), 2.5, 0.7, boxstyle="round,pad=0.05", facecolor=face, edgecolor=edge))
        ax.text(x + 1.25, y_end + 0.48, name, ha="center", fontsize=9)
        ax.text(x + 1.25, y_end + 0.2, content, ha="center", fontsize=10)
        ax.annotate("", xy=(x - 0.03, y_end + 0.35), xytext=(x_alpha + 0.05, y + height / 2),
                    arrowprops={"arrowstyle": "->", "color": edge})
        ax.text(x + 1.25, y_end - 0.22, f"notebook {notebook}", ha="center", fontsize=8, color="#777777")
    ax.set_title("The course in one picture: text becomes indices, the model maps them to probabilities α; "
                 "the loss trains it, sampling makes text", fontsize=11)
    plt.show()


PICTURE_INDICES = [32, 53, 1, 40, 43]  # "T", "o", " ", "b", "e" among the 65 characters (checked below)
draw_pipeline("To be", PICTURE_INDICES)

# %% [markdown]
# ## The notation
#
# The course tells one mathematical story, and every notebook, docstring and test uses the same
# symbols for it. Here is the whole cast; each notebook introduces its members properly.
#
# | concept | maths | in the code |
# |---|---|---|
# | vocabulary: the set of tokens (characters, words, pieces of words) | $\mathcal{V}$ | `Vocabulary` |
# | one token | $\mathbf{t}\in\mathcal{V}$ | `token`, a `str` |
# | vocabulary size | $n_{\text{vocab}}$ | `n_vocab` (GPT-2: 50,257) |
# | the vocabulary sorted into a sequence | $\mathcal{S}=(\mathbf{t}_1,\dots,\mathbf{t}_{n_{\text{vocab}}})$ | `Vocabulary.tokens` |
# | the token indices | $\mathcal{I}=\{1,\dots,n_{\text{vocab}}\}$ | $0,\dots,n_{\text{vocab}}-1$: **code counts from 0** |
# | one token index | $i\in\mathcal{I}$ | `index`; $\mathbf{t}_i$ is `tokens[i - 1]` |
# | embedding size | $n_{\text{emb}}$ | `n_emb` |
# | embedding of token $i$ | $\mathbf{e}_i\in\mathbb{R}^{n_{\text{emb}}}$ | row `i - 1` of the embedding table |
# | context size: the longest input | $T$ | `context_size` |
# | the length of one input, $1\le\ell\le T$ | $\ell$ | `t`, as in the shape `(B, t)` |
# | an input sequence of token indices | $(s_1,\dots,s_\ell)\in\mathcal{I}^{\ell}$ | `idx`, shape `(B, t)` |
# | batch size: how many sequences go through the model at once | (code only) | `batch_size`, the `B` of shapes |
# | probability vectors over the vocabulary | $\Delta^{n_{\text{vocab}}}=\{\boldsymbol\alpha\in[0,1]^{n_{\text{vocab}}}:\sum_i\alpha_i=1\}$ | |
# | the parameters | $\theta$ | `model.parameters()` |
# | the model | $\text{LLM}_\theta:\mathcal{I}^{\le T}\to\Delta^{n_{\text{vocab}}}$ | a `LanguageModel` |
# | the next-token distribution | $\boldsymbol\alpha=\text{LLM}_\theta(s_1,\dots,s_\ell)$ | `probs` (softmax of `logits`) |
# | a sampled next token | $\hat s_{\ell+1}\sim\text{Categorical}(\boldsymbol\alpha)$ | `sample_next(...)` |
# | the true next token | $s_{\ell+1}$ | `targets` |
# | the loss, in nats (natural logarithm) | $-\log\alpha_{s_{\ell+1}}$ | `cross_entropy(logits, targets)` |
#
# In words: an LLM is a function,
#
# $$\text{LLM}_\theta:\ \mathcal{I}^{\le T}\to\Delta^{n_{\text{vocab}}},\qquad
# \mathcal{I}^{\le T}=\mathcal{I}^1\cup\mathcal{I}^2\cup\dots\cup\mathcal{I}^T .$$
#
# It takes any sequence of 1 to $T$ token indices (the model's input is indices, never text) and
# returns a probability vector: one number $\alpha_i\ge 0$ for every token of the vocabulary, how
# likely it is to come next, summing to 1. Training adjusts $\theta$ so that the probability
# given to the token that really came next is high. Generating text draws a token from
# $\boldsymbol\alpha$, appends it, and asks again.
#
# **Counting from 1 or from 0.** The maths numbers tokens $1,\dots,n_{\text{vocab}}$, as maths does;
# Python and PyTorch number them $0,\dots,n_{\text{vocab}}-1$. Token $\mathbf{t}_i$ of the maths is
# `vocabulary.tokens[i - 1]` in the code, and its embedding $\mathbf{e}_i$ is row `i - 1` of the
# table. Notebooks that show both say so again. **Two letters:** the bold $\mathbf{t}$ is a token,
# $\ell$ the length of an input; the code writes that length `t` (in shapes such as `(B, t)`),
# and `B` is the batch size.

# %% [markdown]
# ## How to run the course
#
# | where | how |
# |---|---|
# | **your laptop** | `git clone` the repository, then `make lab`. The first run creates a virtual environment in `.venv`, installs PyTorch (a CPU build) and the course, and opens JupyterLab on this notebook. `make test` runs every test and re-executes every notebook against its stored outputs. |
# | **Binder** | click the Binder badge above: a JupyterLab in your browser with everything installed (2 GB of memory, 2 CPU cores: every notebook fits). |
# | **Colab** | click the Colab badge: the first code cell of every notebook installs the `llm_course` package, and leaves Colab's own PyTorch alone. |
#
# Work through the notebooks in order; each one ends with a summary and exercises that check
# themselves. Every code cell's output you see was produced by running the notebook top to
# bottom, and our tests check that running it again gives the same output. If you change a cell
# and get another number, that is a real difference.
#
# **Check your environment.** The next cell prints what you are running on and fails loudly if a
# package the course needs is missing. Its output differs from machine to machine, which is fine.
# (`llm_course.environment`, folded here, also holds `check_peak_memory`, which ends every notebook.)
#
# **Threads.** PyTorch starts one thread per CPU core it sees. A container allowed less CPU time
# than it has cores (Binder's can be) makes those threads wait for each other: on two cores
# limited to 0.825 CPUs, the GPT of `benchmarks/train_speed.py` trained at about 9,900 tokens per
# second on one thread and 7,700 on two. So `import llm_course` lowers PyTorch's threads to the
# container's limit (`fit_threads_to_cpu_limit`, at least one thread) unless you have set
# `OMP_NUM_THREADS` yourself; the `threads` line below names the limit where there is one.

# %% jupyter={"source_hidden": true}
#| export environment
"""What the course runs on: a check of the environment, and the memory a notebook used.

`check_environment()` fails loudly when a package the course needs is missing and describes
Python, PyTorch, the device and the threads. `check_peak_memory()` reports the peak memory of the
running process (the kernel, in a notebook) and fails when it passes a limit: Binder stops a
kernel at 2 GB, and the course keeps every notebook under 1.5 GB. Every notebook ends with it.
`cpu_limit()` reads the CPU time a Linux container may use (its cgroup's quota), and
`fit_threads_to_cpu_limit()`, which `import llm_course` calls, lowers PyTorch's threads to it.

Left out on purpose: GPU memory (see `torch.cuda.max_memory_allocated`) and per-cell profiling.
"""

from __future__ import annotations

# %% jupyter={"source_hidden": true}
#| export environment
import importlib.util
import os
import platform
import sys
from pathlib import Path

import torch

REQUIRED_PACKAGES = ("torch", "numpy", "matplotlib", "regex", "einops", "tqdm", "ipywidgets", "llm_course")


def best_device() -> str:
    """The fastest device PyTorch can use here: `"cuda"`, then `"mps"` (Apple GPUs), then `"cpu"`."""
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _cgroup_limits(directory: Path, top: Path, version: int) -> list[float]:
    """The CPU limits set in `directory` and each folder above it up to `top`, in CPUs (cgroup v1 or v2)."""
    limits = []
    for folder in [directory, *directory.parents]:
        try:
            if version == 2:  # cpu.max: "<quota> <period>" in microseconds, or "max <period>"
                quota, period = (folder / "cpu.max").read_text().split()[:2]
            else:  # cpu.cfs_quota_us is -1 where there is no limit
                quota = (folder / "cpu.cfs_quota_us").read_text().strip()
                period = (folder / "cpu.cfs_period_us").read_text().strip()
            if quota not in ("max", "-1") and int(period) > 0:
                limits.append(int(quota) / int(period))
        except (OSError, ValueError):
            pass  # no such file here, or one we do not understand: no limit read
        if folder == top:
            break
    return limits


def cpu_limit(proc_cgroup: str = "/proc/self/cgroup", cgroup_root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs' worth of time per second this process may use under a Linux cgroup limit, or `None`.

    Containers are limited this way (Binder, Kubernetes, `docker run --cpus`). The limit is a
    quota of CPU time per period, and it holds for the process's cgroup and every cgroup above
    it: the smallest counts. `None` where no limit is set, or off Linux.

    >>> cpu_limit(proc_cgroup="/nonexistent") is None
    True
    """
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except OSError:
        return None
    root, limits = Path(cgroup_root), []
    for line in lines:  # "hierarchy-id:controllers:path", e.g. "0::/user.slice" (v2), "4:cpu,cpuacct:/" (v1)
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "" and (root / "cgroup.controllers").exists():
            mounts, version = [root], 2
        elif "cpu" in controllers.split(","):  # v1 mounts it as /sys/fs/cgroup/cpu,cpuacct or .../cpu
            mounts, version = [root / controllers, root / "cpu"], 1
        else:
            continue
        for mount in mounts:
            if mount.is_dir():  # in a container the path may name the host's folders: fall back to the root
                directory = mount / path.lstrip("/")
                limits += _cgroup_limits(directory if directory.is_dir() else mount, mount, version)
                break
    return min(limits) if limits else None


def fit_threads_to_cpu_limit() -> int:
    """Lower PyTorch's CPU threads to the cgroup's CPU limit (at least 1); return the threads used.

    PyTorch starts a thread per core it sees; under a limit of fewer CPUs the threads wait for
    each other. An `OMP_NUM_THREADS` you set wins: then nothing changes. Threads are only lowered.
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    limit = cpu_limit()
    if limit is not None and max(1, int(limit)) < torch.get_num_threads():
        torch.set_num_threads(max(1, int(limit)))  # whole CPUs, at least one
    return torch.get_num_threads()


def check_environment(required: tuple[str, ...] = REQUIRED_PACKAGES) -> dict[str, str]:
    """Describe this environment; raise `ImportError` naming every missing package.

    >>> sorted(check_environment(required=("torch",)))
    ['device', 'python', 'threads', 'torch']
    """
    missing = [name for name in required if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"missing packages: {', '.join(missing)}. Run `make lab` from the repository "
            "(or `pip install -e .` in your environment) and restart the kernel."
        )
    device = best_device()
    if device == "cuda":
        device = f"cuda ({torch.cuda.get_device_name(0)})"
    limit = cpu_limit()
    return {
        "python": f"{platform.python_version()} on {platform.system()} {platform.machine()}",
        "torch": torch.__version__,
        "device": device,
        "threads": f"{torch.get_num_threads()} (of {os.cpu_count()} logical CPUs"
                   + ("" if limit is None else f", a container's limit of {limit:g} CPUs") + ")",
    }


def peak_memory_mb() -> float | None:
    """Peak resident memory of this process in MB, or `None` where the platform does not say (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # macOS: bytes; Linux: kB


def check_peak_memory(limit_mb: float = 1500.0) -> float | None:
    """Print this process's peak memory and raise `MemoryError` if it passed `limit_mb`."""
    peak = peak_memory_mb()
    if peak is None:
        print("peak memory: not reported on this platform")
        return None
    print(f"peak memory of this kernel: {peak:.0f} MB (the course's limit: {limit_mb:.0f} MB; Binder's: 2048 MB)")
    if peak > limit_mb:
        raise MemoryError(f"peak memory {peak:.0f} MB is above the limit of {limit_mb:.0f} MB")
    return peak


# %% tags=["nbval-ignore-output"]
for key, value in check_environment().items():
    print(f"{key:8} {value}")

# %% [markdown]
# ## The map of the course
#
# | # | notebook | the idea | writes |
# |---|---|---|---|
# | 00 | `00_start_here` | running the course, the notation, the corpus | `llm_course.environment`, `llm_course.data`, `llm_course.reproducibility` |
# | 01 | `01_vocabulary` | $\mathcal{V}$: characters, words, pieces of words; coverage and size | `llm_course.vocabulary` |
# | 02 | `02_token_indices` | $\mathcal{S}$, token indices, encode and decode | `llm_course.tokenizers` |
# | 03 | `03_subword_tokens` | learning sub-words from data: byte-pair encoding | `llm_course.bpe` |
# | 04 | `04_embeddings` | an index becomes a vector $\mathbf{e}_i$ | `llm_course.embeddings` |
# | 05 | `05_the_llm_function` | $\text{LLM}_\theta$, softmax, bigram models | `llm_course.models` |
# | 06 | `06_attention_and_the_transformer` | attention, the transformer block, the GPT | `llm_course.attention`, `llm_course.gpt` |
# | 07 | `07_cross_entropy_training` | the loss, training, its floors, checkpoints | `llm_course.training` |
# | 08 | `08_sampling` | generating text: temperature, top-k, top-p | `llm_course.sampling` |
# | 09 | `09_scaling_up` | a command-line trainer, GPUs, `torchrun` | `llm_course.train` |
# | 10 | `10_gpt2` | the GPT you built is GPT-2: its tokenizer and weights in the course's classes | `llm_course.gpt2` |
# | 11 | `11_modern_transformer` | what changed after GPT-2, each change measured on the same budget | `llm_course.modern` |
#
# Every module starts with a line naming the notebook that wrote it: to change the package, change
# the notebook and run `make export`.

# %% [markdown]
# ## The corpus: Tiny Shakespeare
#
# We learn from one small text: 40,000 lines of Shakespeare's plays collected by Andrej Karpathy
# for his char-rnn project, 1,115,394 characters in all. It is small enough to train on with a
# CPU in minutes and large enough for a model to learn spelling, names and the shape of a play.
#
# The text is not part of this repository. `load_text` looks for it, in order:
#
# 1. in the folder named by the environment variable `LLM_COURSE_DATA` (our tests and CI point it at a local copy);
# 2. in your user cache folder (`~/.cache/llm-course`, or the folder named by `LLM_COURSE_CACHE`);
# 3. on the internet, from its public source. The download streams into a temporary file, is
#    checked against the text's SHA-256 fingerprint, and only then is renamed into place, so a
#    broken download never leaves a broken file behind.
#
# A copy whose fingerprint is wrong is never used, and offline with no copy, the error says where
# to put the file. The same search, by `load_file(name)`, finds the other files the course uses
# (GPT-2's tokenizer files and weights, for notebook 10) and returns the path of a verified copy.
# All of that is plumbing: the six folded cells below are that part of `llm_course.data`. Open
# them if you want to see how a careful downloader is written.

# %% jupyter={"source_hidden": true}
#| export
"""The corpus: find, download, verify and cache a text; split it; cut it into batches.

`load_text` returns the text of a named corpus (Tiny Shakespeare is the course's), looking in
the folder named by `LLM_COURSE_DATA`, then in a user cache folder, then downloading it from
its public source. Every copy is checked against a known SHA-256 (and, where known, its size)
before it is used, and a download is written atomically. `load_file` does the same for the
files in `FILES` that are not text corpora (GPT-2's tokenizer files and weights) and returns the
path of the verified copy. `train_val_split` and `get_batch` turn a sequence of token indices
into training examples.

Left out on purpose: streaming corpora larger than memory, and data loaders with worker
processes; the course's corpus is one megabyte.
"""

from __future__ import annotations


# %% jupyter={"source_hidden": true}
#| export
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm


# %% jupyter={"source_hidden": true}
#| export
DATA_ENV = "LLM_COURSE_DATA"  # a folder that holds corpus files; looked at first
CACHE_ENV = "LLM_COURSE_CACHE"  # overrides the user cache folder


@dataclass(frozen=True)
class DataFile:
    """A file the course can load: where it comes from and how to recognise it."""

    name: str  # the name `load_file` takes
    filename: str  # the file's name in the data and cache folders
    url: str  # the public source
    sha256: str  # the fingerprint every copy must have
    description: str = ""
    size: int | None = None  # its length in bytes, when known: a copy of another length is refused before hashing


@dataclass(frozen=True)
class Corpus(DataFile):
    """A text corpus: a `DataFile` that `load_text` reads as UTF-8."""


CORPORA: dict[str, Corpus] = {
    "tiny-shakespeare": Corpus(
        name="tiny-shakespeare",
        filename="tinyshakespeare.txt",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        description="Tiny Shakespeare: 1,115,394 characters, 65 distinct (karpathy/char-rnn)",
    ),
}


GPT2_FILES_URL = "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/"  # OpenAI's GPT-2 release
GPT2_WEIGHTS_REVISION = "607a30d783dfa663caf39e06633721c8d4cfcd7e"  # openai-community/gpt2 on the Hugging Face Hub

FILES: dict[str, DataFile] = {
    "gpt2-encoder": DataFile(
        name="gpt2-encoder",
        filename="gpt2_encoder.json",
        url=GPT2_FILES_URL + "encoder.json",
        sha256="196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
        description="GPT-2's encoder.json: its 50,257 tokens and their indices",
        size=1_042_301,
    ),
    "gpt2-vocab": DataFile(
        name="gpt2-vocab",
        filename="gpt2_vocab.bpe",
        url=GPT2_FILES_URL + "vocab.bpe",
        sha256="1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
        description="GPT-2's vocab.bpe: its 50,000 merges in the order they were learned",
        size=456_318,
    ),
    "gpt2-weights": DataFile(
        name="gpt2-weights",
        filename="gpt2_model.safetensors",
        url=f"https://huggingface.co/openai-community/gpt2/resolve/{GPT2_WEIGHTS_REVISION}/model.safetensors",
        sha256="248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707",
        description="GPT-2 (124M)'s weights: model.safetensors of openai-community/gpt2 (548 MB)",
        size=548_105_171,
    ),
}


class CorpusError(RuntimeError):
    """A corpus or another data file could not be found, downloaded or verified."""


# %% jupyter={"source_hidden": true}
#| export
def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 fingerprint of a file, as 64 hexadecimal digits.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "abc.txt"; _ = p.write_bytes(b"abc")
    >>> sha256_of(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """The user cache folder.

    `$LLM_COURSE_CACHE` if set, else `$XDG_CACHE_HOME/llm-course`, else `~/.cache/llm-course`.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "llm-course"


# %% jupyter={"source_hidden": true}
#| export
def _download(corpus: DataFile, destination: Path, timeout: float = 60.0) -> None:
    """Download `corpus.url` to `destination`, atomically and verified, or raise `CorpusError`."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(dir=destination.parent, prefix=destination.name, suffix=".part")
    temporary = Path(temporary_name)
    try:
        digest, received = hashlib.sha256(), 0
        with (os.fdopen(handle, "wb") as file, urllib.request.urlopen(corpus.url, timeout=timeout) as response,
              tqdm(total=corpus.size, unit="B", unit_scale=True, desc=corpus.filename,
                   disable=(corpus.size or 0) < 50_000_000) as progress):  # a bar for large files only
            expected_length = corpus.size or response.headers.get("Content-Length")  # the known size first
            for block in iter(lambda: response.read(1 << 16), b""):
                file.write(block)
                digest.update(block)
                received += len(block)
                progress.update(len(block))
        if expected_length is not None and received != int(expected_length):
            raise CorpusError(
                f"the download of {corpus.name!r} from {corpus.url} was truncated: "
                f"{received} of {expected_length} bytes; nothing was kept, try again"
            )
        if digest.hexdigest() != corpus.sha256:
            raise CorpusError(
                f"the download of {corpus.name!r} from {corpus.url} has SHA-256 {digest.hexdigest()}, "
                f"expected {corpus.sha256}: it is damaged or not the course's text; nothing was kept"
            )
        os.replace(temporary, destination)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise CorpusError(
            f"could not download {corpus.name!r} from {corpus.url} ({error}). If you are offline, "
            f"put the file {corpus.filename} (SHA-256 {corpus.sha256}) in {destination.parent}, "
            f"or in a folder named by the environment variable {DATA_ENV}."
        ) from error
    finally:
        temporary.unlink(missing_ok=True)


# %% jupyter={"source_hidden": true}
#| export
def _verified_copy(record: DataFile, *, download: bool) -> Path:
    """The path of a copy of `record` whose size and SHA-256 are right: in LLM_COURSE_DATA, the cache, or downloaded."""
    if os.environ.get(DATA_ENV):
        candidate = Path(os.environ[DATA_ENV]).expanduser() / record.filename
        if candidate.is_file():
            problem = _fingerprint_problem(candidate, record)
            if problem:
                raise CorpusError(f"{candidate} {problem}: it is damaged or not {record.name!r}; replace it, "
                                  f"or unset {DATA_ENV} to download a fresh copy")
            return candidate
    cached = cache_dir() / record.filename
    if cached.is_file() and _fingerprint_problem(cached, record):
        cached.unlink()  # a damaged cached copy is never used; fetch it again
    if not cached.is_file():
        if not download:
            raise CorpusError(
                f"no copy of {record.name!r} found and download=False: put {record.filename} "
                f"(SHA-256 {record.sha256}, from {record.url}) in {cached.parent} or in a folder named by {DATA_ENV}"
            )
        _download(record, cached)
    return cached


def _fingerprint_problem(path: Path, record: DataFile) -> str | None:
    """What is wrong with the copy at `path` (its size first, which is quick), or None when it is `record`."""
    size = path.stat().st_size
    if record.size is not None and size != record.size:
        return f"has {size:,} bytes, expected {record.size:,} (truncated, or another file)"
    actual = sha256_of(path)
    return None if actual == record.sha256 else f"has SHA-256 {actual}, expected {record.sha256}"


def load_file(name: str, *, download: bool = True) -> Path:
    """The path of a verified copy of the data file `name` (a key of `FILES` or `CORPORA`).

    The same search as `load_text`: the folder named by `LLM_COURSE_DATA`, then `cache_dir()`,
    then (if `download`) a download into the cache, written atomically. A copy whose size or
    SHA-256 is wrong is never used.

    >>> load_file("gpt2-vocab").name   # doctest: +SKIP
    'gpt2_vocab.bpe'
    """
    known = {**CORPORA, **FILES}
    if name not in known:
        raise ValueError(f"unknown data file {name!r}; known files: {', '.join(sorted(known))}")
    return _verified_copy(known[name], download=download)


def load_text(name: str = "tiny-shakespeare", *, download: bool = True) -> str:
    """The text of the corpus `name`, verified against its SHA-256.

    Looks in the folder named by `LLM_COURSE_DATA`, then in `cache_dir()`, then (if `download`)
    downloads from the corpus's public source into the cache. A copy whose fingerprint is wrong
    is never used: one in `LLM_COURSE_DATA` (your folder, left as it is) raises `CorpusError`; one
    in the cache is deleted and downloaded again.

    >>> text = load_text("tiny-shakespeare")   # doctest: +SKIP
    >>> len(text), text[:14]                    # doctest: +SKIP
    (1115394, 'First Citizen:')
    """
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; known corpora: {', '.join(sorted(CORPORA))}")
    return _verified_copy(CORPORA[name], download=download).read_text(encoding="utf-8")

# %% [markdown]
# Let us load it and look: its size, its 65 distinct characters (in Python's order: the newline
# `\n` first, then the space and the punctuation), and the start of the play.

# %%
text = load_text("tiny-shakespeare")
characters = sorted(set(text))
print(f"{len(text):,} characters, {len(characters)} distinct, {text.count(chr(10)):,} lines")
print(repr("".join(characters)))
assert len(text) == 1_115_394 and len(characters) == 65
assert [characters.index(c) for c in "To be"] == PICTURE_INDICES, "the indices of the picture above"
print()
print(text[:250])

# %% [markdown]
# ## Training and validation text
#
# We will fit models to one part of the text and measure them on another they never saw: the
# first 90% is for **training**, the last 10% for **validation**. The split is by position, not
# at random, so that no line of the validation text also appears, cut up, in the training text.

# %% jupyter={"source_hidden": true}
#| export
def _check_split(ids: Sequence, train_fraction: float) -> None:
    """Raise `ValueError` unless `ids` has two items or more and `train_fraction` lies in (0, 1)."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction!r}")
    if len(ids) < 2:
        raise ValueError(f"need at least 2 items to split, got {len(ids)}")


# %%
#| export
def train_val_split(ids: Sequence, train_fraction: float = 0.9) -> tuple[Sequence, Sequence]:
    """Split a sequence (a string, a list or a tensor) into its first `train_fraction` and the rest.

    >>> train_val_split(list(range(10)), 0.8)
    ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    _check_split(ids, train_fraction)
    n_train = min(max(int(len(ids) * train_fraction), 1), len(ids) - 1)  # neither side is empty
    return ids[:n_train], ids[n_train:]


# %%
train_text, val_text = train_val_split(text)
print(f"training:   {len(train_text):,} characters")
print(f"validation: {len(val_text):,} characters")
print("the validation text starts:", repr(val_text[:60]))

# %% [markdown]
# ## Batches: many training examples at once
#
# Notebook 07 explains why and how in detail; here is the tool. A model with context size $T$
# learns from windows of $T+1$ consecutive token indices: the input `x` is the first $T$, the
# targets `y` are the same window shifted by one position, so that `y[b, j]` is the token that
# follows `x[b, :j+1]`. `get_batch` cuts `batch_size` ($B$) such windows at random places and
# stacks them into two tensors of shape `(B, T)`.

# %% jupyter={"source_hidden": true}
#| export
def _check_batch_request(ids: Sequence, batch_size: int, context_size: int) -> torch.Tensor:
    """`ids` as a 1-D integer tensor long enough for one window, or a `ValueError`/`TypeError` naming the problem."""
    ids = torch.as_tensor(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {tuple(ids.shape)}")
    if ids.dtype.is_floating_point or ids.dtype == torch.bool or ids.dtype.is_complex:
        raise TypeError(f"ids must hold integer token indices, got dtype {ids.dtype}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not isinstance(context_size, int) or context_size < 1:
        raise ValueError(f"context_size must be a positive int, got {context_size!r}")
    if len(ids) < context_size + 1:
        raise ValueError(
            f"ids holds {len(ids)} tokens, too few for one window of context_size + 1 = {context_size + 1}"
        )
    return ids


# %%
#| export
def get_batch(
    ids: torch.Tensor,
    batch_size: int,
    context_size: int,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`batch_size` random windows of `ids` (1-D token indices): inputs `x`, targets `y` = `x` shifted by one.

    >>> x, y = get_batch(torch.arange(10), batch_size=2, context_size=3, generator=torch.Generator().manual_seed(0))
    >>> bool((y == x + 1).all())
    True
    """
    ids = _check_batch_request(ids, batch_size, context_size)
    starts = torch.randint(len(ids) - context_size, (batch_size,), generator=generator)  # (B,)
    positions = starts[:, None] + torch.arange(context_size)  # (B, T)
    x = ids[positions].long()  # (B, T)
    y = ids[positions + 1].long()  # (B, T): the token after each position of x
    if device is not None:
        x, y = x.to(device), y.to(device)
    return x, y


# %% [markdown]
# We have no tokenizer yet (notebook 02 builds one), so we stand in each character's code point
# (`ord`) for its token index, and print every window as text. Each `y` is its `x` moved one
# character to the right:

# %%
ids = torch.tensor([ord(c) for c in text[:1000]])  # a stand-in for token indices until notebook 02
x, y = get_batch(ids, batch_size=4, context_size=8, generator=torch.Generator().manual_seed(0))
for x_row, y_row in zip(x.tolist(), y.tolist(), strict=True):
    print(f"x = {''.join(map(chr, x_row))!r:12}   y = {''.join(map(chr, y_row))!r}")
assert x.shape == y.shape == (4, 8) and torch.equal(x[:, 1:], y[:, :-1]), "y is x shifted by one"

# %% [markdown]
# One window is $T$ training examples, not one: every prefix of `x` is a context, and the token
# below its end in `y` is what should come next. For the first window:

# %%
for j in range(8):
    print(f"{''.join(map(chr, x[0, : j + 1].tolist()))!r:>12} -> {chr(y[0, j])!r}")

# %% [markdown]
# ## Reproducibility: one seed for everything
#
# Training and sampling draw random numbers from three generators: Python's `random`, NumPy's and
# PyTorch's. `set_seed` seeds all three, so that running a notebook again gives the same numbers;
# every notebook calls it first. (For batches and samples we also pass explicit
# `torch.Generator`s, as above, which makes a result independent of what ran before it.)

# %% jupyter={"source_hidden": true}
#| export reproducibility
"""One call that seeds every random number generator the course uses.

`set_seed(seed)` seeds Python's `random`, NumPy's global generator and PyTorch's (CPU and every
GPU). Left out on purpose: forcing deterministic GPU kernels
(`torch.use_deterministic_algorithms`), which slows training and is not needed on a CPU.
"""

from __future__ import annotations

# %%
#| export reproducibility
import random

import numpy as np
import torch


def set_seed(seed: int) -> None:
    """Seed `random`, NumPy and PyTorch with `seed`.

    >>> set_seed(0); a = torch.rand(1)
    >>> set_seed(0); b = torch.rand(1)
    >>> bool(a == b)
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# %%
set_seed(1337)
first = torch.rand(3)
set_seed(1337)
print("the same seed, the same numbers:", torch.equal(first, torch.rand(3)))

# %% [markdown]
# ## Summary
#
# - The pipeline: text → tokens → indices → vectors $\mathbf{e}_i$ → $\text{LLM}_\theta$ →
#   $\boldsymbol\alpha$, then the loss $-\log\alpha_{s_{\ell+1}}$ (training) or a sample
#   $\hat s_{\ell+1}$ (generation).
# - The notation is fixed: a vocabulary $\mathcal{V}$, sorted into $\mathcal{S}$; token indices
#   $\mathcal{I}=\{1,\dots,n_{\text{vocab}}\}$ in the maths, $0..n_{\text{vocab}}-1$ in code;
#   $\text{LLM}_\theta:\mathcal{I}^{\le T}\to\Delta^{n_{\text{vocab}}}$.
# - Run the course with `make lab` (locally), the Binder badge or the Colab badge.
# - `llm_course.data.load_text` gives Tiny Shakespeare, verified; `train_val_split` keeps the last
#   10% for validation; `get_batch` cuts $B$ windows `x` of $T$ indices and targets `y` shifted by one.
# - `llm_course.reproducibility.set_seed` makes every run repeatable.
#
# ## Exercises
#
# Each exercise is a function to complete: fill in the starter cell, run it, then run the `check`
# cell under it. The check calls your function on several inputs, some drawn at random, compares
# with the course's own code, and prints one line: ✓, or ✗ with a hint. The stored notebook shows
# the unsolved state. Solutions are in `solutions/00_start_here.py` in the repository; try first.
#
# **00.1 How many windows?** `get_batch` chooses each window's start at random. From `n_tokens`
# token indices and a context size `context_size`, how many start positions can it choose from
# (each start gives one window `(x, y)`)? Remember that `y` reaches one token further than `x`.

# %%
from llm_course.exercises import check


def count_windows(n_tokens: int, context_size: int) -> int:
    """The number of start positions get_batch can choose from in n_tokens indices (one window (x, y) each)."""
    raise NotImplementedError  # your code here


check("00.1", count_windows)

# %% [markdown]
# **00.2 A batch by hand.** Given the start of every window, build `x` and `y` yourself: `x[b]` is
# the `context_size` indices from `starts[b]` on, and `y[b]` the same window one position to the
# right. Both are tensors of shape `(B, T)`, where `B = len(starts)`.

# %%
def batch_at(ids: torch.Tensor, starts: torch.Tensor, context_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The windows of ids that start at `starts`: inputs x and targets y, each of shape (B, T)."""
    raise NotImplementedError  # your code here


check("00.2", batch_at)

# %% [markdown]
# **00.3 From indices back to text.** `characters` above is the sorted vocabulary $S$. In the maths
# its first character is $s_1$; in code it has index 0, so index `i` stands for `characters[i]`.
# Write `decode`, which turns a list of indices back into one `str`: for example
# `decode(PICTURE_INDICES, characters)` should give `"To be"`, the picture at the top.

# %%
def decode(indices: list[int], characters: list[str]) -> str:
    """The text that the 0-based token indices stand for, one character of `characters` per index."""
    raise NotImplementedError  # your code here


check("00.3", decode)

# %% [markdown]
# Questions to think about (no check):
#
# 1. How many lines does the validation text have? Which play does it start in?
# 2. Set `LLM_COURSE_DATA` to an empty folder and `LLM_COURSE_CACHE` to another, and call
#    `load_text(download=False)`. Read the error: does it tell you what to do?
# 3. Change one byte of a copy of the corpus and load it through `LLM_COURSE_DATA`. What happens?
#
# Every notebook ends by reporting the peak memory its kernel used (Binder allows 2 GB); later
# notebooks import `check_peak_memory` from `llm_course.environment`.

# %% tags=["nbval-ignore-output"]
check_peak_memory()
