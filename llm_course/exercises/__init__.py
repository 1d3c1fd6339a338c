"""Exercises that check themselves: `check("07.2", my_perplexity)` prints one line and returns a bool.

Every notebook ends with exercises solved in code. A starter cell holds a stub to complete, and
the cell under it calls `check(exercise_id, answer)`, which runs the learner's answer against the
course's own implementation or an oracle, on several inputs (some drawn at random inside the
check, from a seeded generator, so that a number copied from a printed output cannot pass), and
prints exactly one line:

    ✓ 07.2 perplexity from a loss
    ✗ 07.2 not yet: perplexity(0.0) should be 1.0 (e to the power 0), got 0.0

`check` never raises: an unknown id, a stub that returns `None` or raises `NotImplementedError`,
an answer of the wrong type and an exception from inside the learner's function are all
reported on that line.

This file is written by hand (no notebook teaches it): `EXERCISES`, `check` and the small tools
the checks use (`expect`, `expect_close`, `call`). The checks themselves live one file per
notebook, `notebook_NN.py` beside this one, and register with `@exercise(...)`. Solutions are in
`solutions/NN_name.py` at the top of the repository: try first.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "EXERCISES",
    "Exercise",
    "NotYet",
    "as_number",
    "as_tensor",
    "call",
    "check",
    "exercise",
    "expect",
    "expect_close",
]


@dataclass(frozen=True)
class Exercise:
    """One self-checking exercise."""

    id: str  # "NN.k": notebook NN, exercise k
    notebook: str  # the notebook's file stem, e.g. "07_cross_entropy_training"
    title: str  # what `check` prints after ✓
    checker: Callable[[Any], None]  # raises `NotYet(hint)` when the answer is not right


EXERCISES: dict[str, Exercise] = {}


class NotYet(Exception):
    """The answer is not right yet; the message is a hint for the learner."""


class _AnswerRaised(Exception):
    """The learner's own code raised; wraps the original exception."""

    def __init__(self, error: BaseException, what: str):
        super().__init__(f"{what} raised {type(error).__name__}: {error}")
        self.error = error


def exercise(exercise_id: str, notebook: str, title: str) -> Callable:
    """Register the decorated function as the checker of `exercise_id`.

    The checker takes the learner's answer and raises `NotYet(hint)` (through `expect`) when it is
    wrong; returning normally means the answer is right.
    """
    parts = exercise_id.split(".")
    if len(parts) != 2 or not (parts[0].isdigit() and len(parts[0]) == 2 and parts[1].isdigit()):
        raise ValueError(f"exercise ids look like 'NN.k', got {exercise_id!r}")
    if not notebook.startswith(parts[0] + "_"):
        raise ValueError(f"exercise {exercise_id!r} must belong to notebook {parts[0]}_..., got {notebook!r}")

    def register(checker: Callable[[Any], None]) -> Callable[[Any], None]:
        if exercise_id in EXERCISES:
            raise ValueError(f"exercise {exercise_id!r} is registered twice")
        EXERCISES[exercise_id] = Exercise(exercise_id, notebook, title, checker)
        return checker

    return register


def expect(condition: Any, hint: str) -> None:
    """Raise `NotYet(hint)` unless `condition` holds."""
    if not condition:
        raise NotYet(hint)


def as_number(value: Any, what: str) -> float:
    """`value` as a Python float (a 0-d or one-element tensor, a NumPy scalar and an int are fine)."""
    if value is None:
        raise NotYet(f"{what} returned None: fill in the function so that it returns a number")
    if isinstance(value, bool):
        raise NotYet(f"{what} should be a number, got the bool {value}")
    try:
        return float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, RuntimeError):
        raise NotYet(f"{what} should be a number, got {type(value).__name__}") from None


def as_tensor(value: Any, what: str, shape: tuple[int, ...] | None = None) -> torch.Tensor:
    """`value` (a tensor, a list, a NumPy array) as a float64 tensor, checked against `shape` when given."""
    if value is None:
        raise NotYet(f"{what} returned None: fill in the function so that it returns a tensor")
    try:
        tensor = torch.as_tensor(value.detach() if hasattr(value, "detach") else value).to(torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise NotYet(f"{what} should return a tensor, got {type(value).__name__}") from None
    if shape is not None and tuple(tensor.shape) != tuple(shape):
        raise NotYet(f"{what} should have shape {tuple(shape)}, got {tuple(tensor.shape)}")
    return tensor


def expect_close(actual: Any, expected: float, what: str, *, rel: float = 1e-4, abs_tol: float = 1e-6) -> None:
    """Raise `NotYet` unless the number `actual` is close to `expected`; the hint names `what`."""
    number = as_number(actual, what)
    if not math.isclose(number, expected, rel_tol=rel, abs_tol=abs_tol):
        raise NotYet(f"{what} should be {expected:.4g}, got {number:.4g}")


def call(function: Any, *args: Any, what: str | None = None, **kwargs: Any) -> Any:
    """Call the learner's `function`; a non-callable or an exception inside it becomes a clear hint."""
    name = what or f"{getattr(function, '__name__', 'your function')}(...)"
    if function is None:
        raise NotYet("the answer is None: complete the starter cell above, run it, then run this cell again")
    if not callable(function):
        raise NotYet(f"the answer should be a function, got {type(function).__name__}")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise NotYet("the stub still raises NotImplementedError: replace it with your code") from None
    except Exception as error:  # the learner's code: report it, never re-raise
        raise _AnswerRaised(error, name) from None


def check(exercise_id: str, answer: Any) -> bool:
    """Check `answer` to exercise `exercise_id`; print one line (✓ or ✗ with a hint); never raise.

    >>> check("99.9", 42)
    ✗ 99.9 not yet: there is no exercise '99.9' (the ids look like '07.2', see EXERCISES)
    False
    """
    record = EXERCISES.get(exercise_id) if isinstance(exercise_id, str) else None
    if record is None:
        print(
            f"✗ {exercise_id} not yet: there is no exercise {exercise_id!r} (the ids look like '07.2', see EXERCISES)"
        )
        return False
    try:
        if answer is None:
            raise NotYet("the answer is None: complete the starter cell above, run it, then run this cell again")
        record.checker(answer)
    except NotYet as hint:
        print(f"✗ {exercise_id} not yet: {hint}")
        return False
    except _AnswerRaised as raised:
        print(f"✗ {exercise_id} not yet: {raised}")
        return False
    except NotImplementedError:
        print(f"✗ {exercise_id} not yet: the stub still raises NotImplementedError: replace it with your code")
        return False
    except Exception as error:  # an answer of a shape the checker did not foresee
        print(f"✗ {exercise_id} not yet: checking your answer raised {type(error).__name__}: {error}")
        return False
    print(f"✓ {exercise_id} {record.title}")
    return True


# The checks, one file per notebook (notebook_NN.py beside this file); each registers its exercises when imported.
for _checks in sorted(Path(__file__).parent.glob("notebook_[0-9][0-9].py")):
    importlib.import_module(f"llm_course.exercises.{_checks.stem}")
