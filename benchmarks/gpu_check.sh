#!/usr/bin/env bash
# GPU check of the command-line trainer (llm_course.train): a GPT-2-small shape (12 layers, 12 heads,
# n_emb 768, context 1024; ~85M parameters in the blocks) for 50 steps in bf16 with torch.compile.
# It prints the trainer's tokens per second and model FLOPs utilisation (MFU, 6N + 12LHQT FLOPs per
# token against the GPU's dense bf16 peak) and checks MFU against a goal (45%, for an H100/H200).
#
# Usage (from anywhere, on a machine with a CUDA GPU and the course installed):
#   benchmarks/gpu_check.sh                       # one GPU
#   NPROC=8 benchmarks/gpu_check.sh               # eight GPUs of this machine, torchrun + NCCL
#   BATCH=32 STEPS=100 GOAL=0.40 ACCUM=2 benchmarks/gpu_check.sh
# Character tokens keep the set-up instant (no BPE training); the model's FLOPs are in its blocks.
# The first step (compilation) is excluded from the timing by the trainer itself.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
NPROC=${NPROC:-1}
STEPS=${STEPS:-50}
BATCH=${BATCH:-16}
GOAL=${GOAL:-0.45}
OUT=${OUT:-runs/gpu_check}

"$PYTHON" - <<'PY'
import torch
assert torch.cuda.is_available(), "gpu_check.sh needs a CUDA GPU"
print(f"torch {torch.__version__}, {torch.cuda.device_count()} x {torch.cuda.get_device_name()}, "
      f"bf16 {'yes' if torch.cuda.is_bf16_supported() else 'NO'}")
PY

# ---------------------------------------------------------------------------------------------
# Sampling on the GPU (llm_course.sampling, notebook 08; issue 12). Runs on every GPU device
# present (CUDA, and Apple's MPS where this script runs on a Mac), before the training check:
#  - sample_next creates no float64 tensor (MPS has none), for float32, float16 and bfloat16 logits;
#  - a CPU torch.Generator works with logits on the GPU: the draw happens on the CPU, from the
#    same random numbers, and the result comes back to the GPU; a generator on the GPU works too;
#  - generate and explore take a CPU prompt to the model's device, run in evaluation mode and
#    restore the model's mode (also under autocast); an empty prompt gets a clear error.
# SAMPLING_DEVICES=cuda,cpu (comma-separated) overrides the devices tested; with cpu alone it is a dry run of the code.
"$PYTHON" - <<'PY'
import os
import string

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from llm_course.gpt import GPT, GPTConfig
from llm_course.sampling import explore, generate, sample_next
from llm_course.tokenizers import CharTokenizer


class NoFloat64(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.offenders = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        flat = [*args, *(kwargs or {}).values(), *(out if isinstance(out, (tuple, list)) else [out])]
        if any(isinstance(x, torch.Tensor) and x.dtype == torch.float64 for x in flat):
            self.offenders.append(str(func))
        return out


available = [name for name, ok in (("cuda", torch.cuda.is_available()), ("mps", torch.backends.mps.is_available())) if ok]
devices = os.environ["SAMPLING_DEVICES"].split(",") if os.environ.get("SAMPLING_DEVICES") else available
assert devices, "no GPU device for the sampling check"
cpu_generator = lambda seed: torch.Generator().manual_seed(seed)  # noqa: E731
for device in devices:
    logits = (torch.randn(256, 65, generator=cpu_generator(0)) * 3).to(device)  # (B, V) on the device
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        x = logits.to(dtype)
        with NoFloat64() as mode:
            drawn = sample_next(x, temperature=0.8, top_k=20, top_p=0.9, generator=cpu_generator(1))
            greedy = sample_next(x, temperature=0)
        assert not mode.offenders, f"float64 on {device} ({dtype}): {sorted(set(mode.offenders))}"
        assert drawn.device.type == device and drawn.dtype == torch.long and drawn.shape == (256,)
        on_cpu = sample_next(x.cpu(), temperature=0.8, top_k=20, top_p=0.9, generator=cpu_generator(1))
        agree = (drawn.cpu() == on_cpu).float().mean().item()
        assert agree >= 0.95, f"{device} {dtype}: only {agree:.0%} of draws agree with the CPU's, same generator"
        assert torch.equal(greedy.cpu(), x.float().argmax(-1).cpu())
        own = sample_next(x, generator=torch.Generator(device=device).manual_seed(2))  # a generator on the device
        assert own.device.type == device and bool(((own >= 0) & (own < 65)).all())
        print(f"sampling on {device}, {str(dtype)[6:]} logits: no float64; CPU generator agrees with the CPU on {agree:.1%} of draws")
    toy = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    draws = sample_next(toy.to(device).expand(20_000, -1), generator=cpu_generator(3))
    frequencies = torch.bincount(draws.cpu(), minlength=5) / 20_000
    assert (frequencies - torch.softmax(toy, -1)).abs().max() < 0.02, "frequencies follow alpha"

    torch.manual_seed(0)
    model = GPT(GPTConfig(n_vocab=65, context_size=16, n_emb=32, n_layer=2, n_head=2, dropout=0.1)).to(device).train()
    out = generate(model, [1, 2, 3], 40, top_p=0.9, generator=cpu_generator(4))  # a CPU prompt, cropped to T = 16
    again = generate(model, torch.tensor([1, 2, 3]), 40, top_p=0.9, generator=cpu_generator(4))
    assert out.device.type == device and out.shape == (43,) and torch.equal(out, again), "same seed, same tokens"
    assert model.training, "generate restores the training mode"
    half = torch.bfloat16 if device == "cuda" else torch.float16
    with torch.autocast(device_type=device, dtype=half), NoFloat64() as mode:  # half-precision logits
        batch = generate(model, [[1, 2], [3, 4]], 20, temperature=0.7, top_k=10, generator=cpu_generator(5))
    assert batch.shape == (2, 22) and not mode.offenders and model.training
    tokenizer = CharTokenizer.from_text(string.ascii_letters + string.digits + " .,")  # 65 characters
    rows = explore(model, tokenizer, "Hello there", temperature=0.8, top_k=10, n_samples=1, n_tokens=5)
    assert len(rows) == 10 and model.training, "explore restores the training mode"
    try:
        generate(model, [], 3)
        raise AssertionError("an empty prompt must be refused")
    except ValueError as error:
        assert "empty" in str(error)
    print(f"sampling on {device}: generate and explore on the model's device, mode restored, empty prompt refused")
PY
# ---------------------------------------------------------------------------------------------

# Notebook 07's run on the GPU (llm_course.training; issue 20): the course's recipe SHAKESPEARE_CHAR,
# trained with `train(..., device="cuda")` as notebook 07 does when best_device() finds a GPU (Colab's
# GPU runtime). Batches are drawn on the CPU by the seeded generator and moved to the GPU; evaluation
# runs there too. Checks the bound notebook 07 asserts (validation <= 1.80), then that
# shakespeare_char_model() trains, saves and reloads the same model on the GPU.
"$PYTHON" - <<'PY'
import tempfile, time
from pathlib import Path

import torch

from llm_course.data import load_text, train_val_split
from llm_course.environment import best_device
from llm_course.gpt import GPT
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer
from llm_course.training import SHAKESPEARE_CHAR as recipe, make_optimizer, shakespeare_char_model, train

device = best_device()
assert device == "cuda", f"best_device() should find the GPU, found {device}"
text = load_text()
tokenizer = CharTokenizer.from_text(text)
train_ids, val_ids = train_val_split(torch.tensor(tokenizer.encode(text)), 0.9)
set_seed(recipe.seed)
model = GPT(recipe.gpt_config(tokenizer.n_vocab)).to(device)
optimizer = make_optimizer(model, lr=recipe.max_lr, weight_decay=recipe.weight_decay, betas=recipe.betas)
history = train(model, train_ids, val_ids, steps=recipe.steps, batch_size=recipe.batch_size, max_lr=recipe.max_lr,
                warmup_steps=recipe.warmup_steps, min_lr=recipe.min_lr, weight_decay=recipe.weight_decay,
                optimizer=optimizer, generator=torch.Generator().manual_seed(recipe.batch_seed), eval_interval=100,
                eval_batches=20, device=device, progress=False)
assert next(model.parameters()).device.type == "cuda"
print(f"notebook 07's recipe on {torch.cuda.get_device_name()}: {history.tokens:,} tokens in {history.seconds:.1f} s "
      f"({history.tokens / history.seconds:,.0f} tokens/s), validation loss {history.val_loss[-1]:.3f}")
assert history.val_loss[-1] <= 1.80, "notebook 07 asserts a validation loss <= 1.80"
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "07.pt"
    started = time.perf_counter()
    trained, _, info = shakespeare_char_model(path, device=device)  # no checkpoint yet: trains on the GPU
    assert info["source"] == "trained" and info["val_loss"] <= 1.80 and path.is_file()
    again, _, info_again = shakespeare_char_model(path, device=device)  # now it loads
    assert info_again["source"] == "checkpoint" and next(again.parameters()).device.type == "cuda"
    assert all(torch.equal(a, b) for a, b in zip(trained.state_dict().values(), again.state_dict().values()))
    print(f"shakespeare_char_model on the GPU: trained and saved in {time.perf_counter() - started:.1f} s, reloaded identical")
PY
# ---------------------------------------------------------------------------------------------

# Training on the GPU (llm_course.train and llm_course.sample, notebook 09; issues 12, 18 and 20).
#  1. the hot path has no host synchronisation: three steps of train_step (fused AdamW, bf16 autocast,
#     batches through pinned memory) under torch.cuda.set_sync_debug_mode("error"), with the model
#     compiled (in eager mode the GPT's input check, notebook 04's, reads the index range: one wait);
#  2. each rank restores its own CUDA random state (the dropout stream of its GPU);
#  3. the command-line journey on the GPU: train on a text file with --grad-accum 2 and dropout,
#     continue it with --resume, then python -m llm_course.sample (same seed, same text);
#  4. throughput: the GPT-2-small shape for $STEPS steps in bf16 with torch.compile (ACCUM=2 for
#     gradient accumulation); tokens/s (the global batch) and MFU against the goal.
rm -rf "$OUT"
mkdir -p "$OUT"
"$PYTHON" - <<'PY'
import torch

from llm_course import train
from llm_course.gpt import GPT, GPTConfig

device = "cuda:0"
torch.cuda.set_device(device)
model = GPT(GPTConfig(n_vocab=65, context_size=64, n_emb=128, n_layer=2, n_head=4, dropout=0.1)).to(device)
optimizer = train.build_optimizer(model, 1e-3, 0.1, "cuda")
assert optimizer.defaults["fused"] is True, "fused AdamW on CUDA"
precision = lambda: train.autocast("cuda", train.resolve_precision("auto", "cuda"))  # noqa: E731
compiled = torch.compile(model)
def step():
    x = train.to_device(torch.randint(65, (32, 64)), device)
    y = train.to_device(torch.randint(65, (32, 64)), device)
    return train.train_step(compiled, optimizer, [(x[:16], y[:16]), (x[16:], y[16:])], 1e-3, 1.0, precision)
step()  # warm-up: compilation, allocations, pinned buffers
torch.cuda.synchronize()
torch.cuda.set_sync_debug_mode("error")
try:
    losses = [step() for _ in range(3)]
finally:
    torch.cuda.set_sync_debug_mode("default")
assert all(torch.isfinite(loss) for loss in losses)
print("training on the GPU: train_step (fused AdamW, bf16 autocast, pinned batches) never waits for the GPU")

generator = torch.Generator().manual_seed(0)
torch.manual_seed(1)
saved = train.rank_state(model, generator, device)
first = torch.rand(4, device=device)
torch.manual_seed(2)
train.restore_rank_state([saved], train.Distributed(), generator, device, seed=0, step=0)
assert torch.equal(torch.rand(4, device=device), first), "the rank's own CUDA random state is restored"
print("training on the GPU: a rank's CUDA random state is saved and restored")
PY

"$PYTHON" -c "from llm_course.data import load_text; open('$OUT/text.txt', 'w', encoding='utf-8').write(load_text())"
SMALL=(--corpus "$OUT/text.txt" --n-layer 2 --n-head 4 --n-emb 128 --context-size 64 --batch-size 32 --grad-accum 2
       --dropout 0.1 --eval-interval 50 --log-interval 25 --device cuda --out "$OUT/char")
"$PYTHON" -m llm_course.train "${SMALL[@]}" --steps 100 | tee "$OUT/char.txt"
grep -q "global batch 32 x 2 x 1 sequences of 64 tokens, 1 process(es) on cuda, .*fused AdamW" "$OUT/char.txt"
"$PYTHON" -m llm_course.train "${SMALL[@]}" --steps 150 --resume | tee "$OUT/char_resumed.txt"
grep -q "for steps 101..150" "$OUT/char_resumed.txt"
"$PYTHON" -m llm_course.sample --out "$OUT/char" --prompt "ROMEO:" --max-new-tokens 100 --seed 3 > "$OUT/sample1.txt"
"$PYTHON" -m llm_course.sample --out "$OUT/char" --prompt "ROMEO:" --max-new-tokens 100 --seed 3 > "$OUT/sample2.txt"
cmp "$OUT/sample1.txt" "$OUT/sample2.txt"
head -c 6 "$OUT/sample1.txt" | grep -q "ROMEO:"
echo "training on the GPU: train, resume and sample from a text file; same seed, same text:"
cat "$OUT/sample1.txt"

ACCUM=${ACCUM:-1}
ARGS=(--n-layer 12 --n-head 12 --n-emb 768 --context-size 1024 --batch-size "$BATCH" --grad-accum "$ACCUM"
      --steps "$STEPS" --lr 6e-4 --min-lr 6e-5 --warmup-steps 10 --eval-interval "$STEPS" --eval-batches 4
      --log-interval 10 --device cuda --precision bf16 --compile --out "$OUT/gpt2s")
if [ "$NPROC" -gt 1 ]; then
    "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node="$NPROC" -m llm_course.train "${ARGS[@]}"
else
    "$PYTHON" -m llm_course.train "${ARGS[@]}"
fi

"$PYTHON" - "$OUT/gpt2s/log.json" "$GOAL" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
goal = float(sys.argv[2])
mfu = summary["mfu"]
print(f"gpu_check: {summary['tokens_per_second']:,.0f} tokens/s on {summary['world_size']} GPU(s) "
      f"({summary['tokens_per_step']:,} tokens per step), MFU {'unknown' if mfu is None else f'{100 * mfu:.1f}%'} "
      f"(goal {100 * goal:.0f}%), val loss {summary['val_loss']:.3f}")
sys.exit(0 if mfu is not None and mfu >= goal else 1)
PY
