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

# Tests and the demo never reach AWS: dummy keys, no instance-metadata probing, IAM at a local emulator.
OFFLINE_ENV := env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
	AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0

.PHONY: help venv tools demo test unit e2e lint fmt clippy lock clean

help:
	@echo "make demo   - build, start a local IAM emulator, run Create -> Update -> Delete through the handler"
	@echo "make test   - fmt, clippy, unit + integration tests (IAM emulator), end-to-end run of the binary"
	@echo "make lint   - cargo fmt --check and clippy"
	@echo "make lock   - re-pin requirements.txt from requirements.in"

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
FORCE:

demo: venv $(BIN)
	@$(OFFLINE_ENV) $(PY) tests/lambda_local.py $(BIN)

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --locked --all-targets -- -D warnings

lint: fmt clippy

unit: venv
	$(OFFLINE_ENV) MOTO_PYTHON=$(CURDIR)/$(PY) cargo test --locked

# The release binary (LTO, panic = "unwind"), unchanged, under a local Lambda Runtime API.
e2e: venv $(RELEASE_BIN)
	$(OFFLINE_ENV) $(PY) tests/lambda_local.py $(RELEASE_BIN) --check --quiet

test: lint unit e2e

lock: venv
	$(UV) pip compile requirements.in --python-version 3.11 --no-header -q -o requirements.txt

clean:
	cargo clean
	rm -rf $(VENV)
