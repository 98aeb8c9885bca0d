# nnmat: reproduce the figures, tables and claims of four papers on the matrix analysis of neural
# networks. `snakemake -n` shows the DAG; README.md explains the rest.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

sys.path.insert(0, os.path.join(workflow.basedir, "scripts"))
from nnmat.config import check_consistency, gz_data_dims  # noqa: E402

configfile: "config/config.yaml"

# Refuse a bad config before any job starts: the schema names the offending key.
validate(config, "config/schema.yaml")
check_consistency(config)

SEED = config["seed"]
GZ = config["gz"]


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/expnet.smk"
include: "workflow/rules/sscore.smk"
include: "workflow/rules/relu.smk"
include: "workflow/rules/inversion.smk"
include: "workflow/rules/linapprox.smk"
include: "workflow/rules/lmd.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        GZ_DATA_SUMMARIES,
        EXPNET_FIGURES,
        EXPNET_TABLES,
        SSCORE_FIGURES,
        SSCORE_TABLES,
        RELU_FIGURES,
        RELU_TABLES,
        JI_FIGURES,
        JI_TABLES,
        JI_RESULTS,
        LIN_FIGURES,
        LIN_TABLES,
        LMD_FIGURES,
        LMD_TABLES,
        LIN_RESULTS,
        LMD_FIGURES,
        LMD_TABLES,
        LMD_RESULTS,
        REPORT_OUTPUTS,


rule figures:
    """Every figure and table; `make figures` redraws them from existing CSVs only."""
    input:
        EXPNET_FIGURES,
        EXPNET_TABLES,
        SSCORE_FIGURES,
        SSCORE_TABLES,
        RELU_FIGURES,
        RELU_TABLES,
        JI_FIGURES,
        JI_TABLES,
        LIN_FIGURES,
        LIN_TABLES,
        LMD_FIGURES,
        LMD_TABLES,
