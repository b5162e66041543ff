# soi: two commands on a fresh clone.
#   make demo   - set up .venv (first time) and run the main job on ToyLandmarks
#   make test   - set up .venv (first time), check soi/ is what nbdev-export makes of nbs/, run all tests
#   make results - regenerate every committed table and figure on ToyLandmarks (Snakefile; CORES=N)
#   make reproduce - the published SOLAR/cirtorch tables on the real data sets, with ✓/✗ (needs the downloads; a GPU)
#   make docs   - execute the numbered notebooks in place and write the static HTML site to _site/
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

# The torch build (README, "Install"): cu130 = CUDA 13, PyPI's Linux wheels (the default, as CI uses);
# cu126 = CUDA 12 (older drivers); cpu = CPU only (laptops, CI without a GPU, small downloads).
# FAISS = the soi extra with the matching FAISS package: faiss (faiss-cpu; any build), faiss-gpu (faiss-gpu-cuvs,
# CUDA 13), faiss-gpu-cu12 (CUDA 12). One build per virtual environment: for another build use another VENV,
# e.g. `make install TORCH_BUILD=cpu VENV=.venv-cpu`.
TORCH_VERSION ?= 2.14.1
TORCHVISION_VERSION ?= 0.29.1
TORCH_BUILD ?= cu130
FAISS ?= faiss
TORCH_INDEX_cu130 :=
TORCH_INDEX_cu126 := https://download.pytorch.org/whl/cu126
TORCH_INDEX_cpu := https://download.pytorch.org/whl/cpu
TORCH_INDEX ?= $(TORCH_INDEX_$(TORCH_BUILD))
ifeq ($(filter $(TORCH_BUILD),cu130 cu126 cpu),)
$(error TORCH_BUILD=$(TORCH_BUILD): choose cu130 (CUDA 13, default), cu126 (CUDA 12) or cpu)
endif
ifeq ($(filter $(FAISS),faiss faiss-gpu faiss-gpu-cu12),)
$(error FAISS=$(FAISS): choose faiss (CPU), faiss-gpu (CUDA 13) or faiss-gpu-cu12 (CUDA 12))
endif
STAMP := $(VENV)/.soi-installed-$(TORCH_BUILD)-$(FAISS)
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check

.PHONY: install demo test test-min check-export export clean-nbs readme bench results results-dry reproduce docs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) torch==$(TORCH_VERSION) torchvision==$(TORCHVISION_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) -e ".[dev,$(FAISS)]"
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
	@$(MAKE) --no-print-directory test-min

# The declared floors: install the minimum version of every dependency into .venv-min (torch/torchvision are
# taken from $(VENV), see tools/min_versions.py) and run a fast subset of the notebooks there.
test-min: install
	$(BIN)/python tools/min_versions.py --python $(PYTHON) --torch-from $(VENV)

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

# The published tables on the real data sets (issue 14, experiment 9): SOLAR's resnet101-solar-best and cirtorch's
# gl18-tl-resnet101-gem-w, imported with `soi import-checkpoint`, multi-scale at 1024 px on ROxford5k and RParis6k
# (+ the 1M distractors of revisitop1m), each E/M/H mAP beside the published value with ✓/✗ (grids/real/expected.yaml)
# -> results/tables/real/. tools/reproduce.py first checks every input: a missing data set or checkpoint stops it with
# one message naming each file, its address and where it goes (exit 2); then Snakemake runs grids/real/*.yaml
# (not part of `make results`). Cost, an estimate printed by nbs/experiments/reproduce.ipynb from SOLAR's published
# V100 time (~0.108 s per image for three scales at 1024 px): about 0.5 GPU-hours for ROxf + RPar with both networks,
# about 30 GPU-hours more for the 1M distractors' descriptors; each run records its own seconds per image
# (results/tables/real/*_timing.md). REAL_GRIDS selects grids, e.g. without R1M:
#   make reproduce REAL_GRIDS='grids/real/solar.yaml grids/real/cirtorch.yaml'
REAL_GRIDS ?= grids/real/solar.yaml grids/real/cirtorch.yaml grids/real/solar_r1m.yaml
reproduce: install
	$(BIN)/python tools/reproduce.py --cores $(CORES) --snakemake-args="$(SNAKEMAKE_ARGS)" $(REAL_GRIDS)

# Readers: numbered notebooks executed in place (outputs visible in JupyterLab and on a code host) and an HTML site
# with maths rendered offline (MathJax from the jupyter-server-mathjax package). DOCS_ARGS=--no-inplace keeps nbs/ as is.
DOCS_ARGS ?=
docs: install
	$(BIN)/python tools/build_docs.py $(DOCS_ARGS)
