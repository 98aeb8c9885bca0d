"""The baselines every learned inverse is judged against (Ji, Wu & Xi, Tables 1-2).

- the constant predictor f(A) = inv(A0): what a network that learned nothing about the input returns
  at best on a box around A0;
- the first-order linear approximation inv(A0) - inv(A0) (A - A0) inv(A0) (Sec. 4, eq. 10), which the
  paper's networks are claimed to beat: nnmat.ji.linapprox.first_order.

A box-dataset model "did not learn" unless its test MAE is at most LEARNED_FACTOR times the constant
predictor's on the same test matrices: such a model still counts (as a failure) in the accuracy
claims, but is left out of every claim about the function a network learned (LMD, activation
regions, coefficients). The general dataset contains singular matrices and is exempt (there the
constant predictor is no meaningful bar).
"""

from __future__ import annotations

import numpy as np

# A model must beat the constant predictor by this factor in test MAE to count as having learned.
LEARNED_FACTOR = 0.5


def constant_prediction(A0: np.ndarray, count: int) -> np.ndarray:
    """inv(A0) for each of `count` inputs, shape (count, n, n)."""
    inv = np.linalg.solve(A0, np.eye(A0.shape[0]))
    return np.broadcast_to(inv, (count, *inv.shape)).copy()


def mae(pred: np.ndarray, target: np.ndarray) -> float:
    """Average absolute error over every entry of every matrix (the paper's metric)."""
    return float(np.mean(np.abs(pred - target)))


def learned(model_mae: float, constant_mae: float) -> bool:
    """True when the model beats the constant predictor inv(A0) by LEARNED_FACTOR or better."""
    return bool(model_mae <= LEARNED_FACTOR * constant_mae)


def baseline_maes(A0: np.ndarray, X: np.ndarray, Y: np.ndarray) -> dict[str, float]:
    """Test MAE of the constant predictor inv(A0) and of the first-order linear approximation."""
    from .linapprox import first_order  # late import: linapprox imports torch

    return {
        "constant_mae": mae(constant_prediction(A0, len(X)), Y),
        "linear_mae": mae(first_order(A0, X), Y),
    }


def with_baselines(final, maes: dict[str, float], exempt: bool):
    """The per-model rows of a training stage with both baselines beside each model's test MAE.

    mae_over_constant / mae_over_linear: the model's test MAE over the baseline's; learned: beats the
    constant predictor by 1 / LEARNED_FACTOR; did_not_learn: not learned on a certified box dataset (the
    general dataset, exempt, is never flagged).
    """
    out = final.copy()
    out["constant_mae"] = maes["constant_mae"]
    out["linear_mae"] = maes["linear_mae"]
    out["mae_over_constant"] = out["test_mae"] / maes["constant_mae"]
    out["mae_over_linear"] = out["test_mae"] / maes["linear_mae"]
    out["learned"] = [learned(m, maes["constant_mae"]) for m in out["test_mae"]]
    out["did_not_learn"] = ~out["learned"] & (not exempt)
    return out
