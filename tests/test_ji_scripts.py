"""The command lines of the Ji, Wu & Xi scripts: --help, the one --settings argument, their usage examples."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest

from e2e import SCRIPTS, load_script  # tests/ is on sys.path
from nnmat import cli
from nnmat.ji import boxes, engine, linapprox, singular_set, timing

# Every ji script that takes --settings, and the settings dataclass it parses.
SETTINGS = {
    "ji_data": boxes.DatasetSettings,
    "ji_train": engine.TrainSettings,
    "ji_inference_time": timing.InferenceSettings,
    "ji_singular_geometry": singular_set.GeometrySettings,
    "ji_whycant": singular_set.WhycantSettings,
    "ji_linapprox_table2": linapprox.Table2Settings,
    "ji_linapprox_regions": linapprox.RegionsSettings,
}
PLOTS_AND_TABLES = ["plot_ji_fig12", "plot_ji_linapprox", "plot_ji_training", "plot_ji_whycant", "table_ji"]


def exit_of(main, argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out + out.err


@pytest.mark.parametrize("name", [*SETTINGS, *PLOTS_AND_TABLES])
def test_help_runs(name, capsys):
    code, text = exit_of(load_script(name).main, ["--help"], capsys)
    assert code == 0 and "usage:" in text
    if name in SETTINGS:  # the help names every settings key
        assert "--settings" in text
        assert all(f.name in text for f in dataclasses.fields(SETTINGS[name]))


@pytest.mark.parametrize("name", SETTINGS)
def test_missing_or_unknown_settings_key_is_refused_by_name(name, capsys):
    main = load_script(name).main
    fields = {f.name: 0 for f in dataclasses.fields(SETTINGS[name])}
    for key in fields:
        code, text = exit_of(
            main, ["--settings", json.dumps({k: v for k, v in fields.items() if k != key})], capsys
        )
        assert code == 2 and f"missing keys ['{key}']" in text, text
    code, text = exit_of(main, ["--settings", json.dumps({**fields, "bogus_key": 1})], capsys)
    assert code == 2 and "unknown keys ['bogus_key']" in text, text
    code, text = exit_of(main, ["--settings", "{not json"], capsys)
    assert code == 2 and "not valid JSON" in text, text


@pytest.mark.parametrize("name", SETTINGS)
def test_usage_example_settings_are_complete(name):
    """The --settings of the docstring's example is exactly the dataclass's fields (docs stay true)."""
    doc = load_script(name).__doc__
    found = re.search(r"--settings '(.*?)'", doc, re.DOTALL)
    assert found, f"{name}: the docstring has no --settings example"
    settings = cli.load_settings(SETTINGS[name], found.group(1))
    assert dataclasses.is_dataclass(settings)


def test_scripts_run_by_hand_from_any_directory(tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "ji_data.py"), "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "--settings" in result.stdout, result.stderr
