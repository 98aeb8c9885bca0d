# Gai & Zhang, data: seeded problem instances, saved with a summary CSV of their conditioning.
#
# The Gai & Zhang exports for the Snakefile and report.smk start here (this file is included before
# gz_theorem1.smk and gz_sscore.smk, which add their files): GZ_FIGURES, GZ_TABLES, GZ_RESULTS (the
# other final outputs), GZ_EVIDENCE (every CSV a gz claim may cite) and GZ_PROVENANCE.

GZ_DATA_DIMS = gz_data_dims(config)
GZ_NEAR = GZ["theorem1"]["near_singular"]
GZ_DATA_SUMMARIES = expand("results/gz/data/gz_problems_d{d}.csv", d=GZ_DATA_DIMS) + [
    f"results/gz/data/gz_near_singular_d{GZ_NEAR['d']}.csv"
]

GZ_FIGURES = []
GZ_TABLES = []
GZ_RESULTS = list(GZ_DATA_SUMMARIES)
GZ_EVIDENCE = list(GZ_DATA_SUMMARIES)
GZ_PROVENANCE = []


rule gz_data:
    """X1, X2, Y1, Y2 with N(0,1) entries, `gz.data.trials` instances of dimension d."""
    input:
        code=code("gz_data.py"),
    output:
        npz="data/gz/problems_d{d}.npz",
        summary="results/gz/data/gz_problems_d{d}.csv",
        provenance="results/gz/data/provenance/gz_problems_d{d}.json",
    params:
        settings=lambda wc: settings(GZ["data"], ["trials"], seed=SEED, d=int(wc.d)),
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    log:
        "logs/gz/data/gz_problems_d{d}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_data.py") + "--settings {params.settings:q} --out {output.npz:q} "
        "--summary {output.summary:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_data_near_singular:
    """Problems whose X1 - X2 has a prescribed condition number (near-singular sweep of Theorem 1)."""
    input:
        code=code("gz_data_near_singular.py"),
    output:
        npz="data/gz/near_singular_d{d}.npz",
        summary="results/gz/data/gz_near_singular_d{d}.csv",
        provenance="results/gz/data/provenance/gz_near_singular_d{d}.json",
    params:
        settings=lambda wc: settings(GZ_NEAR, ["trials", "conds"], seed=SEED, d=int(wc.d)),
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    log:
        "logs/gz/data/gz_near_singular_d{d}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_data_near_singular.py") + "--settings {params.settings:q} --out {output.npz:q} "
        "--summary {output.summary:q} --provenance {output.provenance:q} > {log:q} 2>&1"
