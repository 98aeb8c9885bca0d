"""What produced a result: config slice, seeds, package versions, git state, host, threads, wall time."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("numpy", "scipy", "pandas", "matplotlib", "torch", "mpmath", "snakemake")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(repo: Path | None = None) -> dict[str, Any]:
    """Commit hash and dirty flag of the repository holding this file (None outside git)."""
    repo = repo or Path(__file__).resolve().parents[2]

    def run(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def thread_env() -> dict[str, str | None]:
    keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return {k: os.environ.get(k) for k in keys}


def collect(stage: str, params: dict[str, Any], wall_s: float, **extra: Any) -> dict[str, Any]:
    return {
        "stage": stage,
        "params": params,
        "wall_s": round(wall_s, 3),
        "packages": package_versions(),
        "python": platform.python_version(),
        "git": git_state(),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "threads": thread_env(),
        **extra,
    }


def merge(stage: str, jobs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One stage's provenance from its jobs' records (keyed by file name): shared facts once, per-job rest."""
    shared_keys = ("packages", "python", "git", "host", "cpu_count")
    shared = {k: v for k, v in next(iter(jobs.values()), {}).items() if k in shared_keys}
    return {
        "stage": stage,
        "n_jobs": len(jobs),
        "wall_s_total": round(sum(j.get("wall_s", 0.0) for j in jobs.values()), 3),
        **shared,
        "jobs": {n: {k: v for k, v in j.items() if k not in shared_keys} for n, j in sorted(jobs.items())},
    }
