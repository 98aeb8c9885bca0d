"""Score the claims of config/claims.yaml against the pipeline's CSVs (DESIGN.md section 5).

Each claim names an evidence CSV (a glob matched against the files the report rule was given, so a
stale file from another config is never used), an optional row filter, a metric that turns the rows
into one number, and a rule on that number. The verdict is computed, never typed:

- ``reproduced``: the rule holds;
- ``differs``: the rule fails (our number is reported beside the paper's);
- ``not checkable here``: the claim says why (``not_checkable``), or its evidence is missing, or the
  filter leaves no rows, or the metric is not finite.
"""

from __future__ import annotations

import fnmatch
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

REPRODUCED, DIFFERS, NOT_CHECKABLE = "reproduced", "differs", "not checkable here"
VERDICTS = (REPRODUCED, DIFFERS, NOT_CHECKABLE)
REQUIRED_FIELDS = ("id", "paper", "where", "statement", "paper_value")
COLUMNS = [
    "id",
    "paper",
    "where",
    "statement",
    "paper_value",
    "our_value",
    "rule",
    "tolerance",
    "verdict",
    "reason",
    "evidence",
]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ClaimSpecError(ValueError):
    """A malformed claim entry (a bug in config/claims.yaml, not a failed claim)."""


def resolve(value: Any, config: Mapping[str, Any]) -> Any:
    """Replace a ``"config:a.b.c"`` string by that config value (thresholds that follow the config)."""
    if isinstance(value, str) and value.startswith("config:"):
        node: Any = config
        for key in value.removeprefix("config:").split("."):
            node = node[key]
        return node
    if isinstance(value, list):
        return [resolve(v, config) for v in value]
    return value


def _format(text: str, config: Mapping[str, Any]) -> str:
    """Fill ``{gz[sscore][fig1_optimizer]}``-style placeholders from the config."""
    return text.format(**config)


def _series(df: pd.DataFrame, column: str) -> pd.Series:
    if column not in df.columns:
        raise ClaimSpecError(f"column {column!r} not in evidence (has {list(df.columns)})")
    return pd.to_numeric(df[column], errors="coerce")


def _stat(df: pd.DataFrame, metric: Mapping[str, Any], config: Mapping[str, Any]) -> float:
    """One number from the rows of one group."""
    stat = metric["stat"]
    if stat == "count":
        return float(len(df))
    y = _series(df, metric["column"])
    if stat in ("max", "min", "median", "mean"):
        return float(getattr(y, stat)())
    if stat in ("fraction_below", "fraction_above"):
        threshold = float(resolve(metric["threshold"], config))
        hits = y < threshold if stat == "fraction_below" else y > threshold
        return float(hits.mean())
    if stat == "max_abs_dev":
        return float((y - float(metric.get("center", 0.0))).abs().max())
    x = _series(df, metric["x"])
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return math.nan
    if stat == "spearman":
        return float(stats.spearmanr(x[ok], y[ok]).statistic)
    if stat == "loglog_slope":
        pos = ok & (x > 0) & (y > 0)
        return float(stats.linregress(np.log(x[pos]), np.log(y[pos])).slope) if pos.sum() >= 3 else math.nan
    raise ClaimSpecError(f"unknown metric stat {stat!r}")


def compute_metric(df: pd.DataFrame, metric: Mapping[str, Any], config: Mapping[str, Any]) -> float:
    """The claim's number: the stat over all rows, or over each group reduced by `reduce`."""
    groupby = metric.get("groupby")
    if not groupby:
        return _stat(df, metric, config)
    per_group = [_stat(g, metric, config) for _, g in df.groupby(list(groupby), sort=True)]
    reduce = metric.get("reduce", "max")
    values = pd.Series(per_group, dtype=float)
    if reduce in ("max", "min", "median", "mean"):
        return float(getattr(values, reduce)())
    raise ClaimSpecError(f"unknown reduce {reduce!r}")


def check_rule(value: float, rule: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    op, bound = rule["op"], resolve(rule["value"], config)
    if op == "between":
        lo, hi = (float(b) for b in bound)
        return lo <= value <= hi
    if op not in _OPS:
        raise ClaimSpecError(f"unknown rule op {op!r}")
    return _OPS[op](value, float(bound))


def describe_rule(rule: Mapping[str, Any] | None, metric: Mapping[str, Any] | None, config) -> str:
    if not rule or not metric:
        return ""
    what = metric["stat"] + (f"({metric['column']})" if "column" in metric else "")
    if "x" in metric:
        what += f" vs {metric['x']}"
    if metric.get("groupby"):
        what = f"{metric.get('reduce', 'max')} over {'/'.join(metric['groupby'])} of {what}"
    bound = resolve(rule["value"], config)
    return f"{what} {rule['op']} {bound}"


def match_evidence(pattern: str, available: Sequence[str]) -> list[str]:
    return sorted(p for p in available if fnmatch.fnmatch(p, pattern))


def score_claim(
    claim: Mapping[str, Any],
    available: Sequence[str],
    read_csv: Callable[[str], pd.DataFrame],
    config: Mapping[str, Any],
) -> dict[str, Any]:
    """One row of results/claims.csv."""
    missing = [f for f in REQUIRED_FIELDS if f not in claim]
    if missing:
        raise ClaimSpecError(f"claim {claim.get('id', '?')!r} lacks fields {missing}")
    row = {k: claim[k] for k in REQUIRED_FIELDS}
    metric, rule = claim.get("metric"), claim.get("rule")
    row.update(
        our_value="",
        rule=describe_rule(rule, metric, config),
        tolerance=claim.get("tolerance", ""),
        evidence=claim.get("evidence", ""),
    )

    def verdict(v: str, reason: str) -> dict[str, Any]:
        return {**row, "verdict": v, "reason": reason}

    if claim.get("not_checkable"):
        return verdict(NOT_CHECKABLE, claim["not_checkable"])
    if not (metric and rule and claim.get("evidence")):
        raise ClaimSpecError(f"claim {claim['id']!r} needs evidence, metric and rule (or not_checkable)")
    files = match_evidence(claim["evidence"], available)
    if not files:
        return verdict(NOT_CHECKABLE, f"evidence {claim['evidence']} was not produced by this run")
    df = pd.concat([read_csv(f) for f in files], ignore_index=True)
    row["evidence"] = ";".join(files)
    if claim.get("filter"):
        df = df.query(_format(claim["filter"], config))
    if df.empty:
        return verdict(NOT_CHECKABLE, "no evidence rows after the filter (not in this config)")
    value = compute_metric(df, metric, config)
    row["our_value"] = f"{value:.6g}"
    if not math.isfinite(value):
        return verdict(NOT_CHECKABLE, "metric is not finite (too few usable rows)")
    holds = check_rule(value, rule, config)
    reason = claim.get("reason_pass" if holds else "reason_fail") or (
        f"measured {value:.3g}; rule {row['rule']} {'holds' if holds else 'fails'} on {len(df)} rows"
    )
    return verdict(REPRODUCED if holds else DIFFERS, reason)


def score_all(
    claims: Sequence[Mapping[str, Any]],
    available: Sequence[str],
    read_csv: Callable[[str], pd.DataFrame],
    config: Mapping[str, Any],
) -> pd.DataFrame:
    ids = [c.get("id") for c in claims]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ClaimSpecError(f"duplicate claim ids: {dupes}")
    rows = [score_claim(c, available, read_csv, config) for c in claims]
    return pd.DataFrame(rows, columns=COLUMNS)


def to_markdown(scores: pd.DataFrame) -> str:
    counts = scores["verdict"].value_counts()
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS)
    cols = ["id", "where", "paper_value", "our_value", "rule", "verdict", "reason"]
    table = scores[cols].to_markdown(index=False)
    return f"# Claims scorecard\n\n{len(scores)} claims: {summary}.\n\n{table}\n"
