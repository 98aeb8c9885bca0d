"""Tables of the Xia (002) stage: CSV for machines and Markdown for people, from the result CSVs only.

    python scripts/table_xia.py results/relu/*.csv --fit-min-n 32 --ci-level 0.95 \
        --out results/tables/xia_cond_fit.csv results/tables/xia_cond_fit.md ...
Inputs are recognised by file stem (cond_1d, cond_mpmath, cond_random_1d, cond_2d, quad_check_2d, pd,
ranks, cg, solver, solver_timing); outputs by stem: xia_{cond_fit,cond_1d,mpmath_check,quadrature,pd,
ranks,cg,solver,solver_timing}.{csv,md}, each written into the directory of its --out path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nnmat import cli, io
from nnmat import relu_matrices as rm

PAPER_EXPONENT = {
    ("uniform_1d", "A"): "4 (printed as 1/n^4, a typo for n^4)",
    ("uniform_1d", "H"): "not printed",
}


def cond_fit(r: dict[str, pd.DataFrame], fit_min_n: int, level: float) -> pd.DataFrame:
    rows = []
    uni = r["cond_1d"]
    series = []
    for m in ("A", "H"):
        d = uni[uni.matrix == m]
        series.append(("uniform_1d", m, d.n.to_numpy(), d.cond.to_numpy(), d.method.iloc[0]))
    for fam, key in (("random_1d", "cond_random_1d"), ("2d", "cond_2d")):
        df = r[key]
        for m in ("A", "H"):
            # median over draws of the reliable rows only, at n where every draw is reliable
            d = df[df.matrix == m].groupby("n").agg(cond=("cond", "median"), reliable=("reliable", "min"))
            d = d[d.reliable == 1]
            series.append(
                (fam, m, d.index.to_numpy(), d.cond.to_numpy(), "float64 eigvalsh (cond <= 1e12 rows)")
            )
    for fam, m, n, cond, method in series:
        keep = n >= fit_min_n
        fit = rm.loglog_fit(n[keep], cond[keep], level)
        rows.append(
            {
                "family": fam,
                "matrix": m,
                **fit,
                "ci_level": level,
                "n_min": int(n[keep].min()) if keep.any() else np.nan,
                "n_max": int(n[keep].max()) if keep.any() else np.nan,
                "lambda_min_method": method,
                "paper_exponent": PAPER_EXPONENT.get((fam, m), "not printed"),
            }
        )
    return pd.DataFrame(rows)


def cond_1d(r) -> pd.DataFrame:
    d = r["cond_1d"].pivot(
        index="n", columns="matrix", values=["cond", "cond_naive", "naive_rel_err_lambda_min"]
    )
    d.columns = [f"{a}_{b}" for a, b in d.columns]
    return d.reset_index()


def pd_table(r) -> pd.DataFrame:
    return (
        r["pd"]
        .groupby(["family", "matrix", "case"], sort=True)
        .agg(
            n=("n", "first"),
            draws=("draw", "nunique"),
            cholesky_ok_all=("cholesky_ok", "min"),
            cholesky_ok_any=("cholesky_ok", "max"),
            lambda_min_f64_min=("lambda_min_f64", "min"),
            lambda_min_resolvable_all=("lambda_min_resolvable", "min"),
            verdict=("verdict", "first"),
        )
        .reset_index()
    )


def ranks_table(r) -> pd.DataFrame:
    d = r["ranks"].copy()
    d["rank_fraction"] = d["rank"] / np.minimum(d.block_rows, d.block_cols)
    return (
        d.groupby(["family", "matrix", "ordering", "n", "tol"], sort=True)
        .agg(
            max_rank=("rank", "max"),
            max_rank_fraction=("rank_fraction", "max"),
            max_block_size=("block_rows", "max"),
            levels=("level", "max"),
        )
        .reset_index()
        .sort_values(["family", "matrix", "tol"], ascending=[True, True, False])
    )


def cg_table(r) -> pd.DataFrame:
    return (
        r["cg"]
        .groupby(["family", "preconditioner", "n"], sort=True)
        .agg(
            draws=("draw", "nunique"),
            iterations_median=("iterations", "median"),
            iterations_max=("iterations", "max"),
            converged_fraction=("converged", "mean"),
            maxiter=("maxiter", "first"),
            rel_residual_max=("rel_residual", "max"),
            rel_error_median=("rel_error", "median"),
        )
        .reset_index()
    )


def modes_table(r) -> pd.DataFrame:
    d = r["modes"].drop_duplicates(["family", "matrix", "which", "rank"])
    d = d[["family", "matrix", "n", "which", "rank", "eigenvalue", "sign_changes"]].copy()
    d["sign_change_fraction"] = d.sign_changes / (d.n - 1)
    return d.reset_index(drop=True)


def quad_table(r) -> pd.DataFrame:
    return (
        r["quad_check_2d"]
        .groupby(["matrix", "n", "quad_points", "quad_points_fine"])
        .agg(
            draws=("draw", "nunique"),
            max_entry_diff_rel=("max_entry_diff_rel", "max"),
            lambda_min_rel_change=("lambda_min_rel_change", "max"),
            cond_rel_change=("cond_rel_change", "max"),
        )
        .reset_index()
    )


def solver_timing(r) -> pd.DataFrame:
    t = r["solver_timing"].copy()
    ok = t[(t.method == "dense_cholesky") & (t.status == "ok")]
    # the largest n at which dense Cholesky succeeded: where the speedup claim is scored
    t["n_dense_max"] = ok.n.max() if len(ok) else np.nan
    return t


def write(df: pd.DataFrame, outdir: Path, stem: str, title: str) -> None:
    io.write_table(df, outdir / f"{stem}.csv", outdir / f"{stem}.md", title)


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("inputs", nargs="+", help="result CSVs of the relu stage")
    p.add_argument("--fit-min-n", type=int, required=True)
    p.add_argument("--ci-level", type=float, required=True)
    p.add_argument("--out", nargs="+", required=True, help="table files (CSV + MD), one directory")
    args = p.parse_args(argv)
    cli.setup_logging()
    names = [
        "modes",
        "cond_1d",
        "cond_mpmath",
        "cond_random_1d",
        "cond_2d",
        "quad_check_2d",
        "pd",
        "ranks",
        "cg",
        "solver",
        "solver_timing",
    ]
    with cli.stage("table_xia", vars(args), args.provenance):
        by_stem = {Path(f).stem: f for f in args.inputs}
        missing = [k for k in names if k not in by_stem]
        if missing:
            p.error(f"missing input CSVs: {missing}")
        r = {k: io.read_csv(by_stem[k]) for k in names}
        dirs = {Path(f).parent for f in args.out}
        if len(dirs) != 1:
            p.error("all --out files must be in one directory")
        out = dirs.pop()
        write(
            cond_fit(r, args.fit_min_n, args.ci_level),
            out,
            "xia_cond_fit",
            f"Growth exponent of cond(A), cond(H) ~ n^p "
            f"(fit on n >= {args.fit_min_n}, {args.ci_level:.0%} t interval)",
        )
        write(
            cond_1d(r),
            out,
            "xia_cond_1d",
            "cond(A), cond(H), 1D uniform breakpoints (reformulated vs plain float64)",
        )
        write(
            r["cond_mpmath"], out, "xia_mpmath_check", "lambda_min: reformulation and plain float64 vs mpmath"
        )
        write(quad_table(r), out, "xia_quadrature", "2D midpoint quadrature: grid q vs 2q (max over draws)")
        write(modes_table(r), out, "xia_modes", "Sign changes of the extreme eigenvectors (mode frequency)")
        write(
            pd_table(r),
            out,
            "xia_pd",
            "Positive definiteness: Cholesky and lambda_min (distinct vs duplicated units)",
        )
        write(
            ranks_table(r),
            out,
            "xia_ranks",
            "Numerical ranks of off-diagonal blocks (max over blocks and levels)",
        )
        write(cg_table(r), out, "xia_cg", "CG iterations to the relative residual (median / max over draws)")
        write(
            r["solver"], out, "xia_solver", "Fast direct solvers vs dense Cholesky: accuracy (1D uniform, A)"
        )
        write(
            solver_timing(r),
            out,
            "xia_solver_timing",
            "Fast direct solvers vs dense Cholesky: wall time (this machine)",
        )


if __name__ == "__main__":
    main()
