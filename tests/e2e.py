"""Helpers of the tests: run snakemake on the tiny config, compare result CSVs, load a script."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

COPY = ["Snakefile", "workflow", "scripts", "config", "profiles", "tests/config"]
# CSVs that measure the machine (wall times) rather than the mathematics: excluded from byte equality.
NONDETERMINISTIC = re.compile(r"(^|/)(timing_[^/]*|[^/]*_timing[^/]*)\.csv$|^results/benchmarks/")


def snakemake(
    workdir: Path,
    *args: str,
    timeout: int = 600,
    snakefile: Path | None = None,
    configfile: str | None = None,
) -> subprocess.CompletedProcess:
    """Run snakemake on the tiny config in `workdir` (with the Snakefile there, or `snakefile`);
    `args` may start with targets (they go first: --configfile takes several values and would
    swallow a target written after it)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    n_targets = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    targets, options = args[:n_targets], args[n_targets:]
    configfile = configfile or "tests/config/tiny.yaml"
    cmd = ["snakemake", *targets, "--cores", "2", "--configfile", configfile, *options]
    if snakefile is not None:
        cmd += ["--snakefile", str(snakefile), "--directory", str(workdir)]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        logs = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted(workdir.glob("logs/**/*.log")))
        raise AssertionError(f"snakemake {args} failed:\n{proc.stderr[-6000:]}\n{logs[-12000:]}")
    return proc


def fresh_copy(repo: Path, dest: Path) -> Path:
    for item in COPY:
        src, dst = repo / item, dest / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    return dest


def result_csvs(workdir: Path) -> dict[str, bytes]:
    """Result CSV bytes by path, wall-time CSVs left out; in the scorecard, the rows of claims whose
    evidence is a wall-time CSV (a speed-up) are left out too, and every other row must be identical."""
    files = {}
    for path in sorted(workdir.glob("results/**/*.csv")):
        rel = path.relative_to(workdir).as_posix()
        if NONDETERMINISTIC.search(rel):
            continue
        if rel == "results/claims.csv" or rel.startswith("results/claims/"):
            scores = pd.read_csv(path, dtype=str, keep_default_na=False)  # text kept exactly
            timed = scores["evidence"].map(lambda e: bool(NONDETERMINISTIC.search(e)))
            files[rel] = scores[~timed].to_csv(index=False).encode()
        else:
            files[rel] = path.read_bytes()
    return files


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    # the table: a header, a dashed rule, one "rule count" row per rule, "total", then a blank line
    lines = text.split("Job stats:", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(line.split())
    return {r[0]: int(r[1]) for r in rows if len(r) == 2 and r[1].isdigit() and r[0] != "total"}


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str):
    """A script of scripts/ as a module (its main(argv) is what the rules run)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
