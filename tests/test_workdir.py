"""Runs outside the clone: `--directory` on an empty folder, use as a Snakemake module, and one paper
at a time. Code, schema, claims and captions come from the clone; everything written lands in the
working directory, and the CSV bytes equal those of the in-clone run (test_pipeline's run_a)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from e2e import result_csvs, snakemake  # tests/ is on sys.path

pytestmark = pytest.mark.slow

MODULE_SNAKEFILE = """\
configfile: "config/tiny.yaml"


module nnmat:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from nnmat
"""


def assert_same_csvs(a, b):
    assert a.keys() == b.keys(), sorted(a.keys() ^ b.keys())
    differing = [name for name in a if a[name] != b[name]]
    assert not differing, f"CSV bytes differ from the in-clone run: {differing}"


def test_run_in_an_empty_directory_matches_the_clone(repo, run_a, tmp_path):
    """Same config, another working directory, the clone untouched: same CSV bytes."""
    workdir = tmp_path / "scratch"
    workdir.mkdir()
    before = sorted(p.name for p in repo.iterdir())
    snakemake(workdir, snakefile=repo / "Snakefile", configfile=str(repo / "tests/config/tiny.yaml"))
    assert (workdir / "REPORT.md").exists() and (workdir / "figures/gz_fig1_sscore.png").exists()
    assert sorted(p.name for p in repo.iterdir()) == before, "the run wrote into the clone"
    assert_same_csvs(result_csvs(run_a), result_csvs(workdir))


def test_use_as_a_module(repo, run_a, tmp_path):
    """A folder holding only a Snakefile that declares nnmat as a module, and its config."""
    workdir = tmp_path / "deployed"
    (workdir / "config").mkdir(parents=True)
    (workdir / "config/tiny.yaml").write_text((repo / "tests/config/tiny.yaml").read_text())
    (workdir / "Snakefile").write_text(MODULE_SNAKEFILE.format(snakefile=repo / "Snakefile"))
    snakemake(workdir, configfile="config/tiny.yaml")
    assert_same_csvs(result_csvs(run_a), result_csvs(workdir))


def test_one_paper_at_a_time_keeps_the_report_whole(repo, tmp_path):
    """`snakemake gz` builds gz's part only; REPORT.md marks the other papers as not run."""
    workdir = tmp_path / "gz_only"
    workdir.mkdir()
    tiny = str(repo / "tests/config/tiny.yaml")
    proc = snakemake(workdir, "gz", "-n", snakefile=repo / "Snakefile", configfile=tiny)
    planned = proc.stdout + proc.stderr
    assert "gz_sscore_train" in planned and "ji_train" not in planned and "xia_cg" not in planned
    snakemake(workdir, "gz", snakefile=repo / "Snakefile", configfile=tiny)
    scores = pd.read_csv(workdir / "results/claims.csv")
    spec = yaml.safe_load((repo / "config/claims/gz.yaml").read_text())["claims"]
    assert list(scores["id"]) == [c["id"] for c in spec]
    report = (workdir / "REPORT.md").read_text()
    assert "Not run yet in this working directory: `snakemake xia`" in report
    assert "Not run yet in this working directory: `snakemake gz`" not in report
