"""Table of the final s score per (d, activation, optimizer), as CSV and Markdown.

    python scripts/table_gz_sscore_final.py results/sscore/trace_*.csv \
        --out results/tables/gz_sscore_final.csv results/tables/gz_sscore_final.md
"""

from __future__ import annotations

from nnmat import cli, io, sscore


def to_markdown(df) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("traces", nargs="+", help="trace CSVs of the s-score stage")
    p.add_argument("--out", nargs=2, required=True, metavar=("CSV", "MD"))
    args = p.parse_args(argv)
    log = cli.setup_logging()
    table = sscore.final_summary(io.read_csvs(args.traces))
    log.info("final s:\n%s", table.to_string(index=False))
    io.write_csv(table, args.out[0])
    header = (
        "# Gai & Zhang, Fig. 1: final s score (eq. 35)\n\n"
        "Quantiles over runs of s at the last step; runs_flagged counts runs that stalled or never "
        "found a non-singular start.\n\n"
    )
    io.write_text(header + to_markdown(table), args.out[1])


if __name__ == "__main__":
    main()
