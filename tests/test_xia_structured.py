"""Rank-structured solvers (HODLR Cholesky / Woodbury) and the O(n) hat-basis solver."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.linalg as sla

from nnmat.seeding import rng
from nnmat.xia import matrices as rm
from nnmat.xia import structured as st


@pytest.mark.parametrize("which", ["A", "H"])
@pytest.mark.parametrize("cls", [st.HODLRCholesky, st.HODLR])
def test_hodlr_matches_dense_1d(which, cls):
    n = 256
    t = rm.uniform_breakpoints(n)
    M = rm.matrix_1d(t, None, which)
    b = rng(1, "test").standard_normal((n, 3))
    S = cls(n, st.relu_1d_leaf(t, which), st.relu_1d_lowrank(t, which), leaf=16).factor()
    x = S.solve(b)
    xd = sla.cho_solve(sla.cho_factor(M), b)
    # cond up to ~1.7e10: judge the normwise backward error, and the solutions in that light
    backward = np.linalg.norm(M @ x - b) / (np.linalg.norm(M, 2) * np.linalg.norm(x) + np.linalg.norm(b))
    assert backward < (1e-14 if cls is st.HODLRCholesky else 1e-11)
    assert np.linalg.norm(x - xd) / np.linalg.norm(xd) < 1e-4
    assert S.max_rank() <= (4 if which == "A" else 2)


def test_hodlr_cholesky_2d_svd_factors():
    n = 128
    w, b = rm.units_2d(n, rng(2, "test"), 0.1)
    A, _ = rm.matrices_2d_exact(w, b)
    rhs = rng(3, "test").standard_normal(n)
    S = st.HODLRCholesky(n, st.dense_leaf(A), st.svd_lowrank(A, 1e-15), leaf=16, rank_tol=1e-15).factor()
    x = S.solve(rhs)
    backward = np.linalg.norm(A @ x - rhs) / (np.linalg.norm(A, 2) * np.linalg.norm(x) + np.linalg.norm(rhs))
    assert backward < 1e-13


def test_lowrank_factors_exact():
    t = rm.uniform_breakpoints(64)
    for which in ("A", "H"):
        M = rm.matrix_1d(t, None, which)
        rows, cols = np.arange(20), np.arange(20, 64)
        U, V = st.relu_1d_lowrank(t, which)(rows, cols)
        np.testing.assert_allclose(U @ V.T, M[np.ix_(rows, cols)], atol=1e-15)


@pytest.mark.parametrize("uniform", [True, False])
def test_hat_solver_manufactured_solution(uniform):
    """O(n) solver: exact (to rounding) for a manufactured solution, uniform and random breakpoints."""
    n = 200
    t = rm.uniform_breakpoints(n) if uniform else np.sort(rng(4, "test").uniform(0, 0.99, n))
    c = rng(5, "test").integers(-1, 2, size=n).astype(float)
    if uniform:
        f = rm.rhs_uniform_exact(c.astype(int))
    else:
        S, M = rm.nodal_values(t), rm.hat_mass(t).toarray()
        f = S.T @ (M @ (S @ c))
    x = st.solve_hat_1d(t, f)
    A = rm.mass_1d(t)
    xd = sla.cho_solve(sla.cho_factor(A), f)
    err, err_dense = (np.linalg.norm(y - c) / np.linalg.norm(c) for y in (x, xd))
    # the only error is f's rounding amplified by cond(A); the O(n) solver must not add to it
    assert err <= max(2 * err_dense, 1e-12)
    if uniform:
        assert err < 1e-6
    # random gaps down to ~1e-5 make B's entries large; the residual stays far below f's size
    assert np.linalg.norm(A @ x - f) / np.linalg.norm(f) < (1e-12 if uniform else 1e-9)


def test_hat_solver_is_linear_time():
    times = []
    for n in (2**14, 2**17):
        t = rm.uniform_breakpoints(n)
        f = np.ones(n)
        t0 = time.perf_counter()
        st.solve_hat_1d(t, f)
        times.append(time.perf_counter() - t0)
    assert times[1] < 30 * times[0] + 0.05  # 8x the size: far below the 64x of a quadratic method


def test_solver_benchmark_rows_and_flags():
    acc, tim = st.solver_benchmark(st.SolverSettings(seed=7, ns=[64, 128], dense_max_n=64, leaf=16))
    assert set(acc.method) == {
        "hat_On",
        "hodlr_cholesky",
        "hodlr_woodbury",
        "dense_cholesky",
        "normal_equations",
    }
    assert (acc.status == "ok").all()
    assert acc[acc.method == "dense_cholesky"].n.tolist() == [64]
    assert acc[acc.method == "normal_equations"].n.tolist() == [64]
    assert tim.speedup_vs_dense.notna().sum() == 5
    # the null of the stability claim: the normal equations lose far more than 2x of dense accuracy
    assert acc[acc.method == "normal_equations"].rel_error_ratio_vs_dense.iloc[0] > 100
    ok = acc[acc.method.isin(["hat_On", "hodlr_cholesky"])]
    assert (ok.rel_residual < 1e-12).all()


def test_bad_tolerance():
    with pytest.raises(ValueError):
        st.svd_lowrank(np.eye(4), 0.0)
    with pytest.raises(ValueError):
        st.HODLRCholesky(4, st.dense_leaf(np.eye(4)), st.svd_lowrank(np.eye(4), 1e-8), leaf=2, rank_tol=0)
