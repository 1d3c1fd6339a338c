"""`tools/run_course.py`, the runner behind `make course`: outputs stored, failures lose nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import run_course  # noqa: E402


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def test_the_runner_finds_the_course_in_order():
    paths = run_course.notebook_paths()
    assert [path.name[:2] for path in paths] == sorted(path.name[:2] for path in paths)
    assert paths[0].name == "00_start_here.ipynb" and len(paths) >= 10


def test_notebooks_run_in_order_in_their_folder_in_fresh_kernels(tmp_path, capsys):
    first = write_notebook(tmp_path / "01_first.ipynb", "import os\nprint(os.getcwd())", "shared = 1\nprint(6 * 7)")
    second = write_notebook(tmp_path / "02_second.ipynb", "print('shared' in globals())")
    assert run_course.main([str(first), str(second)]) == 0
    outputs = [cell.outputs for cell in nbformat.read(first, as_version=4).cells]
    assert Path(outputs[0][0]["text"].strip()).resolve() == tmp_path.resolve()  # the kernel starts beside the notebook
    assert outputs[1][0]["text"] == "42\n"
    # nothing leaks from one notebook to the next
    assert nbformat.read(second, as_version=4).cells[0].outputs[0]["text"] == "False\n"
    assert "executed" in capsys.readouterr().out


def test_a_failing_cell_leaves_the_notebook_unchanged_and_stops_the_run(tmp_path, capsys):
    broken = write_notebook(tmp_path / "01_broken.ipynb", "print('ran')", "raise ValueError('the cell that fails')")
    later = write_notebook(tmp_path / "02_later.ipynb", "print('should not run')")
    before = broken.read_bytes(), later.read_bytes()
    assert run_course.main([str(broken), str(later)]) == 1
    assert (broken.read_bytes(), later.read_bytes()) == before
    assert "the cell that fails" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["01_broken.ipynb", "02_later.ipynb"]  # no temporary


def test_a_missing_notebook_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_course.main([str(tmp_path / "99_nowhere.ipynb")])
    assert "no such notebook" in capsys.readouterr().err
