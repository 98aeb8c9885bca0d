"""Ji, Wu & Xi (arXiv 2506.00642), Sec. 4, 5.3 and Appendix E: the linear approximation of the inverse,
and what a small 2-layer ReLU network learns compared with it.

Linear approximation around the centre A0 (eq. 12), with B = A0^-1 and Delta = A - A0:

    first order   (A0 + Delta)^-1 ~ B - B Delta B                     error O(||Delta||^2)
    second order  (A0 + Delta)^-1 ~ B - B Delta B + B Delta B Delta B   error O(||Delta||^3)

As an affine map of x = vec_row(A) (row-major, the network's input layout): B - B (A - A0) B = 2B - B A B
and vec_row(B A B) = kron(B, B^T) vec_row(A), so L(x) = M_lin x + c_lin with M_lin = -kron(B, B^T),
c_lin = 2 vec_row(B).

A 2-layer ReLU network f(x) = W2 relu(W1 x + b1) + b2 is affine on each activation region (the set of x
with a fixed on/off pattern of the hidden units): f(x) = C x + c with C = W2 D W1, c = W2 D b1 + b2,
D = diag(pattern). Appendix E.2.2 bounds the gap g = f - L on each region intersected with the data box
by linear programs (g is affine there, so max |g_k| = max(max g_k, -min g_k)).

Conventions: every analysis runs in float64 (the weights are cast); a pattern is a bool vector over the
hidden units, written as a string of 0/1 with character j = unit j; a unit with pre-activation exactly 0
counts as inactive (relu(0) = 0, so both patterns give the same output there). Patterns computed in
float64 may differ from the float32 network's for points within ~1e-7 of a region boundary, where the two
affine maps agree to that order anyway (a ReLU network is continuous).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import optimize, stats

# Check tolerances (absolute, float64, on entries of the inverse, which are O(1) on our datasets).
EVAL_TOL = 1e-9  # LP optimum vs the network evaluated at the maximiser
BOUND_TOL = 1e-9  # slack allowed when comparing sampled |g_k| with the LP maximum
# HiGHS tolerances: tighter than the defaults (1e-7) so the maximiser lies on the region to ~1e-10.
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass(frozen=True)
class Table2Settings:
    """Table 2 on one test set: the dataset's name (the CSVs' dataset column)."""

    dataset: str


@dataclass(frozen=True)
class RegionsSettings:
    """App. E.2 (config ji.linapprox.regions and the master seed): the dataset whose small models are
    analysed (the CSVs' dataset column and a seed key), the points sampled in its box, and the smallest
    share of the samples for which a region's coefficients are tabulated (the top two always are)."""

    dataset: str
    seed: int
    samples: int
    coef_min_fraction: float


# ---------------------------------------------------------------------------------------------------------
# Linear approximation


def _inverse(A0: np.ndarray) -> np.ndarray:
    A0 = np.asarray(A0, dtype=np.float64)
    return np.linalg.solve(A0, np.eye(A0.shape[0]))


def first_order(A0: np.ndarray, A: np.ndarray) -> np.ndarray:
    """First-order approximation B - B (A - A0) B of the inverses of a (M, n, n) stack (float64)."""
    B = _inverse(A0)
    D = np.asarray(A, dtype=np.float64) - A0
    return B - B @ D @ B


def second_order(A0: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Second-order approximation B - B D B + B D B D B, D = A - A0, of a (M, n, n) stack (float64)."""
    B = _inverse(A0)
    BD = B @ (np.asarray(A, dtype=np.float64) - A0)
    return B - BD @ B + BD @ BD @ B


def linear_affine(A0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M_lin, c_lin) with first_order(A0, A) = reshape(M_lin vec_row(A) + c_lin): M_lin = -kron(B, B^T)."""
    B = _inverse(A0)
    return -np.kron(B, B.T), 2.0 * B.reshape(-1)


def eq11_network(A0: np.ndarray, dtype: torch.dtype = torch.float64) -> torch.nn.Sequential:
    """Sec. 4, eq. (11): a 2-layer ReLU network with 2 n^2 hidden units that realises the first-order
    linear approximation on every input (not only on the box): with delta = x - vec_row(A0),
    delta = relu(delta) - relu(-delta), so W1 = [I; -I], b1 = [-x0; x0], W2 = [M_lin, -M_lin],
    b2 = M_lin x0 + c_lin (M_lin, c_lin of linear_affine). The formula of eq. 11 is lost in the text
    copy; its stated size (2 n^2 hidden units for n^2 inputs) and purpose survive, and this is the
    construction that meets both."""
    M, c = linear_affine(A0)
    d = M.shape[0]
    x0 = np.asarray(A0, dtype=np.float64).reshape(-1)
    eye = np.eye(d)
    net = torch.nn.Sequential(torch.nn.Linear(d, 2 * d), torch.nn.ReLU(), torch.nn.Linear(2 * d, d)).to(dtype)
    with torch.no_grad():
        for param, value in (
            (net[0].weight, np.vstack([eye, -eye])),
            (net[0].bias, np.concatenate([-x0, x0])),
            (net[2].weight, np.hstack([M, -M])),
            (net[2].bias, M @ x0 + c),
        ):
            param.copy_(torch.from_numpy(value))
    return net


def predict_float64(model: torch.nn.Module, A: np.ndarray) -> np.ndarray:
    """A float64 network on a (M, n, n) stack (row-major input), output (M, n, n)."""
    m, n = A.shape[0], A.shape[-1]
    with torch.no_grad():
        y = model(torch.from_numpy(np.ascontiguousarray(A.reshape(m, n * n), dtype=np.float64)))
    return y.numpy().reshape(m, n, n)


def average_abs_error(pred: np.ndarray, Y: np.ndarray) -> float:
    """The paper's metric: mean over matrices and entries of |pred - Y|."""
    return float(np.mean(np.abs(np.asarray(pred, dtype=np.float64) - Y)))


def max_abs_error(pred: np.ndarray, Y: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(pred, dtype=np.float64) - Y)))


def scaling_exponent(radii, errors) -> dict:
    """Log-log least-squares slope of errors against radii (scipy.stats.linregress).

    Returns slope, slope_stderr, intercept_log10, r_value, n (positive finite pairs used). Expected slopes:
    2 for the first-order approximation, 3 for the second order.
    """
    r = np.asarray(radii, dtype=np.float64).ravel()
    e = np.asarray(errors, dtype=np.float64).ravel()
    ok = np.isfinite(r) & np.isfinite(e) & (r > 0) & (e > 0)
    out = {"slope": np.nan, "slope_stderr": np.nan, "intercept_log10": np.nan, "r_value": np.nan}
    out["n"] = int(ok.sum())
    if out["n"] < 2 or np.ptp(r[ok]) == 0:
        return out
    fit = stats.linregress(np.log10(r[ok]), np.log10(e[ok]))
    out.update(slope=float(fit.slope), slope_stderr=float(fit.stderr), intercept_log10=float(fit.intercept))
    out["r_value"] = float(fit.rvalue)
    return out


def radius_sweep(A0: np.ndarray, radii, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """Average absolute error of both approximations on `count` box samples per radius (box half-width)."""
    A0 = np.asarray(A0, dtype=np.float64)
    n = A0.shape[0]
    rows = []
    for r in radii:
        A = A0 + rng.uniform(-r, r, size=(count, n, n))
        Y = np.linalg.solve(A, np.broadcast_to(np.eye(n), A.shape))
        for method, approx in (("linear_1st", first_order), ("linear_2nd", second_order)):
            rows.append(
                {"radius": float(r), "method": method, "test_mae": average_abs_error(approx(A0, A), Y)}
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------
# Networks


def predict(model: torch.nn.Module, A: np.ndarray, batch: int = 65536) -> np.ndarray:
    """The network as deployed: row-major float32 input, output reshaped to (M, n, n), returned as float64."""
    m, n = A.shape[0], A.shape[-1]
    x = torch.from_numpy(np.ascontiguousarray(A.reshape(m, n * n), dtype=np.float32))
    with torch.no_grad():
        out = [model(x[i : i + batch]) for i in range(0, m, batch)]
    y = torch.cat(out) if out else torch.empty(0, n * n)
    return y.double().numpy().reshape(m, n, n)


def two_layer_weights(sd: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(W1, b1, W2, b2) in float64 from the state dict of nn.Sequential(Linear, ReLU, Linear)."""
    keys = ("0.weight", "0.bias", "2.weight", "2.bias")
    if set(sd) != set(keys):
        raise ValueError(f"not a 2-layer nn.Sequential(Linear, ReLU, Linear) state dict: keys {sorted(sd)}")
    W1, b1, W2, b2 = (np.asarray(torch.as_tensor(sd[k]).double().numpy()) for k in keys)
    if W1.shape[0] != b1.size or W2.shape != (b2.size, W1.shape[0]):
        raise ValueError(f"inconsistent shapes W1 {W1.shape}, b1 {b1.shape}, W2 {W2.shape}, b2 {b2.shape}")
    return W1, b1, W2, b2


def forward(W1, b1, W2, b2, X: np.ndarray) -> np.ndarray:
    """f(x) = W2 relu(W1 x + b1) + b2 for the rows of X (N, d), in float64."""
    return np.maximum(np.asarray(X, dtype=np.float64) @ W1.T + b1, 0.0) @ W2.T + b2


# ---------------------------------------------------------------------------------------------------------
# Activation regions


def activation_patterns(W1: np.ndarray, b1: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Bool (N, hidden): unit j active (pre-activation > 0) at row i of X (N, d), float64."""
    return (np.asarray(X, dtype=np.float64) @ np.asarray(W1, dtype=np.float64).T + b1) > 0


def pattern_id(pattern) -> str:
    """'0110...': character j is 1 iff hidden unit j is active."""
    return "".join("1" if bool(p) else "0" for p in np.asarray(pattern).ravel())


def pattern_from_id(pid: str) -> np.ndarray:
    if not pid or set(pid) - {"0", "1"}:
        raise ValueError(f"a pattern id is a string of 0/1, got {pid!r}")
    return np.array([c == "1" for c in pid])


def pattern_codes(patterns: np.ndarray) -> np.ndarray:
    """Integer code of each row (bit j = unit j): a cheap key for grouping millions of points."""
    patterns = np.asarray(patterns, dtype=bool)
    if patterns.shape[1] > 62:
        raise ValueError("at most 62 hidden units are supported by the integer codes")
    return patterns.astype(np.int64) @ (np.int64(1) << np.arange(patterns.shape[1], dtype=np.int64))


def _code_to_id(code: int, hidden: int) -> str:
    return "".join("1" if (int(code) >> j) & 1 else "0" for j in range(hidden))


def region_table(patterns: np.ndarray) -> pd.DataFrame:
    """Per pattern with data: pattern, count, fraction (sums to 1), n_active, active_units ('0 3 5').

    Sorted by count descending (ties by pattern id), with a 1-based rank.
    """
    patterns = np.asarray(patterns, dtype=bool)
    hidden = patterns.shape[1]
    codes, counts = np.unique(pattern_codes(patterns), return_counts=True)
    ids = [_code_to_id(c, hidden) for c in codes]
    df = pd.DataFrame({"pattern": ids, "count": counts.astype(np.int64)})
    df["fraction"] = df["count"] / max(len(patterns), 1)
    df["n_active"] = [p.count("1") for p in ids]
    df["active_units"] = [" ".join(str(j) for j, c in enumerate(p) if c == "1") for p in ids]
    df = df.sort_values(["count", "pattern"], ascending=[False, True], kind="mergesort").reset_index(
        drop=True
    )
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def affine_map(W1, b1, W2, b2, pattern) -> tuple[np.ndarray, np.ndarray]:
    """(C, c) with f(x) = C x + c on the region of `pattern`: C = W2 D W1, c = W2 D b1 + b2 (float64)."""
    d = np.asarray(pattern, dtype=np.float64).ravel()
    W2 = np.asarray(W2, dtype=np.float64)
    return (W2 * d) @ W1, (W2 * d) @ b1 + b2


def coefficient_diffs(C, c, M_lin, c_lin, x0=None) -> dict:
    """Max |C - M_lin| (weights) and max |c - c_lin| (biases, in the coordinates x = vec_row(A)).

    With x0 = vec_row(A0) also the bias in centred coordinates x = x0 + vec(Delta), i.e. the gap at the
    centre max |(C x0 + c) - (M_lin x0 + c_lin)|: a weight difference dC shifts the raw bias by about
    -dC x0, so the raw bias difference can be large while the maps agree near the data.
    """
    out = {
        "max_abs_diff_weight": float(np.max(np.abs(C - M_lin))),
        "max_abs_diff_bias": float(np.max(np.abs(c - c_lin))),
    }
    if x0 is not None:
        x0 = np.asarray(x0, dtype=np.float64).ravel()
        out["max_abs_diff_bias_centred"] = float(np.max(np.abs((C - M_lin) @ x0 + c - c_lin)))
    return out


TERMS = ("weight", "bias", "value_at_centre")  # input_entry j >= 0, -1, -2


def coefficient_table(C, c, M_lin, c_lin, x0=None) -> pd.DataFrame:
    """Tidy coefficients, columns output_entry, input_entry, term, coef_network, coef_linear, diff.

    term 'weight': C[k, j] vs M_lin[k, j]; 'bias' (input_entry -1): c[k] vs c_lin[k]; with x0 = vec_row(A0)
    also 'value_at_centre' (input_entry -2): (C x0 + c)[k] vs (M_lin x0 + c_lin)[k] = A0^-1 entry k, the bias
    in centred coordinates x = x0 + vec(Delta).
    """
    d_out, d_in = C.shape
    k, j = np.meshgrid(np.arange(d_out), np.arange(d_in), indexing="ij")
    parts = [
        (k.ravel(), j.ravel(), "weight", C.ravel(), M_lin.ravel()),
        (np.arange(d_out), -1, "bias", c, c_lin),
    ]
    if x0 is not None:
        x0 = np.asarray(x0, dtype=np.float64).ravel()
        parts.append((np.arange(d_out), -2, "value_at_centre", C @ x0 + c, M_lin @ x0 + c_lin))
    cols = ("output_entry", "input_entry", "term", "coef_network", "coef_linear")
    df = pd.concat([pd.DataFrame(dict(zip(cols, part, strict=True))) for part in parts], ignore_index=True)
    df["diff"] = df["coef_network"] - df["coef_linear"]
    order = df["term"].map({t: i for i, t in enumerate(TERMS)})
    return (
        df.assign(_o=order)
        .sort_values(["output_entry", "_o", "input_entry"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


# ---------------------------------------------------------------------------------------------------------
# Linear programs (Appendix E.2.2)


def region_constraints(W1, b1, pattern) -> tuple[np.ndarray, np.ndarray]:
    """A_ub x <= b_ub for the closed region: W1_j x + b1_j >= 0 (active), <= 0 (inactive)."""
    s = np.where(np.asarray(pattern, dtype=bool).ravel(), -1.0, 1.0)  # active: -(W1 x + b1) <= 0
    return s[:, None] * W1, -s * b1


def gap_lp(W1, b1, W2, b2, pattern, lo, hi, M_lin, c_lin) -> list[dict]:
    """max |g_k(x)| over (region of pattern) ∩ box [lo, hi], g = (affine map on pattern) - (M_lin x + c_lin).

    Two LPs per output entry k (scipy linprog, HiGHS, float64, feasibility tolerance 1e-10): max g_k and
    max -g_k. One dict per k: output_entry, status ('optimal', or 'infeasible' for a region that misses the
    box: a flagged row, never an exception; 'failed' otherwise), reason, lp_max_abs, lp_gap_max, lp_gap_min,
    x_star (the maximiser of |g_k|, NaN when not optimal) and check_eval_diff = |(f(x*) - L(x*))_k - LP
    optimum (signed)| with f the real float64 network, not the region's affine map (continuity makes it
    ~1e-12 even when x* lies on a region boundary; the caller checks it against EVAL_TOL = 1e-9).
    """
    W1, b1, W2, b2 = (np.asarray(a, dtype=np.float64) for a in (W1, b1, W2, b2))
    C, c = affine_map(W1, b1, W2, b2, pattern)
    G, h = C - M_lin, c - c_lin
    A_ub, b_ub = region_constraints(W1, b1, pattern)
    bounds = list(zip(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64), strict=True))
    d = W1.shape[1]
    rows = []
    for k in range(G.shape[0]):
        row = {"output_entry": k, "status": "optimal", "reason": "", "lp_max_abs": np.nan}
        row.update(lp_gap_max=np.nan, lp_gap_min=np.nan, x_star=np.full(d, np.nan), check_eval_diff=np.nan)
        results = []
        for sign in (-1.0, 1.0):  # minimise -g_k (-> max g_k), then minimise g_k (-> min g_k)
            try:
                res = optimize.linprog(
                    sign * G[k], A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs", options=_HIGHS_OPTIONS
                )
            except (ValueError, RuntimeError) as exc:  # malformed problem: flag, do not crash the stage
                row.update(status="failed", reason=f"linprog raised: {exc}")
                break
            if res.status != 0:
                row.update(status="infeasible" if res.status == 2 else "failed", reason=str(res.message))
                break
            results.append(res)
        if row["status"] == "optimal":
            up, down = -results[0].fun + h[k], results[1].fun + h[k]
            x_star, value = (results[0].x, up) if up >= -down else (results[1].x, down)
            real = forward(W1, b1, W2, b2, x_star[None])[0, k] - (M_lin[k] @ x_star + c_lin[k])
            row.update(lp_max_abs=float(max(up, -down)), lp_gap_max=float(up), lp_gap_min=float(down))
            row.update(x_star=np.asarray(x_star, dtype=np.float64), check_eval_diff=float(abs(real - value)))
        rows.append(row)
    return rows


def sampled_gap_max(W1, b1, W2, b2, X, M_lin, c_lin, codes: np.ndarray) -> pd.DataFrame:
    """Per pattern code: max over the sampled points of |g_k| for each output k (real float64 network).

    Returns a DataFrame indexed by code with one column per output entry.
    """
    gap = np.abs(forward(W1, b1, W2, b2, X) - (X @ M_lin.T + c_lin))
    return pd.DataFrame(gap).groupby(codes).max()
