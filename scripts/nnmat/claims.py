"""Score the claims of config/claims/<paper>.yaml against the pipeline's CSVs (see its README.md).

Each claim names an evidence CSV (a glob matched against the files the report rule was given, so a
stale file from another config is never used), an optional row filter, a metric that turns the rows
into one number, and a rule on that number. The verdict is computed, never typed:

- ``reproduced``: the rule holds;
- ``differs``: the rule fails (our number is reported beside the paper's);
- ``not checkable here``: the claim says why (``not_checkable``), or its evidence is missing, or the
  filter leaves no rows, or the metric is not finite, or its null satisfies the rule too;
- ``needs paper scale`` / ``needs GPU``: the config does not meet the claim's ``requires`` (the set-up
  in which the claim applies); our number is still reported.

A paper claim carries a null: evidence from a model or procedure that should not satisfy it, scored
by the same metric and rule. A rule that the null passes as well cannot fail, so it proves nothing.
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
NEEDS_PAPER_SCALE, NEEDS_GPU = "needs paper scale", "needs GPU"
VERDICTS = (REPRODUCED, DIFFERS, NOT_CHECKABLE, NEEDS_PAPER_SCALE, NEEDS_GPU)
KINDS = ("paper", "extension", "sanity")
REQUIRED_FIELDS = ("id", "kind", "paper", "where", "statement", "paper_value")
# fmt: off
COLUMNS = [
    "id", "kind", "paper", "where", "statement", "paper_value", "our_value", "rule", "tolerance",
    "verdict", "reason", "evidence", "null", "null_value", "null_verdict", "reading",
]
# fmt: on

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


def null_of(claim: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The claim's null; a YAML key written `null:` unquoted loads as None, so both spellings count."""
    return claim.get("null") or claim.get(None)


def config_value(config: Mapping[str, Any], dotted: str) -> Any:
    node: Any = config
    for key in dotted.split("."):
        node = node[key]
    return node


def unmet_requirement(claim: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(verdict, reason) of the first `requires` entry this config does not meet, else None."""
    for req in claim.get("requires") or []:
        if req.get("verdict") not in (NEEDS_PAPER_SCALE, NEEDS_GPU):
            raise ClaimSpecError(
                f"claim {claim['id']!r}: requires.verdict must be {NEEDS_PAPER_SCALE!r} or {NEEDS_GPU!r}"
            )
        value = config_value(config, req["key"])
        met = value == req["equals"] if "equals" in req else check_rule(float(value), req, config)
        if not met:
            return req["verdict"], f"{req['reason']} (here {req['key']} = {value})"
    return None


def evaluate(
    evidence: str,
    filter_: str | None,
    metric: Mapping[str, Any],
    available: Sequence[str],
    read_csv: Callable[[str], pd.DataFrame],
    config: Mapping[str, Any],
) -> tuple[float | None, list[str], int, str]:
    """(metric value or None, evidence files, rows used, why None) of one evidence selection."""
    files = match_evidence(evidence, available)
    if not files:
        return None, [], 0, f"evidence {evidence} was not produced by this run"
    df = pd.concat([read_csv(f) for f in files], ignore_index=True)
    if filter_:
        df = df.query(_format(filter_, config))
    if df.empty:
        return None, files, 0, "no evidence rows after the filter (not in this config)"
    value = compute_metric(df, metric, config)
    if not math.isfinite(value):
        return None, files, len(df), f"metric is not finite ({value}: too few usable rows)"
    return value, files, len(df), ""


def _check_spec(claim: Mapping[str, Any]) -> None:
    missing = [f for f in REQUIRED_FIELDS if f not in claim]
    if missing:
        raise ClaimSpecError(f"claim {claim.get('id', '?')!r} lacks fields {missing}")
    if claim["kind"] not in KINDS:
        raise ClaimSpecError(f"claim {claim['id']!r}: kind must be one of {KINDS}, not {claim['kind']!r}")
    if claim["kind"] == "paper" and not claim.get("not_checkable") and not null_of(claim):
        raise ClaimSpecError(f"paper claim {claim['id']!r} needs a null: evidence under which it must fail")
    if not claim.get("not_checkable") and not (
        claim.get("metric") and claim.get("rule") and claim.get("evidence")
    ):
        raise ClaimSpecError(f"claim {claim['id']!r} needs evidence, metric and rule (or not_checkable)")


def score_null(claim: Mapping[str, Any], available, read_csv, config) -> dict[str, Any]:
    """The claim's metric and rule on its null evidence: null_value and null_verdict."""
    null = null_of(claim)
    if not null:
        return {"null": "", "null_value": "", "null_verdict": ""}
    value, _, _, why = evaluate(
        null.get("evidence", claim["evidence"]),
        null.get("filter"),
        claim["metric"],
        available,
        read_csv,
        config,
    )
    verdict = (
        NOT_CHECKABLE
        if value is None
        else (REPRODUCED if check_rule(value, claim["rule"], config) else DIFFERS)
    )
    return {
        "null": null["what"],
        "null_value": "" if value is None else f"{value:.6g}",
        "null_verdict": verdict,
    }


def score_claim(
    claim: Mapping[str, Any],
    available: Sequence[str],
    read_csv: Callable[[str], pd.DataFrame],
    config: Mapping[str, Any],
) -> dict[str, Any]:
    """One row of results/claims.csv."""
    _check_spec(claim)
    metric, rule = claim.get("metric"), claim.get("rule")
    row = {k: claim[k] for k in REQUIRED_FIELDS}
    row.update(
        our_value="",
        rule=describe_rule(rule, metric, config),
        tolerance=claim.get("tolerance", ""),
        evidence=claim.get("evidence", ""),
        reading=claim.get("reading", ""),
        **{"null": (null_of(claim) or {}).get("what", ""), "null_value": "", "null_verdict": ""},
    )

    def verdict(v: str, reason: str) -> dict[str, Any]:
        return {**row, "verdict": v, "reason": reason}

    if claim.get("not_checkable"):
        return verdict(NOT_CHECKABLE, claim["not_checkable"])
    value, files, n_rows, why = evaluate(
        claim["evidence"], claim.get("filter"), metric, available, read_csv, config
    )
    if files:
        row["evidence"] = ";".join(files)
    if value is None:
        return verdict(NOT_CHECKABLE, why)
    row["our_value"] = f"{value:.6g}"
    row.update(score_null(claim, available, read_csv, config))
    holds = check_rule(value, rule, config)
    unmet = unmet_requirement(claim, config)
    if unmet:
        return verdict(*unmet)
    if holds and row["null_verdict"] == REPRODUCED:
        why = f"the null ({row['null']}) passes the rule too ({row['null_value']}): it cannot fail here"
        return verdict(NOT_CHECKABLE, f"measured {value:.3g}, but {why}")
    reason = claim.get("reason_pass" if holds else "reason_fail") or (
        f"measured {value:.3g}; rule {row['rule']} {'holds' if holds else 'fails'} on {n_rows} rows"
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


def counts(scores: pd.DataFrame) -> str:
    """'n reproduced, n differs, ...' (verdicts that occur, plus the first three always)."""
    c = scores["verdict"].value_counts()
    return ", ".join(f"{int(c.get(v, 0))} {v}" for v in VERDICTS if v in VERDICTS[:3] or c.get(v, 0))


def to_markdown(scores: pd.DataFrame) -> str:
    """The scorecard: paper claims (the headline), then our extensions, then sanity checks."""
    cols = ["id", "where", "paper_value", "our_value", "rule", "verdict", "reason"]
    parts = ["# Claims scorecard", ""]
    for kind, title in (
        ("paper", "Claims of the papers"),
        ("extension", "Our extensions"),
        ("sanity", "Sanity checks"),
    ):
        mine = scores[scores["kind"] == kind]
        if mine.empty:
            continue
        parts += [
            f"## {title}",
            "",
            f"{len(mine)} claims: {counts(mine)}.",
            "",
            mine[cols].to_markdown(index=False),
            "",
        ]
    return "\n".join(parts)
