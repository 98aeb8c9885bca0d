"""Shared plumbing of the thin CLI scripts: argument parsing, logging, progress, provenance."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any, TypeVar

from . import io, provenance

log = logging.getLogger("nnmat")


def parser(doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--provenance", help="write a provenance JSON for this job here")
    return p


S = TypeVar("S")


def settings_json(settings: Any) -> str:
    """The canonical JSON of a settings object or mapping: sorted keys, no spaces (stable bytes)."""
    data = dataclasses.asdict(settings) if dataclasses.is_dataclass(settings) else settings
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def fingerprint(settings: Any, length: int = 10) -> str:
    """A short digest of a settings object: every field counts, so none can be forgotten."""
    return hashlib.sha1(settings_json(settings).encode()).hexdigest()[:length]


def load_settings(cls: type[S], text: str) -> S:
    """Build the frozen settings dataclass `cls` from its JSON. Missing and unknown keys are errors:
    the rule passes exactly the fields the script reads (defaults live in the config schema only)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--settings is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"--settings must be a JSON object, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    missing, unknown = sorted(names - set(data)), sorted(set(data) - names)
    if missing or unknown:
        raise ValueError(f"--settings for {cls.__name__}: missing keys {missing}, unknown keys {unknown}")
    return cls(**data)


def add_settings(p: argparse.ArgumentParser, cls: type) -> None:
    """The one `--settings JSON` argument of a script, parsed into `cls` (required)."""
    keys = ", ".join(f.name for f in dataclasses.fields(cls))

    def parse(text: str) -> Any:
        try:
            return load_settings(cls, text)
        except (ValueError, TypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    p.add_argument("--settings", type=parse, required=True, help=f"JSON object with keys: {keys}")


def params(args: argparse.Namespace) -> dict[str, Any]:
    """The resolved parameters of a job for its log and provenance: paths plus the settings fields."""
    out = {k: v for k, v in vars(args).items() if k != "settings"}
    if getattr(args, "settings", None) is not None:
        out["settings"] = dataclasses.asdict(args.settings)
    return out


def setup_logging(level: int = logging.INFO) -> logging.Logger:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return log


@contextlib.contextmanager
def stage(name: str, params: dict[str, Any], provenance_path: str | None) -> Iterator[dict[str, Any]]:
    """Log the resolved parameters, time the body, write the provenance JSON on success.

    The yielded dict collects extra provenance (e.g. derived seeds) that the body wants recorded.
    """
    log.info("stage %s: parameters %s", name, params)
    extra: dict[str, Any] = {}
    start = time.perf_counter()
    yield extra
    wall = time.perf_counter() - start
    log.info("stage %s: done in %.2f s", name, wall)
    if provenance_path:
        io.write_json(provenance.collect(name, params, wall, **extra), provenance_path)


class Progress:
    """Periodic log lines with count, rate and ETA for long loops (at most one per `every_s`)."""

    def __init__(self, total: int, what: str, every_s: float = 5.0):
        self.total, self.what, self.every_s = total, what, every_s
        self.start = self.last = time.perf_counter()
        self.done = 0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every_s or self.done == self.total:
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            log.info("%s: %d/%d (%.1f/s, ETA %.0f s)", self.what, self.done, self.total, rate, eta)
