"""Benchmark: training speed of the course's GPT, and the validation loss it reaches in a time budget.

Prints, in one run on one machine:

1. **Tokens per second** of a training-step loop (forward, loss, backward, AdamW step) for
   `llm_course.gpt.GPT` and for Hugging Face transformers' `GPT2LMHeadModel` of the same size:
   4 layers, 4 heads, width 128, context 64, batch 32, character vocabulary (65), dropouts 0, the
   same optimiser (`llm_course.training.make_optimizer`: AdamW, betas (0.9, 0.95), weight decay
   0.1 on matrices), the same threads and the same batches. Each model's loss is the cross-entropy
   of its logits against the shifted targets (`llm_course.training.cross_entropy` for ours,
   `torch.nn.functional.cross_entropy` for transformers'). Warm-up iterations are excluded, and
   the two models are timed in alternating rounds so that a change in the machine's load hits
   both; the median round counts.
2. **Time to loss**: the course's recommended configuration trained with `llm_course.training.train`
   for `--seconds` seconds of wall-clock time (warm-up and cosine decay sized to the number of
   steps the measured speed allows; training stops when the time is up), then its validation loss
   on 50 fixed batches of the last 10% of Tiny Shakespeare.

Usage: python benchmarks/train_speed.py [--seconds 300] [--rounds 5] [--iters 10] [--skip-time-to-loss]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

from llm_course.data import get_batch, load_text, train_val_split
from llm_course.gpt import GPT, GPTConfig
from llm_course.reproducibility import set_seed
from llm_course.tokenizers import CharTokenizer
from llm_course.training import cross_entropy, evaluate, make_optimizer, train

SIZE = {"n_layer": 4, "n_head": 4, "n_emb": 128, "context_size": 64}  # the comparison's model size
BATCH_SIZE = 32
LR = 3e-3


def ours(n_vocab: int):
    """The course's GPT and a step function."""
    model = GPT(GPTConfig(n_vocab=n_vocab, **SIZE))

    def loss_of(x, y):
        return cross_entropy(model(x), y)  # (B, T, V) against (B, T)

    return model, loss_of


def transformers_gpt2(n_vocab: int):
    """transformers' GPT2LMHeadModel of the same size, and a step function."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        n_layer=SIZE["n_layer"], n_head=SIZE["n_head"], n_embd=SIZE["n_emb"], n_positions=SIZE["context_size"],
        vocab_size=n_vocab, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0,
    )
    model = GPT2LMHeadModel(config)

    def loss_of(x, y):
        logits = model(input_ids=x).logits  # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    return model, loss_of


def step_timer(build, train_ids, n_vocab: int, warmup: int):
    """A function that runs `iters` training steps of the model `build` makes and returns tokens/s."""
    set_seed(0)
    model, loss_of = build(n_vocab)
    model.train()
    optimizer = make_optimizer(model, lr=LR, weight_decay=0.1)
    generator = torch.Generator().manual_seed(0)

    def step():
        x, y = get_batch(train_ids, BATCH_SIZE, SIZE["context_size"], generator=generator)  # (B, T)
        loss = loss_of(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for _ in range(warmup):  # not timed: first calls allocate and pick kernels
        step()

    def timed(iters: int) -> float:
        start = time.perf_counter()
        for _ in range(iters):
            step()
        return iters * BATCH_SIZE * SIZE["context_size"] / (time.perf_counter() - start)

    n_params = sum(p.numel() for p in model.parameters())
    return timed, n_params


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else what `platform` says)."""
    import platform

    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="training time for the time-to-loss run")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds per model")
    parser.add_argument("--iters", type=int, default=10, help="training steps per timing round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps per model")
    parser.add_argument("--skip-time-to-loss", action="store_true", help="only measure tokens per second")
    args = parser.parse_args()

    text = load_text()
    tokenizer = CharTokenizer.from_text(text)
    ids = torch.tensor(tokenizer.encode(text))
    train_ids, val_ids = train_val_split(ids, 0.9)
    n_vocab = tokenizer.n_vocab
    print(f"CPU: {cpu_model()}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} logical CPUs, load average {os.getloadavg()[0]:.2f}")

    import transformers

    timers = {}
    competitors = (
        ("llm_course.gpt.GPT", ours),
        (f"transformers {transformers.__version__} GPT2LMHeadModel", transformers_gpt2),
    )
    for name, build in competitors:
        timers[name] = step_timer(build, train_ids, n_vocab, args.warmup)
    rates = {name: [] for name in timers}
    for _ in range(args.rounds):
        for name, (timed, _) in timers.items():
            rates[name].append(timed(args.iters))
    print(f"\n## tokens per second (batch {BATCH_SIZE} x context {SIZE['context_size']}, "
          f"{args.rounds} rounds of {args.iters} steps, median)\n")
    print("| model | parameters | tokens/s (median) | min .. max |")
    print("|---|---:|---:|---:|")
    medians = {}
    for name, values in rates.items():
        medians[name] = statistics.median(values)
        print(f"| {name} | {timers[name][1]:,} | {medians[name]:,.0f} | {min(values):,.0f} .. {max(values):,.0f} |")
    ours_name, theirs_name = list(medians)
    ratio = medians[ours_name] / medians[theirs_name]
    verdict = "met" if ratio >= 1.2 else "NOT met on this machine"
    print(f"\nspeed ratio ours / transformers: {ratio:.2f}x (target >= 1.2x: {verdict}) "
          f"on {cpu_model()}, {torch.get_num_threads()} threads")
    print(f"load average after timing: {os.getloadavg()[0]:.2f}")

    if args.skip_time_to_loss:
        return
    tokens_per_step = BATCH_SIZE * SIZE["context_size"]
    steps = max(100, int(0.9 * args.seconds * medians[ours_name] / tokens_per_step))  # what the budget allows
    set_seed(1337)
    model = GPT(GPTConfig(n_vocab=n_vocab, **SIZE))
    deadline = time.perf_counter() + args.seconds
    history = train(
        model, train_ids, val_ids, steps=steps, batch_size=BATCH_SIZE, max_lr=LR, warmup_steps=100, min_lr=LR / 10,
        weight_decay=0.1, eval_interval=max(1, steps // 5), eval_batches=5, generator=torch.Generator().manual_seed(1),
        progress=False, callback=lambda step, loss: time.perf_counter() > deadline,
    )
    val_loss = evaluate(model, val_ids, batch_size=64, n_batches=50, generator=torch.Generator().manual_seed(0))
    done = len(history.batch_loss)
    print(f"\n## time to loss ({args.seconds:.0f} s budget)\n")
    print(f"configuration: {SIZE}, batch {BATCH_SIZE}, AdamW lr {LR} (warm-up 100, cosine to {LR / 10}), scaled init")
    print(f"schedule sized for {steps} steps; {done} steps done ({history.tokens:,} tokens) in {history.seconds:.0f} s")
    print(f"validation loss (50 batches of 64 x 64): {val_loss:.4f} (target <= 1.65)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
