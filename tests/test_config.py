"""Bad configs are refused before any job starts, with the offending key named."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from nnmat.config import ConfigError, check_consistency

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
        check_consistency(set_key(default_config, "gz.sscore.optimizers", ["gd"]))


def test_snakemake_refuses_bad_config_before_any_job(repo, default_config, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(set_key(default_config, "gz.theorem1.alphas", [1.0])))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run(
        ["snakemake", "-n", "--cores", "1", "--configfile", str(bad), "--directory", str(tmp_path / "wd"),
         "--snakefile", str(repo / "Snakefile")],
        cwd=repo, capture_output=True, text=True, env=env, timeout=120,
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
