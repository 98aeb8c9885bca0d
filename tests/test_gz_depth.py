"""The depth comparison of Gai & Zhang (Sec. 2, eqs. 7-10): one layer, two linear layers, exp network."""

from __future__ import annotations

import numpy as np
import pytest

from nnmat import seeding
from nnmat.gz import depth


def settings(d: int, seed: int = 0) -> depth.DepthSettings:
    return depth.DepthSettings(seed=seed, d=d, alpha=2.0, als_iters=20)


def test_depth_comparison():
    rng = np.random.default_rng(2)
    trials, d = 3, 5
    problems = {k: rng.standard_normal((trials, d, d)) for k in ("X1", "X2", "Y1", "Y2")}
    problems["seed"] = np.arange(trials, dtype=np.int64)
    df = depth.depth_table(problems, settings(d), init_seeds=[10, 11, 12])
    assert len(df) == trials * len(depth.DEPTH_MODELS) and set(df["model"]) == set(depth.DEPTH_MODELS)
    by = {m: g.reset_index(drop=True) for m, g in df.groupby("model")}
    # one W cannot fit both random equations: residual O(1)
    assert (by["one_layer_lstsq"]["rel_residual_max"] > 0.1).all()
    # W2 W1 spans the same function class: ALS reaches the lstsq residual (to 1e-10 relative)
    np.testing.assert_allclose(
        by["two_layer_linear_als"]["rel_residual_max"], by["one_layer_lstsq"]["rel_residual_max"], rtol=1e-10
    )
    assert list(by["two_layer_linear_als"]["init_seed"]) == [10, 11, 12]
    # W = Y1 X1^-1 solves equation 1 to rounding and not equation 2
    assert (by["one_layer_single_equation"]["rel_residual_1"] < 1e-10).all()
    assert (by["one_layer_single_equation"]["rel_residual_2"] > 0.1).all()
    assert (by["three_layer_exp"]["rel_residual_max"] < 1e-8).all()
    assert list(by["three_layer_exp"]["n_params"]) == [3 * d * d] * trials
    assert (by["three_layer_exp"]["alpha"] == 2.0).all()
    summary = depth.depth_summary(df)
    assert list(summary["model"].unique()) == list(depth.DEPTH_MODELS)
    assert (summary["n_equations"] == 2 * d * d).all()


def test_als_sweeps_are_capped_by_the_settings():
    rng = np.random.default_rng(3)
    X1, X2, Y1, Y2 = (rng.standard_normal((4, 4)) for _ in range(4))
    rows = depth.depth_rows(X1, X2, Y1, Y2, 7, depth.DepthSettings(seed=0, d=4, alpha=0.5, als_iters=1))
    als = next(r for r in rows if r["model"] == "two_layer_linear_als")
    assert als["iterations"] == 1 and als["init_seed"] == 7


def test_als_init_seeds_keep_their_derivation():
    s = settings(5, seed=11)
    assert depth.als_init_seeds(s, 3) == [seeding.derive_seed(11, "expnet_depth_als", 5, t) for t in range(3)]


@pytest.mark.parametrize("alpha", [0.0, 1.0, -2.0])
def test_bad_alpha_is_refused(alpha):
    with pytest.raises(ValueError, match="alpha"):
        depth.DepthSettings(seed=0, d=2, alpha=alpha, als_iters=20)
