"""File names of the Ji, Wu & Xi stage, shared by its scripts and rule files (no torch import, so the
Snakefile can use it): a trained model is MODELS_DIR/{arch}_seed{seed_index}.pt, a training checkpoint
CHECKPOINT_DIR/{dataset}-{fingerprint}.pt."""

from __future__ import annotations

import os
import re

_MODEL_STEM = re.compile(r"^(?P<arch>.+)_seed(?P<seed>\d+)$")


def model_stem(arch: str, seed_index: int) -> str:
    """'small', 0 -> 'small_seed0': the name of a model in every CSV and the stem of its file."""
    return f"{arch}_seed{int(seed_index)}"


def model_file(models_dir: str | os.PathLike, arch: str, seed_index: int) -> str:
    """The state-dict file of one trained model inside its dataset's models directory."""
    return os.path.join(os.fspath(models_dir), model_stem(arch, seed_index) + ".pt")


def parse_model_stem(stem: str) -> tuple[str, int] | None:
    """'small_seed0' -> ('small', 0); None if the stem is not ARCH_seedK."""
    m = _MODEL_STEM.match(stem)
    return (m["arch"], int(m["seed"])) if m else None


def checkpoint_file(checkpoint_dir: str | os.PathLike, dataset: str, fingerprint: str) -> str:
    """The checkpoint of one training run: a changed run (another fingerprint) gets another file, so a
    killed run resumes from its own checkpoint and nothing of an older configuration is overwritten."""
    return os.path.join(os.fspath(checkpoint_dir), f"{dataset}-{fingerprint}.pt")
