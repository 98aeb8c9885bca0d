"""Gai & Zhang, Theorem 1: the three-layer matrix-exponential network and its closed-form weights.

f(X) = W3 exp(W2 exp(W1 X)) with (eq. 12)

    W1 = ln(a) (X1 - X2)^-1
    Z  = log(a Y1^-1 Y2)                      (principal matrix logarithm, complex in general)
    W2 = (Z - ln(a) I) exp(-W1 X2) / (1 - a)
    W3 = Y1 exp(-W2 exp(W1 X1))

maps X1 to Y1 and X2 to Y2 exactly. This module builds the weights in float64 (complex128, scipy
expm/logm) and in arbitrary precision (mpmath), measures the relative Frobenius residuals
||f(Xk) - Yk||_F / ||Yk||_F and the intermediate identities of the proof (eqs. 24-25, the logarithm,
eq. 31 and the commutation it needs): on the random problems (theorem1_table), on problems with a
near-singular X1 - X2 (near_singular_table) and at high precision (mpmath_table). The depth comparison
of Sec. 2 (eqs. 7-10) is in nnmat.gz.depth.

Besides the residuals and identity errors, each float64 row carries two diagnostics that explain
where accuracy goes: `amplification` = max_k ||W3||_F ||exp(W2 exp(W1 Xk))||_F / ||Yk||_F (the final
product W3 exp(.) cancels: rounding leaves a residual of about eps times this; it grows like
exp(c / |1 - alpha|) as alpha -> 1) and `w1x_norm_max` = max_k ||W1 Xk||_F (the argument of the first
exp; large for |ln alpha| large or X1 - X2 ill conditioned, and the cause of overflow), with
`amplification_inner` = ||exp(-W1 X2)||_F ||exp(W1 X1)||_F / (alpha sqrt(d)) (the product should be
alpha I; rounding in eq. 31 is about eps times this).

Numerical failures (a singular X1 - X2, overflow in exp, a non-finite weight, an inaccurate logarithm)
never raise out of the row functions: the row gets status "flagged", a short reason, and NaN in the
columns that could not be computed. Bad *arguments* (alpha <= 0 or alpha == 1) do raise ValueError.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import pandas as pd
import scipy.linalg as sla

# expm(Z) must reproduce a Y1^-1 Y2 to this relative Frobenius error, else the row is flagged
# "logm_inaccurate" (the residuals are still computed and recorded).
LOGM_TOL = 1e-6

THEOREM1_COLUMNS = [
    "status",
    "reason",
    "rel_residual_1",
    "rel_residual_2",
    "rel_residual_max",
    "eq25_rel_err",
    "expz_rel_err",
    "eq31_rel_err",
    "commutator_rel",
    "weight_norm_max",
    "amplification",
    "amplification_inner",
    "w1x_norm_max",
    "cond_x1_minus_x2",
]
MPMATH_COLUMNS = [
    "status",
    "reason",
    "rel_residual_1",
    "rel_residual_2",
    "rel_residual_max",
    "log10_rel_residual_max",
    "eq25_rel_err",
    "expz_rel_err",
    "eq31_rel_err",
    "commutator_rel",
]


class NumericalFailure(Exception):
    """A float64 step produced no usable number; `reason` is the short code recorded in the CSV."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not (alpha > 0 and alpha != 1 and np.isfinite(alpha)):
        raise ValueError(f"Theorem 1 needs a real alpha > 0, alpha != 1; got {alpha}")
    return alpha


# ------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Theorem1Settings:
    """One gz_theorem1.py job: dimension d (checked against the problems) and gz.theorem1.alphas."""

    d: int
    alphas: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "alphas", tuple(check_alpha(a) for a in self.alphas))


@dataclass(frozen=True)
class NearSingularSettings:
    """One gz_theorem1_near_singular.py job: dimension d and gz.theorem1.near_singular.alpha."""

    d: int
    alpha: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", check_alpha(self.alpha))


@dataclass(frozen=True)
class MpmathSettings:
    """gz_theorem1_mpmath.py (gz.theorem1.mpmath): decimal digits, first `trials` problems per d, alphas."""

    dps: int
    trials: int
    alphas: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "alphas", tuple(check_alpha(a) for a in self.alphas))


def fro(a: np.ndarray) -> float:
    return float(np.linalg.norm(a, "fro"))


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b||_F / ||b||_F (NaN when b = 0 or either side is not finite)."""
    den = fro(b)
    if den == 0 or not np.isfinite(den) or not np.all(np.isfinite(a)):
        return float("nan")
    return fro(a - b) / den


def _finite(m: np.ndarray, reason: str) -> np.ndarray:
    if not np.all(np.isfinite(m)):
        raise NumericalFailure(reason)
    return m


def expm(a: np.ndarray) -> np.ndarray:
    """Matrix exponential; NumericalFailure("overflow_in_expm") when the result is not finite."""
    _finite(a, "nonfinite_weights")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = sla.expm(a)
    return _finite(out, "overflow_in_expm")


# scipy's logm picks its number of square roots with a randomized 1-norm estimator (onenormest) that
# draws from numpy's *global* RNG, so the same matrix can give a logarithm differing in the last bits
# from run to run. We seed that global state for the call (and restore it afterwards): same input,
# same bytes.
_LOGM_RNG_SEED = 0


def logm(a: np.ndarray) -> np.ndarray:
    """Principal matrix logarithm as complex128 (deterministic); NumericalFailure("logm_failed")."""
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(_LOGM_RNG_SEED)  # noqa: NPY002 - scipy's onenormest uses the legacy global RNG
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's own accuracy warning: we measure it ourselves
            out = sla.logm(a)
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
        raise NumericalFailure("logm_failed") from exc
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return _finite(np.asarray(out, dtype=np.complex128), "logm_failed")


def _solve(a: np.ndarray, b: np.ndarray, reason: str) -> np.ndarray:
    """solve(a, b); a singular `a` (LinAlgError or non-finite result) is NumericalFailure(reason)."""
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise NumericalFailure(reason)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # LinAlgWarning (ill-conditioned): cond is recorded instead
            out = sla.solve(a, b)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise NumericalFailure(reason) from exc
    return _finite(out, reason)


def cond2(a: np.ndarray) -> float:
    """2-norm condition number (inf for a singular matrix)."""
    s = np.linalg.svd(a, compute_uv=False)
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def check_problems(problems: dict[str, np.ndarray], d: int, extra_keys: tuple[str, ...] = ()) -> None:
    """Fail early and clearly on a problem set of the wrong shape (bad input, not a numerical failure)."""
    missing = [k for k in ("X1", "X2", "Y1", "Y2", "seed", *extra_keys) if k not in problems]
    if missing:
        raise ValueError(f"problem set lacks {missing}")
    trials = problems["seed"].shape[0]
    for k in ("X1", "X2", "Y1", "Y2"):
        if problems[k].shape != (trials, d, d):
            raise ValueError(f"{k} has shape {problems[k].shape}, expected ({trials}, {d}, {d})")
        if not np.all(np.isfinite(problems[k])):
            raise ValueError(f"{k} holds non-finite entries")


# --------------------------------------------------------------------------------------- float64


@dataclass
class Weights:
    W1: np.ndarray
    W2: np.ndarray
    W3: np.ndarray
    Z: np.ndarray


def closed_form_weights(
    X1: np.ndarray,
    X2: np.ndarray,
    Y1: np.ndarray,
    Y2: np.ndarray,
    alpha: float,
    parts: dict[str, np.ndarray] | None = None,
) -> Weights:
    """The weights of eq. (12) in complex128. Raises NumericalFailure with a short reason.

    If `parts` is given, W1, the target a Y1^-1 Y2 and Z are stored in it as soon as they exist, so a
    caller can still check the early identities when a later step fails.
    """
    parts = {} if parts is None else parts
    alpha = check_alpha(alpha)
    c = np.complex128
    X1, X2, Y1, Y2 = (np.asarray(m, dtype=c) for m in (X1, X2, Y1, Y2))
    d = X1.shape[0]
    eye = np.eye(d, dtype=c)
    ln_a = np.log(alpha)
    # W1 is itself the weight ln(a) (X1 - X2)^-1, so the inverse must be formed (as a solve with I).
    W1 = parts["W1"] = ln_a * _solve(X1 - X2, eye, "singular_x1_minus_x2")
    target = parts["target"] = alpha * _solve(Y1, Y2, "singular_y1")  # a Y1^-1 Y2
    Z = parts["Z"] = logm(target)
    with np.errstate(all="ignore"):
        exp_neg_h2 = parts["exp_neg_h2"] = expm(-(W1 @ X2))
        W2 = (Z - ln_a * eye) @ exp_neg_h2 / (1.0 - alpha)
    _finite(W2, "nonfinite_weights")
    with np.errstate(all="ignore"):
        exp_h1 = parts["exp_h1"] = expm(W1 @ X1)
        A1 = W2 @ exp_h1
    _finite(A1, "nonfinite_weights")
    with np.errstate(all="ignore"):
        W3 = Y1 @ expm(-A1)
    _finite(W3, "nonfinite_weights")
    return Weights(W1=W1, W2=W2, W3=W3, Z=Z)


def network(w: Weights, X: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """f(X) = W3 exp(W2 exp(W1 X)) and its intermediates H = W1 X, E = exp(H), A = W2 E, exp(A)."""
    with np.errstate(all="ignore"):
        H = w.W1 @ np.asarray(X, dtype=np.complex128)
        E = expm(H)
        A = w.W2 @ E
        _finite(A, "nonfinite_weights")
        expA = expm(A)
        F = w.W3 @ expA
    return _finite(F, "nonfinite_output"), {"H": H, "E": E, "A": A, "expA": expA}


def _empty_row() -> dict:
    row = {k: float("nan") for k in THEOREM1_COLUMNS}
    row.update(status="ok", reason="")
    return row


def _flag(row: dict, reason: str) -> None:
    if row["status"] == "ok":
        row.update(status="flagged", reason=reason)
    elif reason not in row["reason"].split(";"):
        row["reason"] += f";{reason}"


def theorem1_row(
    X1: np.ndarray, X2: np.ndarray, Y1: np.ndarray, Y2: np.ndarray, alpha: float
) -> tuple[dict, dict]:
    """Solve eq. (12) and verify it. Returns (row of THEOREM1_COLUMNS, timings {solve_s, verify_s}).

    Never raises on numerical trouble: see the module docstring.
    """
    alpha = check_alpha(alpha)
    d = np.asarray(X1).shape[0]
    row = _empty_row()
    times = {"solve_s": float("nan"), "verify_s": float("nan")}
    with np.errstate(all="ignore"):
        row["cond_x1_minus_x2"] = cond2(np.asarray(X1) - np.asarray(X2))
    ln_a = np.log(alpha)
    c = np.complex128
    eye = np.eye(d, dtype=c)
    X1c, X2c, Y1c, Y2c = (np.asarray(m, dtype=c) for m in (X1, X2, Y1, Y2))
    parts: dict[str, np.ndarray] = {}
    t0 = time.perf_counter()
    try:
        w = closed_form_weights(X1, X2, Y1, Y2, alpha, parts=parts)
    except NumericalFailure as exc:
        _flag(row, exc.reason)
        w = None
    t1 = time.perf_counter()
    # The early identities are checked even when a later step failed: they locate the failure.
    with np.errstate(all="ignore"):
        if "W1" in parts:  # eqs. 24-25: W1 X1 = W1 X2 + ln(a) I
            H1, H2 = parts["W1"] @ X1c, parts["W1"] @ X2c
            row["eq25_rel_err"] = fro(H1 - H2 - ln_a * eye) / (abs(ln_a) * np.sqrt(d))
            row["w1x_norm_max"] = max(fro(H1), fro(H2))
        if "Z" in parts:  # exp(Z) = a Y1^-1 Y2: accuracy of the matrix logarithm
            try:
                row["expz_rel_err"] = rel_err(expm(parts["Z"]), parts["target"])
            except NumericalFailure as exc:
                _flag(row, exc.reason)
            if not row["expz_rel_err"] <= LOGM_TOL:
                _flag(row, "logm_inaccurate")
        if "exp_h1" in parts:  # exp(-W1 X2) exp(W1 X1) = a I cancels: rounding ~ eps times this
            row["amplification_inner"] = (
                fro(parts["exp_neg_h2"]) * fro(parts["exp_h1"]) / (alpha * np.sqrt(d))
            )
    times["solve_s"] = t1 - t0
    if w is None:
        return row, times
    row["weight_norm_max"] = max(fro(w.W1), fro(w.W2), fro(w.W3))
    residuals, amps = [], []
    for k, (X, Y) in enumerate(((X1c, Y1c), (X2c, Y2c)), start=1):
        try:
            F, inner = network(w, X)
        except NumericalFailure as exc:
            _flag(row, exc.reason)
            residuals.append(float("nan"))
            continue
        residuals.append(rel_err(F, Y))
        # rounding in F = W3 exp(W2 exp(W1 X)) is bounded by about eps times this factor
        amps.append(fro(w.W3) * fro(inner["expA"]) / fro(Y))
        if k == 1:  # eq. 31 and the commutation [W2 exp(W1 X1), Z] = 0 that the proof needs
            A1 = inner["A"]
            with np.errstate(all="ignore"):
                row["eq31_rel_err"] = rel_err(A1, alpha / (1.0 - alpha) * (w.Z - ln_a * eye))
                den = fro(A1) * fro(w.Z)
                row["commutator_rel"] = fro(A1 @ w.Z - w.Z @ A1) / den if den > 0 else float("nan")
    times["verify_s"] = time.perf_counter() - t1
    row["rel_residual_1"], row["rel_residual_2"] = residuals
    if amps:
        row["amplification"] = max(amps)
    row["rel_residual_max"] = max(residuals) if all(np.isfinite(residuals)) else float("nan")
    if not np.isfinite(row["rel_residual_max"]) and row["status"] == "ok":
        _flag(row, "nonfinite_output")
    return row, times


def theorem1_table(
    problems: dict[str, np.ndarray],
    settings: Theorem1Settings,
    progress: Callable[[], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (alpha, trial): the result table and, separately, the timing table."""
    d = settings.d
    rows, timing = [], []
    for alpha in settings.alphas:
        for t in range(problems["X1"].shape[0]):
            row, times = theorem1_row(*(problems[k][t] for k in ("X1", "X2", "Y1", "Y2")), alpha)
            keys = {"d": d, "alpha": float(alpha), "trial": t, "seed": int(problems["seed"][t])}
            rows.append({**keys, **row})
            timing.append({"d": d, "alpha": float(alpha), "trial": t, **times})
            if progress:
                progress()
    return pd.DataFrame(rows), pd.DataFrame(timing)


def near_singular_table(
    problems: dict[str, np.ndarray],
    settings: NearSingularSettings,
    progress: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Theorem 1 on the near-singular family: one row per (cond_target, trial)."""
    d, alpha = settings.d, settings.alpha
    rows = []
    for i in range(problems["X1"].shape[0]):
        row, _ = theorem1_row(*(problems[k][i] for k in ("X1", "X2", "Y1", "Y2")), alpha)
        keys = {
            "d": d,
            "alpha": float(alpha),
            "trial": int(problems["trial"][i]),
            "seed": int(problems["seed"][i]),
            "cond_target": float(problems["cond_target"][i]),
        }
        rows.append({**keys, **row})
        if progress:
            progress()
    cols = ["d", "alpha", "trial", "seed", "cond_target", "cond_x1_minus_x2", "status", "reason"]
    df = pd.DataFrame(rows)
    return df[cols + [c for c in df.columns if c not in cols]]


# --------------------------------------------------------------------------------------- mpmath


def _mp_matrix(a: np.ndarray) -> mpmath.matrix:
    """Exact conversion of a float64 matrix (every float64 is a finite binary fraction)."""
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in r] for r in np.asarray(a, dtype=float)])


def _mp_fro(a: mpmath.matrix) -> mpmath.mpf:
    return mpmath.mnorm(a, "f")


def mp_theorem1_row(
    X1: np.ndarray, X2: np.ndarray, Y1: np.ndarray, Y2: np.ndarray, alpha: float, dps: int
) -> dict:
    """eq. (12) and its residuals at `dps` decimal digits; floats in the returned row (MPMATH_COLUMNS)."""
    alpha = check_alpha(alpha)
    row = {k: float("nan") for k in MPMATH_COLUMNS}
    row.update(status="ok", reason="")
    with mpmath.workdps(dps):
        try:
            x1, x2, y1, y2 = (_mp_matrix(m) for m in (X1, X2, Y1, Y2))
            d = x1.rows
            eye = mpmath.eye(d)
            a = mpmath.mpf(alpha)
            ln_a = mpmath.log(a)
            try:
                W1 = ln_a * mpmath.inverse(x1 - x2)
            except ZeroDivisionError:
                row.update(status="flagged", reason="singular_x1_minus_x2")
                return row
            try:
                target = a * (mpmath.inverse(y1) * y2)
            except ZeroDivisionError:
                row.update(status="flagged", reason="singular_y1")
                return row
            Z = mpmath.logm(target)
            W2 = (Z - ln_a * eye) * mpmath.expm(-(W1 * x2)) / (1 - a)
            A1 = W2 * mpmath.expm(W1 * x1)
            W3 = y1 * mpmath.expm(-A1)

            def f(x):
                inner = W2 * mpmath.expm(W1 * x)
                return W3 * mpmath.expm(inner), inner

            F1, A1v = f(x1)
            F2, _ = f(x2)
            r1 = _mp_fro(F1 - y1) / _mp_fro(y1)
            r2 = _mp_fro(F2 - y2) / _mp_fro(y2)
            rmax = max(r1, r2)
            rhs31 = a / (1 - a) * (Z - ln_a * eye)
            row.update(
                rel_residual_1=float(r1),
                rel_residual_2=float(r2),
                rel_residual_max=float(rmax),
                log10_rel_residual_max=float(mpmath.log10(rmax)) if rmax > 0 else float("-inf"),
                eq25_rel_err=float(_mp_fro(W1 * x1 - W1 * x2 - ln_a * eye) / (abs(ln_a) * mpmath.sqrt(d))),
                expz_rel_err=float(_mp_fro(mpmath.expm(Z) - target) / _mp_fro(target)),
                eq31_rel_err=float(_mp_fro(A1v - rhs31) / _mp_fro(rhs31)),
                commutator_rel=float(_mp_fro(A1v * Z - Z * A1v) / (_mp_fro(A1v) * _mp_fro(Z))),
            )
        except (ZeroDivisionError, ValueError, ArithmeticError) as exc:
            row.update(status="flagged", reason=f"mpmath_error:{type(exc).__name__}")
    return row


def _digits_recovered(r64: float, r_mp: float, dps: int) -> float:
    """(log10 r64 - log10 r_mp) / (dps - 16), r_mp floored at 10^-dps; NaN if a residual is not finite."""
    if not (np.isfinite(r64) and np.isfinite(r_mp) and r64 > 0 and r_mp >= 0):
        return float("nan")
    return float((np.log10(r64) - np.log10(max(r_mp, 10.0**-dps))) / (dps - 16))


def mpmath_table(
    sets: list[dict[str, np.ndarray]],
    settings: MpmathSettings,
    progress: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """One row per (d, alpha, trial) over the first `settings.trials` problems of each set, by d.

    Each row holds the high-precision result (MPMATH_COLUMNS) and the float64 status and residual of
    the same problem, so the two can be compared directly. digits_recovered_fraction is
    (log10 r_float64 - log10 r_mp) / (dps - 16): about 1 where the float64 residual is rounding
    (residuals scale with the unit roundoff), about 0 where the construction itself were wrong.
    """
    rows = []
    for problems in sorted(sets, key=lambda s: s["X1"].shape[-1]):
        d = problems["X1"].shape[-1]
        for alpha in settings.alphas:
            for t in range(settings.trials):
                mats = [problems[k][t] for k in ("X1", "X2", "Y1", "Y2")]
                row = mp_theorem1_row(*mats, alpha, settings.dps)
                f64, _ = theorem1_row(*mats, alpha)
                keys = {
                    "d": d,
                    "alpha": alpha,
                    "trial": t,
                    "seed": int(problems["seed"][t]),
                    "dps": settings.dps,
                }
                rows.append(
                    {
                        **keys,
                        **row,
                        "float64_status": f64["status"],
                        "float64_rel_residual_max": f64["rel_residual_max"],
                        "digits_recovered_fraction": _digits_recovered(
                            f64["rel_residual_max"], row["rel_residual_max"], settings.dps
                        ),
                    }
                )
                if progress:
                    progress()
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------- summaries


def theorem1_summary(df: pd.DataFrame, rel_tol: float) -> pd.DataFrame:
    """Per (d, alpha): median / 90 % / max residual, fraction of trials below rel_tol, flagged count.

    Flagged rows (NaN residual) count as trials that did not reach rel_tol.
    """
    rows = []
    for (d, alpha), g in df.groupby(["d", "alpha"], sort=True):
        r = g["rel_residual_max"]
        rows.append(
            {
                "d": int(d),
                "alpha": float(alpha),
                "trials": len(g),
                "median_rel_residual_max": r.median(),
                "q90_rel_residual_max": r.quantile(0.9),
                "max_rel_residual_max": r.max(),
                "fraction_below_rel_tol": float((r < rel_tol).mean()),
                "rel_tol": rel_tol,
                "flagged": int((g["status"] != "ok").sum()),
                "flag_reasons": ";".join(sorted({x for x in g["reason"].fillna("") if x})),
                "median_eq25_rel_err": g["eq25_rel_err"].median(),
                "median_expz_rel_err": g["expz_rel_err"].median(),
                "median_eq31_rel_err": g["eq31_rel_err"].median(),
                "median_commutator_rel": g["commutator_rel"].median(),
                "median_amplification": g["amplification"].median(),
            }
        )
    return pd.DataFrame(rows)
