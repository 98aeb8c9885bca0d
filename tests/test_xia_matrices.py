"""ReLU mass matrix A and Gauss-Newton matrix H (J. Xia, talk abstract): closed forms, PD, conditioning
(nnmat.xia.matrices, with the measurements of nnmat.xia.analysis and the PD study)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from nnmat.seeding import rng
from nnmat.xia import analysis as an
from nnmat.xia import matrices as rm
from nnmat.xia import studies

MARGIN = 0.1  # the schema default of xia.d2.margin


def _midpoint_1d(t, w, which, m=400_000):
    x = (np.arange(m) + 0.5) / m
    z = w[None, :] * (x[:, None] - t[None, :])
    phi = np.maximum(z, 0.0) if which == "A" else (z > 0).astype(float)
    return phi.T @ phi / m


@pytest.mark.parametrize("which", ["A", "H"])
def test_closed_form_matches_quadrature_random_mixed(which):
    t, w = rm.random_units_1d(7, rng(1, "test", which))
    exact = rm.matrix_1d(t, w, which)
    quad = _midpoint_1d(t, w, which)
    # midpoint rule: O(h^2) for the kinks of A, O(h) for the jumps of H (h = 2.5e-6)
    tol = 1e-9 if which == "A" else 1e-5
    np.testing.assert_allclose(quad, exact, atol=tol)


def test_closed_form_uniform_is_exact_rational():
    """A_ij = (2 L^3 + 3 d L^2) / (6 n^3) with integers L = n - max(i, j) + 1, d = |i - j|."""
    n = 9
    A = rm.mass_1d(rm.uniform_breakpoints(n))
    for i in range(n):
        for j in range(n):
            L, d = n - max(i, j), abs(i - j)
            assert A[i, j] == pytest.approx(float(Fraction(2 * L**3 + 3 * d * L**2, 6 * n**3)), rel=1e-15)


def test_factorisation_through_hat_basis():
    t, _ = rm.random_units_1d(12, rng(2, "test"))
    A = rm.mass_1d(t)
    S, B, M = rm.nodal_values(t), rm.hat_transform(t).toarray(), rm.hat_mass(t).toarray()
    np.testing.assert_allclose(S.T @ M @ S, A, atol=1e-15)
    np.testing.assert_allclose(B @ S.T, np.eye(12), atol=1e-10)


def test_2d_quadrature_converges():
    w, b = rm.units_2d(6, rng(3, "test"), MARGIN)
    A1, H1 = rm.matrices_2d(w, b, 128)
    A2, H2 = rm.matrices_2d(w, b, 256)
    assert np.abs(A1 - A2).max() < 1e-4 * np.abs(A2).max()
    assert np.abs(H1 - H2).max() < 1e-2 * np.abs(H2).max()


def test_2d_exact_entries_closed_forms():
    # unit 0: x > 0.3; unit 1: y > 0.6; unit 2: x + y > 1 (normalised); unit 3: inactive everywhere
    s = np.sqrt(0.5)
    w = np.array([[1.0, 0.0], [0.0, 1.0], [s, s], [1.0, 0.0]])
    b = np.array([-0.3, -0.6, -s, -2.0])
    A, H = rm.matrices_2d_exact(w, b)
    assert H[0, 0] == pytest.approx(0.7, abs=1e-15)
    assert H[0, 1] == pytest.approx(0.7 * 0.4, abs=1e-15)
    assert H[2, 2] == pytest.approx(0.5, abs=1e-15)
    assert H[3].max() == 0.0 and A[3].max() == 0.0
    assert A[0, 0] == pytest.approx(0.7**3 / 3, rel=1e-14)
    assert A[0, 1] == pytest.approx((0.7**2 / 2) * (0.4**2 / 2), rel=1e-14)  # separable product
    assert A[2, 2] == pytest.approx(1.0 / 24.0, rel=1e-14)  # (1/2) int (x + y - 1)^2 over the triangle
    # H_02: area of {x > 0.3, x + y > 1}: 0.7 - (triangle x in [0.3, 1], y < 1 - x) = 0.7 - 0.245
    assert H[0, 2] == pytest.approx(0.7 - 0.7**2 / 2, abs=1e-15)


def test_2d_midpoint_grid_converges_to_exact():
    w, b = rm.units_2d(12, rng(3, "test"), MARGIN)
    A, H = rm.matrices_2d_exact(w, b)
    errs = []
    for q in (64, 128, 256, 512):
        Aq, Hq = rm.matrices_2d(w, b, q)
        errs.append((np.abs(Aq - A).max() / np.abs(A).max(), np.abs(Hq - H).max()))
    errs = np.array(errs)
    assert np.all(np.diff(np.log(errs[:, 0])) < -1.0)  # A: second order (factor ~4 per halving)
    assert errs[-1, 0] < 1e-5 and errs[-1, 1] < 5e-3 and errs[-1, 1] < 0.5 * errs[0, 1]
    np.testing.assert_array_equal(A, A.T)
    assert np.all(np.linalg.eigvalsh(H) > 0)


@pytest.mark.parametrize("family", ["uniform", "random", "2d"])
def test_symmetric_positive_definite(family):
    if family == "uniform":
        mats = [rm.mass_1d(rm.uniform_breakpoints(16)), rm.gauss_newton_1d(rm.uniform_breakpoints(16))]
    elif family == "random":
        t, w = rm.random_units_1d(16, rng(4, "test"))
        mats = [rm.mass_1d(t, w), rm.gauss_newton_1d(t, w)]
    else:
        mats = list(rm.matrices_2d_exact(*rm.units_2d(16, rng(5, "test"), MARGIN)))
    for M in mats:
        np.testing.assert_array_equal(M, M.T)
        res = an.pd_check(M)
        assert res["cholesky_ok"] and res["lambda_min_f64"] > 0


def test_duplicated_units_flagged_not_crash():
    t = rm.uniform_breakpoints(8)
    t[1] = t[0]
    assert rm.duplicated(t)
    res = an.pd_check(rm.mass_1d(t))
    assert not res["lambda_min_resolvable"]
    df = studies.pd_study(studies.SpectrumSettings(seed=7, n=8, draws=1, margin=MARGIN))
    dup = df[df.case == "duplicated"]
    assert len(dup) and (dup.verdict == "singular (duplicated unit)").all()
    assert (df[df.case == "distinct"].verdict == "pd").all()


@pytest.mark.parametrize("n", [4, 8, 16])
def test_lambda_min_against_mpmath(n):
    """Known small-n condition numbers: the reformulation agrees with 50-digit mpmath to 1e-14."""
    t = rm.uniform_breakpoints(n)
    exact_t = [(i, n) for i in range(n)]
    for which, ours in (("A", rm.lambda_extremes_A(t)), ("H", rm.lambda_extremes_H(t))):
        mp_min, mp_max = rm.mpmath_extremes(exact_t, None, which, 50)
        assert ours[0] == pytest.approx(mp_min, rel=1e-14)
        assert ours[1] / ours[0] == pytest.approx(mp_max / mp_min, rel=1e-13)


def test_known_condition_numbers_H_closed_form():
    """H = (min(n+1-i, n+1-j)) / n: eigenvalues 1 / (4 n sin^2((2k-1) pi / (2 (2n+1))))."""
    for n in (5, 50, 500):
        k = np.arange(1, n + 1)
        lam = 1.0 / (4 * n * np.sin((2 * k - 1) * np.pi / (2 * (2 * n + 1))) ** 2)
        lmin, lmax = rm.lambda_extremes_H(rm.uniform_breakpoints(n))
        assert lmin == pytest.approx(lam.min(), rel=1e-12)
        assert lmax == pytest.approx(lam.max(), rel=1e-12)


def test_reformulation_consistent_at_large_cond():
    """At n = 512 (cond ~ 3e11) the pencil and plain float64 still agree to a few digits."""
    n = 512
    t = rm.uniform_breakpoints(n)
    lmin, lmax = rm.lambda_extremes_A(t)
    assert 2e11 < lmax / lmin < 4e11
    naive = np.linalg.eigvalsh(rm.mass_1d(t))[0]
    assert abs(naive - lmin) / lmin < 1e-5  # float64 still has a few digits here


def test_rhs_exact_and_fast_product():
    c = rng(6, "test").integers(-1, 2, size=64)
    A = rm.mass_1d(rm.uniform_breakpoints(64))
    np.testing.assert_allclose(rm.rhs_uniform_exact(c), A @ c, atol=1e-14)
    np.testing.assert_allclose(rm.apply_A_uniform(c).astype(float), A @ c, atol=1e-14)


def test_loglog_fit_recovers_exponent():
    n = np.array([16, 32, 64, 128, 256])
    fit = an.loglog_fit(n, 3.0 * n**4.0 * (1 + 1e-3 * np.sin(n)), 0.95)
    assert fit["ci_lo"] <= 4.0 <= fit["ci_hi"] and abs(fit["exponent"] - 4) < 1e-2


def test_offdiag_ranks_1d_exact():
    t = rm.uniform_breakpoints(128)
    for which, r in (("A", 2), ("H", 1)):
        M = rm.matrix_1d(t, None, which)
        for _, _, rows, cols in an.offdiag_blocks(128, 16):
            assert an.numerical_ranks(M[rows, cols], [1e-12])[0] == r


def test_sign_changes_of_extreme_modes():
    A = rm.mass_1d(rm.uniform_breakpoints(32))
    _, V = np.linalg.eigh(A)
    assert an.sign_changes(V[:, -1]) == 0
    assert an.sign_changes(V[:, 0]) == 31


def test_bad_input():
    with pytest.raises(ValueError):
        rm.uniform_breakpoints(1)
    with pytest.raises(ValueError):
        rm.hat_transform(np.array([0.0, 0.5, 0.5]))
    with pytest.raises(ValueError):
        rm.matrix_1d(np.array([0.0, 0.5]), None, "B")


def test_hat_preconditioner_only_where_it_is_a_basis_change():
    s = studies.CGSettings(seed=3, ns=[8], draws=1, rtol=1e-8, maxiter_factor=4, margin=MARGIN)
    df = studies.cg_study(s)
    hat = set(df[df.preconditioner == "hat"].family)
    assert hat == {"uniform_1d", "random_plus_1d"}  # never on mixed directions (random_1d) or 2D
    assert {"random_1d", "hat_mass"} <= set(df.family)
