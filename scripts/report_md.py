"""REPORT.md, one section per paper: scorecard, figures with captions, tables, our choices, provenance.

    # one paper's section
    python scripts/report_md.py section --paper gz --claims results/claims/gz.csv \
        --figures figures/gz_fig1_sscore.png ... --tables results/tables/gz_sscore_final.md ... \
        --captions workflow/report --config config/config.yaml --config-json '{...}' \
        --stage-provenance results/gz/theorem1/provenance.json ... --out results/report/gz.md
    # the whole report from the sections present (a paper not run here is marked so)
    python scripts/report_md.py assemble --workdir . --out REPORT.md --claims-out results/claims.csv \
        --markdown results/tables/claims.md

Captions are the `snakemake --report` captions, rendered with the run's config (they may use Jinja).
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pandas as pd

from nnmat import claims, cli, io, report


def render_caption(path: Path, config: dict) -> str:
    if not path.exists():
        return "_(no caption)_"
    return jinja2.Template(path.read_text()).render(snakemake={"config": config})


def section(args) -> None:
    config = json.loads(args.config_json)
    paper = report.paper(args.paper)
    figures = {
        Path(f).stem: render_caption(Path(args.captions) / f"{Path(f).stem}.rst", config)
        for f in sorted(args.figures)
    }
    tables = {Path(t).stem: Path(t).read_text() for t in sorted(args.tables)}
    # Label each stage's provenance by its folder below results/ (gz/theorem1, ji/linapprox, ...).
    provenance = {
        Path(f).parent.as_posix().split("results/", 1)[-1]: io.read_json(f) for f in args.stage_provenance
    }
    scores = io.read_csv(args.claims, keep_default_na=False)
    choices = [
        c for key in paper.config_sections for c in report.config_choices(Path(args.config).read_text(), key)
    ]
    io.write_text(report.paper_section(paper, scores, figures, tables, choices, provenance), args.out)


def assemble(workdir: Path, out: Path, claims_out: Path, markdown: Path) -> None:
    """REPORT.md, results/claims.csv and its Markdown from results/report/<paper>.md and
    results/claims/<paper>.csv of every paper run in `workdir` (also called by the Snakefile)."""
    sections, frames = {}, []
    for paper in report.PAPERS:
        md, csv = (
            workdir / "results/report" / f"{paper.key}.md",
            workdir / "results/claims" / f"{paper.key}.csv",
        )
        if md.exists() and csv.exists():
            sections[paper.key] = md.read_text()
            frames.append(io.read_csv(csv, keep_default_na=False, dtype=str))
    scores = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=claims.COLUMNS)
    io.write_csv(scores, claims_out)
    io.write_text(claims.to_markdown(scores), markdown)
    io.write_text(report.assemble(sections, scores), out)


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("section", help="one paper's section")
    s.add_argument("--paper", required=True, choices=[paper.key for paper in report.PAPERS])
    s.add_argument("--claims", required=True, help="results/claims/<paper>.csv")
    s.add_argument("--figures", nargs="*", default=[], help="figure PNGs (the stem names the caption)")
    s.add_argument("--tables", nargs="*", default=[], help="table Markdown files")
    s.add_argument("--captions", required=True, help="folder of <figure stem>.rst captions")
    s.add_argument("--config", required=True, help="the config file whose 'our choice' comments are listed")
    s.add_argument("--config-json", required=True, help="the run's resolved config (for the captions)")
    s.add_argument("--stage-provenance", nargs="*", default=[], help="merged provenance.json files")
    s.add_argument("--out", required=True)
    a = sub.add_parser("assemble", help="REPORT.md and results/claims.csv from the sections present")
    a.add_argument("--workdir", default=".", type=Path)
    a.add_argument("--out", required=True, type=Path)
    a.add_argument("--claims-out", required=True, type=Path)
    a.add_argument("--markdown", required=True, type=Path)
    args = p.parse_args(argv)
    cli.setup_logging()
    if args.mode == "section":
        section(args)
    else:
        assemble(args.workdir, args.out, args.claims_out, args.markdown)


if __name__ == "__main__":
    main()
