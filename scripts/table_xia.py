"""Tables of the Xia stage: CSV for machines and Markdown for people, from the result CSVs only.

    python scripts/table_xia.py results/xia/*.csv --settings '{"ci_level": 0.95, "fit_min_n": 32}' \
        --out results/tables/xia_cond_fit.csv results/tables/xia_cond_fit.md ...

Inputs are recognised by file stem (cond_1d, cond_mpmath, cond_random_1d, cond_2d, quad_check_2d, modes,
pd, ranks, cg, solver, solver_timing); the tables xia_{cond_fit,cond_1d,mpmath_check,quadrature,modes,
pd,ranks,cg,solver,solver_timing}.{csv,md} are written into the one directory of the --out paths.
The builders and TableSettings are in nnmat.xia.tables.
"""

from __future__ import annotations

from pathlib import Path

from nnmat import cli, io
from nnmat.xia import tables

STAGE = "table_xia"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("inputs", nargs="+", help="result CSVs of the xia stage")
    cli.add_settings(p, tables.TableSettings)
    p.add_argument("--out", nargs="+", required=True, help="table files (CSV + MD), one directory")
    args = p.parse_args(argv)
    cli.setup_logging()
    with cli.stage(STAGE, cli.params(args), args.provenance):
        by_stem = {Path(f).stem: f for f in args.inputs}
        missing = [k for k in tables.RESULT_STEMS if k not in by_stem]
        if missing:
            p.error(f"missing input CSVs: {missing}")
        r = {k: io.read_csv(by_stem[k]) for k in tables.RESULT_STEMS}
        dirs = {Path(f).parent for f in args.out}
        if len(dirs) != 1:
            p.error("all --out files must be in one directory")
        out = dirs.pop()
        for stem, df, title in tables.tables(r, args.settings):
            io.write_table(df, out / f"{stem}.csv", out / f"{stem}.md", title)


if __name__ == "__main__":
    main()
