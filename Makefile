# soi: two commands on a fresh clone.
#   make demo   - set up .venv (first time) and run the main job on ToyLandmarks
#   make test   - set up .venv (first time), check soi/ is what nbdev-export makes of nbs/, run all tests
#   make results - regenerate every committed table and figure on ToyLandmarks (Snakefile; CORES=N)
#   make docs   - execute the numbered notebooks in place and write the static HTML site to _site/
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.soi-installed
PYTEST_ARGS ?=

.PHONY: install demo test check-export export clean-nbs readme bench results results-dry reproduce docs

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

# The experiment workflow (Snakefile, grids/*.yaml): every committed table and figure. Runs only what is missing
# or stale (a point reruns when its parameters or the code change). SNAKEMAKE_ARGS=--forceall regenerates all.
CORES ?= 2
SNAKEMAKE_ARGS ?=
results: install
	MPLBACKEND=Agg $(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)
	$(BIN)/python tools/readme.py

results-dry: install
	$(BIN)/snakemake -n

# The thesis configuration on the real data sets (revisited Oxford/Paris + R1M): grids/real/*.yaml, to come.
reproduce: install
	@echo "make reproduce: the real-data grids are not defined yet; 'make results' regenerates the ToyLandmarks results"; exit 2

# Readers: numbered notebooks executed in place (outputs visible in JupyterLab and on a code host) and an HTML site
# with maths rendered offline (MathJax from the jupyter-server-mathjax package). DOCS_ARGS=--no-inplace keeps nbs/ as is.
DOCS_ARGS ?=
docs: install
	$(BIN)/python tools/build_docs.py $(DOCS_ARGS)
