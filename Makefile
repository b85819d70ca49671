# leaklab: `make` (or `make help`) lists every target with what it does.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODE ?= leaky

.PHONY: help
help:  ## list the targets and what they do (in colour on a terminal, unless NO_COLOR is set)
	@echo "leaklab: a memory-leak lab. Usage: make TARGET [VAR=value]"
	@on=""; off=""; if [ -t 1 ] && [ -z "$${NO_COLOR:-}" ]; then on=$$'\033[36m'; off=$$'\033[0m'; fi; \
	grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' -v on="$$on" -v off="$$off" '{printf "  %s%-14s%s %s\n", on, $$1, off, $$2}'

# requirements.lock pins every Python package the tests, the lab and the images run, for every Python
# from 3.11 on (uv resolves it). make setup installs exactly those versions, the installer and the build
# backend included; only make lock / make upgrade change them (below).
LOCK := requirements.lock

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "leaklab needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV) || { echo "could not create $(VENV): on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) pip
	PIP_CONSTRAINT=$(CURDIR)/$(LOCK) $(BIN)/python -m pip install --quiet --editable '.[dev]'
	@touch $(STAMP)

.PHONY: setup
setup: $(STAMP)  ## create .venv and install leaklab with its dev tools, at requirements.lock's versions (idempotent)

# Each image's requirements.in names what it installs; its requirements.txt pins those and all they pull
# in to the lock's versions, so the images run what the tests ran.
IMAGE_REQUIREMENTS := services/api/requirements.in services/api/requirements-attach.in locustfiles/requirements.in
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --annotation-style line --python-version 3.11 --custom-compile-command 'make lock'

# $(call compile_lock,UV FLAGS): the lock from pyproject.toml (plus pip and the build backend), then the
# image pins from the lock, then .venv reinstalled from it.
define compile_lock
	$(UV_COMPILE) $(1) --extra dev pyproject.toml <(printf 'pip\nhatchling>=1.25,<2\n') -o $(LOCK)
	@sed -i 's|-r /dev/fd/[0-9]*|make setup (the installer and the build backend)|' $(LOCK)
	@for in in $(IMAGE_REQUIREMENTS); do $(UV_COMPILE) --constraint $(LOCK) "$$in" -o "$${in%.in}.txt" || exit 1; done
	@$(MAKE) --no-print-directory --always-make setup
	@echo "lock: $(LOCK) and the image pins agree; git diff shows what moved, make test checks it"
endef

.PHONY: lock
lock: $(STAMP)  ## after editing pyproject.toml: re-resolve requirements.lock (keeping every pin it can) and the image pins
	$(call compile_lock,)

.PHONY: upgrade
upgrade: $(STAMP)  ## move requirements.lock and the image pins to the newest releases pyproject.toml allows (then make test)
	$(call compile_lock,--upgrade)

.PHONY: lint
lint: $(STAMP)  ## ruff (lint + format check) and mypy on the code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: format
format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# command:Debian package. Each target installs only what it starts: the local lab needs redis-server (its
# redis mode), the benchmarks add wrk and Node.js (the story's server), the tests need all of them
# and Chromium (the report, opened in a real browser), plus Docker and debootstrap for the Compose stack test
# (an engine of its own, stand-in images built from Debian packages), and gdb and lldb-19 for memray's live
# attach (lldb when gdb cannot: Debian 12's gdb fails on CPUs with AMX; lldb-19 attaches on Debian 12 and 13).
LAB_PACKAGES := redis-server:redis-server
BENCH_PACKAGES := $(LAB_PACKAGES) wrk:wrk node:nodejs npm:npm
ATTACH_PACKAGES := gdb:gdb lldb-19:lldb-19
TEST_PACKAGES := $(BENCH_PACKAGES) promtool:prometheus prometheus:prometheus \
	prometheus-redis-exporter:prometheus-redis-exporter chromium:chromium $(ATTACH_PACKAGES) \
	docker:docker.io debootstrap:debootstrap

# $(call install_missing,PAIRS,WHAT HAPPENS MEANWHILE,ON FAILURE): apt-get install the packages whose command is
# missing, as root or with passwordless sudo; otherwise print one line naming them and the command to run.
define install_missing
	@missing=""; for pair in $(1); do \
	  command -v "$${pair%%:*}" >/dev/null || case " $$missing " in *" $${pair##*:} "*) ;; *) missing="$$missing $${pair##*:}";; esac; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	hint="missing system packages:$$missing. Install them with: sudo apt-get install$$missing ($(2))"; \
	command -v apt-get >/dev/null || { echo "missing:$$missing (no apt-get here: install them with your package manager; $(2))"; exit 0; }; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; \
	else echo "$$hint"; exit 0; fi; \
	echo "installing:$$missing (apt-get, once)"; \
	{ $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends$$missing >/dev/null; } \
	  || { echo "could not install:$$missing. $$hint"; $(3); }
endef

.PHONY: deps
deps:  ## install every system package the tests start for real, when missing (apt-get, as root or with sudo)
	$(call install_missing,$(TEST_PACKAGES),the tests that need them are skipped meanwhile; in CI a skip fails the run,exit 1)

.PHONY: deps-lab
deps-lab:  ## install what the local lab starts (redis-server for the redis mode), when missing
	$(call install_missing,$(LAB_PACKAGES),the lab runs the modes it can without them,exit 0)

.PHONY: deps-attach
deps-attach:  ## install what make attach needs (gdb, and lldb-19 for when gdb cannot attach), when missing
	$(call install_missing,$(ATTACH_PACKAGES),attaching is refused with the reason until then,exit 0)

.PHONY: deps-bench
deps-bench:  ## install what make bench starts (redis-server, wrk, Node.js for the story's server), when missing
	$(call install_missing,$(BENCH_PACKAGES),the benchmarks measure what they can without them,exit 0)

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
profile: $(STAMP) deps-lab  ## memray flame graph + the top allocating line under load: make profile MODE=leaky [DURATION=20s]
	$(BIN)/leaklab profile --mode $(MODE) --duration $(or $(DURATION),20s)

# --- Live attach: memray on the running API, no restart (sys.remote_exec, gdb or lldb does the attaching) ---------
ATTACH_ARGS ?=

.PHONY: attach
attach: $(STAMP) deps-attach  ## memray attached to the running API, no restart: make attach PORT=8000 (or PID=N) [DURATION=20s] [NATIVE=1] [METHOD=gdb|lldb]
	$(BIN)/leaklab attach $(if $(PID),--pid $(PID),--port $(or $(PORT),8000)) --duration $(or $(DURATION),20s) $(if $(NATIVE),--native) $(if $(METHOD),--method $(METHOD)) $(ATTACH_ARGS)

.PHONY: lab-attach
lab-attach: lab-check lab-env  ## Compose lab, opt-in: api with SYS_PTRACE + memray, gdb, lldb (compose.attach.yaml), then attach [DURATION=20s] [NATIVE=1] [METHOD=gdb|lldb]
	@echo "lab: recreating only the api with compose.attach.yaml (adds SYS_PTRACE and memray, gdb and lldb to the api alone)"
	$(COMPOSE) -f compose.yaml -f compose.attach.yaml up -d --build --wait api
	$(BIN)/leaklab attach --compose --duration $(or $(DURATION),20s) $(if $(NATIVE),--native) $(if $(METHOD),--method $(METHOD)) $(ATTACH_ARGS)

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
demo: $(STAMP) deps-lab  ## local lab, no Docker: leaky vs lru vs redis, same load and memory limit (~3 min), report in reports/demo
	$(BIN)/leaklab compare --out reports/demo $(DEMO_ARGS)

.PHONY: run
run: $(STAMP) deps-lab  ## local lab, one mode with a live view and a report: make run MODE=leaky [RUN_ARGS='--duration 2m --web']
	$(BIN)/leaklab run --mode $(MODE) $(RUN_ARGS)

# --- Compose lab (Docker): compose.yaml, prometheus/, grafana/, locustfiles/ ---------------------------------------
COMPOSE ?= docker compose
# Seconds `make lab-*` waits for every healthcheck before it names the service that failed.
LAB_WAIT_TIMEOUT ?= 300
# Services to start (default: all of compose.yaml), e.g. LAB_SERVICES='api redis prometheus'.
LAB_SERVICES ?=
# status, logs and down need no Grafana password: compose.yaml requires one only to create Grafana.
LAB_NO_SECRET = GRAFANA_ADMIN_PASSWORD="$${GRAFANA_ADMIN_PASSWORD:-not-needed-to-$@}"
LAB_PORT = $$( (grep -E '^$(1)=' .env 2>/dev/null || echo "=$(2)") | tail -n1 | cut -d= -f2)

BENCH_ARGS ?=

.PHONY: bench
bench: $(STAMP) deps-bench  ## each mode vs the story's Node.js server and the ceilings; updates BENCHMARKS.md [BENCH_ARGS=...]
	$(BIN)/leaklab bench --markdown BENCHMARKS.md $(BENCH_ARGS)

.PHONY: verdict-bench
verdict-bench: $(STAMP)  ## score the verdict and three baselines on the labelled corpus (seconds); updates BENCHMARKS.md
	$(BIN)/leaklab judge --bench --markdown BENCHMARKS.md

.PHONY: verdict-corpus
verdict-corpus: $(STAMP) deps-lab  ## record the corpus' catalogue runs anew (~30 min of load), kept compact in leaklab/judge/corpus/recorded/
	$(BIN)/python -m leaklab.judge.corpus.compact --record

.PHONY: lab-check
lab-check:  ## check that Docker and Compose v2 are there (the lab-* targets do it first)
	@command -v docker >/dev/null 2>&1 || { echo "lab: Docker is not installed. The Compose lab needs Docker Engine or Docker Desktop with Compose v2 (https://docs.docker.com/get-docker/). Without Docker, run the same lab as local processes: make demo"; exit 1; }
	@$(COMPOSE) version >/dev/null 2>&1 || { echo "lab: '$(COMPOSE)' (Compose v2) is missing: install the Compose plugin (Debian/Ubuntu: apt-get install docker-compose-plugin; the old docker-compose v1 is not supported). Without it, run the local lab: make demo"; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "lab: the Docker engine is not running or not reachable ('docker info' failed): start it, or run the local lab: make demo"; exit 1; }

.PHONY: lab-env
lab-env:
	@test -f .env || { install -m 600 .env.example .env && echo "lab: created .env from .env.example (every tunable of the lab is there)"; }
	@if ! grep -qE '^GRAFANA_ADMIN_PASSWORD=.+' .env; then \
	  pw=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(18))') || exit 1; \
	  if grep -q '^GRAFANA_ADMIN_PASSWORD=' .env; then \
	    sed -i.bak "s|^GRAFANA_ADMIN_PASSWORD=.*|GRAFANA_ADMIN_PASSWORD=$$pw|" .env && rm -f .env.bak; \
	  else echo "GRAFANA_ADMIN_PASSWORD=$$pw" >> .env; fi; \
	  echo "lab: wrote a random Grafana admin password to .env (GRAFANA_ADMIN_PASSWORD, user admin)"; \
	fi

# SCENARIO=name (make lab-leaky SCENARIO=tasks): a leak of the catalogue (docs/leaks.md) beside the lru
# cache; lab-fixed then runs it with its fix (LEAKLAB_SCENARIO_FIXED=true).
SCENARIO ?=
lab_mode = $(if $(filter-out cache,$(SCENARIO)),lru,$(1))
lab_scenario = LEAKLAB_SCENARIO=$(or $(SCENARIO),cache) LEAKLAB_SCENARIO_FIXED=$(if $(SCENARIO),$(1),false)

# $(call lab_up,MODE[,FIXED]): build, start and wait (at most LAB_WAIT_TIMEOUT s) until every healthcheck
# passes; otherwise name each service that is not running and healthy, with its last log lines.
define lab_up
	@echo "lab: starting the stack with LEAKLAB_CACHE_MODE=$(1) $(call lab_scenario,$(or $(2),false)) (the first run builds 2 images and pulls 5)"
	@LEAKLAB_CACHE_MODE=$(1) $(call lab_scenario,$(or $(2),false)) $(COMPOSE) up -d --build --wait --wait-timeout $(LAB_WAIT_TIMEOUT) --remove-orphans $(LAB_SERVICES) || { \
	  echo "lab: the stack did not become healthy within $(LAB_WAIT_TIMEOUT) s"; \
	  $(COMPOSE) ps --all --format '{{.Service}} {{.State}} {{.Health}}' | sort -u | while read -r service state health; do \
	    case "$$state/$$health" in running/healthy|running/) continue;; esac; \
	    echo "lab: $$service is $$state$${health:+ ($$health)}; its last log lines:"; \
	    $(COMPOSE) logs --no-color --tail=15 "$$service" 2>&1 | sed 's/^/    /'; \
	  done; \
	  echo "lab: fix the setting named above (in .env), then run the same make target again; make lab-down stops it"; \
	  exit 1; }
	@$(MAKE) --no-print-directory lab-urls
endef

.PHONY: lab-leaky
lab-leaky: lab-check lab-env  ## Compose lab, leaky cache: press Start in Locust, watch memory hit the limit and the OOM kill
	$(call lab_up,$(call lab_mode,leaky))

.PHONY: lab-fixed
lab-fixed: lab-check lab-env  ## Compose lab, the fix with Redis (maxmemory + allkeys-lru): same load, memory flat
	$(call lab_up,$(call lab_mode,redis),true)

.PHONY: lab-lru
lab-lru: lab-check lab-env  ## Compose lab, the story's fix: a bounded in-process LRU (50 entries)
	$(call lab_up,lru)

.PHONY: lab-urls
lab-urls:
	@echo "leaklab Compose lab is up:"
	@echo "  Locust      http://127.0.0.1:$(call LAB_PORT,LOCUST_PORT,8089)   press Start (users, spawn rate and host are filled in)"
	@echo "  Grafana     http://127.0.0.1:$(call LAB_PORT,GRAFANA_PORT,3000)/d/leaklab/?var-locust_port=$(call LAB_PORT,LOCUST_PORT,8089)&var-prometheus_port=$(call LAB_PORT,PROMETHEUS_PORT,9090)   the lab dashboard (anonymous, read-only; admin password in .env)"
	@echo "  Prometheus  http://127.0.0.1:$(call LAB_PORT,PROMETHEUS_PORT,9090)   targets and alerts (/targets, /alerts)"
	@echo "  API         http://127.0.0.1:$(call LAB_PORT,API_PORT,8000)   /data, /metrics, /debug/memory"

.PHONY: lab-status
lab-status: lab-check  ## Compose lab: health of every service, and the URLs
	@$(LAB_NO_SECRET) $(COMPOSE) ps --all
	@$(MAKE) --no-print-directory lab-urls

.PHONY: lab-logs
lab-logs: lab-check  ## Compose lab: follow the logs (one service: make lab-logs SERVICE=api)
	@$(LAB_NO_SECRET) $(COMPOSE) logs --follow --tail=100 $(SERVICE)

.PHONY: lab-down
lab-down: lab-check  ## Compose lab: stop it and remove its containers and volumes (Prometheus and Grafana data)
	$(LAB_NO_SECRET) $(COMPOSE) down --volumes --remove-orphans

# --- Reliability: fuzzing (schemathesis), fault matrix, adversarial traffic, soak --------------------------------
FUZZ_EXAMPLES ?= 300

.PHONY: fuzz
fuzz: $(STAMP) deps-lab  ## schemathesis on every API operation in every cache mode, FUZZ_EXAMPLES per operation (default 300)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/reliability/test_fuzz_api.py -s -q

SOAK_ARGS ?=

.PHONY: soak
soak: $(STAMP) deps-lab  ## the fixed modes under sustained load (10 min each), pass criteria per mode; updates RELIABILITY.md [SOAK_ARGS=...]
	$(BIN)/leaklab soak --markdown RELIABILITY.md $(SOAK_ARGS)

# --- The leak catalogue (docs/leaks.md) -------------------------------------------------------------------------------
CATALOGUE_ARGS ?=

.PHONY: catalogue
catalogue: $(STAMP)  ## the leak catalogue: every scenario leaky then fixed, same load and limit (~12 min), report in reports/catalogue
	$(BIN)/leaklab compare --scenarios all --duration $(or $(DURATION),30s) --out reports/catalogue $(CATALOGUE_ARGS)
