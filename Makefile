# The two commands: `make run` (embedded defaults, no server needed) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYFORGE_HOST ?= 127.0.0.1
PYFORGE_PORT ?= 8000
PYFORGE_DATA_DIR ?= ./.pyforge-data
export PYFORGE_HOST PYFORGE_PORT PYFORGE_DATA_DIR

.PHONY: run test lint bench venv migrate clean

$(STAMP): packages/forgekit/pyproject.toml packages/pyforge/pyproject.toml requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e packages/forgekit -e packages/pyforge -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: $(STAMP)
	$(BIN)/pyforge migrate

run: $(STAMP)
	$(BIN)/pyforge migrate
	$(BIN)/pyforge serve

test: $(STAMP)
	$(BIN)/python -m pytest packages/forgekit/tests packages/pyforge/tests

lint: $(STAMP)
	$(BIN)/ruff check packages bench
	$(BIN)/mypy packages/forgekit/src packages/pyforge/src

bench: $(STAMP)
	$(BIN)/python bench/analysis.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/service.py

clean:
	rm -rf $(VENV) .pyforge-data .pytest_cache .mypy_cache .ruff_cache
