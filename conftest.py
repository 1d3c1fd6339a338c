"""pytest set-up for the tests and for nbval's run of the notebooks.

Tests and notebooks never download the corpus when a local copy lies beside the checkout
(`../shared/data`, as in CI): point `LLM_COURSE_DATA` at it unless it is already set. Kernels
that nbval starts inherit this environment.
"""

import os
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


def pytest_configure(config):
    if not os.environ.get("LLM_COURSE_DATA") and (SHARED_DATA / "tinyshakespeare.txt").is_file():
        os.environ["LLM_COURSE_DATA"] = str(SHARED_DATA)
