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
    + [t for t in EXPNET_TABLES + SSCORE_TABLES + RELU_TABLES + JI_TABLES + LIN_TABLES if t.endswith(".csv")]
    + [f"{JI_DIR}/whycant_fit.csv", f"{JI_DIR}/whycant_neighbourhood.csv"]
)

REPORT_OUTPUTS = ["results/claims.csv", "results/tables/claims.md"]


localrules:
    claims_report,


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
