"""Layer Matrix Decomposition, step 5: the metric maps I_dist and O_dist between point clouds.

I_dist = L_latent L_in^+ and O_dist = L_out L_latent^+ (the paper's eq. 6 without its unspecified
reshaping maps c, c') on the same p points, with the Gaussian graph at `metric_bandwidth` x each cloud's
own median distance (scale-free: a similarity transform of a cloud leaves its L unchanged). For layer l:
in = the layer's input, latent = the rank-k coordinates S_k V_k^T [h; 1] (distances equal those of the
truncated layer's output), out = the layer's pre-activation W h + b (the linear map the SVD describes,
eq. 8). Distance from the identity on the complement of the constant vector: ||P M P - P||_F / ||P||_F
with P = I - 11^T / p.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg as sla

from nnmat.lmd.decomposition import LayerSVD, augment
from nnmat.lmd.graphs import gaussian_affinity, laplacian, median_distance
from nnmat.lmd.settings import Settings


def metric_map(L_to: np.ndarray, L_from: np.ndarray) -> np.ndarray:
    """g = L_B L_A^+ (eq. 7: L_B = g(L_A)); pinvh because L is symmetric PSD with 1 in its kernel."""
    return L_to @ sla.pinvh(L_from)


def identity_distance(M: np.ndarray) -> tuple[float, float]:
    """(||P M P - P||_F / ||P||_F, the same after the best scalar multiple c M) with P = I - 11^T/p:
    the identity is only meaningful on the complement of the constant vector, the kernel of every L."""
    p = M.shape[0]
    P = np.eye(p) - 1.0 / p
    PMP = P @ M @ P
    nP = np.sqrt(p - 1.0)  # ||P||_F
    d = float(np.linalg.norm(PMP - P) / nP)
    denom = float(np.sum(PMP * PMP))
    c = float(np.sum(PMP * P) / denom) if denom > 0 else 0.0
    return d, float(np.linalg.norm(c * PMP - P) / nP)


def gauss_laplacian(X: np.ndarray, mult: float) -> np.ndarray | None:
    """L of the Gaussian graph at mult x the cloud's median distance (None if all points coincide)."""
    med = median_distance(X)
    return laplacian(gaussian_affinity(X, mult * med)) if med > 0 else None


def metric_ks(rank: int, latent: int) -> list[tuple[int, str]]:
    """Ranks at which the maps are measured: 1, n'/2, n' (the latent dimension), the full rank."""
    picks = [(1, "one"), (max(latent // 2, 1), "half_latent"), (latent, "latent_dim"), (rank, "full_rank")]
    seen, out = set(), []
    for k, role in picks:
        if 1 <= k <= rank and k not in seen:
            seen.add(k)
            out.append((k, role))
    return out


def map_distances(
    L_to: np.ndarray | None, L_from: np.ndarray | None, pinv: Callable[[np.ndarray], np.ndarray] = sla.pinvh
) -> dict:
    """Distances of g = L_to L_from^+ from the identity, and ||L_to - L_from||_F / ||L_from||_F; NaN with a
    reason when a cloud is degenerate or the pseudo-inverse fails (recorded, never fatal)."""
    nan = {"dist_identity": np.nan, "dist_identity_scaled": np.nan, "laplacian_rel_diff": np.nan}
    if L_to is None or L_from is None:
        return {**nan, "reason": "degenerate cloud (all points coincide)"}
    try:
        d, ds = identity_distance(L_to @ pinv(L_from))
    except (np.linalg.LinAlgError, ValueError) as exc:
        return {**nan, "reason": f"pinvh failed: {exc}"}
    diff = float(np.linalg.norm(L_to - L_from) / np.linalg.norm(L_from))
    return {"dist_identity": d, "dist_identity_scaled": ds, "laplacian_rel_diff": diff, "reason": ""}


def metric_rows(
    svd: LayerSVD,
    h_in: np.ndarray,
    z_out: np.ndarray,
    latent: int,
    scores_of: Callable[[int], tuple[float, float]],
    settings: Settings,
) -> list[dict]:
    """I_dist, O_dist (per k) and the whole layer's map L_out L_in^+ for one layer on the p points.

    scores_of(k) = (test error ratio to the full network, output deviation from it) with this layer alone
    truncated to rank k. `explained` says whether that truncation keeps the output within
    settings.output_tolerance of the untruncated network's (the paper's eq. 4-5 case, where the metric
    maps should be trivial). At k = rank the latent cloud is the output cloud up to a rotation, so the
    maps are the identity by construction: the claims use k < rank only."""
    mult = settings.metric_bandwidth
    L_in, L_out = gauss_laplacian(h_in, mult), gauss_laplacian(z_out, mult)
    base = {"rank": svd.rank, "metric_bandwidth_mult": mult}
    rows = []
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def pinv(L: np.ndarray) -> np.ndarray:
        """Each Laplacian is pseudo-inverted once (L_in serves every I_dist); L is kept in the cache so
        that its id cannot be reused by another array."""
        if id(L) not in cache:
            cache[id(L)] = (L, sla.pinvh(L))
        return cache[id(L)][1]

    ha = augment(h_in)
    for k, role in metric_ks(svd.rank, latent):
        Z = (ha @ svd.Vt[:k].T) * svd.S[:k]  # latent coordinates S_k V_k^T [h; 1]
        L_lat = gauss_laplacian(Z, mult)
        ratio, dev = scores_of(k)
        keys = {**base, "k": k, "k_role": role, "test_mae_ratio": ratio, "output_deviation": dev,
                "explained": bool(dev <= settings.output_tolerance)}  # fmt: skip
        rows.append({"map": "I_dist", **keys, **map_distances(L_lat, L_in, pinv)})
        rows.append({"map": "O_dist", **keys, **map_distances(L_out, L_lat, pinv)})
    keys = {**base, "k": svd.rank, "k_role": "full_map", "test_mae_ratio": 1.0,
            "output_deviation": 0.0, "explained": True}  # fmt: skip
    rows.append({"map": "layer", **keys, **map_distances(L_out, L_in, pinv)})
    return rows
