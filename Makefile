# backup-guard — entry points. `make test` works on a fresh machine with only Rust and Python:
# it creates the project venv (pinned moto and tools) before anything needs it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
CARGO ?= cargo
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv fmt-check clippy unit test demo build bench deploy lint clean-venv

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt
	@echo "==> creating $(VENV) with pinned Python tools (requirements-dev.txt)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV_STAMP) ## Create the project venv (moto server, linters, cargo-lambda)

fmt-check: ## cargo fmt --check
	$(CARGO) fmt --all -- --check

clippy: ## cargo clippy, warnings are errors
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit: venv ## All Rust tests (unit, property, local-account integration)
	$(CARGO) test --workspace --locked

test: venv fmt-check clippy unit ## Everything CI runs
	@echo "==> make test: all checks passed"

demo: ## (filled by the demo issue)
	@echo "make demo is not built yet" >&2; exit 1

build: ## (filled by the template issue)
	@echo "make build is not built yet" >&2; exit 1

bench: ## (filled by the benchmark issue)
	@echo "make bench is not built yet" >&2; exit 1

clean-venv: ## Remove the project venv
	rm -rf $(VENV)
