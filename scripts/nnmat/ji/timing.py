"""Table 3 of Ji, Wu & Xi: how long a trained MLP takes to "invert" a test set, against exact inversion.

The paper times the whole 10,000-matrix test set at batch sizes 1, 100 and 10,000 on a GPU, batch size 1
on a CPU, and exact inversion on a CPU. We time the same on this machine's CPU (and on CUDA when it is
present and asked for): the median of `repeats` runs over the whole test set, after one untimed
warm-up pass, in float32 with gradients off. Exact inversion is timed twice: one batched LAPACK call
(`numpy.linalg.inv` on the (M, n, n) stack) and a Python loop of per-matrix calls (what batch size 1
is for a network).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class InferenceSettings:
    """Table 3 (config ji.inference and the device): the timed datasets (one NPZ each), the batch sizes,
    the timed repeats per measurement (the median is reported) and the device ("cpu" or "cuda"; the GPU
    rows are measured only with "cuda" on a machine that has it)."""

    datasets: Sequence[str]
    batch_sizes: Sequence[int]
    repeats: int
    device: str


def median_wall_s(fn: Callable[[], object], repeats: int, sync: Callable[[], None] = lambda: None) -> float:
    """Median wall time of `fn()` over `repeats` runs after one untimed warm-up run."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_network(model: torch.nn.Module, X: np.ndarray, batch_size: int, device: str, repeats: int) -> float:
    """Seconds to push every matrix of X (M, n, n) through `model` in batches of `batch_size`."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model = model.to(device).eval()
    flat = torch.as_tensor(X.reshape(len(X), -1), dtype=torch.float32, device=device)
    batches = list(flat.split(batch_size))
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run() -> None:
        with torch.inference_mode():
            for b in batches:
                model(b)

    return median_wall_s(run, repeats, sync)


def time_exact_batched(X: np.ndarray, repeats: int) -> float:
    """Seconds for one batched `numpy.linalg.inv` over the whole (M, n, n) stack (float64)."""
    return median_wall_s(lambda: np.linalg.inv(X), repeats)


def time_exact_loop(X: np.ndarray, repeats: int) -> float:
    """Seconds for a Python loop of per-matrix `numpy.linalg.inv` calls (float64)."""
    return median_wall_s(lambda: [np.linalg.inv(a) for a in X], repeats)


EXACT_METHODS: dict[str, Callable[[np.ndarray, int], float]] = {
    "exact_batched": time_exact_batched,
    "exact_loop": time_exact_loop,
}


def time_dataset(
    name: str,
    X: np.ndarray,
    models: dict[str, torch.nn.Module],
    settings: InferenceSettings,
    cuda: bool,
    progress: Callable[[str], None] = lambda msg: None,
) -> list[dict]:
    """Rows of Table 3 for one test set: exact inversion, then every model x device x batch size.

    `models` maps a model name "ARCH_seedK" to the network. GPU rows get status "needs_gpu" and a NaN
    time when `cuda` is False, so what was not measured stays visible.
    """
    batch_sizes, repeats = list(settings.batch_sizes), settings.repeats
    base = {"dataset": name, "n": X.shape[-1], "n_test": len(X)}
    rows = [
        {
            **base,
            "model": method,
            "arch": "exact",
            "seed_index": -1,
            "device": "cpu",
            "batch_size": len(X),
            "wall_s": fn(X, repeats),
            "status": "ok",
        }  # fmt: skip
        for method, fn in EXACT_METHODS.items()
    ]
    for model_name, model in models.items():
        arch, seed_index = model_name.rsplit("_seed", 1)
        for device in ("cpu", "cuda"):
            for bs in batch_sizes:
                row = {**base, "model": model_name, "arch": arch, "seed_index": int(seed_index),
                       "device": device, "batch_size": bs}  # fmt: skip
                if device == "cuda" and not cuda:
                    rows.append({**row, "wall_s": float("nan"), "status": "needs_gpu"})
                    continue
                wall = time_network(model, X, bs, device, repeats)
                progress(f"{name} {model_name} {device} bs {bs}: {wall:.4f} s")
                rows.append({**row, "wall_s": wall, "status": "ok"})
    return rows
