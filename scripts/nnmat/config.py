"""Checks across config keys that a JSON schema cannot express (run by the Snakefile after validation)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config that is valid key by key but inconsistent as a whole; the message names the keys."""


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key written twice in one mapping (plain YAML keeps the last)."""


def _no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(
                f"duplicate key {key!r} at line {key_node.start_mark.line + 1} "
                f"(first at line {seen[key]}) of {node.start_mark.name}"
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def check_file(path: str) -> None:
    """Refuse a config file with duplicate keys (Snakemake's loader would silently keep the last)."""
    with open(path) as f:
        yaml.load(f, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{path}[{i}]")
    else:
        yield path, node


def check_finite(config: dict[str, Any]) -> None:
    """Refuse NaN and infinities anywhere: JSON Schema bounds never reject NaN (every comparison with
    it is false) and .inf passes exclusiveMinimum, so the schema alone lets both through."""
    for path, value in _leaves(config):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{path} = {value}: numbers in the config must be finite")


def check_names(config: dict[str, Any]) -> None:
    """Dataset names become file names and wildcards: strings of safe characters only."""
    for key in ("datasets",):
        for name in config.get("ji", {}).get(key, {}):
            if not isinstance(name, str):
                raise ConfigError(f"ji.{key} key {name!r} must be a string (quote it in YAML)")


def validate_config(config: dict[str, Any], files: list[str], schema_path: str) -> None:
    """Everything the Snakefile checks before any job, in order: duplicate keys in the config files
    (YAML keeps the last silently), NaN/inf (JSON Schema bounds let NaN through), the schema (fills
    its defaults in), then the rules across keys. Each error names the key or the file."""
    from snakemake.utils import validate  # the Snakefile's own validator; only needed here

    for path in files:
        check_file(str(path))
    check_finite(config)
    validate(config, schema_path)
    check_consistency(config)


def check_consistency(config: dict[str, Any]) -> None:
    check_names(config)
    check_sizes(config)
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
        if "linapprox" in config["ji"]:
            check_linapprox(config["ji"]["linapprox"], config["ji"]["datasets"])
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
        **{f"ji.linapprox.table2_datasets ({d})": d for d in lin["table2_datasets"]},
        "ji.linapprox.regions.dataset": lin["regions"]["dataset"],
        "ji.linapprox.radius_sweep.dataset": lin["radius_sweep"]["dataset"],
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
            f"ji.linapprox.regions.dataset {regions!r} must train the small model "
            f"(ji.datasets.{regions}.archs)"
        )


def check_device(config: dict[str, Any], gpu_must_be_visible: bool) -> None:
    """`device: cuda` is checked once, before any job, the same way for every rule: the installed torch
    must be a CUDA build, and for a run on this machine a GPU must be visible (a cluster's login node
    has none, so there only the build is checked; the job on the GPU node finds its device)."""
    if config.get("device") != "cuda":
        return
    import torch  # only for cuda configs: importing torch costs seconds at every DAG build

    if torch.version.cuda is None:
        raise ConfigError(
            f"device: cuda, but the installed torch {torch.__version__} is a CPU build "
            "(torch.version.cuda is None): install the CUDA build with `make venv TORCH=cuda` (README, "
            "GPUs), or set device: cpu"
        )
    if gpu_must_be_visible and not torch.cuda.is_available():
        raise ConfigError(
            "device: cuda, but no GPU is visible on this machine (torch.cuda.is_available() is False); "
            "run on a GPU node, submit through a cluster profile (--profile profiles/slurm), or set "
            "device: cpu"
        )


# Largest memory one job may need, whatever this machine has: a large cluster node has a few TiB.
# Above it a size is refused at validation (it could never run); below it the rule declares the
# estimate as mem_mb, which a cluster scheduler enforces.
MAX_JOB_BYTES = 2 * 2**40
_F64, _F32 = 8, 4
# The ji hidden widths are these multiples of n^2 (nnmat.ji.mlp: fc2 [n^2, 8n^2, n^2], ...).
_JI_HIDDEN = {"fc2": (8,), "fc3": (8, 8), "small": (2,)}


def ji_train_bytes(spec: dict[str, Any], seeds: int, batch_size: int) -> int:
    """Memory of one ji_train job: float32 weights + gradients + two Adam moments of every
    (arch, seed) model, activations of one batch, and the float64 training/test matrices."""
    d = spec["n"] ** 2
    params = 0
    for arch in spec["archs"]:
        w = [d, *(f * d for f in _JI_HIDDEN[arch]), d]
        params += seeds * sum(a * b + b for a, b in zip(w, w[1:], strict=False))
    activations = seeds * batch_size * sum(sum(f * d for f in _JI_HIDDEN[a]) + 2 * d for a in spec["archs"])
    data = (spec["train"] + spec["test"]) * d * _F64 * 2  # matrices and their inverses
    return 4 * params * _F32 + 3 * activations * _F32 + data


def xia_bytes(xia: dict[str, Any]) -> dict[str, int]:
    """Dense float64 n x n matrices (a few alive at once) of the Xia studies, per config key."""
    dense = lambda n: 4 * n * n * _F64  # noqa: E731 (A, H, a factor and a copy)
    d2 = xia["d2"]
    return {
        "xia.cond.ns": dense(max(xia["cond"]["ns"])),
        "xia.random_1d.ns": dense(max(xia["random_1d"]["ns"])),
        "xia.d2.ns": dense(max(d2["ns"])) + max(d2["ns"]) * d2["quad_points"] ** 2 * _F64 * 2,
        "xia.cg.ns": dense(max(xia["cg"]["ns"])),
        "xia.structure.n_1d": dense(xia["structure"]["n_1d"]),
        "xia.solver.dense_max_n": dense(min(max(xia["solver"]["ns"]), xia["solver"]["dense_max_n"])),
    }


def size_estimates(config: dict[str, Any]) -> dict[str, int]:
    """Estimated peak memory (bytes) of the largest job each sized config key drives."""
    out = dict(xia_bytes(config["xia"])) if "xia" in config else {}
    ji = config.get("ji", {})
    training = ji.get("training", {})
    for name, spec in ji.get("datasets", {}).items():
        out[f"ji.datasets.{name}"] = ji_train_bytes(spec, training["seeds"], training["batch_size"])
    return out


def check_sizes(config: dict[str, Any], limit: int = MAX_JOB_BYTES) -> None:
    """Refuse sizes no machine could run, with the estimate in the message."""
    for key, need in size_estimates(config).items():
        if need > limit:
            raise ConfigError(
                f"{key}: the largest job would need about {need / 2**30:,.0f} GiB of memory, above "
                f"the {limit / 2**40:.0f} TiB any one machine offers; use smaller sizes"
            )


def declared_mem_mb(need_bytes: int, floor_mb: int = 1000) -> int:
    """The mem_mb a rule declares for an estimate: 30 % headroom plus the interpreter and libraries."""
    return max(floor_mb, int(need_bytes * 1.3 / 2**20) + 700)


def gz_data_dims(config: dict[str, Any]) -> list[int]:
    """Every dimension some Gai & Zhang stage needs problem instances for."""
    gz = config["gz"]
    return sorted(set(gz["theorem1"]["dims"]) | set(gz["sscore"]["dims"]))
