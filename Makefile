# nnmat: `make reproduce` and `make test` are all a reader needs (README.md, "Install").
SHELL := /bin/bash
# The interpreter `make venv` builds .venv with: Python 3.11.x (checked), e.g. PYTHON=python3.11.
PYTHON ?= python3
VENV := .venv
CONFIG ?= config/config.yaml
CORES ?= 2
SNAKEMAKE_ARGS ?=
PAPER ?=
# Which build of torch .venv gets, i.e. which lock: cpu (the default on Linux), cuda (Linux with an
# NVIDIA GPU: PyPI's CUDA build, ~2.9 GB) or macos (the default on macOS; Apple silicon).
TORCH ?= $(if $(filter Darwin,$(shell uname -s)),macos,cpu)
ifeq ($(filter $(TORCH),cpu cuda macos),)
$(error TORCH=$(TORCH): use TORCH=cpu (Linux, the default), TORCH=cuda (Linux, NVIDIA GPU) or TORCH=macos)
endif
LOCK := requirements/$(TORCH).txt
DEV_LOCK := requirements/dev.txt
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
# The stamp is named after the variant and the content of the locks and pyproject.toml, so editing
# any of them (or switching TORCH) reinstalls.
STAMP := $(VENV)/.installed-$(TORCH)-$(shell cat $(LOCK) $(DEV_LOCK) pyproject.toml | cksum | cut -d" " -f1)

# Every recipe sees the venv first on PATH, so the `python` in rule shell commands is the venv's.
export PATH := $(abspath $(VENV))/bin:$(PATH)
# One BLAS thread per process: Snakemake runs jobs in parallel instead (README, "Cores and threads").
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

SNAKEMAKE := snakemake --configfile $(CONFIG) --cores $(CORES) $(SNAKEMAKE_ARGS)
# Plot and table rules (named fig_* / table_*) read CSVs only, so `make figures` redraws without
# recomputing. The names come from Snakemake itself, so rules made in loops are included too.
LIST_FIGURE_RULES := snakemake --configfile $(CONFIG) --list-rules | awk '{print $$1}' | grep -E '^(fig|table)_'

.PHONY: help venv python-check lock reproduce figures report test test-faults test-cluster test-browser lint dryrun \
	clean distclean

help:
	@echo "make reproduce [CONFIG=config/paper.yaml] [PAPER=gz|xia|ji|lmd]  run the pipeline (REPORT.md, report.html)"
	@echo "make test                                   set up .venv, run lint + the test suite"
	@echo "make test-faults                            kill -9 / Ctrl-C / two runs at once on the tiny config (~15 min)"
	@echo "make test-cluster                           start a local SLURM (root, apt), run tests/cluster, stop it"
	@echo "make figures                                redraw every figure/table from existing CSVs"
	@echo "make report                                 snakemake HTML report (report.html)"
	@echo "make dryrun                                 show the jobs that would run"
	@echo "make test-browser                           open report.html in headless Chromium (apt), check it, screenshots"
	@echo "make venv [TORCH=cpu|cuda|macos] [PYTHON=python3.11]  .venv from the hashed locks (requirements/)"
	@echo "make lock                                   regenerate requirements/*.txt and workflow/envs/nnmat.yaml"
	@echo "make clean                                  remove run outputs (results, logs, data, .snakemake, report.html)"

# .venv from the locks, with hash checking: the runtime lock of $(TORCH) and the dev tools, then nnmat
# itself, editable and without dependencies (pip refuses editable installs under --require-hashes).
# For the CPU build, PyTorch's CPU index is added if it answers within 10 s; otherwise torch
# 2.13.0+cpu must come from what pip is configured with (`pip config list`: a wheel folder, a mirror).
# A .venv holding another build of torch than the lock's (TORCH switched) is made afresh.
venv: $(STAMP)
$(STAMP): $(LOCK) $(DEV_LOCK) pyproject.toml | python-check
	@want=$$(sed -n 's/^torch==\([^ ]*\).*/\1/p' $(LOCK)); \
	have=$$($(VENV)/bin/python -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null); \
	if [ -n "$$have" ] && [ "$$have" != "$$want" ]; then \
	  echo "venv: $(VENV) has torch $$have and $(LOCK) pins $$want: making $(VENV) afresh"; rm -rf $(VENV); \
	fi
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@extra=; \
	if [ "$(TORCH)" = cpu ]; then \
	  if timeout 10 $(VENV)/bin/python -c "import urllib.request; urllib.request.urlopen('$(TORCH_CPU_INDEX)/torch/', timeout=8)" >/dev/null 2>&1; then \
	    extra="--extra-index-url $(TORCH_CPU_INDEX)"; \
	  else \
	    echo "venv: PyTorch's CPU index did not answer; torch 2.13.0+cpu must come from pip's configuration"; \
	  fi; \
	fi; \
	echo "$(VENV)/bin/python -m pip install --quiet --require-hashes $$extra -r $(LOCK) -r $(DEV_LOCK)"; \
	$(VENV)/bin/python -m pip install --quiet --require-hashes $$extra -r $(LOCK) -r $(DEV_LOCK)
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-* && touch $@

# The locks are made for Python 3.11: an existing .venv is checked, else $(PYTHON) before it makes one.
python-check:
	@py=$(VENV)/bin/python; [ -x "$$py" ] || py="$(PYTHON)"; \
	if ! "$$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then \
	  ver=$$("$$py" -c 'import platform; print("Python " + platform.python_version())' 2>/dev/null) || ver="not found or does not run"; \
	  echo "make: nnmat needs Python 3.11.x, but $$py is $$ver." >&2; \
	  if [ "$$py" = "$(VENV)/bin/python" ]; then \
	    echo "make: remove $(VENV) and run make again with a Python 3.11, e.g. make venv PYTHON=python3.11" >&2; \
	  else \
	    echo "make: install Python 3.11 and name it, e.g. make venv PYTHON=python3.11 (or PYTHON=/path/to/python3.11)" >&2; \
	  fi; \
	  exit 1; \
	fi

# Regenerate every lock from pyproject.toml with uv, and the conda env from the CPU lock
# (requirements/lock.sh says how, and why uv). UPGRADE=1 moves every pin to the newest release.
lock: venv
	UV=$(VENV)/bin/uv PYTHON=$(VENV)/bin/python requirements/lock.sh

# PAPER=gz|xia|ji|lmd runs one paper (and only the upstream jobs it needs); REPORT.md keeps the rest.
reproduce: venv
	$(SNAKEMAKE) $(PAPER)
	$(SNAKEMAKE) $(PAPER) --report report.html

dryrun: venv
	$(SNAKEMAKE) -n

figures: venv
	rules="$$($(LIST_FIGURE_RULES))" && \
	$(SNAKEMAKE) figures --allowed-rules figures $$rules --forcerun $$rules

report: venv
	$(SNAKEMAKE) --report report.html

lint: venv
	ruff check .
	ruff format --check .
	snakemake --lint --configfile $(CONFIG)

test: venv lint
	python -m pytest

# Whole-run fault injection on the tiny config (kill -9, Ctrl-C, two runs at once; ~15 min on 2 cores).
# The fast fault cases (bad configs, damaged files, full disk, read-only directory) run in `make test`.
test-faults: venv
	python -m pytest tests/faults -m faults -rA

# A real single-node SLURM on this machine (tests/cluster/slurm_local.sh), the tiny config through
# profiles/slurm-local, then SLURM stopped again, whether the tests pass or not.
test-cluster: venv
	tests/cluster/slurm_local.sh start
	status=0; NNMAT_REQUIRE_SLURM=1 python -m pytest tests/cluster -rA || status=$$?; \
	tests/cluster/slurm_local.sh stop; exit $$status

# report.html in a real browser: Debian's Chromium, headless (installed with apt if missing, as root).
# tests/browser builds the report of tests/config/tiny.yaml in a temporary folder (or checks
# NNMAT_REPORT_HTML=<file>), opens every category and figure, fails on a broken image or a console
# error, and prints the folder of its screenshots.
test-browser: venv
	command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }
	NNMAT_REQUIRE_BROWSER=1 python -m pytest tests/browser -rA -s

# Run outputs only, all of them git-ignored. figures/ and REPORT.md are committed (the answer of the
# default run) and are left alone: `make reproduce` regenerates them, `git checkout figures REPORT.md`
# restores them.
clean:
	rm -rf results logs data .snakemake report.html

distclean: clean
	rm -rf $(VENV)
