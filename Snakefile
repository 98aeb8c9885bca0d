# nnmat: reproduce the figures, tables and claims of four papers on the matrix analysis of neural
# networks. `snakemake -n` shows the DAG; README.md explains the rest.
#
# Code, schema, claims, captions and the default config are found from this file's folder (REPO);
# everything a run writes (data/, results/, logs/, figures/, REPORT.md) goes under the working
# directory, so `snakemake --directory /scratch/run` and use as a Snakemake module both work.
import os
import sys

from snakemake.utils import min_version

from nnmat.config import (
    check_device,
    declared_mem_mb,
    gz_data_dims,
    ji_train_bytes,
    validate_config,
    xia_bytes,
)

min_version("9.0")

REPO = os.path.abspath(str(workflow.current_basedir))
DEFAULT_CONFIG = os.path.join(REPO, "config", "config.yaml")

# A config named on the command line (--configfile, `make ... CONFIG=`) or handed over by a module's
# `config:` is the whole configuration; only without one is the default scale loaded.
if not workflow.overwrite_configfiles and not config:
    workflow.configfile(DEFAULT_CONFIG)
CONFIG_SOURCE = ", ".join(map(str, workflow.overwrite_configfiles)) or (
    DEFAULT_CONFIG if workflow.configfiles else "the config passed by the including workflow"
)
print(f"nnmat: configuration from {CONFIG_SOURCE}; outputs under {os.getcwd()}", file=sys.stderr)

# Refuse a bad config before any job starts, naming the offending key: duplicate keys (YAML keeps the
# last silently), NaN/inf (JSON Schema bounds let NaN through), then the schema, then cross-key rules.
validate_config(
    config,
    workflow.overwrite_configfiles or workflow.configfiles,
    os.path.join(REPO, "config", "schema.yaml"),
)
# Jobs run on this machine only for a local, non-dry run (not on a cluster's submit host, not inside
# a cluster job, whose node is checked by the job itself).
check_device(
    config, workflow.local_exec and not (workflow.dryrun or workflow.remote_exec or workflow.subprocess_exec)
)

SEED = config["seed"]
GZ = config["gz"]


include: "workflow/rules/common.smk"
include: "workflow/rules/gz_data.smk"
include: "workflow/rules/gz_theorem1.smk"
include: "workflow/rules/gz_sscore.smk"
include: "workflow/rules/xia.smk"
include: "workflow/rules/ji_inversion.smk"
include: "workflow/rules/ji_linapprox.smk"
include: "workflow/rules/lmd.smk"
include: "workflow/rules/report.smk"


rule all:
    """Every paper: figures, tables, claims and REPORT.md."""
    default_target: True
    input:
        [PAPER_TARGETS[p] for p in PAPERS],
        REPORT_FILES,


rule figures:
    """Every figure and table; `make figures` redraws them from existing CSVs only."""
    input:
        [PAPER_FIGURES[p] + PAPER_TABLES[p] for p in PAPERS],


# One target per paper: its figures, tables, claims and REPORT.md section, plus only the upstream
# jobs it needs (lmd needs ji's trained models). REPORT.md keeps the other papers' last sections.
rule gz:
    input:
        PAPER_TARGETS["gz"],


rule xia:
    input:
        PAPER_TARGETS["xia"],


rule ji:
    input:
        PAPER_TARGETS["ji"],


rule lmd:
    input:
        PAPER_TARGETS["lmd"],


onsuccess:
    # After `snakemake <paper>`, REPORT.md is rebuilt from the sections present (the others are kept
    # from their last run, or marked not run); after a full run it is already current.
    parts = [f for p in PAPERS for f in (f"results/report/{p}.md", f"results/claims/{p}.csv")]
    present = [f for f in parts if os.path.exists(f)]
    if present and (
        not os.path.exists("REPORT.md")
        or max(map(os.path.getmtime, present)) > os.path.getmtime("REPORT.md")
    ):
        shell(
            f"python {script('report_md.py')!r} assemble --workdir . --out REPORT.md "
            "--claims-out results/claims.csv "
            "--markdown results/tables/claims.md"
        )
