# Gai & Zhang, Theorem 1: analytic verification of the closed-form three-layer exp network (eq. 12) in
# float64 and in high precision, near-singular X1 - X2, and the depth comparison of Sec. 2 (eqs. 7-10).
# Compute rules write results/expnet/*.csv; figure and table rules read only those CSVs.

T1 = GZ["theorem1"]
T1_MP = T1["mpmath"]
EXPNET_DIR = "results/expnet"
# Depth comparison: the exp network at alpha = 2.0 (our choice: the first alpha > 1 of the default config,
# far from the 1/(1 - alpha) pole; fixed so that editing gz.theorem1.alphas reruns only the theorem1 jobs)
# and at most 20 ALS sweeps for W2 W1 (it converges in 2). An optional gz.theorem1.depth mapping
# {alpha, als_iters} overrides both once the schema declares it.
EXPNET_DEPTH = {"alpha": 2.0, "als_iters": 20, **T1.get("depth", {})}

if T1_MP["trials"] > GZ["data"]["trials"]:
    raise ValueError(
        f"gz.theorem1.mpmath.trials ({T1_MP['trials']}) must be <= gz.data.trials ({GZ['data']['trials']}): "
        "the high-precision repeat uses the first problems of the data stage"
    )


EXPNET_THEOREM1 = expand(f"{EXPNET_DIR}/theorem1_d{{d}}.csv", d=T1["dims"])
EXPNET_DEPTH_CSVS = expand(f"{EXPNET_DIR}/depth_d{{d}}.csv", d=T1["dims"])
EXPNET_NEAR = f"{EXPNET_DIR}/near_singular_d{GZ_NEAR['d']}.csv"
EXPNET_MPMATH = f"{EXPNET_DIR}/mpmath.csv"
EXPNET_PROVENANCE = (
    expand(f"{EXPNET_DIR}/provenance/theorem1_d{{d}}.json", d=T1["dims"])
    + expand(f"{EXPNET_DIR}/provenance/depth_d{{d}}.json", d=T1["dims"])
    + [f"{EXPNET_DIR}/provenance/near_singular_d{GZ_NEAR['d']}.json", f"{EXPNET_DIR}/provenance/mpmath.json"]
)


localrules:
    expnet_provenance,
    fig_gz_theorem1_residual_vs_d,
    fig_gz_theorem1_alpha_heatmap,
    fig_gz_theorem1_near_singular,
    fig_gz_theorem1_mpmath,
    fig_gz_depth_comparison,
    table_gz_theorem1_summary,
    table_gz_depth_comparison,


rule expnet_theorem1:
    """Closed-form weights of eq. (12) for every alpha and trial of dimension d; residuals and identities."""
    input:
        "data/gz/problems_d{d}.npz",
    output:
        csv=f"{EXPNET_DIR}/theorem1_d{{d}}.csv",
        timing=f"{EXPNET_DIR}/timing_d{{d}}.csv",
        provenance=f"{EXPNET_DIR}/provenance/theorem1_d{{d}}.json",
    params:
        alphas=" ".join(repr(float(a)) for a in T1["alphas"]),
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/expnet/theorem1_d{d}.log",
    benchmark:
        "results/benchmarks/expnet/theorem1_d{d}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/expnet_theorem1.py {input:q} --d {wildcards.d} "
            "--alphas {params.alphas} --out {output.csv:q} --timing {output.timing:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule expnet_mpmath:
    """Theorem 1 at gz.theorem1.mpmath.dps digits on the first problems of each dimension."""
    input:
        expand("data/gz/problems_d{d}.npz", d=T1_MP["dims"]),
    output:
        csv=EXPNET_MPMATH,
        provenance=f"{EXPNET_DIR}/provenance/mpmath.json",
    params:
        dps=T1_MP["dps"],
        trials=T1_MP["trials"],
        alphas=" ".join(repr(float(a)) for a in T1_MP["alphas"]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    log:
        "logs/expnet/mpmath.log",
    benchmark:
        "results/benchmarks/expnet/mpmath.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/expnet_mpmath.py {input:q} --dps {params.dps} "
            "--trials {params.trials} --alphas {params.alphas} --out {output.csv:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule expnet_near_singular:
    """Theorem 1 against the measured condition number of X1 - X2 (near-singular family)."""
    input:
        "data/gz/near_singular_d{d}.npz",
    output:
        csv=f"{EXPNET_DIR}/near_singular_d{{d}}.csv",
        provenance=f"{EXPNET_DIR}/provenance/near_singular_d{{d}}.json",
    params:
        alpha=GZ_NEAR["alpha"],
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/expnet/near_singular_d{d}.log",
    benchmark:
        "results/benchmarks/expnet/near_singular_d{d}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/expnet_near_singular.py {input:q} --d {wildcards.d} "
            "--alpha {params.alpha} --out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule expnet_depth:
    """One layer (least squares; one equation only), two linear layers (ALS), three exp layers (Thm. 1)."""
    input:
        "data/gz/problems_d{d}.npz",
    output:
        csv=f"{EXPNET_DIR}/depth_d{{d}}.csv",
        provenance=f"{EXPNET_DIR}/provenance/depth_d{{d}}.json",
    params:
        seed=SEED,
        alpha=EXPNET_DEPTH["alpha"],
        als_iters=EXPNET_DEPTH["als_iters"],
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/expnet/depth_d{d}.log",
    benchmark:
        "results/benchmarks/expnet/depth_d{d}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/expnet_depth.py {input:q} --d {wildcards.d} --seed {params.seed} "
            "--alpha {params.alpha} --als-iters {params.als_iters} --out {output.csv:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule expnet_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        EXPNET_PROVENANCE,
    output:
        f"{EXPNET_DIR}/provenance.json",
    log:
        "logs/expnet/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/provenance_merge.py {input:q} --stage expnet --out {output:q} > {log:q} 2>&1"


rule fig_gz_theorem1_residual_vs_d:
    """Median and 10-90 % band of the float64 residual against d, one curve per alpha."""
    input:
        EXPNET_THEOREM1,
    output:
        report_figure("gz_theorem1_residual_vs_d", "Gai & Zhang", "gz_theorem1_residual_vs_d.rst"),
    params:
        rel_tol=T1["rel_tol"],
    log:
        "logs/figures/gz_theorem1_residual_vs_d.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_gz_theorem1.py residual-vs-d {input:q} --rel-tol {params.rel_tol} "
        "--out {output:q} > {log:q} 2>&1"


rule fig_gz_theorem1_alpha_heatmap:
    """alpha x d heatmap of the median log10 float64 residual."""
    input:
        EXPNET_THEOREM1,
    output:
        report_figure("gz_theorem1_alpha_heatmap", "Gai & Zhang", "gz_theorem1_alpha_heatmap.rst"),
    log:
        "logs/figures/gz_theorem1_alpha_heatmap.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_gz_theorem1.py alpha-heatmap {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_gz_theorem1_near_singular:
    """Residual and proof identities against cond(X1 - X2)."""
    input:
        EXPNET_NEAR,
    output:
        report_figure("gz_theorem1_near_singular", "Gai & Zhang", "gz_theorem1_near_singular.rst"),
    params:
        rel_tol=T1["rel_tol"],
    log:
        "logs/figures/gz_theorem1_near_singular.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_gz_theorem1.py near-singular {input:q} --rel-tol {params.rel_tol} "
        "--out {output:q} > {log:q} 2>&1"


rule fig_gz_theorem1_mpmath:
    """float64 against high-precision residual on the same problems."""
    input:
        EXPNET_MPMATH,
    output:
        report_figure("gz_theorem1_mpmath", "Gai & Zhang", "gz_theorem1_mpmath.rst"),
    params:
        rel_tol=T1["rel_tol"],
        mp_rel_tol=T1_MP["rel_tol"],
    log:
        "logs/figures/gz_theorem1_mpmath.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_gz_theorem1.py mpmath {input:q} --rel-tol {params.rel_tol} "
        "--mp-rel-tol {params.mp_rel_tol} --out {output:q} > {log:q} 2>&1"


rule fig_gz_depth_comparison:
    """Residual of each equation against d for one layer, two linear layers and three exp layers."""
    input:
        EXPNET_DEPTH_CSVS,
    output:
        report_figure("gz_depth_comparison", "Gai & Zhang", "gz_depth_comparison.rst"),
    log:
        "logs/figures/gz_depth_comparison.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_gz_theorem1.py depth {input:q} --out {output:q} > {log:q} 2>&1"


rule table_gz_theorem1_summary:
    """Per (d, alpha): median / max residual, fraction below rel_tol, flagged count."""
    input:
        EXPNET_THEOREM1,
    output:
        table("gz_theorem1_summary"),
    params:
        rel_tol=T1["rel_tol"],
    log:
        "logs/tables/gz_theorem1_summary.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_gz_theorem1.py summary {input:q} --rel-tol {params.rel_tol} "
        "--out {output:q} > {log:q} 2>&1"


rule table_gz_depth_comparison:
    """model x d: median residual of each equation, parameter counts, number of equations 2 d^2."""
    input:
        EXPNET_DEPTH_CSVS,
    output:
        table("gz_depth_comparison"),
    log:
        "logs/tables/gz_depth_comparison.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_gz_theorem1.py depth {input:q} --out {output:q} > {log:q} 2>&1"


EXPNET_FIGURES = [
    f
    for stem in (
        "gz_theorem1_residual_vs_d",
        "gz_theorem1_alpha_heatmap",
        "gz_theorem1_near_singular",
        "gz_theorem1_mpmath",
        "gz_depth_comparison",
    )
    for f in figure(stem)
]
# The merged provenance rides with the tables so that `rule all` builds it.
EXPNET_TABLES = table("gz_theorem1_summary") + table("gz_depth_comparison") + [f"{EXPNET_DIR}/provenance.json"]
