"""Layer Matrix Decomposition, step 4: graph Laplacians of point clouds, eigenmaps, principal angles.

L = D - A of p sampled points in the input, each hidden (post-ReLU) and the output space, for a
symmetric k-nearest-neighbour graph (binary weights) and for the fully connected Gaussian graph
A_ij = exp(-||x_i - x_j||^2 / (2 h^2)) with h = multiple x median pairwise distance. The paper's "fully
connected Laplacian = truncated SVD" is tested as principal angles between the span of the eigenmap
(eigenvectors 2..m+1) and the top-m PCA scores (left singular vectors of the centred data). Two
eigenproblems: the paper's literal L v = l v ("unnormalized") and the Belkin-Niyogi eigenmap L v = l D v
("random_walk", D = kernel row sums including the self-affinity 1). As h -> inf,
A = 1 - d^2 / 2h^2 + O(h^-4): the random-walk problem reduces to the double-centred squared distances
(classical MDS), i.e. exactly PCA, at rate O(h^-2); the unnormalized one does not, because the degrees
vary to the same order: its limit is the top-m eigenspace of 2 Xc Xc^T + p P diag(|xc_i|^2) P
(`large_bandwidth_limit`), which we record as well.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist, squareform

from nnmat.lmd.settings import Settings

log = logging.getLogger("nnmat.lmd")


def median_distance(X: np.ndarray) -> float:
    """Median pairwise Euclidean distance (0 if all points coincide)."""
    return float(np.median(pdist(X))) if len(X) > 1 else 0.0


def gaussian_affinity(X: np.ndarray, h: float) -> np.ndarray:
    """Kernel matrix exp(-d^2 / 2h^2) of all pairs, self-affinity 1 on the diagonal (the Laplacian
    ignores it; the random-walk degree includes it, which makes the h -> inf limit exactly PCA)."""
    if not h > 0:
        raise ValueError(f"bandwidth must be positive, got {h}")
    return np.exp(-squareform(pdist(X, "sqeuclidean")) / (2.0 * h * h))


def knn_adjacency(X: np.ndarray, k: int) -> sp.csr_matrix:
    """Symmetric binary k-nearest-neighbour graph: i ~ j if j is among the k nearest of i or vice versa."""
    p = len(X)
    k = min(int(k), p - 1)
    _, idx = cKDTree(X).query(X, k=k + 1)
    rows, cols = [], []
    for i in range(p):
        nbrs = [j for j in np.atleast_1d(idx[i]) if j != i][:k]  # duplicates may put i after another point
        rows.extend([i] * len(nbrs))
        cols.extend(nbrs)
    A = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(p, p))
    return ((A + A.T) > 0).astype(np.float64).tocsr()


def laplacian(A) -> np.ndarray:
    """L = D - A as a dense array (csgraph ignores the diagonal of A, i.e. self-loops)."""
    L = csgraph.laplacian(A.tocsr() if sp.issparse(A) else np.asarray(A, dtype=np.float64))
    return L.toarray() if sp.issparse(L) else np.asarray(L)


def degrees(A, self_loops: bool) -> np.ndarray:
    """Row sums of A, with or without its diagonal."""
    d = np.asarray(A.sum(axis=1)).ravel()
    return d if self_loops else d - np.asarray(A.diagonal()).ravel()


def n_components(A) -> int:
    """Connected components of the graph with an edge wherever A_ij > 0 (i != j)."""
    G = sp.csr_matrix(A) if not sp.issparse(A) else A.tocsr()
    return int(csgraph.connected_components(G, directed=False)[0])


def small_eigen_count(w: np.ndarray, tol: float) -> int:
    """Eigenvalues <= tol * max|w| (the numerical kernel of L = D - A; one per connected component)."""
    return int(np.sum(w <= tol * np.max(np.abs(w)))) if w.size else 0


def eigenmap(L: np.ndarray, m: int, degree: np.ndarray | None = None) -> np.ndarray:
    """Eigenvectors 2..m+1 (skipping the constant one) of L v = l v, or of L v = l D v with D = diag(degree)
    (the Belkin-Niyogi random-walk eigenmap)."""
    p = L.shape[0]
    if degree is None:
        _, V = sla.eigh(L, subset_by_index=[1, m])
    else:
        _, V = sla.eigh(L, np.diag(degree), subset_by_index=[1, m])
    assert V.shape == (p, m)
    return V


def pca_scores(X: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-m left singular vectors of the centred data (the PCA scores' span) and all singular values."""
    U, s, _ = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    return U[:, :m], s


def large_bandwidth_limit(X: np.ndarray, m: int) -> np.ndarray:
    """The h -> inf limit of the unnormalized Gaussian eigenmap: the top-m eigenvectors of
    2 Xc Xc^T + p P diag(|xc_i|^2) P (from L = p P + (2h^2)^-1 P (D2 - diag(row sums of D2)) P + O(h^-4),
    D2 the squared distances). The diagonal term, from the varying degrees, is what separates it from PCA."""
    p = len(X)
    Xc = X - X.mean(axis=0)
    P = np.eye(p) - 1.0 / p
    K = 2.0 * Xc @ Xc.T + p * (P * np.sum(Xc**2, axis=1)) @ P
    _, V = sla.eigh(K, subset_by_index=[p - m, p - 1])
    return V[:, ::-1]


def principal_angles_deg(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Principal angles between span(A) and span(B) in degrees, largest first."""
    return np.degrees(sla.subspace_angles(A, B))


@dataclasses.dataclass(frozen=True)
class Graph:
    """One graph of a point cloud: its Laplacian, degrees (for the random-walk problem) and labels."""

    kind: str  # "knn" | "gauss"
    bandwidth_mult: float  # nan for knn
    bandwidth: float  # nan for knn
    knn_k: int  # 0 for gauss
    L: np.ndarray
    degree: np.ndarray
    components: int


def build_graphs(X: np.ndarray, settings: Settings) -> tuple[list[Graph], float]:
    """The kNN graph and one Gaussian graph per bandwidth multiple of the cloud's median distance."""
    med = median_distance(X)
    graphs = []
    A = knn_adjacency(X, settings.knn)
    graphs.append(
        Graph(
            "knn", float("nan"), float("nan"), settings.knn, laplacian(A), degrees(A, False), n_components(A)
        )
    )
    if med > 0:
        for mult in settings.bandwidths:
            K = gaussian_affinity(X, mult * med)
            graphs.append(
                Graph("gauss", mult, mult * med, 0, laplacian(K), degrees(K, True), n_components(K))
            )
    return graphs, med


def graph_keys(g: Graph) -> dict:
    return {
        "graph": g.kind,
        "bandwidth_mult": g.bandwidth_mult,
        "bandwidth": g.bandwidth,
        "knn_k": g.knn_k if g.kind == "knn" else pd.NA,
    }


def spectrum_rows(g: Graph, settings: Settings) -> list[dict]:
    """The n_eigs smallest eigenvalues of L = D - A, with the small-eigenvalue count and components."""
    try:
        w = sla.eigh(g.L, eigvals_only=True)
    except (np.linalg.LinAlgError, ValueError) as exc:  # recorded, never fatal
        return [{**graph_keys(g), "eig_index": -1, "value": np.nan, "reason": f"eigh failed: {exc}"}]
    lam_max = float(w[-1])
    n_small = small_eigen_count(w, settings.eig_tol)
    return [
        {
            **graph_keys(g),
            "eig_index": j,
            "value": float(w[j]),
            "value_rel": float(w[j] / lam_max) if lam_max > 0 else np.nan,
            "lambda_max": lam_max,
            "n_small": n_small,
            "n_components": g.components,
            "eig_tol": settings.eig_tol,
            "reason": "",
        }
        for j in range(min(settings.n_eigs, w.size))
    ]


@dataclasses.dataclass(frozen=True)
class CloudSubspaces:
    """The reference subspaces of one point cloud, computed once and shared by all its graphs: the top-m
    PCA scores and the unnormalized eigenmap's h -> inf limit for each m, the singular values of the
    centred cloud, and its rank."""

    pca: dict[int, np.ndarray]
    limit: dict[int, np.ndarray]
    sigma: np.ndarray
    rank: int


def cloud_subspaces(X: np.ndarray, dims: Sequence[int]) -> CloudSubspaces:
    """Subspaces for every m in `dims` that the cloud supports (m <= rank of the centred cloud, m < p - 1);
    larger m are left out (logged), since PCA defines no m-dimensional subspace there."""
    U, s = pca_scores(X, min(X.shape))
    rank = int(np.sum(s > s[0] * 1e-12)) if s.size and s[0] > 0 else 0
    ok = [m for m in dims if m <= rank and m < len(X) - 1]
    for m in sorted(set(dims) - set(ok)):
        log.info("subspace dim %d exceeds the cloud's rank %d (or p - 2): skipped", m, rank)
    return CloudSubspaces({m: U[:, :m] for m in ok}, {m: large_bandwidth_limit(X, m) for m in ok}, s, rank)


def angle_rows(g: Graph, ref: CloudSubspaces) -> list[dict]:
    """Principal angles between the eigenmap of graph g and the PCA subspace for each m, both
    eigenproblems; for the Gaussian graph also the angle to the h -> inf limit of that eigenproblem."""
    rows = []
    for m, U_pca in ref.pca.items():
        gap = float(ref.sigma[m] / ref.sigma[m - 1]) if m < ref.sigma.size else 0.0
        for problem, deg in (("unnormalized", None), ("random_walk", g.degree)):
            row = {**graph_keys(g), "laplacian": problem, "m": m, "pca_gap_ratio": gap}
            try:
                E = eigenmap(g.L, m, deg)
                ang = principal_angles_deg(E, U_pca)
                if g.kind == "gauss" and problem == "unnormalized":
                    lim = float(principal_angles_deg(E, ref.limit[m]).max())
                elif g.kind == "gauss":
                    lim = float(ang.max())  # the random-walk limit is PCA itself
                else:
                    lim = float("nan")
                row.update(max_angle_deg=float(ang.max()), mean_angle_deg=float(ang.mean()),
                           max_angle_to_limit_deg=lim, reason="")  # fmt: skip
            except (np.linalg.LinAlgError, ValueError) as exc:
                row.update(max_angle_deg=np.nan, mean_angle_deg=np.nan, max_angle_to_limit_deg=np.nan,
                           reason=f"eigenproblem failed: {exc}")  # fmt: skip
            rows.append(row)
    return rows
