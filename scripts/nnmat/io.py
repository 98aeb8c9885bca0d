"""All file I/O of the library: atomic CSV/NPZ/JSON/text writes, YAML and CSV reads.

Every write goes to a temporary file in the destination directory and is renamed into place, so a
killed job never leaves a half-written output that Snakemake (or a reader) could mistake for a result.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

# Fixed float format: same numbers => same bytes, and enough digits to round-trip a float64.
CSV_FLOAT_FORMAT = "%.17g"


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it: set, then restore at once
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    mkstemp creates the temporary file with mode 0600, which os.replace would carry onto the result:
    the file gets the mode a plain open() would give it (0666 less the umask) before the rename, so
    collaborators on a shared directory can read results as the user's umask intends."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix or dest.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a tidy DataFrame atomically: no index column, fixed float format, LF line endings."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")


class CorruptInputError(ValueError):
    """An input file that is empty, cut short or garbled; the message names the file."""


def _check_csv_shape(path: Path, data: bytes) -> None:
    """Every CSV we write ends with a newline and has as many fields on every line as in its header;
    pandas would silently pad a line cut mid-way with NaN."""
    if not data.strip():
        raise CorruptInputError(f"{path}: empty CSV")
    if not data.endswith(b"\n"):
        raise CorruptInputError(
            f"{path}: truncated (the last line has no newline): rerun the job that writes it"
        )
    rows = csv.reader(data.decode("utf-8").splitlines())
    width = len(next(rows))
    for lineno, row in enumerate(rows, start=2):
        if len(row) != width:
            raise CorruptInputError(f"{path}: line {lineno} has {len(row)} fields, the header has {width}")


def read_csv(path: str | os.PathLike, **kwargs: Any) -> pd.DataFrame:
    """A CSV written by this pipeline; a short, cut or unparsable file is refused naming the file."""
    path = Path(path)
    data = path.read_bytes()
    _check_csv_shape(path, data)
    try:
        df = pd.read_csv(BytesIO(data), **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptInputError(f"{path}: cannot be parsed as CSV: {exc}") from exc
    _check_garbled_numbers(path, df)
    return df


def _check_garbled_numbers(path: Path, df: pd.DataFrame) -> None:
    """A numeric column with a damaged entry ("1.5e-0x") is read as text and would fail far away, or
    not at all: refuse it here, naming the line and column. Only columns that are numbers but for a
    few single-token entries that start like a number count; text columns (a claim's paper value,
    activation patterns "0110 1100") are left alone."""
    for column in df.select_dtypes(include="object").columns:
        values = df[column].dropna().astype(str)
        values = values[values.str.strip() != ""]
        numeric = pd.to_numeric(values, errors="coerce").notna()
        bad = values[~numeric]
        if len(bad) and numeric.mean() >= 0.9 and bad.str.fullmatch(r"[+-]?(\d|\.\d)\S*").all():
            line = int(bad.index[0]) + 2  # header is line 1
            value = bad.iloc[0]
            raise CorruptInputError(f"{path}: line {line}, column {column!r}: {value!r} is not a number")


def read_csvs(paths: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Concatenate several CSVs of the same shape (e.g. one per dimension)."""
    return pd.concat([read_csv(p) for p in paths], ignore_index=True)


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of an NPZ written by write_npz; a damaged file is refused naming it."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise CorruptInputError(
            f"{path}: not a readable NPZ ({type(exc).__name__}: {exc}): rerun the job that writes it"
        ) from exc


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

    # Saved through a file object: torch.save(obj, <path>) writes the file's name (here the random
    # temporary name) into the archive, so two identical saves would differ in their bytes.
    with atomic_path(path, suffix=".pt") as tmp, open(tmp, "wb") as f:
        torch.save(obj, f)


def read_torch(path: str | os.PathLike) -> Any:
    """torch.load of tensors and plain Python only (weights_only=True), onto the CPU."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises RuntimeError, OSError, pickle.UnpicklingError, ... here
        raise CorruptInputError(f"{path}: not a readable torch file ({type(exc).__name__}: {exc})") from exc
