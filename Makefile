# soi: two commands on a fresh clone.
#   make demo   - set up .venv (first time) and run the main job on ToyLandmarks
#   make test   - set up .venv (first time), check soi/ is what nbdev-export makes of nbs/, run all tests
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.soi-installed
PYTEST_ARGS ?=

.PHONY: install demo test check-export export clean-nbs readme bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[dev]"
	@touch $@

install: $(STAMP)

demo: install
	$(BIN)/soi demo

# soi/ must equal a fresh export of nbs/ (CI runs on a clean clone: any drift fails here).
check-export: install
	@snap=$$(mktemp -d) && cp -r soi $$snap/ && $(BIN)/nbdev-export && \
	if ! diff -r -q -x __pycache__ $$snap/soi soi; then \
	  echo "soi/ was not what nbdev-export makes of nbs/: it is now re-exported; review 'git diff soi' and commit"; exit 1; fi
	@$(BIN)/python tools/readme.py --check

test: check-export
	@tools/ensure_chromium.sh >/dev/null || echo 'no chromium: the browser test will be skipped'
	@export TORCH_HOME=$$(mktemp -d) SOI_DATA=$$(mktemp -d) MPLBACKEND=Agg; \
	$(BIN)/python -m pytest -q $(PYTEST_ARGS) tests

export: install
	$(BIN)/nbdev-export
	$(BIN)/python tools/readme.py

clean-nbs: install
	$(BIN)/nbdev-clean

readme: install
	$(BIN)/python tools/readme.py

bench: install
	$(BIN)/python benchmarks/evaluate.py
