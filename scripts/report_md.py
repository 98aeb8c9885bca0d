"""Write REPORT.md: per paper the scorecard, figures with captions, tables, our choices and provenance.

    python scripts/report_md.py --claims results/claims.csv --figures figures/gz_fig1_sscore.png ... \
        --tables results/tables/gz_sscore_final.md ... --captions workflow/report \
        --config config/config.yaml --config-json '{...}' --stage-provenance results/*/provenance.json \
        --out REPORT.md

Captions are the `snakemake --report` captions, rendered with the run's config (they may use Jinja).
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pandas as pd

from nnmat import cli, io, report


def render_caption(path: Path, config: dict) -> str:
    if not path.exists():
        return "_(no caption)_"
    return jinja2.Template(path.read_text()).render(snakemake={"config": config})


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--claims", required=True)
    p.add_argument("--figures", nargs="*", default=[], help="figure PNGs (the stem names the caption)")
    p.add_argument("--tables", nargs="*", default=[], help="table Markdown files")
    p.add_argument("--captions", required=True, help="folder of <figure stem>.rst captions")
    p.add_argument("--config", required=True, help="the config file whose 'our choice' comments are listed")
    p.add_argument("--config-json", required=True, help="the run's resolved config (for the captions)")
    p.add_argument("--stage-provenance", nargs="*", default=[], help="results/<stage>/provenance.json files")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    config = json.loads(args.config_json)
    figures = {
        Path(f).stem: render_caption(Path(args.captions) / f"{Path(f).stem}.rst", config)
        for f in sorted(args.figures)
    }
    tables = {Path(t).stem: Path(t).read_text() for t in sorted(args.tables)}
    provenance = {Path(f).parent.name: io.read_json(f) for f in args.stage_provenance}
    claims = pd.read_csv(args.claims, keep_default_na=False)
    text = report.build(claims, figures, tables, Path(args.config).read_text(), provenance)
    io.write_text(text, args.out)


if __name__ == "__main__":
    main()
