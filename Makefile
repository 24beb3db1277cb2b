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

.PHONY: help venv browser fmt-check clippy unit test test-build test-run demo build bench fuzz deploy lint lint-checks cli clean-venv

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt requirements-model.txt scripts/botocore-backup-model.py
	@echo "==> creating $(VENV) with pinned Python tools (requirements-dev.txt)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/python scripts/botocore-backup-model.py requirements-model.txt $(VENV)/share/botocore-backup
	touch $@

venv: $(VENV_STAMP) ## Create the project venv (moto server, linters, cargo-lambda; AWS Backup API model for the stand-in check)

browser: ## Install Debian's Chromium (/usr/bin/chromium) for the evidence report's browser test; no-op if present
	bash scripts/install-browser.sh

fmt-check: ## cargo fmt --check
	$(CARGO) fmt --all -- --check

clippy: ## cargo clippy, warnings are errors (make test runs the same lints inside its one build)
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit: venv browser ## All Rust tests (unit, property, local-account integration)
	$(CARGO) test --workspace --locked

# `make test` in two stages, so that neither core waits on a step that leaves it idle:
# 1. every test binary and the CLI are compiled once (both cores), with clippy's lints: cargo
#    runs the workspace's own crates through clippy-driver (RUSTC_WORKSPACE_WRAPPER, what
#    `cargo clippy` itself does) and RUSTFLAGS="-D warnings" makes every lint an error, so the
#    dependencies are not compiled a second time for a separate `cargo clippy` check (a third of
#    a fresh run's CPU on 2 cores). Beside it: the venv installs (pip: downloads and unpacking),
#    Chromium is checked, fmt checks the code.
# 2. the test binaries run two at a time, the two long fault-matrix binaries first
#    (scripts/run-tests.py: they mostly wait on timeouts and moto), while the template checks
#    run beside them at the lowest CPU priority (`nice -n 19`), so the timing-sensitive matrices
#    keep the CPU they need.
# Each step's output is printed when the step ends (--output-sync). `make clippy` and
# `make unit` are the plain `cargo clippy` and `cargo test --workspace`. The same variables
# reach every cargo command of the run (doc tests, the demo's builds), so none rebuilds.
PAR := $(MAKE) --no-print-directory --output-sync=target
TEST_ARTIFACTS := target/test-binaries.json
test: export RUSTC_WORKSPACE_WRAPPER := $(shell rustc --print sysroot)/bin/clippy-driver
test: export RUSTFLAGS := -D warnings
test: ## Everything CI runs: fmt, clippy's lints, template lint, every test (two parallel stages, see above)
	@echo "==> make test stage 1/2: compile the tests and the CLI with clippy's lints; venv, Chromium, fmt beside ($$(date -u +%T))"
	$(PAR) -j4 test-build venv browser fmt-check
	@echo "==> make test stage 2/2: the tests, the template checks beside them ($$(date -u +%T))"
	$(PAR) -j2 test-run lint-checks NICE_LINT="nice -n 19"
	@echo "==> make test: all checks passed ($$(date -u +%T))"

# One cargo command: the CLI binary is built with the CLI's integration tests (as
# target/debug/backup-guard), and one invocation keeps both cores busy to its end.
test-build: ## Compile every test binary and the CLI (what `test-run` and `lint` then run)
	mkdir -p target
	$(CARGO) test --workspace --locked --no-run --message-format=json-render-diagnostics > $(TEST_ARTIFACTS)

test-run: venv browser ## Run the compiled test binaries two at a time (after test-build), then the doc tests
	$(PYTHON) scripts/run-tests.py $(TEST_ARTIFACTS) --jobs 2 --first recovery-verifier --first table-guard

demo: venv ## Local end-to-end demo: local account, both functions under cargo lambda watch, alerts, audit
	bash scripts/demo.sh

ENV ?= default
GUIDED ?=
SAM := SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam
TEMPLATE_VARIANTS := target/template-variants

CLI := target/debug/backup-guard
NICE_LINT ?=

cli: ## Build the backup-guard CLI (debug)
	$(CARGO) build -q --locked -p backup-guard-cli

lint: venv cli ## Template lint: cfn-lint, sam validate --lint, checkov (every branch, SAM-expanded roles), template tests (IAM grants vs the code's AWS operations)
	$(MAKE) --no-print-directory lint-checks

lint-checks: venv ## The template checks of `lint`, with the CLI already built (`make test` runs them beside the tests)
	mkdir -p target
	$(NICE_LINT) $(CLI) policy-defaults --vars > target/policy-defaults.json
	$(NICE_LINT) $(CLI) iam-actions > target/iam-actions.json
	$(NICE_LINT) $(VENV)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(NICE_LINT) $(VENV)/bin/sam validate --lint --template-file template.yaml
	$(NICE_LINT) $(VENV)/bin/checkov -f template.yaml
	$(NICE_LINT) $(VENV)/bin/python tests/template/render_variants.py $(TEMPLATE_VARIANTS)
	$(NICE_LINT) $(VENV)/bin/cfn-lint $(TEMPLATE_VARIANTS)/all-options.yaml $(TEMPLATE_VARIANTS)/sam-transformed.json
	$(NICE_LINT) $(VENV)/bin/checkov -d $(TEMPLATE_VARIANTS)
	BG_POLICY_DEFAULTS_JSON=target/policy-defaults.json BG_IAM_ACTIONS_JSON=target/iam-actions.json PYTHONDONTWRITEBYTECODE=1 $(NICE_LINT) $(VENV)/bin/pytest -q -p no:cacheprovider tests/template

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
	@echo "==> the evidence report at 10,000 tables in headless Chromium (docs/EVIDENCE.md)"
	$(MAKE) --no-print-directory browser
	target/release/backup-guard-bench evidence --tables 10000 --runs 5 --json target/bench/evidence.json

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
