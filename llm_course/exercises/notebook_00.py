"""The checks of notebook 00_start_here's exercises (solutions: solutions/00_start_here.py)."""

from __future__ import annotations

import torch

from llm_course.exercises import NotYet, as_number, as_tensor, call, exercise, expect

NOTEBOOK = "00_start_here"


@exercise("00.1", NOTEBOOK, "how many start positions get_batch chooses from")
def _count_windows(count_windows) -> None:
    from llm_course.data import get_batch

    generator = torch.Generator().manual_seed(1)
    # The oracle is get_batch itself: draw many windows from a short sequence and count the different starts.
    n_tokens, context_size = int(torch.randint(8, 16, (1,), generator=generator)), 3
    starts = get_batch(torch.arange(n_tokens), 4000, context_size, generator=generator)[0][:, 0]
    cases = [(10, 9), (n_tokens, context_size, len(set(starts.tolist())))]
    cases += [(int(n), int(t)) for n, t in zip(torch.randint(100, 10_000, (4,), generator=generator),
                                                 torch.randint(1, 99, (4,), generator=generator), strict=True)]
    for case in cases:
        n, t = case[:2]
        expected = case[2] if len(case) == 3 else n - t
        got = as_number(call(count_windows, n, t), f"count_windows({n}, {t})")
        if n == 10 and t == 9 and got != 1:
            raise NotYet(
                f"count_windows(10, 9) should be 1, got {got:g}: a window needs context_size + 1 tokens "
                "(x and the one target after it), and 10 tokens hold exactly one such window"
            )
        expect(got == expected, f"count_windows({n}, {t}) should be {expected}, got {got:g}: the start s of a "
                                "window can be 0, 1, ..., as long as the last target, at s + context_size, exists")


@exercise("00.2", NOTEBOOK, "a batch of windows by hand: x and y shifted by one")
def _batch_at(batch_at) -> None:
    generator = torch.Generator().manual_seed(2)
    for n_tokens, context_size, batch_size in ((20, 4, 3), (300, 8, 5), (65, 16, 2)):
        ids = torch.randint(65, (n_tokens,), generator=generator)  # (N,)
        starts = torch.randint(n_tokens - context_size, (batch_size,), generator=generator)  # (B,)
        expected_x = torch.stack([ids[s : s + context_size] for s in starts.tolist()])  # (B, T)
        expected_y = torch.stack([ids[s + 1 : s + 1 + context_size] for s in starts.tolist()])  # (B, T)
        answer = call(batch_at, ids.clone(), starts.clone(), context_size)
        what = f"batch_at(ids, starts, context_size={context_size}) with {batch_size} starts"
        expect(isinstance(answer, (tuple, list)) and len(answer) == 2, f"{what} should return a pair (x, y)")
        x = as_tensor(answer[0], f"the x of {what}", (batch_size, context_size))
        y = as_tensor(answer[1], f"the y of {what}", (batch_size, context_size))
        expect(torch.equal(x, expected_x.double()), f"the x of {what} is wrong: x[b] is ids[starts[b] : starts[b] + T]")
        expect(not torch.equal(y, x), f"the y of {what} equals x: the targets are the next tokens, one position on")
        expect(torch.equal(y, expected_y.double()),
               f"the y of {what} is wrong: y[b, j] is the token after x[b, j], ids[starts[b] + j + 1]")


@exercise("00.3", NOTEBOOK, "from 0-based token indices back to text")
def _decode(decode) -> None:
    import string

    generator = torch.Generator().manual_seed(3)
    alphabet = string.ascii_letters + string.digits + " \n,.;:!?'-"
    drawn = "".join(alphabet[int(i)] for i in torch.randint(len(alphabet), (200,), generator=generator))
    # The oracle is the text we start from: encode it with characters.index, then decoding must give it back.
    for text in ("To be, or not to be", "abracadabra", drawn):
        characters = sorted(set(text))  # the vocabulary S, in Python's order, as notebook 00 builds it
        indices = [characters.index(c) for c in text]  # 0-based, as in code
        what = f"decode(indices, characters) for {text[:20]!r}{'...' if len(text) > 20 else ''}"
        answer = call(decode, list(indices), list(characters), what=what)
        expect(answer is not None, f"{what} returned None: return the text as one str")
        expect(not isinstance(answer, (list, tuple)),
               f"{what} returned a {type(answer).__name__} of characters: join them into one str with ''.join(...)")
        expect(isinstance(answer, str), f"{what} should return a str, got {type(answer).__name__}")
        one_based = "".join(characters[i - 1] for i in indices)
        expect(answer == text or answer != one_based,
               f"{what} read index i as the i-th character counting from 1. In code the first character has "
               "index 0 (in the maths it is s_1), so index i is characters[i]; and characters[0 - 1] silently "
               "gives the last character, which is why this mistake raises no error")
        expect(answer == text, f"{what} should give back {text[:40]!r}, got {answer[:40]!r}: index i is characters[i]")
    expect(call(decode, [], ["a", "b"], what="decode([], ['a', 'b'])") == "",
           "decode([], characters) should be the empty text ''")
