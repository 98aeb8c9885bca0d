"""Bad configs are refused before any job starts, with the offending key named."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from nnmat.config import (
    MAX_JOB_BYTES,
    ConfigError,
    check_consistency,
    check_device,
    check_file,
    check_finite,
    declared_mem_mb,
    ji_train_bytes,
    size_estimates,
)

SCHEMA = Path(__file__).resolve().parents[1] / "config" / "schema.yaml"


def set_key(config: dict, dotted: str, value) -> dict:
    config = copy.deepcopy(config)
    *parents, last = dotted.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[last] = value
    return config


def refusal(config: dict) -> str:
    with pytest.raises(Exception) as err:  # snakemake raises WorkflowError wrapping the jsonschema error
        validate(config, str(SCHEMA))
    return str(err.value)


def test_default_and_paper_configs_are_valid(repo, default_config):
    validate(default_config, str(SCHEMA))
    check_consistency(default_config)
    for name in ("paper.yaml",):
        path = repo / "config" / name
        if path.exists():
            cfg = yaml.safe_load(path.read_text())
            validate(cfg, str(SCHEMA))
            check_consistency(cfg)


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("gz.theorem1.alphas", [2.0, 1], "['alphas'][1]"),  # alpha = 1 divides by zero in W2
        ("gz.theorem1.alphas", [0.0], "['alphas'][0]"),  # alpha <= 0 has no real log
        ("gz.theorem1.alphas", [-2.0], "['alphas'][0]"),
        ("gz.theorem1.dims", [], "['dims']"),
        ("gz.sscore.dims", [], "['dims']"),
        ("gz.sscore.steps", -5, "['steps']"),
        ("gz.sscore.activations", ["sigmoid", "softplus"], "['activations'][1]"),
        ("gz.data.trials", 0, "['trials']"),
        ("gz.theorem1.near_singular.conds", [0.5], "['conds'][0]"),
    ],
)
def test_bad_values_are_refused_naming_the_key(default_config, key, value, named):
    message = refusal(set_key(default_config, key, value))
    assert named in message


def test_misspelled_key_is_refused(default_config):
    config = copy.deepcopy(default_config)
    config["gz"]["sscore"]["stepz"] = 100
    assert "'stepz' was unexpected" in refusal(config)
    config = copy.deepcopy(default_config)
    config["sead"] = 1
    assert "'sead' was unexpected" in refusal(config)


def test_defaults_fill_omitted_keys(default_config):
    config = copy.deepcopy(default_config)
    del config["gz"]["sscore"]["log_every"]
    validate(config, str(SCHEMA))
    assert config["gz"]["sscore"]["log_every"] == 20


def test_cross_key_consistency(default_config):
    with pytest.raises(ConfigError, match="gz.sscore.runs"):
        too_many = default_config["gz"]["data"]["trials"] + 1
        check_consistency(set_key(default_config, "gz.sscore.runs", too_many))
    with pytest.raises(ConfigError, match="fig1_optimizer"):
        check_consistency(set_key(default_config, "gz.sscore.optimizers", ["adam"]))


def test_snakemake_refuses_bad_config_before_any_job(repo, default_config, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(set_key(default_config, "gz.theorem1.alphas", [1.0])))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run(
        [
            "snakemake",
            "-n",
            "--cores",
            "1",
            "--configfile",
            str(bad),
            "--directory",
            str(tmp_path / "wd"),
            "--snakefile",
            str(repo / "Snakefile"),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "Error validating config file" in proc.stdout + proc.stderr
    assert "['alphas'][0]" in proc.stdout + proc.stderr
    assert not (tmp_path / "wd" / "results").exists()


def test_config_readme_documents_every_key(repo):
    from nnmat import io, schema_docs

    schema = io.read_yaml(repo / "config" / "schema.yaml")
    expected = schema_docs.to_markdown(schema)
    assert (repo / "config" / "README.md").read_text() == expected, (
        "config/README.md is stale: run `python scripts/config_docs.py`"
    )
    undocumented = [key for key, kind, *_, desc in schema_docs.rows(schema) if not desc]
    assert not undocumented, f"schema keys without a description: {undocumented}"


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("ji.training.batch_size", 0, "['batch_size']"),
        ("ji.datasets.first.archs", ["fc2", "fc7"], "['archs'][1]"),
        ("ji.datasets.first.steps", 0, "['steps']"),
        ("ji.datasets.first.radius_fraction", 0.0, "['radius_fraction']"),
        ("ji.datasets.first.centre", "identity", "['centre']"),
        ("ji.inference.batch_sizes", [], "['batch_sizes']"),
    ],
)
def test_bad_ji_values_are_refused_naming_the_key(default_config, key, value, named):
    assert named in refusal(set_key(default_config, key, value))


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        # a box that can reach a singular matrix must be declared
        ("ji.datasets.first.radius_fraction", 1.5, r"ji.datasets.first.radius_fraction = 1.5 >= 1"),
        ("ji.datasets.first.centre", [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], r"ji.datasets.first.centre"),
        ("ji.whycant.dataset", "first", r"includes_singular"),
        ("ji.whycant.dataset", "nope", r"'nope', not a key of ji.datasets"),
        ("ji.inference.datasets", ["first", "4x4"], r"'4x4', not a key of ji.datasets"),
    ],
)
def test_ji_cross_key_consistency(default_config, key, value, match):
    with pytest.raises(ConfigError, match=match):
        check_consistency(set_key(default_config, key, value))


def snakemake_dry_run(repo: Path, configfile: Path, workdir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        ["snakemake", "-n", "--cores", "1", "--configfile", str(configfile), "--directory", str(workdir),
         "--snakefile", str(repo / "Snakefile")],
        cwd=workdir.parent, capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("gz.theorem1.rel_tol", float("nan")),
        ("gz.sscore.max_loss_growth", float("nan")),
        ("gz.theorem1.alphas", [2.0, float("inf")]),
        ("gz.sscore.lr.adam", float("-inf")),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_key(default_config, key, value):
    with pytest.raises(ConfigError, match=r"must be finite") as err:
        check_finite(set_key(default_config, key, value))
    assert key.split(".")[-1] in str(err.value)


def test_snakemake_refuses_nan_and_duplicate_keys_before_any_job(repo, tmp_path):
    text = (repo / "config/config.yaml").read_text()
    nan = tmp_path / "nan.yaml"
    nan.write_text(text.replace("rel_tol: 1.0e-8 ", "rel_tol: .nan ", 1))
    proc = snakemake_dry_run(repo, nan, tmp_path / "wd")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "gz.theorem1.rel_tol = nan" in out, out[-2000:]
    dup = tmp_path / "dup.yaml"
    dup.write_text(text.replace("seed: 20240702", "seed: 1\nseed: 20240702", 1))
    proc = snakemake_dry_run(repo, dup, tmp_path / "wd")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "duplicate key 'seed'" in out, out[-2000:]
    assert not (tmp_path / "wd" / "results").exists()


def test_duplicate_keys_are_refused_with_the_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("gz:\n  data:\n    trials: 8\n  data:\n    trials: 9\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'data' at line 4 \(first at line 2\)"):
        check_file(str(path))


def test_integer_dataset_key_is_refused_naming_it(default_config):
    config = copy.deepcopy(default_config)
    config["ji"]["datasets"][16] = config["ji"]["datasets"]["first"]
    with pytest.raises(ConfigError, match=r"ji.datasets key 16 must be a string"):
        check_consistency(config)


def test_a_named_config_is_the_whole_configuration(repo, tmp_path):
    """A user's config is not merged into config/config.yaml: a dataset it removes is gone."""
    config = yaml.safe_load((repo / "tests/config/tiny.yaml").read_text())
    del config["ji"]["datasets"]["16x16"]
    config["ji"]["linapprox"]["table2_datasets"] = ["first"]
    config["ji"]["inference"]["datasets"] = [d for d in config["ji"]["inference"]["datasets"] if d != "16x16"]
    config["lmd"]["datasets"] = [d for d in config["lmd"]["datasets"] if d != "16x16"]
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(config))
    proc = snakemake_dry_run(repo, mine, tmp_path / "wd")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "16x16" not in proc.stdout, [line for line in proc.stdout.splitlines() if "16x16" in line][:5]
    assert f"configuration from {mine}" in proc.stderr


def test_cuda_is_checked_before_any_job(default_config, monkeypatch):
    """One behaviour for every rule: a CPU build of torch refuses `device: cuda` at validation, and a
    local run also needs a visible GPU (a cluster submit host is not checked for one)."""
    import torch

    cuda = set_key(default_config, "device", "cuda")
    check_device(default_config, gpu_must_be_visible=True)  # cpu: nothing to check
    monkeypatch.setattr(torch.version, "cuda", None)
    with pytest.raises(ConfigError, match=r"CPU build.*make venv TORCH=cuda"):
        check_device(cuda, gpu_must_be_visible=False)
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    check_device(cuda, gpu_must_be_visible=False)  # e.g. a SLURM login node
    with pytest.raises(ConfigError, match="no GPU is visible"):
        check_device(cuda, gpu_must_be_visible=True)


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("xia.cond.ns", [8, 16, 1048576], "xia.cond.ns"),  # a dense 2^20 x 2^20 matrix: 8 TiB
        ("ji.datasets.16x16.n", 64, "ji.datasets.16x16"),  # 64x64 fc3 stacks need ~64 GiB: allowed
    ],
)
def test_sizes_are_refused_only_above_a_machine_independent_limit(default_config, key, value, named):
    config = set_key(default_config, key, value)
    need = size_estimates(config)[named]
    if need > MAX_JOB_BYTES:
        with pytest.raises(ConfigError, match=rf"{named}: the largest job would need about [\d,]+ GiB"):
            check_consistency(config)
    else:  # a cluster node may have this much: accepted, and the rule declares it
        check_consistency(config)
        assert declared_mem_mb(need) > need / 2**20
    assert size_estimates(default_config)[named] < 2**33  # the default scale fits a laptop


def test_rules_declare_memory_from_the_sizes(repo, tmp_path):
    """A 64x64 dataset needs tens of GiB for its fc2/fc3 stacks: the training rule declares it (a
    cluster enforces mem_mb), instead of a fixed 4 GB."""
    config = yaml.safe_load((repo / "tests/config/tiny.yaml").read_text())
    config["ji"]["datasets"]["16x16"]["n"] = 64
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump(config))
    proc = snakemake_dry_run(repo, big, tmp_path / "wd")
    assert proc.returncode == 0, proc.stderr[-2000:]
    block = proc.stdout.split("rule ji_train:")
    train_16 = next(b for b in block[1:] if "16x16" in b.split("rule ")[0])
    declared = int(re.search(r"mem_mb=(\d+)", train_16).group(1))
    spec = config["ji"]["datasets"]["16x16"]
    need = ji_train_bytes(spec, config["ji"]["training"]["seeds"], config["ji"]["training"]["batch_size"])
    assert declared == declared_mem_mb(need, 4000) and declared > 20_000
