"""The checks of notebook 09_scaling_up's exercises (solutions: solutions/09_scaling_up.py)."""

from __future__ import annotations

from llm_course.exercises import as_number, as_tensor, call, exercise, expect, expect_close  # noqa: F401

NOTEBOOK = "09_scaling_up"
