"""Datasets of Ji, Wu & Xi (arXiv 2506.00642): matrices A = A0 + Delta around a centre A0.

Delta has i.i.d. entries U(-r, r) (a box of half-width r). The paper's centres and radii are lost
(PAPERS.md), so both are configured; the radius is given relative to the distance of the centre to the
singular set, which makes the safety of a dataset a property of its config rather than of luck:

    sup over the box of ||Delta||_2 = n r      (attained by r times the all-ones matrix)
    sigma_min(A0 + Delta) >= sigma_min(A0) - ||Delta||_2 > 0   whenever  n r < sigma_min(A0)

so `radius_fraction` f sets r = f sigma_min(A0) / n, and f < 1 is a certificate that no sample (nor any
point of the box) is singular. A dataset declared `includes_singular` may take f >= 1 (the "general"
dataset of the why-can't experiment); any other is refused.

Centres are either an explicit matrix or "random": entries U(-1, 1) from the dataset's own seed
stream (the paper: "a non-singular matrix with elements sampled from" an interval it does not keep).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import seeding


class DatasetError(ValueError):
    """A dataset config that cannot be built (the message names the dataset and the cause)."""


@dataclass(frozen=True)
class Certificate:
    """Why the sampling box does (not) meet the singular set, with the numbers."""

    sigma_min_centre: float
    radius: float
    max_delta_norm2: float  # n r: the largest ||Delta||_2 over the box

    @property
    def margin(self) -> float:
        """sigma_min(A0) - n r: positive iff the box is certified free of singular matrices."""
        return self.sigma_min_centre - self.max_delta_norm2

    @property
    def certified(self) -> bool:
        return self.margin > 0


def sigma_min(A: np.ndarray) -> np.ndarray:
    """Smallest singular value of each matrix of a (..., n, n) stack (its 2-norm distance to singularity)."""
    return np.linalg.svd(A, compute_uv=False)[..., -1]


def condition_numbers(A: np.ndarray) -> np.ndarray:
    """2-norm condition numbers of a (..., n, n) stack (inf where singular)."""
    s = np.linalg.svd(A, compute_uv=False)
    with np.errstate(divide="ignore"):
        return s[..., 0] / s[..., -1]


def make_centre(spec: list | str, n: int, master_seed: int, name: str) -> np.ndarray:
    """The centre A0: the configured matrix, or entries U(-1, 1) from the dataset's seed stream."""
    if isinstance(spec, str):
        if spec != "random":
            raise DatasetError(f"dataset {name!r}: centre must be a matrix or 'random', got {spec!r}")
        return seeding.rng(master_seed, "ji_centre", name).uniform(-1.0, 1.0, size=(n, n))
    A0 = np.asarray(spec, dtype=np.float64)
    if A0.shape != (n, n):
        raise DatasetError(f"dataset {name!r}: centre has shape {A0.shape}, expected ({n}, {n}) for n = {n}")
    return A0


def certify(A0: np.ndarray, radius_fraction: float, includes_singular: bool, name: str) -> Certificate:
    """Radius and certificate of a dataset; refuses a box that can reach a singular matrix unless declared."""
    n = A0.shape[0]
    sv = np.linalg.svd(A0, compute_uv=False)
    s = float(sv[-1])
    if s <= n * np.finfo(float).eps * sv[0]:  # singular to working precision
        raise DatasetError(f"dataset {name!r}: the centre is singular (sigma_min = {s:g})")
    radius = radius_fraction * s / n
    cert = Certificate(sigma_min_centre=s, radius=radius, max_delta_norm2=n * radius)
    if not cert.certified and not includes_singular:
        raise DatasetError(
            f"dataset {name!r}: the box of half-width {radius:.6g} around the centre can reach a singular "
            f"matrix (n r = {cert.max_delta_norm2:.6g} >= sigma_min(A0) = {s:.6g}); use radius_fraction < 1, "
            "or declare includes_singular: true"
        )
    return cert


def sample_box(A0: np.ndarray, radius: float, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` matrices A0 + Delta, Delta with i.i.d. U(-radius, radius) entries, shape (count, n, n)."""
    n = A0.shape[0]
    return A0 + rng.uniform(-radius, radius, size=(count, n, n))


def inverses(A: np.ndarray) -> np.ndarray:
    """True inverses of a stack, as a solve with the identity (float64)."""
    n = A.shape[-1]
    return np.linalg.solve(A, np.broadcast_to(np.eye(n), A.shape))


@dataclass(frozen=True)
class DatasetSettings:
    """One dataset: its name and the master seed (which key its seed streams) and the data keys of its
    config ji.datasets.NAME (config/schema.yaml documents them)."""

    dataset: str
    seed: int  # master seed of the config
    n: int
    centre: list | str  # an n x n list of rows, or "random"
    radius_fraction: float
    includes_singular: bool
    train: int  # 0: generated during training
    test: int


def build(settings: DatasetSettings) -> tuple[dict[str, np.ndarray], Certificate]:
    """The arrays of one dataset (the NPZ layout read by nnmat.ji.stream.data_from_arrays) and its
    certificate. Train and test come from independent seed streams, so changing one size keeps the other.
    """
    name, master_seed, n = settings.dataset, settings.seed, int(settings.n)
    A0 = make_centre(settings.centre, n, master_seed, name)
    cert = certify(A0, float(settings.radius_fraction), bool(settings.includes_singular), name)
    on_the_fly = int(settings.train) == 0
    train_rng = seeding.rng(master_seed, "ji_train_set", name)
    X_train = (
        np.empty((0, n, n)) if on_the_fly else sample_box(A0, cert.radius, int(settings.train), train_rng)
    )
    X_test = sample_box(A0, cert.radius, int(settings.test), seeding.rng(master_seed, "ji_test_set", name))
    arrays = {
        "n": np.asarray(n),
        "A0": A0,
        "radius": np.asarray(cert.radius),
        "on_the_fly": np.asarray(on_the_fly),
        "X_train": X_train,
        "X_test": X_test,
        "Y_test": inverses(X_test),
        "sigma_min_train": sigma_min(X_train) if len(X_train) else np.empty(0),
        "sigma_min_test": sigma_min(X_test),
    }
    return arrays, cert


def _quantile(values: np.ndarray, p: float) -> float:
    return float(np.quantile(values, p)) if len(values) else float("nan")


def summary(
    name: str, arrays: dict[str, np.ndarray], cert: Certificate, includes_singular: bool
) -> pd.DataFrame:
    """One row per split: sizes, the certificate, and quantiles of sigma_min and cond of the samples."""
    rows = []
    for split in ("train", "test"):
        X = arrays[f"X_{split}"]
        s = arrays[f"sigma_min_{split}"]
        c = condition_numbers(X) if len(X) else np.empty(0)
        rows.append(
            {
                "dataset": name,
                "split": split,
                "n": int(arrays["n"]),
                "samples": int(len(X)),
                "generated_during_training": bool(arrays["on_the_fly"]) and split == "train",
                "radius": cert.radius,
                "sigma_min_centre": cert.sigma_min_centre,
                "max_delta_norm2": cert.max_delta_norm2,
                "certificate_margin": cert.margin,
                "certified_nonsingular": cert.certified,
                "includes_singular": includes_singular,
                "sigma_min_min": _quantile(s, 0.0),
                "sigma_min_q01": _quantile(s, 0.01),
                "sigma_min_median": _quantile(s, 0.5),
                "cond_median": _quantile(c, 0.5),
                "cond_q99": _quantile(c, 0.99),
                "cond_max": _quantile(c, 1.0),
            }
        )
    return pd.DataFrame(rows)


def per_sample_table(name: str, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per test sample: sigma_min and 2-norm condition number (the why-can't axis)."""
    X = arrays["X_test"]
    return pd.DataFrame(
        {
            "dataset": name,
            "sample": np.arange(len(X)),
            "sigma_min": arrays["sigma_min_test"],
            "cond": condition_numbers(X),
        }
    )
