"""Damaged inputs and hostile file systems: each is named in a clear error, or survived correctly;
never a silently wrong table. (Whole-run faults: test_interrupts.py, `make test-faults`.)"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from nnmat import io
from nnmat.ji import engine

REPO = Path(__file__).resolve().parents[2]


def test_corrupt_npz_is_named(tmp_path):
    good = tmp_path / "d.npz"
    io.write_npz(good, X=np.arange(6.0))
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:40])
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    for name in ("cut.npz", "junk.npz"):
        with pytest.raises(io.CorruptInputError, match=name):
            io.read_npz(tmp_path / name)


def test_corrupt_model_file_is_named(tmp_path):
    path = tmp_path / "fc2_seed0.pt"
    io.write_torch({"0.weight": torch.zeros(2, 2)}, path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(io.CorruptInputError, match="fc2_seed0.pt: not a readable torch file"):
        io.read_torch(path)


def test_crafted_pickle_cannot_run_code(tmp_path):
    """A .pt that would run code on unpickling is refused (weights_only=True), not executed."""
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(io.CorruptInputError):
        io.read_torch(path)
    assert not marker.exists()


def test_corrupt_checkpoint_is_set_aside_and_training_restarts(tmp_path, caplog):
    path = tmp_path / "first-abc.pt"
    path.write_bytes(b"PK\x03\x04 truncated")
    with caplog.at_level(logging.WARNING):
        assert engine.load_checkpoint(path) is None  # None: train from scratch
    assert not path.exists() and (tmp_path / "first-abc.pt.corrupt").exists()
    assert "first-abc.pt is unreadable" in caplog.text and "training from scratch" in caplog.text


def test_a_table_script_refuses_a_cut_csv_naming_it(tmp_path):
    """A result CSV cut mid-line must stop the table job with the file named, not shrink the table."""
    trace = tmp_path / "trace_d2_sigmoid_gd.csv"
    rows = [{"d": 2, "activation": "sigmoid", "optimizer": "gd", "run": r, "step": s, "s": 0.5}
            for r in range(2) for s in (0, 10)]  # fmt: skip
    io.write_csv(pd.DataFrame(rows), trace)
    trace.write_bytes(trace.read_bytes()[:-7])
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "table_gz_sscore_final.py"), str(trace),
         "--out", str(tmp_path / "t.csv"), str(tmp_path / "t.md")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "trace_d2_sigmoid_gd.csv: truncated" in proc.stderr, proc.stderr[-1500:]
    assert not (tmp_path / "t.csv").exists()


def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def test_full_disk_leaves_no_partial_output(tmp_path):
    disk = tmp_path / "small"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)):
        pytest.skip("needs root and tmpfs to make a real full disk")
    try:
        big = pd.DataFrame({"x": np.arange(100_000, dtype=float)})
        with pytest.raises(OSError) as err:
            io.write_csv(big, disk / "r.csv")
        assert "No space left" in str(err.value) or err.value.errno == 28
        assert list(disk.iterdir()) == [], "a partial or temporary file was left on the full disk"
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_read_only_results_directory_fails_clearly(tmp_path):
    target = tmp_path / "results"
    target.mkdir()
    if not (_mount("--bind", str(target), str(target)) and _mount("-o", "remount,bind,ro", str(target))):
        pytest.skip("needs root to make a read-only bind mount (chmod does not stop root)")
    try:
        probe = target / "probe"
        with pytest.raises(OSError):
            probe.write_text("x")  # the write really fails
        with pytest.raises(OSError, match="Read-only file system"):
            io.write_csv(pd.DataFrame({"a": [1]}), target / "r.csv")
        assert list(target.iterdir()) == []
    finally:
        subprocess.run(["umount", str(target)], check=False)


def test_table1_refuses_a_final_csv_that_does_not_match_its_provenance(tmp_path):
    """One model row dropped from a final CSV must not become Table 1 with 'seeds = 1' for it."""
    rows = [{"dataset": "first", "arch": a, "seed": 10 + i, "seed_index": i, "n": 2, "steps": 5,
             "status": "ok", "test_mae": 0.01, "test_max_abs_err": 0.1, "test_rel_fro_err_mean": 0.01,
             "constant_mae": 0.05, "linear_mae": 0.004, "learned": True, "did_not_learn": False}
            for a in ("fc2", "fc3") for i in range(2)]  # fmt: skip
    final, prov = tmp_path / "final_first.csv", tmp_path / "train_first.json"
    io.write_json({"params": {"settings": {"dataset": "first", "archs": ["fc2", "fc3"], "seeds": 2}}}, prov)
    out = [str(tmp_path / "t.csv"), str(tmp_path / "t.md")]
    script = [sys.executable, str(REPO / "scripts" / "table_ji.py"), "table1", str(final),
              "--provenance-of-inputs", str(prov), "--out", *out]  # fmt: skip
    io.write_csv(pd.DataFrame(rows), final)
    assert subprocess.run(script, capture_output=True, timeout=120).returncode == 0
    io.write_csv(pd.DataFrame(rows[:-1]), final)
    (tmp_path / "t.csv").unlink()
    proc = subprocess.run(script, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and not (tmp_path / "t.csv").exists()
    assert "final_first.csv: 3 model rows, its provenance trained 4" in proc.stderr, proc.stderr[-1000:]
    assert "missing [('fc3', 1)]" in proc.stderr
