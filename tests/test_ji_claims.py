"""The ji claims (config/claims/ji.yaml): every paper claim reproduces on evidence where it holds and
gives "differs" on its own null; baselines, the eq. (11) network and the Hill tail estimator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nnmat import claims
from nnmat.ji import baselines, tails
from nnmat.ji import linapprox as la

CLAIMS = yaml.safe_load((Path(__file__).parents[1] / "config" / "claims" / "ji.yaml").read_text())["claims"]
BY_ID = {c["id"]: c for c in CLAIMS}
# the set-up in which every ji claim applies (paper scale, CUDA)
CONFIG = {"device": "cuda", "ji": {"datasets": {"16x16": {"steps": 200000}}}}
DATASETS = [("first", 2), ("second", 2), ("3x3", 3), ("16x16", 16)]


def table1(net_ratio=0.1) -> pd.DataFrame:
    rows = []
    for i, (d, n) in enumerate(DATASETS):
        const, lin = 0.02, 0.01 / (i + 1)  # the linear approximation's error follows the box, not n
        for arch in ("fc2", "fc3"):
            mae = 0.001 * (i + 1)  # grows with n
            rows.append({"dataset": d, "n": n, "arch": arch, "test_mae_mean": mae,
                         "mae_over_constant": net_ratio if arch == "fc2" else 0.1})  # fmt: skip
        rows.append(
            {"dataset": d, "n": n, "arch": "constant", "test_mae_mean": const, "mae_over_constant": 1.0}
        )
        rows.append(
            {
                "dataset": d,
                "n": n,
                "arch": "linear_1st",
                "test_mae_mean": lin,
                "mae_over_constant": lin / const,
            }
        )
    return pd.DataFrame(rows)


def evidence() -> dict[str, pd.DataFrame]:
    """Evidence shaped like the run's CSVs, where every paper claim holds and its null does not."""
    return {
        "results/tables/ji_table1.csv": table1(),
        "results/tables/ji_table3_timing.csv": pd.DataFrame(
            {
                "procedure": ["batched", "unbatched (null)"],
                "speedup_bs_max_vs_bs1": [30.0, 1.0],
                "speedup_bs_max_vs_bs1_cpu": [30.0, np.nan],
                "bs1_cpu_over_exact_batched": [20.0, np.nan],
            }
        ),  # fmt: skip
        "results/ji/whycant_tail.csv": pd.DataFrame(
            {"role": ["general", "general", "certified_box"], "hill_alpha_ci_lo": [0.9, 0.95, 6.0]}
        ),
        "results/tables/ji_table2.csv": pd.DataFrame(
            {
                "dataset": ["first"] * 5,
                "method": ["linear_1st", "constant", "small", "fc2", "eq11_relu"],
                "is_network": [False, False, True, True, False],
                "ratio_to_linear_1st": [1.0, 3.0, 0.8, 0.5, 1.0],
                "max_abs_diff_to_linear_1st": [0.0, 0.1, 0.01, 0.01, 1e-16],
            }
        ),  # fmt: skip
        "results/tables/ji_regions.csv": pd.DataFrame(
            {
                "weights": ["trained", "trained", "untrained"],
                "learned": [True, True, False],
                "regions_with_data": [3, 4, 6],
                "top2_fraction": [0.95, 0.97, 0.6],
                "top2_max_abs_diff_weight": [0.05, 0.08, 0.6],
            }
        ),  # fmt: skip
        "results/tables/ji_error_vs_radius.csv": pd.DataFrame(
            {"method": ["linear_1st", "constant"], "exponent": [2.05, 1.0]}
        ),
    }


def score(claim, frames):
    return claims.score_claim(claim, list(frames), lambda p: frames[p], CONFIG)


def test_every_claim_has_a_kind_and_every_paper_claim_a_null():
    for c in CLAIMS:
        assert c.get("kind") in claims.KINDS, c["id"]
        assert c.get("tolerance"), c["id"]
        if c["kind"] == "paper":
            assert c.get("null", {}).get("what") and c["null"].get("filter"), c["id"]


PAPER = [c["id"] for c in CLAIMS if c["kind"] == "paper"]


@pytest.mark.parametrize("cid", PAPER)
def test_paper_claim_holds_on_good_evidence_and_fails_on_its_null(cid):
    row = score(BY_ID[cid], evidence())
    assert row["verdict"] == claims.REPRODUCED, row
    assert row["null_value"] != "" and np.isfinite(float(row["null_value"])), row
    assert row["null_verdict"] == claims.DIFFERS, row


def test_a_model_that_did_not_learn_fails_the_accuracy_claim():
    frames = {**evidence(), "results/tables/ji_table1.csv": table1(net_ratio=1.02)}
    assert score(BY_ID["ji_mlp_error_small"], frames)["verdict"] == claims.DIFFERS


def test_regions_with_two_or_fewer_are_not_checkable():
    frames = evidence()
    frames["results/tables/ji_regions.csv"]["regions_with_data"] = [2, 1, 6]
    assert score(BY_ID["ji_two_regions_hold_most_data"], frames)["verdict"] == claims.NOT_CHECKABLE


def test_requirements_give_needs_paper_scale_and_needs_gpu():
    frames = evidence()
    small = {"device": "cpu", "ji": {"datasets": {"16x16": {"steps": 300}}}}
    for cid, verdict in (
        ("ji_error_grows_with_n", claims.NEEDS_PAPER_SCALE),
        ("ji_inference_large_batch_faster", claims.NEEDS_GPU),
    ):
        row = claims.score_claim(BY_ID[cid], list(frames), lambda p: frames[p], small)
        assert row["verdict"] == verdict and row["our_value"] != ""


def test_table2_paper_claim_reads_the_first_dataset_only():
    frames = evidence()
    other = pd.DataFrame({"dataset": ["16x16"], "method": ["fc2"], "is_network": [True],
                          "ratio_to_linear_1st": [40.0], "max_abs_diff_to_linear_1st": [0.1]})  # fmt: skip
    frames["results/tables/ji_table2.csv"] = pd.concat([frames["results/tables/ji_table2.csv"], other])
    assert score(BY_ID["ji_mlps_beat_linear_approximation"], frames)["verdict"] == claims.REPRODUCED
    ext = score(BY_ID["ji_mlps_beat_linear_approximation_other_datasets"], frames)
    assert ext["verdict"] == claims.DIFFERS


def test_with_baselines_flags_models_that_do_not_halve_the_constant_error():
    final = pd.DataFrame({"test_mae": [0.004, 0.006]})
    out = baselines.with_baselines(final, {"constant_mae": 0.01, "linear_mae": 0.002}, exempt=False)
    assert list(out["learned"]) == [True, False] and list(out["did_not_learn"]) == [False, True]
    assert out["mae_over_linear"].tolist() == pytest.approx([2.0, 3.0])
    exempt = baselines.with_baselines(final, {"constant_mae": 0.01, "linear_mae": 0.002}, exempt=True)
    assert not exempt["did_not_learn"].any()


def test_baseline_maes_are_exact_on_the_centre():
    A0 = np.array([[2.0, 1.0], [1.0, 2.0]])
    X = np.stack([A0, A0])
    Y = np.linalg.inv(X)
    assert baselines.baseline_maes(A0, X, Y) == pytest.approx({"constant_mae": 0.0, "linear_mae": 0.0})


@pytest.mark.parametrize("n", [2, 3])
def test_eq11_network_has_2n2_hidden_units_and_equals_the_linear_approximation(n):
    rng = np.random.default_rng(n)
    A0 = np.eye(n) * 3 + rng.uniform(-0.5, 0.5, (n, n))
    net = la.eq11_network(A0)
    assert net[0].out_features == 2 * n * n and net[0].in_features == n * n
    X = A0 + rng.uniform(-1, 1, (50, n, n))  # also outside any box: the identity is exact everywhere
    diff = np.abs(la.predict_float64(net, X) - la.first_order(A0, X)).max()
    assert diff < 1e-12


def test_hill_estimate_separates_an_infinite_mean_from_a_bounded_error():
    rng = np.random.default_rng(0)
    pareto = 1.0 / rng.uniform(size=20000)  # P(X > x) = 1/x: alpha = 1, infinite mean
    est = tails.hill_tail_index(pareto, 0.05)
    assert est["k"] == 1000 and est["hill_alpha_ci_lo"] <= 1.0 <= est["hill_alpha_ci_hi"]
    bounded = rng.uniform(0.01, 0.02, size=20000)  # a certified box: errors bounded
    assert tails.hill_tail_index(bounded, 0.05)["hill_alpha_ci_lo"] > 5
