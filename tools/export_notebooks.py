"""Write the package `llm_course/` from the notebooks, with nbdev's exporter.

Each notebook names its module in a `#| default_exp <module>` cell and marks the cells that
go into it with `#| export` (or `#| export <other_module>`). nbdev's `nb_export` turns those
cells into `llm_course/<module>.py`, with a header that names the notebook to edit and the
notebook's title blurb (the `> ...` lines under its `# ` heading) as the module docstring.

We drive nbdev's own pieces (`NBProcessor`, `ExportModuleProc`, `ModuleMaker`: the body of its
`nb_export`) notebook by notebook instead of running the `nbdev-export` command, for three reasons:
the destination folder can be chosen (the drift test exports into a temporary folder); nbdev's
documentation index (`_modidx.py`), which this course does not use, is not written; and a notebook
may write more than one module (notebook 00 writes `data` and `reproducibility`, notebook 06
`attention` and `gpt`). nbdev's `nb_export` only creates the `#| default_exp` module and expects
any other `#| export <module>` target to exist already; here every module a notebook names is
owned, and written whole, by that notebook, and a module named by two notebooks is an error.

Usage:
    python tools/export_notebooks.py                      # every notebook into llm_course/
    python tools/export_notebooks.py notebooks/03_*.ipynb # only these notebooks
    python tools/export_notebooks.py --lib /tmp/x/llm_course
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PACKAGE = ROOT / "llm_course"


def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The course's notebooks, in order: `NN_name.ipynb`."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def export_notebook(notebook: Path, lib_path: Path) -> list[Path]:
    """Write every module that `notebook` exports into `lib_path`; return their paths."""
    from nbdev.export import ExportModuleProc
    from nbdev.maker import ModuleMaker
    from nbdev.process import NBProcessor

    exporter = ExportModuleProc()
    with contextlib.redirect_stdout(io.StringIO()):
        NBProcessor(str(notebook), [exporter]).process()
    written = []
    for module, cells in exporter.modules.items():
        if not any(cell.cell_type == "code" for cell in cells):
            continue  # a notebook with no exported code writes nothing
        name = getattr(exporter, "default_exp", None) if module == "#" else module
        if not name:
            raise SystemExit(f"{notebook.name}: `#| export` cells but no `#| default_exp <module>` cell")
        maker = ModuleMaker(dest=str(lib_path), name=name, nb_path=str(notebook), is_new=True)
        maker.make(cells, exporter.in_all[module], lib_path=str(lib_path))
        written.append(lib_path / f"{name}.py")
    return written


def export(notebooks: list[Path], lib_path: Path) -> list[Path]:
    """Export `notebooks` into the folder `lib_path`; return the modules written."""
    lib_path.mkdir(parents=True, exist_ok=True)
    owners: dict[Path, Path] = {}
    for notebook in notebooks:
        for module in export_notebook(notebook, lib_path):
            if module in owners and owners[module] != notebook:
                raise SystemExit(f"{module.name} is written by both {owners[module].name} and {notebook.name}")
            owners[module] = notebook
    return sorted(owners)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to export (default: all)")
    parser.add_argument("--lib", type=Path, default=PACKAGE, help="destination package folder")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or notebook_paths()
    written = export(notebooks, args.lib.resolve())
    for path in written:
        print(f"wrote {path.parent.name}/{path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
