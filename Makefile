# The two commands a newcomer needs: `make devnet` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test devnet bench lint typecheck unit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check common ctlog btcnode wallets tests bench
	$(BIN)/ruff format --check common ctlog btcnode wallets tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck unit

devnet: $(STAMP)
	$(BIN)/opentrust devnet --data-dir ./devnet-data

bench: $(STAMP)
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) devnet-data .mypy_cache .ruff_cache
