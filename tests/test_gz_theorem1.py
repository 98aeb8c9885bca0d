"""Theorem 1 of Gai & Zhang (eq. 12): closed form in float64 and mpmath, proof identities, failures.

The depth comparison (Sec. 2) is tested in test_gz_depth.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnmat.gz import instances, theorem1


def well_conditioned(d: int, seed: int, max_cond: float = 1e3) -> tuple[np.ndarray, ...]:
    """A Gaussian problem with cond(X1 - X2) < max_cond (redrawn until it is)."""
    rng = np.random.default_rng(seed)
    while True:
        X1, X2, Y1, Y2 = (rng.standard_normal((d, d)) for _ in range(4))
        if np.linalg.cond(X1 - X2) < max_cond:
            return X1, X2, Y1, Y2


# Stated tolerance: 1e-9 relative Frobenius residual for d <= 8, cond(X1 - X2) < 30, alpha in
# [0.3, 5]. (Rounding is amplified by the two exp cancellations, see the next test: a random problem with
# cond(X1 - X2) ~ 1e2 can already lose 1e-4 at alpha = 5, d = 8, and alpha near 1 loses accuracy like
# exp(c / |1 - alpha|).)
@pytest.mark.parametrize("d", [2, 3, 5, 8])
@pytest.mark.parametrize("alpha", [0.3, 2.0, 5.0])
def test_theorem1_solves_both_equations_in_float64(d, alpha):
    X1, X2, Y1, Y2 = well_conditioned(d, seed=100 + d, max_cond=30)
    w = theorem1.closed_form_weights(X1, X2, Y1, Y2, alpha)
    for X, Y in ((X1, Y1), (X2, Y2)):
        F, _ = theorem1.network(w, X)
        assert theorem1.rel_err(F, Y) < 1e-9
    row, times = theorem1.theorem1_row(X1, X2, Y1, Y2, alpha)
    assert row["status"] == "ok" and row["reason"] == ""
    assert row["rel_residual_max"] < 1e-9
    assert row["rel_residual_max"] == max(row["rel_residual_1"], row["rel_residual_2"])
    assert times["solve_s"] > 0 and times["verify_s"] > 0


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9, 1.1, 2.0, 10.0])
def test_float64_residual_is_explained_by_the_amplification_factors(alpha):
    """First-order error analysis, checked on random problems with a factor 1e3 of slack:

    residual <~ eps (amplification + amplification_inner) + amplification * eq31_rel_err
    (rounding of the two exp cancellations, plus the inner error carried through the outer one;
    over the default config's 288 solves the ratio stays below 60).
    """
    rng = np.random.default_rng(int(alpha * 10))
    for d in (3, 6, 12):
        X1, X2, Y1, Y2 = (rng.standard_normal((d, d)) for _ in range(4))
        row, _ = theorem1.theorem1_row(X1, X2, Y1, Y2, alpha)
        if row["status"] != "ok":
            continue
        eps = np.finfo(float).eps
        amp, amp_in = row["amplification"], row["amplification_inner"]
        bound = 1e3 * (eps * (amp + amp_in) + amp * row["eq31_rel_err"])
        assert row["rel_residual_max"] <= bound, (d, row)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_proof_identities_hold(alpha):
    X1, X2, Y1, Y2 = well_conditioned(4, seed=7)
    row, _ = theorem1.theorem1_row(X1, X2, Y1, Y2, alpha)
    assert row["eq25_rel_err"] < 1e-13  # eqs. 24-25
    assert row["expz_rel_err"] < 1e-12  # exp(Z) = a Y1^-1 Y2
    assert row["eq31_rel_err"] < 1e-10  # eq. 31
    assert row["commutator_rel"] < 1e-10  # [W2 exp(W1 X1), Z] = 0
    assert np.isfinite(row["amplification"]) and row["weight_norm_max"] > 0


def test_weights_are_complex_in_general_and_match_eq12():
    X1, X2, Y1, Y2 = well_conditioned(3, seed=3)
    alpha = 2.0
    w = theorem1.closed_form_weights(X1, X2, Y1, Y2, alpha)
    assert w.W1.dtype == np.complex128
    np.testing.assert_allclose(w.W1 @ (X1 - X2), np.log(alpha) * np.eye(3), atol=1e-12)
    # Z - ln(a) I is the principal log of Y1^-1 Y2 (a > 0 real shifts the log by ln a)
    Z0 = theorem1.logm(np.linalg.solve(Y1, Y2))
    np.testing.assert_allclose(w.Z - np.log(alpha) * np.eye(3), Z0, atol=1e-10)


def test_mpmath_reaches_high_precision():
    X1, X2, Y1, Y2 = well_conditioned(2, seed=11)
    row = theorem1.mp_theorem1_row(X1, X2, Y1, Y2, 2.0, dps=50)
    assert row["status"] == "ok"
    assert row["rel_residual_max"] < 1e-40
    assert row["log10_rel_residual_max"] < -40
    assert row["eq25_rel_err"] < 1e-45 and row["commutator_rel"] < 1e-40


def test_singular_difference_is_flagged_not_raised():
    X1, _, Y1, Y2 = well_conditioned(4, seed=5)
    row, times = theorem1.theorem1_row(X1, X1.copy(), Y1, Y2, 2.0)
    assert row["status"] == "flagged" and row["reason"] == "singular_x1_minus_x2"
    assert np.isnan(row["rel_residual_max"]) and np.isinf(row["cond_x1_minus_x2"])
    assert np.isnan(times["verify_s"])
    mp_row = theorem1.mp_theorem1_row(X1, X1.copy(), Y1, Y2, 2.0, dps=30)
    assert mp_row["status"] == "flagged" and mp_row["reason"] == "singular_x1_minus_x2"


def test_overflow_is_flagged_not_raised():
    X1, X2, Y1, Y2 = well_conditioned(4, seed=6)
    rng = np.random.default_rng(0)
    X1 = X2 + 1e-12 * rng.standard_normal((4, 4))  # ||W1 X|| ~ 1e12: exp overflows
    row, _ = theorem1.theorem1_row(X1, X2, Y1, Y2, 2.0)
    assert row["status"] == "flagged" and "overflow_in_expm" in row["reason"]
    assert np.isnan(row["rel_residual_max"])
    assert row["eq25_rel_err"] < 1e-2  # W1 itself was formed: the failure is located after eq. 25
    assert row["w1x_norm_max"] > 1e6


def test_singular_y1_is_flagged():
    X1, X2, _, Y2 = well_conditioned(3, seed=8)
    row, _ = theorem1.theorem1_row(X1, X2, np.zeros((3, 3)), Y2, 2.0)
    assert row["status"] == "flagged" and row["reason"] == "singular_y1"


def test_alpha_near_one_loses_accuracy_in_float64_only():
    """1/(1 - alpha): the identities still hold, the final cancellation is amplified."""
    X1, X2, Y1, Y2 = well_conditioned(4, seed=9)
    far, _ = theorem1.theorem1_row(X1, X2, Y1, Y2, 2.0)
    near, _ = theorem1.theorem1_row(X1, X2, Y1, Y2, 1.01)
    assert near["amplification"] > 1e3 * far["amplification"]
    assert near["eq25_rel_err"] < 1e-12 and near["commutator_rel"] < 1e-10


@pytest.mark.parametrize("alpha", [0.0, -1.0, 1.0, float("nan")])
def test_bad_alpha_raises(alpha):
    X1, X2, Y1, Y2 = well_conditioned(2, seed=1)
    with pytest.raises(ValueError):
        theorem1.theorem1_row(X1, X2, Y1, Y2, alpha)
    with pytest.raises(ValueError, match="alpha"):
        theorem1.Theorem1Settings(d=2, alphas=[2.0, alpha])
    with pytest.raises(ValueError, match="alpha"):
        theorem1.NearSingularSettings(d=2, alpha=alpha)
    with pytest.raises(ValueError, match="alpha"):
        theorem1.MpmathSettings(dps=30, trials=1, alphas=[alpha])


def test_tables_keep_every_row_and_contract_columns():
    rng = np.random.default_rng(1)
    trials, d = 3, 3
    problems = {k: rng.standard_normal((trials, d, d)) for k in ("X1", "X2", "Y1", "Y2")}
    problems["X1"][1] = problems["X2"][1]  # a singular trial must still give its rows
    problems["seed"] = np.arange(trials, dtype=np.int64)
    df, timing = theorem1.theorem1_table(problems, theorem1.Theorem1Settings(d=d, alphas=[0.5, 2]))
    assert len(df) == 6 and len(timing) == 6
    contract = ["d", "alpha", "trial", "seed", "status", "reason", "rel_residual_1", "rel_residual_2",
                "rel_residual_max", "eq25_rel_err", "expz_rel_err", "eq31_rel_err", "commutator_rel",
                "weight_norm_max", "cond_x1_minus_x2"]  # fmt: skip
    assert set(contract) <= set(df.columns)
    assert list(timing.columns) == ["d", "alpha", "trial", "solve_s", "verify_s"]
    assert (df[df["trial"] == 1]["status"] == "flagged").all()
    assert list(df["alpha"]) == [0.5] * 3 + [2.0] * 3 and df["alpha"].dtype == float
    summary = theorem1.theorem1_summary(df, 1e-8)
    assert list(summary["flagged"]) == [1, 1]
    assert (summary["fraction_below_rel_tol"] <= 2 / 3).all()


def test_check_problems_rejects_bad_shapes():
    problems = {k: np.zeros((2, 3, 3)) for k in ("X1", "X2", "Y1", "Y2")}
    problems["seed"] = np.arange(2)
    theorem1.check_problems(problems, 3)
    with pytest.raises(ValueError, match="shape"):
        theorem1.check_problems(problems, 4)
    with pytest.raises(ValueError, match="lacks"):
        theorem1.check_problems(problems, 3, extra_keys=("cond_target",))


def test_rows_are_deterministic():
    X1, X2, Y1, Y2 = well_conditioned(4, seed=12)
    a, _ = theorem1.theorem1_row(X1, X2, Y1, Y2, 2.0)
    b, _ = theorem1.theorem1_row(X1, X2, Y1, Y2, 2.0)
    pd.testing.assert_series_equal(pd.Series(a), pd.Series(b))


def test_logm_is_deterministic_whatever_the_global_rng_state():
    """scipy's logm uses a randomized norm estimator on numpy's global RNG; our wrapper pins it."""
    rng = np.random.default_rng(4)
    A = rng.standard_normal((12, 12)) + 6 * np.eye(12)
    outs = []
    for seed in (1, 2, 3):
        np.random.seed(seed)  # noqa: NPY002 - perturb the legacy global state on purpose
        outs.append(theorem1.logm(A))
        # the caller's global stream is left where it was
        assert np.random.randint(1 << 30) == np.random.RandomState(seed).randint(1 << 30)  # noqa: NPY002
    assert all(np.array_equal(outs[0], o) for o in outs[1:])


def test_near_singular_table_follows_the_family():
    problems = instances.make_near_singular(3, 4, [1.0, 1e6], 2)
    df = theorem1.near_singular_table(problems, theorem1.NearSingularSettings(d=4, alpha=2))
    assert list(df.columns[:8]) == [
        "d", "alpha", "trial", "seed", "cond_target", "cond_x1_minus_x2", "status", "reason"
    ]  # fmt: skip
    assert list(df["cond_target"]) == [1.0, 1.0, 1e6, 1e6] and list(df["trial"]) == [0, 1, 0, 1]
    np.testing.assert_allclose(df["cond_x1_minus_x2"], df["cond_target"], rtol=1e-6)
    for i in range(4):  # each row is theorem1_row of its problem (NaN where flagged)
        row, _ = theorem1.theorem1_row(*(problems[k][i] for k in ("X1", "X2", "Y1", "Y2")), 2.0)
        got = df.iloc[i][list(row)]
        pd.testing.assert_series_equal(got, pd.Series(row, dtype=object), check_names=False)


def test_mpmath_table_pairs_high_precision_with_float64():
    sets = [instances.make_problems(3, d, 2) for d in (3, 2)]
    settings = theorem1.MpmathSettings(dps=30, trials=1, alphas=[2])
    df = theorem1.mpmath_table(sets, settings)
    assert list(df["d"]) == [2, 3] and list(df["trial"]) == [0, 0] and list(df["dps"]) == [30, 30]
    assert df["alpha"].tolist() == [2.0, 2.0] and df["alpha"].dtype == float
    mats = [sets[1][k][0] for k in ("X1", "X2", "Y1", "Y2")]  # d = 2, trial 0
    assert df.iloc[0]["rel_residual_max"] == theorem1.mp_theorem1_row(*mats, 2.0, 30)["rel_residual_max"]
    f64, _ = theorem1.theorem1_row(*mats, 2.0)
    assert df.iloc[0]["float64_rel_residual_max"] == f64["rel_residual_max"]
    assert (df["status"] == "ok").all() and (df["rel_residual_max"] < 1e-20).all()
