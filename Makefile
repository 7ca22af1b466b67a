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

.PHONY: help venv tools demo test unit e2e lint fmt clippy templates build invoke deploy lock clean

help:
	@echo "make demo    - build, start a local IAM emulator, run Create -> Update -> Delete through the handler"
	@echo "make test    - lint, unit + integration tests (IAM emulator), end-to-end run of the release binary"
	@echo "make lint    - cargo fmt --check, clippy, and the template checks (sam validate --lint, cfn-lint, checkov)"
	@echo "make build   - arm64 bootstrap zip for Lambda (cargo lambda build --release --arm64)"
	@echo "make invoke  - one event (EVENT=events/create.json) through cargo lambda watch + invoke, local IAM"
	@echo "make deploy  - sam build + sam deploy (guided the first time)"
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
FORCE:

demo: venv $(BIN)
	@$(OFFLINE_ENV) $(PY) tests/lambda_local.py $(BIN)

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --locked --all-targets -- -D warnings

# The templates as a security reviewer checks them; every checkov skip carries its reason in the template.
templates: tools
	$(OFFLINE_ENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH sam validate --lint -t template.yaml
	$(OFFLINE_ENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH sam validate --lint -t examples/archive.yaml
	$(OFFLINE_ENV) $(VENV)/bin/cfn-lint template.yaml examples/archive.yaml
	$(OFFLINE_ENV) $(VENV)/bin/checkov --skip-download --quiet --compact --framework cloudformation \
		-f template.yaml -f examples/archive.yaml

lint: fmt clippy templates

# The Lambda artifact: arm64 for provided.al2023. Needs the aarch64 rust-std (rustup target add
# aarch64-unknown-linux-gnu); zig from the pinned ziglang package does the cross-link.
LAMBDA_ZIP := target/lambda/logzio-role/bootstrap.zip
build: tools
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cargo lambda build --release --arm64 --locked --output-format zip
	@unzip -l $(LAMBDA_ZIP) | awk '$$4 == "bootstrap" {printf "bootstrap (arm64): %.2f MB\n", $$1 / 1048576}'
	@ls -l $(LAMBDA_ZIP) | awk '{printf "$(LAMBDA_ZIP): %.2f MB\n", $$5 / 1048576}'

EVENT ?= events/create.json
invoke: tools
	$(OFFLINE_ENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) tests/invoke_local.py $(EVENT)

# Your AWS credentials and region, as the AWS CLI would use them. The first run asks (sam deploy --guided) and
# saves the answers to samconfig.toml.
deploy: tools
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH SAM_CLI_TELEMETRY=0 sam build
	if [ -f samconfig.toml ]; then PATH=$(CURDIR)/$(VENV)/bin:$$PATH SAM_CLI_TELEMETRY=0 sam deploy; \
	else PATH=$(CURDIR)/$(VENV)/bin:$$PATH SAM_CLI_TELEMETRY=0 sam deploy --guided --capabilities CAPABILITY_IAM; fi

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
