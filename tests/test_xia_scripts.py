"""The Xia scripts: runnable by hand (--help, the docstring's example settings) and strict about
their one --settings JSON (a missing or unknown key is refused, naming the key)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nnmat import cli
from nnmat.xia import structured, studies, tables

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
SETTINGS = {
    "xia_cond_1d.py": studies.Cond1DSettings,
    "xia_random_1d.py": studies.Random1DSettings,
    "xia_cond_2d.py": studies.Cond2DSettings,
    "xia_spectrum.py": studies.SpectrumSettings,
    "xia_cg.py": studies.CGSettings,
    "xia_structure.py": studies.StructureSettings,
    "xia_solver.py": structured.SolverSettings,
    "table_xia.py": tables.TableSettings,
}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), SCRIPTS / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _example_settings(name: str) -> dict:
    """The --settings JSON of the usage example in the script's docstring."""
    doc = _load(name).__doc__
    match = re.search(r"--settings '(\{.*?\})'", doc, flags=re.S)
    assert match, f"{name}: no --settings example in the docstring"
    return json.loads(match.group(1))


@pytest.mark.parametrize("name", [*SETTINGS, "plot_xia.py"])
def test_help_runs(name):
    out = subprocess.run(
        [sys.executable, str(SCRIPTS / name), "--help"], capture_output=True, text=True, check=True
    )
    assert "usage:" in out.stdout
    if name in SETTINGS:
        assert "--settings" in out.stdout


@pytest.mark.parametrize("name", list(SETTINGS))
def test_docstring_example_is_valid_settings(name):
    example = _example_settings(name)
    settings = cli.load_settings(SETTINGS[name], json.dumps(example))
    assert sorted(example) == sorted(f.name for f in dataclasses.fields(settings))


@pytest.mark.parametrize("name", list(SETTINGS))
def test_wrong_or_missing_settings_key_is_refused(name, capsys):
    main = _load(name).main
    example = _example_settings(name)
    missing_key = sorted(example)[0]
    missing = {k: v for k, v in example.items() if k != missing_key}
    unknown = {**example, "no_such_key": 1}
    for bad, key in ((missing, missing_key), (unknown, "no_such_key")):
        with pytest.raises(SystemExit) as exc:
            main(["--settings", json.dumps(bad)])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "--settings" in err and repr(key) in err, err


def test_settings_are_frozen_and_hashable():
    s = cli.load_settings(studies.StructureSettings, json.dumps(_example_settings("xia_structure.py")))
    assert isinstance(s.tols, tuple) and isinstance(s.ns_2d, tuple)
    hash(s)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.n_1d = 2
    assert cli.fingerprint(s) == cli.fingerprint(dataclasses.replace(s))


@pytest.mark.parametrize(
    "cls, bad",
    [
        (studies.Cond1DSettings, {"ns": [1, 8], "naive_max_n": 8, "mpmath_ns": [], "mpmath_dps": 30}),
        (
            studies.CGSettings,
            {
                "seed": 1,
                "ns": [8],
                "draws": 1,
                "rtol": 0.0,
                "maxiter_factor": 4,
                "margin": 0.1,
            },
        ),
        (
            studies.StructureSettings,
            {
                "seed": 1,
                "n_1d": 64,
                "ns_2d": [16],
                "min_block": 8,
                "tols": [0.0],
                "margin": 0.1,
            },
        ),
        (structured.SolverSettings, {"seed": 1, "ns": [64], "dense_max_n": 64, "leaf": 1}),
    ],
)
def test_invalid_values_are_refused(cls, bad):
    with pytest.raises(ValueError):
        cli.load_settings(cls, json.dumps(bad))


def test_random_1d_script_end_to_end(tmp_path):
    """One small job by hand: the CSV and the provenance (with the settings) are written."""
    out, prov = tmp_path / "cond_random_1d.csv", tmp_path / "prov.json"
    settings = {"seed": 3, "ns": [16, 8], "draws": 2}
    _load("xia_random_1d.py").main(
        ["--settings", json.dumps(settings), "--out", str(out), "--provenance", str(prov)]
    )
    df = pd.read_csv(out)
    assert df.n.tolist() == [8] * 4 + [16] * 4  # ns sorted, two draws, A and H
    assert list(df.columns[:7]) == ["family", "matrix", "n", "draw", "seed", "min_gap", "lambda_min"]
    assert json.loads(prov.read_text())["params"]["settings"] == settings
