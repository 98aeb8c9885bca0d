"""Ji, Wu & Xi, Sec. 4/5.3 and Appendix E: linear approximation, activation regions, linear programs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from e2e import load_script  # tests/ is on sys.path
from nnmat import io
from nnmat.ji import boxes, names
from nnmat.ji import linapprox as la

A0 = np.array([[2.0, 1.0], [1.0, 2.0]])
R = 0.25  # the box half-width of the default "first" dataset (radius_fraction 0.5, sigma_min 1, n 2)


def random_net(seed: int = 0, hidden: int = 8) -> tuple[np.ndarray, ...]:
    """A random 4-8-4 net whose hidden hyperplanes cut the box around vec(A0) (so regions are mixed)."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(hidden, 4))
    b1 = -W1 @ A0.ravel() + rng.normal(scale=0.3, size=hidden)
    W2 = rng.normal(size=(4, hidden))
    b2 = rng.normal(size=4)
    return W1, b1, W2, b2


def box_samples(count: int, seed: int = 1) -> np.ndarray:
    return A0.ravel() + np.random.default_rng(seed).uniform(-R, R, size=(count, 4))


def test_linear_affine_matches_the_matrix_formula():
    rng = np.random.default_rng(3)
    A0r = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    A = A0r + rng.uniform(-0.1, 0.1, size=(50, 3, 3))
    M, c = la.linear_affine(A0r)
    via_affine = (A.reshape(50, 9) @ M.T + c).reshape(50, 3, 3)
    np.testing.assert_allclose(via_affine, la.first_order(A0r, A), atol=1e-12)
    B = np.linalg.inv(A0r)
    np.testing.assert_allclose(la.first_order(A0r, A)[7], B - B @ (A[7] - A0r) @ B, atol=1e-12)
    # at the centre both approximations are exact
    np.testing.assert_allclose(la.second_order(A0r, A0r[None])[0], B, atol=1e-12)


def test_approximation_errors_scale_like_c2_and_c3():
    radii = np.geomspace(1e-3, 1e-1, 7)
    sweep = la.radius_sweep(A0, radii, 2000, np.random.default_rng(5))
    first = la.scaling_exponent(*sweep[sweep["method"] == "linear_1st"][["radius", "test_mae"]].T.values)
    second = la.scaling_exponent(*sweep[sweep["method"] == "linear_2nd"][["radius", "test_mae"]].T.values)
    assert first["slope"] == pytest.approx(2.0, abs=0.1), first
    assert second["slope"] == pytest.approx(3.0, abs=0.1), second
    assert first["n"] == 7 and first["slope_stderr"] < 0.05


def test_average_abs_error_is_the_mean_over_matrices_and_entries():
    pred = np.zeros((2, 2, 2))
    Y = np.stack([np.ones((2, 2)), 3 * np.ones((2, 2))])
    assert la.average_abs_error(pred, Y) == pytest.approx(2.0)
    assert la.max_abs_error(pred, Y) == pytest.approx(3.0)


def test_region_fractions_sum_to_one_and_ids_follow_unit_order():
    W1, b1, _, _ = random_net()
    P = la.activation_patterns(W1, b1, box_samples(5000))
    table = la.region_table(P)
    assert table["fraction"].sum() == pytest.approx(1.0)
    assert table["count"].sum() == 5000 and table["count"].is_monotonic_decreasing
    assert len(table) > 2  # the random net does cut the box into several regions
    top = la.pattern_from_id(table["pattern"].iloc[0])
    assert (P == top).all(axis=1).sum() == table["count"].iloc[0]
    assert la.pattern_id([True, False, False, True]) == "1001"
    assert table["active_units"].iloc[0] == " ".join(str(j) for j in np.flatnonzero(top))


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_affine_map_reproduces_the_network_on_its_region(dtype, tol):
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4)).to(dtype)
    W1, b1, W2, b2 = random_net(seed=2)
    with torch.no_grad():
        for layer, W, b in ((model[0], W1, b1), (model[2], W2, b2)):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b))
    # the analysis path: the saved state dict's weights, cast to float64
    W1, b1, W2, b2 = la.two_layer_weights(model.state_dict())
    X = box_samples(4000)
    P = la.activation_patterns(W1, b1, X)
    with torch.no_grad():
        out = model(torch.from_numpy(X).to(dtype)).double().numpy()
    np.testing.assert_allclose(la.forward(W1, b1, W2, b2, X), out, atol=tol * np.abs(out).max(), rtol=0)
    regions = la.region_table(P)
    assert len(regions) > 2
    for pid in regions["pattern"]:
        p = la.pattern_from_id(pid)
        on = (P == p).all(axis=1)
        C, c = la.affine_map(W1, b1, W2, b2, p)
        np.testing.assert_allclose(X[on] @ C.T + c, out[on], atol=tol * max(1.0, np.abs(out).max()), rtol=0)


def test_lp_bound_is_attained_at_its_maximiser_and_not_exceeded_by_samples():
    W1, b1, W2, b2 = random_net(seed=4)
    M, c = la.linear_affine(A0)
    X = box_samples(20000)
    P = la.activation_patterns(W1, b1, X)
    codes = la.pattern_codes(P)
    sampled = la.sampled_gap_max(W1, b1, W2, b2, X, M, c, codes)
    table = la.region_table(P)
    lo, hi = A0.ravel() - R, A0.ravel() + R
    for pid in table["pattern"]:
        p = la.pattern_from_id(pid)
        code = int(la.pattern_codes(p[None])[0])
        for row in la.gap_lp(W1, b1, W2, b2, p, lo, hi, M, c):
            assert row["status"] == "optimal", row
            assert row["check_eval_diff"] <= la.EVAL_TOL
            assert sampled.loc[code, row["output_entry"]] <= row["lp_max_abs"] + la.BOUND_TOL
            x = row["x_star"]
            assert np.all(x >= lo - 1e-9) and np.all(x <= hi + 1e-9)
            # the maximiser lies in the closed region of the pattern
            A_ub, b_ub = la.region_constraints(W1, b1, p)
            assert np.all(A_ub @ x <= b_ub + 1e-8)


def test_empty_region_gives_a_flagged_row_not_an_exception():
    W1, b1, W2, b2 = random_net(seed=6)
    b1 = b1.copy()
    W1[0] = 0.0
    b1[0] = 1.0  # unit 0 is always active: the pattern with unit 0 off is empty
    M, c = la.linear_affine(A0)
    rows = la.gap_lp(W1, b1, W2, b2, np.zeros(8, bool), A0.ravel() - R, A0.ravel() + R, M, c)
    assert [r["status"] for r in rows] == ["infeasible"] * 4
    assert all(np.isnan(r["lp_max_abs"]) and r["reason"] for r in rows)


def test_coefficient_table_and_diffs():
    W1, b1, W2, b2 = random_net()
    M, c = la.linear_affine(A0)
    C, cc = la.affine_map(W1, b1, W2, b2, np.ones(8, bool))
    df = la.coefficient_table(C, cc, M, c)
    assert len(df) == 4 * 5 and set(df["term"]) == {"weight", "bias"}
    d = la.coefficient_diffs(C, cc, M, c)
    assert d["max_abs_diff_weight"] == pytest.approx(df[df["term"] == "weight"]["diff"].abs().max())
    assert d["max_abs_diff_bias"] == pytest.approx(df[df["term"] == "bias"]["diff"].abs().max())
    assert names.parse_model_stem("small_seed12") == ("small", 12) and names.parse_model_stem("small") is None
    assert names.parse_model_stem(names.model_stem("fc3", 7)) == ("fc3", 7)
    # centred bias: the linear approximation at the centre is A0^-1; the gap there is what the data sees
    centred = la.coefficient_table(C, cc, M, c, A0.ravel())
    at_centre = centred[centred["term"] == "value_at_centre"]
    np.testing.assert_allclose(at_centre["coef_linear"], np.linalg.inv(A0).ravel(), atol=1e-12)
    gap = la.coefficient_diffs(C, cc, M, c, A0.ravel())["max_abs_diff_bias_centred"]
    assert gap == pytest.approx(at_centre["diff"].abs().max())


@pytest.fixture()
def tiny_inputs(tmp_path):
    spec = {"n": 2, "centre": A0.tolist(), "radius_fraction": 0.5, "train": 0, "test": 300}
    arrays, _ = boxes.build(boxes.DatasetSettings(dataset="first", seed=1, includes_singular=False, **spec))
    io.write_npz(tmp_path / "first.npz", **arrays)
    W1, b1, W2, b2 = random_net(seed=8)
    sd = {
        "0.weight": torch.tensor(W1, dtype=torch.float32),
        "0.bias": torch.tensor(b1, dtype=torch.float32),
        "2.weight": torch.tensor(W2, dtype=torch.float32),
        "2.bias": torch.tensor(b2, dtype=torch.float32),
    }
    torch.save(sd, tmp_path / "small_seed0.pt")
    return tmp_path


def test_cli_smoke(tiny_inputs):
    linapprox_regions = load_script("ji_linapprox_regions")
    linapprox_table2 = load_script("ji_linapprox_table2")
    plot_ji_linapprox = load_script("plot_ji_linapprox")

    t = tiny_inputs
    data, model = str(t / "first.npz"), str(t / "small_seed0.pt")
    table2 = ["--data", data, "--settings", '{"dataset": "first"}', "--models", model]
    linapprox_table2.main([*table2, "--out", str(t / "t2.csv")])
    t2 = pd.read_csv(t / "t2.csv")
    assert list(t2["method"]) == ["linear_1st", "linear_2nd", "constant", "eq11_relu", "small"]
    assert t2["test_mae"].iloc[1] < t2["test_mae"].iloc[0] < t2["test_mae"].iloc[2]
    # eq. (11): the explicit 2-layer ReLU network equals the linear approximation to rounding
    eq11 = t2.set_index("method").loc["eq11_relu"]
    assert eq11["max_abs_diff_to_linear_1st"] < 1e-12
    assert eq11["test_mae"] == pytest.approx(t2["test_mae"].iloc[0], rel=1e-12)
    out = [str(t / f) for f in ("regions.csv", "coef.csv", "lp.csv")]
    regions_settings = {"dataset": "first", "seed": 7, "samples": 5000, "coef_min_fraction": 0.01}
    args = ["--data", data, "--models", model, "--settings", json.dumps(regions_settings)]
    args += ["--out-regions", out[0], "--out-coefficients", out[1], "--out-lp", out[2]]
    linapprox_regions.main([*args, "--provenance", str(t / "prov.json")])
    regions, lp = pd.read_csv(out[0]), pd.read_csv(out[2])
    assert (lp["status"] == "optimal").all() and lp["sampled_within_bound"].all()
    assert (lp["check_eval_diff"] <= la.EVAL_TOL).all()
    trained = regions[regions["weights"] == "trained"]
    assert set(regions["weights"]) == {"trained", "untrained"}  # the random network of the same shape
    assert regions.groupby("model")["fraction"].sum().tolist() == pytest.approx([1.0, 1.0])
    assert len(lp) == 4 * len(trained)  # LPs for the trained model only
    assert regions["learned"].isin([True, False]).all() and (regions["constant_mae"] > 0).all()
    plot_ji_linapprox.main(["regions", out[0], "--out", str(t / "r.png")])
    plot_ji_linapprox.main(["coefficients", out[1], "--out", str(t / "c.png")])
    sweep = la.radius_sweep(A0, [0.01, 0.03, 0.1], 200, np.random.default_rng(0))
    sweep = pd.concat(
        [sweep, sweep.assign(method="small", test_mae=sweep["test_mae"] / 3)], ignore_index=True
    )
    sweep = sweep.assign(dataset="first", seed_index=np.where(sweep["method"] == "small", 0, -1))
    sweep.to_csv(t / "sweep.csv", index=False)
    plot_ji_linapprox.main(["radius", str(t / "sweep.csv"), "--out", str(t / "s.png")])
    assert all((t / f).stat().st_size > 1000 for f in ("r.png", "c.png", "s.png"))
