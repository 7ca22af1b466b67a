# logzio-role: the Lambda behind Custom::LogzioRole.
# `make demo` and `make test` work on a machine with only Rust and Python 3: they create .venv themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
BIN := target/debug/logzio-role
RELEASE_BIN := target/release/logzio-role
# The binary the fault tier runs: the debug build of every target, which `cargo test` (unit)
# has already made with the same features, so the AWS SDK is compiled once for clippy's check and once for
# everything else (docs/development.md, "What make test costs").
TEST_BIN := target/debug/logzio-role

# Tests and the demo never reach AWS: dummy keys, no instance-metadata probing, IAM at a local emulator.
OFFLINE_ENV := env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
	AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0

.PHONY: help venv tools demo test test-bin unit e2e lint fmt clippy modules deny templates policies build arm64-target release invoke deploy bench \
	fuzz lock clean

help:
	@echo "make demo    - build, start local IAM, Secrets Manager and Logz.io fakes, run role + archive Create -> Update -> Delete"
	@echo "make test    - lint, IAM policy simulator, unit + integration tests (IAM emulator), the fault tier of the built binary (CI adds make deny)"
	@echo "make lint    - cargo fmt --check, clippy, cargo deny, and the template checks (sam validate --lint, cfn-lint, checkov)"
	@echo "make policies - IAM policy simulator: template.yaml's execution role and boundary, the generated role policy"
	@echo "make build   - arm64 bootstrap zip for Lambda (cargo lambda build --release --arm64)"
	@echo "make release VERSION=x.y.z - reproducible release artifacts in dist/ (built twice, compared), SBOM, licences"
	@echo "make invoke  - one event (EVENT=events/create.json) through cargo lambda watch + invoke, local IAM"
	@echo "make deploy  - sam build + sam deploy (guided the first time)"
	@echo "make bench   - cold start, latency, IAM calls, memory, size: Rust vs a Python crhelper baseline"
	@echo "make fuzz    - libFuzzer on the event reader and the property parser (FUZZ_SECONDS per target, default 60)"
	@echo "make lock    - re-pin requirements.txt from requirements.in"

# The IAM emulator (moto[server]) and boto3 only: small, for the demo and the tests.
$(VENV)/.emulator: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$$(grep -E '^uv==' requirements.txt)"
	$(UV) pip install --quiet --python $(PY) -c requirements.txt "moto[server]" boto3
	touch $@

venv: $(VENV)/.emulator

# Everything pinned in requirements.txt: the deploy and lint tools too (~1 GB).
$(VENV)/.tools: $(VENV)/.emulator requirements.txt
	$(UV) pip install --quiet --python $(PY) -r requirements.txt
	touch $@

tools: $(VENV)/.tools

$(BIN): FORCE
	cargo build --locked
$(RELEASE_BIN): FORCE
	cargo build --locked --release
test-bin: FORCE
	cargo build --locked --all-targets
FORCE:

demo: venv $(BIN)
	@$(OFFLINE_ENV) $(PY) tests/lambda_local.py $(BIN)

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --locked --all-targets -- -D warnings

# No import circle among src/'s modules (tests/module_graph.py; test-only code excluded), and every test
# docs/failure-modes.md names exists (tests/failure_modes.py).
modules:
	$(PYTHON) tests/module_graph.py
	$(PYTHON) tests/failure_modes.py

# The templates as a security reviewer checks them; every checkov skip carries its reason in the template. The
# release's packaged template (plain CloudFormation, for StackSets) is made from template.yaml without a build
# and checked the same way; tests/templates.py then renders every name for a 128-character stack name, holds the
# lifecycle rules against Logz.io's logzio-verified object, and checks the release template has no transform.
TEMPLATES := template.yaml examples/archive.yaml examples/archive-external-id.yaml \
	examples/stackset/artifacts.yaml examples/stackset/organization.yaml
RELEASE_TEMPLATE := target/templates/logzio-role-release.yaml
templates: tools
	mkdir -p $(dir $(RELEASE_TEMPLATE))
	$(PY) tests/release/release.py --version "$$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)" \
		--template-only $(RELEASE_TEMPLATE)
	printf '%s\n' $(TEMPLATES) $(RELEASE_TEMPLATE) | \
		$(OFFLINE_ENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH xargs -P 2 -I{} sam validate --lint -t {}
	$(OFFLINE_ENV) $(VENV)/bin/cfn-lint $(TEMPLATES) $(RELEASE_TEMPLATE)
	$(OFFLINE_ENV) $(VENV)/bin/checkov --skip-download --quiet --compact --framework cloudformation \
		$(addprefix -f ,$(TEMPLATES) $(RELEASE_TEMPLATE))
	$(OFFLINE_ENV) $(PY) tests/templates.py $(TEMPLATES) --release $(RELEASE_TEMPLATE)

# Licences, banned crates and sources (tests/deny.toml; no advisory database is fetched); cargo-deny is installed,
# pinned, on first use (from crates.io: a few minutes on a fresh machine).
CARGO_DENY_VERSION := 0.20.2
deny:
	command -v cargo-deny >/dev/null || cargo install --locked cargo-deny@$(CARGO_DENY_VERSION)
	cargo deny --locked --config tests/deny.toml check licenses bans sources

lint: fmt clippy deny templates

# The IAM policies themselves, in an offline IAM policy simulator (@cloud-copilot/iam-simulate, pinned with its
# lock file in tests/policies; a test-time tool, never shipped): template.yaml's execution role and boundary for
# each documented parameter setting, and the role policies the handler generates (the role_policies example), each
# held against a matrix of requests that must be allowed or denied. moto does not enforce IAM; this does.
POLICIES := tests/policies
$(POLICIES)/node_modules/.stamp: $(POLICIES)/package.json $(POLICIES)/package-lock.json
	npm ci --prefix $(POLICIES) --no-audit --no-fund
	touch $@

policies: $(POLICIES)/node_modules/.stamp
	mkdir -p target
	cargo run --quiet --locked --example role_policies > target/role-policies.json.tmp
	mv target/role-policies.json.tmp target/role-policies.json
	node $(POLICIES)/simulate.mjs --template template.yaml target/role-policies.json

# The Lambda artifact: arm64 for provided.al2023. The aarch64 rust-std is added when missing; zig from the pinned
# ziglang package does the cross-link.
AARCH64 := aarch64-unknown-linux-gnu
arm64-target:
	rustup target list --installed | grep -qx $(AARCH64) || rustup target add $(AARCH64)

LAMBDA_ZIP := target/lambda/logzio-role/bootstrap.zip
build: tools arm64-target
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cargo lambda build --release --arm64 --locked --output-format zip
	@$(PY) -c 'import os, sys, zipfile; z = sys.argv[1]; \
		b = zipfile.ZipFile(z).getinfo("bootstrap").file_size; \
		print(f"bootstrap (arm64): {b / 2**20:.2f} MB\n{z}: {os.path.getsize(z) / 2**20:.2f} MB")' $(LAMBDA_ZIP)

EVENT ?= events/create.json
invoke: tools $(BIN)
	$(OFFLINE_ENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) tests/invoke_local.py $(EVENT)

# Your AWS credentials and region, as the AWS CLI would use them. The first run asks (sam deploy --guided) and
# saves the answers to samconfig.toml.
deploy: tools arm64-target
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH SAM_CLI_TELEMETRY=0 sam build
	if [ -f samconfig.toml ]; then PATH=$(CURDIR)/$(VENV)/bin:$$PATH SAM_CLI_TELEMETRY=0 sam deploy; \
	else PATH=$(CURDIR)/$(VENV)/bin:$$PATH SAM_CLI_TELEMETRY=0 sam deploy --guided --capabilities CAPABILITY_IAM; fi

# Release artifacts, without a Rust toolchain needed to deploy them: the arm64 zip (built twice from the committed
# tree in two directories; the two must be bit-identical), its SHA-256, the packaged template (code from the
# ArtifactBucket/ArtifactKey parameters), the SBOM (cargo-cyclonedx) and the licences (cargo-about). Not part of
# make test: two arm64 builds take many minutes.
CARGO_ABOUT_VERSION := 0.9.3
CARGO_CYCLONEDX_VERSION := 0.5.9
release: tools arm64-target
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=x.y.z (the version in Cargo.toml)"; exit 2; }
	command -v cargo-about >/dev/null || cargo install --locked --features cli cargo-about@$(CARGO_ABOUT_VERSION)
	command -v cargo-cyclonedx >/dev/null || cargo install --locked cargo-cyclonedx@$(CARGO_CYCLONEDX_VERSION)
	$(PY) tests/release/release.py --version $(VERSION)

unit: venv
	$(OFFLINE_ENV) MOTO_PYTHON=$(CURDIR)/$(PY) cargo test --locked

# The fake Logz.io's self-test and the local runtime's redelivery model; then the fault tier: the debug binary
# (panic = "unwind", as shipped), unchanged, under a local Lambda Runtime API, with IAM behind a fault-injecting
# proxy and a failing ResponseURL, for what only the binary shows (docs/failure-modes.md). The shipped build
# (LTO, opt-level s) is make build's and make release's; make bench measures the release profile.
e2e: venv test-bin
	$(OFFLINE_ENV) $(PY) tests/test_logzio_fake.py
	$(OFFLINE_ENV) $(PY) tests/redelivery.py
	$(OFFLINE_ENV) timeout 900 $(PY) tests/faults.py $(TEST_BIN)

# make lint without cargo-deny: on a fresh machine cargo-deny is compiled from source (minutes), so .ci/run
# runs `make deny` beside make test instead of inside it.
test: fmt clippy modules templates policies unit e2e

# Rust vs the Python crhelper + boto3 baseline (bench/), same Runtime API, IAM emulator and events. The zip
# size needs `make build` (arm64) first; without it the table says so.
# The baseline runs in its own venv with only boto3 and crhelper, as in Lambda's Python runtime (the main
# .venv also holds awscrt and pyOpenSSL, which botocore would import).
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.stamp: $(VENV)/.emulator requirements.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(UV) pip install --quiet --python $(BENCH_VENV)/bin/python -c requirements.txt boto3 crhelper
	touch $@

# The floor of cold init (bench/bare_poll.rs: a process that only sends its first poll), std only.
BARE_POLL := target/bench/bare_poll
$(BARE_POLL): bench/bare_poll.rs
	mkdir -p $(dir $@)
	rustc -O --edition 2021 $< -o $@

bench: tools $(BENCH_VENV)/.stamp $(RELEASE_BIN) $(BARE_POLL)
	set -o pipefail; $(OFFLINE_ENV) $(PY) bench/run.py --binary $(RELEASE_BIN) --bare $(BARE_POLL) \
		--baseline-python $(BENCH_VENV)/bin/python | tee target/bench-latest.md

# cargo-fuzz (libFuzzer) on the two things a stranger controls: the event's bytes and ResourceProperties.
# Seeds come from events/, plus fuzz/regressions (each past finding, kept); the corpus grows in fuzz/corpus (not
# committed); a finding lands in fuzz/artifacts and fails the target. The machine's one stable toolchain builds it: RUSTC_BOOTSTRAP=1 allows the -Z flags that
# cargo-fuzz passes. No sanitizer: this crate forbids unsafe code, and without ASan libFuzzer runs ~2x the inputs;
# debug assertions (-a) stay on so that arithmetic overflow is a finding too.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := event_reader properties
CARGO_FUZZ_VERSION := 0.13.2
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION)
	rm -rf fuzz/seeds && $(PYTHON) fuzz/seeds.py fuzz/seeds
	cd fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$t && \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --debug-assertions $$t corpus/$$t seeds/$$t regressions/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -dict=properties.dict -max_len=65536 -timeout=10 -print_final_stats=1 \
		|| exit 1; done

lock: venv
	$(UV) pip compile requirements.in --python-version 3.11 --no-header -q -o requirements.txt.new
	{ echo '# Generated by `make lock` from requirements.in (uv pip compile): every Python package, pinned.'; \
	  echo '# make demo installs only the IAM emulator (moto[server]) with this file as constraints; make test,'; \
	  echo '# lint, build, invoke, deploy and bench install all of it (deploy, lint and benchmark tools).'; \
	  cat requirements.txt.new; } > requirements.txt && rm requirements.txt.new

clean:
	cargo clean
	rm -rf $(VENV) $(BENCH_VENV)
