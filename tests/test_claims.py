"""The claims engine: verdicts come from evidence, missing evidence is never 'reproduced'."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from nnmat import claims

CONFIG = {"gz": {"theorem1": {"rel_tol": 1e-8}, "sscore": {"fig1_optimizer": "adam"}}}


def make_claim(**over):
    base = {
        "id": "c1",
        "paper": "P",
        "where": "Eq. 1",
        "statement": "s",
        "paper_value": "not printed",
        "evidence": "results/x_d*.csv",
        "metric": {"stat": "max", "column": "r"},
        "rule": {"op": "<", "value": "config:gz.theorem1.rel_tol"},
    }
    return {**base, **over}


def reader(frames):
    return lambda path: frames[path]


def test_reproduced_and_differs_follow_the_numbers():
    frames = {"results/x_d2.csv": pd.DataFrame({"r": [1e-12, 1e-10]})}
    row = claims.score_claim(make_claim(), list(frames), reader(frames), CONFIG)
    assert row["verdict"] == claims.REPRODUCED and row["our_value"] == "1e-10"
    frames["results/x_d2.csv"] = pd.DataFrame({"r": [1e-12, 1e-3]})
    row = claims.score_claim(make_claim(), list(frames), reader(frames), CONFIG)
    assert row["verdict"] == claims.DIFFERS and "0.001" in row["reason"]


def test_missing_evidence_is_not_checkable_never_reproduced():
    row = claims.score_claim(make_claim(), ["results/other.csv"], reader({}), CONFIG)
    assert row["verdict"] == claims.NOT_CHECKABLE


def test_glob_only_matches_files_of_this_run():
    frames = {"results/x_d2.csv": pd.DataFrame({"r": [1e-12]})}
    frames["results/x_d4.csv"] = pd.DataFrame({"r": [1.0]})
    # d4 exists on disk from an old config but is not among this run's files: it must be ignored.
    row = claims.score_claim(make_claim(), ["results/x_d2.csv"], reader(frames), CONFIG)
    assert row["verdict"] == claims.REPRODUCED and row["evidence"] == "results/x_d2.csv"


def test_filter_with_config_placeholder_and_empty_result():
    frames = {"results/x_d2.csv": pd.DataFrame({"opt": ["adam", "gd"], "r": [1e-12, 1.0]})}
    claim = make_claim(filter="opt == '{gz[sscore][fig1_optimizer]}'")
    assert claims.score_claim(claim, list(frames), reader(frames), CONFIG)["verdict"] == claims.REPRODUCED
    claim = make_claim(filter="opt == 'lbfgs'")
    assert claims.score_claim(claim, list(frames), reader(frames), CONFIG)["verdict"] == claims.NOT_CHECKABLE


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ({"stat": "spearman", "x": "d", "column": "s"}, -1.0),
        ({"stat": "loglog_slope", "x": "d", "column": "s"}, -2.0),
        ({"stat": "fraction_below", "column": "s", "threshold": 0.05}, 0.5),
        ({"stat": "max_abs_dev", "column": "s", "center": 1.0}, 1.0 - 1 / 256),
        ({"stat": "max", "column": "s", "groupby": ["g"], "reduce": "min"}, 1 / 64),
    ],
)
def test_metrics(metric, expected):
    d = pd.Series([2, 4, 8, 16], dtype=float)
    df = pd.DataFrame({"d": d, "s": 1 / d**2, "g": [0, 0, 1, 1]})
    assert claims.compute_metric(df, metric, CONFIG) == pytest.approx(expected)


def test_not_checkable_reason_and_spec_errors():
    row = claims.score_claim(make_claim(not_checkable="needs a GPU"), [], reader({}), CONFIG)
    assert row["verdict"] == claims.NOT_CHECKABLE and row["reason"] == "needs a GPU"
    with pytest.raises(claims.ClaimSpecError, match="lacks fields"):
        claims.score_claim({"id": "x"}, [], reader({}), CONFIG)
    with pytest.raises(claims.ClaimSpecError, match="duplicate"):
        claims.score_all([make_claim(), make_claim()], [], reader({}), CONFIG)


def test_every_claim_in_the_repo_is_well_formed(repo, default_config):
    spec = yaml.safe_load((repo / "config" / "claims.yaml").read_text())["claims"]
    # Scored against no evidence: every claim must come out "not checkable here", none may crash.
    scores = claims.score_all(spec, [], reader({}), default_config)
    assert len(scores) == len(spec) and set(scores["verdict"]) == {claims.NOT_CHECKABLE}
    for c in spec:
        assert c["id"].split("_")[0] in {"gz", "ji", "xia", "lmd"}, c["id"]
        if not c.get("not_checkable"):
            assert c.get("tolerance"), f"claim {c['id']} must state its tolerance"
            claims.describe_rule(c["rule"], c["metric"], default_config)  # resolves config references
