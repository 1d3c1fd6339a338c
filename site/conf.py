"""Sphinx configuration of the course's website (`make site`; tools/build_site.py stages the sources).

The book is Sphinx with myst-nb (notebooks rendered from their stored outputs, never executed) and
sphinx-book-theme (left-hand table of contents, previous/next links, Binder and Colab launch
buttons). Everything a page needs is served from the built site itself: the theme's own scripts,
styles and fonts, and MathJax 3, copied from the `sphinx-mathjax-offline` package (MathJax's own
distribution files) into `_static/mathjax/`. No page loads anything from another host, so the
book reads offline, from a folder or from GitHub Pages.
"""

from __future__ import annotations

import shutil
from importlib.metadata import distribution
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
_PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
REPOSITORY = _PROJECT["urls"]["Repository"]  # https://github.com/OWNER/NAME

project = "llm-course"
author = _PROJECT["authors"][0]["name"]
copyright = f"{author}, MIT licence"
html_title = "llm-course: how a large language model works"

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
# A broken link, a missing image or an unknown cross-reference is a warning; tools/build_site.py
# runs sphinx-build with -W, so any of them fails the build.
nitpicky = True

# --- notebooks: the stored outputs, as they are ---------------------------------------------
nb_execution_mode = "off"  # nbval already guarantees the stored outputs
nb_merge_streams = True  # one block per cell for stdout, as JupyterLab shows it
nb_ipywidgets_js = {}  # no widget scripts from a CDN; tools/build_site.py renders widget snapshots
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # links to a notebook's sections, #like-this

# --- maths: MathJax 3, from the site itself ----------------------------------------------------
MATHJAX_SOURCE = Path(distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline/static/mathjax"))
# What MathJax's tex-chtml component loads: itself, the TeX packages it autoloads (\boldsymbol...),
# its CommonHTML fonts, and what its menu's accessibility options load (explorer, English speech
# and Nemeth braille rules; the other languages' speech rules, 3 MB, are left out).
MATHJAX_PARTS = [
    "tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y", "input/mml.js",
    "sre/mathmaps/base.json", "sre/mathmaps/en.json", "sre/mathmaps/nemeth.json",
]
mathjax_path = "mathjax/tex-chtml.js"  # relative to _static/
# MathJax 3's own defaults (fonts relative to the script); myst-parser adds the classes it typesets.
mathjax3_config = {"options": {}}

# --- theme -------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_static_path = ["static"]
html_css_files = ["course.css"]
html_last_updated_fmt = None
html_copy_source = False  # the notebooks are on GitHub; the site need not carry a second copy
html_show_sourcelink = False
_owner, _name = REPOSITORY.rstrip("/").split("/")[-2:]
html_baseurl = f"https://{_owner}.github.io/{_name}/"
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": "main",
    "path_to_docs": "",  # a page notebooks/NN_x is the repository's notebooks/NN_x.ipynb
    "use_repository_button": True,
    "use_download_button": False,  # it would offer the staged copy; the repository button leads to the original
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "show_navbar_depth": 1,
    "navigation_with_keys": False,
}


def copy_mathjax(app, exception) -> None:
    """After a successful HTML build, copy the parts of MathJax the pages load into _static/mathjax."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = MATHJAX_SOURCE / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)


def setup(app) -> None:
    app.connect("build-finished", copy_mathjax)
