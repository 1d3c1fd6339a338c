# The course's commands. `make test` and `make lab` do all the set-up on a fresh machine.
#
#   make test     create .venv if missing, install everything, lint, run every test and every notebook (nbval)
#   make lab      the same set-up, then JupyterLab on notebooks/00_start_here.ipynb
#   make course   execute every notebook in order, headless, rewriting its stored outputs
#   make sync     bring every Jupytext pair (.ipynb <-> .py) in line
#   make export   write the package llm_course/ from the notebooks (nbdev's exporter)
#   make lint     ruff over the package, the tests, the tools and the notebooks' .py side
#   make bench    the benchmarks (installs their peers: tiktoken, tokenizers, transformers)
#   make site     the course as a website, from the stored notebooks: build/site/html/index.html

PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
# PyTorch is installed first and on its own. The default pin takes the CPU build that lies on
# this course's build machines; elsewhere override it, for example
#   make test TORCH_SPEC='torch' PIP_TORCH_ARGS='--index-url https://download.pytorch.org/whl/cpu'
# The package itself only asks for torch>=2.3, so Colab's preinstalled torch satisfies it.
TORCH_SPEC     ?= torch==2.13.0
PIP_TORCH_ARGS ?=
STAMP       := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
SITE_STAMP  := $(VENV)/.installed-site
NOTEBOOKS   := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install test check nbval lab course sync export lint bench site clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml changes: a second `make test` installs nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install $(PIP_TORCH_ARGS) '$(TORCH_SPEC)'
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

install: $(STAMP)

test: $(STAMP)
	$(MAKE) lint
	$(MAKE) check
	$(MAKE) nbval

check: $(STAMP)
	$(BIN)/python -m pytest tests --durations=10

nbval: $(STAMP)
	$(BIN)/python -m pytest -p no:randomly --nbval --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg $(NOTEBOOKS)

lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,) notebooks/00_start_here.ipynb

course: $(STAMP)
	$(BIN)/python tools/run_course.py $(NOTEBOOKS)
	$(MAKE) sync

sync: $(STAMP)
	$(BIN)/jupytext --sync $(NOTEBOOKS)

export: $(STAMP)
	$(BIN)/python tools/export_notebooks.py

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard llm_course tests tools benchmarks notebooks solutions site conftest.py)

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -e '.[dev,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bpe_training.py
	$(BIN)/python benchmarks/train_speed.py
	$(BIN)/python benchmarks/gpt2_tokenizer.py

# The website needs neither torch nor the package: only the `site` extra of pyproject.toml.
$(SITE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python tools/build_site.py --requirements > $(VENV)/site-requirements.txt
	$(BIN)/python -m pip install -r $(VENV)/site-requirements.txt
	touch $@

site: $(SITE_STAMP)
	$(BIN)/python tools/build_site.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache notebooks/runs build/site
