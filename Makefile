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

.PHONY: help venv browser fmt-check clippy unit test demo build bench fuzz deploy lint clean-venv

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt
	@echo "==> creating $(VENV) with pinned Python tools (requirements-dev.txt)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV_STAMP) ## Create the project venv (moto server, linters, cargo-lambda)

browser: ## Install Debian's Chromium (/usr/bin/chromium) for the evidence report's browser test; no-op if present
	bash scripts/install-browser.sh

fmt-check: ## cargo fmt --check
	$(CARGO) fmt --all -- --check

clippy: ## cargo clippy, warnings are errors
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit: venv browser ## All Rust tests (unit, property, local-account integration)
	$(CARGO) test --workspace --locked

test: venv fmt-check clippy lint unit ## Everything CI runs
	@echo "==> make test: all checks passed"

demo: venv ## Local end-to-end demo: local account, both functions under cargo lambda watch, alerts, audit
	bash scripts/demo.sh

ENV ?= default
GUIDED ?=
SAM := SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam
TEMPLATE_VARIANTS := target/template-variants

lint: venv ## Template lint: cfn-lint, sam validate --lint, checkov (every branch, SAM-expanded roles), template tests (IAM grants vs the code's AWS operations)
	mkdir -p target
	$(CARGO) run -q --locked -p backup-guard-cli -- policy-defaults --vars > target/policy-defaults.json
	$(CARGO) run -q --locked -p backup-guard-cli -- iam-actions > target/iam-actions.json
	$(VENV)/bin/cfn-lint template.yaml
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint --template-file template.yaml
	$(VENV)/bin/checkov -f template.yaml
	$(VENV)/bin/python tests/template/render_variants.py $(TEMPLATE_VARIANTS)
	$(VENV)/bin/cfn-lint $(TEMPLATE_VARIANTS)/all-options.yaml $(TEMPLATE_VARIANTS)/sam-transformed.json
	$(VENV)/bin/checkov -d $(TEMPLATE_VARIANTS)
	BG_POLICY_DEFAULTS_JSON=target/policy-defaults.json BG_IAM_ACTIONS_JSON=target/iam-actions.json PYTHONDONTWRITEBYTECODE=1 $(VENV)/bin/pytest -q -p no:cacheprovider tests/template

build: venv ## sam build: arm64 bootstraps of both functions via cargo-lambda + zig (slow: release + LTO)
	$(SAM) build --config-env $(ENV)
	@ls -l .aws-sam/build/*/bootstrap

deploy: build ## sam deploy (ENV=default|prod); guided the first time, or with GUIDED=1
	@set -- $$($(VENV)/bin/python -c 'import sys, tomllib; g = tomllib.load(open("samconfig.toml", "rb"))[sys.argv[1]]["global"]["parameters"]; print(g["stack_name"], g["region"])' $(ENV)); \
	if [ -z "$(GUIDED)" ] && $(VENV)/bin/python -c 'import sys, boto3; boto3.client("cloudformation", region_name=sys.argv[2]).describe_stacks(StackName=sys.argv[1])' "$$1" "$$2" >/dev/null 2>&1; then \
	  echo "==> updating stack $$1 in $$2"; \
	  $(SAM) deploy --config-env $(ENV); \
	else \
	  echo "==> guided deploy of stack $$1 in $$2 (first deploy, or GUIDED=1)"; \
	  $(SAM) deploy --guided --config-env $(ENV); \
	fi

bench: venv ## Benchmarks -> docs/BENCHMARKS.md (release build, up to 10,000-table local account; ~25 min after the build; `make build` first adds arm64 sizes)
	$(CARGO) build --release --locked -p table-guard -p recovery-verifier -p backup-guard-bench
	$(CARGO) build --profile release-o3 --locked -p table-guard -p recovery-verifier
	$(CARGO) build --locked -p local-account --bins
	target/release/backup-guard-bench report --out docs/BENCHMARKS.md

FUZZ_ITERATIONS ?= 1000000
FUZZ_SEED ?= 20261201
FUZZ_AFL_SECONDS ?= 60

fuzz: ## Fuzz the event, plan and cron parsers: 1,000,000 inputs each, then AFL++ if cargo-afl is installed -> docs/FUZZING.md
	$(CARGO) build --locked --profile fuzz -p backup-guard-fuzz
	target/fuzz/backup-guard-fuzz --iterations $(FUZZ_ITERATIONS) --seed $(FUZZ_SEED) --report docs/FUZZING.md
	@if $(CARGO) afl --version >/dev/null 2>&1; then \
	  bash scripts/fuzz-afl.sh $(FUZZ_AFL_SECONDS) >> docs/FUZZING.md; \
	else \
	  printf '\n## Coverage-guided\n\nSkipped: cargo-afl is not installed (`cargo install cargo-afl`, stable toolchain).\n' >> docs/FUZZING.md; \
	  echo "==> cargo-afl not installed: coverage-guided run skipped"; \
	fi

clean-venv: ## Remove the project venv
	rm -rf $(VENV)
