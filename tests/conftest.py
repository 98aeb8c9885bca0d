"""Shared fixtures: repository paths and a loader for the default config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture()
def default_config() -> dict:
    with open(REPO / "config" / "config.yaml") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="session")
def run_a(repo, tmp_path_factory) -> Path:
    """The whole tiny DAG, run once per session in a fresh copy of the repository."""
    from e2e import fresh_copy, snakemake

    workdir = fresh_copy(repo, tmp_path_factory.mktemp("run_a"))
    snakemake(workdir)
    return workdir
