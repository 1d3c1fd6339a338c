"""The checks of notebook 08_sampling's exercises (solutions: solutions/08_sampling.py)."""

from __future__ import annotations

import torch

from llm_course.exercises import as_tensor, call, exercise, expect

NOTEBOOK = "08_sampling"


def _random_logits(generator: torch.Generator, *shape: int) -> torch.Tensor:
    """Distinct random logits (no ties), spread like a trained model's."""
    return torch.randn(*shape, generator=generator) * 2.5


@exercise("08.1", NOTEBOOK, "temperature: alpha(tau) from logits")
def _temperature(probs_at_temperature) -> None:
    generator = torch.Generator().manual_seed(81)
    cases = [(torch.tensor([1.0, 2.0, 3.0]), 0.5), (torch.tensor([1.0, 2.0, 3.0]), 2.0)]
    cases += [(_random_logits(generator, 4, 9), tau) for tau in (0.3, 1.0, 1.7)]
    for logits, tau in cases:
        expected = torch.softmax(logits.double() / tau, dim=-1)
        got = as_tensor(call(probs_at_temperature, logits.clone(), tau), "probs_at_temperature(logits, tau)", tuple(logits.shape))
        expect(
            torch.allclose(got.sum(dim=-1), torch.ones(()).double(), atol=1e-5),
            f"at tau = {tau} your probabilities do not sum to 1 along the last dimension: softmax after dividing",
        )
        if not torch.allclose(got, expected, atol=1e-5):
            if torch.allclose(got, torch.softmax(logits.double() * tau, dim=-1), atol=1e-5):
                hint = "you multiplied the logits by tau: divide them (tau < 1 must sharpen alpha)"
            elif torch.allclose(got, torch.softmax(logits.double(), dim=-1), atol=1e-5):
                hint = "your answer is alpha at tau = 1: the temperature must divide the logits, before the softmax"
            else:
                hint = "alpha(tau) is softmax(logits / tau) along the last dimension"
            expect(False, f"at tau = {tau}: {hint}")


@exercise("08.2", NOTEBOOK, "the top-k filter")
def _top_k(my_top_k_filter) -> None:
    from llm_course.sampling import top_k_filter

    generator = torch.Generator().manual_seed(82)
    cases = [(torch.tensor([1.0, 3.0, 2.0, 0.0]), 2), (_random_logits(generator, 12), 1)]
    cases += [(_random_logits(generator, 3, 10), k) for k in (3, 7, 10)]
    for logits, k in cases:
        expected = top_k_filter(logits, k)
        got = as_tensor(call(my_top_k_filter, logits.clone(), k), f"my_top_k_filter(logits, k={k})", tuple(logits.shape))
        kept = torch.isfinite(got)
        n_kept = kept.sum(dim=-1).reshape(-1).tolist()
        expect(
            all(n == k for n in n_kept),
            f"with k = {k} each row should keep exactly {k} finite logits, yours keeps {n_kept} "
            "(the others become -inf)",
        )
        expect(
            torch.equal(kept, torch.isfinite(expected)),
            f"with k = {k} you kept the wrong tokens: keep the k largest logits of each row",
        )
        expect(
            torch.equal(got[kept], logits.double()[kept]) and bool((got[~kept] == float("-inf")).all()),
            "the kept logits must stay unchanged and the others be -inf (not 0, not renormalised)",
        )


@exercise("08.3", NOTEBOOK, "the top-p (nucleus) filter, ties broken by index")
def _top_p(my_top_p_filter) -> None:
    from llm_course.sampling import top_p_filter

    cases = [
        (torch.tensor([0.5, 0.3, 0.2]).log(), 0.7, "alpha = (0.5, 0.3, 0.2), p = 0.7: 0.5 < 0.7, so the 0.3 that crosses p is kept"),
        (torch.tensor([0.5, 0.3, 0.2]).log(), 0.45, "alpha = (0.5, 0.3, 0.2), p = 0.45: the first token alone reaches p"),
        (torch.zeros(4), 0.5, "four equal tokens, p = 0.5: sorted by index, tokens 0 and 1 are kept"),
        (torch.zeros(65), 0.1, "65 equal tokens, p = 0.1: sorted by index, tokens 0 to 6 are kept (6/65 < 0.1)"),
        (torch.tensor([0.2, 0.4, 0.4]).log(), 0.3, "alpha = (0.2, 0.4, 0.4), p = 0.3: of the tied 0.4s the smaller index, 1, is kept"),
        (torch.tensor([0.1, 0.3, 0.3, 0.3]).log(), 0.7, "alpha = (0.1, 0.3, 0.3, 0.3), p = 0.7: tokens 1, 2 and 3 (0.6 < 0.7)"),
        (torch.tensor([0.4, 0.3, 0.2, 0.1]).log(), 1.0, "p = 1 keeps every token"),
    ]
    generator = torch.Generator().manual_seed(83)
    while len(cases) < 11:  # random rows, away from the floating-point boundary
        logits = _random_logits(generator, 2, 15)
        p = float(torch.rand((), generator=generator)) * 0.9 + 0.05
        partial_sums = torch.softmax(logits.double(), -1).sort(dim=-1, descending=True).values.cumsum(-1)
        if ((partial_sums - p).abs() > 1e-4).all():
            cases.append((logits, p, f"random logits (2 rows of 15), p = {p:.3f}"))
    for logits, p, what in cases:
        expected = torch.isfinite(top_p_filter(logits, p))
        got = as_tensor(call(my_top_p_filter, logits.clone(), p), f"my_top_p_filter(logits, p={p:.3g})", tuple(logits.shape))
        kept = torch.isfinite(got)
        expect(
            torch.equal(kept, expected),
            f"{what}: expected to keep tokens {_kept(expected)}, you kept {_kept(kept)}",
        )
        expect(
            torch.equal(got[kept], logits.double()[kept]) and bool((got[~kept] == float("-inf")).all()),
            "the kept logits must stay unchanged and the others be -inf",
        )


def _kept(mask: torch.Tensor) -> list:
    rows = [torch.nonzero(row).flatten().tolist() for row in mask.reshape(-1, mask.shape[-1])]
    return rows[0] if mask.ndim == 1 else rows


@exercise("08.4", NOTEBOOK, "greedy decoding, the loop by hand")
def _greedy(greedy_decode) -> None:
    from llm_course.gpt import GPT, GPTConfig
    from llm_course.models import BigramModel
    from llm_course.sampling import generate

    with torch.random.fork_rng():  # random models without touching the learner's random state
        torch.manual_seed(84)
        bigram = BigramModel(n_vocab=9, context_size=8)
        torch.nn.init.normal_(bigram.logits_table.weight, std=2.0)
        gpt = GPT(GPTConfig(n_vocab=11, context_size=4, n_emb=16, n_layer=1, n_head=2, dropout=0.0)).eval()
    cases = [(bigram, [3], 12), (gpt, [1, 2], 3), (gpt, [5, 0, 7, 2, 9, 4], 10)]  # the last prompt is longer than T = 4
    for model, prompt, n_tokens in cases:
        expected = generate(model, prompt, n_tokens, temperature=0).tolist()
        got = call(greedy_decode, model, list(prompt), n_tokens, what=f"greedy_decode(model, {prompt}, {n_tokens})")
        if isinstance(got, torch.Tensor):
            got = got.tolist()
        expect(got is not None, "greedy_decode returned None: return the prompt followed by the new tokens, as a list")
        expect(
            isinstance(got, list) and len(got) == len(prompt) + n_tokens,
            f"greedy_decode(model, {prompt}, {n_tokens}) should return {len(prompt) + n_tokens} indices "
            f"(the prompt, then {n_tokens} new ones), got {got!r}",
        )
        expect(got[: len(prompt)] == prompt, "the result should start with the prompt")
        expect(
            [int(i) for i in got] == expected,
            f"from prompt {prompt} the greedy tokens should be {expected[len(prompt):]}, got {got[len(prompt):]} "
            "(take the argmax of the logits at the LAST position of the window, then append it)",
        )
