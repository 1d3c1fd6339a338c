"""Shared fixtures: paths, and the corpus from the local data folder (never the network)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shakespeare() -> str:
    """Tiny Shakespeare, from LLM_COURSE_DATA; skipped (not downloaded) when no copy is there."""
    from llm_course.data import CorpusError, load_text

    try:
        return load_text("tiny-shakespeare", download=False)
    except CorpusError as error:
        pytest.skip(f"no local copy of the corpus: {error}")
