"""llm_course: the package the course's notebooks write.

Every module here except this file is generated from a notebook by `make export` (nbdev's
exporter); its first lines name the notebook to edit. See notebooks/00_start_here.ipynb for the
map of notebooks and modules.
"""

__version__ = "0.1.0"

# PyTorch starts a thread per core it sees, even in a container allowed less CPU time than that
# (Binder): lower its threads to the container's limit, unless OMP_NUM_THREADS says otherwise.
# The function is written by notebook 00 (llm_course.environment).
from llm_course.environment import fit_threads_to_cpu_limit as _fit_threads_to_cpu_limit  # noqa: E402

_fit_threads_to_cpu_limit()
