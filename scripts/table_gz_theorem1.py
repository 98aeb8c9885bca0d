"""Tables of the Theorem 1 stage (Gai & Zhang) from the result CSVs: CSV for machines, Markdown for people.

    python scripts/table_gz_theorem1.py summary results/gz/theorem1/theorem1_d*.csv \
        --settings '{"rel_tol": 1e-8}' \
        --out results/tables/gz_theorem1_summary.csv results/tables/gz_theorem1_summary.md
    python scripts/table_gz_theorem1.py depth results/gz/theorem1/depth_d*.csv \
        --out results/tables/gz_depth_comparison.csv results/tables/gz_depth_comparison.md

    python scripts/table_gz_theorem1.py equations results/gz/theorem1/depth_d*.csv \
        --settings '{"rel_tol": 1e-8}' \
        --out results/tables/gz_depth_equations.csv results/tables/gz_depth_equations.md

rel_tol (summary and equations) is gz.theorem1.rel_tol.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnmat import cli, io
from nnmat.gz import depth, theorem1


@dataclass(frozen=True)
class SummarySettings:
    """summary: the float64 tolerance that counts a trial as solved."""

    rel_tol: float


HEADERS = {
    "summary": (
        "# Gai & Zhang, Theorem 1 (eq. 12) in float64\n\n"
        "Per (d, alpha) over trials: relative Frobenius residual max_k ||f(X_k) - Y_k|| / ||Y_k||, the "
        "fraction of trials below rel_tol (flagged trials count as misses), and the median errors of the "
        "proof's identities (eq. 25, exp(Z) = alpha Y1^-1 Y2, eq. 31, the commutator). "
        "amplification = ||W3|| ||exp(W2 exp(W1 X))|| / ||Y||: rounding leaves about eps times it.\n\n"
    ),
    "depth": (
        "# Gai & Zhang, Sec. 2 (eqs. 7-10): depth comparison\n\n"
        "Median relative residuals of each model on the same random problems. A single W (least squares) "
        "and two linear layers W2 W1 (same function class) cannot satisfy both equations: 2 d^2 scalar "
        "equations for d^2 free parameters of the product; W = Y1 X1^-1 solves equation 1 only; the "
        "three-layer exp network of Theorem 1 (complex weights: n_real_params counts real and imaginary "
        "parts) solves both.\n\n"
    ),
    "equations": (
        "# Gai & Zhang, Sec. 1-2: equations solved against depth\n\n"
        "Per (d, number of layers): the equations Y_k = f(X_k) (k = 1, 2) that each model solves to a "
        "relative residual below rel_tol (median over trials), and the best model of that depth. The paper: "
        "one layer solves one equation, the three-layer exp network two.\n\n"
    ),
}


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    tables = p.add_subparsers(dest="table", required=True, metavar="TABLE")
    summary = tables.add_parser("summary", help="per (d, alpha) residuals of theorem1_d*.csv")
    summary.add_argument("csvs", nargs="+", help="results/gz/theorem1/theorem1_d*.csv")
    cli.add_settings(summary, SummarySettings)
    depth_table = tables.add_parser("depth", help="per (model, d) residuals of depth_d*.csv")
    depth_table.add_argument("csvs", nargs="+", help="results/gz/theorem1/depth_d*.csv")
    equations = tables.add_parser("equations", help="per (d, layers) equations solved, depth_d*.csv")
    equations.add_argument("csvs", nargs="+", help="results/gz/theorem1/depth_d*.csv")
    cli.add_settings(equations, SummarySettings)
    for t in (summary, depth_table, equations):
        t.add_argument("--out", nargs=2, required=True, metavar=("CSV", "MD"))
    args = p.parse_args(argv)
    log = cli.setup_logging()
    df = io.read_csvs(args.csvs)
    if args.table == "summary":
        table = theorem1.theorem1_summary(df, args.settings.rel_tol)
    elif args.table == "equations":
        table = depth.depth_equations(df, args.settings.rel_tol)
    else:
        table = depth.depth_summary(df)
    log.info("%s table:\n%s", args.table, table.to_string(index=False))
    io.write_csv(table, args.out[0])
    io.write_text(HEADERS[args.table] + table.to_markdown(index=False, floatfmt=".3g") + "\n", args.out[1])


if __name__ == "__main__":
    main()
