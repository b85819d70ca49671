# leaklab: `make` (or `make help`) lists every target with what it does.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODE ?= leaky

.PHONY: help
help:  ## list the targets and what they do
	@echo "leaklab: a memory-leak lab. Usage: make TARGET [VAR=value]"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "leaklab needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV) || { echo "could not create $(VENV): on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.PHONY: setup
setup: $(STAMP)  ## create .venv and install leaklab with its dev tools (idempotent)

.PHONY: lint
lint: $(STAMP)  ## ruff (lint + format check) and mypy on the code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: format
format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: test
test: lint  ## lint, then the whole test suite against real redis-server, API, Locust and Prometheus
	$(BIN)/pytest $(PYTEST_ARGS)

.PHONY: api
api: $(STAMP)  ## run the API in the foreground: make api MODE=leaky|lru|redis
	$(BIN)/leaklab api --mode $(MODE)
