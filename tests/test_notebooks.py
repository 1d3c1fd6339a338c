"""The literate pipeline: Jupytext pairs stay in sync, and the package never drifts from the notebooks."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HAND_WRITTEN = {"__init__.py"}  # the only module no notebook owns


def out_of_sync(ipynb: Path) -> list[str]:
    """Why the pair of `ipynb` is out of sync (empty when it is in sync)."""
    py = ipynb.with_suffix(".py")
    if not py.exists():
        return [f"{ipynb.name} has no paired {py.name}"]
    from_ipynb = jupytext.read(ipynb)
    from_py = jupytext.read(py)
    sources = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    a, b = sources(from_ipynb), sources(from_py)
    if a == b:
        return []
    problems = [f"{ipynb.name}: {len(a)} cells, {py.name}: {len(b)} cells"] if len(a) != len(b) else []
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            problems.append(f"cell {index} differs between {ipynb.name} and {py.name}: {x[1][:60]!r} vs {y[1][:60]!r}")
            break
    return problems or ["cells differ"]


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_pair_in_sync(ipynb):
    assert out_of_sync(ipynb) == [], "run `make sync`, then re-execute the notebook"


def test_every_py_has_its_ipynb():
    for py in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        assert py.with_suffix(".ipynb").exists(), f"{py.name} has no paired .ipynb: run `make sync`"


def test_sync_check_catches_a_one_sided_edit(tmp_path):
    ipynb = NOTEBOOKS[0]
    shutil.copy(ipynb, tmp_path / ipynb.name)
    shutil.copy(ipynb.with_suffix(".py"), tmp_path / ipynb.with_suffix(".py").name)
    assert out_of_sync(tmp_path / ipynb.name) == []
    py = tmp_path / ipynb.with_suffix(".py").name
    py.write_text(py.read_text().replace("# # 00 · Start here", "# # 00 · Start here, edited"))
    assert out_of_sync(tmp_path / ipynb.name) != []


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_has_run(ipynb):
    cells = json.loads(ipynb.read_text())["cells"]
    unrun = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "".join(c["source"]).strip()
             and c.get("execution_count") is None]
    assert not unrun, f"{ipynb.name}: code cells {unrun} carry no output; run `make course`"
    counts = [c["execution_count"] for c in cells if c["cell_type"] == "code" and c.get("execution_count") is not None]
    assert counts == list(range(1, len(counts) + 1)), f"{ipynb.name}: outputs are not from one top-to-bottom run"


def export_into(tmp_path: Path) -> Path:
    """Export every notebook into a copy of the project layout under `tmp_path`; return the package folder."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("runs", ".*"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    package = tmp_path / "llm_course"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "export_notebooks.py"), "--lib", str(package),
         *sorted(str(p) for p in (tmp_path / "notebooks").glob("[0-9][0-9]_*.ipynb"))],
        check=True, cwd=tmp_path, capture_output=True,
    )
    return package


def drift(committed: Path, exported: Path) -> list[str]:
    """Differences between the committed package and a fresh export."""
    problems = []
    committed_modules = {p.name for p in committed.glob("*.py")} - HAND_WRITTEN
    exported_modules = {p.name for p in exported.glob("*.py")} - HAND_WRITTEN
    for name in sorted(committed_modules - exported_modules):
        problems.append(f"llm_course/{name} is written by no notebook")
    for name in sorted(exported_modules - committed_modules):
        problems.append(f"llm_course/{name} is missing: run `make export`")
    for name in sorted(committed_modules & exported_modules):
        if (committed / name).read_text() != (exported / name).read_text():
            problems.append(f"llm_course/{name} differs from its notebook: edit the notebook, then `make export`")
    return problems


@pytest.fixture(scope="module")
def fresh_export(tmp_path_factory):
    return export_into(tmp_path_factory.mktemp("export"))


def test_package_matches_notebooks(fresh_export):
    assert drift(ROOT / "llm_course", fresh_export) == []


def test_drift_check_catches_a_hand_edit(fresh_export, tmp_path):
    package = tmp_path / "llm_course"
    shutil.copytree(ROOT / "llm_course", package, ignore=shutil.ignore_patterns("__pycache__"))
    module = package / "data.py"
    module.write_text(module.read_text() + "\nHAND_EDIT = True\n")
    assert any("data.py differs" in p for p in drift(package, fresh_export))
    (package / "stray.py").write_text("x = 1\n")
    assert any("stray.py is written by no notebook" in p for p in drift(package, fresh_export))


def test_generated_modules_name_their_notebook():
    for module in sorted((ROOT / "llm_course").glob("*.py")):
        if module.name in HAND_WRITTEN:
            continue
        text = module.read_text()
        assert "AUTOGENERATED! DO NOT EDIT! File to edit: ../notebooks/" in text, module.name
        spec = importlib.util.spec_from_file_location(f"_check_{module.stem}", module)
        assert spec is not None


def test_generated_modules_have_a_docstring():
    import ast

    for module in sorted((ROOT / "llm_course").glob("*.py")):
        docstring = ast.get_docstring(ast.parse(module.read_text()))
        assert docstring and len(docstring) > 40, f"{module.name} has no module docstring"
