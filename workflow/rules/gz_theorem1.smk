# Gai & Zhang, Theorem 1: analytic verification of the closed-form three-layer exp network (eq. 12) in
# float64 and in high precision, near-singular X1 - X2, and the depth comparison of Sec. 2 (eqs. 7-10).
# Compute rules write results/gz/theorem1/*.csv; figure and table rules read only those CSVs.

T1 = GZ["theorem1"]
T1_MP = T1["mpmath"]
T1_MPF = T1["mpmath_failures"]
GZ_T1_DIR = "results/gz/theorem1"

if not set(T1_MPF["dims"]) <= set(T1["dims"]) or T1_MPF["trials"] > GZ["data"]["trials"]:
    raise ValueError(
        "gz.theorem1.mpmath_failures: dims must be among gz.theorem1.dims and trials <= gz.data.trials "
        "(the high-precision repeat of float64 failures uses the first problems of those cells)"
    )

if T1_MP["trials"] > GZ["data"]["trials"]:
    raise ValueError(
        f"gz.theorem1.mpmath.trials ({T1_MP['trials']}) must be <= gz.data.trials ({GZ['data']['trials']}): "
        "the high-precision repeat uses the first problems of the data stage"
    )


GZ_T1_CSVS = expand(f"{GZ_T1_DIR}/theorem1_d{{d}}.csv", d=T1["dims"])
GZ_DEPTH_CSVS = expand(f"{GZ_T1_DIR}/depth_d{{d}}.csv", d=T1["dims"])
GZ_T1_NEAR = f"{GZ_T1_DIR}/near_singular_d{GZ_NEAR['d']}.csv"
GZ_T1_MPMATH = f"{GZ_T1_DIR}/mpmath.csv"
GZ_T1_MPMATH_FAIL = f"{GZ_T1_DIR}/mpmath_float64_failures.csv"
GZ_PROP2_CSVS = expand(f"{GZ_T1_DIR}/prop2_d{{d}}.csv", d=T1["dims"])
GZ_T1_JOB_PROVENANCE = (
    expand(f"{GZ_T1_DIR}/provenance/theorem1_d{{d}}.json", d=T1["dims"])
    + expand(f"{GZ_T1_DIR}/provenance/depth_d{{d}}.json", d=T1["dims"])
    + expand(f"{GZ_T1_DIR}/provenance/prop2_d{{d}}.json", d=T1["dims"])
    + [
        f"{GZ_T1_DIR}/provenance/near_singular_d{GZ_NEAR['d']}.json",
        f"{GZ_T1_DIR}/provenance/mpmath.json",
        f"{GZ_T1_DIR}/provenance/mpmath_float64_failures.json",
    ]
)


localrules:
    gz_theorem1_provenance,
    fig_gz_theorem1_residual_vs_d,
    fig_gz_theorem1_alpha_heatmap,
    fig_gz_theorem1_near_singular,
    fig_gz_theorem1_mpmath,
    fig_gz_depth_comparison,
    table_gz_theorem1_summary,
    table_gz_depth_comparison,
    table_gz_depth_equations,


rule gz_theorem1:
    """Closed-form weights of eq. (12) for every alpha and trial of dimension d; residuals and identities."""
    input:
        problems="data/gz/problems_d{d}.npz",
        code=code("gz_theorem1.py"),
    output:
        csv=f"{GZ_T1_DIR}/theorem1_d{{d}}.csv",
        timing=f"{GZ_T1_DIR}/timing_d{{d}}.csv",
        provenance=f"{GZ_T1_DIR}/provenance/theorem1_d{{d}}.json",
    params:
        settings=lambda wc: settings(T1, ["alphas"], d=int(wc.d)),
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/gz/theorem1/theorem1_d{d}.log",
    benchmark:
        "results/benchmarks/gz/theorem1/theorem1_d{d}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_theorem1.py") + "{input.problems:q} --settings {params.settings:q} "
        "--out {output.csv:q} --timing {output.timing:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_theorem1_mpmath:
    """Theorem 1 at gz.theorem1.mpmath.dps digits on the first problems of each dimension."""
    input:
        problems=expand("data/gz/problems_d{d}.npz", d=T1_MP["dims"]),
        code=code("gz_theorem1_mpmath.py"),
    output:
        csv=GZ_T1_MPMATH,
        provenance=f"{GZ_T1_DIR}/provenance/mpmath.json",
    params:
        settings=settings(T1_MP, ["dps", "trials", "alphas"]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    log:
        "logs/gz/theorem1/mpmath.log",
    benchmark:
        "results/benchmarks/gz/theorem1/mpmath.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_theorem1_mpmath.py") + "{input.problems:q} --settings {params.settings:q} "
        "--out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_theorem1_mpmath_float64_failures:
    """Theorem 1 at gz.theorem1.mpmath.dps digits on the float64-failing cells (alpha near 1, d >= 8)."""
    input:
        problems=expand("data/gz/problems_d{d}.npz", d=T1_MPF["dims"]),
        code=code("gz_theorem1_mpmath.py"),
    output:
        csv=GZ_T1_MPMATH_FAIL,
        provenance=f"{GZ_T1_DIR}/provenance/mpmath_float64_failures.json",
    params:
        settings=settings(T1_MPF, ["trials", "alphas"], dps=T1_MP["dps"]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    log:
        "logs/gz/theorem1/mpmath_float64_failures.log",
    benchmark:
        "results/benchmarks/gz/theorem1/mpmath_float64_failures.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_theorem1_mpmath.py") + "{input.problems:q} --settings {params.settings:q} "
        "--out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_prop2:
    """Proposition 2: fraction of Gaussian draws where alpha Y1^-1 Y2 has no real logarithm (SPD null)."""
    input:
        code=code("gz_prop2.py"),
    output:
        csv=f"{GZ_T1_DIR}/prop2_d{{d}}.csv",
        provenance=f"{GZ_T1_DIR}/provenance/prop2_d{{d}}.json",
    params:
        settings=lambda wc: settings(T1["prop2"], ["draws"], seed=SEED, d=int(wc.d)),
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    log:
        "logs/gz/theorem1/prop2_d{d}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_prop2.py") + "--settings {params.settings:q} "
        "--out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_theorem1_near_singular:
    """Theorem 1 against the measured condition number of X1 - X2 (near-singular family)."""
    input:
        problems="data/gz/near_singular_d{d}.npz",
        code=code("gz_theorem1_near_singular.py"),
    output:
        csv=f"{GZ_T1_DIR}/near_singular_d{{d}}.csv",
        provenance=f"{GZ_T1_DIR}/provenance/near_singular_d{{d}}.json",
    params:
        settings=lambda wc: settings(GZ_NEAR, ["alpha"], d=int(wc.d)),
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/gz/theorem1/near_singular_d{d}.log",
    benchmark:
        "results/benchmarks/gz/theorem1/near_singular_d{d}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_theorem1_near_singular.py") + "{input.problems:q} --settings {params.settings:q} "
        "--out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_depth:
    """One layer (least squares; one equation only), two linear layers (ALS), three exp layers (Thm. 1)."""
    input:
        problems="data/gz/problems_d{d}.npz",
        code=code("gz_depth.py"),
    output:
        csv=f"{GZ_T1_DIR}/depth_d{{d}}.csv",
        provenance=f"{GZ_T1_DIR}/provenance/depth_d{{d}}.json",
    params:
        settings=lambda wc: settings(T1["depth"], seed=SEED, d=int(wc.d)),
    wildcard_constraints:
        d=r"\d+",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/gz/theorem1/depth_d{d}.log",
    benchmark:
        "results/benchmarks/gz/theorem1/depth_d{d}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_depth.py") + "{input.problems:q} --settings {params.settings:q} "
        "--out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_theorem1_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        jobs=GZ_T1_JOB_PROVENANCE,
        code=code("provenance_merge.py"),
    output:
        f"{GZ_T1_DIR}/provenance.json",
    log:
        "logs/gz/theorem1/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("provenance_merge.py") + "{input.jobs:q} --stage expnet --out {output:q} > {log:q} 2>&1"


rule fig_gz_theorem1_residual_vs_d:
    """Median and 10-90 % band of the float64 residual against d, one curve per alpha."""
    input:
        csvs=GZ_T1_CSVS,
        code=code("plot_gz_theorem1.py"),
    output:
        report_figure("gz_theorem1_residual_vs_d", "Gai & Zhang", "gz_theorem1_residual_vs_d.rst"),
    params:
        settings=settings(T1, ["rel_tol"]),
    log:
        "logs/gz/figures/gz_theorem1_residual_vs_d.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_gz_theorem1.py") + "residual-vs-d {input.csvs:q} --settings {params.settings:q} "
        "--out {output:q} > {log:q} 2>&1"


rule fig_gz_theorem1_alpha_heatmap:
    """alpha x d heatmap of the median log10 float64 residual."""
    input:
        csvs=GZ_T1_CSVS,
        code=code("plot_gz_theorem1.py"),
    output:
        report_figure("gz_theorem1_alpha_heatmap", "Gai & Zhang", "gz_theorem1_alpha_heatmap.rst"),
    log:
        "logs/gz/figures/gz_theorem1_alpha_heatmap.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_gz_theorem1.py") + "alpha-heatmap {input.csvs:q} --out {output:q} > {log:q} 2>&1"


rule fig_gz_theorem1_near_singular:
    """Residual and proof identities against cond(X1 - X2)."""
    input:
        csvs=GZ_T1_NEAR,
        code=code("plot_gz_theorem1.py"),
    output:
        report_figure("gz_theorem1_near_singular", "Gai & Zhang", "gz_theorem1_near_singular.rst"),
    params:
        settings=settings(T1, ["rel_tol"]),
    log:
        "logs/gz/figures/gz_theorem1_near_singular.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_gz_theorem1.py") + "near-singular {input.csvs:q} --settings {params.settings:q} "
        "--out {output:q} > {log:q} 2>&1"


rule fig_gz_theorem1_mpmath:
    """float64 against high-precision residual on the same problems."""
    input:
        csvs=GZ_T1_MPMATH,
        code=code("plot_gz_theorem1.py"),
    output:
        report_figure("gz_theorem1_mpmath", "Gai & Zhang", "gz_theorem1_mpmath.rst"),
    params:
        settings=settings(T1, ["rel_tol"], mp_rel_tol=T1_MP["rel_tol"]),
    log:
        "logs/gz/figures/gz_theorem1_mpmath.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_gz_theorem1.py") + "mpmath {input.csvs:q} --settings {params.settings:q} "
        "--out {output:q} > {log:q} 2>&1"


rule fig_gz_depth_comparison:
    """Residual of each equation against d for one layer, two linear layers and three exp layers."""
    input:
        csvs=GZ_DEPTH_CSVS,
        code=code("plot_gz_theorem1.py"),
    output:
        report_figure("gz_depth_comparison", "Gai & Zhang", "gz_depth_comparison.rst"),
    log:
        "logs/gz/figures/gz_depth_comparison.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_gz_theorem1.py") + "depth {input.csvs:q} --out {output:q} > {log:q} 2>&1"


rule table_gz_theorem1_summary:
    """Per (d, alpha): median / max residual, fraction below rel_tol, flagged count."""
    input:
        csvs=GZ_T1_CSVS,
        code=code("table_gz_theorem1.py"),
    output:
        table("gz_theorem1_summary"),
    params:
        settings=settings(T1, ["rel_tol"]),
    log:
        "logs/gz/tables/gz_theorem1_summary.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_gz_theorem1.py") + "summary {input.csvs:q} --settings {params.settings:q} "
        "--out {output:q} > {log:q} 2>&1"


rule table_gz_depth_comparison:
    """model x d: median residual of each equation, parameter counts, number of equations 2 d^2."""
    input:
        csvs=GZ_DEPTH_CSVS,
        code=code("table_gz_theorem1.py"),
    output:
        table("gz_depth_comparison"),
    log:
        "logs/gz/tables/gz_depth_comparison.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_gz_theorem1.py") + "depth {input.csvs:q} --out {output:q} > {log:q} 2>&1"


rule table_gz_depth_equations:
    """(d, number of layers): equations solved to gz.theorem1.rel_tol by each model and the best one."""
    input:
        csvs=GZ_DEPTH_CSVS,
        code=code("table_gz_theorem1.py"),
    output:
        table("gz_depth_equations"),
    params:
        settings=settings(T1, ["rel_tol"]),
    log:
        "logs/gz/tables/gz_depth_equations.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_gz_theorem1.py") + "equations {input.csvs:q} --settings {params.settings:q} "
        "--out {output:q} > {log:q} 2>&1"


GZ_T1_FIGURES = [
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
GZ_T1_TABLES = table("gz_theorem1_summary") + table("gz_depth_comparison") + table("gz_depth_equations")
GZ_T1_PROVENANCE = [f"{GZ_T1_DIR}/provenance.json"]

GZ_FIGURES += GZ_T1_FIGURES
GZ_TABLES += GZ_T1_TABLES
# The near-singular and mpmath CSVs feed figures only (no table), so they are final results too.
GZ_RESULTS += GZ_T1_PROVENANCE + [GZ_T1_NEAR, GZ_T1_MPMATH, GZ_T1_MPMATH_FAIL] + GZ_PROP2_CSVS
GZ_EVIDENCE += (
    GZ_T1_CSVS
    + GZ_DEPTH_CSVS
    + GZ_PROP2_CSVS
    + [GZ_T1_NEAR, GZ_T1_MPMATH, GZ_T1_MPMATH_FAIL]
    + [t for t in GZ_T1_TABLES if t.endswith(".csv")]
)
GZ_PROVENANCE += GZ_T1_PROVENANCE
