"""The LMD claims (config/claims/lmd.yaml): every claim has a kind, every paper claim a null, and each
paper claim's rule holds on evidence shaped like results/tables/lmd_claims.csv where the paper is right and
fails ("differs") on its null evidence; the measures table carries the random-weight null rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nnmat import claims
from nnmat.lmd import scoring

REPO = Path(__file__).resolve().parents[1]
CLAIMS = yaml.safe_load((REPO / "config" / "claims" / "lmd.yaml").read_text())["claims"]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
EVIDENCE = "results/tables/lmd_claims.csv"

# (measure, network) -> value where the paper's statement holds, and the null's value where it must not
# (a random layer's n' follows its width 8 n^2; the kNN graph is far from PCA; the Gaussian graph at a
# large bandwidth is PCA; a map no nearer the identity where explained than where not).
HOLDS = {
    ("latent_dim_over_data_dim_median", "trained"): 1.2,
    ("gauss_unnormalized_angle_at_largest_bandwidth_median", "trained"): 3.0,
    ("knn_angle_median", "trained"): 55.0,
    ("metric_dist_identity_explained_over_unexplained", "trained"): 0.2,
}
NULL = {
    ("latent_dim_over_data_dim_median", "random"): 7.8,
    ("knn_unnormalized_angle_median", "trained"): 60.0,
    ("gauss_rw_angle_at_largest_bandwidth_median", "trained"): 0.05,
    ("metric_dist_identity_explained_over_unexplained", "random"): 1.3,
}
PAPER = [c for c in CLAIMS if c["kind"] == "paper"]


def evidence(values: dict) -> dict[str, pd.DataFrame]:
    rows = [{"measure": m, "network": n, "value": v, "count": 3, "what": ""} for (m, n), v in values.items()]
    return {EVIDENCE: pd.DataFrame(rows)}


def score(claim, values):
    frames = evidence(values)
    return claims.score_claim(claim, list(frames), lambda path: frames[path], CONFIG)


def test_every_claim_has_a_kind_and_every_paper_claim_a_null():
    assert {c["kind"] for c in CLAIMS} <= set(claims.KINDS)
    assert len(PAPER) == 4
    for c in PAPER:
        assert c["null"]["what"] and c["null"]["filter"] != c["filter"], c["id"]
    ey = next(c for c in CLAIMS if c["id"] == "lmd_eckart_young_truncation")
    assert ey["kind"] == "sanity"  # a theorem: no null can fail it


@pytest.mark.parametrize("claim", PAPER, ids=lambda c: c["id"])
def test_paper_claim_holds_on_its_evidence_and_fails_on_its_null(claim):
    row = score(claim, {**HOLDS, **NULL})
    assert np.isfinite(float(row["null_value"])), "a NaN null proves nothing"
    assert row["null_verdict"] == claims.DIFFERS, (claim["id"], row["null_value"])
    assert row["verdict"] == claims.REPRODUCED, (claim["id"], row["reason"])


@pytest.mark.parametrize("claim", PAPER, ids=lambda c: c["id"])
def test_a_null_that_behaves_like_the_claim_makes_it_not_checkable(claim):
    # the null's measure given the value that satisfies the rule: the claim could not have failed
    null_key = next(
        k for k in NULL if f"'{k[0]}'" in claim["null"]["filter"] and f"'{k[1]}'" in claim["null"]["filter"]
    )
    holds_key = next(k for k in HOLDS if f"'{k[0]}'" in claim["filter"] and f"'{k[1]}'" in claim["filter"])
    row = score(claim, {**HOLDS, **NULL, null_key: HOLDS[holds_key]})
    assert row["verdict"] == claims.NOT_CHECKABLE


def test_measures_keep_the_random_null_and_drop_models_that_did_not_learn():
    def summary_rows(model, network, learned, n_lat):
        base = {"dataset": "first", "model": model, "network": network, "learned": learned, "n_sq": 4}
        return [
            {**base, "layer": 0, "hidden_to_hidden": False, "latent_dim": 5, "width": 4},
            {**base, "layer": 1, "hidden_to_hidden": True, "latent_dim": n_lat, "width": 32},
            {**base, "layer": 2, "hidden_to_hidden": False, "latent_dim": 4, "width": 32},
        ]

    summary = pd.DataFrame(
        summary_rows("fc3_seed0", "trained", True, 6)
        + summary_rows("fc3_seed0", "random", True, 31)
        + summary_rows("fc3_seed1", "trained", False, 30)  # did not learn: left out
    )
    ey = pd.DataFrame({"network": ["trained"], "rel_discrepancy": [1e-14]})
    cols = ["network", "learned", "graph", "laplacian", "bandwidth_mult", "max_angle_deg", "model", "space"]
    angles = pd.DataFrame(columns=cols)
    metric = pd.DataFrame(
        [{"network": net, "learned": True, "map": "O_dist", "k": k, "rank": 32, "explained": k >= 6,
          "dist_identity": d} for net in ("trained", "random") for k, d in ((3, 0.3), (6, 0.05), (32, 0.0))]
    )  # fmt: skip
    m = scoring.measures(summary, ey, angles, metric).set_index(["measure", "network"])["value"]
    assert m["latent_dim_over_data_dim_median", "trained"] == 1.5
    assert m["latent_dim_over_data_dim_median", "random"] == 31 / 4
    assert m["latent_dim_over_width_median", "random"] == 31 / 32
    assert m["models_excluded_did_not_learn", "trained"] == 1
    # the full-rank row (identity by construction) does not count
    assert m["metric_dist_identity_explained_mean", "trained"] == pytest.approx(0.05)
    assert np.isnan(m["knn_angle_median", "trained"])  # no rows: NaN, which the engine calls not checkable
