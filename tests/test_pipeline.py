"""End-to-end: the whole DAG on tests/config/tiny.yaml in a temporary copy of the repository.

Checks that every figure, table and CSV exists and is sane, that the claims scorecard covers every
claim, that a second run from scratch gives byte-identical result CSVs, and that changing one config
key reruns only the jobs it affects.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slow

COPY = ["Snakefile", "workflow", "scripts", "config", "profiles", "tests/config"]
# CSVs that measure the machine (wall times) rather than the mathematics: excluded from byte equality.
NONDETERMINISTIC = re.compile(r"(^|/)(timing_[^/]*|[^/]*_timing[^/]*)\.csv$|^results/benchmarks/")


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run snakemake on the tiny config; `args` may start with targets (they go first: --configfile
    takes several values and would swallow a target written after it)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    n_targets = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    targets, options = args[:n_targets], args[n_targets:]
    cmd = ["snakemake", *targets, "--cores", "2", "--configfile", "tests/config/tiny.yaml", *options]
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
        if rel == "results/claims.csv":
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
    table = text.split("Job stats:")[1].split("Reasons:")[0]
    rows = [line.split() for line in table.splitlines()]
    return {r[0]: int(r[1]) for r in rows if len(r) == 2 and r[1].isdigit() and r[0] != "total"}


@pytest.fixture(scope="module")
def run_a(repo, tmp_path_factory) -> Path:
    workdir = fresh_copy(repo, tmp_path_factory.mktemp("run_a"))
    snakemake(workdir)
    return workdir


def test_every_target_exists_and_is_sane(run_a):
    proc = snakemake(run_a, "-n")
    assert planned_jobs(proc) == {}, "a finished run must leave nothing to do"
    figures = sorted((run_a / "figures").glob("*.png"))
    assert figures, "no figures were written"
    for png in figures:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000, png
        assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-", png
    for csv in sorted(run_a.glob("results/**/*.csv")):
        df = pd.read_csv(csv)
        assert len(df) > 0, f"{csv} is empty"
        assert not any(c.startswith("Unnamed") for c in df.columns), f"{csv} has an index column"
    for md in sorted(run_a.glob("results/tables/*.md")):
        assert md.read_text().count("|") > 4, md


def test_scorecard_covers_every_claim(run_a):
    scores = pd.read_csv(run_a / "results" / "claims.csv", keep_default_na=False)
    spec = yaml.safe_load((run_a / "config" / "claims.yaml").read_text())["claims"]
    assert list(scores["id"]) == [c["id"] for c in spec]
    assert set(scores["verdict"]) <= {"reproduced", "differs", "not checkable here"}
    # Every claim of a stage this config runs has evidence: none may be "not checkable" for lack of it.
    lacking = scores[scores["reason"].str.contains("was not produced by this run")]
    assert lacking.empty, lacking[["id", "evidence"]].to_string()


def test_same_config_gives_identical_csv_bytes(repo, run_a, tmp_path):
    run_b = fresh_copy(repo, tmp_path / "run_b")
    snakemake(run_b)
    a, b = result_csvs(run_a), result_csvs(run_b)
    assert a.keys() == b.keys()
    differing = [name for name in a if a[name] != b[name]]
    assert not differing, f"CSV bytes differ between two runs of the same config: {differing}"


@pytest.mark.parametrize(
    ("key", "value", "must_rerun", "must_not_rerun"),
    [
        ("gz.theorem1.alphas", [0.5, 3.0], {"expnet_theorem1"}, {"gz_problems", "sscore_train"}),
        ("gz.sscore.steps", 30, {"sscore_train"}, {"gz_problems", "expnet_theorem1"}),
        # training length is not a data key: the datasets are kept, only training and its consumers rerun
        ("ji.datasets.first.steps", 80, {"ji_train", "linapprox_regions"}, {"ji_data", "sscore_train"}),
    ],
)
def test_changing_one_key_reruns_only_affected_jobs(run_a, key, value, must_rerun, must_not_rerun):
    config = yaml.safe_load((run_a / "tests/config/tiny.yaml").read_text())
    node = config
    *parents, last = key.split(".")
    for k in parents:
        node = node[k]
    node[last] = value
    changed = run_a / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    jobs = planned_jobs(snakemake(run_a, "-n", "--configfile", str(changed)))
    assert must_rerun <= jobs.keys(), jobs
    assert not (must_not_rerun & jobs.keys()), jobs


def test_figures_redraw_from_csvs_only(run_a):
    """What `make figures` runs: only plot/table rules may execute, and they all do."""
    listed = [line.split()[0] for line in snakemake(run_a, "--list-rules").stdout.splitlines() if line]
    figure_rules = [r for r in listed if re.match(r"(fig|table)_", r)]
    assert any(r.startswith("fig_xia_") for r in figure_rules), figure_rules  # rules made in a loop
    before = result_csvs(run_a)
    proc = snakemake(
        run_a, "figures", "--allowed-rules", "figures", *figure_rules, "--forcerun", *figure_rules
    )
    text = proc.stdout + proc.stderr
    ran = set(re.findall(r"^rule (\w+):", text, flags=re.M)) | set(
        re.findall(r"^localrule (\w+):", text, flags=re.M)
    )
    assert ran - {"figures"} == set(figure_rules), ran
    assert result_csvs(run_a).keys() == before.keys()


def test_report_references_only_files_that_exist(run_a):
    text = (run_a / "REPORT.md").read_text()
    paths = set(re.findall(r"\((figures/[\w.-]+\.png)\)", text)) | set(
        re.findall(r"`(results/[\w./-]+\.csv)`", text)
    )
    assert any(p.startswith("figures/") for p in paths) and any(p.startswith("results/") for p in paths)
    missing = sorted(p for p in paths if not (run_a / p).exists())
    assert not missing, missing
