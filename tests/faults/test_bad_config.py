"""The bad-config catalogue: every class of bad input is refused before any job, naming the key.

Each case edits the default config (or its text) one way and runs the checks the Snakefile runs
(nnmat.config.validate_config, in the same order); tests/test_config.py runs a few of them through
snakemake itself.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from nnmat.config import validate_config

REPO = Path(__file__).resolve().parents[2]
SCHEMA = str(REPO / "config" / "schema.yaml")
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def edited(dotted: str, value):
    config = copy.deepcopy(DEFAULT)
    *parents, last = dotted.split(".")
    node = config
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return config


DELETE = object()

# (class, key, value, text the message must contain)
CATALOGUE = [
    ("wrong type", "gz.sscore.steps", "many", "'many' is not of type 'integer'"),
    ("wrong type", "xia.cond.ns", 64, "64 is not of type 'array'"),
    ("out of range", "gz.theorem1.alphas", [2.0, 1.0], "['alphas'][1]"),
    ("out of range", "ji.training.batch_size", 0, "['batch_size']"),
    ("NaN", "gz.theorem1.rel_tol", float("nan"), "gz.theorem1.rel_tol = nan"),
    ("NaN", "gz.sscore.max_loss_growth", float("nan"), "gz.sscore.max_loss_growth = nan"),
    ("+inf", "ji.training.lr", float("inf"), "ji.training.lr = inf"),
    ("-inf", "gz.theorem1.alphas", [float("-inf")], "gz.theorem1.alphas[0] = -inf"),
    ("unknown key", "gz.sscore.stepz", 100, "'stepz' was unexpected"),
    ("cross-key conflict", "gz.sscore.runs", 99, "gz.sscore.runs (99) must be <= gz.data.trials"),
    ("cross-key conflict", "lmd.datasets", ["first", "nope"], "lmd.datasets names 'nope'"),
    ("unsafe name", "ji.inference.datasets", ["first; rm -rf ~"], "ji.inference.datasets names"),
    ("infeasible size", "xia.cond.ns", [8, 16, 32, 1048576], "xia.cond.ns: the largest job would need about"),
    ("empty list", "gz.sscore.dims", [], "['dims']"),
    ("empty list", "ji.inference.batch_sizes", [], "['batch_sizes']"),
]


@pytest.mark.parametrize(
    ("kind", "key", "value", "message"), CATALOGUE, ids=[f"{c[0]}:{c[1]}" for c in CATALOGUE]
)
def test_each_bad_value_is_refused_naming_the_key(kind, key, value, message):
    with pytest.raises(Exception) as err:  # snakemake wraps schema errors in WorkflowError
        validate_config(edited(key, value), [], SCHEMA)
    assert message in str(err.value), (kind, str(err.value)[-600:])


def test_unsafe_dataset_names_are_refused(tmp_path):
    config = copy.deepcopy(DEFAULT)
    config["ji"]["datasets"]["../evil"] = config["ji"]["datasets"]["first"]
    with pytest.raises(Exception, match=r"\.\./evil"):
        validate_config(config, [], SCHEMA)
    config = copy.deepcopy(DEFAULT)
    config["ji"]["datasets"][7] = config["ji"]["datasets"]["first"]
    with pytest.raises(Exception, match="ji.datasets key 7 must be a string"):
        validate_config(config, [], SCHEMA)


def test_duplicate_key_in_the_file_is_refused(tmp_path):
    text = (
        (REPO / "config" / "config.yaml").read_text().replace("seed: 20240702", "seed: 1\nseed: 20240702", 1)
    )
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(Exception, match=r"duplicate key 'seed' at line \d+ \(first at line \d+\)"):
        validate_config(yaml.safe_load(text), [str(path)], SCHEMA)


def test_the_default_and_paper_configs_pass():
    for name in ("config.yaml", "paper.yaml"):
        path = REPO / "config" / name
        validate_config(yaml.safe_load(path.read_text()), [str(path)], SCHEMA)
