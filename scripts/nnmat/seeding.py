"""Seed derivation: one master seed in the config, one independent stream per task.

A task's stream depends only on (master seed, stage name, task keys), never on the order in which
Snakemake happens to run jobs, so any subset of jobs reproduces the same numbers.
"""

from __future__ import annotations

import zlib

import numpy as np


def _key_to_int(key: object) -> int:
    """Stable non-negative integer for a task key (ints pass through; strings via CRC32)."""
    if isinstance(key, (bool, np.bool_)):
        return int(key)
    if isinstance(key, (int, np.integer)):
        if key < 0:
            raise ValueError(f"seed keys must be non-negative integers, got {key}")
        return int(key)
    if isinstance(key, float) and key.is_integer() and key >= 0:
        return int(key)
    return zlib.crc32(str(key).encode("utf-8"))


def seed_sequence(master: int, stage: str, *keys: object) -> np.random.SeedSequence:
    """SeedSequence for (master, stage, keys...): the keys go into the spawn key."""
    return np.random.SeedSequence(
        entropy=int(master), spawn_key=tuple(_key_to_int(k) for k in (stage, *keys))
    )


def derive_seed(master: int, stage: str, *keys: object) -> int:
    """A 63-bit integer seed (for torch.manual_seed and for the CSV record)."""
    state = seed_sequence(master, stage, *keys).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def rng(master: int, stage: str, *keys: object) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(master, stage, *keys))
