"""Shyh-Chang, Luo & Qiu (LMD): layer SVD, Eckart-Young, truncations, Laplacians, eigenmaps, metric maps."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
import yaml

import lmd_analyse
import plot_lmd
import table_lmd
from nnmat import cli, io
from nnmat.ji.mlp import mlp
from nnmat.lmd import analysis, graphs
from nnmat.lmd import decomposition as dec
from nnmat.lmd import metric_maps as metric
from nnmat.lmd import truncation as trunc
from nnmat.lmd.settings import Settings

REPO = Path(__file__).resolve().parents[1]
# The library's settings in the tests: the schema defaults, except where a test says otherwise.
SCHEMA_LMD = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())["properties"]["lmd"]["properties"]
BASE = {
    **{f.name: SCHEMA_LMD[f.name]["default"] for f in dataclasses.fields(Settings) if f.name in SCHEMA_LMD},
    "seed": 1,
    "dataset": "tiny",
    "learned_exempt": False,
}


def make_settings(**overrides) -> Settings:
    return Settings(**{**BASE, **overrides})


def random_mlp(widths=(4, 12, 9, 4), seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return mlp(list(widths)).eval()


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def nearly_fitted_targets(model: torch.nn.Module, X: np.ndarray, noise: float, seed: int) -> np.ndarray:
    """The network's own outputs plus a little noise: the full error is small, so truncation ratios mean
    something (with random targets a truncated network can be as good as the full one)."""
    with torch.no_grad():
        f = model(torch.from_numpy(X.reshape(len(X), -1).astype(np.float32))).double().numpy()
    return (f + noise * rng(seed).normal(size=f.shape)).reshape(X.shape[0], -1)


# --------------------------------------------------------------------------------------------- SVD


def test_bias_absorption_acts_as_the_affine_layer():
    model = random_mlp()
    mats = dec.affine_matrices(model)
    assert [M.shape for M in mats] == [(12, 5), (9, 13), (4, 10)]
    x = rng().normal(size=(7, 4))
    W, b = model[0].weight.detach().double().numpy(), model[0].bias.detach().double().numpy()
    np.testing.assert_allclose(dec.augment(x) @ mats[0].T, x @ W.T + b, atol=1e-12)
    W2, b2 = dec.split_affine(mats[0])
    np.testing.assert_array_equal(W2, W)
    np.testing.assert_array_equal(b2, b)


def test_effective_and_stable_rank_of_a_diagonal_matrix():
    s = np.array([3.0, 2.0, 1.0, 0.5, 0.0])
    D = np.diag(s)
    sigma = dec.layer_svd(D).sigma
    np.testing.assert_allclose(sigma, s, atol=1e-15)
    energy = np.cumsum(s**2) / np.sum(s**2)  # 9/14.25 = 0.632, 13/14.25 = 0.912, 14/14.25 = 0.982, 1
    assert dec.effective_rank(sigma, 0.5) == 1
    assert dec.effective_rank(sigma, 0.9) == 2 and energy[1] >= 0.9 > energy[0]
    assert dec.effective_rank(sigma, 0.99) == 4 and energy[2] < 0.99
    assert dec.effective_rank(sigma, 1.0) == 4  # the zero singular value adds no energy
    assert dec.stable_rank(sigma) == pytest.approx(14.25 / 9.0, rel=1e-14)
    assert dec.numerical_rank(sigma, D.shape) == 4
    with pytest.raises(ValueError):
        dec.effective_rank(sigma, 0.0)
    table = dec.svd_table(sigma, D.shape, dec.ENERGY_THRESHOLDS)
    assert list(table["i"]) == [1, 2, 3, 4, 5]
    assert (table["eff_rank_p90"] == 2).all() and (table["eff_rank_p99_9"] == 4).all()
    assert table["energy_cum"].iloc[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(30, 31), (60, 9), (7, 50)])
def test_eckart_young_on_random_matrices(shape):
    M = rng(1).normal(size=shape) * np.logspace(0, -3, shape[1])  # graded columns: a decaying spectrum
    svd = dec.layer_svd(M)
    table = dec.eckart_young_table(svd, range(svd.rank + 1))
    s = svd.sigma
    np.testing.assert_allclose(table["pred2"].to_numpy()[:-1], s, rtol=0, atol=0)
    assert table["pred2"].iloc[-1] == 0.0 and table["predF"].iloc[-1] == 0.0
    np.testing.assert_allclose(table["err2"], table["pred2"], rtol=0, atol=1e-12 * s[0])
    np.testing.assert_allclose(table["errF"], table["predF"], rtol=0, atol=1e-12 * s[0])
    assert table["ok"].all() and table["rel_discrepancy"].max() < 1e-12
    # optimality: a rank-k projection onto random directions never beats the truncation
    for k in (1, svd.rank // 2):
        Q, _ = np.linalg.qr(rng(k).normal(size=(shape[0], k)))
        assert np.linalg.norm(M - Q @ (Q.T @ M), 2) >= s[k] * (1 - 1e-12)


def test_eckart_young_uses_arpack_for_large_matrices_and_agrees():
    M = rng(2).normal(size=(dec.DENSE_NORM_MAX + 20, dec.DENSE_NORM_MAX + 21))
    svd = dec.layer_svd(M)
    table = dec.eckart_young_table(svd, [0, 5, svd.rank - 1])
    assert set(table["norm2_method"]) == {"arpack"}
    assert table["rel_discrepancy"].max() < 1e-12


def test_truncate_is_exact_at_full_rank_and_has_rank_k():
    M = rng(3).normal(size=(9, 13))
    svd = dec.layer_svd(M)
    np.testing.assert_array_equal(dec.truncate(svd, svd.rank), M)
    for k in (0, 2, 6, 8):
        Mk = dec.truncate(svd, k)
        assert np.linalg.matrix_rank(Mk) == k
        np.testing.assert_allclose(np.linalg.svd(Mk, compute_uv=False)[:k], svd.S[:k], rtol=1e-12)


def test_k_grid_covers_ends_and_respects_budget():
    assert dec.k_grid(5, 40) == [0, 1, 2, 3, 4, 5]
    g = dec.k_grid(2048, 40)
    assert g[0] == 0 and g[-2:] == [2047, 2048] and len(g) <= 40
    assert g == sorted(set(g))


# ---------------------------------------------------------------------------------------- truncation


def test_full_rank_truncation_reproduces_the_model():
    model = random_mlp()
    X = rng(4).normal(size=(50, 2, 2))
    Y = rng(5).normal(size=(50, 2, 2))
    svds = [dec.layer_svd(M) for M in dec.affine_matrices(model)]
    ev = trunc.TruncationEvaluator(svds, X, Y)
    with torch.no_grad():
        direct = model(torch.from_numpy(X.reshape(50, 4).astype(np.float32))).double().numpy()
    assert ev.full_mae == pytest.approx(np.mean(np.abs(direct - Y.reshape(50, 4))), rel=1e-6)
    for layer, s in enumerate(svds):
        assert abs(ev.one_layer(layer, s.rank) - ev.full_mae) <= 1e-6 * ev.full_mae
    assert abs(ev.all_layers(max(s.rank for s in svds)) - ev.full_mae) <= 1e-6 * ev.full_mae
    # a truncated layer changes the function (the check above could otherwise pass vacuously)
    assert ev.one_layer(0, 1) != pytest.approx(ev.full_mae, rel=1e-3)


def test_latent_dimension_finds_the_first_crossing_by_bisection():
    errors = {k: 10.0 / (k + 1) for k in range(101)}  # monotone; <= 1.0 first at k = 9
    calls: list[int] = []

    def err(k: int) -> float:
        calls.append(k)
        return errors[k]

    assert trunc.latent_dimension(err, [0, 5, 20, 100], 1.0) == 9
    assert len(calls) < 15  # bisection, not a scan
    assert trunc.latent_dimension(lambda k: 5.0, [0, 1, 2], 1.0) is None
    assert trunc.latent_dimension(lambda k: 0.5, [0, 1, 2], 1.0) == 0


def test_truncation_table_of_a_low_rank_network():
    # a first layer [W | 0] of rank 2: its rank-2 truncation loses nothing, rank 1 does
    model = random_mlp((3, 8, 3), seed=6)
    torch.manual_seed(6)
    with torch.no_grad():
        model[0].weight.copy_(torch.randn(8, 2) @ torch.randn(2, 3))
        model[0].bias.zero_()
    X = rng(7).normal(size=(200, 3, 1))
    Y = nearly_fitted_targets(model, X, 1e-3, seed=8)
    svds = [dec.layer_svd(M) for M in dec.affine_matrices(model)]
    ev = trunc.TruncationEvaluator(svds, X, Y)
    table, latent = trunc.truncation_table(ev, make_settings(tolerance=1.01))
    assert latent[0] == 2
    assert set(table["mode"]) == {"one_layer", "all_layers"}
    assert table.loc[table["is_latent_dim"], "within_tolerance"].all()
    row = table[(table["layer"] == 0) & (table["k"] == 1)]
    assert not row["within_tolerance"].iloc[0]


# ---------------------------------------------------------------------------------------- Laplacians


def path_adjacency(p: int) -> np.ndarray:
    A = np.zeros((p, p))
    idx = np.arange(p - 1)
    A[idx, idx + 1] = A[idx + 1, idx] = 1.0
    return A


def test_laplacian_of_a_path_graph():
    p = 12
    w = np.linalg.eigvalsh(graphs.laplacian(path_adjacency(p)))
    expected = 2.0 - 2.0 * np.cos(np.pi * np.arange(p) / p)
    np.testing.assert_allclose(w, np.sort(expected), atol=1e-12)


def test_laplacian_of_a_complete_graph_ignores_self_loops():
    p = 9
    A = np.ones((p, p))  # self-loops on the diagonal, as in the Gaussian kernel matrix
    w = np.linalg.eigvalsh(graphs.laplacian(A))
    np.testing.assert_allclose(w, [0.0] + [p] * (p - 1), atol=1e-12)
    np.testing.assert_allclose(graphs.degrees(A, True), p)
    np.testing.assert_allclose(graphs.degrees(A, False), p - 1)


def test_two_components_give_two_zero_eigenvalues():
    A = np.zeros((10, 10))
    A[:4, :4] = path_adjacency(4)
    A[4:, 4:] = np.ones((6, 6)) - np.eye(6)
    w = np.linalg.eigvalsh(graphs.laplacian(sp.csr_matrix(A)))
    assert graphs.small_eigen_count(w, 1e-9) == 2
    assert graphs.n_components(A) == 2
    assert w[2] > 0.5


def test_knn_graph_is_symmetric_binary_and_finds_clusters():
    X = np.vstack([rng(9).normal(size=(30, 2)), rng(10).normal(size=(30, 2)) + 100.0])
    A = graphs.knn_adjacency(X, 5)
    assert (A != A.T).nnz == 0
    assert set(np.unique(A.data)) == {1.0}
    assert A.diagonal().sum() == 0
    assert (np.asarray(A.sum(axis=1)).ravel() >= 5).all()
    built, _ = graphs.build_graphs(X, make_settings(knn=5, bandwidths=(1.0,)))
    knn = built[0]
    assert knn.kind == "knn" and knn.components == 2
    rows = graphs.spectrum_rows(knn, make_settings(n_eigs=5))
    assert rows[0]["n_small"] == 2 and len(rows) == 5


def test_gaussian_affinity_and_bandwidth():
    X = np.array([[0.0], [1.0], [3.0]])
    K = graphs.gaussian_affinity(X, 2.0)
    np.testing.assert_allclose(np.diag(K), 1.0)
    assert K[0, 2] == pytest.approx(np.exp(-9.0 / 8.0))
    assert graphs.median_distance(X) == 2.0
    with pytest.raises(ValueError):
        graphs.gaussian_affinity(X, 0.0)


# -------------------------------------------------------------------------------- angles and eigenmaps


def test_principal_angles_of_identical_and_orthogonal_subspaces():
    Q, _ = np.linalg.qr(rng(11).normal(size=(20, 6)))
    np.testing.assert_allclose(graphs.principal_angles_deg(Q[:, :3], Q[:, :3] @ rng(12).normal(size=(3, 3))),
                               0.0, atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(graphs.principal_angles_deg(Q[:, :3], Q[:, 3:]), 90.0, atol=1e-10)


def elongated_cloud(p: int = 300) -> np.ndarray:
    return rng(13).uniform(-1.0, 1.0, size=(p, 3)) * np.array([1.0, 0.5, 0.2])


def eigenmap_angle(X: np.ndarray, mult: float, m: int, random_walk: bool) -> float:
    K = graphs.gaussian_affinity(X, mult * graphs.median_distance(X))
    V = graphs.eigenmap(graphs.laplacian(K), m, graphs.degrees(K, True) if random_walk else None)
    return float(graphs.principal_angles_deg(V, graphs.pca_scores(X, m)[0]).max())


def test_random_walk_gaussian_eigenmap_approaches_pca_as_bandwidth_grows():
    X = elongated_cloud()
    for m in (1, 2):
        angles = [eigenmap_angle(X, mult, m, True) for mult in (1, 2, 4, 8, 16, 64)]
        assert all(a > b for a, b in zip(angles, angles[1:], strict=False)), angles
        assert angles[-1] < 0.1 and angles[0] > 10 * angles[-1]


def test_unnormalized_gaussian_eigenmap_tends_to_its_own_limit_not_pca():
    X = elongated_cloud()
    m = 2
    limit = graphs.large_bandwidth_limit(X, m)
    to_limit = []
    for mult in (2, 8, 32):
        K = graphs.gaussian_affinity(X, mult * graphs.median_distance(X))
        V = graphs.eigenmap(graphs.laplacian(K), m)
        to_limit.append(float(graphs.principal_angles_deg(V, limit).max()))
    assert to_limit[0] > to_limit[1] > to_limit[2] and to_limit[-1] < 0.5
    # ...and that limit is far from PCA on this cloud: the degree term matters
    assert eigenmap_angle(X, 32, m, False) > 30


def test_angle_rows_skip_dimensions_beyond_the_cloud_rank():
    X = rng(14).normal(size=(40, 2))
    built, _ = graphs.build_graphs(X, make_settings(bandwidths=(1.0,), knn=5))
    ref = graphs.cloud_subspaces(X, (1, 2, 3))
    assert sorted(ref.pca) == [1, 2] and ref.rank == 2
    rows = graphs.angle_rows(built[1], ref)
    assert sorted({r["m"] for r in rows}) == [1, 2]
    assert all(0 <= r["max_angle_deg"] <= 90 for r in rows)
    assert {r["laplacian"] for r in rows} == {"unnormalized", "random_walk"}


# ------------------------------------------------------------------------------------------ metric maps


def test_metric_map_of_a_similar_cloud_is_the_identity_on_the_complement():
    X = rng(15).normal(size=(60, 3))
    R, _ = np.linalg.qr(rng(16).normal(size=(3, 3)))
    L_in = metric.gauss_laplacian(X, 1.0)
    L_sim = metric.gauss_laplacian(2.5 * X @ R + 7.0, 1.0)  # rotation, scaling, shift: same graph
    d, ds = metric.identity_distance(metric.metric_map(L_sim, L_in))
    assert d < 1e-8 and ds < 1e-8
    L_other = metric.gauss_laplacian(X * np.array([1.0, 0.1, 3.0]), 1.0)
    d2, ds2 = metric.identity_distance(metric.metric_map(L_other, L_in))
    assert d2 > 0.05 and ds2 <= d2 + 1e-12


def test_identity_distance_ignores_the_constant_direction():
    p = 8
    M = np.eye(p) + np.ones((p, p))  # differs from I only along the constant vector
    d, _ = metric.identity_distance(M)
    assert d < 1e-12
    assert metric.identity_distance(2 * np.eye(p)) == pytest.approx((1.0, 0.0), abs=1e-12)


def test_analyse_model_end_to_end_on_a_tiny_network():
    model = random_mlp((4, 10, 4), seed=17)
    X = rng(18).uniform(-1, 1, size=(120, 2, 2))
    Y = nearly_fitted_targets(model, X, 1e-3, seed=19).reshape(120, 2, 2)
    settings = make_settings(bandwidths=(0.5, 4.0), knn=5, subspace_dim=2, truncation_ks=8, eckart_young_ks=8)
    res = analysis.analyse_model(dec.affine_matrices(model), X, Y, X[:50], settings)
    assert set(res) == {"svd", "eckart_young", "truncation", "laplacian", "angles", "metric"}
    assert res["eckart_young"]["ok"].all()
    assert list(res["svd"].columns[:1]) == ["layer"]
    assert set(res["laplacian"]["space"]) == {"input", "hidden_1", "output"}
    full = res["metric"][(res["metric"]["map"] == "O_dist") & (res["metric"]["k_role"] == "full_rank")]
    assert (full["dist_identity"] < 1e-8).all()  # latent = output at full rank
    summary = analysis.summary_table(res, 4)
    assert list(summary["layer"]) == [-1, 0, 1]
    assert isinstance(summary, pd.DataFrame) and (summary["latent_dim"] >= 1).all()


def cli_settings(**overrides) -> dict:
    return {**BASE, "points": 40, "eval_points": 50, "bandwidths": [1, 8], "knn": 4, "subspace_dim": 2,
            **overrides}  # fmt: skip


def cli_argv(tmp_path, settings: dict) -> list[str]:
    model = random_mlp((4, 8, 4), seed=20)
    X = 2 * np.eye(2) + rng(21).uniform(-0.25, 0.25, size=(60, 2, 2))
    io.write_npz(tmp_path / "d.npz", n=np.array(2), A0=2 * np.eye(2), X_test=X, Y_test=np.linalg.inv(X))
    io.write_torch(model.state_dict(), tmp_path / "fc2_seed0.pt")
    argv = ["--data", str(tmp_path / "d.npz"), "--models", str(tmp_path / "fc2_seed0.pt"),
            "--settings", json.dumps(settings), "--out-summary", str(tmp_path / "summary.csv"),
            "--out-summary-md", str(tmp_path / "summary.md")]  # fmt: skip
    for name in lmd_analyse.OUTPUTS:
        argv += [f"--out-{name.replace('_', '-')}", str(tmp_path / f"{name}.csv")]
    return argv


def test_cli_writes_every_table(tmp_path):
    lmd_analyse.main(cli_argv(tmp_path, cli_settings()))
    tables = {name: pd.read_csv(tmp_path / f"{name}.csv") for name in lmd_analyse.OUTPUTS}
    for name, df in tables.items():
        assert len(df) > 0, name
        assert list(df.columns[:5]) == ["dataset", "model", "arch", "seed_index", "n"], name
        assert (df["model"] == "fc2_seed0").all() and (df["n"] == 2).all() and (df["dataset"] == "tiny").all()
    tr = tables["truncation"]
    assert tr["eval_points"].iloc[0] == 50 and (tr["baseline_mae"] > 0).all()
    assert tables["eckart_young"]["ok"].all()
    # integer bandwidths from JSON are the same floats as 1.0, 8.0 (the CSVs must not depend on the spelling)
    assert sorted(tables["laplacian"]["bandwidth_mult"].dropna().unique()) == [1.0, 8.0]
    assert (tmp_path / "summary.csv").exists() and (tmp_path / "summary.md").exists()


def test_cli_output_does_not_depend_on_how_numbers_are_spelled(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    lmd_analyse.main(cli_argv(a, cli_settings(bandwidths=[1, 8], metric_bandwidth=1, tolerance=1.05)))
    lmd_analyse.main(cli_argv(b, cli_settings(bandwidths=[1.0, 8.0], metric_bandwidth=1.0, tolerance=1.05)))
    for name in (*lmd_analyse.OUTPUTS, "summary"):
        assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes(), name


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"tolerance": 0.9}, "tolerance"),  # below 1 there is no latent dimension: refused up front
        ({"knn": 0}, "knn"),
        ({"bandwidths": [1, -2]}, "bandwidths"),
        ({"points": 2.5}, "points"),
        ({"kn": 5}, "kn"),  # unknown (misspelled) key
    ],
)
def test_cli_refuses_bad_settings_naming_the_key(tmp_path, capsys, change, key):
    with pytest.raises(SystemExit):
        lmd_analyse.main(cli_argv(tmp_path, cli_settings(**change)))
    assert f"'{key}'" in capsys.readouterr().err
    assert not (tmp_path / "svd.csv").exists()


def test_cli_refuses_a_missing_settings_key(tmp_path, capsys):
    settings = cli_settings()
    del settings["eig_tol"]
    with pytest.raises(SystemExit):
        lmd_analyse.main(cli_argv(tmp_path, settings))
    assert "'eig_tol'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        [lmd_analyse, []],
        [table_lmd, []],
        [plot_lmd, []],
        [plot_lmd, ["spectra"]],
        [plot_lmd, ["truncation"]],
        [plot_lmd, ["laplacian"]],
        [plot_lmd, ["angles"]],
    ],
    ids=["lmd_analyse", "table_lmd", "plot_lmd", "spectra", "truncation", "laplacian", "angles"],
)
def test_every_lmd_script_has_help(capsys, argv):
    module, sub = argv
    with pytest.raises(SystemExit) as exc:
        module.main([*sub, "--help"])
    assert exc.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_plot_settings_are_refused_naming_the_key(tmp_path, capsys):
    csv = tmp_path / "laplacian.csv"
    csv.write_text("dataset\nx\n")
    for bad, key in (({"figure_bandwidth": 0}, "figure_bandwidth"), ({}, "figure_bandwidth"),
                     ({"figure_bandwidth": 1, "m": 3}, "m")):  # fmt: skip
        with pytest.raises(SystemExit):
            plot_lmd.main(
                ["laplacian", str(csv), "--settings", json.dumps(bad), "--out", str(tmp_path / "f.png")]
            )
        assert f"'{key}'" in capsys.readouterr().err


def test_settings_are_the_schema_keys_the_rule_passes():
    """Every Settings field but seed and dataset is a key of the lmd schema section, and the schema
    section holds nothing else but the dataset list and the figure's bandwidth: defaults live there only."""
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert fields - set(SCHEMA_LMD) == {"seed", "dataset", "learned_exempt"}  # given by the rule
    assert set(SCHEMA_LMD) - fields == {"datasets", "figure_bandwidth"}
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(Settings))
    rule = (REPO / "workflow" / "rules" / "lmd.smk").read_text()  # the rule passes exactly these fields
    call = " ".join(rule.split()).replace("( ", "(")  # whitespace-insensitive
    assert (
        'settings_for("lmd/settings.py", "Settings", LMD, seed=SEED, dataset=wc.name, learned_exempt=' in call
    )
    text = cli.settings_json(make_settings())
    assert cli.load_settings(Settings, text) == make_settings()


def test_all_layer_truncation_matches_an_explicitly_truncated_network():
    model = random_mlp()  # [W | b] ranks 5, 9, 4
    X = rng(22).normal(size=(40, 2, 2))
    Y = nearly_fitted_targets(model, X, 1e-3, seed=23)
    svds = [dec.layer_svd(M) for M in dec.affine_matrices(model)]
    ev = trunc.TruncationEvaluator(svds, X, Y)
    for k in (2, 3, 6):
        copy = random_mlp()
        with torch.no_grad():
            for lin, s in zip([m for m in copy if isinstance(m, torch.nn.Linear)], svds, strict=True):
                W, b = dec.split_affine(dec.truncate(s, k))
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            pred = copy(torch.from_numpy(X.reshape(40, 4).astype(np.float32))).double().numpy()
        assert ev.all_layers(k) == pytest.approx(np.mean(np.abs(pred - Y)), rel=1e-6)
    assert ev.all_layers(6) == ev.one_layer(1, 6)  # only the 9-rank layer is cut at k = 6
