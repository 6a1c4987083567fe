# sloforge — run `make help` for the targets.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
SLOFORGE := $(VENV)/bin/sloforge
STAMP := $(VENV)/.installed-stamp
TOOLS_STAMP := tools/.stamp
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup tools generate test test-fast lint check dist bench fuzz golden clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(TOOLS_STAMP): scripts/install-tools.sh
	bash scripts/install-tools.sh --current
	mkdir -p tools && touch $(TOOLS_STAMP)

setup: $(STAMP) $(TOOLS_STAMP) ## Virtual environment, Python dependencies, promtool/amtool/prometheus/alertmanager

tools: ## Reinstall/refresh promtool and amtool (Debian stable, plus current 3.x into tools/)
	bash scripts/install-tools.sh --current
	mkdir -p tools && touch $(TOOLS_STAMP)

generate: $(STAMP) ## Compile the example slo/ into out/
	$(SLOFORGE) generate slo --out out

test: setup ## promtool/amtool checks of out/, then the pytest suite
	$(SLOFORGE) test --out out
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## Unit and golden tests only: no promtool, amtool or server runs (under 2 minutes)
	SLOFORGE_FAST=1 $(PY) -m pytest -m "not slow" -q $(PYTEST_ARGS)

check: $(STAMP) ## Fail when out/ is not what `make generate` would write
	$(SLOFORGE) check slo --out out

lint: $(STAMP) ## ruff and mypy on the code, sloforge lint on the example
	$(VENV)/bin/ruff check generator tests
	$(VENV)/bin/ruff format --check generator tests
	$(VENV)/bin/mypy generator/sloforge
	$(PY) -m pytest -q -p no:cacheprovider tests/test_architecture.py
	$(SLOFORGE) lint slo

dist: $(STAMP) ## Build the sdist and wheel into dist/ (templates and starter files inside)
	rm -rf dist
	$(PY) -m build --outdir dist .

golden: $(STAMP) ## Refresh the golden files under tests/golden after an intended change
	SLOFORGE_UPDATE_GOLDEN=1 $(PY) -m pytest tests/test_golden.py -q

FUZZ_EXAMPLES ?= 2000
fuzz: setup ## Long fuzzing campaign (FUZZ_EXAMPLES per property), figures in bench/fuzz-results.json
	SLOFORGE_FUZZ=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_fuzz.py tests/test_salvage.py -q -s -p no:cacheprovider

bench: setup ## Benchmarks (bench/), writes bench/results.json
	$(PY) bench/run.py

clean: ## Remove the virtual environment, downloaded tools and dist/
	rm -rf $(VENV) tools dist build
