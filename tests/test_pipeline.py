"""End-to-end: the whole DAG on tests/config/tiny.yaml in a temporary copy of the repository.

Checks that every figure, table and CSV exists and is sane, that the claims scorecard covers every
claim, that changing one config key or one library module reruns only the jobs it affects, and that
`make figures` redraws without recomputing. (Byte-identical reruns, other working directories and
module use are in test_workdir.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from e2e import planned_jobs, result_csvs, snakemake  # tests/ is on sys.path
from nnmat import claims, io

pytestmark = pytest.mark.slow


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


def repo_claims(workdir: Path) -> list[dict]:
    return [
        c for paper in ("gz", "xia", "ji", "lmd")
        for c in yaml.safe_load((workdir / "config" / "claims" / f"{paper}.yaml").read_text())["claims"]
    ]  # fmt: skip


def test_scorecard_covers_every_claim(run_a):
    scores = pd.read_csv(run_a / "results" / "claims.csv", keep_default_na=False)
    spec = repo_claims(run_a)
    assert list(scores["id"]) == [c["id"] for c in spec]
    assert set(scores["verdict"]) <= set(claims.VERDICTS)
    # Every claim of a stage this config runs has evidence: none may be "not checkable" for lack of it.
    lacking = scores[scores["reason"].str.contains("was not produced by this run")]
    assert lacking.empty, lacking[["id", "evidence"]].to_string()


def test_every_paper_claim_fails_on_its_null(run_a):
    """A paper claim must be able to fail: scored on its null's evidence, its rule does not hold
    (a missing or non-finite null does not count)."""
    scores = pd.read_csv(run_a / "results" / "claims.csv", keep_default_na=False)
    paper = scores[(scores["kind"] == "paper") & (scores["our_value"] != "")]
    # a claim that needs the paper's scale or a GPU is judged (null included) only in that set-up
    paper = paper[~paper["verdict"].isin([claims.NEEDS_PAPER_SCALE, claims.NEEDS_GPU])]
    assert not paper.empty
    bad = paper[paper["null_verdict"] != claims.DIFFERS]
    assert bad.empty, bad[["id", "null", "null_value", "null_verdict"]].to_string()


def test_timed_verdicts_do_not_depend_on_machine_load(run_a):
    """Every wall-time column a claim reads, scaled by independent factors in [0.5, 2], gives the same
    verdict: a 2x slower or faster machine must not flip a claim."""
    config = yaml.safe_load((run_a / "tests/config/tiny.yaml").read_text())
    available = [p.relative_to(run_a).as_posix() for p in run_a.glob("results/**/*.csv")]
    timed = [c for c in repo_claims(run_a) if c.get("timed")]
    assert timed, "no claim marks its wall-time columns (timed:)"
    rng = np.random.default_rng(0)
    for claim in timed:
        base = claims.score_claim(claim, available, lambda f: io.read_csv(run_a / f), config)

        def scaled(f, claim=claim):
            df = io.read_csv(run_a / f)
            for col in claim["timed"]:
                if col in df.columns:
                    df[col] = df[col] * rng.uniform(0.5, 2.0, size=len(df))
            return df

        for _ in range(20):
            again = claims.score_claim(claim, available, scaled, config)
            assert again["verdict"] == base["verdict"], (claim["id"], base["our_value"], again["our_value"])


@pytest.mark.parametrize(
    ("key", "value", "must_rerun", "must_not_rerun"),
    [
        ("gz.theorem1.alphas", [0.5, 3.0], {"gz_theorem1"}, {"gz_data", "gz_sscore_train"}),
        ("gz.sscore.steps", 30, {"gz_sscore_train"}, {"gz_data", "gz_theorem1"}),
        # training length is not a data key: the datasets are kept, only training and its consumers rerun
        ("ji.datasets.first.steps", 80, {"ji_train", "ji_linapprox_regions"}, {"ji_data", "gz_sscore_train"}),
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


def test_editing_a_library_module_reruns_only_the_jobs_that_run_it(run_a):
    """Rules list their script and the nnmat modules it imports as inputs: an edit of the Xia
    structured solvers reruns the solver job and what reads its CSV, and nothing of another stage."""
    module = run_a / "scripts/nnmat/xia/structured.py"
    original = module.read_text()
    try:
        module.write_text(original + "\n# edited by the rerun-scoping test\n")
        jobs = planned_jobs(snakemake(run_a, "-n"))
    finally:
        module.write_text(original)
    assert "xia_solver" in jobs, jobs
    compute = {r for r in jobs if not r.startswith(("fig_", "table_", "claims_", "report_")) and r != "all"}
    assert compute <= {"xia_solver", "xia_provenance"}, jobs  # the merge of its provenance JSON
    other = ("fig_gz", "fig_ji", "fig_lmd", "table_gz", "table_ji", "table_lmd")
    assert not any(r.startswith(other) for r in jobs), jobs


def test_both_configs_have_the_same_keys(repo):
    """config/paper.yaml is the default config at the papers' sizes: a named config is the whole
    configuration, so a section missing from it would silently take the schema's defaults."""

    def keys(node, prefix=""):
        out = set()
        for k, v in node.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            # dataset entries are names chosen per config; their specs are checked by the schema
            out |= keys(v, path) if isinstance(v, dict) and not prefix.endswith("datasets") else {path}
        return out

    default = yaml.safe_load((repo / "config/config.yaml").read_text())
    for other in ("config/paper.yaml", "tests/config/tiny.yaml"):
        theirs = yaml.safe_load((repo / other).read_text())
        assert keys(default) == keys(theirs), (other, keys(default) ^ keys(theirs))


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
