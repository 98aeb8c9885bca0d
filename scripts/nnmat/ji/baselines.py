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
