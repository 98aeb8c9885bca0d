"""The tables of the Xia stage, built from the result CSVs only (read by scripts/table_xia.py).

`r` maps the stem of each result CSV (cond_1d, cond_mpmath, cond_random_1d, cond_2d, quad_check_2d,
modes, pd, ranks, cg, solver, solver_timing) to its DataFrame; `tables(r, settings)` returns every
table as (stem, DataFrame, title).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .analysis import loglog_fit

RESULT_STEMS = (
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
)


@dataclass(frozen=True)
class TableSettings:
    """xia.cond.{fit_min_n, ci_level}: the log-log fit of the growth exponent."""

    fit_min_n: int
    ci_level: float


PAPER_EXPONENT = {
    ("uniform_1d", "A"): "4 (printed as 1/n^4, a typo for n^4)",
    ("uniform_1d", "H"): "not printed",
    ("hat_mass", "M"): "null: the P1 hat mass matrix is well conditioned (exponent 0)",
}


def cond_fit(r: dict[str, pd.DataFrame], settings: TableSettings) -> pd.DataFrame:
    """Growth exponent of cond ~ n^p per (family, matrix): 1D uniform from the reformulated lambda_min,
    random 1D and 2D from the median over draws at n where every draw is reliable."""
    fit_min_n, level = settings.fit_min_n, settings.ci_level
    rows = []
    uni = r["cond_1d"]
    series = []
    for fam, m in (("uniform_1d", "A"), ("uniform_1d", "H"), ("hat_mass", "M")):
        d = uni[(uni.family == fam) & (uni.matrix == m)]
        if len(d):
            series.append((fam, m, d.n.to_numpy(), d.cond.to_numpy(), d.method.iloc[0]))
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
        fit = loglog_fit(n[keep], cond[keep], level)
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
    d = r["cond_1d"]
    d = d[d.family == "uniform_1d"].pivot(
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
        .groupby(["matrix", "n", "quad_points", "reference"])
        .agg(
            draws=("draw", "nunique"),
            max_entry_diff_rel=("max_entry_diff_rel", "max"),
            lambda_min_rel_change=("lambda_min_rel_change", "max"),
            cond_rel_change=("cond_rel_change", "max"),
        )
        .reset_index()
    )


def solver_timing(r) -> pd.DataFrame:
    """The timings, with the three n of the growth-exponent fit marked (fit_point) and the most a 2x
    timing noise can move that fit (noise_bound)."""
    t = r["solver_timing"].copy()
    ok = t[(t.method == "dense_cholesky") & (t.status == "ok")]
    t["n_min"] = t.n.min()
    t["n_dense_max"] = ok.n.max() if len(ok) else np.nan
    t["fit_point"], t["noise_bound"] = 0, np.nan
    if len(ok):
        pts = fit_points(np.array(sorted(set(t.n[t.n <= ok.n.max()]))))
        t["fit_point"] = t.n.isin(pts).astype(int)
        x = np.log(pts)
        dev = x - x.mean()
        if len(pts) >= 3:  # max slope change under factors in [1/2, 2]: log 2 sum|dev| / sum dev^2
            t["noise_bound"] = float(np.log(2.0) * np.abs(dev).sum() / (dev**2).sum())
    return t


def fit_points(ns: np.ndarray) -> np.ndarray:
    """The smallest and largest n and the one nearest their geometric mean (ties: the smaller).

    For bounded multiplicative timing noise, the least-squares slope through the two ends has the
    smallest worst-case error; the middle point (the metric needs three) changes it little."""
    if len(ns) <= 3:
        return ns
    lo, hi = np.log(ns[0]), np.log(ns[-1])
    inner = ns[1:-1]
    mid = inner[np.argmin(np.abs(np.log(inner) - 0.5 * (lo + hi)))]
    return np.array([ns[0], mid, ns[-1]])


def tables(r: dict[str, pd.DataFrame], settings: TableSettings) -> list[tuple[str, pd.DataFrame, str]]:
    """Every xia_* table as (stem, DataFrame, Markdown title)."""
    return [
        (
            "xia_cond_fit",
            cond_fit(r, settings),
            f"Growth exponent of cond(A), cond(H) ~ n^p "
            f"(fit on n >= {settings.fit_min_n}, {settings.ci_level:.0%} t interval)",
        ),
        (
            "xia_cond_1d",
            cond_1d(r),
            "cond(A), cond(H), 1D uniform breakpoints (reformulated vs plain float64)",
        ),
        ("xia_mpmath_check", r["cond_mpmath"], "lambda_min: reformulation and plain float64 vs mpmath"),
        (
            "xia_quadrature",
            quad_table(r),
            "2D midpoint grids q and 2q vs the exact polygon entries (max over draws)",
        ),
        ("xia_modes", modes_table(r), "Sign changes of the extreme eigenvectors (mode frequency)"),
        (
            "xia_pd",
            pd_table(r),
            "Positive definiteness: Cholesky and lambda_min (distinct vs duplicated units)",
        ),
        ("xia_ranks", ranks_table(r), "Numerical ranks of off-diagonal blocks (max over blocks and levels)"),
        ("xia_cg", cg_table(r), "CG iterations to the relative residual (median / max over draws)"),
        ("xia_solver", r["solver"], "Fast direct solvers vs dense Cholesky: accuracy (1D uniform, A)"),
        (
            "xia_solver_timing",
            solver_timing(r),
            "Fast direct solvers vs dense Cholesky: wall time (this machine)",
        ),
    ]
