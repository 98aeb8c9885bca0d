"""Gai & Zhang, Proposition 2 and eq. (12): when does exp(Z) = alpha Y1^-1 Y2 have a real solution Z?

Proposition 2 (exp: M_d(C) -> GL(d, C) is onto) is stated over C, and the paper adds that "it is
essential to consider the field C and not R". A real matrix A has a real logarithm iff it is
invertible and every Jordan block of a negative eigenvalue occurs an even number of times (Culver
1966). Gaussian draws have distinct eigenvalues almost surely, so there A has a real logarithm iff it
has no negative real eigenvalue; alpha > 0 does not change the signs, so alpha is not needed.

For each draw (Y1, Y2 with N(0,1) entries, the same generator as the data stage) two rows:
construction 'gaussian' (A = Y1^-1 Y2) and the null 'spd' (A A^T, symmetric positive definite, which
always has the real logarithm V log(L) V^T); no_real_log is 1 where A has a negative real eigenvalue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg as sla

from .instances import make_problems

# An eigenvalue counts as real when |Im| <= REAL_TOL * |lambda| (LAPACK returns exact conjugate pairs
# and exactly real eigenvalues for a real matrix, so this only guards rounding in the test).
REAL_TOL = 1e-12


@dataclass(frozen=True)
class Prop2Settings:
    """gz_prop2.py: master seed (config `seed`), dimension d and number of draws (gz.prop2.draws)."""

    seed: int
    d: int
    draws: int

    def __post_init__(self) -> None:
        if self.d < 1 or self.draws < 1:
            raise ValueError(f"need d >= 1 and draws >= 1, got d={self.d}, draws={self.draws}")


def negative_real_eigenvalues(a: np.ndarray) -> int:
    """Number of (numerically) real negative eigenvalues of the real square matrix a."""
    lam = sla.eigvals(a)
    real = np.abs(lam.imag) <= REAL_TOL * np.abs(lam)
    return int(np.sum(real & (lam.real < 0)))


def prop2_table(settings: Prop2Settings) -> pd.DataFrame:
    """One row per (draw, construction): negative real eigenvalues of A and whether A lacks a real log."""
    problems = make_problems(settings.seed, settings.d, settings.draws, stage="gz_prop2")
    rows = []
    for t in range(settings.draws):
        a = sla.solve(problems["Y1"][t], problems["Y2"][t])
        for construction, m in (("gaussian", a), ("spd", a @ a.T)):
            n_neg = negative_real_eigenvalues(m)
            rows.append(
                {
                    "d": settings.d,
                    "draw": t,
                    "seed": int(problems["seed"][t]),
                    "construction": construction,
                    "negative_real_eigenvalues": n_neg,
                    "no_real_log": int(n_neg > 0),
                }
            )
    return pd.DataFrame(rows)


def prop2_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per (construction, d): draws and the fraction of draws without a real logarithm."""
    g = df.groupby(["construction", "d"], sort=True)
    return g.agg(draws=("draw", "size"), fraction_no_real_log=("no_real_log", "mean")).reset_index()
