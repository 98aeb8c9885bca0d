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
    if "datasets" in config.get("ji", {}):
        check_ji(config["ji"])
        if "linapprox" in config:
            check_linapprox(config["linapprox"], config["ji"]["datasets"])
        for name in config.get("lmd", {}).get("datasets", []):
            if name not in config["ji"]["datasets"]:
                raise ConfigError(f"lmd.datasets names {name!r}, not a key of ji.datasets")


def check_ji(ji: dict[str, Any]) -> None:
    """Ji, Wu & Xi: certificates of the dataset boxes, and references between sections."""
    datasets = ji["datasets"]
    for name, spec in datasets.items():
        n, centre = spec["n"], spec["centre"]
        if centre != "random" and (len(centre) != n or any(len(row) != n for row in centre)):
            raise ConfigError(f"ji.datasets.{name}.centre must be an {n} x {n} list of rows (n = {n})")
        # r = radius_fraction * sigma_min(A0) / n keeps every box matrix non-singular iff the fraction < 1.
        if spec["radius_fraction"] >= 1 and not spec.get("includes_singular", False):
            raise ConfigError(
                f"ji.datasets.{name}.radius_fraction = {spec['radius_fraction']} >= 1 lets the box reach a "
                "singular matrix; use a value < 1 or declare includes_singular: true"
            )
    for name in ji["inference"]["datasets"]:
        if name not in datasets:
            raise ConfigError(f"ji.inference.datasets names {name!r}, not a key of ji.datasets")
    why = ji["whycant"]["dataset"]
    if why not in datasets:
        raise ConfigError(f"ji.whycant.dataset names {why!r}, not a key of ji.datasets")
    if datasets[why]["n"] != 2 or not datasets[why].get("includes_singular", False):
        raise ConfigError(f"ji.whycant.dataset {why!r} must be a 2x2 dataset with includes_singular: true")


def check_linapprox(lin: dict[str, Any], datasets: dict[str, Any]) -> None:
    """The linear-approximation stage refers to certified datasets (and the small model where needed)."""
    named = {
        **{f"linapprox.table2_datasets ({d})": d for d in lin["table2_datasets"]},
        "linapprox.regions.dataset": lin["regions"]["dataset"],
        "linapprox.radius_sweep.dataset": lin["radius_sweep"]["dataset"],
    }
    for key, name in named.items():
        if name not in datasets:
            raise ConfigError(f"{key} names {name!r}, not a key of ji.datasets")
        if datasets[name].get("includes_singular", False):
            raise ConfigError(
                f"{key}: {name!r} includes singular matrices; the linear approximation needs a certified box"
            )
    regions = lin["regions"]["dataset"]
    if "small" not in datasets[regions]["archs"]:
        raise ConfigError(
            f"linapprox.regions.dataset {regions!r} must train the small model (ji.datasets.{regions}.archs)"
        )


def gz_data_dims(config: dict[str, Any]) -> list[int]:
    """Every dimension some Gai & Zhang stage needs problem instances for."""
    gz = config["gz"]
    return sorted(set(gz["theorem1"]["dims"]) | set(gz["sscore"]["dims"]))
