# nnmat: `make reproduce` and `make test` are all a reader needs (README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
CONFIG ?= config/config.yaml
CORES ?= 2
SNAKEMAKE_ARGS ?=
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

# Every recipe sees the venv first on PATH, so the `python` in rule shell commands is the venv's.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# One BLAS thread per process: Snakemake runs jobs in parallel instead (see README, "Performance").
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

SNAKEMAKE := snakemake --configfile $(CONFIG) --cores $(CORES) $(SNAKEMAKE_ARGS)
# Plot and table rules (named fig_* / table_*) read CSVs only, so `make figures` redraws without
# recomputing. The names come from Snakemake itself, so rules made in loops are included too.
LIST_FIGURE_RULES := snakemake --configfile $(CONFIG) --list-rules | awk '{print $$1}' | grep -E '^(fig|table)_'

.PHONY: help venv reproduce figures report test test-cluster lint dryrun clean distclean

help:
	@echo "make reproduce [CONFIG=config/paper.yaml]  set up .venv, run the whole pipeline (REPORT.md, report.html)"
	@echo "make test                                   set up .venv, run lint + the test suite"
	@echo "make test-cluster                           start a local SLURM (root, apt), run tests/cluster, stop it"
	@echo "make figures                                redraw every figure/table from existing CSVs"
	@echo "make report                                 snakemake HTML report (report.html)"
	@echo "make dryrun                                 show the jobs that would run"

venv: $(STAMP)
$(STAMP): requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

reproduce: venv
	$(SNAKEMAKE)
	$(SNAKEMAKE) --report report.html

dryrun: venv
	$(SNAKEMAKE) -n

figures: venv
	rules="$$($(LIST_FIGURE_RULES))" && \
	$(SNAKEMAKE) figures --allowed-rules figures $$rules --forcerun $$rules

report: venv
	$(SNAKEMAKE) --report report.html

lint: venv
	ruff check .
	snakemake --lint --configfile $(CONFIG)

test: venv lint
	python -m pytest

# A real single-node SLURM on this machine (tests/cluster/slurm_local.sh), the tiny config through
# profiles/slurm-local, then SLURM stopped again, whether the tests pass or not.
test-cluster: venv
	tests/cluster/slurm_local.sh start
	status=0; NNMAT_REQUIRE_SLURM=1 python -m pytest tests/cluster -rA || status=$$?; \
	tests/cluster/slurm_local.sh stop; exit $$status

clean:
	rm -rf results logs .snakemake figures/*.png figures/*.pdf report.html

distclean: clean
	rm -rf data $(VENV)
