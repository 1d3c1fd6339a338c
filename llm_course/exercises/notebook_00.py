"""The checks of notebook 00_start_here's exercises (solutions: solutions/00_start_here.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "00_start_here"
