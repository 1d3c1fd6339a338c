"""The learner's path (README): visible code at most about 1.5x the prose, a figure per notebook, plumbing folded."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook_stats import is_folded, notebook_stats  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CODE_PER_PROSE = 1.5


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_visible_code_at_most_one_and_a_half_times_the_prose(ipynb):
    stats = notebook_stats(ipynb)
    assert stats.ratio <= MAX_CODE_PER_PROSE, (
        f"{ipynb.name}: {stats.visible_code} visible code lines for {stats.prose} prose lines ({stats.ratio:.2f}x): "
        "fold plumbing (jupyter.source_hidden) or explain more"
    )


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_figure(ipynb):
    assert notebook_stats(ipynb).figures >= 1, f"{ipynb.name} stores no figure"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_colab_install_cell_is_folded(ipynb):
    cells = [c for c in json.loads(ipynb.read_text())["cells"] if c["cell_type"] == "code"]
    assert "google.colab" in "".join(cells[0]["source"]), f"{ipynb.name}: the first code cell is the Colab install"
    assert is_folded(cells[0]), f"{ipynb.name}: fold the Colab install cell (plumbing)"


def test_the_ratio_counts_only_unfolded_code(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["one\n", "\n", "two"]},
            {"cell_type": "code", "metadata": {}, "source": ["x = 1\n", "y = 2\n", "z = 3"], "outputs": []},
            {
                "cell_type": "code",
                "metadata": {"jupyter": {"source_hidden": True}},
                "source": ["plumbing = 1"],
                "outputs": [],
            },
        ]
    }
    path = tmp_path / "99_example.ipynb"
    path.write_text(json.dumps(notebook))
    stats = notebook_stats(path)
    assert (stats.prose, stats.visible_code, stats.folded_code, stats.ratio) == (2, 3, 1, 1.5)
