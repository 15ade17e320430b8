# Everyday commands. `make demo` and `make test` work on a fresh machine.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install demo test lint typecheck imports pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Build the GD-2020 demo ledger in ./ledger.db (SQLite) and verify it.
demo: $(STAMP)
	$(BIN)/fundledger demo --fresh
	$(BIN)/fundledger verify

## Lint, type-check, import direction, then every test on SQLite and PostgreSQL.
test: lint typecheck imports pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy ledger projections audit api

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python scripts/bench_append.py

clean:
	rm -rf $(VENV) ledger.db *.egg-info .mypy_cache .ruff_cache .hypothesis
