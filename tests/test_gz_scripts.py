"""The Gai & Zhang scripts: runnable by hand (--help, the docstring's example settings) and strict about
their one --settings JSON (a missing or unknown key is refused, naming the key)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nnmat import cli
from nnmat.gz import depth, instances, prop2, sscore, theorem1

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _load(name: str):
    """Import a script as a module (registered, so that its dataclasses resolve their annotations)."""
    module_name = "gz_script_" + name.removesuffix(".py")
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, SCRIPTS / name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


# script -> (arguments before --settings, settings class); None: the class is defined in the script.
WITH_SETTINGS = {
    "gz_data.py": ([], instances.ProblemSettings),
    "gz_data_near_singular.py": ([], instances.NearSingularProblemSettings),
    "gz_theorem1.py": (["p.npz"], theorem1.Theorem1Settings),
    "gz_theorem1_mpmath.py": (["p.npz"], theorem1.MpmathSettings),
    "gz_theorem1_near_singular.py": (["p.npz"], theorem1.NearSingularSettings),
    "gz_depth.py": (["p.npz"], depth.DepthSettings),
    "gz_prop2.py": ([], prop2.Prop2Settings),
    "gz_sscore_train.py": (["p.npz"], sscore.TrainSettings),
    "plot_gz_fig1.py": (["t.csv"], None),
    "plot_gz_theorem1.py": (["residual-vs-d", "t.csv"], None),
    "table_gz_theorem1.py": (["summary", "t.csv"], None),
}
WITHOUT_SETTINGS = ["table_gz_sscore_final.py", "plot_gz_sscore_sensitivity.py"]
SUBCOMMANDS = {
    "plot_gz_theorem1.py": {
        "residual-vs-d": True,
        "alpha-heatmap": False,
        "near-singular": True,
        "mpmath": True,
        "depth": False,
    },
    "table_gz_theorem1.py": {"summary": True, "depth": False},
}


def _settings_class(name: str) -> type:
    cls = WITH_SETTINGS[name][1]
    if cls is None:
        module = _load(name)
        cls = {
            "plot_gz_fig1.py": lambda: module.Fig1Settings,
            "plot_gz_theorem1.py": lambda: module.ToleranceSettings,
            "table_gz_theorem1.py": lambda: module.SummarySettings,
        }[name]()
    return cls


def _example_settings(name: str) -> dict:
    """The --settings JSON of the (first) usage example in the script's docstring."""
    doc = _load(name).__doc__
    match = re.search(r"--settings '(\{.*?\})'", doc, flags=re.S)
    assert match, f"{name}: no --settings example in the docstring"
    return json.loads(match.group(1))


def test_every_gz_script_is_covered():
    names = {p.name for p in SCRIPTS.glob("*gz_*.py")}
    assert names == set(WITH_SETTINGS) | set(WITHOUT_SETTINGS)


@pytest.mark.parametrize("name", [*WITH_SETTINGS, *WITHOUT_SETTINGS])
def test_help_runs(name):
    """--help of the script, and of each subcommand: --settings is offered exactly where one is read."""
    subcommands = SUBCOMMANDS.get(name, {})
    commands = [([sub], takes) for sub, takes in subcommands.items()] or [([], name in WITH_SETTINGS)]
    if subcommands:
        commands.append(([], None))  # the top level lists the subcommands
    for sub, takes_settings in commands:
        out = subprocess.run(
            [sys.executable, str(SCRIPTS / name), *sub, "--help"], capture_output=True, text=True, check=True
        )
        assert "usage:" in out.stdout
        if takes_settings is not None:
            assert ("--settings SETTINGS" in out.stdout) == takes_settings, (name, sub)


@pytest.mark.parametrize("name", list(WITH_SETTINGS))
def test_docstring_example_is_valid_settings(name):
    example = _example_settings(name)
    settings = cli.load_settings(_settings_class(name), json.dumps(example))
    assert sorted(example) == sorted(f.name for f in dataclasses.fields(settings))


@pytest.mark.parametrize("name", list(WITH_SETTINGS))
def test_wrong_or_missing_settings_key_is_refused(name, capsys):
    main = _load(name).main
    before = WITH_SETTINGS[name][0]
    example = _example_settings(name)
    missing_key = sorted(example)[-1]
    missing = {k: v for k, v in example.items() if k != missing_key}
    unknown = {**example, "no_such_key": 1}
    for bad, key in ((missing, missing_key), (unknown, "no_such_key")):
        with pytest.raises(SystemExit) as exc:
            main([*before, "--settings", json.dumps(bad), "--out", "x"])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "--settings" in err and repr(key) in err, err


def test_bad_setting_values_are_refused_with_the_key(capsys):
    main = _load("gz_theorem1.py").main
    with pytest.raises(SystemExit):
        main(["p.npz", "--settings", json.dumps({"d": 4, "alphas": [2.0, 1.0]}), "--out", "x"])
    assert "alpha" in capsys.readouterr().err
    main = _load("gz_sscore_train.py").main
    example = {**_example_settings("gz_sscore_train.py"), "optimizer": "sgd"}
    with pytest.raises(SystemExit):
        main(["p.npz", "--settings", json.dumps(example), "--out", "x"])
    assert "optimizer" in capsys.readouterr().err


def test_settings_are_frozen():
    s = cli.load_settings(theorem1.Theorem1Settings, '{"d": 4, "alphas": [0.5, 2]}')
    assert s.alphas == (0.5, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.d = 5
    assert cli.fingerprint(s) == cli.fingerprint(theorem1.Theorem1Settings(d=4, alphas=(0.5, 2.0)))
