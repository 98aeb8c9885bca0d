"""Problem instances of Gai & Zhang: X1, X2, Y1, Y2 with i.i.d. N(0, 1) entries (paper, Sec. 4).

Each trial draws from its own seed stream (master, stage, d, trial), so trial k of dimension d is the
same matrix whatever the number of trials or dimensions in the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import seeding

MATRIX_NAMES = ("X1", "X2", "Y1", "Y2")


@dataclass(frozen=True)
class ProblemSettings:
    """One gz_data.py job: master seed (config `seed`), dimension d, gz.data.trials instances."""

    seed: int
    d: int
    trials: int


@dataclass(frozen=True)
class NearSingularProblemSettings:
    """One gz_data_near_singular.py job (gz.theorem1.near_singular): `trials` problems per target
    cond(X1 - X2) in `conds`, of dimension d, from the master seed."""

    seed: int
    d: int
    trials: int
    conds: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "conds", tuple(float(c) for c in self.conds))
        if not self.conds:
            raise ValueError("conds: need at least one target condition number")


def gaussian_problem(rng: np.random.Generator, d: int) -> dict[str, np.ndarray]:
    return {name: rng.standard_normal((d, d)) for name in MATRIX_NAMES}


def make_problems(master_seed: int, d: int, trials: int, stage: str = "gz_data") -> dict[str, np.ndarray]:
    """Stack `trials` Gaussian problems of size d: arrays of shape (trials, d, d) plus their seeds."""
    if d < 1 or trials < 1:
        raise ValueError(f"need d >= 1 and trials >= 1, got d={d}, trials={trials}")
    seeds = [seeding.derive_seed(master_seed, stage, d, t) for t in range(trials)]
    draws = [gaussian_problem(np.random.default_rng(s), d) for s in seeds]
    out = {name: np.stack([p[name] for p in draws]) for name in MATRIX_NAMES}
    out["seed"] = np.array(seeds, dtype=np.int64)
    return out


def with_difference_condition(
    rng: np.random.Generator, d: int, cond: float, scale: float | None = None
) -> dict[str, np.ndarray]:
    """A Gaussian problem whose X1 - X2 has 2-norm condition number exactly `cond` (up to rounding).

    X1 - X2 = U diag(s) V^T with Haar-random U, V and s log-spaced from `scale` down to scale/cond;
    `scale` defaults to 2 sqrt(d), the typical largest singular value of a Gaussian d x d matrix
    difference (our choice: it keeps X1 on the same scale as the random problems).
    """
    if cond < 1:
        raise ValueError(f"a condition number is >= 1, got {cond}")
    scale = 2.0 * np.sqrt(d) if scale is None else scale
    base = gaussian_problem(rng, d)
    u, _ = np.linalg.qr(rng.standard_normal((d, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    s = scale * np.logspace(0.0, -np.log10(cond), d) if d > 1 else np.array([scale])
    base["X1"] = base["X2"] + (u * s) @ v.T
    return base


def make_near_singular(master_seed: int, d: int, conds: list[float], trials: int) -> dict[str, np.ndarray]:
    """Problems with controlled cond(X1 - X2): arrays of shape (len(conds) * trials, d, d)."""
    rows, seeds, targets, trial_idx = [], [], [], []
    for cond in conds:
        for t in range(trials):
            seed = seeding.derive_seed(master_seed, "gz_near_singular", d, repr(float(cond)), t)
            rows.append(with_difference_condition(np.random.default_rng(seed), d, float(cond)))
            seeds.append(seed)
            targets.append(float(cond))
            trial_idx.append(t)
    out = {name: np.stack([r[name] for r in rows]) for name in MATRIX_NAMES}
    out.update(seed=np.array(seeds, dtype=np.int64), cond_target=np.array(targets), trial=np.array(trial_idx))
    return out


def summarize(problems: dict[str, np.ndarray], d: int) -> pd.DataFrame:
    """One row per trial: 2-norm condition numbers and smallest singular values of the key matrices."""
    rows = []
    for t in range(problems["X1"].shape[0]):
        mats = {
            "x1_minus_x2": problems["X1"][t] - problems["X2"][t],
            "x2": problems["X2"][t],
            "y1": problems["Y1"][t],
        }
        row = {"d": d, "trial": t, "seed": int(problems["seed"][t])}
        for name, m in mats.items():
            sv = np.linalg.svd(m, compute_uv=False)
            row[f"sigma_min_{name}"] = sv[-1]
            row[f"cond_{name}"] = sv[0] / sv[-1] if sv[-1] > 0 else np.inf
        rows.append(row)
    return pd.DataFrame(rows)
