"""Benchmark: what each post-GPT-2 piece is worth on the same wall-clock budget (notebook 11, issue 19).

Starting from the course's GPT trained with notebook 07's recipe (`llm_course.training.SHAKESPEARE_CHAR`),
the variants of `llm_course.modern.VARIANTS` add one change at a time (RMSNorm, no biases, RoPE,
SwiGLU, Muon), each row keeping every change above it. Each variant is trained with the course's
own loop (`llm_course.training.train`) for `--seconds` seconds of wall-clock time on the characters
of the first 90% of Tiny Shakespeare, then scored on the last 10%.

How a fair time budget is given:

1. **Speed**, first, for every variant in one process: a few untimed steps, then `--rounds`
   alternating rounds of `--iters` training steps per variant (a change in the machine's load hits
   every variant alike); the median round gives tokens per second.
2. **Training**: the number of updates is the measured speed times `--seconds`, so that the
   warm-up and the cosine decay of the recipe fit the budget; training also stops when the time is
   up (the table says when a run was cut short because the machine slowed down).
3. **Validation loss**: `llm_course.training.evaluate` on 50 batches of 64 windows of the model's
   context, drawn by a generator seeded with 0: the same windows for every variant.

The table (markdown) is printed and written to `--out`, with the CPU model, the thread count, the
PyTorch version and the date. The goal of issue 19: a validation loss of at most 1.50 within 300 s
on 2 CPU cores.

Usage:
    python benchmarks/modern_ablation.py                          # every variant, 300 s each
    python benchmarks/modern_ablation.py --seconds 20 --variants gpt,muon
    python benchmarks/modern_ablation.py --set max_lr=1e-2 --set warmup_steps=50   # another recipe
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
import time
from pathlib import Path

import torch

from llm_course.data import load_text, train_val_split
from llm_course.modern import VARIANTS, ModernGPT, training_speeds
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer
from llm_course.training import SHAKESPEARE_CHAR, Recipe, evaluate, train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import cpu_model  # noqa: E402

GOAL = 1.50  # issue 19: validation loss within 300 s on 2 CPU cores
EVAL_BATCHES, EVAL_BATCH_SIZE, EVAL_SEED = 50, 64, 0
DEFAULT_OUT = Path(__file__).resolve().parent / "modern_ablation_results.md"


def parse_args(argv=None) -> argparse.Namespace:
    keys = [v.key for v in VARIANTS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="training time per variant (default 300)")
    parser.add_argument("--variants", default=",".join(keys), help=f"comma-separated, from {','.join(keys)}")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change a field of the recipe for every variant, e.g. max_lr=1e-2 (repeatable)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: PyTorch's choice)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating speed rounds (default 5)")
    parser.add_argument("--iters", type=int, default=10, help="training steps per variant per round (default 10)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"markdown table (default {DEFAULT_OUT.name})")
    args = parser.parse_args(argv)
    chosen = [key.strip() for key in args.variants.split(",") if key.strip()]
    unknown = [key for key in chosen if key not in keys]
    if unknown or not chosen:
        parser.error(f"unknown variant(s) {unknown}: choose from {','.join(keys)}")
    args.variants = [v for v in VARIANTS if v.key in chosen]
    args.recipe = recipe_with(SHAKESPEARE_CHAR, args.set, parser)
    if not args.seconds > 0 or args.rounds < 1 or args.iters < 1:
        parser.error("--seconds, --rounds and --iters must be positive")
    return args


def recipe_with(recipe: Recipe, changes: list[str], parser) -> Recipe:
    """`recipe` with `FIELD=VALUE` changes, each value parsed as the field's type."""
    fields = {f.name for f in dataclasses.fields(Recipe)}
    updates = {}
    for change in changes:
        name, _, value = change.partition("=")
        if name not in fields or not value:
            parser.error(f"--set {change!r}: expected FIELD=VALUE with FIELD one of {', '.join(sorted(fields))}")
        current = getattr(recipe, name)
        try:
            updates[name] = tuple(float(v) for v in value.split("/")) if isinstance(current, tuple) else type(current)(
                float(value) if isinstance(current, (int, float)) else value)
        except ValueError:
            parser.error(f"--set {change!r}: {value!r} is not a {type(current).__name__}")
    return dataclasses.replace(recipe, **updates)


def build(variant, recipe: Recipe, n_vocab: int):
    """The variant's model and optimiser, from the recipe's seed."""
    set_seed(recipe.seed)
    model = ModernGPT(variant.config(n_vocab, recipe))
    return model, variant.make_optimizer(model, recipe)


def train_for(variant, recipe: Recipe, seconds: float, speed: float, train_ids, val_ids, n_vocab: int) -> dict:
    """Train `variant` for about `seconds` (updates sized by `speed`), then score it on the validation split."""
    tokens_per_step = recipe.batch_size * recipe.context_size
    steps = max(2, int(speed * seconds / tokens_per_step))
    warmup = min(recipe.warmup_steps, steps // 10)
    model, optimizer = build(variant, recipe, n_vocab)
    recipe = variant.recipe(recipe)  # Muon's row at its own learning rate
    started = time.perf_counter()
    history = train(
        model, train_ids, None, steps=steps, batch_size=recipe.batch_size, max_lr=recipe.max_lr,
        warmup_steps=warmup, min_lr=recipe.min_lr, weight_decay=recipe.weight_decay, optimizer=optimizer,
        generator=torch.Generator().manual_seed(recipe.batch_seed), eval_interval=steps, progress=False,
        callback=lambda step, loss: time.perf_counter() - started > seconds,
    )
    trained = time.perf_counter() - started
    done = len(history.batch_loss)
    val_loss = evaluate(model, val_ids, batch_size=EVAL_BATCH_SIZE, n_batches=EVAL_BATCHES,
                        generator=torch.Generator().manual_seed(EVAL_SEED))
    return dict(variant=variant, parameters=model.count_parameters(), planned=steps, steps=done,
                tokens=done * tokens_per_step, seconds=trained, val_loss=val_loss)


def table(results: list[dict], speeds: dict) -> str:
    """The markdown table: one row per variant, the change against the row above."""
    base_speed = speeds[results[0]["variant"].key]
    lines = ["| variant | parameters | tokens/s (speed test) | relative speed | updates | tokens | "
             "validation loss | change |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    previous = None
    for r in results:
        change = "" if previous is None else f"{r['val_loss'] - previous:+.3f}"
        cut = "" if r["steps"] == r["planned"] else f" (cut at {r['steps']}/{r['planned']})"
        speed = speeds[r["variant"].key]
        lines.append(f"| {r['variant'].label} | {r['parameters']:,} | {speed:,.0f} | {speed / base_speed:.2f}x | "
                     f"{r['steps']:,}{cut} | {r['tokens'] / 1e6:.2f} M | {r['val_loss']:.3f} | {change} |")
        previous = r["val_loss"]
    return "\n".join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    text = load_text()
    tokenizer = CharTokenizer.from_text(text)
    train_ids, val_ids = train_val_split(torch.tensor(tokenizer.encode(text)), 0.9)
    recipe = args.recipe
    header = (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; CPU: {cpu_model()}; "
              f"{torch.get_num_threads()} threads; torch {torch.__version__}; {args.seconds:g} s of training per "
              f"variant; recipe: {recipe}")
    print(header, flush=True)
    speeds = training_speeds(args.variants, recipe, train_ids, tokenizer.n_vocab, rounds=args.rounds, steps=args.iters)
    print("tokens/s: " + ", ".join(f"{key} {speed:,.0f}" for key, speed in speeds.items()), flush=True)
    results = []
    for variant in args.variants:
        result = train_for(variant, recipe, args.seconds, speeds[variant.key], train_ids, val_ids, tokenizer.n_vocab)
        results.append(result)
        print(f"{variant.key}: {result['steps']:,} updates, {result['tokens'] / 1e6:.2f} M tokens in "
              f"{result['seconds']:.0f} s, validation loss {result['val_loss']:.3f}", flush=True)
    best = min(results, key=lambda r: r["val_loss"])
    verdict = "meets" if best["val_loss"] <= GOAL else "misses"
    summary = (f"best: {best['variant'].label}, validation loss {best['val_loss']:.3f} ({verdict} the goal of "
               f"{GOAL:.2f} by {abs(best['val_loss'] - GOAL):.3f})")
    report = f"{header}\n\n{table(results, speeds)}\n\n{summary}\n"
    print("\n" + report)
    args.out.write_text(report)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
