"""Execute the course's notebooks in order, each in a fresh kernel, rewriting their stored outputs.

`make course` runs this. It does what `jupyter nbconvert --to notebook --execute --inplace` does
for each notebook (nbconvert's execution is nbclient's `NotebookClient`, used here directly), with
two differences that matter on a slow machine and for a maintainer:

- **One process for the whole course.** Starting nbconvert costs about 3 s of CPU per notebook
  (it imports its exporters and templates); on a two-core machine limited to 0.8 of a CPU that was
  about half a minute of the course's time. Each notebook still gets its own new kernel, started
  in `notebooks/` as in JupyterLab, so no state passes from one notebook to the next.
- **Nothing is lost.** A notebook is written only when every cell ran, and atomically (to a
  temporary file beside it, then renamed over it); a failing cell leaves the stored notebook as
  it was and stops the run with the notebook's name and the cell's error.

Usage:
    python tools/run_course.py                          # every notebook, in order
    python tools/run_course.py notebooks/07_*.ipynb     # only these
    python tools/run_course.py --timeout 1800 ...       # seconds allowed per cell (default 900)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from export_notebooks import notebook_paths  # the course's notebooks in order, as the exporter reads them
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def write_atomically(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write `notebook` to `path` through a temporary file in the same folder, renamed over it.

    The file keeps its permissions; until the rename, the old notebook is untouched.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".ipynb.tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            nbformat.write(notebook, file)
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            shutil.copymode(path, temporary)  # mkstemp creates the file readable by its owner only
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


FAILURES = (CellExecutionError, CellTimeoutError, DeadKernelError)


def execute(path: Path, timeout: int = 900) -> float:
    """Run every cell of the notebook at `path` in a new kernel started in its folder; store the outputs.

    Returns the seconds it took. Raises one of `FAILURES` (the notebook file unchanged) when a cell
    fails, runs past `timeout` seconds, or its kernel dies (out of memory, for instance).
    """
    started = time.perf_counter()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    write_atomically(notebook, path)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run, in this order (default: all)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell (default 900)")
    args = parser.parse_args(argv)
    paths = args.notebooks or notebook_paths()
    missing = [str(path) for path in paths if not path.is_file() or path.suffix != ".ipynb"]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    total = 0.0
    for path in paths:
        try:
            seconds = execute(path.resolve(), args.timeout)
        except FAILURES as error:
            print(f"FAILED {path} (left unchanged): {type(error).__name__}\n{error}", file=sys.stderr)
            return 1
        total += seconds
        print(f"executed {path} in {seconds:.0f} s", flush=True)
    print(f"{len(paths)} notebook(s) in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
