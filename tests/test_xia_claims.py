"""Every Xia paper claim holds on evidence shaped like its table where it should, and fails on its null.

The fixtures are small DataFrames with the columns of the xia_* tables: rows for the claim's set-up
(values of the kind the paper describes) and rows of its null (hat mass matrix, Wishart matrix,
duplicated unit, dense Cholesky, normal equations), as the stages write them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nnmat.claims import score_claim

CLAIMS = yaml.safe_load((Path(__file__).parents[1] / "config" / "claims" / "xia.yaml").read_text())["claims"]
CONFIG = {"xia": {"solver": {"dense_max_n": 8192}}}
T = "results/tables/"


def _timing(scale: np.ndarray | None = None) -> pd.DataFrame:
    ns = np.array([256, 512, 1024, 2048, 4096, 8192])
    rows = []
    for method, f in (
        ("hodlr_cholesky", lambda n: 1e-7 * n * np.log2(n) ** 2),
        ("dense_cholesky", lambda n: 1e-11 * n**3.0),
    ):
        for n in ns:
            rows.append(
                {
                    "method": method,
                    "status": "ok",
                    "n": n,
                    "factor_solve_s": f(n),
                    "fit_point": int(n in (256, 1024, 8192)),
                }
            )
    df = pd.DataFrame(rows)
    if scale is not None:
        df["factor_solve_s"] *= scale
    return df


def _fixtures() -> dict[str, pd.DataFrame]:
    pd_rows = [
        {"family": fam, "matrix": m, "case": case, "cholesky_ok_all": int(case == "distinct"),
         "lambda_min_resolvable_all": int(case == "distinct")}
        for fam in ("uniform_1d", "2d") for m in ("A", "H") for case in ("distinct", "duplicated")
    ]  # fmt: skip
    cond = pd.DataFrame(
        {
            "family": ["uniform_1d", "uniform_1d", "hat_mass"],
            "matrix": ["A", "H", "M"],
            "exponent": [3.98, 1.99, 0.01],
        }
    )
    modes = pd.DataFrame(
        [
            {
                "family": "uniform_1d",
                "which": "smallest",
                "rank": 1,
                "sign_changes": 31,
                "sign_change_fraction": 1.0,
            },
            {
                "family": "uniform_1d",
                "which": "largest",
                "rank": 1,
                "sign_changes": 0,
                "sign_change_fraction": 0.0,
            },
            {
                "family": "wishart",
                "which": "smallest",
                "rank": 1,
                "sign_changes": 16,
                "sign_change_fraction": 0.52,
            },
            {
                "family": "wishart",
                "which": "largest",
                "rank": 1,
                "sign_changes": 15,
                "sign_change_fraction": 0.48,
            },
        ]
    )
    ns = [16, 32, 64, 128, 256]
    cg = pd.DataFrame(
        [
            {
                "family": fam,
                "preconditioner": p,
                "n": n,
                "iterations_median": f(n),
                "iterations_max": f(n) + 2,
            }
            for fam, p, f in (
                ("uniform_1d", "none", lambda n: 2 * n),
                ("uniform_1d", "hat", lambda n: 9),
                ("hat_mass", "none", lambda n: 14),
            )
            for n in ns
        ]
    )
    ranks = pd.DataFrame(
        [{"family": "uniform_1d", "matrix": m, "n": 1024, "tol": tol, "max_rank": r}
         for m, r in (("A", 2), ("H", 1)) for tol in (1e-2, 1e-8, 1e-12)]
        + [{"family": "2d", "matrix": m, "n": n, "tol": 1e-8, "max_rank": int(4 * np.log2(n))}
           for m in ("A", "H") for n in (64, 128, 256)]
        + [{"family": "wishart", "matrix": "W", "n": n, "tol": tol, "max_rank": n // 2}
           for n in (64, 128, 256, 1024) for tol in (1e-8, 1e-12)]
    )  # fmt: skip
    solver = pd.DataFrame(
        {
            "method": ["hodlr_cholesky", "hat_On", "normal_equations", "dense_cholesky"],
            "status": ["ok"] * 4,
            "rel_error_ratio_vs_dense": [1.1, 0.9, 3.0e6, 1.0],
        }
    )
    return {
        T + "xia_pd.csv": pd.DataFrame(pd_rows),
        T + "xia_cond_fit.csv": cond,
        T + "xia_modes.csv": modes,
        T + "xia_cg.csv": cg,
        T + "xia_ranks.csv": ranks,
        T + "xia_solver.csv": solver,
        T + "xia_solver_timing.csv": _timing(),
    }


def _score(claim, fixtures):
    return score_claim(claim, list(fixtures), lambda f: fixtures[f], CONFIG)


PAPER = [c for c in CLAIMS if c["kind"] == "paper" and not c.get("not_checkable")]


def test_every_claim_has_a_kind_and_every_paper_claim_a_null():
    assert CLAIMS and all(c.get("kind") in ("paper", "extension", "sanity") for c in CLAIMS)
    for c in CLAIMS:
        if c["kind"] == "paper" and not c.get("not_checkable"):
            assert c.get("null", {}).get("what"), c["id"]
    assert not any(
        "FACTS" in str(c.get("paper_value", "")) for c in CLAIMS
    )  # no quick check as a paper value


@pytest.mark.parametrize("claim", PAPER, ids=[c["id"] for c in PAPER])
def test_paper_claim_holds_and_fails_on_its_null(claim):
    row = _score(claim, _fixtures())
    assert row["verdict"] == "reproduced", row["reason"]
    assert row["null_verdict"] == "differs"
    assert row["null_value"] != "" and math.isfinite(float(row["null_value"]))


def test_timing_verdicts_survive_2x_noise():
    claims = [c for c in CLAIMS if c.get("timed")]
    assert claims
    gen = np.random.default_rng(0)
    for c in claims:
        base = _score(c, _fixtures())["verdict"]
        assert base == "reproduced"
        for _ in range(200):
            fx = _fixtures()
            fx[T + "xia_solver_timing.csv"] = _timing(gen.uniform(0.5, 2.0, size=12))
            assert _score(c, fx)["verdict"] == base


def test_timing_claim_needs_paper_scale_on_a_small_range():
    c = next(c for c in CLAIMS if c.get("timed"))
    row = score_claim(
        c, list(_fixtures()), lambda f: _fixtures()[f], {"xia": {"solver": {"dense_max_n": 256}}}
    )
    assert row["verdict"] == "needs paper scale"


def test_fit_points_and_noise_bound():
    from nnmat.xia.tables import fit_points, solver_timing

    np.testing.assert_array_equal(fit_points(np.array([256, 512, 1024, 2048, 4096, 8192])), [256, 1024, 8192])
    t = _timing().drop(columns="fit_point").assign(status="ok")
    out = solver_timing({"solver_timing": t})
    assert set(out.n[out.fit_point == 1]) == {256, 1024, 8192}
    assert out.noise_bound.iloc[0] == pytest.approx(0.421, abs=1e-3)
