"""The studies of the Xia stage that build the result CSVs: conditioning (1D uniform, 1D random,
2D), the 2D quadrature check, spectrum and modes, positive definiteness, CG iterations and the
off-diagonal ranks. Each study takes one frozen settings object (the config slice its script reads;
the defaults live in config/schema.yaml only) and returns DataFrames whose columns and row order are
the CSV's.

Every random draw comes from its own stream `rng(seed, name, keys...)`; the stream names
("xia_random_1d", "xia_2d", "xia_cg") are part of the results and never change.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse.linalg as spla

from ..seeding import derive_seed, rng
from .analysis import numerical_ranks, offdiag_blocks, pd_check, sign_changes
from .matrices import (
    EPS,
    duplicated,
    gauss_newton_1d,
    hat_mass,
    hat_mass_banded,
    hat_transform,
    lambda_extremes_A,
    lambda_extremes_H,
    mass_1d,
    matrices_2d,
    matrices_2d_exact,
    matrix_1d,
    mpmath_extremes,
    random_units_1d,
    uniform_breakpoints,
    units_2d,
)

RELIABLE_COND = 1.0e12  # float64 lambda_min keeps ~4 digits below this condition number
MODES_K = 2  # extreme eigenvectors recorded at each end of the spectrum


# ------------------------------------------------------------------------------------- settings
def _freeze(obj) -> None:
    """JSON lists become tuples, so that a frozen settings object is hashable and immutable."""
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, list):
            object.__setattr__(obj, f.name, tuple(value))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@dataclass(frozen=True)
class Cond1DSettings:
    """xia.cond (the fit keys go to the table): cond(A), cond(H) vs n, 1D uniform breakpoints."""

    ns: tuple[int, ...]
    naive_max_n: int
    mpmath_ns: tuple[int, ...]
    mpmath_dps: int

    def __post_init__(self):
        _freeze(self)
        _check(min(self.ns) >= 2, "every n must be >= 2")


@dataclass(frozen=True)
class Random1DSettings:
    """xia.random_1d and the master seed: random breakpoints, mixed +-1 directions."""

    seed: int
    ns: tuple[int, ...]
    draws: int

    def __post_init__(self):
        _freeze(self)
        _check(min(self.ns) >= 2, "every n must be >= 2")


@dataclass(frozen=True)
class Cond2DSettings:
    """xia.d2 and the master seed: A and H on the unit square by midpoint quadrature."""

    seed: int
    ns: tuple[int, ...]
    draws: int
    margin: float
    quad_points: int
    refine_n: int

    def __post_init__(self):
        _freeze(self)
        _check(min(self.ns) >= 2 and self.refine_n >= 2, "every n must be >= 2")


@dataclass(frozen=True)
class SpectrumSettings:
    """xia.spectrum.n, xia.random_1d.draws (draws of the PD check), xia.d2.margin."""

    seed: int
    n: int
    draws: int
    margin: float

    def __post_init__(self):
        _check(self.n >= 4, "n must be >= 4")


@dataclass(frozen=True)
class CGSettings:
    """xia.cg, xia.random_1d.draws and xia.d2.margin: CG iteration counts."""

    seed: int
    ns: tuple[int, ...]
    draws: int
    rtol: float
    maxiter_factor: int
    margin: float

    def __post_init__(self):
        _freeze(self)
        _check(min(self.ns) >= 4 and self.rtol > 0, "every n must be >= 4 and rtol > 0")


@dataclass(frozen=True)
class StructureSettings:
    """xia.structure and xia.d2.margin: off-diagonal ranks of a binary partition."""

    seed: int
    n_1d: int
    ns_2d: tuple[int, ...]
    min_block: int
    tols: tuple[float, ...]
    margin: float

    def __post_init__(self):
        _freeze(self)
        _check(min(self.tols) > 0, "every tolerance must be > 0")


# ---------------------------------------------------------------------------------- conditioning
def _extremes_f64(A: np.ndarray) -> tuple[float, float]:
    ev = np.linalg.eigvalsh(A)
    return float(ev[0]), float(ev[-1])


def _cond_row(lam_min: float, lam_max: float) -> float:
    return lam_max / lam_min if lam_min > 0 else np.inf


def cond_uniform_1d(settings: Cond1DSettings, progress=None) -> pd.DataFrame:
    """cond(A), cond(H) for uniform breakpoints via the well-conditioned reformulations (+ naive f64)."""
    naive_max_n = settings.naive_max_n
    rows = []
    for n in sorted(settings.ns):
        t = uniform_breakpoints(n)
        A = mass_1d(t)
        for which in ("A", "H"):
            if which == "A":
                lmin, lmax = lambda_extremes_A(t, A)
                method = "pencil(BB^T,M)"
                M = A
            else:
                lmin, lmax = lambda_extremes_H(t)
                method = "tridiagonal_inverse"
                M = gauss_newton_1d(t) if n <= naive_max_n else None
            row = {
                "family": "uniform_1d",
                "matrix": which,
                "n": n,
                "method": method,
                "lambda_min": lmin,
                "lambda_max": lmax,
                "cond": lmax / lmin,
                "lambda_min_naive": np.nan,
                "cond_naive": np.nan,
                "naive_rel_err_lambda_min": np.nan,
            }
            if n <= naive_max_n:
                nmin, nmax = _extremes_f64(M)
                row.update(
                    lambda_min_naive=nmin,
                    cond_naive=_cond_row(nmin, nmax),
                    naive_rel_err_lambda_min=abs(nmin - lmin) / lmin,
                )
            rows.append(row)
        rows.append(_hat_mass_cond_row(t))
        if progress:
            progress.update()
    return pd.DataFrame(rows)


def _hat_mass_cond_row(t: np.ndarray) -> dict:
    """The null of the conditioning claims: the tridiagonal P1 mass matrix M of the hats on the same
    breakpoints (A = S^T M S), well conditioned for every n (extreme eigenvalues of a tridiagonal)."""
    ab = hat_mass_banded(t)
    ev = sla.eigvalsh_tridiagonal(ab[1], ab[0, 1:])
    return {
        "family": "hat_mass",
        "matrix": "M",
        "n": len(t),
        "method": "eigvalsh_tridiagonal",
        "lambda_min": float(ev[0]),
        "lambda_max": float(ev[-1]),
        "cond": float(ev[-1] / ev[0]),
        "lambda_min_naive": np.nan,
        "cond_naive": np.nan,
        "naive_rel_err_lambda_min": np.nan,
    }


def wishart(n: int, master_seed: int) -> np.ndarray:
    """The null of the mode and rank claims: a random dense SPD matrix X X^T / (2n), X n x 2n with
    i.i.d. N(0, 1) entries (stream "xia_wishart"): no frequency order, full-rank off-diagonal blocks."""
    X = rng(master_seed, "xia_wishart", n).standard_normal((n, 2 * n))
    return X @ X.T / (2 * n)


def cond_mpmath_check(settings: Cond1DSettings) -> pd.DataFrame:
    """lambda_min of A and H at small n: reformulation and naive float64 against mpmath (dps digits)."""
    dps = settings.mpmath_dps
    rows = []
    for n in sorted(settings.mpmath_ns):
        t = uniform_breakpoints(n)
        exact_t = [(i, n) for i in range(n)]
        for which in ("A", "H"):
            mp_min, mp_max = mpmath_extremes(exact_t, None, which, dps)
            ours = lambda_extremes_A(t)[0] if which == "A" else lambda_extremes_H(t)[0]
            naive = _extremes_f64(matrix_1d(t, None, which))[0]
            rows.append(
                {
                    "matrix": which,
                    "n": n,
                    "dps": dps,
                    "lambda_min_mpmath": mp_min,
                    "cond_mpmath": mp_max / mp_min,
                    "lambda_min_ours": ours,
                    "rel_err_ours": abs(ours - mp_min) / mp_min,
                    "lambda_min_naive": naive,
                    "rel_err_naive": abs(naive - mp_min) / mp_min,
                }
            )
    return pd.DataFrame(rows)


def _flagged_extremes(A: np.ndarray, dup: bool) -> dict[str, object]:
    lmin, lmax = _extremes_f64(A)
    cond = _cond_row(lmin, lmax)
    if dup:
        status, reason = "singular", "duplicated units: A and H are exactly singular"
    elif not lmin > 0:
        status, reason = "not_pd_in_float64", "float64 lambda_min <= 0 (below rounding)"
    elif cond > RELIABLE_COND:
        status, reason = "unreliable", f"cond > {RELIABLE_COND:.0e}: float64 lambda_min has < 4 digits"
    else:
        status, reason = "ok", ""
    return {
        "lambda_min": lmin,
        "lambda_max": lmax,
        "cond": cond if status != "singular" else np.inf,
        "status": status,
        "reliable": int(status == "ok"),
        "reason": reason,
    }


def random_units_1d_seeded(n: int, draw: int, master_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw `draw` of the random 1D units at n (the stream shared by every study)."""
    return random_units_1d(n, rng(master_seed, "xia_random_1d", n, draw))


def cond_random_1d(settings: Random1DSettings, progress=None) -> pd.DataFrame:
    """Random breakpoints, mixed directions: float64 eigenvalues with a reliability flag."""
    master_seed = settings.seed
    rows = []
    for n in sorted(settings.ns):
        for draw in range(settings.draws):
            t, w = random_units_1d_seeded(n, draw, master_seed)
            dup = duplicated(t, w)
            for which in ("A", "H"):
                res = _flagged_extremes(matrix_1d(t, w, which), dup)
                rows.append(
                    {
                        "family": "random_1d",
                        "matrix": which,
                        "n": n,
                        "draw": draw,
                        "seed": derive_seed(master_seed, "xia_random_1d", n, draw),
                        "min_gap": float(np.diff(t).min()),
                        **res,
                    }
                )
            if progress:
                progress.update()
    return pd.DataFrame(rows)


def units_2d_seeded(n: int, draw: int, master_seed: int, margin: float):
    """Draw `draw` of the 2D units at n, and the seed recorded for it."""
    w, b = units_2d(n, rng(master_seed, "xia_2d", n, draw), margin)
    return w, b, derive_seed(master_seed, "xia_2d", n, draw)


def cond_2d(settings: Cond2DSettings, progress=None) -> pd.DataFrame:
    """cond(A), cond(H) on the unit square (exact entries; float64 eigenvalues with a reliability flag)."""
    rows = []
    for n in sorted(settings.ns):
        for draw in range(settings.draws):
            w, b, seed = units_2d_seeded(n, draw, settings.seed, settings.margin)
            A, H = matrices_2d_exact(w, b)
            for which, M in (("A", A), ("H", H)):
                res = _flagged_extremes(M, False)
                rows.append(
                    {
                        "family": "2d",
                        "matrix": which,
                        "n": n,
                        "draw": draw,
                        "seed": seed,
                        "entries": "exact_polygon",
                        **res,
                    }
                )
            if progress:
                progress.update()
    return pd.DataFrame(rows)


def quadrature_check_2d(settings: Cond2DSettings) -> pd.DataFrame:
    """Midpoint grids q and 2q against the exact entries at n = refine_n: entrywise and eigenvalue errors
    (the grid converges to the exact polygon integrals; the exact entries are what every study uses)."""
    n, q = settings.refine_n, settings.quad_points
    rows = []
    for draw in range(settings.draws):
        w, b, seed = units_2d_seeded(n, draw, settings.seed, settings.margin)
        exact = matrices_2d_exact(w, b)
        for qq in (q, 2 * q):
            rows += _quad_rows(n, draw, seed, qq, matrices_2d(w, b, qq), exact)
    return pd.DataFrame(rows)


def _quad_rows(n, draw, seed, q, grid, exact) -> list[dict]:
    """Errors of the q x q midpoint grid against the exact entries (one row per matrix)."""
    rows = []
    for which, Mc, Mf in (("A", grid[0], exact[0]), ("H", grid[1], exact[1])):
        ec, ef = np.linalg.eigvalsh(Mc), np.linalg.eigvalsh(Mf)
        rows.append(
            {
                "matrix": which,
                "n": n,
                "draw": draw,
                "seed": seed,
                "quad_points": q,
                "reference": "exact_polygon",
                "max_entry_diff_rel": float(np.abs(Mc - Mf).max() / np.abs(Mf).max()),
                "lambda_max_rel_change": float(abs(ec[-1] - ef[-1]) / ef[-1]),
                "lambda_min_rel_change": float(abs(ec[0] - ef[0]) / abs(ef[0])),
                "cond_rel_change": float(abs(ec[-1] / ec[0] - ef[-1] / ef[0]) / (ef[-1] / ef[0])),
            }
        )
    return rows


# ---------------------------------------------------------------------------- spectrum and modes
def _orient(v: np.ndarray) -> np.ndarray:
    return v if v[np.argmax(np.abs(v))] > 0 else -v


def _spectrum_matrices(settings: SpectrumSettings) -> dict[tuple[str, str], np.ndarray]:
    """A and H at n for uniform 1D, random 1D draw 0 and 2D draw 0 (exact 2D entries)."""
    n = settings.n
    t = uniform_breakpoints(n)
    tr, wr = random_units_1d_seeded(n, 0, settings.seed)
    w2, b2, _ = units_2d_seeded(n, 0, settings.seed, settings.margin)
    A2, H2 = matrices_2d_exact(w2, b2)
    return {
        ("uniform_1d", "A"): mass_1d(t),
        ("uniform_1d", "H"): gauss_newton_1d(t),
        ("random_1d", "A"): mass_1d(tr, wr),
        ("random_1d", "H"): gauss_newton_1d(tr, wr),
        ("2d", "A"): A2,
        ("2d", "H"): H2,
    }


def _eigen_rows(family: str, which: str, n: int, ev: np.ndarray, M: np.ndarray) -> list[dict]:
    """One row per eigenvalue (descending); the last uniform_1d row carries the reliable lambda_min."""
    rows = [
        {
            "family": family,
            "matrix": which,
            "n": n,
            "k": k,
            "eigenvalue": float(lam),
            "eigenvalue_rel": float(lam / ev[0]),
            "resolvable": int(lam > n * EPS * ev[0]),
        }
        for k, lam in enumerate(ev, start=1)
    ]
    if family == "uniform_1d":
        t = uniform_breakpoints(n)
        rows[-1]["lambda_min_reliable"] = (
            lambda_extremes_A(t, M)[0] if which == "A" else lambda_extremes_H(t)[0]
        )
    return rows


def _mode_rows(family: str, which: str, n: int, ev: np.ndarray, V: np.ndarray) -> list[dict]:
    """The MODES_K largest and smallest eigenvectors, entry by entry, with their sign-change counts."""
    rows = []
    for kind, idx in (("largest", range(MODES_K)), ("smallest", range(n - 1, n - 1 - MODES_K, -1))):
        for rank, j in enumerate(idx, start=1):
            v = _orient(V[:, j])
            sc = sign_changes(v)
            for i in range(n):
                rows.append(
                    {
                        "family": family,
                        "matrix": which,
                        "n": n,
                        "which": kind,
                        "rank": rank,
                        "eigenvalue": float(ev[j]),
                        "sign_changes": sc,
                        "i": i + 1,
                        "coefficient": float(v[i]),
                    }
                )
    return rows


def spectrum_study(settings: SpectrumSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All eigenvalues (descending) of A, H for uniform 1D, one random 1D draw and one 2D draw, and the
    extreme eigenvectors of every matrix with their sign-change counts."""
    n = settings.n
    eig_rows, mode_rows = [], []
    mats = _spectrum_matrices(settings)
    mats[("wishart", "W")] = wishart(n, settings.seed)  # null of the mode claims: modes rows only
    for (family, which), M in mats.items():
        ev, V = np.linalg.eigh(M)
        ev, V = ev[::-1], V[:, ::-1]
        if family != "wishart":
            eig_rows += _eigen_rows(family, which, n, ev, M)
        mode_rows += _mode_rows(family, which, n, ev, V)
    return pd.DataFrame(eig_rows), pd.DataFrame(mode_rows)


# --------------------------------------------------------------------------- positive definiteness
def _pd_verdict(res: dict, dup: bool) -> dict:
    if dup:
        verdict = "singular (duplicated unit)"
    elif res["cholesky_ok"] and res["lambda_min_f64"] > 0:
        verdict = "pd"
    else:
        verdict = "not pd in float64"
    reason = res["reason"]
    if dup and res["cholesky_ok"]:
        reason = "exactly singular; float64 Cholesky did not break down (rounding), lambda_min unresolvable"
    return {
        "cholesky_ok": int(res["cholesky_ok"]),
        "lambda_min_f64": res["lambda_min_f64"],
        "lambda_max_f64": res["lambda_max_f64"],
        "lambda_min_resolvable": int(res["lambda_min_resolvable"]),
        "verdict": verdict,
        "reason": reason,
    }


def _pd_rows_1d(settings: SpectrumSettings) -> list[dict]:
    n = settings.n
    cases = []
    t = uniform_breakpoints(n)
    cases.append(("uniform_1d", 0, "distinct", t, None))
    td = t.copy()
    td[1] = td[0]  # unit 2 duplicates unit 1
    cases.append(("uniform_1d", 0, "duplicated", td, None))
    for draw in range(settings.draws):
        tr, wr = random_units_1d_seeded(n, draw, settings.seed)
        cases.append(("random_1d", draw, "distinct", tr, wr))
    rows = []
    for family, draw, case, tt, ww in cases:
        dup = duplicated(tt, ww)
        for which in ("A", "H"):
            res = pd_check(matrix_1d(tt, ww, which))
            rows.append(
                {
                    "family": family,
                    "matrix": which,
                    "n": n,
                    "draw": draw,
                    "case": case,
                    "duplicated": int(dup),
                    **_pd_verdict(res, dup),
                }
            )
    return rows


def _pd_rows_2d(settings: SpectrumSettings) -> list[dict]:
    n = settings.n
    rows = []
    for draw in range(settings.draws):
        w2, b2, _ = units_2d_seeded(n, draw, settings.seed, settings.margin)
        for case in ("distinct", "duplicated"):
            if case == "duplicated":
                w2, b2 = w2.copy(), b2.copy()
                w2[1], b2[1] = w2[0], b2[0]
            A2, H2 = matrices_2d_exact(w2, b2)
            for which, M in (("A", A2), ("H", H2)):
                dup = case == "duplicated"
                rows.append(
                    {
                        "family": "2d",
                        "matrix": which,
                        "n": n,
                        "draw": draw,
                        "case": case,
                        "duplicated": int(dup),
                        **_pd_verdict(pd_check(M), dup),
                    }
                )
    return rows


def pd_study(settings: SpectrumSettings) -> pd.DataFrame:
    """Cholesky / lambda_min of A and H: distinct units (PD expected) vs a duplicated unit (singular)."""
    return pd.DataFrame(_pd_rows_1d(settings) + _pd_rows_2d(settings))


# ------------------------------------------------------------------------------------------- CG
def _cg_count(A, b, M, rtol: float, maxiter: int):
    it = [0]

    def cb(_):
        it[0] += 1

    x, info = spla.cg(A, b, rtol=rtol, atol=0.0, maxiter=maxiter, M=M, callback=cb)
    return x, it[0], info


def _cg_problems(n: int, settings: CGSettings) -> list[tuple[str, int, np.ndarray | None, np.ndarray | None]]:
    """(family, draw, t, w) of every system at n; 2D systems (t = w = None) are built when solved."""
    problems = [("uniform_1d", 0, uniform_breakpoints(n), np.ones(n))]
    # the null of the iteration claim: the hat mass matrix M on the same breakpoints (well conditioned)
    problems.append(("hat_mass", 0, uniform_breakpoints(n), np.ones(n)))
    for draw in range(settings.draws):
        problems.append(("random_1d", draw, *random_units_1d_seeded(n, draw, settings.seed)))
        # same breakpoints, all directions +1: separates "mixed directions" from "random gaps"
        problems.append(("random_plus_1d", draw, problems[-1][2], np.ones(n)))
        problems.append(("2d", draw, None, None))
    return problems


def _preconditioners(family: str, A: np.ndarray, t: np.ndarray | None, w: np.ndarray | None) -> dict:
    """none, Jacobi, and the hat preconditioner where it is a change of basis for the units.

    B sigma = hats holds only when every direction is +1 (uniform_1d, random_plus_1d). For mixed
    directions (random_1d) B is not a basis change of those units (sigma(t - x) = sigma(x - t) + (t - x)
    needs a rank <= 4 correction in span{1, x}), so no hat row is written there (not applicable)."""
    n = len(A)
    d = np.diag(A)
    precs = {
        "none": None,
        "jacobi": spla.LinearOperator((n, n), matvec=lambda x, d=d: x / d, dtype=float),
    }
    if family in ("uniform_1d", "random_plus_1d") and w is not None and np.all(w > 0):
        # basis change to hats built from the sorted breakpoints (exact for all w = +1), then
        # Jacobi in the hat basis: P^{-1} = B^T diag(B A B^T)^{-1} B
        B = hat_transform(t)
        dc = np.einsum("ij,ij->i", (B @ A), B.toarray())
        precs["hat"] = spla.LinearOperator(
            (n, n), matvec=lambda x, B=B, dc=dc: B.T @ ((B @ x) / dc), dtype=float
        )
    return precs


def cg_study(settings: CGSettings, progress=None) -> pd.DataFrame:
    """CG iterations to ||r|| <= rtol ||b||, b = A c (c ~ N(0,1)): none, Jacobi, hat-basis change."""
    master_seed, rtol, maxiter_factor = settings.seed, settings.rtol, settings.maxiter_factor
    rows = []
    for n in sorted(settings.ns):
        for family, draw, t, w in _cg_problems(n, settings):
            if family == "2d":
                w2, b2, _ = units_2d_seeded(n, draw, master_seed, settings.margin)
                A = matrices_2d_exact(w2, b2)[0]
            elif family == "hat_mass":
                A = hat_mass(t).toarray()
            else:
                A = mass_1d(t, w)
            seed = derive_seed(master_seed, "xia_cg", family, n, draw)
            c = np.random.default_rng(seed).standard_normal(n)
            b = A @ c
            for name, P in _preconditioners(family, A, t, w).items():
                x, iters, info = _cg_count(A, b, P, rtol, maxiter_factor * n)
                rows.append(
                    {
                        "family": family,
                        "n": n,
                        "draw": draw,
                        "seed": seed,
                        "preconditioner": name,
                        "iterations": iters,
                        "converged": int(info == 0),
                        "maxiter": maxiter_factor * n,
                        "rtol": rtol,
                        "rel_residual": float(np.linalg.norm(A @ x - b) / np.linalg.norm(b)),
                        "rel_error": float(np.linalg.norm(x - c) / np.linalg.norm(c)),
                    }
                )
        if progress:
            progress.update()
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- off-diagonal ranks
def structure_study(settings: StructureSettings) -> pd.DataFrame:
    """Numerical ranks (sigma_k > tol sigma_1) of the sibling off-diagonal blocks, every level.

    1D: units ordered by breakpoint; 2D: draw 0 at each n in ns_2d, units ordered by angle (a kd-tree
    ordering on (angle, offset) and a random ordering gave the same level-1 ranks in a trial run).
    Tolerances are taken from the largest down.
    """
    n_1d, tols = settings.n_1d, sorted(settings.tols, reverse=True)
    t = uniform_breakpoints(n_1d)
    tr, wr = random_units_1d_seeded(n_1d, 0, settings.seed)
    mats = {
        ("uniform_1d", "A", n_1d): mass_1d(t),
        ("uniform_1d", "H", n_1d): gauss_newton_1d(t),
        ("random_1d", "A", n_1d): mass_1d(tr, wr),
        ("random_1d", "H", n_1d): gauss_newton_1d(tr, wr),
    }
    for n2 in sorted(settings.ns_2d):
        w2, b2, _ = units_2d_seeded(n2, 0, settings.seed, settings.margin)
        A2, H2 = matrices_2d_exact(w2, b2)
        mats[("2d", "A", n2)], mats[("2d", "H", n2)] = A2, H2
    for nw in sorted(set(settings.ns_2d) | {n_1d}):  # null of the rank claims: random dense SPD
        mats[("wishart", "W", nw)] = wishart(nw, settings.seed)
    ordering = {"uniform_1d": "breakpoint", "random_1d": "breakpoint", "2d": "angle", "wishart": "index"}
    rows = []
    for (family, which, n), M in mats.items():
        for level, idx, r, c in offdiag_blocks(n, settings.min_block):
            ranks = numerical_ranks(M[r, c], tols)
            for tol, rank in zip(tols, ranks, strict=True):
                rows.append(
                    {
                        "family": family,
                        "matrix": which,
                        "n": n,
                        "ordering": ordering[family],
                        "level": level,
                        "block": idx,
                        "block_rows": r.stop - r.start,
                        "block_cols": c.stop - c.start,
                        "tol": float(tol),
                        "rank": rank,
                    }
                )
    return pd.DataFrame(rows)
