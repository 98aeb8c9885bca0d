"""Rank-structured direct solvers for the ReLU matrices (J. Xia, talk abstract).

* ``HODLR``: a symmetric HODLR matrix (dense leaves, low-rank sibling blocks A_IJ = U_I V_J^T) factored
  by the recursive Sherman-Morrison-Woodbury scheme (Ambikasaran & Darve 2013): with
  A = diag(A_11, A_22) + W Z W^T, W = diag(U, V), Z = [[0, I], [I, 0]],
  A^{-1} = D^{-1} - D^{-1} W (Z + W^T D^{-1} W)^{-1} W^T D^{-1}, D^{-1} applied recursively.
  Cost O(r n log^2 n) to factor and O(r n log n) to solve for rank r.
* ``solve_hat_1d``: the O(n) solver of the 1D mass matrix through the hat basis,
  A^{-1} = B^T M^{-1} B (B three-band upper triangular, M tridiagonal SPD), see `matrices`.
* Low-rank factors: exact analytic ones for the 1D matrices (rank 2 for A, rank 1 for H) and a
  truncated SVD for any dense block (2D).
* ``solver_benchmark``: the solvers against dense Cholesky on A x = f (1D uniform), the xia_solver job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import scipy.linalg as sla

from ..seeding import derive_seed
from . import matrices as rm

LeafFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (rows, cols) -> dense block
LowRankFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # -> (U, V), A_IJ = U V^T
RANK_TOL = 1e-15  # relative recompression tolerance of the HODLR Cholesky (not a user setting)


class HODLR:
    """Symmetric HODLR factorisation; leaves are Cholesky-factored, couplings LU-factored (2r x 2r)."""

    def __init__(self, n: int, leaf_fn: LeafFn, lowrank_fn: LowRankFn, *, leaf: int):
        if n < 1 or leaf < 1:
            raise ValueError("n and leaf must be positive")
        self.n, self.leaf = n, leaf
        self.root = self._build(np.arange(n), leaf_fn, lowrank_fn)
        self.factored = False

    def factor(self) -> HODLR:
        self._factor(self.root)
        self.factored = True
        return self

    # tree ------------------------------------------------------------------------------------
    def _build(self, idx, leaf_fn, lowrank_fn):
        if len(idx) <= self.leaf:
            return {"idx": idx, "dense": leaf_fn(idx, idx)}
        mid = len(idx) // 2
        i1, i2 = idx[:mid], idx[mid:]
        U, V = lowrank_fn(i1, i2)
        return {
            "idx": idx,
            "mid": mid,
            "U": U,
            "V": V,
            "kids": (self._build(i1, leaf_fn, lowrank_fn), self._build(i2, leaf_fn, lowrank_fn)),
        }

    def _factor(self, node):
        if "dense" in node:
            node["chol"] = sla.cho_factor(node["dense"], lower=True, check_finite=False)
            return
        k1, k2 = node["kids"]
        self._factor(k1)
        self._factor(k2)
        U, V = node["U"], node["V"]
        node["Y1"] = self._solve(k1, U)
        node["Y2"] = self._solve(k2, V)
        r = U.shape[1]
        K = np.zeros((2 * r, 2 * r))
        K[:r, :r] = U.T @ node["Y1"]
        K[r:, r:] = V.T @ node["Y2"]
        K[:r, r:] += np.eye(r)
        K[r:, :r] += np.eye(r)
        node["K"] = sla.lu_factor(K, check_finite=False)

    def _solve(self, node, b):
        if "dense" in node:
            return sla.cho_solve(node["chol"], b, check_finite=False)
        k1, k2 = node["kids"]
        m = node["mid"]
        x1 = self._solve(k1, b[:m])
        x2 = self._solve(k2, b[m:])
        r = node["U"].shape[1]
        t = np.concatenate([node["U"].T @ x1, node["V"].T @ x2])
        s = sla.lu_solve(node["K"], t, check_finite=False)
        x1 = x1 - node["Y1"] @ s[:r]
        x2 = x2 - node["Y2"] @ s[r:]
        return np.concatenate([x1, x2])

    def solve(self, b: np.ndarray) -> np.ndarray:
        if not self.factored:
            self.factor()
        return self._solve(self.root, np.asarray(b, dtype=float))

    def max_rank(self) -> int:
        def rec(node):
            if "dense" in node:
                return 0
            return max(node["U"].shape[1], *(rec(k) for k in node["kids"]))

        return rec(self.root)


def _compress_pair(U: np.ndarray, V: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Recompress U V^T (QR of both factors, SVD of the small core; sigma > tol * sigma_1 kept)."""
    Qu, Ru = np.linalg.qr(U)
    Qv, Rv = np.linalg.qr(V)
    W, s, Zt = np.linalg.svd(Ru @ Rv.T)
    r = max(1, int(np.sum(s > tol * s[0]))) if s[0] > 0 else 1
    return Qu @ (W[:, :r] * s[:r]), Qv @ Zt[:r].T


def _compress_sym(W: np.ndarray, G: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Recompress the symmetric positive semidefinite update W G W^T (eigenvalues > tol * max kept)."""
    if W.shape[1] == 0:
        return W, G
    Q, R = np.linalg.qr(W)
    lam, E = np.linalg.eigh(R @ G @ R.T)
    keep = lam > tol * max(lam.max(), 0.0) if lam.max() > 0 else np.zeros_like(lam, dtype=bool)
    return Q @ E[:, keep], np.diag(lam[keep])


class HODLRCholesky:
    """Symmetric HODLR Cholesky factor A = L L^T with low-rank off-diagonal blocks of L.

    Block elimination: A_11 = L_1 L_1^T (recursively), L_21 = A_21 L_1^{-T} = V_h P^T with
    P = L_1^{-1} U_h, and the Schur complement A_22 - V_h (P^T P) V_h^T is factored recursively with the
    symmetric low-rank update carried down and recompressed (relative tolerance ``rank_tol``). Unlike the
    Woodbury scheme it never subtracts two large solutions, so it stays accurate when cond(A) is huge.
    """

    def __init__(
        self, n: int, leaf_fn: LeafFn, lowrank_fn: LowRankFn, *, leaf: int, rank_tol: float = RANK_TOL
    ):
        if n < 1 or leaf < 1 or rank_tol <= 0:
            raise ValueError("n and leaf must be positive and rank_tol > 0")
        self.n, self.leaf, self.rank_tol = n, leaf, rank_tol
        self._leaf_fn, self._lowrank_fn = leaf_fn, lowrank_fn
        self.root = None

    def factor(self) -> HODLRCholesky:
        self.root = self._factor(np.arange(self.n), np.zeros((self.n, 0)), np.zeros((0, 0)))
        return self

    def _factor(self, idx, W, G):
        if len(idx) <= self.leaf:
            D = self._leaf_fn(idx, idx)
            if W.shape[1]:
                D = D - W @ G @ W.T
            return {"L": sla.cholesky(D, lower=True, check_finite=False)}
        m = len(idx) // 2
        i1, i2 = idx[:m], idx[m:]
        k1 = self._factor(i1, W[:m], G)
        U, V = self._lowrank_fn(i1, i2)  # A_12 = U V^T
        if W.shape[1]:
            U, V = _compress_pair(np.hstack([U, W[:m]]), np.hstack([V, -W[m:] @ G]), self.rank_tol)
        P = self._fwd(k1, U)
        W2 = np.hstack([W[m:], V])
        G2 = sla.block_diag(G, P.T @ P)
        W2, G2 = _compress_sym(W2, G2, self.rank_tol)
        k2 = self._factor(i2, W2, G2)
        return {"m": m, "P": P, "V": V, "kids": (k1, k2)}

    def _fwd(self, node, b):
        if "L" in node:
            return sla.solve_triangular(node["L"], b, lower=True, check_finite=False)
        m = node["m"]
        k1, k2 = node["kids"]
        y1 = self._fwd(k1, b[:m])
        y2 = self._fwd(k2, b[m:] - node["V"] @ (node["P"].T @ y1))
        return np.concatenate([y1, y2])

    def _bwd(self, node, y):
        if "L" in node:
            return sla.solve_triangular(node["L"], y, lower=True, trans="T", check_finite=False)
        m = node["m"]
        k1, k2 = node["kids"]
        x2 = self._bwd(k2, y[m:])
        x1 = self._bwd(k1, y[:m] - node["P"] @ (node["V"].T @ x2))
        return np.concatenate([x1, x2])

    def solve(self, b: np.ndarray) -> np.ndarray:
        if self.root is None:
            self.factor()
        return self._bwd(self.root, self._fwd(self.root, np.asarray(b, dtype=float)))

    def max_rank(self) -> int:
        def rec(node):
            if "L" in node:
                return 0
            return max(node["V"].shape[1], *(rec(k) for k in node["kids"]))

        return rec(self.root) if self.root is not None else 0


# ---------------------------------------------------------------------------- factor providers
def relu_1d_leaf(t: np.ndarray, which: str = "A") -> LeafFn:
    """Dense blocks of the 1D matrix (all directions +1) from the closed form."""

    def fn(rows, cols):
        ti, tj = t[rows, None], t[None, cols]
        L = 1.0 - np.maximum(ti, tj)
        if which == "H":
            return L
        return L * L * (L / 3.0 + np.abs(ti - tj) / 2.0)

    return fn


def relu_1d_lowrank(t: np.ndarray, which: str = "A") -> LowRankFn:
    """Exact factors of A_IJ (rank 2) or H_IJ (rank 1) for I before J (t_i <= t_j), all w = +1.

    A_ij = (1 - t_j)^3 / 3 + (t_j - t_i)(1 - t_j)^2 / 2 = g_j - t_i (1 - t_j)^2 / 2,  H_ij = 1 - t_j.
    """

    def fn(rows, cols):
        ti, tj = t[rows], t[cols]
        if which == "H":
            return np.ones((len(rows), 1)), (1.0 - tj)[:, None]
        L = 1.0 - tj
        g = L**3 / 3.0 + tj * L**2 / 2.0
        U = np.column_stack([np.ones_like(ti), ti])
        V = np.column_stack([g, -(L**2) / 2.0])
        return U, V

    return fn


def dense_leaf(A: np.ndarray) -> LeafFn:
    return lambda rows, cols: A[np.ix_(rows, cols)]


def svd_lowrank(A: np.ndarray, tol: float) -> LowRankFn:
    """Truncated-SVD factors of the dense blocks of A: singular values > tol * sigma_1 kept."""
    if tol <= 0:
        raise ValueError(f"tol must be > 0, got {tol}")

    def fn(rows, cols):
        Ub, s, Vt = np.linalg.svd(A[np.ix_(rows, cols)], full_matrices=False)
        r = max(1, int(np.sum(s > tol * s[0]))) if s[0] > 0 else 1
        return Ub[:, :r] * s[:r], Vt[:r].T

    return fn


# ------------------------------------------------------------------------------------- O(n) 1D
class HatSolver1D:
    """O(n) factorisation of the 1D ReLU mass matrix (all w = +1, sorted distinct breakpoints < 1)."""

    def __init__(self, t: np.ndarray):
        self.B = rm.hat_transform(t)
        self.M_banded = rm.hat_mass_banded(t)
        self.chol = None

    def factor(self) -> HatSolver1D:
        self.chol = sla.cholesky_banded(self.M_banded, lower=False, check_finite=False)
        return self

    def solve(self, f: np.ndarray) -> np.ndarray:
        if self.chol is None:
            self.factor()
        y = self.B @ f
        z = sla.cho_solve_banded((self.chol, False), y, check_finite=False)
        return self.B.T @ z


def solve_hat_1d(t: np.ndarray, f: np.ndarray) -> np.ndarray:
    return HatSolver1D(t).solve(f)


# ------------------------------------------------------------------------------------- benchmark
SOLVER_METHODS = ("hat_On", "hodlr_cholesky", "hodlr_woodbury")  # dense_cholesky added up to dense_max_n
# The null of the stability claim: the normal equations A^T A x = A^T f (LU, float64), an unstable
# method (error ~ cond(A)^2 eps); dense and O(n^3), so only up to this n (about 1 s at n = 2048).
NORMAL_EQUATIONS_MAX_N = 2048


@dataclass(frozen=True)
class SolverSettings:
    """xia.solver and the master seed: fast direct solvers vs dense Cholesky (1D uniform, A)."""

    seed: int
    ns: tuple[int, ...]
    dense_max_n: int
    leaf: int

    def __post_init__(self):
        for f in fields(self):
            if isinstance(getattr(self, f.name), list):
                object.__setattr__(self, f.name, tuple(getattr(self, f.name)))
        if min(self.ns) < 4 or self.leaf < 2:
            raise ValueError("every n must be >= 4 and leaf >= 2")


def _assemble(method: str, t: np.ndarray, leaf: int):
    """The matrix (dense) or the solver object of one method, before its factorisation."""
    n = len(t)
    if method in ("dense_cholesky", "normal_equations"):
        return rm.mass_1d(t)
    if method == "hodlr_cholesky":
        return HODLRCholesky(n, relu_1d_leaf(t), relu_1d_lowrank(t), leaf=leaf, rank_tol=RANK_TOL)
    if method == "hodlr_woodbury":
        return HODLR(n, relu_1d_leaf(t), relu_1d_lowrank(t), leaf=leaf)
    return HatSolver1D(t)


def _time_method(method: str, t: np.ndarray, f: np.ndarray, leaf: int):
    """Assemble, factor and solve with one method: (x or None, status, reason, solver, times t0..t3)."""
    t0 = time.perf_counter()
    S = _assemble(method, t, leaf)
    t1 = time.perf_counter()
    x, status, reason = None, "ok", ""
    try:
        if method == "dense_cholesky":
            fac = sla.cho_factor(S, lower=True, overwrite_a=True, check_finite=False)
        elif method == "normal_equations":
            fac = sla.lu_factor(S.T @ S, check_finite=False)
        else:
            S.factor()
        t2 = time.perf_counter()
        if method == "dense_cholesky":
            x = sla.cho_solve(fac, f, check_finite=False)
        elif method == "normal_equations":
            x = sla.lu_solve(fac, S.T @ f, check_finite=False)
        else:
            x = S.solve(f)
        t3 = time.perf_counter()
    except (np.linalg.LinAlgError, ValueError) as exc:
        t2 = t3 = time.perf_counter()
        status, reason = "failed", f"{type(exc).__name__}: {exc}"
    if method in ("dense_cholesky", "normal_equations"):
        S = fac = None  # free the dense matrix (8 n^2 bytes) before the next method
    return x, status, reason, S, (t0, t1, t2, t3)


def _add_ratios(acc_df: pd.DataFrame, tim_df: pd.DataFrame) -> None:
    """Speedups and accuracy ratios against the dense solves that succeeded (in place)."""
    # a failed Cholesky has no solve time
    dense_ok = tim_df[(tim_df.method == "dense_cholesky") & (tim_df.status == "ok")].set_index("n")
    dense = dense_ok["factor_solve_s"]
    tim_df["speedup_vs_dense"] = tim_df["n"].map(dense) / tim_df["factor_solve_s"]
    dense_total = dense_ok["total_s"]
    tim_df["speedup_total_vs_dense"] = tim_df["n"].map(dense_total) / tim_df["total_s"]
    dense_err = acc_df[(acc_df.method == "dense_cholesky") & (acc_df.status == "ok")].set_index("n")
    for col in ("rel_residual", "rel_error"):
        acc_df[f"{col}_ratio_vs_dense"] = acc_df[col] / acc_df["n"].map(dense_err[col])


def solver_benchmark(settings: SolverSettings, progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dense Cholesky vs HODLR (Cholesky and Woodbury) vs O(n) hat solver on A x = f, 1D uniform.

    The known solution c has entries in {-1, 0, 1} (seeded); f = A c is computed exactly in integer
    arithmetic and rounded once. Residuals use the O(n) product A x in extended precision.
    Returns (accuracy DataFrame, timing DataFrame); only the second depends on the machine. The
    HODLR Cholesky builds its blocks inside factor() (assemble_s = 0): compare total_s as well.
    """
    acc, tim = [], []
    for n in sorted(settings.ns):
        seed = derive_seed(settings.seed, "xia_solver", n)
        c = np.random.default_rng(seed).integers(-1, 2, size=n)
        f = rm.rhs_uniform_exact(c)
        t = rm.uniform_breakpoints(n)
        methods = list(SOLVER_METHODS) + (["dense_cholesky"] if n <= settings.dense_max_n else [])
        methods += ["normal_equations"] if n <= min(settings.dense_max_n, NORMAL_EQUATIONS_MAX_N) else []
        for method in methods:
            x, status, reason, S, (t0, t1, t2, t3) = _time_method(method, t, f, settings.leaf)
            res = err = np.nan
            if x is not None and np.all(np.isfinite(x)):
                res = float(np.linalg.norm((rm.apply_A_uniform(x) - f).astype(float)) / np.linalg.norm(f))
                err = float(np.linalg.norm(x - c) / np.linalg.norm(c))
            elif x is not None:
                status, reason = "failed", "non-finite solution"
            rank = S.max_rank() if method.startswith("hodlr") and status == "ok" else np.nan
            acc.append(
                {
                    "n": n,
                    "method": method,
                    "seed": seed,
                    "status": status,
                    "reason": reason,
                    "max_offdiag_rank": rank,
                    "rel_residual": res,
                    "rel_error": err,
                }
            )
            tim.append(
                {
                    "n": n,
                    "method": method,
                    "status": status,
                    "assemble_s": t1 - t0,
                    "factor_s": t2 - t1,
                    "solve_s": t3 - t2,
                    "factor_solve_s": t3 - t1,
                    "total_s": t3 - t0,
                }
            )
        if progress:
            progress.update()
    acc_df, tim_df = pd.DataFrame(acc), pd.DataFrame(tim)
    _add_ratios(acc_df, tim_df)
    return acc_df, tim_df
