"""Tables of Ji, Wu & Xi from the stage's CSVs (CSV + Markdown), one subcommand per table.

    python scripts/table_ji.py table1 results/ji/final_*.csv --out T.csv T.md
    python scripts/table_ji.py datasets results/ji/data/*_summary.csv --out T.csv T.md
    python scripts/table_ji.py table3 results/ji/timing_inference.csv \
        --paper config/paper_values/ji_table3.csv --out T.csv T.md
    python scripts/table_ji.py whycant results/ji/whycant_fit.csv --out T.csv T.md
    python scripts/table_ji.py table2 results/ji/linapprox/table2_*.csv --out T.csv T.md
    python scripts/table_ji.py lp results/ji/linapprox/lp.csv --out T.csv T.md
    python scripts/table_ji.py regions results/ji/linapprox/regions.csv --out T.csv T.md
    python scripts/table_ji.py radius results/ji/linapprox/sweep/table2_*.csv --out T.csv T.md
"""

from __future__ import annotations

import pandas as pd

from nnmat import cli, io
from nnmat.ji import linapprox, summaries

TITLES = {
    "table1": (
        "Ji, Wu & Xi, Table 1: average absolute error of the MLP inverse on the test set",
        "Mean and std over seeds of mean |network(A) - A^-1| over test matrices and entries, beside two "
        "baselines on the same test matrices (rows constant = inv(A0) and linear_1st = eq. 12, and columns "
        "constant_mae, linear_mae, mae_over_constant, mae_over_linear). did_not_learn counts seeds of a "
        "certified box that do not beat the constant predictor by 2x (general dataset exempt). The paper's "
        "numbers are lost in the text copy; our sizes and steps are in the columns.",
    ),
    "datasets": (
        "Ji, Wu & Xi: datasets and their non-singularity certificates",
        "A = A0 + Delta, Delta in U(-r, r); certified when sigma_min(A0) > n r "
        "(= max ||Delta||_2 over the box).",
    ),
    "table3": (
        "Ji, Wu & Xi, Table 3: inference time for the whole test set (seconds), ours beside the paper's",
        "Ours: this machine's CPU (median over seeds and repeats); GPU cells need CUDA. Paper: its Table 3.",
    ),
    "table2": (
        "Ji, Wu & Xi, Table 2: average absolute test error, linear approximation against the MLPs",
        "linear_1st = A0^-1 - A0^-1 D A0^-1 (eq. 12); linear_2nd adds the second-order term (context). "
        "constant = inv(A0) (the null); eq11_relu = the 2-layer ReLU network of eq. 11 (2 n^2 hidden units) "
        "built to equal linear_1st. ratio_to_linear_1st < 1: the method beats the linear approximation; "
        "the paper's Table 2 is the (first) dataset only, the others are our extension. Numbers lost, "
        "wording 'neural-network models have better performance than the linear approximation'.",
    ),
    "lp": (
        "Ji, Wu & Xi, Tables 4-7: LP bound of |network - linear approximation| per region and output entry",
        "One block per output entry; proportion = share of the sampled box points in the region. Checks: the "
        "network evaluated at the LP maximiser matches the LP value (eval_within_tol, 1e-9) and no sampled "
        "point of the region exceeds the bound (sampled_within_bound).",
    ),
    "regions": (
        "Ji, Wu & Xi, Sec. 5.3: activation regions of the small model",
        "Share of the sampled box held by the largest regions, and the largest gap between the network's "
        "affine coefficients there and the linear approximation's (weights; bias measured at the centre). "
        "untrained rows: a random network of the same shape (the null); learned: beats inv(A0) by 2x.",
    ),
    "radius": (
        "Ji, Wu & Xi: error against the box radius (linear approximation: exponent 2 expected)",
        "Log-log exponent of the seed-median test error against the box half-width r, per method.",
    ),
    "whycant": (
        "Ji, Wu & Xi, Theorems 3.7-3.9: growth of the error towards the singular set",
        "Log-log slope of the test error against sigma_min (negative = error grows as A nears singularity).",
    ),
}


BUILDERS = {
    "table1": summaries.table1,
    "datasets": summaries.datasets_table,
    "table2": summaries.table2,
    "regions": summaries.regions_summary,
    "lp": summaries.lp_table,
}


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("table", choices=sorted(TITLES))
    p.add_argument("inputs", nargs="+", help="the stage's CSVs")
    p.add_argument("--paper", help="the paper's printed values (table3)")
    p.add_argument(
        "--provenance-of-inputs", nargs="+", default=None,
        help="table1: each final CSV's training provenance JSON (same order): the rows must match it",
    )  # fmt: skip
    p.add_argument("--out", nargs=2, required=True, metavar=("CSV", "MD"))
    args = p.parse_args(argv)
    log = cli.setup_logging()
    # activation patterns are strings of 0/1: read as text so leading zeros survive
    frames = [io.read_csv(f, dtype={"pattern": str}) for f in args.inputs]
    if args.table == "table1":
        if not args.provenance_of_inputs or len(args.provenance_of_inputs) != len(frames):
            p.error("table1 needs --provenance-of-inputs, one training provenance JSON per final CSV")
        for frame, src, prov in zip(frames, args.inputs, args.provenance_of_inputs, strict=True):
            summaries.check_final(frame, io.read_json(prov)["params"]["settings"], src)
    df = pd.concat(frames, ignore_index=True)
    if args.table == "table3":
        if not args.paper:
            p.error("table3 needs --paper")
        df = summaries.table3(df, io.read_csv(args.paper))
    elif args.table == "radius":
        df = summaries.error_vs_radius(df, linapprox.scaling_exponent)
    elif args.table in BUILDERS:
        df = BUILDERS[args.table](df)
    log.info("%s:\n%s", args.table, df.to_string(index=False))
    io.write_table(df, *args.out, *TITLES[args.table])


if __name__ == "__main__":
    main()
