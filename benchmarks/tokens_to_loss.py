"""Benchmark: validation loss against training tokens seen, for training recipes of notebook 07.

Tokens, not seconds: the validation loss a recipe reaches after a given number of training tokens
does not depend on the machine (up to floating-point rounding), so recipes measured on a busy
machine, a laptop or a server compare fairly. Each recipe (model size, batch, context, learning
rate and schedule, weight decay, betas) is trained with the course's own loop,
`llm_course.training.train`, on the characters of the first 90% of Tiny Shakespeare; every
`--eval-every` tokens its loss is measured on the same fixed validation windows (the last 10%,
`--eval-windows` windows of 64 characters, drawn once with a seeded generator), and after the last
update on all of them.

Prints, per recipe: the tokens seen when the validation loss first reached 1.80 (linearly
interpolated between evaluations; "-" if never), the loss at each evaluation, and the final loss.
With `--json PATH` it also appends one JSON line per recipe.

Usage:
    python benchmarks/tokens_to_loss.py                     # the course's recipe (notebook 07) and the old one
    python benchmarks/tokens_to_loss.py --recipe new --recipe old --recipe 'new,max_lr=1e-2'
Recipe syntax: a named base (`new`: llm_course.training.SHAKESPEARE_CHAR, `old`: the recipe before
issue 20) followed by comma-separated overrides of `Recipe` fields.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time

import torch

from llm_course.data import get_batch, load_text, train_val_split
from llm_course.gpt import GPT
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer
from llm_course.training import SHAKESPEARE_CHAR, Recipe, cross_entropy, make_optimizer, train

TARGET = 1.80
# The recipe of notebook 07 before issue 20: 1,400 updates of 32 x 64 characters (2.87 M tokens).
OLD = Recipe(n_emb=128, n_layer=4, n_head=4, context_size=64, dropout=0.0, batch_size=32, steps=1400,
             max_lr=3e-3, min_lr=3e-4, warmup_steps=100, weight_decay=0.1, betas=(0.9, 0.95))
BASES = {"new": SHAKESPEARE_CHAR, "old": OLD}


def parse_recipe(text: str) -> tuple[str, Recipe]:
    """`'new,max_lr=1e-2,steps=500'` -> the named base with those fields replaced."""
    base, *overrides = [part.strip() for part in text.split(",") if part.strip()]
    if base not in BASES:
        raise SystemExit(f"unknown base recipe {base!r}; known: {', '.join(BASES)}")
    fields = {f.name: f for f in dataclasses.fields(Recipe)}
    changes = {}
    for override in overrides:
        name, _, value = override.partition("=")
        if name not in fields:
            raise SystemExit(f"unknown Recipe field {name!r}; fields: {', '.join(fields)}")
        if name == "betas":
            changes[name] = tuple(float(v) for v in value.split("/"))
        else:
            current = getattr(BASES[base], name)
            changes[name] = type(current)(float(value)) if isinstance(current, int) else float(value)
    return text, dataclasses.replace(BASES[base], **changes)


def fixed_windows(val_ids: torch.Tensor, n_windows: int, length: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """`n_windows` validation windows (inputs, targets), the same for every recipe."""
    return get_batch(val_ids, n_windows, length, generator=torch.Generator().manual_seed(2024))


@torch.no_grad()
def loss_on(model: GPT, windows: tuple[torch.Tensor, torch.Tensor], chunk: int = 64) -> float:
    """Mean cross-entropy of `model` on the fixed windows, truncated to the model's context."""
    x, y = windows
    x, y = x[:, : model.context_size], y[:, : model.context_size]
    was_training = model.training
    model.eval()
    total = sum(cross_entropy(model(x[i : i + chunk]), y[i : i + chunk]).item() * len(x[i : i + chunk])
                for i in range(0, len(x), chunk))
    model.train(was_training)
    return total / len(x)


def run(name: str, recipe: Recipe, train_ids, val_ids, n_vocab: int, eval_every: int, eval_windows: int) -> dict:
    set_seed(recipe.seed)
    model = GPT(recipe.gpt_config(n_vocab))
    optimizer = make_optimizer(model, lr=recipe.max_lr, weight_decay=recipe.weight_decay, betas=recipe.betas)
    few, every = fixed_windows(val_ids, min(eval_windows, 256)), fixed_windows(val_ids, eval_windows)
    tokens_per_step = recipe.batch_size * recipe.context_size
    curve: list[tuple[int, float]] = [(0, loss_on(model, few))]

    def callback(step: int, _loss: float) -> None:
        tokens = step * tokens_per_step
        if tokens // eval_every > (tokens - tokens_per_step) // eval_every and step < recipe.steps:
            curve.append((tokens, loss_on(model, few)))

    started = time.perf_counter()
    train(model, train_ids, None, steps=recipe.steps, batch_size=recipe.batch_size, max_lr=recipe.max_lr,
          warmup_steps=recipe.warmup_steps, min_lr=recipe.min_lr, weight_decay=recipe.weight_decay,
          optimizer=optimizer, generator=torch.Generator().manual_seed(recipe.batch_seed), progress=False,
          callback=callback)
    seconds = time.perf_counter() - started
    final = loss_on(model, every)
    curve.append((recipe.steps * tokens_per_step, final))
    reached = None
    for (t0, l0), (t1, l1) in zip(curve, curve[1:], strict=False):
        if l1 <= TARGET < l0:
            reached = t0 + (l0 - TARGET) / (l0 - l1) * (t1 - t0)
            break
    return {"name": name, "recipe": dataclasses.asdict(recipe), "parameters": model.count_parameters(),
            "tokens": recipe.tokens, "final_val_loss": final, "tokens_to_target": reached, "curve": curve,
            "seconds": seconds, "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", action="append", help="a recipe: base[,field=value...] (repeatable)")
    parser.add_argument("--eval-every", type=int, default=200_000, help="tokens between evaluations")
    parser.add_argument("--eval-windows", type=int, default=1024, help="validation windows of 64 characters")
    parser.add_argument("--json", help="append one JSON line per recipe to this file")
    args = parser.parse_args()

    text = load_text()
    tokenizer = CharTokenizer.from_text(text)
    train_ids, val_ids = train_val_split(torch.tensor(tokenizer.encode(text)), 0.9)
    for text_recipe in args.recipe or ["old", "new"]:
        name, recipe = parse_recipe(text_recipe)
        result = run(name, recipe, train_ids, val_ids, tokenizer.n_vocab, args.eval_every, args.eval_windows)
        reached = result["tokens_to_target"]
        print(f"{name}: {result['parameters']:,} parameters, {recipe.tokens / 1e6:.2f} M tokens, "
              f"final validation {result['final_val_loss']:.3f}; tokens to {TARGET}: "
              f"{'-' if reached is None else f'{reached / 1e6:.2f} M'}; {result['seconds']:.0f} s", flush=True)
        print("   " + "  ".join(f"{t / 1e6:.2f}M:{loss:.3f}" for t, loss in result["curve"]), flush=True)
        if args.json:
            with open(args.json, "a") as file:
                file.write(json.dumps(result) + "\n")
        if not math.isfinite(result["final_val_loss"]):
            print("   (diverged)")


if __name__ == "__main__":
    main()
