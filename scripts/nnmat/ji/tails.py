"""Ji, Wu & Xi, Theorem 3.9 (general expectation): on a dataset containing singular matrices the expected
error of any polynomial-Lipschitz model is infinite. Checked by the tail of the per-sample error.

The error of a bounded model near the singular set grows like ||A^-1|| = 1 / sigma_min, so the mean is
infinite exactly when the error's tail index alpha (P(err > x) ~ x^-alpha) is at most 1. For 2x2
matrices sigma_min has a positive density at 0 (the singular set is a hypersurface), so alpha = 1: the
mean diverges only logarithmically, and a running mean of samples proves nothing. A Hill estimate of
alpha with its confidence interval does: the claim is that alpha <= 1 is inside the 95 % interval, and
on a certified box (errors bounded) the same estimate is far above 1. The theorem's exponent conditions
(on n and the integrability exponent in eq. 4) are lost in the text copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TailSettings:
    """config ji.whycant: the dataset with singular matrices, the certified null dataset, and the share of
    the largest per-sample errors the Hill estimate uses."""

    dataset: str
    null_dataset: str
    hill_fraction: float


def hill_tail_index(values: np.ndarray, fraction: float, z: float = 1.959964) -> dict[str, float]:
    """Hill estimate of the tail index alpha of positive `values` from their k = ceil(fraction * N) largest.

    alpha_hat = 1 / mean(log(X_(i) / X_(k+1)), i <= k), with the asymptotic normal 95 % interval
    alpha_hat (1 +- z / sqrt(k)) (Hill 1975; exact for a Pareto tail). alpha <= 1: infinite mean.
    """
    x = np.sort(np.asarray(values, dtype=np.float64)[np.isfinite(values)])[::-1]
    x = x[x > 0]
    k = int(np.ceil(fraction * len(x)))
    out = {"n_samples": len(x), "k": k, "hill_alpha": np.nan, "hill_alpha_ci_lo": np.nan}
    out["hill_alpha_ci_hi"] = np.nan
    if k < 2 or k >= len(x):
        return out
    xi = float(np.mean(np.log(x[:k] / x[k])))
    if xi <= 0:
        return out
    alpha = 1.0 / xi
    half = z / np.sqrt(k)
    out.update(
        hill_alpha=alpha,
        hill_alpha_ci_lo=float(alpha * (1 - half)),
        hill_alpha_ci_hi=float(alpha * (1 + half)),
    )
    return out
