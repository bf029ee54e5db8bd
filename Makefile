# Two commands on a fresh machine:  `make example`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0

.PHONY: venv example test test-clients lint bench m4peers bench-m4 clean

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
	$(BIN)/ruff check tsforecast tests examples benchmarks
	$(BIN)/ruff format --check tsforecast tests examples benchmarks
	$(BIN)/lint-imports

bench: venv
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m benchmarks

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
