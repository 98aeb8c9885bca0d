"""Every Gai & Zhang claim has a kind; every paper claim holds on evidence where it should and is
scored "differs" on its own null evidence (so its rule can fail). Evidence is built by the library
functions on small problems (depth, Prop. 2, mpmath) or is a synthetic frame shaped like the s-score
table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nnmat import claims
from nnmat.gz import depth, prop2, theorem1

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
SPEC = yaml.safe_load((REPO / "config" / "claims" / "gz.yaml").read_text())["claims"]
PAPER = [c for c in SPEC if c["kind"] == "paper"]


def _problems(d: int, trials: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {k: rng.standard_normal((trials, d, d)) for k in ("X1", "X2", "Y1", "Y2")}
    out["seed"] = np.arange(trials, dtype=np.int64)
    return out


def _sscore_table() -> pd.DataFrame:
    """s falls with d after training (to ~0.01) and sits near 1, without a trend, at step 0."""
    rows = []
    init = {2: 0.9, 4: 1.4, 8: 0.7, 16: 1.2}
    for opt in ("gd", "adam"):
        for act in ("sigmoid", "relu", "identity"):
            for d in (2, 4, 8, 16):
                final = 1.0 if act == "identity" else 0.04 / d
                for at, s in (("final", final), ("init", 1.0 if act == "identity" else init[d])):
                    rows.append({"d": d, "activation": act, "optimizer": opt, "at": at, "s_median": s})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    out = {}
    depth_dfs = []
    for d in (3, 4):
        s = depth.DepthSettings(seed=0, d=d, alpha=2.0, als_iters=20)
        df = depth.depth_table(_problems(d, 3, d), s, init_seeds=[1, 2, 3])
        out[f"results/gz/theorem1/depth_d{d}.csv"] = df
        depth_dfs.append(df)
        out[f"results/gz/theorem1/prop2_d{d}.csv"] = prop2.prop2_table(
            prop2.Prop2Settings(seed=0, d=d, draws=100)
        )
    rel_tol = CONFIG["gz"]["theorem1"]["rel_tol"]
    out["results/tables/gz_depth_equations.csv"] = depth.depth_equations(pd.concat(depth_dfs), rel_tol)
    mp = theorem1.MpmathSettings(dps=CONFIG["gz"]["theorem1"]["mpmath"]["dps"], trials=1, alphas=(2.0,))
    out["results/gz/theorem1/mpmath.csv"] = theorem1.mpmath_table([_problems(2, 1, 5)], mp)
    out["results/tables/gz_sscore_final.csv"] = _sscore_table()
    return out


def _score(claim, frames):
    return claims.score_claim(claim, list(frames), lambda p: frames[p], CONFIG)


def test_every_claim_has_a_kind_and_every_paper_claim_a_null():
    assert {c["kind"] for c in SPEC} <= set(claims.KINDS)
    assert all(c.get("null", {}).get("what") for c in PAPER)
    assert {c["id"] for c in PAPER} >= {
        "gz_theorem1_exact",
        "gz_one_layer_not_two_equations",
        "gz_two_layer_linear_not_two_equations",
        "gz_depth_equations_grow",
        "gz_prop2_complex_field_needed",
        "gz_sscore_sigmoid_near_zero",
        "gz_sscore_relu_near_zero",
        "gz_sscore_sigmoid_decreases_with_d",
        "gz_sscore_relu_decreases_with_d",
    }
    sanity = {c["id"] for c in SPEC if c["kind"] == "sanity"}
    assert sanity == {"gz_one_layer_one_equation", "gz_sscore_identity_control"}


@pytest.mark.parametrize("claim", PAPER, ids=[c["id"] for c in PAPER])
def test_paper_claim_holds_on_evidence_and_fails_on_its_null(claim, frames):
    row = _score(claim, frames)
    assert row["verdict"] == claims.REPRODUCED, row["reason"]
    assert row["null_verdict"] == claims.DIFFERS and np.isfinite(float(row["null_value"]))
    # the null evidence scored as if it were the claim's: "differs", with a finite metric
    null = claim["null"]
    as_claim = {k: v for k, v in claim.items() if k != "null"}
    as_claim.update(kind="extension", evidence=null.get("evidence", claim["evidence"]), filter=null["filter"])
    null_row = _score(as_claim, frames)
    assert null_row["verdict"] == claims.DIFFERS, null_row["reason"]
    assert np.isfinite(float(null_row["our_value"]))


def test_spd_null_of_prop2_never_lacks_a_real_log(frames):
    df = frames["results/gz/theorem1/prop2_d4.csv"]
    assert df.loc[df["construction"] == "spd", "no_real_log"].sum() == 0
    assert df.loc[df["construction"] == "gaussian", "no_real_log"].mean() > 0


def test_depth_equations_one_for_linear_two_for_exp(frames):
    eq = frames["results/tables/gz_depth_equations.csv"]
    best = eq.groupby("n_layers")["equations_solved_best"].min().to_dict()
    assert best == {1: 1.0, 2: 1.0, 3: 2.0}


def test_mpmath_float64_failures_rule_separates_rounding_from_a_wrong_construction():
    claim = next(c for c in SPEC if c["id"] == "gz_theorem1_mpmath_float64_failures")
    dps, r64 = 50, 1e4
    rounding = pd.DataFrame(
        {"float64_status": ["ok"], "float64_rel_residual_max": [r64], "rel_residual_max": [1e-30]}
    )
    wrong = rounding.assign(rel_residual_max=[1e3])  # an error of the construction does not shrink
    for df in (rounding, wrong):
        df["digits_recovered_fraction"] = [
            theorem1._digits_recovered(r64, float(r), dps) for r in df["rel_residual_max"]
        ]
    path = "results/gz/theorem1/mpmath_float64_failures.csv"
    assert _score(claim, {path: rounding})["verdict"] == claims.REPRODUCED
    assert _score(claim, {path: wrong})["verdict"] == claims.DIFFERS
