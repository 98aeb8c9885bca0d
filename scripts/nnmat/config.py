"""Checks across config keys that a JSON schema cannot express (run by the Snakefile after validation)."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A config that is valid key by key but inconsistent as a whole; the message names the keys."""


def check_consistency(config: dict[str, Any]) -> None:
    gz = config["gz"]
    trials, runs = gz["data"]["trials"], gz["sscore"]["runs"]
    if runs > trials:
        raise ConfigError(
            f"gz.sscore.runs ({runs}) must be <= gz.data.trials ({trials}): one problem per run"
        )
    sscore = gz["sscore"]
    if sscore["fig1_optimizer"] not in sscore["optimizers"]:
        raise ConfigError(
            f"gz.sscore.fig1_optimizer ({sscore['fig1_optimizer']!r}) must be one of gz.sscore.optimizers "
            f"{sscore['optimizers']}"
        )
    missing_lr = [o for o in sscore["optimizers"] if o not in sscore["lr"]]
    if missing_lr:
        raise ConfigError(f"gz.sscore.lr has no learning rate for optimizer(s) {missing_lr}")


def gz_data_dims(config: dict[str, Any]) -> list[int]:
    """Every dimension some Gai & Zhang stage needs problem instances for."""
    gz = config["gz"]
    return sorted(set(gz["theorem1"]["dims"]) | set(gz["sscore"]["dims"]))
