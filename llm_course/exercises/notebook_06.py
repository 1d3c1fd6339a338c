"""The checks of notebook 06_attention_and_the_transformer's exercises (solutions: solutions/06_attention_and_the_transformer.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "06_attention_and_the_transformer"
