# Xia (talk abstract): ReLU mass matrix A and Gauss-Newton matrix H. Conditioning, spectrum, CG,
# off-diagonal ranks and fast structured direct solvers. Compute rules write results/xia/*.csv;
# table and figure rules read only those CSVs. Each script reads one --settings JSON (its config
# slice, see the settings dataclasses in scripts/nnmat/xia/studies.py, structured.py, tables.py).

XIA = config["xia"]
# Peak memory of each study from its sizes (nnmat.config.xia_bytes), declared as mem_mb below.
XIA_BYTES = xia_bytes(XIA)
XIA_DIR = "results/xia"
XIA_RESULT_CSVS = [
    f"{XIA_DIR}/{name}.csv"
    for name in (
        "cond_1d",
        "cond_mpmath",
        "cond_random_1d",
        "cond_2d",
        "quad_check_2d",
        "spectrum",
        "modes",
        "pd",
        "cg",
        "ranks",
        "solver",
        "solver_timing",
    )
]
XIA_TABLE_STEMS = [
    "xia_cond_fit",
    "xia_cond_1d",
    "xia_mpmath_check",
    "xia_quadrature",
    "xia_modes",
    "xia_pd",
    "xia_ranks",
    "xia_cg",
    "xia_solver",
    "xia_solver_timing",
]
XIA_FIGURE_STEMS = [
    "cond_vs_n",
    "eigen_decay",
    "modes",
    "offdiag_ranks",
    "cg_iterations",
    "solver_time_accuracy",
]
XIA_JOB_PROVENANCE = [
    f"{XIA_DIR}/provenance/{job}.json"
    for job in ("cond_1d", "cond_random_1d", "cond_2d", "spectrum", "cg", "ranks", "solver")
]

# What the lead's Snakefile and report.smk use.
XIA_FIGURES = [f for stem in XIA_FIGURE_STEMS for f in figure(f"xia_{stem}")]
XIA_TABLES = [f for stem in XIA_TABLE_STEMS for f in table(stem)]
XIA_PROVENANCE = [f"{XIA_DIR}/provenance.json"]
# every result CSV is read by table_xia, so only the merged provenance is a further final output
XIA_RESULTS = XIA_PROVENANCE
# the claims of config/claims.yaml on this paper cite the table CSVs only
XIA_EVIDENCE = [f for f in XIA_TABLES if f.endswith(".csv")]
# The 2D unit setting shared by every job that builds 2D matrices (entries are exact: no grid).
XIA_2D = {k: XIA["d2"][k] for k in ("margin",)}


localrules:
    xia_provenance,
    table_xia,


rule xia_cond_1d:
    """cond(A), cond(H) vs n, 1D uniform breakpoints; lambda_min by reformulation, checked with mpmath."""
    input:
        code=code("xia_cond_1d.py"),
    output:
        cond=f"{XIA_DIR}/cond_1d.csv",
        mpmath=f"{XIA_DIR}/cond_mpmath.csv",
        provenance=f"{XIA_DIR}/provenance/cond_1d.json",
    params:
        settings=settings(XIA["cond"], ["ns", "naive_max_n", "mpmath_ns", "mpmath_dps"]),
    threads: 1
    resources:
        mem_mb=declared_mem_mb(XIA_BYTES["xia.cond.ns"], 2000),
        runtime=10,
    log:
        "logs/xia/cond_1d.log",
    benchmark:
        "results/benchmarks/xia/cond_1d.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("xia_cond_1d.py")
            + "--settings {params.settings:q} --out {output.cond:q} --mpmath-out {output.mpmath:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule xia_random_1d:
    """cond(A), cond(H) vs n for random breakpoints and mixed +-1 directions (seeded draws)."""
    input:
        code=code("xia_random_1d.py"),
    output:
        cond=f"{XIA_DIR}/cond_random_1d.csv",
        provenance=f"{XIA_DIR}/provenance/cond_random_1d.json",
    params:
        settings=settings(XIA["random_1d"], ["ns", "draws"], seed=SEED),
    threads: 1
    resources:
        mem_mb=declared_mem_mb(XIA_BYTES["xia.random_1d.ns"], 1000),
        runtime=10,
    log:
        "logs/xia/random_1d.log",
    benchmark:
        "results/benchmarks/xia/random_1d.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("xia_random_1d.py")
            + "--settings {params.settings:q} --out {output.cond:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule xia_cond_2d:
    """A and H on the unit square (exact polygon entries): cond vs n, and the midpoint-grid check."""
    input:
        code=code("xia_cond_2d.py"),
    output:
        cond=f"{XIA_DIR}/cond_2d.csv",
        quad=f"{XIA_DIR}/quad_check_2d.csv",
        provenance=f"{XIA_DIR}/provenance/cond_2d.json",
    params:
        settings=settings(
            XIA["d2"], ["ns", "draws", "margin", "quad_points", "refine_n"], seed=SEED
        ),
    threads: 1
    resources:
        mem_mb=declared_mem_mb(XIA_BYTES["xia.d2.ns"], 2000),
        runtime=10,
    log:
        "logs/xia/2d.log",
    benchmark:
        "results/benchmarks/xia/2d.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("xia_cond_2d.py")
            + "--settings {params.settings:q} --out {output.cond:q} --quad-out {output.quad:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule xia_spectrum:
    """Eigenvalue decay, extreme modes, and Cholesky / lambda_min checks (distinct vs duplicated units)."""
    input:
        code=code("xia_spectrum.py"),
    output:
        eig=f"{XIA_DIR}/spectrum.csv",
        modes=f"{XIA_DIR}/modes.csv",
        pd=f"{XIA_DIR}/pd.csv",
        provenance=f"{XIA_DIR}/provenance/spectrum.json",
    params:
        settings=settings(
            XIA["spectrum"], ["n"], seed=SEED, draws=XIA["random_1d"]["draws"], **XIA_2D
        ),
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    log:
        "logs/xia/spectrum.log",
    benchmark:
        "results/benchmarks/xia/spectrum.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("xia_spectrum.py")
            + "--settings {params.settings:q} --eig-out {output.eig:q} "
            "--modes-out {output.modes:q} --pd-out {output.pd:q} --provenance {output.provenance:q} "
            "> {log:q} 2>&1"
        )


rule xia_cg:
    """CG iteration counts: no preconditioner, Jacobi, hat-basis change (1D, all directions +1 only)."""
    input:
        code=code("xia_cg.py"),
    output:
        cg=f"{XIA_DIR}/cg.csv",
        provenance=f"{XIA_DIR}/provenance/cg.json",
    params:
        settings=settings(
            XIA["cg"],
            ["ns", "rtol", "maxiter_factor"],
            seed=SEED,
            draws=XIA["random_1d"]["draws"],
            **XIA_2D,
        ),
    threads: 1
    resources:
        mem_mb=declared_mem_mb(XIA_BYTES["xia.cg.ns"], 1500),
        runtime=15,
    log:
        "logs/xia/cg.log",
    benchmark:
        "results/benchmarks/xia/cg.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("xia_cg.py")
            + "--settings {params.settings:q} --out {output.cg:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule xia_structure:
    """Numerical ranks of the off-diagonal blocks of a hierarchical partition vs tolerance."""
    input:
        code=code("xia_structure.py"),
    output:
        ranks=f"{XIA_DIR}/ranks.csv",
        provenance=f"{XIA_DIR}/provenance/ranks.json",
    params:
        settings=settings(
            XIA["structure"], ["n_1d", "ns_2d", "min_block", "tols"], seed=SEED, **XIA_2D
        ),
    threads: 1
    resources:
        mem_mb=declared_mem_mb(XIA_BYTES["xia.structure.n_1d"], 2000),
        runtime=10,
    log:
        "logs/xia/structure.log",
    benchmark:
        "results/benchmarks/xia/structure.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("xia_structure.py")
            + "--settings {params.settings:q} --out {output.ranks:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule xia_solver:
    """O(n) hat-basis solver, HODLR Cholesky and HODLR Woodbury vs dense Cholesky and the normal
    equations (the unstable null), 1D uniform, A."""
    input:
        code=code("xia_solver.py"),
    output:
        acc=f"{XIA_DIR}/solver.csv",
        timing=f"{XIA_DIR}/solver_timing.csv",
        provenance=f"{XIA_DIR}/provenance/solver.json",
    params:
        settings=settings(XIA["solver"], ["ns", "dense_max_n", "leaf"], seed=SEED),
    # one thread: OpenBLAS 0.3.31 dpotrf segfaults (instead of reporting "not positive definite") on
    # the numerically indefinite A at n = 16384 when threaded; single-threaded it fails cleanly.
    threads: 1
    resources:
        # dense A in float64 (8 n^2 bytes) plus row-chunk temporaries
        mem_mb=declared_mem_mb(XIA_BYTES["xia.solver.dense_max_n"], 1500),
        runtime=20,
    log:
        "logs/xia/solver.log",
    benchmark:
        "results/benchmarks/xia/solver.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("xia_solver.py")
            + "--settings {params.settings:q} --out {output.acc:q} "
            "--timing-out {output.timing:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule xia_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        jobs=XIA_JOB_PROVENANCE,
        code=code("provenance_merge.py"),
    output:
        merged=f"{XIA_DIR}/provenance.json",
    log:
        "logs/xia/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("provenance_merge.py")
            + "{input.jobs:q} --stage relu --out {output.merged:q} > {log:q} 2>&1"
        )


rule table_xia:
    """Every xia_* table (CSV + Markdown) from the result CSVs; the growth-exponent fits live here."""
    input:
        results=XIA_RESULT_CSVS,
        code=code("table_xia.py"),
    output:
        tables=XIA_TABLES,
    params:
        settings=settings(XIA["cond"], ["fit_min_n", "ci_level"]),
    log:
        "logs/xia/tables.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("table_xia.py")
            + "{input.results:q} --settings {params.settings:q} --out {output.tables:q} > {log:q} 2>&1"
        )


# One rule per figure (a report caption cannot contain a wildcard), each drawn from the CSVs only.
for _stem in XIA_FIGURE_STEMS:

    rule:
        name:
            f"fig_xia_{_stem}"
        input:
            results=XIA_RESULT_CSVS,
            tables=[f"results/tables/{stem}.csv" for stem in XIA_TABLE_STEMS],
            code=code("plot_xia.py"),
        output:
            figure=report_figure(f"xia_{_stem}", "Xia: ReLU matrices", f"xia_{_stem}.rst"),
        params:
            figure=_stem,
        localrule: True
        log:
            f"logs/xia/figures/xia_{_stem}.log",
        conda:
            "../envs/nnmat.yaml"
        shell:
            (
                python("plot_xia.py")
                + "{params.figure} {input.results:q} {input.tables:q} --out {output.figure:q} "
                "> {log:q} 2>&1"
            )

