"""Seeding, atomic I/O and byte-stable figures: the conventions every stage relies on."""

from __future__ import annotations

import os
import re
import stat

import numpy as np
import pandas as pd
import pytest

from nnmat import io, plotting, seeding
from nnmat.gz import instances


def test_seed_depends_on_keys_not_on_order():
    a = seeding.derive_seed(1, "stage", 8, 3)
    assert a == seeding.derive_seed(1, "stage", 8, 3)
    assert (
        len(
            {
                a,
                seeding.derive_seed(1, "stage", 8, 4),
                seeding.derive_seed(2, "stage", 8, 3),
                seeding.derive_seed(1, "other", 8, 3),
            }
        )
        == 4
    )
    assert 0 <= a < 2**63


def test_problem_trial_is_independent_of_number_of_trials():
    few, many = instances.make_problems(5, 4, 2), instances.make_problems(5, 4, 6)
    np.testing.assert_array_equal(few["X1"], many["X1"][:2])
    np.testing.assert_array_equal(few["seed"], many["seed"][:2])


def test_near_singular_family_hits_the_target_condition_number():
    fam = instances.make_near_singular(3, 6, [1.0, 1e4, 1e8], trials=2)
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


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_outputs_get_the_umask_mode(tmp_path, umask, mode):
    """The atomic writer's temporary file (mode 0600) must not hand its mode to the result."""
    old = os.umask(umask)
    try:
        io.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
        io.write_text("x", tmp_path / "t.md")
    finally:
        os.umask(old)
    for name in ("t.csv", "t.md"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_torch_files_are_byte_reproducible(tmp_path):
    """torch.save(obj, path) writes the (random) temporary name into the archive; ours does not."""
    torch = pytest.importorskip("torch")
    state = {"w": torch.arange(6.0).reshape(2, 3), "step": 3}
    io.write_torch(state, tmp_path / "a.pt")
    io.write_torch(state, tmp_path / "sub" / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "sub" / "b.pt").read_bytes()
    assert torch.equal(io.read_torch(tmp_path / "a.pt")["w"], state["w"])


def test_damaged_csvs_are_refused_naming_the_file(tmp_path):
    good = tmp_path / "good.csv"
    rows = {"d": list(range(2, 22)), "err": [1e-3 * (i + 1) for i in range(20)], "note": ["a,b"] + ["c"] * 19}
    rows["err"][1] = 2.5e-3
    io.write_csv(pd.DataFrame(rows), good)
    assert len(io.read_csv(good)) == 20
    data = good.read_bytes()
    cases = {
        "cut.csv": (data[:-4], "truncated"),  # a row cut mid-line
        "short.csv": (data.replace(b"\n4,", b"\n4\n", 1)[: len(data)], "fields"),
        "garbled.csv": (
            data.replace(b"0.0025", b"0.0O25"),
            "line 3, column 'err': '0.0O25000000000000001' is not a number",
        ),
        "empty.csv": (b"", "empty"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(io.CorruptInputError, match=re.escape(message)) as err:
            io.read_csv(tmp_path / name)
        assert name in str(err.value)
    mixed = tmp_path / "mixed.csv"  # numbers beside real text, or codes with spaces, are not "garbled"
    io.write_csv(
        pd.DataFrame({"paper_value": ["0.5", "not printed", "12"], "codes": ["0110", "0110 1100", "1"]}),
        mixed,
    )
    assert len(io.read_csv(mixed)) == 3
