"""Layer Matrix Decomposition, steps 1-2: the layer SVD with absorbed bias and the Eckart-Young check.

1. **Layer SVD.** The bias is absorbed as an extra column, M = [W | b] (out x (in + 1)), so that
   M @ [h; 1] = W h + b (the paper: "absorb all bias terms into the weight matrix"). We record the
   singular values, the stable rank ||M||_F^2 / ||M||_2^2 and the energy-effective ranks (smallest k
   with sum_{i<=k} s_i^2 / sum s_i^2 >= threshold).
2. **Eckart-Young.** For the rank-k truncation M_k of the SVD, ||M - M_k||_2 = s_{k+1} and
   ||M - M_k||_F = sqrt(sum_{i>k} s_i^2). Measured with an SVD (with vectors) for the truncation and an
   independent norm computation, predicted from `scipy.linalg.svdvals`; tolerance `EY_TOL` relative to s_1.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse.linalg as spla
import torch

EY_TOL = 1e-10  # Eckart-Young: |measured - predicted| / s_1 must stay below this
# energy thresholds of the effective ranks: fixed, since they name the CSV columns (eff_rank_p90, ...)
ENERGY_THRESHOLDS = (0.9, 0.99, 0.999)
EY_ALL_K_MAX_SIZE = 20_000  # layers with at most this many entries get the Eckart-Young check at every k
DENSE_NORM_MAX = 300  # 2-norms of matrices with min(shape) above this use ARPACK (tol=0) instead of svdvals


# --------------------------------------------------------------------------------------------------
# 1. Layer matrices and their singular values


def affine_matrices(model: torch.nn.Module) -> list[np.ndarray]:
    """[W | b] in float64 for every Linear layer, in order (the paper's bias absorption)."""
    mats = []
    for layer in model.modules():
        if isinstance(layer, torch.nn.Linear):
            W = layer.weight.detach().double().numpy()
            b = layer.bias.detach().double().numpy() if layer.bias is not None else np.zeros(W.shape[0])
            mats.append(np.hstack([W, b[:, None]]))
    return mats


def split_affine(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of an absorbed matrix [W | b]."""
    return M[:, :-1], M[:, -1]


def augment(H: np.ndarray) -> np.ndarray:
    """Rows [h, 1]: the homogeneous coordinates on which [W | b] acts."""
    return np.hstack([H, np.ones((H.shape[0], 1), dtype=H.dtype)])


def stable_rank(s: np.ndarray) -> float:
    """||M||_F^2 / ||M||_2^2: a rank that does not jump when a tiny singular value appears."""
    return float(np.sum(s**2) / s[0] ** 2) if s.size and s[0] > 0 else 0.0


def energy_fraction(s: np.ndarray) -> np.ndarray:
    """Cumulative fraction of sum s_i^2 captured by the first k values, k = 1..len(s)."""
    e = np.cumsum(s.astype(np.float64) ** 2)
    return e / e[-1] if e.size and e[-1] > 0 else np.zeros_like(e)


def effective_rank(s: np.ndarray, threshold: float) -> int:
    """Smallest k whose energy fraction reaches `threshold` (Eckart-Young: the rank-k truncation then has
    relative Frobenius error <= sqrt(1 - threshold))."""
    if not 0 < threshold <= 1:
        raise ValueError(f"energy threshold must be in (0, 1], got {threshold}")
    frac = energy_fraction(s)
    # a small slack so that threshold 1.0 is reachable despite rounding in the cumulative sum
    return int(np.searchsorted(frac, threshold - 1e-15) + 1) if frac.size else 0


def numerical_rank(s: np.ndarray, shape: tuple[int, int]) -> int:
    """Count of s_i > max(shape) * eps * s_1 (the numpy.linalg.matrix_rank rule)."""
    if not s.size or s[0] == 0:
        return 0
    return int(np.sum(s > max(shape) * np.finfo(np.float64).eps * s[0]))


def threshold_name(threshold: float) -> str:
    """Column name of an effective rank: 0.9 -> eff_rank_p90, 0.999 -> eff_rank_p99_9."""
    return "eff_rank_p" + f"{100 * threshold:g}".replace(".", "_")


def svd_table(s: np.ndarray, shape: tuple[int, int], thresholds: Sequence[float]) -> pd.DataFrame:
    """Long format: one row per singular value, with the per-layer summary repeated on every row
    (so a plot or a filter never needs a join)."""
    summary = {
        "rows": shape[0],
        "cols": shape[1],
        "numerical_rank": numerical_rank(s, shape),
        "stable_rank": stable_rank(s),
        **{threshold_name(t): effective_rank(s, t) for t in thresholds},
    }
    return pd.DataFrame(
        {
            "i": np.arange(1, s.size + 1),
            "sigma": s,
            "sigma_rel": s / s[0] if s[0] > 0 else np.zeros_like(s),
            "energy_cum": energy_fraction(s),
            **{k: [v] * s.size for k, v in summary.items()},
        }
    )


# --------------------------------------------------------------------------------------------------
# 2. Eckart-Young


@dataclasses.dataclass(frozen=True)
class LayerSVD:
    """Thin SVD of one [W | b] (gesdd, with vectors) and its singular values from svdvals (the
    independent prediction of the Eckart-Young errors)."""

    M: np.ndarray
    U: np.ndarray
    S: np.ndarray
    Vt: np.ndarray
    sigma: np.ndarray

    @property
    def rank(self) -> int:
        """min(rows, cols): the largest rank a truncation can have (k = rank reproduces M)."""
        return int(self.S.size)


def layer_svd(M: np.ndarray) -> LayerSVD:
    """Two LAPACK paths on purpose: gesdd with vectors (numpy) for the truncations, and scipy's svdvals
    for the singular values that predict their errors."""
    U, S, Vt = np.linalg.svd(M, full_matrices=False)
    return LayerSVD(M, U, S, Vt, sla.svdvals(M))


def truncate(svd: LayerSVD, k: int) -> np.ndarray:
    """Rank-k truncation M_k, built from whichever side is cheaper: U_k S_k V_k^T for small k, or
    M - (tail) for large k, which returns M itself (bit for bit) at k = rank."""
    k = int(np.clip(k, 0, svd.rank))
    if k >= svd.rank:
        return svd.M.copy()
    if 2 * k <= svd.rank:
        return (svd.U[:, :k] * svd.S[:k]) @ svd.Vt[:k]
    return svd.M - (svd.U[:, k:] * svd.S[k:]) @ svd.Vt[k:]


def spectral_norm(E: np.ndarray) -> tuple[float, str]:
    """||E||_2 and the method: dense svdvals for small matrices, ARPACK (tol=0, fixed start) for large
    ones (a dense SVD of a 2048 x 2049 matrix per k would take seconds each)."""
    if not np.any(E):
        return 0.0, "zero"
    if min(E.shape) <= DENSE_NORM_MAX:
        return float(sla.svdvals(E)[0]), "svdvals"
    try:
        val = spla.svds(E, k=1, tol=0, return_singular_vectors=False, random_state=0, solver="arpack")
        return float(val[0]), "arpack"
    except spla.ArpackNoConvergence:  # pragma: no cover - fall back to the dense path
        return float(sla.svdvals(E)[0]), "svdvals"


def k_grid(rank: int, max_points: int) -> list[int]:
    """Ranks to evaluate: every k in 0..rank when that is at most `max_points` values, else 0, a geometric
    grid from 1 to the rank (dense where k is small, about evenly spread on a log axis), rank - 1 and rank
    (where the Eckart-Young error is smallest)."""
    rank = int(rank)
    if rank + 1 <= max_points:
        return list(range(rank + 1))
    geo = np.round(np.geomspace(1, rank, max(max_points - 3, 2))).astype(int)
    return sorted({0, *geo.tolist(), rank - 1, rank})


def ey_ks(svd: LayerSVD, max_points: int) -> list[int]:
    """The k values of the Eckart-Young check: every k for small layers (at most `EY_ALL_K_MAX_SIZE`
    entries: all layers of the 2 x 2 and 3 x 3 networks), else a grid of `max_points`, halved where each
    2-norm needs ARPACK (about 0.5 s per k for a 2048 x 2049 layer)."""
    if svd.M.size <= EY_ALL_K_MAX_SIZE:
        return list(range(svd.rank + 1))
    budget = max_points if min(svd.M.shape) <= DENSE_NORM_MAX else max(max_points // 2, 4)
    return k_grid(svd.rank, budget)


def eckart_young_table(svd: LayerSVD, ks: Sequence[int]) -> pd.DataFrame:
    """Measured and predicted truncation errors in the 2- and Frobenius norms for each k."""
    s, s1 = svd.sigma, svd.sigma[0]
    tail = np.sqrt(np.cumsum((s**2)[::-1])[::-1])  # tail[k] = sqrt(sum_{i>=k} s_i^2), 0-based
    rows = []
    for k in ks:
        E = svd.M - (svd.U[:, :k] * svd.S[:k]) @ svd.Vt[:k]  # the truncation error, by its definition
        err2, method = spectral_norm(E)
        errF = float(np.linalg.norm(E, "fro"))
        pred2 = float(s[k]) if k < s.size else 0.0
        predF = float(tail[k]) if k < s.size else 0.0
        d2, dF = abs(err2 - pred2) / s1, abs(errF - predF) / s1
        rows.append(
            {
                "k": int(k),
                "err2": err2,
                "pred2": pred2,
                "errF": errF,
                "predF": predF,
                "rel_discrepancy2": d2,
                "rel_discrepancyF": dF,
                "rel_discrepancy": max(d2, dF),
                "tol": EY_TOL,
                "ok": bool(max(d2, dF) <= EY_TOL),
                "norm2_method": method,
            }
        )
    return pd.DataFrame(rows)
