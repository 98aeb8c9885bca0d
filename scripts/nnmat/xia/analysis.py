"""Measurements of one ReLU matrix (J. Xia, talk abstract): growth fits, mode frequencies, positive
definiteness, and the numerical ranks of the off-diagonal blocks of a binary partition."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from scipy import stats

from .matrices import EPS


def loglog_fit(n: np.ndarray, y: np.ndarray, level: float) -> dict[str, float]:
    """Slope of log y vs log n with a t confidence interval (from linregress' standard error)."""
    x, yy = np.log(np.asarray(n, float)), np.log(np.asarray(y, float))
    ok = np.isfinite(yy)
    x, yy = x[ok], yy[ok]
    if len(x) < 3:
        return {
            "exponent": np.nan,
            "stderr": np.nan,
            "ci_lo": np.nan,
            "ci_hi": np.nan,
            "points": len(x),
            "prefactor": np.nan,
        }
    r = stats.linregress(x, yy)
    tq = stats.t.ppf(0.5 + level / 2.0, len(x) - 2)
    return {
        "exponent": r.slope,
        "stderr": r.stderr,
        "ci_lo": r.slope - tq * r.stderr,
        "ci_hi": r.slope + tq * r.stderr,
        "points": len(x),
        "prefactor": float(np.exp(r.intercept)),
    }


def sign_changes(v: np.ndarray, rel: float = 1e-8) -> int:
    """Sign changes along v, ignoring entries below rel * max|v| (a frequency count of a mode)."""
    v = np.asarray(v)
    s = np.sign(v[np.abs(v) > rel * np.abs(v).max()])
    return int(np.sum(s[1:] != s[:-1]))


def pd_check(A: np.ndarray) -> dict[str, object]:
    """Cholesky outcome and float64 eigenvalue extremes; never raises on a singular matrix."""
    ev = np.linalg.eigvalsh(A)
    try:
        sla.cholesky(A, lower=True)
        chol_ok, reason = True, ""
    except np.linalg.LinAlgError as exc:
        chol_ok, reason = False, f"cholesky failed: {exc}"
    lam_min, lam_max = float(ev[0]), float(ev[-1])
    # below n * eps * lambda_max, float64 cannot tell lambda_min from 0
    resolvable = lam_min > len(A) * EPS * lam_max
    return {
        "cholesky_ok": chol_ok,
        "lambda_min_f64": lam_min,
        "lambda_max_f64": lam_max,
        "lambda_min_resolvable": bool(resolvable),
        "reason": reason,
    }


def offdiag_blocks(n: int, min_block: int):
    """(level, index, rows, cols) of the upper sibling blocks of a binary partition of range(n)."""
    out = []

    def rec(lo, hi, level, idx):
        if hi - lo < 2 * min_block:
            return
        mid = (lo + hi) // 2
        out.append((level, idx, slice(lo, mid), slice(mid, hi)))
        rec(lo, mid, level + 1, 2 * idx)
        rec(mid, hi, level + 1, 2 * idx + 1)

    rec(0, n, 1, 0)
    return out


def numerical_ranks(block: np.ndarray, tols) -> list[int]:
    s = np.linalg.svd(block, compute_uv=False)
    if s[0] == 0:
        return [0 for _ in tols]
    return [int(np.sum(s > tol * s[0])) for tol in tols]
