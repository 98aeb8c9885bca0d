# The claims scorecard: every claim of config/claims.yaml scored against this run's CSVs.
import json

SSCORE = GZ["sscore"]

# The evidence a claim may cite: this config's result CSVs and tables (nothing left by another config).
CLAIM_EVIDENCE = (
    GZ_DATA_SUMMARIES
    + expand("results/expnet/theorem1_d{d}.csv", d=GZ["theorem1"]["dims"])
    + expand("results/expnet/depth_d{d}.csv", d=GZ["theorem1"]["dims"])
    + [f"results/expnet/near_singular_d{GZ_NEAR['d']}.csv", "results/expnet/mpmath.csv"]
    + expand(
        "results/sscore/trace_d{d}_{activation}_{optimizer}.csv",
        d=SSCORE["dims"],
        activation=SSCORE["activations"],
        optimizer=SSCORE["optimizers"],
    )
    + [t for t in EXPNET_TABLES + SSCORE_TABLES + RELU_TABLES + JI_TABLES + LIN_TABLES + LMD_TABLES if t.endswith(".csv")]
    + [f"{JI_DIR}/whycant_fit.csv", f"{JI_DIR}/whycant_neighbourhood.csv"]
)

# Every figure and table of the run, and each stage's merged provenance (for REPORT.md).
ALL_FIGURES = EXPNET_FIGURES + SSCORE_FIGURES + RELU_FIGURES + JI_FIGURES + LIN_FIGURES + LMD_FIGURES
ALL_TABLES = EXPNET_TABLES + SSCORE_TABLES + RELU_TABLES + JI_TABLES + LIN_TABLES + LMD_TABLES
STAGE_PROVENANCE = [
    f"results/{stage}/provenance.json" for stage in ("expnet", "sscore", "relu", "ji", "linapprox", "lmd")
]
REPORT_OUTPUTS = ["results/claims.csv", "results/tables/claims.md", "REPORT.md"]


localrules:
    claims_report,
    report_md,


rule claims_report:
    """Score every claim: results/claims.csv (machine) and results/tables/claims.md (people)."""
    input:
        claims="config/claims.yaml",
        evidence=CLAIM_EVIDENCE,
    output:
        csv="results/claims.csv",
        md=report("results/tables/claims.md", category="Claims scorecard"),
    params:
        config_json=json.dumps(config, sort_keys=True),
    log:
        "logs/report/claims.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/claims_report.py {input.evidence:q} --claims {input.claims:q} "
        "--config-json {params.config_json:q} --out {output.csv:q} --markdown {output.md:q} "
        "> {log:q} 2>&1"


rule report_md:
    """REPORT.md: per paper the scorecard, figures with captions, tables, our choices and provenance."""
    input:
        claims="results/claims.csv",
        figures=[f for f in ALL_FIGURES if f.endswith(".png")],
        tables=[t for t in ALL_TABLES if t.endswith(".md")],
        provenance=STAGE_PROVENANCE,
        config="config/config.yaml",
    output:
        "REPORT.md",
    params:
        config_json=json.dumps(config, sort_keys=True),
    log:
        "logs/report/report_md.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/report_md.py --claims {input.claims:q} --figures {input.figures:q} "
        "--tables {input.tables:q} --captions workflow/report --config {input.config:q} "
        "--config-json {params.config_json:q} --stage-provenance {input.provenance:q} --out {output:q} "
        "> {log:q} 2>&1"
