# Two commands on a fresh machine:  `make example`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0

.PHONY: venv example test test-clients lint bench docs docs-test m4peers bench-m4 clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Torch first: with the pin satisfied, the package install below pulls no CUDA build.
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev,plot,arch,onnx,mlflow,dask]"
	touch $@

venv: $(BIN)/.installed

example: venv
	$(BIN)/python examples/stock_forecast.py

# One pytest-xdist worker per core (at most 8); tests/conftest.py gives each one torch thread.
test: venv
	$(BIN)/python -m pytest -n auto --maxprocesses=8 --dist worksteal

# skforecast needs pandas < 3: the client libraries get their own environment, never the
# project's pins. tests/clients/ runs only here (the main run does not collect it).
CLIENTS := .venv-clients/bin

$(CLIENTS)/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-clients
	$(CLIENTS)/python -m pip install --quiet --upgrade pip
	$(CLIENTS)/python -m pip install --quiet "$(TORCH)"
	$(CLIENTS)/python -m pip install --quiet -e ".[dev,clients]"
	touch $@

test-clients: $(CLIENTS)/.installed
	$(CLIENTS)/python -m pytest -o addopts=-ra tests/clients

# ruff, then the layering contracts of pyproject.toml ([tool.importlinter]).
lint: venv
	$(BIN)/ruff check tsforecast tests examples benchmarks docs README.md
	$(BIN)/ruff format --check tsforecast tests examples benchmarks docs README.md
	$(BIN)/lint-imports

bench: venv
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m benchmarks

# The site under docs/_build/html: warnings are errors, every cross-reference must resolve.
$(BIN)/.docs-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

# The gallery runs every example with TSFORECAST_DOCS_FAST=1 (short training, docs/_gallery.py).
docs: $(BIN)/.docs-installed
	OMP_NUM_THREADS=1 $(BIN)/python -m sphinx -W --keep-going -n -b html docs docs/_build/html

# The built site (`make docs` first) in Debian's chromium, driven by Playwright: home page, an
# API page, the search and a gallery page, without console errors. Here a missing site or
# browser fails the test instead of skipping it. Screenshots: docs/_build/browser/.
docs-test: $(BIN)/.docs-installed
	TSFORECAST_DOCS_TEST=required $(BIN)/python -m pytest -n 0 tests/test_docs_browser.py

# M4 benchmark: statsforecast and neuralforecast pin pandas < 3, so they get their own
# environment; the benchmark runs each peer there in a process of its own.
M4PEERS := .venv-m4peers/bin
M4DATA  ?= ../shared/data/m4

$(M4PEERS)/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-m4peers
	$(M4PEERS)/python -m pip install --quiet --upgrade pip
	$(M4PEERS)/python -m pip install --quiet "$(TORCH)"
	$(M4PEERS)/python -m pip install --quiet -e ".[m4peers]"
	touch $@

m4peers: $(M4PEERS)/.installed

bench-m4: venv m4peers
	$(BIN)/python -m benchmarks --only m4 --data $(M4DATA)

clean:
	rm -rf $(VENV) .venv-clients .venv-m4peers build *.egg-info .pytest_cache .hypothesis
