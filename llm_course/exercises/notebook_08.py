"""The checks of notebook 08_sampling's exercises (solutions: solutions/08_sampling.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "08_sampling"
