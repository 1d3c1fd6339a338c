"""Build the course's website: a static HTML book of the notebooks with their stored outputs.

`make site` runs this script. It never executes a notebook (nbval already guarantees the stored
outputs); it stages copies of the sources, then runs Sphinx (myst-nb, sphinx-book-theme; the
configuration is site/conf.py) with warnings as errors, so a broken link, a missing image or an
unknown cross-reference fails the build.

What the staging does, to copies only (notebooks/ is never modified):
- the landing page is README.md (with the outline), followed by a hidden table of contents that
  lists every `notebooks/[0-9][0-9]_*.ipynb`, in order, so a new notebook gets its page by existing;
  README links to other files of the repository point to them on GitHub;
- a folded (plumbing) code cell, metadata `"jupyter": {"source_hidden": true}`, gets myst-nb's
  `hide-input` tag: the page shows it collapsed, with a toggle that opens it;
- the Binder and Colab badge images come from the site itself (site/badges/), not their hosts;
- a widget's output becomes a static snapshot (a progress bar as its final state; an interactive
  control as a note to run the notebook), since the widget scripts would have to come from a CDN.

Usage:
    python tools/build_site.py                    # build/site/html/index.html
    python tools/build_site.py --out /tmp/site    # elsewhere
    python tools/build_site.py --requirements     # print the `site` extra of pyproject.toml, for pip -r
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli is in the `site` extra, which --requirements prints
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
SITE_CONFIG = ROOT / "site"
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
HIDE_INPUT = "hide-input"  # myst-nb's tag: the source is collapsed behind a toggle
HIDE_OUTPUT = "hide-output"
BADGES = {  # remote badge image -> the site's own copy (site/badges/)
    "https://mybinder.org/badge_logo.svg": "/_badges/binder.svg",
    "https://colab.research.google.com/assets/colab-badge.svg": "/_badges/colab.svg",
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
INTERACTIVE_NOTE = (
    '<div class="course-widget-note">An interactive control (ipywidgets) appears here when the notebook '
    "runs: open the notebook in Binder, Colab or JupyterLab (the buttons at the top) to use it.</div>"
)


def project_table() -> dict:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if tomllib is not None:
        return tomllib.loads(text)["project"]
    try:
        import tomli
    except ModuleNotFoundError:  # before the first install on Python 3.10: the two entries this script reads
        site = re.search(r"^site = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL).group(1)
        requirements = re.findall(r'^\s*"([^"]+)"', site, re.MULTILINE)
        repository = re.search(r'^Repository = "([^"]+)"', text, re.MULTILINE).group(1)
        return {"optional-dependencies": {"site": requirements}, "urls": {"Repository": repository}}
    return tomli.loads(text)["project"]


def repository_url() -> str:
    return project_table()["urls"]["Repository"].rstrip("/")


def course_notebooks(root: Path = ROOT) -> list[Path]:
    """The course's notebooks in order: notebooks/NN_name.ipynb."""
    return sorted((root / "notebooks").glob(NOTEBOOK_PATTERN))


def local_badges(markdown: str) -> str:
    """Point the Binder and Colab badge images at the site's own copies; their links stay as they are."""
    for remote, local in BADGES.items():
        markdown = markdown.replace(f"]({remote})", f"]({local})")
    return markdown


# --- widgets -----------------------------------------------------------------------------------


def widget_html(models: dict, model_id: str) -> str | None:
    """A static HTML snapshot of a display-only widget, or None when it holds an interactive control.

    >>> models = {"p": {"model_name": "FloatProgressModel", "state": {"value": 3.0, "max": 4.0}}}
    >>> widget_html(models, "p")
    '<progress value="3.0" max="4.0"></progress>'
    """
    model = models.get(model_id)
    if model is None:
        return None
    name, state = model["model_name"], model.get("state", {})
    if name in ("HBoxModel", "VBoxModel", "BoxModel"):
        parts = [widget_html(models, child.removeprefix("IPY_MODEL_")) for child in state.get("children", [])]
        if any(part is None for part in parts):
            return None
        direction = "column" if name == "VBoxModel" else "row"
        return f'<div class="course-widget-snapshot" style="flex-direction: {direction}">{"".join(parts)}</div>'
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<span>{state.get('value', '')}</span>"  # already HTML, written by the notebook's own code
    if name == "LabelModel":
        return f"<span>{html.escape(str(state.get('value', '')))}</span>"
    if name in ("FloatProgressModel", "IntProgressModel"):
        value, maximum = state.get("value", 0), state.get("max", 100)
        return f'<progress value="{value}" max="{maximum}"></progress>'
    return None  # sliders, text boxes, buttons, outputs...: only a running kernel makes them work


def snapshot_widgets(notebook: dict) -> None:
    """Replace every widget output with a static snapshot and drop the widget state (no widget scripts)."""
    models = notebook.get("metadata", {}).pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            snapshot = widget_html(models, data[WIDGET_VIEW].get("model_id", ""))
            output["data"] = {"text/html": snapshot if snapshot is not None else INTERACTIVE_NOTE}


# --- staging -----------------------------------------------------------------------------------


def stage_notebook(notebook: dict) -> dict:
    """The page's copy of a notebook: folded cells tagged hide-input, local badges, widget snapshots."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        metadata = cell.setdefault("metadata", {})
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = local_badges(source)
        elif cell["cell_type"] == "code":
            folding = metadata.get("jupyter", {})
            tags = list(metadata.get("tags", []))
            if folding.get("source_hidden") and HIDE_INPUT not in tags:
                tags.append(HIDE_INPUT)
            if folding.get("outputs_hidden") and HIDE_OUTPUT not in tags:
                tags.append(HIDE_OUTPUT)
            if tags:
                metadata["tags"] = tags
    snapshot_widgets(notebook)
    return notebook


LINK = re.compile(r"(\]\()([^)\s]+)(\))")


def landing_page(readme: str, notebooks: list[Path], root: Path, repository: str) -> str:
    """README.md as the landing page: links to notebooks stay (they are pages), links to other files
    of the repository go to the file on GitHub, and a hidden table of contents lists every notebook."""

    def relink(match: re.Match) -> str:
        target = match.group(2)
        if re.match(r"^[a-z]+:|^#|^/", target):  # a URL, an anchor on this page, a file of the site
            return match.group(0)
        path = target.split("#")[0]
        if path.startswith("notebooks/") and path.endswith(".ipynb") or not (root / path).exists():
            return match.group(0)  # a page of the book, or a broken link, which Sphinx then reports
        kind = "tree" if (root / path).is_dir() else "blob"
        return f"{match.group(1)}{repository}/{kind}/main/{target}{match.group(3)}"

    page = LINK.sub(relink, local_badges(readme))
    entries = "\n".join(f"notebooks/{path.stem}" for path in notebooks)
    toctree = f"\n\n```{{toctree}}\n:hidden:\n:caption: The notebooks\n:maxdepth: 1\n\n{entries}\n```\n"
    return page.rstrip("\n") + toctree


def stage(source: Path, root: Path = ROOT) -> list[Path]:
    """Write the book's sources into `source` (emptied first); return the notebooks staged."""
    if source.exists():
        shutil.rmtree(source)
    (source / "notebooks").mkdir(parents=True)
    notebooks = course_notebooks(root)
    if not notebooks:
        raise SystemExit(f"no notebooks match {root / 'notebooks' / NOTEBOOK_PATTERN}")
    for path in notebooks:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        staged = json.dumps(stage_notebook(notebook), ensure_ascii=False, indent=1)
        (source / "notebooks" / path.name).write_text(staged, encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    (source / "index.md").write_text(landing_page(readme, notebooks, root, repository_url()), encoding="utf-8")
    shutil.copytree(SITE_CONFIG / "badges", source / "_badges")
    return notebooks


def build(out: Path, jobs: str = "1", root: Path = ROOT) -> Path:
    """Stage and build; return the folder of the HTML pages (out/html). Raises on any warning."""
    source, pages, doctrees = out / "src", out / "html", out / "doctrees"
    for folder in (pages, doctrees):  # every build is a full build from the stored notebooks
        if folder.exists():
            shutil.rmtree(folder)
    stage(source, root)
    command = [
        sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-j", jobs,
        "-c", str(SITE_CONFIG), "-d", str(doctrees), str(source), str(pages),
    ]
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    subprocess.run(command, check=True, env=env)
    for source_map in pages.glob("_static/**/*.map"):  # the theme's source maps: for its developers only
        source_map.unlink()
    (pages / ".nojekyll").touch()  # GitHub Pages: serve _static/ and _images/ as they are
    return pages


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site", help="build folder (default build/site)")
    parser.add_argument("--jobs", default="1", help="Sphinx's -j: processes to read pages with (default 1)")
    parser.add_argument(
        "--requirements", action="store_true",
        help="print what the build needs (the `site` extra), one per line, and exit; the build needs no torch",
    )
    args = parser.parse_args(argv)
    if args.requirements:
        print("\n".join(project_table()["optional-dependencies"]["site"]))
        return 0
    started = time.monotonic()
    try:
        pages = build(args.out.resolve(), args.jobs)
    except subprocess.CalledProcessError as error:
        print(f"site: Sphinx failed (exit {error.returncode}); every warning above is an error", file=sys.stderr)
        return 1
    n_pages = len(list(pages.rglob("*.html")))
    print(
        f"site: {n_pages} HTML pages, {folder_size(pages) / 1e6:.1f} MB in {pages} "
        f"(built in {time.monotonic() - started:.0f} s); open {pages / 'index.html'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
