"""ReLU mass matrix A and Gauss-Newton matrix H (J. Xia, talk abstract; Cai, Ding, Liu, Liu & Xia 2024).

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

2D (Omega = [0, 1]^2): entries exact to rounding (`matrices_2d_exact`): the overlap of two active
half-planes with the square is a convex polygon P_ij, H_ij = area(P_ij) (shoelace) and A_ij = int_P l_i l_j
with l = w . x + b, a quadratic, integrated exactly by a fan triangulation and the edge-midpoint rule
(exact for polynomials of degree 2). The midpoint grid `matrices_2d` (q x q points, error ~1/q for the
discontinuous H) is kept only to show that it converges to the exact entries.

This module holds the constructions only; measurements of a matrix are in `analysis`, the studies
that build the result tables in `studies`, and the fast solvers in `structured`.
"""

from __future__ import annotations

import mpmath
import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import lapack

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


def units_2d(n: int, rng: np.random.Generator, margin: float) -> tuple[np.ndarray, np.ndarray]:
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


# ------------------------------------------------------------------------- 2D exact (polygon clipping)
_SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


def _clip(P: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Clip a batch of convex polygons P (m, K, 2), padded by repeating a vertex, to {w . x + b >= 0}.

    Vectorised Sutherland-Hodgman: each edge (v_k, v_k+1) keeps v_k if inside and adds the crossing
    point if the edge crosses the line. Returns (m, 2K, 2), padded the same way (an empty result is
    K copies of the origin, area 0)."""
    m, K, _ = P.shape
    s = np.einsum("mkd,md->mk", P, w) + b[:, None]
    Q, sq = np.roll(P, -1, axis=1), np.roll(s, -1, axis=1)
    inside = s >= 0
    cross = (s >= 0) != (sq >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(cross, s / (s - sq), 0.0)
    X = P + lam[..., None] * (Q - P)
    cand = np.stack([P, X], axis=2).reshape(m, 2 * K, 2)
    keep = np.stack([inside, cross], axis=2).reshape(m, 2 * K)
    order = np.argsort(~keep, axis=1, kind="stable")  # kept points first, in polygon order
    cand = np.take_along_axis(cand, order[..., None], axis=1)
    count = keep.sum(axis=1)
    last = np.take_along_axis(cand, np.maximum(count - 1, 0)[:, None, None].repeat(2, axis=2), axis=1)
    pad = np.arange(2 * K)[None, :] >= count[:, None]
    out = np.where(pad[..., None], last, cand)
    return np.where((count == 0)[:, None, None], 0.0, out)


def _polygon_integrals(P: np.ndarray, wi, bi, wj, bj) -> tuple[np.ndarray, np.ndarray]:
    """(int_P l_i l_j, area P) for a batch of convex polygons (fan triangles from vertex 0, each with
    the edge-midpoint rule: exact for quadratics)."""
    v0, v1, v2 = P[:, :1], P[:, 1:-1], P[:, 2:]
    area = 0.5 * (
        (v1[..., 0] - v0[..., 0]) * (v2[..., 1] - v0[..., 1])
        - (v1[..., 1] - v0[..., 1]) * (v2[..., 0] - v0[..., 0])
    )
    f = 0.0
    for a, c in ((v0, v1), (v1, v2), (v2, v0)):
        mid = 0.5 * (a + c)
        li = np.einsum("mkd,md->mk", mid, wi) + bi[:, None]
        lj = np.einsum("mkd,md->mk", mid, wj) + bj[:, None]
        f = f + li * lj
    return (area * f / 3.0).sum(axis=1), area.sum(axis=1)


def matrices_2d_exact(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, H) on the unit square, exact up to rounding (module docstring), O(n^2) small-array work."""
    n = len(b)
    P1 = _clip(np.broadcast_to(_SQUARE, (n, 4, 2)).copy(), w, b)  # active part of each unit
    A, H = np.empty((n, n)), np.empty((n, n))
    for i in range(n):
        j = np.arange(i, n)
        P = _clip(np.broadcast_to(P1[i], (len(j),) + P1[i].shape).copy(), w[j], b[j])
        wi, bi = np.broadcast_to(w[i], (len(j), 2)), np.full(len(j), b[i])
        A[i, j], H[i, j] = _polygon_integrals(P, wi, bi, w[j], b[j])
        A[j, i], H[j, i] = A[i, j], H[i, j]
    return A, H
