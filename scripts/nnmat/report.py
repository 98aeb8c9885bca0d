"""REPORT.md: the pipeline's answer in one file, per paper: verdicts, figures, tables, choices, provenance.

Everything comes from this run's outputs (the scorecard, the tables' Markdown, the figure files, the
captions in workflow/report/, the "our choice" comments of the config and the merged provenance); no
number is typed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .claims import counts


@dataclass(frozen=True)
class Paper:
    key: str  # prefix of its figures, tables and claim ids
    title: str
    config_sections: tuple[str, ...]  # top-level config keys whose "our choice" comments are listed


PAPERS = (
    Paper(
        "gz",
        "Gai & Zhang, *Analytical solution of a three-layer network with a matrix exponential "
        "activation function* (arXiv 2407.02540)",
        ("gz",),
    ),  # fmt: skip
    Paper(
        "xia",
        "Xia et al., *Matrix analysis and fast solvers for neural network computations* (arXiv 2404.05064)",
        ("xia",),
    ),  # fmt: skip
    Paper(
        "ji", "Ji, Wu & Xi, *Rethinking neural-based matrix inversion* (arXiv 2506.00642)", ("ji",)
    ),  # fmt: skip
    Paper(
        "lmd",
        "Shyh-Chang, Luo & Qiu, *Neural network layer matrix decomposition* (arXiv 2309.05968)",
        ("lmd",),
    ),  # fmt: skip
)


def config_choices(config_text: str, section: str) -> list[str]:
    """The keys of one top-level section of config.yaml whose comment says 'our choice', as
    '`dotted.key: value` - comment' (comment-only lines belong to the key below them)."""
    out, stack, pending, inside = [], [], [], False
    for line in config_text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("# "))
            continue
        indent = len(line) - len(line.lstrip())
        code, _, comment = line.partition("#")
        key, _, value = code.strip().partition(":")
        stack = [(i, k) for i, k in stack if i < indent] + [(indent, key)]
        inside = stack[0][1] == section
        text = " ".join([*pending, comment.strip()]).strip()
        pending = []
        if inside and "our choice" in text.lower():
            dotted = ".".join(k for _, k in stack)
            out.append(f"`{dotted}: {value.strip()}` — {text}" if value.strip() else f"`{dotted}` — {text}")
    return out


def scorecard_counts(claims: pd.DataFrame) -> str:
    """Counts of the paper claims (the headline): our extensions and sanity checks are not in it."""
    return counts(claims[claims["kind"] == "paper"])


def claims_markdown(claims: pd.DataFrame) -> str:
    cols = ["id", "where", "statement", "paper_value", "our_value", "verdict", "reason", "null", "null_value"]
    return claims[cols].to_markdown(index=False, floatfmt=".4g")


def claims_parts(claims: pd.DataFrame) -> list[str]:
    """The paper's claims, our extensions and the sanity checks as three tables, then the readings
    of the paper's words that others could read differently."""
    parts = []
    titles = {"paper": "Claims of the paper", "extension": "Our extensions (not in the headline)",
              "sanity": "Sanity checks (hold by construction; not in the headline)"}  # fmt: skip
    for kind, title in titles.items():
        mine = claims[claims["kind"] == kind]
        if not mine.empty:
            parts += [f"### {title}", "", f"{len(mine)}: {counts(mine)}.", "", claims_markdown(mine), ""]
    readings = claims[claims["reading"].astype(str).str.strip() != ""]
    if not readings.empty:
        parts += ["### Our readings of the paper (others could read it differently)", ""]
        parts += [f"- `{r.id}`: {r.reading}" for r in readings.itertuples()] + [""]
    return parts


def provenance_markdown(records: dict[str, dict]) -> str:
    """Wall time per stage and the software and commit that produced it."""
    rows = []
    for stage, rec in records.items():
        git = rec.get("git") or {}
        rows.append(
            {
                "stage": stage,
                "jobs": rec.get("n_jobs"),
                "compute wall time [s]": rec.get("wall_s_total"),
                "commit": (git.get("commit") or "unknown")[:10] + (" (dirty)" if git.get("dirty") else ""),
                "host / cpus": f"{rec.get('host')} / {rec.get('cpu_count')}",
                "python": rec.get("python"),
                "packages": ", ".join(f"{k} {v}" for k, v in sorted((rec.get("packages") or {}).items())),
            }
        )
    return pd.DataFrame(rows).to_markdown(index=False) if rows else "_no provenance recorded_"


def paper_section(
    paper: Paper,
    claims: pd.DataFrame,
    figures: dict[str, str],
    tables: dict[str, str],
    choices: list[str],
    provenance: dict[str, dict],
) -> str:
    """One paper's part of REPORT.md. `figures` maps a figure stem to its caption, `tables` a table stem
    to its Markdown; both already filtered to this paper."""
    mine = claims[claims["id"].str.startswith(f"{paper.key}_")]
    parts = [f"## {paper.title}", ""]
    if mine.empty and not figures and not tables:
        return "\n".join([*parts, "_Not run by this configuration._", ""])
    parts += [f"**Scorecard (claims of the paper):** {scorecard_counts(mine)}.", "", *claims_parts(mine)]
    for stem, caption in figures.items():
        parts += [f"### Figure `{stem}`", "", f"![{stem}](figures/{stem}.png)", "", caption.strip(), ""]
    for stem, markdown in tables.items():
        body = re.sub(r"^# ", "#### ", markdown.strip(), count=1)  # demote the table's own title
        parts += [f"### Table `{stem}` (`results/tables/{stem}.csv`)", "", body, ""]
    parts += ["### Choices we made where the paper is silent", ""]
    parts += [f"- {c}" for c in choices] or ["- none recorded"]
    parts += ["", "### Provenance", "", provenance_markdown(provenance), ""]
    return "\n".join(parts)


def paper(key: str) -> Paper:
    """The paper with this key (gz, xia, ji, lmd)."""
    for p in PAPERS:
        if p.key == key:
            return p
    raise KeyError(f"unknown paper {key!r}; expected one of {[p.key for p in PAPERS]}")


def not_run_section(paper: Paper) -> str:
    return "\n".join(
        [f"## {paper.title}", "", f"_Not run yet in this working directory: `snakemake {paper.key}`._", ""]
    )


def assemble(sections: dict[str, str | None], claims: pd.DataFrame) -> str:
    """The whole REPORT.md from the per-paper sections (None: that paper has not been run here) and
    the scorecard rows of the papers that have been run."""
    run = [p.key for p in PAPERS if sections.get(p.key) is not None]
    head = [
        "# nnmat reproduction report",
        "",
        "Generated by the pipeline from this run's CSVs (do not edit by hand): one section per paper, "
        "each rebuilt by `snakemake <paper>` (gz, xia, ji, lmd) or by a full run. Each claim's verdict "
        "comes from its evidence file by the rule in `config/claims/<paper>.yaml`; `results/claims.csv` "
        "has the tolerances, nulls and evidence paths.",
        "",
        f"**Papers run:** {', '.join(run) or 'none'}. **Claims of the papers:** "
        f"{int((claims['kind'] == 'paper').sum()) if len(claims) else 0}: "
        f"{scorecard_counts(claims) if len(claims) else 'none scored'} (our extensions and sanity checks "
        "are listed per paper, apart).",
        "",
    ]
    body = [sections.get(p.key) or not_run_section(p) for p in PAPERS]
    return "\n".join(head + body)
