#!/usr/bin/env bash
# GPU check of the command-line trainer (llm_course.train): a GPT-2-small shape (12 layers, 12 heads,
# n_emb 768, context 1024; ~85M parameters in the blocks) for 50 steps in bf16 with torch.compile.
# It prints the trainer's tokens per second and model FLOPs utilisation (MFU, 6N + 12LHQT FLOPs per
# token against the GPU's dense bf16 peak) and checks MFU against a goal (45%, for an H100/H200).
#
# Usage (from anywhere, on a machine with a CUDA GPU and the course installed):
#   benchmarks/gpu_check.sh                       # one GPU
#   NPROC=8 benchmarks/gpu_check.sh               # eight GPUs of this machine, torchrun + NCCL
#   BATCH=32 STEPS=100 GOAL=0.40 benchmarks/gpu_check.sh
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

rm -rf "$OUT"
ARGS=(--n-layer 12 --n-head 12 --n-emb 768 --context-size 1024 --batch-size "$BATCH" --steps "$STEPS"
      --lr 6e-4 --min-lr 6e-5 --warmup-steps 10 --eval-interval "$STEPS" --eval-batches 4 --log-interval 10
      --device cuda --precision bf16 --compile --out "$OUT")
if [ "$NPROC" -gt 1 ]; then
    "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node="$NPROC" -m llm_course.train "${ARGS[@]}"
else
    "$PYTHON" -m llm_course.train "${ARGS[@]}"
fi

"$PYTHON" - "$OUT/log.json" "$GOAL" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
goal = float(sys.argv[2])
mfu = summary["mfu"]
print(f"gpu_check: {summary['tokens_per_second']:,.0f} tokens/s on {summary['world_size']} GPU(s), "
      f"MFU {'unknown' if mfu is None else f'{100 * mfu:.1f}%'} (goal {100 * goal:.0f}%), "
      f"val loss {summary['val_loss']:.3f}")
sys.exit(0 if mfu is not None and mfu >= goal else 1)
PY
