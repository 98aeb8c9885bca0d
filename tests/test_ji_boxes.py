"""Datasets of Ji, Wu & Xi: certificate, ground-truth inverses, seeding; Table 1/3 summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from nnmat.ji import boxes, summaries, timing

FIRST = {"n": 2, "centre": [[2.0, 1.0], [1.0, 2.0]], "radius_fraction": 0.5, "train": 500, "test": 200}


def build(name: str, spec: dict, master_seed: int):
    """boxes.build on the settings of dataset `name` (includes_singular false unless the spec says so)."""
    fields = {"includes_singular": False, **spec}
    return boxes.build(boxes.DatasetSettings(dataset=name, seed=master_seed, **fields))


def test_box_bound_is_attained_by_the_all_ones_corner():
    # the certificate uses sup ||Delta||_2 = n r over the box; the corner r * ones attains it
    n, r = 5, 0.3
    assert np.linalg.norm(r * np.ones((n, n)), 2) == pytest.approx(n * r)
    rng = np.random.default_rng(0)
    deltas = rng.uniform(-r, r, size=(2000, n, n))
    assert np.linalg.norm(deltas, 2, axis=(1, 2)).max() <= n * r


def test_certified_dataset_has_no_sample_closer_than_the_margin():
    arrays, cert = build("first", FIRST, master_seed=1)
    assert cert.certified and cert.radius == pytest.approx(0.25)
    # Weyl: sigma_min(A0 + Delta) >= sigma_min(A0) - ||Delta||_2 >= margin
    assert arrays["sigma_min_train"].min() >= cert.margin - 1e-12
    assert arrays["sigma_min_test"].min() >= cert.margin - 1e-12
    assert np.abs(arrays["X_train"] - arrays["A0"]).max() <= cert.radius


def test_box_reaching_the_singular_set_is_refused_unless_declared():
    bad = {**FIRST, "radius_fraction": 1.0}
    with pytest.raises(boxes.DatasetError, match="can reach a singular matrix"):
        build("first", bad, master_seed=1)
    arrays, cert = build("general", {**bad, "includes_singular": True}, master_seed=1)
    assert not cert.certified and cert.margin <= 1e-12
    assert len(arrays["X_test"]) == 200


def test_singular_or_misshapen_centre_is_refused():
    with pytest.raises(boxes.DatasetError, match="centre is singular"):
        build("s", {**FIRST, "centre": [[1.0, 2.0], [2.0, 4.0]]}, master_seed=1)
    with pytest.raises(boxes.DatasetError, match=r"shape \(2, 3\)"):
        build("s", {**FIRST, "centre": [[1.0, 2.0, 0.0], [2.0, 4.0, 1.0]]}, master_seed=1)


def test_targets_are_true_inverses():
    arrays, _ = build("first", FIRST, master_seed=3)
    eye = np.broadcast_to(np.eye(2), arrays["X_test"].shape)
    assert np.abs(arrays["X_test"] @ arrays["Y_test"] - eye).max() < 1e-13


def test_seeding_is_per_split_and_reproducible():
    a, _ = build("first", FIRST, master_seed=3)
    b, _ = build("first", {**FIRST, "train": 100}, master_seed=3)
    np.testing.assert_array_equal(a["X_test"], b["X_test"])  # the test set ignores the train size
    c, _ = build("first", FIRST, master_seed=4)
    assert not np.array_equal(a["X_test"], c["X_test"])


def test_on_the_fly_and_random_centre():
    spec = {"n": 16, "centre": "random", "radius_fraction": 0.5, "train": 0, "test": 50}
    arrays, cert = build("16x16", spec, master_seed=1)
    assert bool(arrays["on_the_fly"]) and arrays["X_train"].shape == (0, 16, 16)
    assert cert.certified and cert.radius == pytest.approx(0.5 * cert.sigma_min_centre / 16)
    summary = boxes.summary("16x16", arrays, cert, includes_singular=False)
    assert list(summary["samples"]) == [0, 50]
    assert summary["generated_during_training"].tolist() == [True, False]


def test_table1_mean_std_and_flagged_models_left_out():
    final = pd.DataFrame(
        {
            "dataset": "first", "arch": "fc2", "n": 2, "steps": 10, "seed_index": [0, 1, 2],
            "test_mae": [0.01, 0.03, np.nan], "test_max_abs_err": [0.1, 0.2, np.nan],
            "test_rel_fro_err_mean": [0.01, 0.02, np.nan], "status": ["ok", "ok", "flagged"],
            "constant_mae": 0.05, "linear_mae": 0.004, "learned": [True, False, False],
            "did_not_learn": [False, True, True],
        }
    )  # fmt: skip
    t = summaries.table1(final)
    assert t.loc[0, "test_mae_mean"] == pytest.approx(0.02)
    assert t.loc[0, "mae_over_constant"] == pytest.approx(0.4) and t.loc[
        0, "mae_over_linear"
    ] == pytest.approx(5)
    assert (t.loc[0, "learned_seeds"], t.loc[0, "did_not_learn"]) == (1, 2)
    baselines = t[~t["is_network"]].set_index("arch")["test_mae_mean"]
    assert baselines.to_dict() == {"constant": 0.05, "linear_1st": 0.004}
    assert t.loc[0, "test_mae_std"] == pytest.approx(np.std([0.01, 0.03], ddof=1))
    assert t.loc[0, "flagged"] == 1 and t.loc[0, "architecture"] == "fc2 (4-32-4)"


def test_inference_timing_rows_and_needs_gpu():
    X = np.random.default_rng(0).standard_normal((50, 2, 2))
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    settings = timing.InferenceSettings(datasets=["first"], batch_sizes=[1, 10], repeats=1, device="cpu")
    rows = pd.DataFrame(timing.time_dataset("first", X, {"fc2_seed0": model}, settings, cuda=False))
    assert set(rows["model"]) == {"exact_batched", "exact_loop", "fc2_seed0"}
    gpu = rows[rows["device"] == "cuda"]
    assert (gpu["status"] == "needs_gpu").all() and gpu["wall_s"].isna().all()
    cpu = rows[(rows["device"] == "cpu") & (rows["arch"] == "fc2")]
    assert (cpu["wall_s"] > 0).all() and list(cpu["batch_size"]) == [1, 10]
    paper = pd.DataFrame([{"dataset_label": "2x2", "arch": "fc2", "bs1_gpu_s": 4.491, "bs100_gpu_s": 0.214,
                           "bs10000_gpu_s": 0.125, "bs1_cpu_s": 1.703, "exact_cpu_s": 0.075}])  # fmt: skip
    t3 = summaries.table3(rows, paper)
    assert t3.loc[0, "paper_bs1_cpu_s"] == 1.703 and t3.loc[0, "gpu_status"] == "needs GPU"
    assert t3.loc[0, "speedup_bs_max_vs_bs1_cpu"] == pytest.approx(
        t3.loc[0, "bs1_cpu_s"] / t3.loc[0, "bs10_cpu_s"]
    )
