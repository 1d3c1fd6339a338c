"""The checks of notebook 05_the_llm_function's exercises (solutions: solutions/05_the_llm_function.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "05_the_llm_function"
