"""The website's staging (tools/build_site.py): what the book is built from, checked without building it.

The build itself, and the pages in Chromium, are tested in tests/test_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_site import (  # noqa: E402
    BADGES,
    HIDE_INPUT,
    INTERACTIVE_NOTE,
    course_notebooks,
    landing_page,
    main,
    project_table,
    stage,
    stage_notebook,
    widget_html,
)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REPOSITORY = "https://github.com/example/course"


def notebook_json(cells: list[dict], **metadata) -> dict:
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def code_cell(source: str, metadata: dict | None = None, outputs: list | None = None) -> dict:
    return {"cell_type": "code", "source": source, "metadata": metadata or {}, "outputs": outputs or [],
            "execution_count": 1}


def test_the_page_list_follows_the_notebook_pattern(tmp_path):
    """A notebook added later (10, 11...) gets its page by existing; other files in notebooks/ do not."""
    (tmp_path / "notebooks").mkdir()
    for name in ("01_b.ipynb", "00_a.ipynb", "10_gpt2.ipynb", "scratch.ipynb", "00_a.py", "1_short.ipynb"):
        (tmp_path / "notebooks" / name).write_text("{}")
    found = course_notebooks(tmp_path)
    assert [path.name for path in found] == ["00_a.ipynb", "01_b.ipynb", "10_gpt2.ipynb"]
    page = landing_page("# Course\n", found, tmp_path, REPOSITORY)
    toctree = page.split("```{toctree}")[1]
    assert toctree.index("notebooks/00_a") < toctree.index("notebooks/01_b") < toctree.index("notebooks/10_gpt2")
    assert "scratch" not in toctree and "1_short" not in toctree


def test_the_landing_page_is_the_readme_with_its_links_kept_working(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_a.ipynb").write_text("{}")
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "README.md").write_text("# Benchmarks\n")
    readme = (
        "# Course\n\n[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/x)\n"
        "| 00 | [`00_a`](notebooks/00_a.ipynb) |\n"
        "See [the tables](benchmarks/README.md#speed), [the folder](benchmarks), [above](#course), "
        "[PyTorch](https://pytorch.org), [a missing notebook](notebooks/99_none.ipynb) and [gone](old/file.md).\n"
    )
    page = landing_page(readme, course_notebooks(tmp_path), tmp_path, REPOSITORY)
    assert page.startswith("# Course\n")
    assert "[`00_a`](notebooks/00_a.ipynb)" in page  # a page of the book
    assert f"[the tables]({REPOSITORY}/blob/main/benchmarks/README.md#speed)" in page
    assert f"[the folder]({REPOSITORY}/tree/main/benchmarks)" in page
    assert "[above](#course)" in page and "[PyTorch](https://pytorch.org)" in page
    assert "](/_badges/binder.svg)" in page and "https://mybinder.org/badge_logo.svg" not in page
    # A link to a file that does not exist is left alone, so that Sphinx (-W) fails on it.
    assert "[a missing notebook](notebooks/99_none.ipynb)" in page and "[gone](old/file.md)" in page


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_folded_cells_are_collapsed_on_the_page(ipynb):
    notebook = json.loads(ipynb.read_text(encoding="utf-8"))
    before = json.dumps(notebook, sort_keys=True)
    staged = stage_notebook(notebook)
    assert json.dumps(notebook, sort_keys=True) == before, "staging must not change the notebook it reads"

    def folded(cell):
        return cell["cell_type"] == "code" and bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))

    def collapsed(cell):
        return HIDE_INPUT in cell.get("metadata", {}).get("tags", [])

    assert [folded(c) for c in notebook["cells"]] == [collapsed(c) for c in staged["cells"]]
    assert any(collapsed(c) for c in staged["cells"]), "every notebook folds at least its Colab cell"
    # Badges come from the site; the links behind them (Binder, Colab) are unchanged.
    markdown = "".join("".join(c["source"]) for c in staged["cells"] if c["cell_type"] == "markdown")
    assert not any(remote in markdown for remote in BADGES)
    assert f"notebooks/{ipynb.name}" in markdown, "the title cell links Binder and Colab to this notebook"
    # No widget state is left for myst-nb to load widget scripts (from a CDN) for.
    assert "widgets" not in staged["metadata"]
    views = [o for c in staged["cells"] for o in c.get("outputs", []) if "application/vnd.jupyter.widget-view+json"
             in o.get("data", {})]
    assert views == []


def test_the_site_serves_its_own_badges():
    for local in BADGES.values():
        badge = ROOT / "site" / "badges" / Path(local).name
        assert badge.is_file() and badge.read_text().lstrip().startswith("<svg"), badge


def test_a_progress_bar_becomes_its_final_state_and_a_control_becomes_a_note():
    models = {
        "box": {"model_name": "HBoxModel",
                "state": {"children": ["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"]}},
        "left": {"model_name": "HTMLModel", "state": {"value": "100%"}},
        "bar": {"model_name": "FloatProgressModel", "state": {"value": 1400.0, "max": 1400.0}},
        "right": {"model_name": "HTMLModel", "state": {"value": "1400/1400 [02:51&lt;00:00]"}},
        "slider": {"model_name": "FloatSliderModel", "state": {"value": 1.0}},
        "panel": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_left", "IPY_MODEL_slider"]}},
    }
    snapshot = widget_html(models, "box")
    assert '<progress value="1400.0" max="1400.0">' in snapshot
    assert snapshot.index("100%") < snapshot.index("<progress") < snapshot.index("1400/1400 [02:51&lt;00:00]")
    assert widget_html(models, "panel") is None and widget_html(models, "missing") is None

    def view(model_id):
        return {"output_type": "display_data", "metadata": {}, "data": {
            "application/vnd.jupyter.widget-view+json": {"model_id": model_id, "version_major": 2},
            "text/plain": ["  0%|          | 0/1400"]}}

    state = {"application/vnd.jupyter.widget-state+json": {"state": models, "version_major": 2}}
    cells = [code_cell("train()", outputs=[view("box")]), code_cell("explore()", outputs=[view("panel")])]
    notebook = notebook_json(cells, widgets=state)
    staged = stage_notebook(notebook)
    assert staged["cells"][0]["outputs"][0]["data"] == {"text/html": snapshot}
    assert staged["cells"][1]["outputs"][0]["data"] == {"text/html": INTERACTIVE_NOTE}
    assert "widgets" not in staged["metadata"] and "widgets" in notebook["metadata"]


def test_staging_copies_the_notebooks_and_never_touches_them(tmp_path):
    def fingerprint():
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in NOTEBOOKS}

    before = fingerprint()
    staged = stage(tmp_path / "src")
    assert fingerprint() == before
    assert [path.name for path in staged] == [path.name for path in NOTEBOOKS]
    assert sorted(p.name for p in (tmp_path / "src" / "notebooks").iterdir()) == [p.name for p in NOTEBOOKS]
    index = (tmp_path / "src" / "index.md").read_text(encoding="utf-8")
    assert index.startswith((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[0])
    assert all(f"notebooks/{path.stem}" in index.split("```{toctree}")[1] for path in NOTEBOOKS)
    assert sorted(p.name for p in (tmp_path / "src" / "_badges").iterdir()) == ["binder.svg", "colab.svg"]


def test_the_build_needs_only_the_site_extra(capsys):
    assert main(["--requirements"]) == 0
    printed = capsys.readouterr().out.split("\n")
    assert [line for line in printed if line] == project_table()["optional-dependencies"]["site"]
    assert not any(line.startswith("torch") for line in printed)


def tiny_course(root: Path, readme_extra: str = "") -> Path:
    """A course of one notebook with a figure-free output, for builds that take seconds."""
    (root / "notebooks").mkdir(parents=True)
    title = {"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# 00 · Tiny\n\nThe maths $x^2$."}
    cell = {**code_cell("print(1)", outputs=[{"output_type": "stream", "name": "stdout", "text": "1\n"}]), "id": "code"}
    notebook = notebook_json([title, cell], kernelspec={"name": "python3", "display_name": "Python 3",
                                                        "language": "python"})
    (root / "notebooks" / "00_tiny.ipynb").write_text(json.dumps(notebook))
    (root / "README.md").write_text(f"# Tiny\n\n[The notebook](notebooks/00_tiny.ipynb).\n\n{readme_extra}\n")
    return root


@pytest.mark.parametrize(
    ("defect", "warning"),
    [
        ("[a broken link](notebooks/99_missing.ipynb)", "cross-reference target not found"),
        ("![a missing image](figures/missing.png)", "image file not readable"),
        ("See {ref}`an-unknown-label`.", "undefined label"),
        ("[a missing section](#no-such-heading)", "cross-reference target not found"),
    ],
    ids=["broken-link", "missing-image", "unknown-reference", "missing-anchor"],
)
def test_a_warning_fails_the_build(tiny_site, tmp_path, capfd, defect, warning):
    import subprocess

    from build_site import build

    assert (tiny_site / "notebooks" / "00_tiny.html").is_file()  # the same course without the defect builds
    capfd.readouterr()
    with pytest.raises(subprocess.CalledProcessError):
        build(tmp_path / "bad", root=tiny_course(tmp_path / "bad-course", defect))
    assert warning in capfd.readouterr().err


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory) -> Path:
    pytest.importorskip("myst_nb")
    pytest.importorskip("sphinx_book_theme")
    from build_site import build

    base = tmp_path_factory.mktemp("tiny")
    return build(base / "good", root=tiny_course(base / "good-course"))
