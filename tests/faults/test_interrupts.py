"""Whole-run faults on the tiny config (`make test-faults`; minutes, so not part of `make test`):
kill -9 of the whole run and of one training job, Ctrl-C, two runs at once. After each, a plain
rerun must finish with CSVs byte-identical to an undisturbed run (test fixture run_a)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from e2e import result_csvs, snakemake  # tests/ is on sys.path

pytestmark = [pytest.mark.slow, pytest.mark.faults]
REPO = Path(__file__).resolve().parents[2]


def start(workdir: Path, *args: str, configfile: Path = REPO / "tests/config/tiny.yaml") -> subprocess.Popen:
    """snakemake on the tiny config in `workdir`, in its own process group (so kill -9 takes all)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "OPENBLAS_NUM_THREADS": "1",
    }
    cmd = ["snakemake", *args, "--cores", "2", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile)]  # fmt: skip
    out = (workdir / "snakemake.out").open("a")
    return subprocess.Popen(
        cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def kill_training_jobs_in(workdir: Path) -> None:
    """kill -9 the ji_train.py processes running in `workdir` (and no other run's)."""
    pids = subprocess.run(["pgrep", "-f", "ji_train.py"], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/cwd").resolve() == workdir.resolve():
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


def finish(workdir: Path) -> None:
    """Unlock if a killed run left its lock, then run to completion."""
    snakemake(
        workdir, "--unlock", snakefile=REPO / "Snakefile", configfile=str(REPO / "tests/config/tiny.yaml")
    )
    snakemake(
        workdir, snakefile=REPO / "Snakefile", configfile=str(REPO / "tests/config/tiny.yaml"), timeout=1500
    )


def assert_same(run_a: Path, workdir: Path) -> None:
    a, b = result_csvs(run_a), result_csvs(workdir)
    assert a.keys() == b.keys(), sorted(a.keys() ^ b.keys())
    assert not [k for k in a if a[k] != b[k]]


def test_kill_9_of_the_whole_run_then_rerun(run_a, tmp_path):
    wd = tmp_path / "killed"
    proc = start(wd)
    wait_for(lambda: len(list(wd.glob("results/**/*.csv"))) >= 10, 600, "some results")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finish(wd)
    assert_same(run_a, wd)


def test_ctrl_c_and_a_second_run_at_once(run_a, tmp_path):
    wd = tmp_path / "interrupted"
    first = start(wd)
    wait_for(lambda: any(wd.glob(".snakemake/locks/*")), 120, "the first run's lock")
    second = start(wd)  # the same directory while the first runs: refused by Snakemake's lock
    assert second.wait(timeout=300) != 0
    assert "cannot be locked" in (wd / "snakemake.out").read_text()
    wait_for(lambda: len(list(wd.glob("results/**/*.csv"))) >= 5, 600, "some results")
    assert first.poll() is None, "the run ended before the interrupt: nothing was tested"
    os.killpg(first.pid, signal.SIGINT)
    first.wait(timeout=300)  # Snakemake stops its jobs and removes their incomplete outputs
    finish(wd)
    assert_same(run_a, wd)


def test_kill_9_of_one_training_job_resumes(tmp_path):
    """A training job killed after a checkpoint: the rerun resumes from it and ends with the same
    curves and final errors as an undisturbed job (longer training than tiny's, so the kill lands)."""
    config = yaml.safe_load((REPO / "tests/config/tiny.yaml").read_text())
    config["ji"]["datasets"]["first"]["steps"] = 20000
    config["ji"]["training"]["checkpoint_every"] = 1000
    cfg = tmp_path / "longer.yaml"
    cfg.write_text(yaml.safe_dump(config))
    target = "results/ji/final_first.csv"
    where = {"snakefile": REPO / "Snakefile", "configfile": str(cfg)}
    calm = tmp_path / "calm"
    calm.mkdir()
    snakemake(calm, target, timeout=1500, **where)
    wd = tmp_path / "train_killed"
    proc = start(wd, target, configfile=cfg)
    wait_for(lambda: any(wd.glob("results/ji/checkpoints/first-*.pt")), 900, "a first checkpoint")
    kill_training_jobs_in(wd)
    assert proc.wait(timeout=300) != 0, "the killed job must fail the run"
    snakemake(wd, "--unlock", **where)
    snakemake(wd, target, timeout=1500, **where)
    assert "resumed" in (wd / "logs/ji/train_first.log").read_text()
    for name in ("results/ji/final_first.csv", "results/ji/curves_first.csv"):
        assert (wd / name).read_bytes() == (calm / name).read_bytes(), name
