"""ReLU mass matrix A and Gauss-Newton matrix H (Xia, paper 002; Cai, Ding, Liu, Liu & Xia 2024).

    A_ij = <sigma(w_i . x + b_i), sigma(w_j . x + b_j)>,   H_ij = <h(w_i . x + b_i), h(w_j . x + b_j)>,

sigma(t) = max(t, 0), h = sigma' (Heaviside), <f, g> = int_Omega f g dx.

1D (Omega = [0, 1]): a unit is sigma(w (x - t)) with w = +1 or -1 and breakpoint t = -b / w; entries are
exact piecewise-polynomial integrals. The uniform case is w_i = 1, t_i = (i - 1) / n: unit 1 is the
identity x, and unit i is active on (t_i, 1].

Reliable lambda_min in 1D (all w_i = +1, sorted distinct breakpoints t_1 < ... < t_n < 1): every unit
vanishes at x = t_1, so on the P1 mesh with nodes x_k = t_{k+1} (k < n), x_n = 1, the units are
sigma = S^T phi with S lower triangular, and the hat functions are psi = B sigma with B = S^{-T} upper
triangular with three bands (second divided differences). Hence

    A = S^T M S,   A^{-1} = B^T M^{-1} B,   H^{-1} = (I - Z) D^{-1} (I - Z)^T (tridiagonal),

with M the tridiagonal, well-conditioned P1 mass matrix and D = diag(cell lengths). lambda_min(A) =
1 / mu_max of the pencil (B B^T, M): the largest eigenvalue of a pencil with well-conditioned M is
computed to full relative accuracy, unlike lambda_min of the dense float64 A once cond(A) ~ 1e12.

2D (Omega = [0, 1]^2): entries by a midpoint rule on a q x q grid as a weighted Gram matrix
Phi^T W Phi (accuracy checked against a grid twice as fine by the caller).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy import stats

EPS = np.finfo(float).eps


# --------------------------------------------------------------------------------------------- units
def uniform_breakpoints(n: int) -> np.ndarray:
    """t_i = (i - 1) / n, i = 1..n: every unit sigma(x - t_i) is active on (t_i, 1]."""
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    return np.arange(n, dtype=float) / n


def random_units_1d(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sorted breakpoints t ~ U[0, 1) and directions w = +-1 with probability 1/2 each."""
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    t = np.sort(rng.uniform(0.0, 1.0, size=n))
    w = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    return t, w


def units_2d(n: int, rng: np.random.Generator, margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Directions w_i = (cos a_i, sin a_i), a_i ~ U[0, 2 pi); kink line through p_i ~ U([m, 1 - m]^2).

    b_i = -w_i . p_i, so every unit is active on part of the square (and inactive on another part).
    Units are returned ordered by angle a_i (the ordering used for the hierarchical partition).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    a = np.sort(rng.uniform(0.0, 2.0 * np.pi, size=n))
    if not 0.0 <= margin < 0.5:
        raise ValueError(f"margin must be in [0, 0.5), got {margin}")
    p = rng.uniform(margin, 1.0 - margin, size=(n, 2))
    w = np.column_stack([np.cos(a), np.sin(a)])
    b = -np.einsum("ij,ij->i", w, p)
    return w, b


def duplicated(t: np.ndarray, w: np.ndarray | None = None) -> bool:
    """True when two units coincide (same breakpoint and direction): A and H are then singular."""
    w = np.ones_like(t) if w is None else w
    keys = np.round(np.column_stack([t, w]), 14)
    return len(np.unique(keys, axis=0)) < len(t)


# ------------------------------------------------------------------------------- 1D closed forms
def _pair_1d(ti, wi, tj, wj, which: str):
    """Entry formulas for broadcast arrays (breakpoints in [0, 1], directions +-1)."""
    both_plus = (wi > 0) & (wj > 0)
    both_minus = (wi < 0) & (wj < 0)
    d = np.abs(ti - tj)
    # ++: overlap (max t, 1]; --: overlap [0, min t); +-: overlap (t_plus, t_minus) if t_plus < t_minus
    L = np.where(both_plus, 1.0 - np.maximum(ti, tj), np.minimum(ti, tj))
    t_plus = np.where(wi > 0, ti, tj)
    t_minus = np.where(wi > 0, tj, ti)
    D = np.maximum(t_minus - t_plus, 0.0)
    same = both_plus | both_minus
    if which == "A":
        return np.where(same, L**3 / 3.0 + d * L**2 / 2.0, D**3 / 6.0)
    return np.where(same, L, D)


def matrix_1d(t: np.ndarray, w: np.ndarray | None = None, which: str = "A", chunk: int = 1024) -> np.ndarray:
    """A (which='A') or H (which='H') on [0, 1] in closed form, built in row chunks (bounded memory)."""
    if which not in ("A", "H"):
        raise ValueError(f"which must be 'A' or 'H', got {which!r}")
    t = np.asarray(t, dtype=float)
    w = np.ones_like(t) if w is None else np.asarray(w, dtype=float)
    n = len(t)
    out = np.empty((n, n))
    all_plus = bool(np.all(w > 0))
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        if all_plus:  # fast path: L = 1 - max(t_i, t_j), d = |t_i - t_j|
            ti, tj = t[s:e, None], t[None, :]
            L = 1.0 - np.maximum(ti, tj)
            if which == "H":
                out[s:e] = L
            else:
                blk = np.abs(ti - tj)
                blk *= 0.5
                blk += L / 3.0
                blk *= L
                blk *= L
                out[s:e] = blk
        else:
            out[s:e] = _pair_1d(t[s:e, None], w[s:e, None], t[None, :], w[None, :], which)
    return out


def mass_1d(t, w=None):
    return matrix_1d(t, w, "A")


def gauss_newton_1d(t, w=None):
    return matrix_1d(t, w, "H")


# --------------------------------------------------------------- hat-function basis (1D, all w = +1)
def _spacings(t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    h = np.diff(np.append(t, 1.0))  # h_k = t_{k+1} - t_k, h_n = 1 - t_n
    if np.any(h <= 0):
        raise ValueError("the hat-basis transform needs sorted, distinct breakpoints below 1")
    return h


def hat_transform(t: np.ndarray) -> sp.csr_matrix:
    """Sparse upper-triangular B with psi = B sigma the hat functions (B = S^{-T}, three bands)."""
    h = _spacings(t)
    n = len(h)
    inv = 1.0 / h
    d0 = inv.copy()
    d1 = -(inv[:-1] + inv[1:])
    d2 = inv[1:-1]
    return sp.diags([d0, d1, d2], [0, 1, 2], shape=(n, n), format="csr")


def hat_mass_banded(t: np.ndarray) -> np.ndarray:
    """P1 mass matrix M of the hats at x_k = t_{k+1} (k < n), x_n = 1, in upper banded storage (2, n)."""
    h = _spacings(t)
    n = len(h)
    diag = np.empty(n)
    diag[:-1] = (h[:-1] + h[1:]) / 3.0
    diag[-1] = h[-1] / 3.0
    ab = np.zeros((2, n))
    ab[0, 1:] = h[1:] / 6.0
    ab[1] = diag
    return ab


def hat_mass(t: np.ndarray) -> sp.csr_matrix:
    ab = hat_mass_banded(t)
    return sp.diags([ab[0, 1:], ab[1], ab[0, 1:]], [-1, 0, 1], format="csr")


def nodal_values(t: np.ndarray) -> np.ndarray:
    """Dense S with S[k, i] = sigma_i(x_k) (for tests; lower triangular)."""
    x = np.append(np.asarray(t, dtype=float)[1:], 1.0)
    return np.maximum(x[:, None] - np.asarray(t)[None, :], 0.0)


def _start_vector(n: int) -> np.ndarray:
    """A fixed ARPACK start vector: without one ARPACK draws a random one, and the eigenvalue (so the
    CSV) changes in its last bits from run to run."""
    return np.random.default_rng(0).standard_normal(n)


def lambda_extremes_A(t: np.ndarray, A: np.ndarray | None = None) -> tuple[float, float]:
    """(lambda_min, lambda_max) of A for all-plus sorted distinct breakpoints, without losing digits.

    lambda_min = 1 / mu_max(B B^T, M) (Lanczos on the well-conditioned pencil, shift-invert just above
    mu_max); lambda_max from Lanczos on A (dense matvec; built here if not given).
    """
    B = hat_transform(t)
    M = hat_mass(t).tocsc()
    K = (B @ B.T).tocsc()
    n = len(t)
    if n <= 64:
        Kd, Md = K.toarray(), M.toarray()
        mu_max = float(sla.eigh(Kd, Md, eigvals_only=True, subset_by_index=[n - 1, n - 1])[0])
    else:
        # Gershgorin bound of M^{-1} K is loose; one cheap Lanczos pass gives a near value, then
        # shift-invert just above it converges in a few steps even though the top is clustered.
        Minv = spla.factorized(M)
        op = spla.LinearOperator((n, n), matvec=lambda x: Minv(K @ x), dtype=float)
        est = float(
            spla.eigs(
                op, k=1, which="LR", tol=1e-3, v0=_start_vector(n), return_eigenvectors=False, maxiter=5000
            )[0].real
        )
        sigma = est * 1.02
        mu_max = float(
            spla.eigsh(
                K,
                k=1,
                M=M,
                sigma=sigma,
                which="LM",
                v0=_start_vector(n),
                return_eigenvectors=False,
                tol=1e-12,
            )[0]
        )
    if A is None:
        A = mass_1d(t)
    lam_max = (
        float(spla.eigsh(A, k=1, which="LA", v0=_start_vector(n), return_eigenvectors=False, tol=1e-12)[0])
        if n > 64
        else float(np.linalg.eigvalsh(A)[-1])
    )
    return 1.0 / mu_max, lam_max


def lambda_extremes_H(t: np.ndarray) -> tuple[float, float]:
    """(lambda_min, lambda_max) of H through the tridiagonal H^{-1} = (I - Z) D^{-1} (I - Z)^T.

    H^{-1} is positive definite tridiagonal; LAPACK dpteqr (Cholesky + bidiagonal QR) gets all its
    eigenvalues to high relative accuracy, so both ends of the spectrum of H keep full precision.
    """
    from scipy.linalg import lapack

    h = _spacings(t)  # cell k = (t_k, t_{k+1}) with t_{n+1} = 1
    inv = 1.0 / h
    diag = inv.copy()
    diag[1:] += inv[:-1]
    off = -inv[:-1]
    ev, _, _, info = lapack.dpteqr(diag, off, np.zeros((1, 1)), compute_z=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpteqr failed (info={info})")
    return 1.0 / float(ev.max()), 1.0 / float(ev.min())


def mpmath_extremes(t_num: list, w: list | None, which: str, dps: int) -> tuple[float, float]:
    """(lambda_min, lambda_max) from mpmath at `dps` digits; t_num are exact rationals (num, den)."""
    import mpmath

    with mpmath.workdps(dps):
        t = [mpmath.mpf(a) / b for a, b in t_num]
        n = len(t)
        w = w or [1] * n
        m = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                m[i, j] = _pair_mp(t[i], w[i], t[j], w[j], which)
        ev = mpmath.eigsy(m, eigvals_only=True)
        ev = sorted(ev)
        return float(ev[0]), float(ev[-1])


def _pair_mp(ti, wi, tj, wj, which):
    if wi > 0 and wj > 0:
        L, d, same = 1 - max(ti, tj), abs(ti - tj), True
    elif wi < 0 and wj < 0:
        L, d, same = min(ti, tj), abs(ti - tj), True
    else:
        tp, tm = (ti, tj) if wi > 0 else (tj, ti)
        D, same = max(tm - tp, 0), False
    if which == "A":
        return L**3 / 3 + d * L**2 / 2 if same else D**3 / 6
    return L if same else D


def _rcs(x: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum: out_i = sum_{k >= i} x_k."""
    return np.cumsum(x[::-1])[::-1]


def apply_A_uniform(c: np.ndarray, dtype=np.longdouble) -> np.ndarray:
    """A c for uniform breakpoints in O(n) (A = S^T M S via cumulative sums), in extended precision."""
    n = len(c)
    c = np.asarray(c, dtype=dtype)
    v = np.cumsum(np.cumsum(c)) / n  # v = S c (nodal values at k / n)
    Tv = 4.0 * v
    Tv[-1] = 2.0 * v[-1]
    Tv[:-1] += v[1:]
    Tv[1:] += v[:-1]
    Mv = Tv / (6.0 * n)
    return _rcs(_rcs(Mv)) / n


def rhs_uniform_exact(c_int: np.ndarray) -> np.ndarray:
    """f = A c for integer c and uniform breakpoints, exact in integers, rounded once to float64."""
    n = len(c_int)
    c = np.asarray(c_int, dtype=object)
    v = np.cumsum(np.cumsum(c))  # n * S c
    Tv = 4 * v
    Tv[-1] = 2 * v[-1]
    Tv[:-1] += v[1:]
    Tv[1:] += v[:-1]
    F = _rcs(_rcs(Tv))  # 6 n^3 f
    den = 6 * n**3
    return np.array([int(x) / den for x in F])  # int / int is correctly rounded


# ------------------------------------------------------------------------------------ 2D quadrature
def matrices_2d(
    w: np.ndarray, b: np.ndarray, q: int, chunk: int = 8192, need_h: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """(A, H) on the unit square by the q x q midpoint rule: Phi^T Phi / q^2 (Gram over grid points).

    H is skipped (None) when need_h is False."""
    g = (np.arange(q) + 0.5) / q
    X = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    n = len(b)
    A = np.zeros((n, n))
    H = np.zeros((n, n))
    for s in range(0, len(X), chunk):
        Z = X[s : s + chunk] @ w.T + b
        P = np.maximum(Z, 0.0)
        Hd = (Z > 0).astype(float)
        A += P.T @ P
        if need_h:
            H += Hd.T @ Hd
    return A / q**2, (H / q**2 if need_h else None)


# ------------------------------------------------------------------------------------- analysis
def loglog_fit(n: np.ndarray, y: np.ndarray, level: float = 0.95) -> dict[str, float]:
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


# ------------------------------------------------------------------------------------ experiments
RELIABLE_COND = 1.0e12  # float64 lambda_min keeps ~4 digits below this condition number


def _extremes_f64(A: np.ndarray) -> tuple[float, float]:
    ev = np.linalg.eigvalsh(A)
    return float(ev[0]), float(ev[-1])


def _cond_row(lam_min: float, lam_max: float) -> float:
    return lam_max / lam_min if lam_min > 0 else np.inf


def cond_uniform_1d(ns, naive_max_n: int, progress=None) -> pd.DataFrame:
    """cond(A), cond(H) for uniform breakpoints via the well-conditioned reformulations (+ naive f64)."""
    rows = []
    for n in ns:
        t = uniform_breakpoints(n)
        A = mass_1d(t)
        for which in ("A", "H"):
            if which == "A":
                lmin, lmax = lambda_extremes_A(t, A)
                method = "pencil(BB^T,M)"
                M = A
            else:
                lmin, lmax = lambda_extremes_H(t)
                method = "tridiagonal_inverse"
                M = gauss_newton_1d(t) if n <= naive_max_n else None
            row = {
                "family": "uniform_1d",
                "matrix": which,
                "n": n,
                "method": method,
                "lambda_min": lmin,
                "lambda_max": lmax,
                "cond": lmax / lmin,
                "lambda_min_naive": np.nan,
                "cond_naive": np.nan,
                "naive_rel_err_lambda_min": np.nan,
            }
            if n <= naive_max_n:
                nmin, nmax = _extremes_f64(M)
                row.update(
                    lambda_min_naive=nmin,
                    cond_naive=_cond_row(nmin, nmax),
                    naive_rel_err_lambda_min=abs(nmin - lmin) / lmin,
                )
            rows.append(row)
        if progress:
            progress.update()
    return pd.DataFrame(rows)


def cond_mpmath_check(ns, dps: int) -> pd.DataFrame:
    """lambda_min of A and H at small n: reformulation and naive float64 against mpmath (dps digits)."""
    rows = []
    for n in ns:
        t = uniform_breakpoints(n)
        exact_t = [(i, n) for i in range(n)]
        for which in ("A", "H"):
            mp_min, mp_max = mpmath_extremes(exact_t, None, which, dps)
            ours = lambda_extremes_A(t)[0] if which == "A" else lambda_extremes_H(t)[0]
            naive = _extremes_f64(matrix_1d(t, None, which))[0]
            rows.append(
                {
                    "matrix": which,
                    "n": n,
                    "dps": dps,
                    "lambda_min_mpmath": mp_min,
                    "cond_mpmath": mp_max / mp_min,
                    "lambda_min_ours": ours,
                    "rel_err_ours": abs(ours - mp_min) / mp_min,
                    "lambda_min_naive": naive,
                    "rel_err_naive": abs(naive - mp_min) / mp_min,
                }
            )
    return pd.DataFrame(rows)


def _flagged_extremes(A: np.ndarray, dup: bool) -> dict[str, object]:
    lmin, lmax = _extremes_f64(A)
    cond = _cond_row(lmin, lmax)
    if dup:
        status, reason = "singular", "duplicated units: A and H are exactly singular"
    elif not lmin > 0:
        status, reason = "not_pd_in_float64", "float64 lambda_min <= 0 (below rounding)"
    elif cond > RELIABLE_COND:
        status, reason = "unreliable", f"cond > {RELIABLE_COND:.0e}: float64 lambda_min has < 4 digits"
    else:
        status, reason = "ok", ""
    return {
        "lambda_min": lmin,
        "lambda_max": lmax,
        "cond": cond if status != "singular" else np.inf,
        "status": status,
        "reliable": int(status == "ok"),
        "reason": reason,
    }


def cond_random_1d(ns, draws: int, master_seed: int, progress=None) -> pd.DataFrame:
    """Random breakpoints, mixed directions: float64 eigenvalues with a reliability flag."""
    from .seeding import derive_seed, rng

    rows = []
    for n in ns:
        for draw in range(draws):
            t, w = random_units_1d(n, rng(master_seed, "xia_random_1d", n, draw))
            dup = duplicated(t, w)
            for which in ("A", "H"):
                res = _flagged_extremes(matrix_1d(t, w, which), dup)
                rows.append(
                    {
                        "family": "random_1d",
                        "matrix": which,
                        "n": n,
                        "draw": draw,
                        "seed": derive_seed(master_seed, "xia_random_1d", n, draw),
                        "min_gap": float(np.diff(t).min()),
                        **res,
                    }
                )
            if progress:
                progress.update()
    return pd.DataFrame(rows)


def units_2d_seeded(n: int, draw: int, master_seed: int, margin: float = 0.1):
    from .seeding import derive_seed, rng

    w, b = units_2d(n, rng(master_seed, "xia_2d", n, draw), margin)
    return w, b, derive_seed(master_seed, "xia_2d", n, draw)


def cond_2d(ns, draws: int, q: int, master_seed: int, progress=None, margin: float = 0.1) -> pd.DataFrame:
    rows = []
    for n in ns:
        for draw in range(draws):
            w, b, seed = units_2d_seeded(n, draw, master_seed, margin)
            A, H = matrices_2d(w, b, q)
            for which, M in (("A", A), ("H", H)):
                res = _flagged_extremes(M, False)
                rows.append(
                    {
                        "family": "2d",
                        "matrix": which,
                        "n": n,
                        "draw": draw,
                        "seed": seed,
                        "quad_points": q,
                        **res,
                    }
                )
            if progress:
                progress.update()
    return pd.DataFrame(rows)


def quadrature_check_2d(n: int, draws: int, q: int, master_seed: int, margin: float = 0.1) -> pd.DataFrame:
    """Midpoint grid q vs 2q: entrywise and eigenvalue changes (the stated quadrature tolerance)."""
    rows = []
    for draw in range(draws):
        w, b, seed = units_2d_seeded(n, draw, master_seed, margin)
        coarse, fine = matrices_2d(w, b, q), matrices_2d(w, b, 2 * q)
        for which, Mc, Mf in (("A", coarse[0], fine[0]), ("H", coarse[1], fine[1])):
            ec, ef = np.linalg.eigvalsh(Mc), np.linalg.eigvalsh(Mf)
            rows.append(
                {
                    "matrix": which,
                    "n": n,
                    "draw": draw,
                    "seed": seed,
                    "quad_points": q,
                    "quad_points_fine": 2 * q,
                    "max_entry_diff_rel": float(np.abs(Mc - Mf).max() / np.abs(Mf).max()),
                    "lambda_max_rel_change": float(abs(ec[-1] - ef[-1]) / ef[-1]),
                    "lambda_min_rel_change": float(abs(ec[0] - ef[0]) / abs(ef[0])),
                    "cond_rel_change": float(abs(ec[-1] / ec[0] - ef[-1] / ef[0]) / (ef[-1] / ef[0])),
                }
            )
    return pd.DataFrame(rows)


def _orient(v: np.ndarray) -> np.ndarray:
    return v if v[np.argmax(np.abs(v))] > 0 else -v


def spectrum_study(
    n: int, master_seed: int, modes_k: int = 2, margin: float = 0.1, q: int = 256
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All eigenvalues (descending) of A, H for uniform 1D, one random 1D draw and one 2D draw (q=256),
    and the extreme eigenvectors of the uniform 1D matrices with their sign-change counts."""
    from .seeding import rng

    t = uniform_breakpoints(n)
    tr, wr = random_units_1d(n, rng(master_seed, "xia_random_1d", n, 0))
    w2, b2, _ = units_2d_seeded(n, 0, master_seed, margin)
    A2, H2 = matrices_2d(w2, b2, q)
    mats = {
        ("uniform_1d", "A"): mass_1d(t),
        ("uniform_1d", "H"): gauss_newton_1d(t),
        ("random_1d", "A"): mass_1d(tr, wr),
        ("random_1d", "H"): gauss_newton_1d(tr, wr),
        ("2d", "A"): A2,
        ("2d", "H"): H2,
    }
    eig_rows, mode_rows = [], []
    for (family, which), M in mats.items():
        ev, V = np.linalg.eigh(M)
        ev, V = ev[::-1], V[:, ::-1]
        lam_min_ref = np.nan
        if family == "uniform_1d":
            lam_min_ref = lambda_extremes_A(t, M)[0] if which == "A" else lambda_extremes_H(t)[0]
        for k, lam in enumerate(ev, start=1):
            eig_rows.append(
                {
                    "family": family,
                    "matrix": which,
                    "n": n,
                    "k": k,
                    "eigenvalue": float(lam),
                    "eigenvalue_rel": float(lam / ev[0]),
                    "resolvable": int(lam > n * EPS * ev[0]),
                }
            )
        if family == "uniform_1d":
            eig_rows[-1]["lambda_min_reliable"] = lam_min_ref
        for kind, idx in (("largest", range(modes_k)), ("smallest", range(n - 1, n - 1 - modes_k, -1))):
            for rank, j in enumerate(idx, start=1):
                v = _orient(V[:, j])
                sc = sign_changes(v)
                for i in range(n):
                    mode_rows.append(
                        {
                            "family": family,
                            "matrix": which,
                            "n": n,
                            "which": kind,
                            "rank": rank,
                            "eigenvalue": float(ev[j]),
                            "sign_changes": sc,
                            "i": i + 1,
                            "coefficient": float(v[i]),
                        }
                    )
    eig = pd.DataFrame(eig_rows)
    return eig, pd.DataFrame(mode_rows)


def pd_study(n: int, draws: int, master_seed: int, margin: float = 0.1, q: int = 256) -> pd.DataFrame:
    """Cholesky / lambda_min of A and H: distinct units (PD expected) vs a duplicated unit (singular)."""
    from .seeding import rng

    cases = []
    t = uniform_breakpoints(n)
    cases.append(("uniform_1d", 0, "distinct", t, None))
    td = t.copy()
    td[1] = td[0]  # unit 2 duplicates unit 1
    cases.append(("uniform_1d", 0, "duplicated", td, None))
    for draw in range(draws):
        tr, wr = random_units_1d(n, rng(master_seed, "xia_random_1d", n, draw))
        cases.append(("random_1d", draw, "distinct", tr, wr))
    rows = []
    for family, draw, case, tt, ww in cases:
        dup = duplicated(tt, ww)
        for which in ("A", "H"):
            res = pd_check(matrix_1d(tt, ww, which))
            rows.append(
                {
                    "family": family,
                    "matrix": which,
                    "n": n,
                    "draw": draw,
                    "case": case,
                    "duplicated": int(dup),
                    **_pd_verdict(res, dup),
                }
            )
    for draw in range(draws):
        w2, b2, _ = units_2d_seeded(n, draw, master_seed, margin)
        for case in ("distinct", "duplicated"):
            if case == "duplicated":
                w2, b2 = w2.copy(), b2.copy()
                w2[1], b2[1] = w2[0], b2[0]
            A2, H2 = matrices_2d(w2, b2, q)
            for which, M in (("A", A2), ("H", H2)):
                dup = case == "duplicated"
                rows.append(
                    {
                        "family": "2d",
                        "matrix": which,
                        "n": n,
                        "draw": draw,
                        "case": case,
                        "duplicated": int(dup),
                        **_pd_verdict(pd_check(M), dup),
                    }
                )
    return pd.DataFrame(rows)


def _pd_verdict(res: dict, dup: bool) -> dict:
    if dup:
        verdict = "singular (duplicated unit)"
    elif res["cholesky_ok"] and res["lambda_min_f64"] > 0:
        verdict = "pd"
    else:
        verdict = "not pd in float64"
    reason = res["reason"]
    if dup and res["cholesky_ok"]:
        reason = "exactly singular; float64 Cholesky did not break down (rounding), lambda_min unresolvable"
    return {
        "cholesky_ok": int(res["cholesky_ok"]),
        "lambda_min_f64": res["lambda_min_f64"],
        "lambda_max_f64": res["lambda_max_f64"],
        "lambda_min_resolvable": int(res["lambda_min_resolvable"]),
        "verdict": verdict,
        "reason": reason,
    }


def _cg_count(A, b, M, rtol: float, maxiter: int):
    it = [0]

    def cb(_):
        it[0] += 1

    x, info = spla.cg(A, b, rtol=rtol, atol=0.0, maxiter=maxiter, M=M, callback=cb)
    return x, it[0], info


def cg_study(
    ns,
    draws: int,
    rtol: float,
    maxiter_factor: int,
    master_seed: int,
    progress=None,
    margin: float = 0.1,
    q: int = 256,
) -> pd.DataFrame:
    """CG iterations to ||r|| <= rtol ||b||, b = A c (c ~ N(0,1)): none, Jacobi, hat-basis change."""
    from .seeding import derive_seed, rng

    rows = []
    for n in ns:
        problems = [("uniform_1d", 0, uniform_breakpoints(n), np.ones(n))]
        for draw in range(draws):
            problems.append(
                ("random_1d", draw, *random_units_1d(n, rng(master_seed, "xia_random_1d", n, draw)))
            )
            # same breakpoints, all directions +1: separates "mixed directions" from "random gaps"
            problems.append(("random_plus_1d", draw, problems[-1][2], np.ones(n)))
            problems.append(("2d", draw, None, None))
        for family, draw, t, w in problems:
            if family == "2d":
                w2, b2, _ = units_2d_seeded(n, draw, master_seed, margin)
                A = matrices_2d(w2, b2, q, need_h=False)[0]
            else:
                A = mass_1d(t, w)
            seed = derive_seed(master_seed, "xia_cg", family, n, draw)
            c = np.random.default_rng(seed).standard_normal(n)
            b = A @ c
            d = np.diag(A)
            precs = {
                "none": None,
                "jacobi": spla.LinearOperator((n, n), matvec=lambda x, d=d: x / d, dtype=float),
            }
            if family != "2d":
                # basis change to hats built from the sorted breakpoints (exact for all w = +1), then
                # Jacobi in the hat basis: P^{-1} = B^T diag(B A B^T)^{-1} B
                B = hat_transform(t)
                dc = np.einsum("ij,ij->i", (B @ A), B.toarray())
                precs["hat"] = spla.LinearOperator(
                    (n, n), matvec=lambda x, B=B, dc=dc: B.T @ ((B @ x) / dc), dtype=float
                )
            for name, P in precs.items():
                x, iters, info = _cg_count(A, b, P, rtol, maxiter_factor * n)
                rows.append(
                    {
                        "family": family,
                        "n": n,
                        "draw": draw,
                        "seed": seed,
                        "preconditioner": name,
                        "iterations": iters,
                        "converged": int(info == 0),
                        "maxiter": maxiter_factor * n,
                        "rtol": rtol,
                        "rel_residual": float(np.linalg.norm(A @ x - b) / np.linalg.norm(b)),
                        "rel_error": float(np.linalg.norm(x - c) / np.linalg.norm(c)),
                    }
                )
        if progress:
            progress.update()
    return pd.DataFrame(rows)


def structure_study(
    n_1d: int, ns_2d, min_block: int, tols, master_seed: int, margin: float = 0.1, q: int = 256
) -> pd.DataFrame:
    """Numerical ranks (sigma_k > tol sigma_1) of the sibling off-diagonal blocks, every level.

    1D: units ordered by breakpoint; 2D: draw 0 at each n in ns_2d, units ordered by angle (a kd-tree
    ordering on (angle, offset) and a random ordering gave the same level-1 ranks in a trial run).
    """
    from .seeding import rng

    t = uniform_breakpoints(n_1d)
    tr, wr = random_units_1d(n_1d, rng(master_seed, "xia_random_1d", n_1d, 0))
    mats = {
        ("uniform_1d", "A", n_1d): mass_1d(t),
        ("uniform_1d", "H", n_1d): gauss_newton_1d(t),
        ("random_1d", "A", n_1d): mass_1d(tr, wr),
        ("random_1d", "H", n_1d): gauss_newton_1d(tr, wr),
    }
    for n2 in ns_2d:
        w2, b2, _ = units_2d_seeded(n2, 0, master_seed, margin)
        A2, H2 = matrices_2d(w2, b2, q)
        mats[("2d", "A", n2)], mats[("2d", "H", n2)] = A2, H2
    ordering = {"uniform_1d": "breakpoint", "random_1d": "breakpoint", "2d": "angle"}
    rows = []
    for (family, which, n), M in mats.items():
        for level, idx, r, c in offdiag_blocks(n, min_block):
            ranks = numerical_ranks(M[r, c], tols)
            for tol, rank in zip(tols, ranks, strict=True):
                rows.append(
                    {
                        "family": family,
                        "matrix": which,
                        "n": n,
                        "ordering": ordering[family],
                        "level": level,
                        "block": idx,
                        "block_rows": r.stop - r.start,
                        "block_cols": c.stop - c.start,
                        "tol": float(tol),
                        "rank": rank,
                    }
                )
    return pd.DataFrame(rows)
