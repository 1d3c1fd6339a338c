"""`tools/run_course.py`, the runner behind `make course`: outputs stored, failures lose nothing."""

from __future__ import annotations

import stat
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


def test_only_numbered_notebooks_count_in_their_numbers_order(tmp_path):
    for name in ("10_b.ipynb", "02_a.ipynb", "README.ipynb", ".02_a.x.ipynb.tmp", "03_c.py"):
        (tmp_path / name).write_text("{}")
    assert [path.name for path in run_course.notebook_paths(tmp_path)] == ["02_a.ipynb", "10_b.ipynb"]
    course = run_course.notebook_paths()
    assert [path.name[:2] for path in course] == [f"{number:02d}" for number in range(len(course))]


def test_notebooks_run_in_order_in_their_folder_in_fresh_kernels(tmp_path, capsys):
    first = write_notebook(tmp_path / "01_first.ipynb", "import os\nprint(os.getcwd())", "shared = 1\nprint(6 * 7)")
    second = write_notebook(tmp_path / "02_second.ipynb", "print('shared' in globals())")
    first.chmod(0o644)
    assert run_course.main([str(first), str(second)]) == 0
    outputs = [cell.outputs for cell in nbformat.read(first, as_version=4).cells]
    assert Path(outputs[0][0]["text"].strip()).resolve() == tmp_path.resolve()  # the kernel starts beside the notebook
    assert outputs[1][0]["text"] == "42\n"
    # nothing leaks from one notebook to the next
    assert nbformat.read(second, as_version=4).cells[0].outputs[0]["text"] == "False\n"
    printed = capsys.readouterr().out
    assert printed.index("01_first") < printed.index("02_second") and "2 notebook(s)" in printed
    assert stat.S_IMODE(first.stat().st_mode) == 0o644  # the rewritten notebook keeps its permissions


def test_a_failing_cell_leaves_the_notebook_unchanged_and_stops_the_run(tmp_path, capsys):
    broken = write_notebook(tmp_path / "01_broken.ipynb", "print('ran')", "raise ValueError('the cell that fails')")
    later = write_notebook(tmp_path / "02_later.ipynb", "print('should not run')")
    before = broken.read_bytes(), later.read_bytes()
    assert run_course.main([str(broken), str(later)]) == 1
    assert (broken.read_bytes(), later.read_bytes()) == before
    error = capsys.readouterr().err
    assert "FAILED" in error and "01_broken" in error and "the cell that fails" in error


def test_a_cell_past_its_timeout_is_named_and_loses_nothing(tmp_path, capsys):
    slow = write_notebook(tmp_path / "01_slow.ipynb", "import time\ntime.sleep(30)")
    before = slow.read_bytes()
    assert run_course.main([str(slow), "--timeout", "2"]) == 1
    assert slow.read_bytes() == before
    assert "FAILED" in capsys.readouterr().err


def test_a_write_that_fails_leaves_the_old_notebook_and_no_temporary(tmp_path, monkeypatch):
    path = write_notebook(tmp_path / "01_kept.ipynb", "print(1)")
    before = path.read_bytes()

    def failing_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(run_course.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        run_course.write_atomically(nbformat.v4.new_notebook(), path)
    assert path.read_bytes() == before
    assert [child.name for child in tmp_path.iterdir()] == ["01_kept.ipynb"]


def test_a_missing_or_wrong_file_is_named(tmp_path, capsys):
    script = tmp_path / "01_script.py"
    script.write_text("print(1)\n")
    for wrong in (tmp_path / "99_nowhere.ipynb", script):
        with pytest.raises(SystemExit) as exit_info:
            run_course.main([str(wrong)])
        assert exit_info.value.code == 2
        assert "no such notebook" in capsys.readouterr().err
