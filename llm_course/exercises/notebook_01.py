"""The checks of notebook 01_vocabulary's exercises (solutions: solutions/01_vocabulary.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "01_vocabulary"
