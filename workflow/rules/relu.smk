# Xia (paper 002): ReLU mass matrix A and Gauss-Newton matrix H. Conditioning, spectrum, CG,
# off-diagonal ranks and fast structured direct solvers. Compute rules write results/relu/*.csv;
# table and figure rules read only those CSVs.

XIA = config["xia"]
RELU_DIR = "results/relu"
RELU_RESULTS = [
    f"{RELU_DIR}/{name}.csv"
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
RELU_PROVENANCE = [
    f"{RELU_DIR}/provenance/{job}.json"
    for job in ("cond_1d", "cond_random_1d", "cond_2d", "spectrum", "cg", "ranks", "solver")
]
# The merged provenance rides with the tables so that `rule all` builds it.
RELU_TABLES = [f for stem in XIA_TABLE_STEMS for f in table(stem)] + [f"{RELU_DIR}/provenance.json"]
RELU_FIGURES = [f for stem in XIA_FIGURE_STEMS for f in figure(f"xia_{stem}")]


localrules:
    relu_provenance,
    table_xia,


rule relu_cond_1d:
    """cond(A), cond(H) vs n, 1D uniform breakpoints; lambda_min by reformulation, checked with mpmath."""
    output:
        cond=f"{RELU_DIR}/cond_1d.csv",
        mpmath=f"{RELU_DIR}/cond_mpmath.csv",
        provenance=f"{RELU_DIR}/provenance/cond_1d.json",
    params:
        ns=" ".join(str(int(v)) for v in XIA["cond"]["ns"]),
        naive_max_n=XIA["cond"]["naive_max_n"],
        mpmath_ns=" ".join(str(int(v)) for v in XIA["cond"]["mpmath_ns"]),
        dps=XIA["cond"]["mpmath_dps"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/relu/cond_1d.log",
    benchmark:
        "results/benchmarks/relu/cond_1d.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/relu_cond_1d.py --ns {params.ns} --naive-max-n {params.naive_max_n} "
            "--mpmath-ns {params.mpmath_ns} --mpmath-dps {params.dps} --out {output.cond:q} "
            "--mpmath-out {output.mpmath:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule relu_random_1d:
    """cond(A), cond(H) vs n for random breakpoints and mixed +-1 directions (seeded draws)."""
    output:
        cond=f"{RELU_DIR}/cond_random_1d.csv",
        provenance=f"{RELU_DIR}/provenance/cond_random_1d.json",
    params:
        seed=SEED,
        ns=" ".join(str(int(v)) for v in XIA["random_1d"]["ns"]),
        draws=XIA["random_1d"]["draws"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/relu/random_1d.log",
    benchmark:
        "results/benchmarks/relu/random_1d.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/relu_random_1d.py --seed {params.seed} --ns {params.ns} "
            "--draws {params.draws} --out {output.cond:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule relu_2d:
    """A and H on the unit square by midpoint quadrature: cond vs n, and the grid-refinement check."""
    output:
        cond=f"{RELU_DIR}/cond_2d.csv",
        quad=f"{RELU_DIR}/quad_check_2d.csv",
        provenance=f"{RELU_DIR}/provenance/cond_2d.json",
    params:
        seed=SEED,
        ns=" ".join(str(int(v)) for v in XIA["d2"]["ns"]),
        draws=XIA["d2"]["draws"],
        margin=XIA["d2"]["margin"],
        q=XIA["d2"]["quad_points"],
        refine_n=XIA["d2"]["refine_n"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/relu/2d.log",
    benchmark:
        "results/benchmarks/relu/2d.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/relu_2d.py --seed {params.seed} --ns {params.ns} --draws {params.draws} "
            "--margin {params.margin} --quad-points {params.q} --refine-n {params.refine_n} "
            "--out {output.cond:q} --quad-out {output.quad:q} --provenance {output.provenance:q} "
            "> {log:q} 2>&1"
        )


rule relu_spectrum:
    """Eigenvalue decay, extreme modes, and Cholesky / lambda_min checks (distinct vs duplicated units)."""
    output:
        eig=f"{RELU_DIR}/spectrum.csv",
        modes=f"{RELU_DIR}/modes.csv",
        pd=f"{RELU_DIR}/pd.csv",
        provenance=f"{RELU_DIR}/provenance/spectrum.json",
    params:
        seed=SEED,
        n=XIA["spectrum"]["n"],
        draws=XIA["random_1d"]["draws"],
        margin=XIA["d2"]["margin"],
        q=XIA["d2"]["quad_points"],
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    log:
        "logs/relu/spectrum.log",
    benchmark:
        "results/benchmarks/relu/spectrum.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/relu_spectrum.py --seed {params.seed} --n {params.n} "
            "--draws {params.draws} --margin {params.margin} --quad-points {params.q} "
            "--eig-out {output.eig:q} "
            "--modes-out {output.modes:q} --pd-out {output.pd:q} --provenance {output.provenance:q} "
            "> {log:q} 2>&1"
        )


rule relu_cg:
    """CG iteration counts: no preconditioner, Jacobi, hat-basis change (1D)."""
    output:
        cg=f"{RELU_DIR}/cg.csv",
        provenance=f"{RELU_DIR}/provenance/cg.json",
    params:
        seed=SEED,
        ns=" ".join(str(int(v)) for v in XIA["cg"]["ns"]),
        draws=XIA["random_1d"]["draws"],
        rtol=XIA["cg"]["rtol"],
        maxiter_factor=XIA["cg"]["maxiter_factor"],
        margin=XIA["d2"]["margin"],
        q=XIA["d2"]["quad_points"],
    threads: 1
    resources:
        mem_mb=1500,
        runtime=15,
    log:
        "logs/relu/cg.log",
    benchmark:
        "results/benchmarks/relu/cg.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/relu_cg.py --seed {params.seed} --ns {params.ns} --draws {params.draws} "
            "--rtol {params.rtol} --maxiter-factor {params.maxiter_factor} --margin {params.margin} "
            "--quad-points {params.q} "
            "--out {output.cg:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule relu_structure:
    """Numerical ranks of the off-diagonal blocks of a hierarchical partition vs tolerance."""
    output:
        ranks=f"{RELU_DIR}/ranks.csv",
        provenance=f"{RELU_DIR}/provenance/ranks.json",
    params:
        seed=SEED,
        n_1d=XIA["structure"]["n_1d"],
        ns_2d=" ".join(str(int(v)) for v in XIA["structure"]["ns_2d"]),
        min_block=XIA["structure"]["min_block"],
        tols=" ".join(repr(float(v)) for v in XIA["structure"]["tols"]),
        margin=XIA["d2"]["margin"],
        q=XIA["d2"]["quad_points"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/relu/structure.log",
    benchmark:
        "results/benchmarks/relu/structure.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/relu_structure.py --seed {params.seed} --n-1d {params.n_1d} "
            "--ns-2d {params.ns_2d} --min-block {params.min_block} --tols {params.tols} "
            "--margin {params.margin} --quad-points {params.q} --out {output.ranks:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule relu_solver:
    """O(n) hat-basis solver, HODLR Cholesky and HODLR Woodbury vs dense Cholesky (1D uniform, A)."""
    output:
        acc=f"{RELU_DIR}/solver.csv",
        timing=f"{RELU_DIR}/solver_timing.csv",
        provenance=f"{RELU_DIR}/provenance/solver.json",
    params:
        seed=SEED,
        ns=" ".join(str(int(v)) for v in XIA["solver"]["ns"]),
        dense_max_n=XIA["solver"]["dense_max_n"],
        leaf=XIA["solver"]["leaf"],
    # one thread: OpenBLAS 0.3.31 dpotrf segfaults (instead of reporting "not positive definite") on
    # the numerically indefinite A at n = 16384 when threaded; single-threaded it fails cleanly.
    threads: 1
    resources:
        # dense A in float64 (8 n^2 bytes) plus row-chunk temporaries
        mem_mb=int(8 * min(max(XIA["solver"]["ns"]), XIA["solver"]["dense_max_n"]) ** 2 / 2**20 * 1.3) + 1500,
        runtime=20,
    log:
        "logs/relu/solver.log",
    benchmark:
        "results/benchmarks/relu/solver.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/relu_solver.py --seed {params.seed} --ns {params.ns} "
            "--dense-max-n {params.dense_max_n} --leaf {params.leaf} --out {output.acc:q} "
            "--timing-out {output.timing:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule relu_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        RELU_PROVENANCE,
    output:
        f"{RELU_DIR}/provenance.json",
    log:
        "logs/relu/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/provenance_merge.py {input:q} --stage relu --out {output:q} > {log:q} 2>&1"


rule table_xia:
    """Every xia_* table (CSV + Markdown) from the result CSVs; the growth-exponent fits live here."""
    input:
        RELU_RESULTS,
    output:
        [f for stem in XIA_TABLE_STEMS for f in table(stem)],
    params:
        fit_min_n=XIA["cond"]["fit_min_n"],
        ci_level=XIA["cond"]["ci_level"],
    log:
        "logs/relu/tables.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_xia.py {input:q} --fit-min-n {params.fit_min_n} "
        "--ci-level {params.ci_level} --out {output:q} > {log:q} 2>&1"


# One rule per figure (a report caption cannot contain a wildcard), each drawn from the CSVs only.
for _stem in XIA_FIGURE_STEMS:

    rule:
        name:
            f"fig_xia_{_stem}"
        input:
            RELU_RESULTS,
            [f"results/tables/{stem}.csv" for stem in XIA_TABLE_STEMS],
        output:
            report_figure(f"xia_{_stem}", "Xia (002): ReLU matrices", f"xia_{_stem}.rst"),
        params:
            figure=_stem,
        localrule: True
        log:
            f"logs/figures/xia_{_stem}.log",
        conda:
            "../envs/nnmat.yaml"
        shell:
            "python scripts/plot_xia.py {params.figure} {input:q} --out {output:q} > {log:q} 2>&1"
