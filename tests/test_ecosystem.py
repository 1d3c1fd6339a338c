"""The learners' ecosystem: Binder and Colab badges, the Colab install cell, declared dependencies,
and a resolution check that installing the package on Colab never reinstalls PyTorch."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import venv
from pathlib import Path

import jupytext
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REPOSITORY = "llm-course/llm-course"
BINDER = re.compile(r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/main\?urlpath=lab/tree/(notebooks/[\w.-]+\.ipynb)")
COLAB = re.compile(r"https://colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/main/(notebooks/[\w.-]+\.ipynb)")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def cells(ipynb: Path):
    return json.loads(ipynb.read_text())["cells"]


# --- badges and the Colab cell ---------------------------------------------------------------------


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_starts_with_badges_pointing_at_itself(ipynb):
    first = "".join(cells(ipynb)[0]["source"])
    binder, colab = BINDER.search(first), COLAB.search(first)
    assert binder, f"{ipynb.name}: no Binder badge in the first cell"
    assert colab, f"{ipynb.name}: no Colab badge in the first cell"
    expected = f"notebooks/{ipynb.name}"
    assert binder.groups() == (REPOSITORY, expected), binder.group(0)
    assert colab.groups() == (REPOSITORY, expected), colab.group(0)
    assert "mybinder.org/badge_logo.svg" in first and "colab-badge.svg" in first


def test_readme_has_both_badges():
    readme = (ROOT / "README.md").read_text()
    assert BINDER.search(readme) and COLAB.search(readme)


def colab_cell(ipynb: Path) -> str:
    code = [c for c in cells(ipynb) if c["cell_type"] == "code"]
    return "".join(code[0]["source"])


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_installs_only_in_colab(ipynb):
    source = colab_cell(ipynb)
    assert '"google.colab" in sys.modules' in source, f"{ipynb.name}: the first code cell must test for Colab"
    assert "pip" in source and f"git+https://github.com/{REPOSITORY}" in source
    assert "torch" not in source.replace("leaves Colab's own PyTorch", ""), "the cell must never (re)install torch"
    ast.parse(source)  # plain Python, no `!pip` magic
    py_side = jupytext.read(ipynb.with_suffix(".py"))
    first_code = next(c for c in py_side.cells if c.cell_type == "code")
    ast.parse(first_code.source)  # and valid Python in the paired .py file


@pytest.mark.parametrize("ipynb", NOTEBOOKS[:1], ids=lambda p: p.stem)
def test_colab_cell_is_a_no_op_here(ipynb):
    """Run the cell outside Colab: it must not call pip (subprocess.run is replaced by a trap)."""
    calls = []
    namespace = {}
    source = colab_cell(ipynb).replace("subprocess.run(", "_trap(")
    namespace["_trap"] = lambda *a, **k: calls.append(a)
    exec(compile(source, ipynb.name, "exec"), namespace)
    assert calls == []
    sys.modules["google.colab"] = type(sys)("google.colab")
    try:
        namespace_colab = {"_trap": lambda *a, **k: calls.append(a)}
        as_if_missing = source.replace('importlib.util.find_spec("llm_course") is None', "True")
        exec(compile(as_if_missing, ipynb.name, "exec"), namespace_colab)
    finally:
        del sys.modules["google.colab"]
    assert len(calls) == 1 and "pip" in calls[0][0], "in Colab the cell installs the package"


# --- every third-party import is declared in pyproject.toml and environment.yml -----------------------

# import name -> (PyPI distribution, conda-forge package)
DISTRIBUTIONS = {
    "torch": ("torch", "pytorch-cpu"),
    "numpy": ("numpy", "numpy"),
    "matplotlib": ("matplotlib", "matplotlib-base"),
    "regex": ("regex", "regex"),
    "einops": ("einops", "einops"),
    "tqdm": ("tqdm", "tqdm"),
    "ipywidgets": ("ipywidgets", "ipywidgets"),
    "IPython": ("ipython", "ipython"),
    "safetensors": ("safetensors", "safetensors"),
    "transformers": ("transformers", "transformers"),
}


def third_party_imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in {"llm_course", "google", "__future__"}}


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def environment_yml_packages() -> set[str]:
    """The conda packages listed under `dependencies:` in environment.yml (names only)."""
    packages, in_dependencies = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if not line.startswith(" ") and line.strip():
            in_dependencies = line.startswith("dependencies:")
            continue
        match = re.match(r"\s+-\s+([A-Za-z0-9_.-]+)", line)
        if in_dependencies and match:
            packages.add(match.group(1).lower())
    return packages


def test_every_third_party_import_is_declared():
    sources = [p.read_text() for p in sorted((ROOT / "llm_course").glob("*.py"))]
    sources += [p.read_text() for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))]
    imported = set().union(*(third_party_imports(s) for s in sources))
    declared_pypi = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    declared_conda = environment_yml_packages()
    # ipywidgets brings IPython on both sides; declared explicitly only if we import it and it is missing.
    transitive = {"ipython"} if "ipywidgets" in declared_pypi else set()
    unknown = sorted(imported - DISTRIBUTIONS.keys())
    assert not unknown, f"add these imports to DISTRIBUTIONS, pyproject.toml and environment.yml: {unknown}"
    for name in sorted(imported):
        pypi, conda = DISTRIBUTIONS[name]
        assert pypi in declared_pypi | transitive, f"{name} is imported but {pypi} is not in pyproject.toml"
        assert conda in declared_conda | transitive, f"{name} is imported but {conda} is not in environment.yml"


def test_declarations_agree():
    """Every runtime dependency of pyproject.toml is in environment.yml, and the reverse (less the tools)."""
    pypi_to_conda = dict(DISTRIBUTIONS.values())
    declared_pypi = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    conda = environment_yml_packages()
    for name in declared_pypi:
        assert pypi_to_conda.get(name, name) in conda, f"{name} is in pyproject.toml but not environment.yml"
    tools = {"python", "pip", "setuptools", "jupyterlab", "jupytext"}
    conda_to_pypi = {v: k for k, v in pypi_to_conda.items()}
    for name in conda - tools:
        assert conda_to_pypi.get(name, name) in declared_pypi, f"{name} is in environment.yml but not pyproject.toml"


# --- Colab: installing the package keeps the preinstalled PyTorch -------------------------------------

# What Colab had installed when this was written (Python 3.13 there; the check runs on this Python).
COLAB_VERSIONS = {
    "numpy": "2.0.2",
    "matplotlib": "3.10.0",
    "regex": "2024.11.6",
    "einops": "0.8.1",
    "tqdm": "4.67.1",
    "ipywidgets": "7.7.1",
    "safetensors": "0.6.2",
    "transformers": "4.57.1",
}


def fake_distribution(site: Path, name: str, version: str) -> None:
    """Make pip believe `name==version` is installed (metadata only)."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("")


def dry_run_install(tmp_path: Path, torch_version: str) -> subprocess.CompletedProcess:
    """`pip install --dry-run` of the course into a fresh venv where torch==torch_version is present."""
    env_dir = tmp_path / f"venv-torch-{torch_version}"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    site = next((env_dir / "lib").glob("python*/site-packages"))
    for name, version in {**COLAB_VERSIONS, "torch": torch_version}.items():
        fake_distribution(site, name, version)
    # The build backend (setuptools) comes from the project's environment, so nothing is downloaded;
    # the older setuptools that ensurepip bundles with some Pythons is replaced by it.
    import shutil

    import setuptools

    for bundled in [*site.glob("setuptools*"), *site.glob("_distutils_hack"), *site.glob("pkg_resources"),
                    *site.glob("distutils-precedence.pth")]:
        shutil.rmtree(bundled) if bundled.is_dir() else bundled.unlink()
    project_site = Path(setuptools.__file__).parents[1]
    for source in [project_site / "setuptools", project_site / "_distutils_hack", project_site / "pkg_resources",
                   *project_site.glob("setuptools-*.dist-info")]:
        if source.exists():
            (site / source.name).symlink_to(source)
    report = tmp_path / f"report-{torch_version}.json"
    return subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--dry-run", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", "--report", str(report), "--quiet", str(ROOT)],
        capture_output=True, text=True, timeout=300,
    ), report


@pytest.mark.parametrize("torch_version", ["2.3.0", "2.11.0"])
def test_colab_install_keeps_preinstalled_torch(tmp_path, torch_version):
    result, report = dry_run_install(tmp_path, torch_version)
    assert result.returncode == 0, result.stderr[-2000:]
    to_install = [item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]]
    assert to_install == ["llm-course"], f"pip would install {to_install}: only the course package may be new"


def test_resolution_check_notices_a_torch_that_is_too_old(tmp_path):
    result, _ = dry_run_install(tmp_path, "2.2.0")
    assert result.returncode != 0 and "torch" in result.stderr.lower()
