"""The s-score library (Gai & Zhang eq. 33-35): control, singular ReLU handling, training, batching."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

from nnmat import seeding
from nnmat.gz import instances, sscore

torch.use_deterministic_algorithms(True)


def problems(d: int, trials: int = 3, seed: int = 11) -> dict[str, np.ndarray]:
    return instances.make_problems(seed, d, trials)


def settings(
    d, activation, optimizer="adam", runs=3, steps=40, lr=1e-2, max_loss_growth=math.inf, max_rejections=50
) -> sscore.TrainSettings:
    return sscore.TrainSettings(
        seed=5,
        d=d,
        optimizer=optimizer,
        activations=[activation] if isinstance(activation, str) else activation,
        runs=runs,
        steps=steps,
        log_every=10,
        init_std=1.0,
        lr=lr,
        max_loss_growth=max_loss_growth,
        max_rejections=max_rejections,
    )


def train(p, d, activation, optimizer="adam", **kw) -> pd.DataFrame:
    return sscore.train(p, settings(d, activation, optimizer, **kw))


def as_t(p, k, n=None):
    return sscore.as_tensor(p[k][:n])


@pytest.mark.parametrize("d", [2, 5, 12])
def test_identity_activation_gives_s_one_for_any_invertible_w1(d):
    p = problems(d)
    X1, X2, Y1, Y2 = (as_t(p, k) for k in ("X1", "X2", "Y1", "Y2"))
    W1 = torch.as_tensor(np.random.default_rng(d).standard_normal((3, d, d)))
    values, info = sscore.loss(W1, X1, X2, Y1, Y2, "identity")
    assert (info == 0).all()
    np.testing.assert_allclose(values / sscore.identity_loss(X1, X2, Y1, Y2), 1.0, rtol=0, atol=1e-10)


@pytest.mark.parametrize("optimizer", ["adam", "gd"])
def test_identity_control_stays_one_during_training(optimizer):
    trace = train(problems(6), 6, "identity", optimizer, steps=60)
    assert (trace["status"] == "ok").all()
    assert np.abs(trace["s"] - 1.0).max() < 1e-10


def singular_relu_problem(d: int = 3):
    """A problem and a W1 whose first row of W1 X2 is all negative: relu(W1 X2) has a zero row."""
    p = problems(d, trials=2)
    X2 = p["X2"][0]
    target = np.random.default_rng(0).standard_normal((d, d))
    target[0] = -np.abs(target[0]) - 0.5
    W1 = np.linalg.solve(X2.T, target.T).T  # W1 X2 = target
    return p, W1


def test_exactly_singular_relu_is_detected_not_raised():
    p, W1 = singular_relu_problem()
    X1, X2, Y1, Y2 = (as_t(p, k, 1) for k in ("X1", "X2", "Y1", "Y2"))
    W = torch.as_tensor(W1)[None]
    assert (torch.relu(W @ X2)[0, 0] == 0).all()
    values, grad, bad = sscore.evaluate(W, X1, X2, Y1, Y2, "relu")
    assert bad.tolist() == [True]
    assert torch.isfinite(grad).all() and (grad == 0).all()  # a bad run's gradient is discarded


def test_singular_relu_init_is_redrawn_and_counted():
    """X2 built so that run 0's first W1 draw gives W1 X2 a negative first row: relu(W1 X2) is singular."""
    d = 3
    p = problems(d, trials=2)
    W0 = np.random.default_rng(seeding.derive_seed(5, "sscore_init", d, 0)).standard_normal((d, d))
    W0 /= np.sqrt(d)  # init_std = 1
    target = np.random.default_rng(1).standard_normal((d, d))
    target[0] = -np.abs(target[0]) - 0.5
    p["X2"][0] = np.linalg.solve(W0, target)  # W0 X2 = target
    trace = train(p, d, ["relu", "sigmoid"], runs=2, steps=20)
    first = trace[trace["step"] == 0].set_index(["activation", "run"])
    assert first.loc[("relu", 0), "init_redraws"] >= 1
    assert first.loc[("sigmoid", 0), "init_redraws"] == 0  # sigmoid(W0 X2) is invertible
    assert np.isfinite(trace["s"]).all() and (trace["status"] == "ok").all()


def test_rejection_restores_the_run_and_leaves_others_alone():
    """With a huge step every relu run at d = 2 hits singular points; the trace stays finite and counted."""
    p = problems(2, trials=4, seed=3)
    trace = train(p, 2, "relu", "gd", runs=4, steps=50, lr=50.0, max_loss_growth=np.inf)
    assert np.isfinite(trace["s"]).all()
    last = trace[trace["step"] == trace["step"].max()]
    assert last["singular_steps"].sum() > 0
    assert set(last["status"]) <= {"ok", "stalled"}


def test_stalled_run_is_flagged_and_frozen():
    """A huge step and max_loss_growth barely above 1: a run rejected 3 times in a row stalls."""
    p = problems(3)
    trace = train(p, 3, "sigmoid", "gd", steps=40, lr=1e6, max_loss_growth=1.0001, max_rejections=3)
    final = trace[trace["step"] == 40]
    stalled = final[final["status"] == "stalled"]
    assert len(stalled) > 0
    for run in stalled["run"]:
        s = trace[trace["run"] == run].set_index("step")["s"]
        stalled_from = trace[(trace["run"] == run) & (trace["status"] == "stalled")]["step"].min()
        assert s.loc[stalled_from:].nunique() == 1  # frozen
    summary = sscore.final_summary(trace)
    assert summary["runs_flagged"].iloc[0] == len(stalled)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_short_training_decreases_s(activation):
    trace = train(problems(4, trials=4), 4, activation, "adam", runs=4, steps=300, lr=1e-2)
    med = trace.groupby("step")["s"].median()
    assert med.iloc[-1] < 0.7 * med.iloc[0]


@pytest.mark.parametrize("optimizer", ["adam", "gd"])
def test_activations_batched_together_equal_each_alone(optimizer):
    p = problems(4, trials=3)
    acts = ["sigmoid", "relu", "identity"]
    batched = train(p, 4, acts, optimizer, runs=3, steps=60)
    for act in acts:
        alone = train(p, 4, act, optimizer, runs=3, steps=60)
        both = batched[batched["activation"] == act].reset_index(drop=True)
        assert alone[["run", "seed", "step"]].equals(both[["run", "seed", "step"]])
        np.testing.assert_allclose(alone["s"], both["s"], rtol=1e-12, atol=0)


def test_batched_runs_match_alone_with_the_same_seed(monkeypatch):
    """Run k of a batch = run k trained alone with the same init seed (init depends on run id only)."""
    p = problems(4, trials=3)
    batched = train(p, 4, "sigmoid", "adam", runs=3, steps=60)
    real_init = sscore.init_weights
    for run in range(3):
        monkeypatch.setattr(
            sscore,
            "init_weights",
            lambda m, d, runs, std, bad, mx, run=run: real_init(m, d, [run], std, bad, mx),
        )
        one = {k: v[run : run + 1] for k, v in p.items()}
        alone = train(one, 4, "sigmoid", "adam", runs=1, steps=60)
        both = batched[batched["run"] == run].reset_index(drop=True)
        assert alone["seed"].iloc[0] == both["seed"].iloc[0]
        np.testing.assert_allclose(alone["s"], both["s"], rtol=1e-12, atol=0)


def test_activations_share_the_initial_w1():
    p = problems(5)
    a = train(p, 5, "sigmoid", steps=10)
    b = train(p, 5, "tanh", steps=10)
    assert a["seed"].tolist() == b["seed"].tolist()


def test_training_is_deterministic():
    p = problems(5)
    a = train(p, 5, ["sigmoid", "relu"], "adam", steps=50)
    b = train(p, 5, ["sigmoid", "relu"], "adam", steps=50)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_trace_columns_and_final_summary():
    trace = train(problems(3), 3, ["sigmoid", "identity"], "gd", steps=25)
    assert list(trace.columns[:11]) == [
        "d",
        "activation",
        "optimizer",
        "run",
        "seed",
        "problem_seed",
        "step",
        "s",
        "loss",
        "loss_identity",
        "singular_steps",
    ]
    assert {"init_redraws", "status"} <= set(trace.columns)
    assert sorted(trace["step"].unique()) == [0, 10, 20, 25]
    summary = sscore.final_summary(trace)
    assert list(summary["at"]) == ["final", "final", "init", "init"]
    assert list(summary["activation"]) == ["identity", "sigmoid", "identity", "sigmoid"]
    for col in [
        "s_median",
        "s_min",
        "s_max",
        "s_q10",
        "s_q90",
        "singular_steps_total",
        "init_redraws_total",
        "runs_flagged",
        "runs",
    ]:
        assert col in summary.columns
    final = summary[summary["at"] == "final"]
    assert final.loc[final["activation"] == "identity", "s_median"].item() == pytest.approx(1.0)


def test_settings_are_frozen_and_checked():
    s = settings(3, ["sigmoid", "relu"], "gd", lr=1)
    assert s.activations == ("sigmoid", "relu") and s.lr == 1.0 and isinstance(s.lr, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.steps = 5
    with pytest.raises(ValueError, match="activations"):
        settings(3, ["sigmoid", "softplus"])
    with pytest.raises(ValueError, match="optimizer"):
        settings(3, "sigmoid", "sgd")


def test_train_refuses_problems_that_do_not_fit_the_settings():
    p = problems(3, trials=2)
    with pytest.raises(ValueError, match="runs"):
        sscore.train(p, settings(3, "sigmoid", runs=3))
    with pytest.raises(ValueError, match="shape"):
        sscore.train(p, settings(4, "sigmoid", runs=2))
