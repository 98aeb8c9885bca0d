"""Layer Matrix Decomposition (Shyh-Chang, Luo & Qiu, arXiv 2309.05968) made measurable.

The paper is pure theory; it prescribes constructs but no numbers. Each construct becomes a measurement
on the trained ReLU MLPs of the pipeline (our operationalisation, stated here and in the report):

1. **Layer SVD.** The bias is absorbed as an extra column, M = [W | b] (out x (in + 1)), so that
   M @ [h; 1] = W h + b (the paper: "absorb all bias terms into the weight matrix"). We record the
   singular values, the stable rank ||M||_F^2 / ||M||_2^2 and the energy-effective ranks (smallest k
   with sum_{i<=k} s_i^2 / sum s_i^2 >= threshold).
2. **Eckart-Young.** For the rank-k truncation M_k of the SVD, ||M - M_k||_2 = s_{k+1} and
   ||M - M_k||_F = sqrt(sum_{i>k} s_i^2). Measured with an SVD (with vectors) for the truncation and an
   independent norm computation, predicted from `scipy.linalg.svdvals`; tolerance `EY_TOL` relative to s_1.
3. **Latent dimension n'.** One layer (or every layer) is replaced by the affine map of its truncated
   [W | b]_k and the test error (mean |f(x) - y|) is measured against k. n' is the smallest k whose error
   is within `tolerance` x the full model's error. The network is evaluated as deployed (float32 input and
   weights); truncations are built in float64 and rounded to float32, so rank = full rank reproduces the
   float32 weights bit for bit.
4. **Graph Laplacians.** L = D - A of p sampled points in the input, each hidden (post-ReLU) and the output
   space, for a symmetric k-nearest-neighbour graph (binary weights) and for the fully connected Gaussian
   graph A_ij = exp(-||x_i - x_j||^2 / (2 h^2)) with h = multiple x median pairwise distance. The
   paper's "fully connected Laplacian = truncated SVD" is tested as principal angles between the span of
   the eigenmap (eigenvectors 2..m+1) and the top-m PCA scores (left singular vectors of the centred
   data). Two eigenproblems: the paper's literal L v = l v ("unnormalized") and the Belkin-Niyogi
   eigenmap L v = l D v ("random_walk", D = kernel row sums including the self-affinity 1). As h -> inf,
   A = 1 - d^2 / 2h^2 + O(h^-4): the random-walk problem reduces to the double-centred squared distances
   (classical MDS), i.e. exactly PCA, at rate O(h^-2); the unnormalized one does not, because the degrees
   vary to the same order: its limit is the top-m eigenspace of 2 Xc Xc^T + p P diag(|xc_i|^2) P
   (`large_bandwidth_limit`), which we record as well.
5. **Metric maps.** I_dist = L_latent L_in^+ and O_dist = L_out L_latent^+ (the paper's eq. 6 without its
   unspecified reshaping maps c, c') on the same p points, with the Gaussian graph at
   `metric_bandwidth` x each cloud's own median distance (scale-free: a similarity transform of a cloud
   leaves its L unchanged). For layer l: in = the layer's input, latent = the rank-k coordinates
   S_k V_k^T [h; 1] (distances equal those of the truncated layer's output), out = the layer's
   pre-activation W h + b (the linear map the SVD describes, eq. 8). Distance from the identity on the
   complement of the constant vector: ||P M P - P||_F / ||P||_F with P = I - 11^T / p.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla
import torch
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist, squareform

log = logging.getLogger("nnmat.lmd")

EY_TOL = 1e-10  # Eckart-Young: |measured - predicted| / s_1 must stay below this
ENERGY_THRESHOLDS = (0.9, 0.99, 0.999)
EY_ALL_K_MAX_SIZE = 20_000  # layers with at most this many entries get the Eckart-Young check at every k
DENSE_NORM_MAX = 300  # 2-norms of matrices with min(shape) above this use ARPACK (tol=0) instead of svdvals
SPACE_INPUT, SPACE_OUTPUT = "input", "output"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every choice of the operationalisation (all CLI arguments; defaults = the pipeline's)."""

    bandwidths: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    knn: int = 10
    subspace_dims: tuple[int, ...] = (3,)
    tolerance: float = 1.05
    n_eigs: int = 20
    eig_tol: float = 1e-9
    metric_bandwidth: float = 1.0
    trunc_max_ks: int = 24
    ey_max_ks: int = 16
    energy_thresholds: tuple[float, ...] = ENERGY_THRESHOLDS


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


# --------------------------------------------------------------------------------------------------
# 3. Truncated networks, test error, latent dimension


def to_torch_layer(M: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, b) as float32 tensors: the deployed precision."""
    W, b = split_affine(M)
    return (
        torch.from_numpy(np.ascontiguousarray(W, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)),
    )


def run_layers(
    layers: Sequence[tuple[torch.Tensor, torch.Tensor]], h: torch.Tensor, start: int = 0
) -> torch.Tensor:
    """Apply layers start.. of a Linear/ReLU/.../Linear stack (ReLU between layers, none after the last)."""
    with torch.no_grad():
        for i in range(start, len(layers)):
            h = torch.nn.functional.linear(h, *layers[i])
            if i < len(layers) - 1:
                h = torch.relu(h)
    return h


def layer_inputs(layers: Sequence[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> list[torch.Tensor]:
    """The tensor entering each layer (x, then the post-ReLU activations): cached so that truncating
    layer l only recomputes layers l.. ."""
    out = [x]
    with torch.no_grad():
        for i in range(len(layers) - 1):
            out.append(torch.relu(torch.nn.functional.linear(out[-1], *layers[i])))
    return out


def mean_abs_error(pred: torch.Tensor, Y: np.ndarray) -> float:
    """The paper family's metric: mean over samples and entries of |f(x) - y| (in float64)."""
    return float(np.mean(np.abs(pred.double().numpy() - Y)))


class TruncationEvaluator:
    """Test error of the network with one layer, or all layers, replaced by rank-k truncations (memoised:
    the grid and the bisection share evaluations)."""

    def __init__(self, svds: Sequence[LayerSVD], X: np.ndarray, Y: np.ndarray):
        self.svds = list(svds)
        self.layers = [to_torch_layer(s.M) for s in self.svds]
        self.Y = Y.reshape(len(Y), -1).astype(np.float64)
        x = torch.from_numpy(np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float32))
        self.inputs = layer_inputs(self.layers, x)
        self.full_mae = mean_abs_error(run_layers(self.layers, x), self.Y)
        # context: the error of predicting the mean target everywhere (a network no better than this has
        # learned no function of its input, and its "latent dimension" says nothing about one)
        self.baseline_mae = float(np.mean(np.abs(self.Y - self.Y.mean(axis=0))))
        self._memo: dict[tuple[int, int], float] = {}

    def one_layer(self, layer: int, k: int) -> float:
        key = (layer, int(k))
        if key not in self._memo:
            layers = list(self.layers)
            layers[layer] = to_torch_layer(truncate(self.svds[layer], k))
            self._memo[key] = mean_abs_error(run_layers(layers, self.inputs[layer], start=layer), self.Y)
        return self._memo[key]

    def all_layers(self, k: int) -> float:
        key = (-1, int(k))
        if key not in self._memo:
            cut = [i for i, s in enumerate(self.svds) if k < s.rank]
            if not cut:
                self._memo[key] = self.full_mae
            elif len(cut) == 1:  # the same network as one layer truncated (e.g. the wide middle layer)
                self._memo[key] = self.one_layer(cut[0], k)
            else:
                layers = [
                    to_torch_layer(truncate(s, k)) if i in cut else lay
                    for i, (lay, s) in enumerate(zip(self.layers, self.svds, strict=True))
                ]
                self._memo[key] = mean_abs_error(run_layers(layers, self.inputs[0]), self.Y)
        return self._memo[key]

    def evaluated(self, layer: int) -> list[int]:
        """Every k evaluated so far for `layer` (-1: all layers), ascending."""
        return sorted(k for (lay, k) in self._memo if lay == layer)


def latent_dimension(error_of: Callable[[int], float], ks: Sequence[int], threshold: float) -> int | None:
    """Smallest k with error_of(k) <= threshold: scan the grid `ks`, then bisect between the last failing
    and the first passing grid point (assumes the error is monotone inside that bracket; every evaluated k
    is recorded, so a non-monotone curve shows in the CSV). None if no k on the grid passes."""
    ks = sorted(ks)
    passing = [k for k in ks if error_of(k) <= threshold]
    if not passing:
        return None
    hi = passing[0]
    below = [k for k in ks if k < hi]
    if not below:
        return hi
    lo = below[-1]  # fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if error_of(mid) <= threshold:
            hi = mid
        else:
            lo = mid
    return hi


def truncation_table(ev: TruncationEvaluator, settings: Settings) -> tuple[pd.DataFrame, dict[int, int]]:
    """Error against k for each layer alone and for all layers at once; returns the rows and the latent
    dimension per layer (key -1: all layers)."""
    threshold = settings.tolerance * ev.full_mae
    rows, latent = [], {}
    targets: list[tuple[str, int, int, Callable[[int], float]]] = [
        ("one_layer", i, s.rank, (lambda k, i=i: ev.one_layer(i, k))) for i, s in enumerate(ev.svds)
    ]
    max_rank = max(s.rank for s in ev.svds)
    targets.append(("all_layers", -1, max_rank, ev.all_layers))
    for mode, layer, rank, fn in targets:
        grid = k_grid(rank, settings.trunc_max_ks)
        for k in grid:
            fn(k)
        n_lat = latent_dimension(fn, grid, threshold)
        latent[layer] = -1 if n_lat is None else n_lat
        energy = np.concatenate([[0.0], energy_fraction(ev.svds[layer].sigma)]) if layer >= 0 else None
        for k in ev.evaluated(layer):
            mae = fn(k)
            rows.append(
                {
                    "mode": mode,
                    "layer": layer,
                    "rank": rank,
                    "k": k,
                    "energy_kept": float(energy[k]) if energy is not None else float("nan"),
                    "test_mae": mae,
                    "full_test_mae": ev.full_mae,
                    "baseline_mae": ev.baseline_mae,
                    "ratio": mae / ev.full_mae if ev.full_mae > 0 else float("nan"),
                    "tolerance": settings.tolerance,
                    "within_tolerance": bool(mae <= threshold),
                    "latent_dim": latent[layer],
                    "is_latent_dim": bool(k == latent[layer]),
                    "on_grid": bool(k in grid),
                }
            )
    return pd.DataFrame(rows), latent


# --------------------------------------------------------------------------------------------------
# 4. Graph Laplacians, eigenmaps, principal angles


def representations(mats: Sequence[np.ndarray], X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Float64 forward pass: (spaces, pre-activations). spaces = [input, hidden_1 (post-ReLU), ...,
    output]; pre[l] = W_l h_l + b_l."""
    h = X.reshape(len(X), -1).astype(np.float64)
    spaces, pre = [h], []
    for i, M in enumerate(mats):
        z = augment(spaces[-1]) @ M.T
        pre.append(z)
        spaces.append(np.maximum(z, 0.0) if i < len(mats) - 1 else z)
    return spaces, pre


def space_names(n_layers: int) -> list[str]:
    return [SPACE_INPUT, *(f"hidden_{i}" for i in range(1, n_layers)), SPACE_OUTPUT]


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


# --------------------------------------------------------------------------------------------------
# 5. Metric maps


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
    ratio_of: Callable[[int], float],
    settings: Settings,
) -> list[dict]:
    """I_dist, O_dist (per k) and the whole layer's map L_out L_in^+ for one layer on the p points.

    `explained` says whether the rank-k truncation of this layer alone keeps the test error within the
    tolerance (the paper's eq. 4 case, where the metric maps should be trivial)."""
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
        ratio = ratio_of(k)
        keys = {**base, "k": k, "k_role": role, "test_mae_ratio": ratio,
                "explained": bool(ratio <= settings.tolerance)}  # fmt: skip
        rows.append({"map": "I_dist", **keys, **map_distances(L_lat, L_in, pinv)})
        rows.append({"map": "O_dist", **keys, **map_distances(L_out, L_lat, pinv)})
    keys = {**base, "k": svd.rank, "k_role": "full_map", "test_mae_ratio": 1.0, "explained": True}
    rows.append({"map": "layer", **keys, **map_distances(L_out, L_in, pinv)})
    return rows


# --------------------------------------------------------------------------------------------------
# One model


def with_keys(df: pd.DataFrame, **keys) -> pd.DataFrame:
    """`df` with constant key columns in front (tidy tables read left to right: keys, then values)."""
    front = pd.DataFrame({k: [v] * len(df) for k, v in keys.items()}, index=df.index)
    return pd.concat([front, df.drop(columns=[k for k in keys if k in df.columns])], axis=1)


def analyse_model(
    mats: Sequence[np.ndarray],
    X_eval: np.ndarray,
    Y_eval: np.ndarray,
    X_points: np.ndarray,
    settings: Settings,
) -> dict[str, pd.DataFrame]:
    """Every table of the stage for one network given as its [W | b] matrices.

    X_eval, Y_eval: the test matrices on which truncated networks are scored; X_points: the p matrices
    whose point clouds feed the Laplacians and metric maps. Returns DataFrames keyed svd, eckart_young,
    truncation, laplacian, angles, metric (each row tagged with its layer or space; the caller adds the
    model keys).
    """
    svds = [layer_svd(M) for M in mats]
    names = ("svd", "eckart_young", "laplacian", "angles", "metric")
    out: dict[str, list[pd.DataFrame]] = {k: [] for k in names}
    for i, s in enumerate(svds):
        shape = {"layer": i, "rows": s.M.shape[0], "cols": s.M.shape[1]}
        out["svd"].append(with_keys(svd_table(s.sigma, s.M.shape, settings.energy_thresholds), layer=i))
        out["eckart_young"].append(with_keys(eckart_young_table(s, ey_ks(s, settings.ey_max_ks)), **shape))
    ev = TruncationEvaluator(svds, X_eval, Y_eval)
    trunc, latent = truncation_table(ev, settings)

    spaces, pre = representations(mats, X_points)
    for idx, (name, H) in enumerate(zip(space_names(len(mats)), spaces, strict=True)):
        graphs, med = build_graphs(H, settings)
        ref = cloud_subspaces(H, settings.subspace_dims)
        keys = {"space": name, "layer": idx, "median_distance": med}
        out["laplacian"].append(
            pd.DataFrame([{**keys, **r} for g in graphs for r in spectrum_rows(g, settings)])
        )
        out["angles"].append(pd.DataFrame([{**keys, **r} for g in graphs for r in angle_rows(g, ref)]))
    for i, s in enumerate(svds):

        def ratio_of(k: int, i: int = i) -> float:
            return ev.one_layer(i, k) / ev.full_mae if ev.full_mae > 0 else float("nan")

        rows = metric_rows(s, spaces[i], pre[i], latent[i], ratio_of, settings)
        out["metric"].append(with_keys(pd.DataFrame(rows), layer=i))
    result = {k: pd.concat(v, ignore_index=True) for k, v in out.items()}
    result["truncation"] = trunc
    return result


def summary_table(tables: dict[str, pd.DataFrame], n_sq: int) -> pd.DataFrame:
    """Per layer (layer -1: all layers): shape, ranks, latent dimension n' against n^2, and the memory of the
    rank-n' factorisation U_k S_k V_k^T (k (rows + cols + 1) numbers) against rows x cols."""
    svd = tables["svd"].drop_duplicates("layer").set_index("layer")
    tr = tables["truncation"]
    lat = tr[tr["is_latent_dim"]].set_index("layer")
    rows = []
    for layer in sorted(set(tr["layer"])):
        r = {"layer": layer, "n_sq": n_sq}
        n_lat = int(tr.loc[tr["layer"] == layer, "latent_dim"].iloc[0])
        r["latent_dim"] = n_lat
        r["ratio_at_latent_dim"] = float(lat.loc[layer, "ratio"]) if layer in lat.index else np.nan
        r["full_test_mae"] = float(tr["full_test_mae"].iloc[0])
        r["baseline_mae"] = float(tr["baseline_mae"].iloc[0])
        if layer >= 0:
            info = svd.loc[layer]
            rows_, cols_ = int(info["rows"]), int(info["cols"])
            r.update({"rows": rows_, "cols": cols_, "numerical_rank": int(info["numerical_rank"]),
                      "stable_rank": float(info["stable_rank"])})  # fmt: skip
            r.update({c: int(info[c]) for c in svd.columns if c.startswith("eff_rank_p")})
            r["full_params"] = rows_ * cols_
            r["lowrank_params"] = n_lat * (rows_ + cols_ + 1) if n_lat >= 0 else -1
        rows.append(r)
    return pd.DataFrame(rows)
