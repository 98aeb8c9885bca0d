"""The settings of one LMD job: the `lmd` section of the config plus the master seed and the dataset.

Defaults live in config/schema.yaml only; the rule passes every field (workflow/rules/lmd.smk), a hand
run passes them as `--settings '{...}'`. The checks here are the ones the computation itself needs
(types, positive counts, tolerance >= 1, positive bandwidths); the config's own ranges are the schema's.
"""

from __future__ import annotations

import dataclasses

INT_FIELDS = (
    "seed",
    "points",
    "eval_points",
    "knn",
    "subspace_dim",
    "n_eigs",
    "truncation_ks",
    "eckart_young_ks",
)
FLOAT_FIELDS = ("tolerance", "output_tolerance", "eig_tol", "metric_bandwidth")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every choice of the operationalisation of one `lmd_analyse` job (config keys `lmd.<field>`, except
    `seed` = the config's master seed, `dataset` = the analysed ji dataset and `learned_exempt`, which
    the rule reads from ji.datasets.<dataset>.includes_singular)."""

    seed: int  # master seed: the point samples derive from it, the dataset and the stage name
    dataset: str  # the ji dataset: the CSVs' dataset column and a key of the sample seeds
    points: int  # p: test points of the graph Laplacians and metric maps
    eval_points: int  # test points scoring the rank-truncated networks
    bandwidths: tuple[float, ...]  # Gaussian bandwidths, multiples of the median pairwise distance
    knn: int  # neighbours of the kNN graph
    subspace_dim: int  # m: dimension of the eigenmap and PCA subspaces compared
    tolerance: float  # context column within_tolerance: truncated error <= tolerance x the full model's
    output_tolerance: float  # latent dimension n': smallest k with output deviation <= this (relative)
    n_eigs: int  # smallest Laplacian eigenvalues recorded per graph
    eig_tol: float  # a "small" eigenvalue: <= eig_tol x lambda_max
    metric_bandwidth: float  # bandwidth (x median distance) of the metric maps' Gaussian graph
    truncation_ks: int  # at most this many grid points of the k sweep per layer (then bisection)
    eckart_young_ks: int  # Eckart-Young k values per large layer
    learned_exempt: bool  # the dataset includes singular matrices (ji's includes_singular): no learned flag

    def __post_init__(self) -> None:
        for name in INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"settings key {name!r} must be an integer, got {value!r}")
            if value < (0 if name == "seed" else 1):
                raise ValueError(
                    f"settings key {name!r} must be {'>= 0' if name == 'seed' else '>= 1'}, got {value}"
                )
        # YAML and JSON may spell 2.0 as 2: floats are normalised, so the CSVs read the same either way
        for name in FLOAT_FIELDS:
            object.__setattr__(self, name, _number(name, getattr(self, name)))
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ValueError(f"settings key 'dataset' must be a non-empty string, got {self.dataset!r}")
        if isinstance(self.bandwidths, (str, bytes)) or not hasattr(self.bandwidths, "__iter__"):
            raise ValueError(f"settings key 'bandwidths' must be a list of numbers, got {self.bandwidths!r}")
        object.__setattr__(self, "bandwidths", tuple(_number("bandwidths", b) for b in self.bandwidths))
        if not self.bandwidths or min(self.bandwidths) <= 0:
            raise ValueError(
                f"settings key 'bandwidths' must be positive multiples, got {list(self.bandwidths)}"
            )
        if self.tolerance < 1:
            raise ValueError(
                f"settings key 'tolerance' must be >= 1 (the full-rank network has ratio exactly 1), "
                f"got {self.tolerance}"
            )
        if not 0 < self.output_tolerance < 1:
            raise ValueError(
                f"settings key 'output_tolerance' must be in (0, 1), got {self.output_tolerance}"
            )
        if not isinstance(self.learned_exempt, bool):
            raise ValueError(f"settings key 'learned_exempt' must be a boolean, got {self.learned_exempt!r}")
        if self.metric_bandwidth <= 0:
            raise ValueError(f"settings key 'metric_bandwidth' must be positive, got {self.metric_bandwidth}")
        if self.eig_tol < 0:
            raise ValueError(f"settings key 'eig_tol' must be >= 0, got {self.eig_tol}")


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"settings key {name!r} must be a number, got {value!r}")
    return float(value)
