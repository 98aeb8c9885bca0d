"""Table of the final s score per (d, activation, optimizer), as CSV and Markdown.

    python scripts/table_gz_sscore_final.py results/gz/sscore/trace_*.csv \
        --out results/tables/gz_sscore_final.csv results/tables/gz_sscore_final.md
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.gz import sscore


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("traces", nargs="+", help="trace CSVs of the s-score stage")
    p.add_argument("--out", nargs=2, required=True, metavar=("CSV", "MD"))
    args = p.parse_args(argv)
    log = cli.setup_logging()
    table = sscore.final_summary(io.read_csvs(args.traces))
    log.info("final s:\n%s", table.to_string(index=False))
    io.write_table(
        table,
        *args.out,
        "Gai & Zhang, Fig. 1: final s score (eq. 35)",
        "Quantiles over runs of s at the last step; runs_flagged counts runs that stalled or never "
        "found a non-singular start.",
    )


if __name__ == "__main__":
    main()
