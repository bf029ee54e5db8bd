# Two commands on a fresh machine:  `make example`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0

.PHONY: venv example test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Torch first: with the pin satisfied, the package install below pulls no CUDA build.
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev,plot,dask]"
	touch $@

venv: $(BIN)/.installed

example: venv
	$(BIN)/python examples/stock_forecast.py

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check tsforecast tests examples benchmarks
	$(BIN)/ruff format --check tsforecast tests examples benchmarks

bench: venv
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
