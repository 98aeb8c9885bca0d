# The claims scorecard and REPORT.md, one part per paper, so that `snakemake <paper>` rebuilds that
# paper's part alone and REPORT.md keeps the other papers' last sections (or marks them not run).

PAPERS = ("gz", "xia", "ji", "lmd")
PAPER_FIGURES = {"gz": GZ_FIGURES, "xia": XIA_FIGURES, "ji": JI_FIGURES, "lmd": LMD_FIGURES}
PAPER_TABLES = {"gz": GZ_TABLES, "xia": XIA_TABLES, "ji": JI_TABLES, "lmd": LMD_TABLES}
PAPER_RESULTS = {"gz": GZ_RESULTS, "xia": XIA_RESULTS, "ji": JI_RESULTS, "lmd": LMD_RESULTS}
# The evidence a claim may cite: this config's CSVs (nothing left in the directory by another config).
PAPER_EVIDENCE = {"gz": GZ_EVIDENCE, "xia": XIA_EVIDENCE, "ji": JI_EVIDENCE, "lmd": LMD_EVIDENCE}
PAPER_PROVENANCE = {"gz": GZ_PROVENANCE, "xia": XIA_PROVENANCE, "ji": JI_PROVENANCE, "lmd": LMD_PROVENANCE}
# The config file whose "our choice" comments REPORT.md lists: the one this run was given.
CONFIG_FILE = str(workflow.overwrite_configfiles[0]) if workflow.overwrite_configfiles else DEFAULT_CONFIG
REPORT_FILES = ["REPORT.md", "results/claims.csv", "results/tables/claims.md"]


PAPER_TARGETS = {p: paper_target(p) for p in PAPERS}
PAPER_TARGETS["all"] = REPORT_FILES


localrules:
    claims_paper,
    report_section,
    report_md,


rule claims_paper:
    """Score one paper's claims: results/claims/{paper}.csv (machine) and a Markdown scorecard."""
    input:
        claims=lambda wc: os.path.join(REPO, "config", "claims", f"{wc.paper}.yaml"),
        evidence=lambda wc: [f for f in PAPER_EVIDENCE[wc.paper] if f.endswith(".csv")],
        code=code("claims_report.py"),
    output:
        csv="results/claims/{paper}.csv",
        md=report("results/tables/claims_{paper}.md", category="Claims scorecard"),
    params:
        config_json=json.dumps(config, sort_keys=True),
    wildcard_constraints:
        paper="|".join(PAPERS),
    log:
        "logs/{paper}/claims.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("claims_report.py") + "{input.evidence:q} --paper {wildcards.paper} "
        "--claims {input.claims:q} --config-json {params.config_json:q} --out {output.csv:q} "
        "--markdown {output.md:q} > {log:q} 2>&1"


rule report_section:
    """One paper's part of REPORT.md: scorecard, figures with captions, tables, choices, provenance."""
    input:
        claims="results/claims/{paper}.csv",
        figures=lambda wc: [f for f in PAPER_FIGURES[wc.paper] if f.endswith(".png")],
        tables=lambda wc: [t for t in PAPER_TABLES[wc.paper] if t.endswith(".md")],
        provenance=lambda wc: PAPER_PROVENANCE[wc.paper],
        config=CONFIG_FILE,
        code=code("report_md.py"),
    output:
        "results/report/{paper}.md",
    params:
        config_json=json.dumps(config, sort_keys=True),
        captions=os.path.join(REPO, "workflow", "report"),
    wildcard_constraints:
        paper="|".join(PAPERS),
    log:
        "logs/{paper}/report_section.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("report_md.py") + "section --paper {wildcards.paper} --claims {input.claims:q} "
        "--figures {input.figures:q} --tables {input.tables:q} --captions {params.captions:q} "
        "--config {input.config:q} --config-json {params.config_json:q} "
        "--stage-provenance {input.provenance:q} --out {output:q} > {log:q} 2>&1"


rule report_md:
    """REPORT.md and results/claims.csv: every paper's section and scorecard, in paper order."""
    input:
        sections=expand("results/report/{paper}.md", paper=PAPERS),
        claims=expand("results/claims/{paper}.csv", paper=PAPERS),
        code=code("report_md.py"),
    output:
        md="REPORT.md",
        claims="results/claims.csv",
        claims_md=report("results/tables/claims.md", category="Claims scorecard"),
    log:
        "logs/report/report_md.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("report_md.py") + "assemble --workdir . --out {output.md:q} "
        "--claims-out {output.claims:q} --markdown {output.claims_md:q} > {log:q} 2>&1"
