# Data generation: seeded problem instances, saved with a summary CSV of their conditioning.

GZ_DATA_DIMS = gz_data_dims(config)
GZ_NEAR = GZ["theorem1"]["near_singular"]
GZ_DATA_SUMMARIES = expand("results/data/gz_problems_d{d}.csv", d=GZ_DATA_DIMS) + [
    f"results/data/gz_near_singular_d{GZ_NEAR['d']}.csv"
]


rule gz_problems:
    """X1, X2, Y1, Y2 with N(0,1) entries, `gz.data.trials` instances of dimension d."""
    output:
        npz="data/gz/problems_d{d}.npz",
        summary="results/data/gz_problems_d{d}.csv",
        provenance="results/data/provenance/gz_problems_d{d}.json",
    params:
        seed=SEED,
        trials=GZ["data"]["trials"],
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    log:
        "logs/data/gz_problems_d{d}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/gz_data.py --seed {params.seed} --d {wildcards.d} "
        "--trials {params.trials} --out {output.npz:q} --summary {output.summary:q} "
        "--provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_near_singular:
    """Problems whose X1 - X2 has a prescribed condition number (near-singular sweep of Theorem 1)."""
    output:
        npz="data/gz/near_singular_d{d}.npz",
        summary="results/data/gz_near_singular_d{d}.csv",
        provenance="results/data/provenance/gz_near_singular_d{d}.json",
    params:
        seed=SEED,
        trials=GZ_NEAR["trials"],
        conds=" ".join(repr(float(c)) for c in GZ_NEAR["conds"]),
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    log:
        "logs/data/gz_near_singular_d{d}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/gz_data.py --seed {params.seed} --d {wildcards.d} "
        "--trials {params.trials} --conds {params.conds} --out {output.npz:q} "
        "--summary {output.summary:q} --provenance {output.provenance:q} > {log:q} 2>&1"
