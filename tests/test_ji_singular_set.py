"""Ji, Wu & Xi Sec. 3-4: distance to the singular set, the ball certificate, sampling, binning, growth fit,
and small end-to-end runs of the geometry (Figs. 1-2) and why-can't (Theorems 3.7-3.9) scripts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from e2e import load_script  # tests/ is on sys.path
from nnmat.ji import singular_set as ss


def geometry(**kw) -> str:
    """--settings of ji_singular_geometry.py."""
    return json.dumps({"eps": 0.1, "grid": 31, "mesh": 11, "ball_fraction": 0.8, **kw})


def whycant(**kw) -> str:
    """--settings of ji_whycant.py."""
    return json.dumps(
        {"seed": 7, "singular": [1, 0, 0, 0], "radii": [0.1, 0.01, 0.001], "per_radius": 40, **kw}
    )


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


# --- distance to the singular set ------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 5])
def test_sigma_min_is_distance_to_nearest_singular(rng, n):
    A = rng.standard_normal((50, n, n))
    s = ss.sigma_min(A)
    S = ss.nearest_singular(A)
    assert np.allclose(np.linalg.det(S), 0.0, atol=1e-10)
    assert np.allclose(ss.sigma_min(S), 0.0, atol=1e-12)
    assert np.allclose(np.linalg.norm(A - S, ord="fro", axis=(-2, -1)), s, rtol=1e-10)
    assert np.allclose(np.linalg.norm(A - S, ord=2, axis=(-2, -1)), s, rtol=1e-10)
    assert np.array_equal(ss.distance_to_singular(A), s)


def test_no_singular_matrix_is_closer_than_sigma_min(rng):
    A = rng.standard_normal((2, 2))
    s = float(ss.sigma_min(A))
    # random rank-1 matrices (singular) are never closer than sigma_min, in either norm
    u, v = rng.standard_normal((2000, 2, 1)), rng.standard_normal((2000, 1, 2))
    B = u @ v
    assert np.abs(np.linalg.det(B)).max() < 1e-12
    assert np.linalg.norm(A - B, ord=2, axis=(-2, -1)).min() >= s - 1e-12
    assert np.linalg.norm(A - B, ord="fro", axis=(-2, -1)).min() >= s - 1e-12


def test_sigma_min_rejects_non_square():
    with pytest.raises(ValueError):
        ss.sigma_min(np.zeros((3, 2)))


# --- ball certificate and the geometry tables ------------------------------------------------------


def test_ball_certificate_pass_and_fail():
    A0 = np.diag([2.0, 1.0])  # sigma_min = 1
    ok = ss.ball_certificate(A0, radius=0.5, eps=0.1)
    assert ok.avoids_singular and ok.avoids_band and ok.certified_distance == pytest.approx(0.5)
    near = ss.ball_certificate(A0, radius=0.95, eps=0.1)  # clear of the singular set, not of D_eps
    assert near.avoids_singular and not near.avoids_band
    bad = ss.ball_certificate(A0, radius=1.2, eps=0.1)
    assert not bad.avoids_singular and not bad.avoids_band
    # the certificate is exact: the boundary point A0 - r u v^T has sigma_min(A0) - r
    U, s, Vt = np.linalg.svd(A0)
    for r in (0.5, 0.95):
        edge = A0 - r * np.outer(U[:, -1], Vt[-1])
        assert np.linalg.norm(edge - A0) == pytest.approx(r)
        assert float(ss.sigma_min(edge)) == pytest.approx(s[-1] - r)
    with pytest.raises(ValueError):
        ss.ball_certificate(A0, radius=-1.0, eps=0.1)


@pytest.mark.parametrize("spec", ss.FIG1_SLICES, ids=lambda s: s.slice_id)
def test_slice_table(spec):
    eps = 0.1
    df = ss.slice_table(spec, eps, grid=61, ball_fraction=0.8)
    grid = df[df["kind"] == "grid"]
    assert len(grid) == 61 * 61
    A = spec.matrices(grid["x"].to_numpy(), grid["y"].to_numpy())
    assert np.allclose(np.linalg.det(A), grid["det"])
    # the in-slice distance to the curve bounds the matrix-space distance sigma_min from above
    assert (grid["sigma_min"] <= grid["dist_in_slice"] + 1e-3).all()
    assert (grid["in_band"].astype(bool) == (grid["sigma_min"] < eps)).all()
    curve = df[df["kind"] == "singular_curve"]
    assert len(curve) > 0
    assert np.allclose(
        np.linalg.det(spec.matrices(curve["x"].to_numpy(), curve["y"].to_numpy())), 0, atol=1e-9
    )
    ball = df[df["kind"] == "ball"].iloc[0]
    assert ball["status"] == "ok" and bool(ball["avoids_band"]) and bool(ball["avoids_singular"])
    assert ball["grid_min_sigma_in_ball"] >= ball["certified_distance"] - 1e-12
    assert ball["certified_distance"] >= eps


def test_slice_table_failing_ball_is_flagged_by_the_certificate():
    spec = ss.FIG1_SLICES[1]
    too_big = ss.slice_table(spec, 0.1, grid=41, ball_fraction=1.5).query("kind == 'ball'").iloc[0]
    assert too_big["status"] == "ok" and not bool(too_big["avoids_band"])
    # the centre's own sigma_min is below eps: no ball, a flagged row
    none = ss.slice_table(spec, 5.0, grid=11, ball_fraction=0.8).query("kind == 'ball'").iloc[0]
    assert none["status"] == "flagged" and not bool(none["avoids_band"])


def test_curve_of_a_degenerate_slice_has_both_lines():
    # b = c = 0 fixed: det = a d, the union of the lines a = 0 and d = 0
    spec = ss.SliceSpec("cross", {"b": 0.0, "c": 0.0}, ("a", "d"), (-1.0, 1.0), (0.5, 0.5))
    curve = ss.singular_curve(spec, n=201)
    assert (np.abs(curve["x"]) < 1e-12).any() and (np.abs(curve["y"]) < 1e-12).any()
    assert np.allclose(curve["x"] * curve["y"], 0.0)


def test_surface_table():
    df = ss.surface_table(eps=0.1, grid=21, ball_fraction=0.8)
    surf = df[df["kind"] == "surface"]
    assert len(surf) == 21 * 21
    assert np.allclose(surf["a"] * surf["d"] - surf["b"] * surf["c"], 0.0)
    assert surf["sigma_min"].max() < 1e-12
    ball = df[df["kind"] == "ball"].iloc[0]
    assert bool(ball["avoids_band"]) and ball["sphere_min_sigma"] >= ball["certified_distance"] - 1e-12


def test_geometry_script_writes_certified_csvs(tmp_path):
    geo = load_script("ji_singular_geometry")
    out_s, out_m = tmp_path / "slices.csv", tmp_path / "surface.csv"
    argv = ["--out-slices", str(out_s), "--out-surface", str(out_m)]
    geo.main(["--settings", geometry(), *argv, "--provenance", str(tmp_path / "prov.json")])
    slices = pd.read_csv(out_s, low_memory=False)
    balls = slices[slices["kind"] == "ball"]
    assert set(balls["slice_id"]) == {s.slice_id for s in ss.FIG1_SLICES}
    assert (balls["avoids_band"].astype(str) == "True").all()
    assert ((balls["sigma_min"] - balls["radius"]) == balls["certified_distance"]).all()
    surface = pd.read_csv(out_m, low_memory=False)
    assert (surface["kind"] == "surface").sum() == 11 * 11
    first = out_s.read_bytes()
    geo.main(["--settings", geometry(), *argv])
    assert out_s.read_bytes() == first  # same parameters, same bytes
    # too large a ball: the certificate in the CSV says so
    geo.main(["--settings", geometry(ball_fraction=2.0), *argv])
    balls = pd.read_csv(out_s, low_memory=False).query("kind == 'ball'")
    assert (balls["avoids_band"].astype(str) == "False").all()


# --- why-can't: sampling, binning, fitting ---------------------------------------------------------


def test_sample_near_respects_radii(rng):
    S = np.array([[1.0, 0.0], [0.0, 0.0]])
    radii = [0.3, 0.01, 0.001]
    A, r = ss.sample_near(S, radii, 4000, rng)
    assert A.shape == (12000, 2, 2) and r.shape == (12000,)
    assert np.array_equal(r, np.repeat(radii, 4000))
    dist = np.linalg.norm(A - S, axis=(-2, -1))
    assert (dist <= r * (1 + 1e-12)).all()
    assert (dist >= 0.9 * r).any()
    # uniform in volume of a 4-ball: P(|E| < r/2) = 2^-4
    frac = np.mean(dist[r == 0.3] < 0.15)
    assert abs(frac - 1 / 16) < 0.02
    # Weyl: sigma_min(S + E) <= ||E||_2 <= ||E||_F since S is singular
    assert (ss.sigma_min(A) <= dist + 1e-15).all()
    with pytest.raises(ValueError):
        ss.sample_near(S, [0.1, -1.0], 10, rng)


def test_fit_growth_recovers_slope(rng):
    sigma = 10 ** rng.uniform(-6, 0, 500)
    exact = ss.fit_growth(sigma, 3.0 / sigma)
    assert exact["status"] == "ok" and exact["n"] == 500
    assert exact["slope"] == pytest.approx(-1.0, abs=1e-12)
    assert exact["intercept_log10"] == pytest.approx(np.log10(3.0), abs=1e-12)
    noisy = ss.fit_growth(sigma, 3.0 / sigma * np.exp(0.3 * rng.standard_normal(500)))
    assert abs(noisy["slope"] + 1.0) < 4 * noisy["slope_stderr"] + 1e-3
    # invalid pairs are excluded and counted
    err = 3.0 / sigma
    err[:7] = np.nan
    bad = ss.fit_growth(sigma, err)
    assert bad["n"] == 493 and bad["n_excluded"] == 7
    assert ss.fit_growth([1.0, 2.0], [1.0, 2.0])["status"] == "flagged"
    assert ss.fit_growth(np.ones(5), np.arange(1.0, 6.0))["status"] == "flagged"


def test_binned_error_counts_sum_to_n(rng):
    sigma = 10 ** rng.uniform(-5, 0, 1000)
    err = 1.0 / sigma
    b = ss.binned_error(sigma, err, 12)
    assert b["count"].sum() == 1000 and len(b) == 13
    assert b.loc[b["status"] == "excluded", "count"].item() == 0
    ok = b[b["count"] > 0]
    assert ((ok["err_median"] <= ok["err_q90"]) & (ok["sigma_lo"] < ok["sigma_hi"])).all()
    sigma[:5] = 0.0
    err[5:8] = np.inf
    b = ss.binned_error(sigma, err, np.logspace(-3, 0, 7))  # given edges: points below 1e-3 are excluded
    assert b["count"].sum() == 1000
    assert b.loc[b["status"] == "excluded", "count"].item() == 8 + int(np.sum(sigma[8:] < 1e-3))


def test_error_table_and_lower_bound(rng):
    A = np.eye(2) + 0.3 * rng.standard_normal((100, 2, 2))
    A[0] = [[1.0, 2.0], [2.0, 4.0]]  # exactly singular: flagged, not dropped
    pred = np.zeros_like(A)
    df = ss.error_table(A, pred)
    assert len(df) == 100 and df.loc[0, "status"] == "flagged"
    good = df.iloc[1:]
    # f = 0: the error is the inverse itself, and the bound 1/sigma_min - 0 is attained in the 2-norm
    assert np.allclose(good["err_norm2"], good["inv_norm2"])
    assert np.allclose(good["lower_bound_norm2"], good["inv_norm2"])
    assert (good["err_norm2"] >= good["lower_bound_norm2"] - 1e-9).all()


# --- end to end: ji_whycant on a tiny 4-8-4 network ------------------------------------------------


def _tiny_model(path, seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    torch.save(net.state_dict(), path)


def test_ji_whycant_end_to_end(tmp_path, rng):
    why = load_script("ji_whycant")
    models = [tmp_path / "small_seed0.pt", tmp_path / "small_seed1.pt"]
    for i, m in enumerate(models):
        _tiny_model(m, i)
    X = np.eye(2) + rng.uniform(-0.5, 0.5, (50, 2, 2))
    np.savez(tmp_path / "general.npz", X_test=X, Y_test=np.linalg.inv(X))
    out = {k: tmp_path / f"{k}.csv" for k in ("points", "neighbourhood", "fit")}
    argv = ["--models", *map(str, models), "--data", str(tmp_path / "general.npz"), "--settings", whycant()]
    argv += ["--out-points", str(out["points"]), "--out-neighbourhood", str(out["neighbourhood"])]
    argv += ["--out-fit", str(out["fit"])]
    why.main([*argv, "--provenance", str(tmp_path / "prov.json")])
    points = pd.read_csv(out["points"])
    assert len(points) == 2 * (50 + 3 * 40)
    assert set(points["model"]) == {"small_seed0", "small_seed1"}
    assert (points["status"] == "ok").all()
    near = points[points["source"] == "near_singular"]
    assert np.allclose(near["inv_norm2"], 1.0 / near["sigma_min"])
    assert (near["err_norm2"] >= near["lower_bound_norm2"] - 1e-9).all()
    # the same samples for every model (paired)
    s0, s1 = (near[near["model"] == m]["sigma_min"].to_numpy() for m in ("small_seed0", "small_seed1"))
    assert np.array_equal(s0, s1)
    nb = pd.read_csv(out["neighbourhood"])
    assert len(nb) == 2 * 4 and set(nb["source"]) == {"test", "near_singular"}
    assert nb.loc[nb["source"] == "near_singular", "count"].eq(40).all()
    fit = pd.read_csv(out["fit"])
    assert len(fit) == 2 * 3
    near_fit = fit[fit["subset"] == "near_singular"]
    assert (near_fit["status"] == "ok").all() and (near_fit["n"] == 120).all()
    assert (near_fit["slope"] < -0.5).all()  # a bounded network: error grows like 1/sigma_min
    first = {k: p.read_bytes() for k, p in out.items()}
    why.main(argv)
    assert {k: p.read_bytes() for k, p in out.items()} == first  # same seed, same bytes

    plot = load_script("plot_ji_whycant")
    figs = [tmp_path / "w.png", tmp_path / "w.pdf"]
    plot.main([str(out["points"]), str(out["neighbourhood"]), str(out["fit"]), "--out", *map(str, figs)])
    assert all(f.stat().st_size > 0 for f in figs)


def test_ji_whycant_rejects_a_nonsingular_centre(tmp_path, rng, capsys):
    why = load_script("ji_whycant")
    _tiny_model(tmp_path / "m.pt", 0)
    X = np.eye(2) + rng.uniform(-0.5, 0.5, (5, 2, 2))
    np.savez(tmp_path / "d.npz", X_test=X, Y_test=np.linalg.inv(X))
    argv = ["--models", str(tmp_path / "m.pt"), "--data", str(tmp_path / "d.npz")]
    argv += ["--settings", whycant(seed=1, radii=[0.1], per_radius=3, singular=[1, 0, 0, 1])]
    argv += ["--out-points", str(tmp_path / "p.csv"), "--out-neighbourhood", str(tmp_path / "n.csv")]
    with pytest.raises(SystemExit):
        why.main([*argv, "--out-fit", str(tmp_path / "f.csv")])
    assert "singular is not singular" in capsys.readouterr().err


def test_plot_ji_fig12_smoke(tmp_path):
    geo = load_script("ji_singular_geometry")
    plot = load_script("plot_ji_fig12")
    s, m = tmp_path / "s.csv", tmp_path / "m.csv"
    geo.main(["--settings", geometry(grid=41), "--out-slices", str(s), "--out-surface", str(m)])
    figs = [
        tmp_path / "ji_fig1.png",
        tmp_path / "ji_fig1.pdf",
        tmp_path / "ji_fig2.png",
        tmp_path / "ji_fig2.pdf",
    ]
    plot.main([str(s), str(m), "--out", *map(str, figs)])
    assert all(f.stat().st_size > 0 for f in figs)
