"""llm_course: the package the course's notebooks write.

Every module here except this file is generated from a notebook by `make export` (nbdev's
exporter); its first lines name the notebook to edit. See notebooks/00_start_here.ipynb for the
map of notebooks and modules.
"""

__version__ = "0.1.0"
