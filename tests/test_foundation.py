"""Seeding, atomic I/O and byte-stable figures: the conventions every stage relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nnmat import gz_problems, io, plotting, seeding


def test_seed_depends_on_keys_not_on_order():
    a = seeding.derive_seed(1, "stage", 8, 3)
    assert a == seeding.derive_seed(1, "stage", 8, 3)
    assert len({a, seeding.derive_seed(1, "stage", 8, 4), seeding.derive_seed(2, "stage", 8, 3),
                seeding.derive_seed(1, "other", 8, 3)}) == 4
    assert 0 <= a < 2**63


def test_problem_trial_is_independent_of_number_of_trials():
    few, many = gz_problems.make_problems(5, 4, 2), gz_problems.make_problems(5, 4, 6)
    np.testing.assert_array_equal(few["X1"], many["X1"][:2])
    np.testing.assert_array_equal(few["seed"], many["seed"][:2])


def test_near_singular_family_hits_the_target_condition_number():
    fam = gz_problems.make_near_singular(3, 6, [1.0, 1e4, 1e8], trials=2)
    conds = np.linalg.cond(fam["X1"] - fam["X2"])
    np.testing.assert_allclose(conds, fam["cond_target"], rtol=1e-6)  # exact up to rounding


def test_write_csv_is_atomic_and_byte_stable(tmp_path):
    df = pd.DataFrame({"d": [2, 4], "rel_residual": [1 / 3, np.nan]})
    out = tmp_path / "sub" / "x.csv"
    io.write_csv(df, out)
    first = out.read_bytes()
    io.write_csv(df, out)
    assert out.read_bytes() == first and b"0.33333333333333331" in first
    assert [p.name for p in out.parent.iterdir()] == ["x.csv"]  # no temp file left behind


def test_failed_write_leaves_no_partial_file(tmp_path):
    out = tmp_path / "x.csv"
    with pytest.raises(RuntimeError), io.atomic_path(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_figures_are_byte_stable(tmp_path):
    def draw(stem):
        fig, ax = plotting.new_figure()
        ax.semilogy([1, 2, 3], [1e-3, 1e-9, 1e-15])
        plotting.save_figure(fig, tmp_path / f"{stem}.png", tmp_path / f"{stem}.pdf")

    draw("a")
    draw("b")
    for ext in ("png", "pdf"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()
