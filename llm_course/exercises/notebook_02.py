"""The checks of notebook 02_token_indices's exercises (solutions: solutions/02_token_indices.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "02_token_indices"
