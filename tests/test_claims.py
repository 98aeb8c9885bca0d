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
        "kind": "extension",
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


def repo_claims(repo):
    out = []
    for path in sorted((repo / "config" / "claims").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())["claims"]
        assert all(c["id"].startswith(f"{path.stem}_") for c in spec), path
        out += spec
    return out


def test_every_claim_in_the_repo_is_well_formed(repo, default_config):
    spec = repo_claims(repo)
    assert {c["id"].split("_")[0] for c in spec} == {"gz", "ji", "xia", "lmd"}
    # Scored against no evidence: every claim must come out "not checkable here", none may crash.
    scores = claims.score_all(spec, [], reader({}), default_config)
    assert len(scores) == len(spec) and set(scores["verdict"]) == {claims.NOT_CHECKABLE}
    for c in spec:
        assert c["kind"] in claims.KINDS, c["id"]
        if not c.get("not_checkable"):
            assert c.get("tolerance"), f"claim {c['id']} must state its tolerance"
        if c["kind"] == "paper" and not c.get("not_checkable"):
            assert claims.null_of(c).get("what"), f"paper claim {c['id']} needs a null with a description"


PAPER = {"kind": "paper", "null": {"what": "the constant predictor", "filter": "model == 'constant'"}}


def test_a_paper_claim_needs_a_kind_and_a_null():
    with pytest.raises(claims.ClaimSpecError, match="kind must be one of"):
        claims.score_claim(make_claim(kind="theorem"), [], reader({}), CONFIG)
    with pytest.raises(claims.ClaimSpecError, match="needs a null"):
        claims.score_claim(make_claim(kind="paper"), [], reader({}), CONFIG)


def test_the_null_is_scored_by_the_same_rule_and_a_null_that_passes_voids_the_claim():
    frames = {"results/x_d2.csv": pd.DataFrame({"model": ["mlp", "constant"], "r": [1e-12, 0.3]})}
    claim = make_claim(filter="model == 'mlp'", **PAPER)
    row = claims.score_claim(claim, list(frames), reader(frames), CONFIG)
    assert (row["verdict"], row["null_verdict"], row["null_value"]) == (
        claims.REPRODUCED,
        claims.DIFFERS,
        "0.3",
    )
    frames["results/x_d2.csv"].loc[1, "r"] = 1e-13  # a rule the null passes too cannot fail
    row = claims.score_claim(claim, list(frames), reader(frames), CONFIG)
    assert row["verdict"] == claims.NOT_CHECKABLE and "cannot fail" in row["reason"]
    assert row["null_verdict"] == claims.REPRODUCED
    frames["results/x_d2.csv"] = pd.DataFrame({"model": ["mlp"], "r": [1e-12]})  # null rows missing
    row = claims.score_claim(claim, list(frames), reader(frames), CONFIG)
    assert row["verdict"] == claims.REPRODUCED and row["null_verdict"] == claims.NOT_CHECKABLE


@pytest.mark.parametrize(
    ("config", "verdict"),
    [
        ({"device": "cpu", "ji": {"steps": 300}}, claims.NEEDS_PAPER_SCALE),
        ({"device": "cpu", "ji": {"steps": 200000}}, claims.NEEDS_GPU),
        ({"device": "cuda", "ji": {"steps": 200000}}, claims.DIFFERS),
    ],
)
def test_requires_names_the_run_that_would_decide(config, verdict):
    frames = {"results/x_d2.csv": pd.DataFrame({"r": [0.5]})}
    requires = [
        {
            "key": "ji.steps",
            "op": ">=",
            "value": 200000,
            "verdict": claims.NEEDS_PAPER_SCALE,
            "reason": "paper steps",
        },
        {"key": "device", "equals": "cuda", "verdict": claims.NEEDS_GPU, "reason": "a GPU claim"},
    ]
    claim = make_claim(requires=requires, rule={"op": "<", "value": 0.1})
    row = claims.score_claim(claim, list(frames), reader(frames), {**CONFIG, **config})
    assert row["verdict"] == verdict and row["our_value"] == "0.5"  # our number is shown either way
    if verdict == claims.NEEDS_PAPER_SCALE:
        assert "paper steps (here ji.steps = 300)" in row["reason"]


@pytest.mark.parametrize(
    ("op", "bound", "value", "holds"),
    [
        ("<", 1.0, 1.0, False), ("<", 1.0, 1.0 - 1e-12, True), ("<", 1.0, 1.0 + 1e-12, False),
        ("<=", 1.0, 1.0, True), ("<=", 1.0, 1.0 + 1e-12, False),
        (">", 1.0, 1.0, False), (">", 1.0, 1.0 + 1e-12, True), (">", 1.0, 1.0 - 1e-12, False),
        (">=", 1.0, 1.0, True), (">=", 1.0, 1.0 - 1e-12, False),
        ("between", [1.0, 2.0], 1.0, True), ("between", [1.0, 2.0], 2.0, True),
        ("between", [1.0, 2.0], 2.0 + 1e-12, False), ("between", [1.0, 2.0], 1.0 - 1e-12, False),
    ],
)  # fmt: skip
def test_rule_operators_at_the_boundary(op, bound, value, holds):
    assert claims.check_rule(value, {"op": op, "value": bound}, CONFIG) is holds


@pytest.mark.parametrize("values", [[float("nan")], []])
def test_nan_or_empty_evidence_is_never_a_verdict(values):
    frames = {"results/x_d2.csv": pd.DataFrame({"r": pd.Series(values, dtype=float)})}
    row = claims.score_claim(make_claim(), list(frames), reader(frames), CONFIG)
    assert row["verdict"] == claims.NOT_CHECKABLE
