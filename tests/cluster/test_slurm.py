"""Cluster execution on a real SLURM: `make test-cluster` (tests/cluster/slurm_local.sh starts it).

* The tiny config runs through `--profile profiles/slurm-local` (Snakemake's SLURM executor plugin):
  every non-local job is a SLURM job, and the result CSVs are byte-identical to those of a local run
  of the same copy of the repository.
* A job that fails once is resubmitted (profile: `retries: 1`) and the workflow succeeds; a job that
  always fails is reported as failed and snakemake exits non-zero within a bounded time (no hang).
* The `gpu` resource, which the training rules declare when the config says `device: cuda`, becomes a
  GPU allocation in SLURM (the local test cluster has one fake GPU: no CUDA behind it).

Skipped, with the reason, where no SLURM answers or it is not the local test cluster (partition
`local`), so `make test` on a laptop or a real cluster's login node never submits anything.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from e2e import fresh_copy, result_csvs, snakemake  # tests/ is on sys.path (tests/conftest.py)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROFILE = "profiles/slurm-local"
PARTITION = "local"  # the partition of tests/cluster/slurm_local.sh and profiles/slurm-local
SUBMITTED = re.compile(r"^Job (\d+) has been submitted with SLURM jobid (\d+)", flags=re.M)


def slurm_unavailable() -> str | None:
    """Why the test cannot run here, or None when the local test cluster answers."""
    if shutil.which("sinfo") is None:
        return "no SLURM here (sinfo not found); `make test-cluster` starts a local one"
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=20)
        if "is UP" not in ping.stdout:
            return "the SLURM controller is down (scontrol ping); tests/cluster/slurm_local.sh start"
        states = subprocess.run(
            ["sinfo", "-h", "-p", PARTITION, "-o", "%t"], capture_output=True, text=True, timeout=20
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"SLURM does not answer: {exc}"
    if not states:
        return f"SLURM has no partition '{PARTITION}': not the test cluster of tests/cluster/slurm_local.sh"
    if not any(s.rstrip("*~#") in {"idle", "mix", "alloc"} for s in states):
        return f"the node of partition '{PARTITION}' is not usable ({', '.join(states)})"
    return None


REASON = slurm_unavailable()
if REASON and os.environ.get("NNMAT_REQUIRE_SLURM") == "1":  # `make test-cluster`: no silent skip
    raise RuntimeError(f"NNMAT_REQUIRE_SLURM=1 but {REASON}")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


def env() -> dict[str, str]:
    """The venv first on PATH: the plugin submits with --export=ALL, so the jobs inherit it."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
    }


def ran_jobs(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """Snakemake job id -> rule name, for the jobs it ran remotely ("rule") and locally ("localrule").
    The logs of failed jobs that snakemake prints (show-failed-logs) are left out: they hold the job's
    own snakemake output, with its own job ids."""
    text = re.sub(r"^Logfile .*:\n={80}\n.*?^={80}$", "", text, flags=re.M | re.S)
    remote, local = {}, {}
    blocks = re.findall(r"^(rule|localrule) (\w+):\n(?: {4}.*\n)*? {4}jobid: (\d+)$", text, re.M)
    for kind, rule, jobid in blocks:
        (remote if kind == "rule" else local)[jobid] = rule
    return remote, local


def squeue_states(slurm_ids: set[str]) -> dict[str, str]:
    """SLURM job id -> state, for the jobs squeue still lists (MinJobAge=600 in the test cluster)."""
    out = subprocess.run(
        ["squeue", "-h", "--states=all", "-j", ",".join(sorted(slurm_ids)), "-o", "%i %T"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    return dict(line.split() for line in out.splitlines() if len(line.split()) == 2)


# ------------------------------------------------------------------------------------------------
# The tiny config on SLURM versus locally


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, str, float]]:
    """The tiny config through SLURM, then locally, from one copy of the repository taken once (so an
    edit made in between cannot make them differ), each in an empty working directory of its own
    (`--directory`: results on scratch, code in the clone)."""
    base = tmp_path_factory.mktemp("tiny")
    clone = fresh_copy(REPO, base / "clone")
    args = {"slurm": ("--profile", str(clone / PROFILE)), "local": ()}
    results = {}
    for name in ("slurm", "local"):  # one after the other: each has the machine's CPUs to itself
        workdir = base / name
        workdir.mkdir()
        start = time.monotonic()
        tiny = str(clone / "tests/config/tiny.yaml")
        proc = snakemake(workdir, *args[name], timeout=1800, snakefile=clone / "Snakefile", configfile=tiny)
        results[name] = (workdir, proc.stdout + proc.stderr, time.monotonic() - start)
    return results


def test_every_non_local_job_ran_as_a_slurm_job(runs):
    _, text, seconds = runs["slurm"]
    print(f"tiny config on SLURM: {seconds:.0f} s; locally: {runs['local'][2]:.0f} s")
    remote, local = ran_jobs(text)
    submitted = SUBMITTED.findall(text)
    by_job: dict[str, set[str]] = {}
    for jobid, slurm_id in submitted:
        by_job.setdefault(jobid, set()).add(slurm_id)
    assert remote, "no job ran through the SLURM executor"
    assert local, "plot/table rules are localrules: some must have run on the submit host"
    not_submitted = {f"{rule} (job {j})" for j, rule in remote.items() if j not in by_job}
    assert not not_submitted, f"non-local jobs that were not SLURM jobs: {sorted(not_submitted)}"
    assert not set(by_job) & set(local), "a localrule was submitted to SLURM"
    assert not {r for r in local.values() if r.endswith("_train")}, "training must run on the cluster"
    # SLURM itself knows them, and the last attempt of each (a retry follows a failed one) completed.
    states = squeue_states({s for ids in by_job.values() for s in ids})
    assert states, "squeue lists none of the submitted jobs"
    last = {max(ids, key=int) for ids in by_job.values()}
    unfinished = {s: st for s, st in states.items() if s in last and st != "COMPLETED"}
    assert not unfinished, unfinished
    retried = {remote.get(j, j): sorted(ids, key=int) for j, ids in by_job.items() if len(ids) > 1}
    print(f"{len(by_job)} SLURM jobs, {len(local)} local jobs, retried: {retried or 'none'}")


def test_slurm_run_gives_the_same_csvs_as_a_local_run(runs):
    slurm_dir, local_dir = runs["slurm"][0], runs["local"][0]
    on_slurm, here = result_csvs(slurm_dir), result_csvs(local_dir)
    assert on_slurm, "the SLURM run wrote no result CSVs"
    assert on_slurm.keys() == here.keys()
    differing = [name for name in on_slurm if on_slurm[name] != here[name]]
    assert not differing, f"CSV bytes differ between the SLURM run and the local run: {differing}"


# ------------------------------------------------------------------------------------------------
# Failures and retries, GPU requests: tests/cluster/Snakefile, in scratch directories


def toy(workdir: Path, *targets: str, timeout: int = 300) -> subprocess.Popen:
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = ["snakemake", *targets, "-s", str(HERE / "Snakefile"), "--profile", str(REPO / PROFILE)]
    with (workdir / "snakemake.out").open("w") as log:
        return subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, text=True, env=env())


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory) -> dict[str, tuple[Path, int, float, str]]:
    """Two runs side by side: one that must succeed (flaky + gpu), one that must fail (broken)."""
    base = tmp_path_factory.mktemp("toy")
    runs = {"ok": (base / "ok", ["flaky.txt", "gpu.txt"]), "broken": (base / "broken", ["broken.txt"])}
    start = time.monotonic()
    procs = {name: toy(wd, *targets) for name, (wd, targets) in runs.items()}
    results = {}
    for name, proc in procs.items():
        try:
            rc = proc.wait(timeout=max(1, 300 - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
            pytest.fail(f"snakemake ({name}) did not finish within 300 s: a failing SLURM job must not hang")
        wd = runs[name][0]
        results[name] = (wd, rc, time.monotonic() - start, (wd / "snakemake.out").read_text())
    return results


def test_job_failing_once_is_retried_and_succeeds(toy_runs):
    wd, rc, seconds, text = toy_runs["ok"]
    assert rc == 0, text[-6000:]
    attempts = (wd / "flaky_attempts.txt").read_text().split("\n")
    attempts = [a for a in attempts if a]
    assert len(attempts) == 2 and len(set(attempts)) == 2, attempts  # two SLURM jobs, two ids
    assert (wd / "flaky.txt").read_text().startswith("ok after 2 attempts")
    assert re.search(r"Error in rule flaky:\n\s+message: SLURM-job '\d+' failed", text), text[-6000:]
    assert "Trying to restart job" in text
    attempt_ids = {a.removeprefix("SLURM job ") for a in attempts}
    assert attempt_ids <= {s for _, s in SUBMITTED.findall(text)}, (attempts, SUBMITTED.findall(text))
    print(f"flaky + gpu on SLURM: {seconds:.0f} s")


def test_job_always_failing_is_reported_and_snakemake_exits(toy_runs):
    wd, rc, seconds, text = toy_runs["broken"]
    assert rc != 0, text[-6000:]
    assert seconds < 240, f"took {seconds:.0f} s to report a failed job"
    assert len(SUBMITTED.findall(text)) == 2, "one submission plus one retry (profile: retries: 1)"
    errors = re.findall(r"Error in rule broken:\n\s+message: SLURM-job '\d+' failed", text)
    assert len(errors) == 2, text[-6000:]
    assert "Exiting because a job execution failed" in text
    assert not (wd / "broken.txt").exists()
    print(f"always-failing job reported after {seconds:.0f} s")


def test_gpu_resource_becomes_a_slurm_gpu_allocation(toy_runs):
    wd, rc, _, text = toy_runs["ok"]
    assert rc == 0, text[-6000:]
    granted = (wd / "gpu.txt").read_text()
    assert "TresPerJob=gres:gpu:1" in granted, granted  # sbatch --gpus=1
    assert re.search(r"^GRES=gpu:1\(IDX:\d+\)$", granted, re.M), granted  # allocated on the node
    assert "SLURM_GPUS_ON_NODE=1" in granted, granted  # and the job step sees it


@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_training_rules_request_a_gpu_only_with_device_cuda(tmp_path, device):
    """The workflow parses under the SLURM profile with either device; with cuda the training rules
    (and the GPU inference timing) carry gpu=1, which the plugin turns into --gpus=1 (see above);
    with cpu no job asks for a GPU."""
    workdir = fresh_copy(REPO, tmp_path / device)
    proc = subprocess.run(
        ["snakemake", "-n", "--configfile", "tests/config/tiny.yaml", "--config", f"device={device}",
         "--profile", PROFILE, "--workflow-profile", "none"],
        cwd=workdir, capture_output=True, text=True, env=env(), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-6000:]
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(?: {4}.*\n)*? {4}resources: (.*)$", proc.stdout, re.M)
    assert jobs, proc.stdout[-3000:]
    with_gpu = {rule for rule, res in jobs if re.search(r"\bgpu=1\b", res)}
    if device == "cuda":
        assert {"ji_train", "linapprox_sweep_train"} <= with_gpu, with_gpu
        assert not {r for r in with_gpu if r.startswith(("fig_", "table_"))}, with_gpu
    else:
        assert not with_gpu, with_gpu
