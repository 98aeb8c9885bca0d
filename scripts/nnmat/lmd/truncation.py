"""Layer Matrix Decomposition, step 3: truncated networks, their test error and the latent dimension n'.

One layer (or every layer) is replaced by the affine map of its truncated [W | b]_k; against k we measure
the test error (mean |f_k(x) - y|, context) and the output deviation from the untruncated network itself,
mean |f_k(x) - f(x)| / mean |f(x) - mean_x f(x)| (scale-free: the same for a trained and a random
network). n' is the smallest k whose output deviation is <= `output_tolerance` (issue 12: n' is the
dimension the network itself needs, not a statement about the error against the true inverse, which a
random-weight network fails anyway). The network is evaluated as deployed (float32 input and
weights); truncations are built in float64 and rounded to float32, so rank = full rank reproduces the
float32 weights bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from nnmat.lmd.decomposition import LayerSVD, energy_fraction, k_grid, split_affine, truncate
from nnmat.lmd.settings import Settings


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


def output_spread(out: np.ndarray) -> float:
    """mean |f(x) - mean_x f(x)|: the scale of a network's own output (the deviation's denominator)."""
    return float(np.mean(np.abs(out - out.mean(axis=0))))


class TruncationEvaluator:
    """Test error and output deviation of the network with one layer, or all layers, replaced by rank-k
    truncations (memoised: the grid and the bisection share evaluations)."""

    def __init__(self, svds: Sequence[LayerSVD], X: np.ndarray, Y: np.ndarray):
        self.svds = list(svds)
        self.layers = [to_torch_layer(s.M) for s in self.svds]
        self.Y = Y.reshape(len(Y), -1).astype(np.float64)
        x = torch.from_numpy(np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float32))
        self.inputs = layer_inputs(self.layers, x)
        self.full_out = run_layers(self.layers, x).double().numpy()
        self.full_mae = float(np.mean(np.abs(self.full_out - self.Y)))
        self.spread = output_spread(self.full_out)
        # context: the error of predicting the mean target everywhere (a network no better than this has
        # learned no function of its input, and its "latent dimension" says nothing about one)
        self.baseline_mae = float(np.mean(np.abs(self.Y - self.Y.mean(axis=0))))
        self._memo: dict[tuple[int, int], tuple[float, float]] = {}

    def _scores(self, pred: torch.Tensor) -> tuple[float, float]:
        """(test MAE, output deviation from the untruncated network) of one prediction."""
        out = pred.double().numpy()
        dev = float(np.mean(np.abs(out - self.full_out)))
        return float(np.mean(np.abs(out - self.Y))), dev / self.spread if self.spread > 0 else float("nan")

    def one_layer_scores(self, layer: int, k: int) -> tuple[float, float]:
        key = (layer, int(k))
        if key not in self._memo:
            layers = list(self.layers)
            layers[layer] = to_torch_layer(truncate(self.svds[layer], k))
            self._memo[key] = self._scores(run_layers(layers, self.inputs[layer], start=layer))
        return self._memo[key]

    def all_layers_scores(self, k: int) -> tuple[float, float]:
        key = (-1, int(k))
        if key not in self._memo:
            cut = [i for i, s in enumerate(self.svds) if k < s.rank]
            if not cut:
                self._memo[key] = (self.full_mae, 0.0)
            elif len(cut) == 1:  # the same network as one layer truncated (e.g. the wide middle layer)
                self._memo[key] = self.one_layer_scores(cut[0], k)
            else:
                layers = [
                    to_torch_layer(truncate(s, k)) if i in cut else lay
                    for i, (lay, s) in enumerate(zip(self.layers, self.svds, strict=True))
                ]
                self._memo[key] = self._scores(run_layers(layers, self.inputs[0]))
        return self._memo[key]

    def one_layer(self, layer: int, k: int) -> float:
        """Test MAE with `layer` truncated to rank k."""
        return self.one_layer_scores(layer, k)[0]

    def one_layer_deviation(self, layer: int, k: int) -> float:
        """Output deviation from the untruncated network with `layer` truncated to rank k."""
        return self.one_layer_scores(layer, k)[1]

    def all_layers(self, k: int) -> float:
        return self.all_layers_scores(k)[0]

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
    """Error and output deviation against k for each layer alone and for all layers at once; returns the
    rows and the latent dimension per layer (key -1: all layers): the smallest k with output deviation
    <= settings.output_tolerance."""
    threshold = settings.tolerance * ev.full_mae
    rows, latent = [], {}
    targets: list[tuple[str, int, int, Callable[[int], tuple[float, float]]]] = [
        ("one_layer", i, s.rank, (lambda k, i=i: ev.one_layer_scores(i, k))) for i, s in enumerate(ev.svds)
    ]
    max_rank = max(s.rank for s in ev.svds)
    targets.append(("all_layers", -1, max_rank, ev.all_layers_scores))
    for mode, layer, rank, fn in targets:
        grid = k_grid(rank, settings.truncation_ks)
        for k in grid:
            fn(k)
        n_lat = latent_dimension(lambda k, fn=fn: fn(k)[1], grid, settings.output_tolerance)
        latent[layer] = -1 if n_lat is None else n_lat
        energy = np.concatenate([[0.0], energy_fraction(ev.svds[layer].sigma)]) if layer >= 0 else None
        for k in ev.evaluated(layer):
            mae, dev = fn(k)
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
                    "output_deviation": dev,
                    "output_tolerance": settings.output_tolerance,
                    "within_output_tolerance": bool(dev <= settings.output_tolerance),
                    "latent_dim": latent[layer],
                    "is_latent_dim": bool(k == latent[layer]),
                    "on_grid": bool(k in grid),
                }
            )
    return pd.DataFrame(rows), latent
