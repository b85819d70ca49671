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

# command:Debian package, for everything the tests start for real
SYSTEM_PACKAGES := redis-server:redis-server promtool:prometheus prometheus:prometheus \
	prometheus-redis-exporter:prometheus-redis-exporter wrk:wrk node:nodejs npm:npm \
	chromium:chromium gdb:gdb

.PHONY: deps
deps:  ## install the system packages the tests use, when missing (apt-get, as root or with sudo)
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair%%:*}" >/dev/null || case " $$missing " in *" $${pair##*:} "*) ;; *) missing="$$missing $${pair##*:}";; esac; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; \
	else echo "missing system packages:$$missing. Install them with: sudo apt-get install$$missing"; \
	     echo "(the tests that need them are skipped meanwhile; in CI a skip fails the run)"; exit 0; fi; \
	command -v apt-get >/dev/null || { echo "missing:$$missing (no apt-get here: use your package manager)"; exit 0; }; \
	echo "installing:$$missing"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends$$missing >/dev/null

.PHONY: test
test: deps lint  ## system packages, lint, then every test against real redis-server, API, Locust and Prometheus
	$(BIN)/pytest $(PYTEST_ARGS)

.PHONY: test-quick
test-quick: lint  ## the inner loop: lint, then the tests not marked slow (no load runs); make test runs all
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

.PHONY: api
api: $(STAMP)  ## run the API in the foreground: make api MODE=leaky|lru|redis
	$(BIN)/leaklab api --mode $(MODE)

.PHONY: profile
profile: $(STAMP)  ## memray flame graph + the top allocating line under load: make profile MODE=leaky [DURATION=20s]
	$(BIN)/leaklab profile --mode $(MODE) --duration $(or $(DURATION),20s)

# --- Live attach: memray on the running API, no restart (gdb does the attaching) -----------------------------------
ATTACH_ARGS ?=

.PHONY: attach
attach: $(STAMP)  ## memray attached to the running API, no restart: make attach PORT=8000 (or PID=N) [DURATION=20s] [NATIVE=1]
	$(BIN)/leaklab attach $(if $(PID),--pid $(PID),--port $(or $(PORT),8000)) --duration $(or $(DURATION),20s) $(if $(NATIVE),--native) $(ATTACH_ARGS)

.PHONY: lab-attach
lab-attach: lab-check lab-env  ## Compose lab, opt-in: api with SYS_PTRACE + gdb + memray (compose.attach.yaml), then attach [DURATION=20s] [NATIVE=1]
	@echo "lab: recreating only the api with compose.attach.yaml (adds SYS_PTRACE and gdb + memray to the api alone)"
	$(COMPOSE) -f compose.yaml -f compose.attach.yaml up -d --build --wait api
	$(BIN)/leaklab attach --compose --duration $(or $(DURATION),20s) $(if $(NATIVE),--native) $(ATTACH_ARGS)

# --- Incident drill: a hidden leak to find, graded (leaklab drill; answers from another terminal: make drill-answer) ---
DRILL_ARGS ?=

.PHONY: drill
drill: $(STAMP)  ## incident drill, local: a random hidden leak under load; answer file:line + python|native [SEED=N] [SCENARIO=name]
	$(BIN)/leaklab drill $(if $(SEED),--seed $(SEED)) $(if $(SCENARIO),--scenario $(SCENARIO)) $(DRILL_ARGS)

.PHONY: drill-answer
drill-answer: $(STAMP)  ## answer the running drill from another terminal: make drill-answer ANSWER='file.py:42 python' (or ANSWER=hint)
	$(BIN)/leaklab drill $(if $(filter hint,$(ANSWER)),hint,answer $(ANSWER))

.PHONY: lab-drill
lab-drill: lab-check lab-env  ## incident drill on the Compose lab: the api runs a hidden leak; Grafana and Prometheus to find it [SEED=N]
	$(BIN)/leaklab drill --compose $(if $(SEED),--seed $(SEED)) $(if $(SCENARIO),--scenario $(SCENARIO)) $(DRILL_ARGS)

# --- Local lab (no Docker): leaklab run / compare / report, the API in a memory cgroup of its own ------------------
DEMO_ARGS ?=
RUN_ARGS ?=

.PHONY: demo
demo: $(STAMP)  ## local lab, no Docker: leaky vs lru vs redis, same load and memory limit (~3 min), report in reports/demo
	$(BIN)/leaklab compare --out reports/demo $(DEMO_ARGS)

.PHONY: run
run: $(STAMP)  ## local lab, one mode with a live view and a report: make run MODE=leaky [RUN_ARGS='--duration 2m --web']
	$(BIN)/leaklab run --mode $(MODE) $(RUN_ARGS)

# --- Compose lab (Docker): compose.yaml, prometheus/, grafana/, locustfiles/ ---------------------------------------
COMPOSE ?= docker compose
LAB_PORT = $$( (grep -E '^$(1)=' .env 2>/dev/null || echo "=$(2)") | tail -n1 | cut -d= -f2)

BENCH_ARGS ?=

.PHONY: bench
bench: $(STAMP)  ## each mode vs the story's Node.js server and the ceilings; updates BENCHMARKS.md [BENCH_ARGS=...]
	$(BIN)/leaklab bench --markdown BENCHMARKS.md $(BENCH_ARGS)

.PHONY: lab-check
lab-check:  ## check that Docker and Compose v2 are there (the lab-* targets do it first)
	@command -v docker >/dev/null 2>&1 || { echo "lab: Docker is not installed. The Compose lab needs Docker Engine or Docker Desktop with Compose v2 (https://docs.docker.com/get-docker/). Without Docker, run the same lab as local processes: make demo"; exit 1; }
	@$(COMPOSE) version >/dev/null 2>&1 || { echo "lab: '$(COMPOSE)' (Compose v2) is missing: install the Compose plugin (Debian/Ubuntu: apt-get install docker-compose-plugin; the old docker-compose v1 is not supported). Without it, run the local lab: make demo"; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "lab: the Docker engine is not running or not reachable ('docker info' failed): start it, or run the local lab: make demo"; exit 1; }

.PHONY: lab-env
lab-env:
	@test -f .env || { cp .env.example .env && echo "lab: created .env from .env.example (every tunable of the lab is there)"; }
	@if ! grep -qE '^GRAFANA_ADMIN_PASSWORD=.+' .env; then \
	  pw=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(18))') || exit 1; \
	  if grep -q '^GRAFANA_ADMIN_PASSWORD=' .env; then \
	    sed -i.bak "s|^GRAFANA_ADMIN_PASSWORD=.*|GRAFANA_ADMIN_PASSWORD=$$pw|" .env && rm -f .env.bak; \
	  else echo "GRAFANA_ADMIN_PASSWORD=$$pw" >> .env; fi; \
	  echo "lab: wrote a random Grafana admin password to .env (GRAFANA_ADMIN_PASSWORD, user admin)"; \
	fi

# $(call lab_up,MODE): build, start and wait until every healthcheck passes.
define lab_up
	@echo "lab: starting the stack with LEAKLAB_CACHE_MODE=$(1) (the first run builds 2 images and pulls 5)"
	@LEAKLAB_CACHE_MODE=$(1) $(COMPOSE) up -d --build --wait --remove-orphans || { echo "lab: the stack did not become healthy: make lab-status, make lab-logs SERVICE=api"; exit 1; }
	@$(MAKE) --no-print-directory lab-urls
endef

.PHONY: lab-leaky
lab-leaky: lab-check lab-env  ## Compose lab, leaky cache: press Start in Locust, watch memory hit the limit and the OOM kill
	$(call lab_up,leaky)

.PHONY: lab-fixed
lab-fixed: lab-check lab-env  ## Compose lab, the fix with Redis (maxmemory + allkeys-lru): same load, memory flat
	$(call lab_up,redis)

.PHONY: lab-lru
lab-lru: lab-check lab-env  ## Compose lab, the story's fix: a bounded in-process LRU (50 entries)
	$(call lab_up,lru)

.PHONY: lab-urls
lab-urls:
	@echo "leaklab Compose lab is up:"
	@echo "  Locust      http://127.0.0.1:$(call LAB_PORT,LOCUST_PORT,8089)   press Start (users, spawn rate and host are filled in)"
	@echo "  Grafana     http://127.0.0.1:$(call LAB_PORT,GRAFANA_PORT,3000)   the lab dashboard (anonymous, read-only; admin password in .env)"
	@echo "  Prometheus  http://127.0.0.1:$(call LAB_PORT,PROMETHEUS_PORT,9090)   targets and alerts (/targets, /alerts)"
	@echo "  API         http://127.0.0.1:$(call LAB_PORT,API_PORT,8000)   /data, /metrics, /debug/memory"

.PHONY: lab-status
lab-status: lab-check  ## Compose lab: health of every service, and the URLs
	@$(COMPOSE) ps --all
	@$(MAKE) --no-print-directory lab-urls

.PHONY: lab-logs
lab-logs: lab-check  ## Compose lab: follow the logs (one service: make lab-logs SERVICE=api)
	$(COMPOSE) logs --follow --tail=100 $(SERVICE)

.PHONY: lab-down
lab-down: lab-check  ## Compose lab: stop it and remove its containers and volumes (Prometheus and Grafana data)
	$(COMPOSE) down --volumes --remove-orphans
