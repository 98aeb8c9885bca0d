"""Shared plumbing of the thin CLI scripts: argument parsing, logging, progress, provenance."""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

from . import io, provenance

log = logging.getLogger("nnmat")


def parser(doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--provenance", help="write a provenance JSON for this job here")
    return p


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
