"""Compare the result CSVs of two runs byte for byte, through an explicit old -> new path map.

    python tests/tools/compare_results.py OLD_RUN_DIR NEW_RUN_DIR [--map results/relu=results/xia ...]

Used to prove that a refactoring changed no number: every result CSV of the old run (wall-time CSVs
and benchmarks aside) must exist under its mapped path in the new run with identical bytes. The
scorecard is compared with its timed rows left out and its evidence paths mapped. Exit status 1 on
any difference; the counts are printed.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

import pandas as pd

# CSVs that measure the machine (wall times) rather than the mathematics.
NONDETERMINISTIC = re.compile(r"(^|/)(timing_[^/]*|[^/]*_timing[^/]*)\.csv$|^results/benchmarks/")
# The layout change of the "one name per paper" step (old prefix -> new prefix, first match wins).
LAYOUT_MAP = [
    ("results/expnet/", "results/gz/theorem1/"),
    ("results/sscore/", "results/gz/sscore/"),
    ("results/data/", "results/gz/data/"),
    ("results/relu/", "results/xia/"),
    ("results/linapprox/", "results/ji/linapprox/"),
]


def mapped(path: str, mapping: list[tuple[str, str]]) -> str:
    for old, new in mapping:
        if path.startswith(old):
            return new + path[len(old) :]
    return path


def scorecard(path: Path, mapping: list[tuple[str, str]] | None) -> bytes:
    scores = pd.read_csv(path, dtype=str, keep_default_na=False)  # text kept exactly
    scores = scores[~scores["evidence"].map(lambda e: bool(NONDETERMINISTIC.search(e)))].copy()
    if mapping:
        scores["evidence"] = scores["evidence"].map(
            lambda e: ";".join(mapped(part, mapping) for part in e.split(";"))
        )
    buf = io.StringIO()
    scores.to_csv(buf, index=False)
    return buf.getvalue().encode()


def compare(old: Path, new: Path, mapping: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"identical": [], "differ": [], "missing": []}
    for path in sorted(old.glob("results/**/*.csv")):
        rel = path.relative_to(old).as_posix()
        if NONDETERMINISTIC.search(rel):
            continue
        target = new / mapped(rel, mapping)
        if not target.exists():
            out["missing"].append(rel)
            continue
        if rel == "results/claims.csv":
            same = scorecard(path, mapping) == scorecard(target, None)
        else:
            same = path.read_bytes() == target.read_bytes()
        out["identical" if same else "differ"].append(rel)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--map", nargs="*", default=None, help="OLD_PREFIX=NEW_PREFIX (default: the layout map)")
    args = p.parse_args(argv)
    mapping = [tuple(m.split("=", 1)) for m in args.map] if args.map is not None else LAYOUT_MAP
    result = compare(args.old, args.new, mapping)
    for kind in ("differ", "missing"):
        for rel in result[kind]:
            print(f"{kind}: {rel}")
    print(", ".join(f"{len(v)} {k}" for k, v in result.items()), "result CSVs (timings excluded)")
    return 1 if result["differ"] or result["missing"] else 0


if __name__ == "__main__":
    sys.exit(main())
