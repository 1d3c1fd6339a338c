"""The checks of notebook 03_subword_tokens's exercises (solutions: solutions/03_subword_tokens.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "03_subword_tokens"
