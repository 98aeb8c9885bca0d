"""Gai & Zhang, Sec. 2 (eqs. 7-10): how many layers the two equations f(X1) = Y1, f(X2) = Y2 need.

On each problem (X1, X2, Y1, Y2) of d x d matrices four models are compared on the same 2 d^2 scalar
equations:

* one_layer_lstsq: one W fitted by least squares to both equations (eq. 8 with a single W);
* one_layer_single_equation: W = Y1 X1^-1, which solves the first equation only;
* two_layer_linear_als: W2 W1 (eq. 9) by alternating least squares from a seeded random start; the
  product spans the same function class as one W, so it can do no better than one_layer_lstsq;
* two_layer_linear_single_equation: W2 W1 = Y1 X1^-1 with a random W1 (N(0, 1/d), the ALS start) and
  W2 = Y1 X1^-1 W1^-1: two linear layers solve one equation, like one layer;
* three_layer_exp: the closed-form exp network of Theorem 1 (nnmat.gz.theorem1) at one alpha.

depth_equations counts, per (d, number of layers), the equations the best model of that depth solves
to a tolerance (Sec. 1: "one layer network can only solve one equation").

The ALS start of trial t is drawn from `derive_seed(master, "expnet_depth_als", d, t)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg as sla

from .. import seeding
from .theorem1 import check_alpha, fro, rel_err, theorem1_row

# ALS stops when a sweep changes the residual by less than this relative amount (or after
# DepthSettings.als_iters sweeps; it converges in about 2).
ALS_RTOL = 1e-13

DEPTH_MODELS = (
    "one_layer_lstsq",
    "one_layer_single_equation",
    "two_layer_linear_als",
    "two_layer_linear_single_equation",
    "three_layer_exp",
)
N_LAYERS = {
    m: int(m.startswith("one") or 2 * m.startswith("two") or 3 * m.startswith("three")) for m in DEPTH_MODELS
}


@dataclass(frozen=True)
class DepthSettings:
    """One gz_depth.py job (config gz.theorem1.depth, the master seed and the dimension d).

    seed: master seed (config `seed`), from which the ALS starts are derived; d: dimension (checked
    against the problems); alpha: alpha of the three-layer exp network; als_iters: most ALS sweeps.
    """

    seed: int
    d: int
    alpha: float
    als_iters: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", check_alpha(self.alpha))


def als_init_seeds(settings: DepthSettings, trials: int) -> list[int]:
    """The seed of the ALS start of each trial (depends on master seed, d and trial only)."""
    return [seeding.derive_seed(settings.seed, "expnet_depth_als", settings.d, t) for t in range(trials)]


def _lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return sla.lstsq(a, b, lapack_driver="gelsd")[0]


def one_layer_lstsq(X1, X2, Y1, Y2) -> np.ndarray:
    """argmin_W ||W [X1 X2] - [Y1 Y2]||_F (eq. 8 with a single W): d^2 unknowns, 2 d^2 equations."""
    X, Y = np.hstack([X1, X2]), np.hstack([Y1, Y2])
    return _lstsq(X.T, Y.T).T


def one_layer_single_equation(X1, Y1) -> np.ndarray:
    """W = Y1 X1^-1 (solves Y1 = W X1 only), computed as solve(X1^T, Y1^T)^T."""
    return sla.solve(np.asarray(X1).T, np.asarray(Y1).T).T


def two_layer_linear_als(
    X1, X2, Y1, Y2, rng: np.random.Generator, max_iters: int, rtol: float = ALS_RTOL
) -> tuple[np.ndarray, np.ndarray, int]:
    """W2 W1 (eq. 9) by alternating least squares from W1 ~ N(0, 1/d). Returns (W1, W2, sweeps).

    Each sweep: W2 = argmin ||W2 (W1 X) - Y||, then W1 = argmin ||W2 W1 X - Y|| = W2^+ Y X^+.
    The product spans the same function class as one W, so it can do no better than one_layer_lstsq.
    """
    X, Y = np.hstack([X1, X2]), np.hstack([Y1, Y2])
    d = X.shape[0]
    W1 = rng.standard_normal((d, d)) / np.sqrt(d)
    YXp = _lstsq(X.T, Y.T).T  # Y X^+
    prev, sweeps = np.inf, 0
    while sweeps < max_iters:
        sweeps += 1
        W2 = _lstsq((W1 @ X).T, Y.T).T
        W1 = _lstsq(W2, YXp)
        res = fro(W2 @ W1 @ X - Y)
        if abs(prev - res) <= rtol * max(res, 1e-300):
            break
        prev = res
    return W1, W2, sweeps


def _depth_row(model: str, n_params: int, complex_weights: bool, Y1, Y2, F1=None, F2=None, **extra) -> dict:
    r1 = rel_err(F1, Y1) if F1 is not None else float("nan")
    r2 = rel_err(F2, Y2) if F2 is not None else float("nan")
    row = {
        "model": model,
        "n_layers": N_LAYERS[model],
        "n_params": n_params,
        "n_real_params": n_params * (2 if complex_weights else 1),
        "rel_residual_1": r1,
        "rel_residual_2": r2,
        "rel_residual_max": max(r1, r2) if np.isfinite(r1) and np.isfinite(r2) else float("nan"),
        "status": "ok",
        "reason": "",
        "alpha": float("nan"),
        "init_seed": -1,
        "iterations": 0,
    }
    row.update(extra)
    return row


def depth_rows(X1, X2, Y1, Y2, init_seed: int, settings: DepthSettings) -> list[dict]:
    """The four models of the depth comparison on one problem (rows without the problem keys)."""
    d = np.asarray(X1).shape[0]
    rows = []
    W = one_layer_lstsq(X1, X2, Y1, Y2)
    rows.append(_depth_row("one_layer_lstsq", d * d, False, Y1, Y2, W @ X1, W @ X2))
    try:
        W = one_layer_single_equation(X1, Y1)
        rows.append(_depth_row("one_layer_single_equation", d * d, False, Y1, Y2, W @ X1, W @ X2))
    except np.linalg.LinAlgError:
        rows.append(
            _depth_row(
                "one_layer_single_equation", d * d, False, Y1, Y2, status="flagged", reason="singular_x1"
            )
        )
    W1, W2, sweeps = two_layer_linear_als(
        X1, X2, Y1, Y2, np.random.default_rng(init_seed), max_iters=settings.als_iters
    )
    W21 = W2 @ W1
    rows.append(
        _depth_row(
            "two_layer_linear_als",
            2 * d * d,
            False,
            Y1,
            Y2,
            W21 @ X1,
            W21 @ X2,
            init_seed=int(init_seed),
            iterations=sweeps,
        )
    )
    try:
        W1 = np.random.default_rng(init_seed).standard_normal((d, d)) / np.sqrt(d)
        W2 = sla.solve(W1.T, one_layer_single_equation(X1, Y1).T).T  # Y1 X1^-1 W1^-1
        rows.append(
            _depth_row(
                "two_layer_linear_single_equation", 2 * d * d, False, Y1, Y2, W2 @ W1 @ X1, W2 @ W1 @ X2
            )
        )
    except np.linalg.LinAlgError:
        rows.append(
            _depth_row(
                "two_layer_linear_single_equation",
                2 * d * d,
                False,
                Y1,
                Y2,
                status="flagged",
                reason="singular",
            )
        )
    exp_row, _ = theorem1_row(X1, X2, Y1, Y2, settings.alpha)
    keep = ("rel_residual_1", "rel_residual_2", "rel_residual_max", "status", "reason")
    rows.append(
        _depth_row("three_layer_exp", 3 * d * d, True, Y1, Y2, alpha=float(settings.alpha))
        | {k: exp_row[k] for k in keep}
    )
    return rows


def depth_table(
    problems: dict[str, np.ndarray], settings: DepthSettings, init_seeds: list[int]
) -> pd.DataFrame:
    """One row per (trial, model): residuals of each depth on the same two equations (2 d^2 of them).

    `init_seeds[t]` seeds the ALS start of trial t (see als_init_seeds).
    """
    d = settings.d
    rows = []
    for t in range(problems["X1"].shape[0]):
        mats = (problems[k][t] for k in ("X1", "X2", "Y1", "Y2"))
        base = {"d": d, "trial": t, "seed": int(problems["seed"][t])}
        for r in depth_rows(*mats, init_seed=init_seeds[t], settings=settings):
            rows.append({**base, **r, "n_equations": 2 * d * d})
    return pd.DataFrame(rows)


def depth_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per (model, d): median residuals, parameter counts and the number of scalar equations 2 d^2."""
    order = {m: i for i, m in enumerate(DEPTH_MODELS)}
    rows = []
    for (model, d), g in df.groupby(["model", "d"], sort=True):
        rows.append(
            {
                "model": model,
                "d": int(d),
                "trials": len(g),
                "n_params": int(g["n_params"].iloc[0]),
                "n_real_params": int(g["n_real_params"].iloc[0]),
                "n_equations": 2 * int(d) ** 2,
                "median_rel_residual_1": g["rel_residual_1"].median(),
                "median_rel_residual_2": g["rel_residual_2"].median(),
                "median_rel_residual_max": g["rel_residual_max"].median(),
                "max_rel_residual_max": g["rel_residual_max"].max(),
                "flagged": int((g["status"] != "ok").sum()),
            }
        )
    out = pd.DataFrame(rows)
    out["_o"] = out["model"].map(order)
    return out.sort_values(["_o", "d"]).drop(columns="_o").reset_index(drop=True)


def depth_equations(df: pd.DataFrame, rel_tol: float) -> pd.DataFrame:
    """Per (d, n_layers): equations solved (residual < rel_tol) by each model, median over trials, and
    the best model of that depth (equations_solved_best, best_model). NaN residuals solve nothing."""
    solved = (df["rel_residual_1"] < rel_tol).astype(int) + (df["rel_residual_2"] < rel_tol).astype(int)
    per_model = (
        df.assign(solved=solved)
        .groupby(["d", "n_layers", "model"], sort=True)["solved"]
        .median()
        .reset_index()
    )
    rows = []
    for (d, n_layers), g in per_model.groupby(["d", "n_layers"], sort=True):
        best = g.sort_values(["solved", "model"], ascending=[False, True]).iloc[0]
        rows.append(
            {
                "d": int(d),
                "n_layers": int(n_layers),
                "models": ", ".join(f"{m}: {v:g}" for m, v in zip(g["model"], g["solved"], strict=True)),
                "best_model": best["model"],
                "equations_solved_best": float(best["solved"]),
                "rel_tol": rel_tol,
            }
        )
    return pd.DataFrame(rows)
