"""All file I/O of the library: atomic CSV/NPZ/JSON/text writes, YAML and CSV reads.

Every write goes to a temporary file in the destination directory and is renamed into place, so a
killed job never leaves a half-written output that Snakemake (or a reader) could mistake for a result.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

# Fixed float format: same numbers => same bytes, and enough digits to round-trip a float64.
CSV_FLOAT_FORMAT = "%.17g"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix or dest.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a tidy DataFrame atomically: no index column, fixed float format, LF line endings."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")


def read_csv(path: str | os.PathLike) -> pd.DataFrame:
    return pd.read_csv(path)


def read_csvs(paths: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Concatenate several CSVs of the same shape (e.g. one per dimension)."""
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def write_json(obj: Any, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as f:
        return json.load(f)


def write_text(text: str, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def read_yaml(path: str | os.PathLike) -> Any:
    with open(path) as f:
        return yaml.safe_load(f)


def write_table(df: pd.DataFrame, csv_path: str | os.PathLike, md_path: str | os.PathLike, title: str,
                note: str = "", floatfmt: str = ".4g") -> None:  # fmt: skip
    """A table for machines (CSV) and for people (Markdown with a title and an optional note)."""
    write_csv(df, csv_path)
    body = df.to_markdown(index=False, floatfmt=floatfmt)
    write_text(f"# {title}\n\n" + (f"{note}\n\n" if note else "") + body + "\n", md_path)


def write_torch(obj: Any, path: str | os.PathLike) -> None:
    """torch.save atomically (a kill never leaves half a checkpoint or model file)."""
    import torch  # imported here: most stages never need torch, and it costs seconds to import

    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(obj, tmp)


def read_torch(path: str | os.PathLike) -> Any:
    """torch.load of tensors and plain Python only (weights_only=True), onto the CPU."""
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)
