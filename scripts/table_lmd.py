r"""Tables of the LMD stage: per-layer summary, and the measurements the LMD claims are scored on.

    python scripts/table_lmd.py --summary results/lmd/summary_*.csv \
        --eckart-young results/lmd/eckart_young_*.csv \
        --angles results/lmd/angles_*.csv --metric results/lmd/metric_*.csv \
        --out results/tables/lmd_summary.csv results/tables/lmd_summary.md \
              results/tables/lmd_claims.csv results/tables/lmd_claims.md

No settings: every number comes from the CSVs of lmd_analyse.py (the captions name the config keys).
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.lmd import scoring


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    for name in ("summary", "eckart-young", "angles", "metric"):
        p.add_argument(f"--{name}", nargs="+", required=True, help=f"{name} CSVs of the LMD stage")
    p.add_argument(
        "--out", nargs=4, required=True, metavar=("SUMMARY_CSV", "SUMMARY_MD", "CLAIMS_CSV", "CLAIMS_MD")
    )
    args = p.parse_args(argv)
    log = cli.setup_logging()
    summary = io.read_csvs(args.summary)
    measures = scoring.measures(
        summary, io.read_csvs(args.eckart_young), io.read_csvs(args.angles), io.read_csvs(args.metric)
    )
    log.info("LMD measurements:\n%s", measures.to_string(index=False))
    io.write_table(
        summary[summary["layer"] >= 0],
        *args.out[:2],
        "Layer Matrix Decomposition: every layer [W | b] of every model",
        "Stable rank, effective ranks at energy 90/99/99.9 %, and the latent dimension n' (smallest rank "
        "k whose truncation keeps the test error within lmd.tolerance of the full model's); n_sq = n^2 "
        "is the dimension of the data manifold.",
    )
    io.write_table(
        measures,
        *args.out[2:],
        "Layer Matrix Decomposition: the measurements behind the lmd_* claims",
        "Each row is one number computed from the stage's CSVs; config/claims.yaml scores claims on them.",
    )


if __name__ == "__main__":
    main()
