"""Ji, Wu & Xi (arXiv 2506.00642), Sec. 3-4: the singular set, its eps-neighbourhood, and why a network fails.

Distance to the singular set. By Eckart-Young-Mirsky the nearest singular matrix to A (in the 2-norm
and in the Frobenius norm alike) is A - s_n u_n v_n^T, at distance s_n = sigma_min(A). So the paper's
D_eps (eq. 5, the union of the open eps-balls around all singular matrices) is {A : sigma_min(A) < eps}
in either norm, and a closed Frobenius ball B(A0, r) meets the singular set iff r >= sigma_min(A0):
sigma_min is 1-Lipschitz in both norms and falls at exactly rate 1 along -u_n v_n^T, so

    min over B(A0, r) of sigma_min = max(sigma_min(A0) - r, 0),

which makes the ball certificate exact: B(A0, r) avoids the singular set iff sigma_min(A0) > r, and
avoids D_eps iff sigma_min(A0) - r >= eps. A 2D slice of matrix space (two entries fixed) meets D_eps
in a region that contains the in-slice eps-tube around the singular curve and is generally wider,
because the nearest singular matrix usually lies off the slice; both are recorded.

Why-can't (Theorems 3.7-3.9). ||A^-1||_2 = 1/sigma_min(A) is unbounded near a singular matrix while a
Lipschitz network f is bounded on bounded sets, so ||f(A) - A^-1||_2 >= 1/sigma_min(A) - ||f(A)||_2
and the error must grow like sigma_min^-1 as sigma_min -> 0. The functions below sample the
neighbourhood of a singular matrix, bin errors by sigma_min and fit the log-log growth rate.

Everything here is pure (arrays in, arrays/DataFrames out); the scripts do the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats
from scipy.spatial import cKDTree

ENTRIES = ("a", "b", "c", "d")  # A = [[a, b], [c, d]], row-major
_INDEX = {"a": (0, 0), "b": (0, 1), "c": (1, 0), "d": (1, 1)}


@dataclass(frozen=True)
class GeometrySettings:
    """Figs. 1-2 (config ji.geometry): eps of D_eps, grid points per axis of each 2D slice, mesh points
    per axis of the 3D surface, and each training ball's radius as a fraction of sigma_min(centre) - eps."""

    eps: float
    grid: int
    mesh: int
    ball_fraction: float


@dataclass(frozen=True)
class WhycantSettings:
    """Theorems 3.7-3.9 (config ji.whycant and the master seed): the singular centre S (n*n entries,
    row-major), the Frobenius radii of its neighbourhoods and the samples per radius."""

    seed: int
    singular: Sequence[float]
    radii: Sequence[float]
    per_radius: int


# ---------------------------------------------------------------------------------------------------
# distance to the singular set


def sigma_min(A: np.ndarray) -> np.ndarray:
    """Smallest singular value of each matrix of a (..., n, n) stack (numpy SVD, float64)."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"expected a (..., n, n) stack of square matrices, got shape {A.shape}")
    return np.linalg.svd(A, compute_uv=False)[..., -1]


def distance_to_singular(A: np.ndarray) -> np.ndarray:
    """2-norm (= Frobenius) distance of each matrix to the set of singular matrices: sigma_min."""
    return sigma_min(A)


def nearest_singular(A: np.ndarray) -> np.ndarray:
    """The nearest singular matrix (Eckart-Young-Mirsky): A with its smallest singular value set to 0."""
    U, s, Vt = np.linalg.svd(np.asarray(A, dtype=np.float64))
    s = s.copy()
    s[..., -1] = 0.0
    return (U * s[..., None, :]) @ Vt


@dataclass(frozen=True)
class BallCertificate:
    """Whether the closed Frobenius ball B(centre, radius) avoids the singular set and D_eps (exact)."""

    sigma_min_centre: float
    radius: float
    eps: float

    @property
    def certified_distance(self) -> float:
        """sigma_min(A0) - r: the smallest distance from a point of the ball to the singular set (if > 0)."""
        return self.sigma_min_centre - self.radius

    @property
    def avoids_singular(self) -> bool:
        return self.sigma_min_centre > self.radius

    @property
    def avoids_band(self) -> bool:
        """The ball does not meet D_eps = {sigma_min < eps}."""
        return self.certified_distance >= self.eps


def ball_certificate(centre: np.ndarray, radius: float, eps: float) -> BallCertificate:
    if radius < 0 or eps < 0:
        raise ValueError(f"radius and eps must be non-negative, got radius={radius}, eps={eps}")
    return BallCertificate(float(sigma_min(np.asarray(centre))), float(radius), float(eps))


# ---------------------------------------------------------------------------------------------------
# Figs. 1-2: 2x2 slices and the 3D surface


@dataclass(frozen=True)
class SliceSpec:
    """A plane of 2x2 matrices: two entries fixed, two free (x, y) over a square window."""

    slice_id: str
    fixed: Mapping[str, float]
    free: tuple[str, str]
    lim: tuple[float, float]
    ball_centre: tuple[float, float]  # training-ball centre in the free coordinates (x, y)

    def __post_init__(self):
        if sorted([*self.fixed, *self.free]) != sorted(ENTRIES):
            raise ValueError(
                f"slice {self.slice_id}: fixed {dict(self.fixed)} + free {self.free} != a, b, c, d"
            )

    @property
    def fixed_label(self) -> str:
        return " ".join(f"{k}={v:g}" for k, v in sorted(self.fixed.items()))

    def matrices(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Stack of 2x2 matrices with the free entries (x, y) (broadcast) and the fixed ones."""
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        A = np.empty(x.shape + (2, 2))
        for name, value in self.fixed.items():
            A[(..., *_INDEX[name])] = value
        A[(..., *_INDEX[self.free[0]])] = x
        A[(..., *_INDEX[self.free[1]])] = y
        return A

    def det_coefficients(self) -> tuple[float, float, float, float]:
        """det = alpha x y + beta x + gamma y + delta on the slice (det = a d - b c is bilinear)."""
        coef = {}
        for p, q in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)):
            coef[(p, q)] = float(np.linalg.det(self.matrices(p, q)))
        delta = coef[(0.0, 0.0)]
        beta = coef[(1.0, 0.0)] - delta
        gamma = coef[(0.0, 1.0)] - delta
        alpha = coef[(1.0, 1.0)] - beta - gamma - delta
        return alpha, beta, gamma, delta


# Our choice (the paper's Example 1-3 formulas are lost in the text copy, PAPERS.md). Example 1 "fixed
# two entries: D_eps is a band around a line": c = d = 1 gives det = a - b, the line a = b in the (a, b)
# plane (a diagonal line, so the band's varying width shows). Example 2 "fixed two entries: a band
# around a hyperbola": b = c = 1 gives det = a d - 1, the hyperbola a d = 1 in the (a, d) plane.
# Ball centres, away from the curve: (1, -1) on slice 1 is [[1, -1], [1, 1]] = sqrt(2) x a rotation
# (cond = 1, sigma_min = sqrt(2)); (2, 2) on slice 2 is the SPD matrix [[2, 1], [1, 2]] (sigma_min = 1),
# like the paper's "first" dataset centred at an SPD matrix.
FIG1_SLICES: tuple[SliceSpec, ...] = (
    SliceSpec("line", {"c": 1.0, "d": 1.0}, ("a", "b"), (-2.5, 2.5), (1.0, -1.0)),
    SliceSpec("hyperbola", {"b": 1.0, "c": 1.0}, ("a", "d"), (-3.0, 3.0), (2.0, 2.0)),
)
# Example 3 "fixed one entry": d = 1, surface a = b c over (b, c); the training-ball centre (our choice)
# is [[2, -1], [1, 1]] (a, b, c, d), sigma_min ~ 1.30, three units above the saddle a = b c.
FIG2_FIXED_D = 1.0
FIG2_LIM_BC = (-2.0, 2.0)
FIG2_LIM_A = (-3.0, 3.0)
FIG2_BALL_CENTRE = (2.0, -1.0, 1.0)  # (a, b, c)


def _curve_by_x(alpha, beta, gamma, delta, xs, ylim):
    """Points (x, y) of alpha x y + beta x + gamma y + delta = 0 solved for y; NaN outside ylim."""
    den = alpha * xs + gamma
    num = -(beta * xs + delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        ys = np.where(np.abs(den) > 1e-14, num / den, np.nan)
    ys[(ys < ylim[0]) | (ys > ylim[1])] = np.nan
    return ys


def singular_curve(spec: SliceSpec, n: int = 4001, pad: float = 1.0) -> pd.DataFrame:
    """The singular set det = 0 on the slice, as polyline segments (x, y, branch).

    Solved for y over a dense x grid and for x over a dense y grid (so vertical lines, steep
    hyperbola arms and degenerate cross-shaped sets all appear); each run of consecutive points inside
    the window widened by `pad` is one branch. Segments of the two solutions may overlap.
    """
    alpha, beta, gamma, delta = spec.det_coefficients()
    lo, hi = spec.lim[0] - pad, spec.lim[1] + pad
    grid = np.linspace(lo, hi, n)
    pieces = []
    branch = 0
    for swap in (False, True):
        # solving for x swaps the roles of beta and gamma
        other = (
            _curve_by_x(alpha, gamma, beta, delta, grid, (lo, hi))
            if swap
            else _curve_by_x(alpha, beta, gamma, delta, grid, (lo, hi))
        )
        ok = np.isfinite(other)
        # a sign change of the denominator (pole) also splits a branch
        den = alpha * grid + (beta if swap else gamma)
        breaks = np.flatnonzero(np.diff(ok.astype(int)) != 0) + 1
        breaks = np.union1d(breaks, np.flatnonzero(np.sign(den[1:]) != np.sign(den[:-1])) + 1)
        for seg in np.split(np.arange(n), breaks):
            seg = seg[ok[seg]]
            if len(seg) < 2:
                continue
            x, y = (other[seg], grid[seg]) if swap else (grid[seg], other[seg])
            pieces.append(pd.DataFrame({"branch": branch, "x": x, "y": y}))
            branch += 1
    if not pieces:
        return pd.DataFrame({"branch": pd.Series(dtype=int), "x": [], "y": []})
    return pd.concat(pieces, ignore_index=True)


def slice_table(spec: SliceSpec, eps: float, grid: int, ball_fraction: float) -> pd.DataFrame:
    """Tidy rows of one Fig. 1 panel: kind = grid | singular_curve | ball.

    grid: x, y, sigma_min (distance of the matrix to the singular set), det (|det| is its abs), in_band
    (sigma_min < eps) and dist_in_slice (Euclidean distance within the slice to the singular curve).
    singular_curve: x, y, branch. ball: the training disc (centre x, y; radius = ball_fraction times
    (sigma_min(centre) - eps), so ball_fraction < 1 certifies it clear of D_eps) with its certificate
    and the smallest sigma_min over the grid points inside it (an empirical check of the bound).
    """
    if grid < 2:
        raise ValueError(f"grid must be >= 2, got {grid}")
    xs = np.linspace(spec.lim[0], spec.lim[1], grid)
    X, Y = np.meshgrid(xs, xs, indexing="xy")
    A = spec.matrices(X.ravel(), Y.ravel())
    s = sigma_min(A)
    det = np.linalg.det(A)
    curve = singular_curve(spec)
    if len(curve):
        dist, _ = cKDTree(curve[["x", "y"]].to_numpy()).query(np.column_stack([X.ravel(), Y.ravel()]))
    else:
        dist = np.full(X.size, np.inf)
    key = {
        "slice_id": spec.slice_id,
        "fixed": spec.fixed_label,
        "x_entry": spec.free[0],
        "y_entry": spec.free[1],
        "eps": eps,
    }
    grid_df = pd.DataFrame(
        {
            **key,
            "kind": "grid",
            "x": X.ravel(),
            "y": Y.ravel(),
            "sigma_min": s,
            "det": det,
            "in_band": s < eps,
            "dist_in_slice": dist,
        }
    )
    curve_df = pd.DataFrame(
        {**key, "kind": "singular_curve", "x": curve["x"], "y": curve["y"], "branch": curve["branch"]}
    )
    centre = spec.matrices(*spec.ball_centre)
    s0 = float(sigma_min(centre))
    radius = ball_fraction * (s0 - eps)
    inside = (X.ravel() - spec.ball_centre[0]) ** 2 + (Y.ravel() - spec.ball_centre[1]) ** 2 <= radius**2
    ball_df = pd.DataFrame(
        [
            {
                **key,
                "kind": "ball",
                "x": spec.ball_centre[0],
                "y": spec.ball_centre[1],
                "sigma_min": s0,
                "det": float(np.linalg.det(centre)),
                **_ball_columns(s0, radius, eps, ball_fraction, s[inside]),
            }
        ]
    )
    return pd.concat([grid_df, curve_df, ball_df], ignore_index=True)


def _ball_columns(s0: float, radius: float, eps: float, fraction: float, s_inside: np.ndarray) -> dict:
    row = {"radius": radius, "ball_fraction": fraction}
    if radius <= 0:  # the centre itself is in (or on the edge of) D_eps: no ball, a flagged row
        return {
            **row,
            "certified_distance": np.nan,
            "avoids_singular": False,
            "avoids_band": False,
            "grid_min_sigma_in_ball": np.nan,
            "status": "flagged",
            "reason": f"sigma_min(centre) = {s0:.6g} <= eps = {eps:g}: no ball clear of D_eps",
        }
    cert = BallCertificate(s0, radius, eps)
    return {
        **row,
        "certified_distance": cert.certified_distance,
        "avoids_singular": cert.avoids_singular,
        "avoids_band": cert.avoids_band,
        "grid_min_sigma_in_ball": float(s_inside.min()) if s_inside.size else np.nan,
        "status": "ok",
        "reason": "",
    }


def surface_table(
    eps: float,
    grid: int,
    ball_fraction: float,
    d: float = FIG2_FIXED_D,
    lim_bc: tuple[float, float] = FIG2_LIM_BC,
    lim_a: tuple[float, float] = FIG2_LIM_A,
    ball_centre: tuple[float, float, float] = FIG2_BALL_CENTRE,
) -> pd.DataFrame:
    """Fig. 2: the surface a d - b c = 0 at fixed d (a = b c / d) as a mesh over (b, c), and a ball.

    kind = surface: mesh indices i (b) and j (c), a, b, c, d, sigma_min, det, in_window (a inside
    lim_a; points outside are kept and flagged so the mesh stays rectangular). kind = ball: the
    training ball in (a, b, c) (a Frobenius ball in matrix space intersected with the d slice, which is
    a ball of the same radius in (a, b, c)) with its certificate and the smallest sigma_min over a
    sample of its boundary sphere.
    """
    if d == 0:
        raise ValueError("fixed d must be non-zero for the parametrisation a = b c / d")
    bc = np.linspace(lim_bc[0], lim_bc[1], grid)
    B, C = np.meshgrid(bc, bc, indexing="ij")
    Aa = B * C / d
    M = np.stack([np.stack([Aa, B], -1), np.stack([C, np.full_like(B, d)], -1)], -2)
    ii, jj = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
    key = {"fixed": f"d={d:g}", "eps": eps}
    surf = pd.DataFrame(
        {
            **key,
            "kind": "surface",
            "i": ii.ravel(),
            "j": jj.ravel(),
            "a": Aa.ravel(),
            "b": B.ravel(),
            "c": C.ravel(),
            "d": d,
            "sigma_min": sigma_min(M).ravel(),
            "det": np.linalg.det(M).ravel(),
            "in_window": ((Aa >= lim_a[0]) & (Aa <= lim_a[1])).ravel(),
        }
    )
    a0, b0, c0 = ball_centre
    centre = np.array([[a0, b0], [c0, d]])
    s0 = float(sigma_min(centre))
    radius = ball_fraction * (s0 - eps)
    # a sampled check of the certificate: sigma_min over 2000 points of the ball's boundary sphere
    u = _fibonacci_sphere(2000)
    pts = np.array(ball_centre) + max(radius, 0.0) * u
    Ms = np.stack([np.stack([pts[:, 0], pts[:, 1]], -1), np.stack([pts[:, 2], np.full(len(pts), d)], -1)], -2)
    ball = pd.DataFrame(
        [
            {
                **key,
                "kind": "ball",
                "a": a0,
                "b": b0,
                "c": c0,
                "d": d,
                "sigma_min": s0,
                "det": float(np.linalg.det(centre)),
                **_ball_columns(s0, radius, eps, ball_fraction, sigma_min(Ms)),
            }
        ]
    )
    ball = ball.rename(columns={"grid_min_sigma_in_ball": "sphere_min_sigma"})
    return pd.concat([surf, ball], ignore_index=True)


def _fibonacci_sphere(n: int) -> np.ndarray:
    """n nearly uniform unit vectors in R^3 (deterministic)."""
    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = np.pi * (3 - np.sqrt(5)) * k
    r = np.sqrt(1 - z**2)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


# ---------------------------------------------------------------------------------------------------
# why-can't: sampling near a singular matrix, errors, growth fit


def sample_near(
    S: np.ndarray, radii: Sequence[float], per_radius: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Matrices S + E with E uniform in the Frobenius ball of each radius (per_radius draws each).

    Direction uniform on the unit sphere of R^(n x n), norm r U^(1/n^2) (uniform in volume). Returns
    (A of shape (len(radii) * per_radius, n, n), radius label per matrix), in the order of `radii`.
    """
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"S must be a square matrix, got shape {S.shape}")
    radii = np.asarray(radii, dtype=np.float64)
    if radii.ndim != 1 or np.any(~np.isfinite(radii)) or np.any(radii <= 0):
        raise ValueError(f"radii must be positive and finite, got {radii}")
    if per_radius < 1:
        raise ValueError(f"per_radius must be >= 1, got {per_radius}")
    n = S.shape[0]
    dim = n * n
    labels = np.repeat(radii, per_radius)
    direction = rng.standard_normal((labels.size, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    norm = labels * rng.uniform(0.0, 1.0, labels.size) ** (1.0 / dim)
    E = (direction * norm[:, None]).reshape(-1, n, n)
    return S + E, labels


def true_inverse(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 inverses by solve with the identity; (inverses, ok). Exactly singular -> NaN, ok False."""
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[-1]
    eye = np.eye(n)
    try:
        inv = np.linalg.solve(A, np.broadcast_to(eye, A.shape))
        ok = np.isfinite(inv).all(axis=(-2, -1))
    except np.linalg.LinAlgError:
        inv = np.full(A.shape, np.nan)
        ok = np.zeros(A.shape[:-2], dtype=bool)
        for k in np.ndindex(A.shape[:-2]):
            try:
                inv[k] = np.linalg.solve(A[k], eye)
                ok[k] = bool(np.isfinite(inv[k]).all())
            except np.linalg.LinAlgError:
                pass
    inv = np.where(ok[..., None, None], inv, np.nan)
    return inv, ok


def error_table(A: np.ndarray, pred: np.ndarray, inv: np.ndarray | None = None) -> pd.DataFrame:
    """Per matrix: sigma_min, ||A^-1||_2, the network's errors, and the Lipschitz lower bound.

    abs_err_mean = mean over entries of |f(A) - A^-1| (the paper's metric), err_norm2 = ||f(A) - A^-1||_2,
    out_norm2 = ||f(A)||_2, lower_bound_norm2 = max(||A^-1||_2 - ||f(A)||_2, 0) <= err_norm2 (triangle
    inequality). `inv` (e.g. the dataset's stored inverses) is used where given and finite; elsewhere
    the inverse is solved here. Rows without a finite inverse or prediction are flagged, not dropped.
    """
    A = np.asarray(A, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    if inv is None:
        inv, ok = true_inverse(A)
    else:
        inv = np.asarray(inv, dtype=np.float64)
        ok = np.isfinite(inv).all(axis=(-2, -1))
    s = sigma_min(A)
    pred_ok = np.isfinite(pred).all(axis=(-2, -1))
    err = pred - inv
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_norm = np.where(s > 0, 1.0 / s, np.inf)
    out_norm = np.linalg.norm(np.where(pred_ok[:, None, None], pred, 0.0), ord=2, axis=(-2, -1))
    good = ok & pred_ok
    err_safe = np.where(good[:, None, None], err, 0.0)
    reason = np.where(
        ~ok, "no finite inverse (singular in float64)", np.where(~pred_ok, "non-finite output", "")
    )
    return pd.DataFrame(
        {
            "sigma_min": s,
            "inv_norm2": inv_norm,
            "abs_err_mean": np.where(good, np.abs(err_safe).mean(axis=(-2, -1)), np.nan),
            "abs_err_max": np.where(good, np.abs(err_safe).max(axis=(-2, -1)), np.nan),
            "err_norm2": np.where(good, np.linalg.norm(err_safe, ord=2, axis=(-2, -1)), np.nan),
            "out_norm2": np.where(pred_ok, out_norm, np.nan),
            "lower_bound_norm2": lipschitz_bound_gap(s, np.where(pred_ok, out_norm, np.nan)),
            "status": np.where(good, "ok", "flagged"),
            "reason": reason,
        }
    )


def lipschitz_bound_gap(sigma: np.ndarray, out_norm: np.ndarray) -> np.ndarray:
    """max(1/sigma_min - ||f(A)||_2, 0): a lower bound on ||f(A) - A^-1||_2 (reverse triangle inequality).

    A network bounded by K on a set has error >= 1/sigma_min - K there, which grows without bound as
    sigma_min -> 0 (the mechanism of Theorems 3.7-3.9).
    """
    sigma = np.asarray(sigma, dtype=np.float64)
    with np.errstate(divide="ignore"):
        inv_norm = np.where(sigma > 0, 1.0 / sigma, np.inf)
    return np.maximum(inv_norm - np.asarray(out_norm, dtype=np.float64), 0.0)


def binned_error(sigma: np.ndarray, err: np.ndarray, bins: int | np.ndarray = 20) -> pd.DataFrame:
    """Error statistics (count, mean, median, q90) per log-spaced sigma_min bin.

    `bins` is a bin count (log-spaced between the smallest and largest valid sigma) or the edges.
    Bins are [lo, hi) except the last, which is closed; empty bins are kept (count 0, NaN stats).
    Pairs with sigma <= 0, a non-finite sigma or err, or sigma outside given edges go to one last row
    (status "excluded", with the reason), so the counts always sum to len(sigma).
    """
    sigma = np.asarray(sigma, dtype=np.float64).ravel()
    err = np.asarray(err, dtype=np.float64).ravel()
    if sigma.shape != err.shape:
        raise ValueError(f"sigma and err differ in shape: {sigma.shape} vs {err.shape}")
    valid = np.isfinite(sigma) & np.isfinite(err) & (sigma > 0)
    if np.ndim(bins) == 0:
        nbins = int(bins)
        if nbins < 1:
            raise ValueError(f"bins must be >= 1, got {bins}")
        if valid.any():
            lo, hi = sigma[valid].min(), sigma[valid].max()
            hi = hi if hi > lo else lo * (1 + 1e-9)
            edges = np.logspace(np.log10(lo), np.log10(hi), nbins + 1)
            edges[0], edges[-1] = lo, hi  # exact ends, so no valid point falls outside by rounding
        else:
            edges = np.full(nbins + 1, np.nan)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] <= 0:
            raise ValueError("bin edges must be positive and strictly increasing")
    nb = edges.size - 1
    idx = np.full(sigma.shape, -1)
    if valid.any() and np.all(np.isfinite(edges)):
        k = np.searchsorted(edges, sigma, side="right") - 1
        k[sigma == edges[-1]] = nb - 1
        inside = valid & (k >= 0) & (k < nb)
        idx[inside] = k[inside]
    rows = []
    for b in range(nb):
        e = err[idx == b]
        rows.append(
            {
                "bin": b,
                "sigma_lo": edges[b],
                "sigma_hi": edges[b + 1],
                "sigma_centre": float(np.sqrt(edges[b] * edges[b + 1])) if np.isfinite(edges[b]) else np.nan,
                "count": int(e.size),
                "err_mean": float(e.mean()) if e.size else np.nan,
                "err_median": float(np.median(e)) if e.size else np.nan,
                "err_q90": float(np.quantile(e, 0.9)) if e.size else np.nan,
                "status": "ok",
                "reason": "",
            }
        )
    excluded = int((idx < 0).sum())
    rows.append(
        {
            "bin": -1,
            "sigma_lo": np.nan,
            "sigma_hi": np.nan,
            "sigma_centre": np.nan,
            "count": excluded,
            "err_mean": np.nan,
            "err_median": np.nan,
            "err_q90": np.nan,
            "status": "excluded",
            "reason": "sigma_min <= 0, non-finite value, or outside the bin edges",
        }
    )
    return pd.DataFrame(rows)


def fit_growth(sigma: np.ndarray, err: np.ndarray) -> dict:
    """Least-squares slope of log10(err) on log10(sigma_min) (scipy.stats.linregress).

    Theorems 3.7-3.9 predict growth without bound as sigma_min -> 0; with ||A^-1||_2 = 1/sigma_min and a
    bounded network, the slope near the singular set is about -1. Returns slope, slope_stderr,
    intercept_log10, r_value, n (valid pairs: both positive and finite), status and reason.
    """
    sigma = np.asarray(sigma, dtype=np.float64).ravel()
    err = np.asarray(err, dtype=np.float64).ravel()
    ok = np.isfinite(sigma) & np.isfinite(err) & (sigma > 0) & (err > 0)
    n = int(ok.sum())
    out = {
        "slope": np.nan,
        "slope_stderr": np.nan,
        "intercept_log10": np.nan,
        "r_value": np.nan,
        "n": n,
        "n_excluded": int(sigma.size - n),
        "status": "flagged",
        "reason": "",
    }
    x, y = np.log10(sigma[ok]), np.log10(err[ok])
    if n < 3:
        out["reason"] = f"only {n} valid (positive, finite) points"
        return out
    if np.ptp(x) == 0:
        out["reason"] = "sigma_min is constant: no slope"
        return out
    res = scipy.stats.linregress(x, y)
    out.update(
        slope=float(res.slope),
        slope_stderr=float(res.stderr),
        intercept_log10=float(res.intercept),
        r_value=float(res.rvalue),
        status="ok",
    )
    return out
