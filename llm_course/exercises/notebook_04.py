"""The checks of notebook 04_embeddings's exercises (solutions: solutions/04_embeddings.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "04_embeddings"
