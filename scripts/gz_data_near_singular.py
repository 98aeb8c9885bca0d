"""Generate Gai & Zhang problems whose X1 - X2 has prescribed condition numbers (near-singular sweep).

`trials` problems per target cond(X1 - X2) in `conds`, each from its own seed stream:

    python scripts/gz_data_near_singular.py \
        --settings '{"seed": 1, "d": 8, "trials": 4, "conds": [1.0, 1e6, 1e12]}' \
        --out data/gz/near_singular_d8.npz --summary results/gz/data/gz_near_singular_d8.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.gz import instances


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, instances.NearSingularProblemSettings)
    p.add_argument(
        "--out", required=True, help="NPZ with X1, X2, Y1, Y2 of shape (n, d, d), seed, cond_target, trial"
    )
    p.add_argument("--summary", required=True, help="CSV with condition numbers per problem")
    args = p.parse_args(argv)
    cli.setup_logging()
    s = args.settings
    with cli.stage("gz_data", cli.params(args), args.provenance):
        problems = instances.make_near_singular(s.seed, s.d, list(s.conds), s.trials)
        summary = instances.summarize(problems, s.d)
        summary["cond_target"] = problems["cond_target"]
        summary["trial"] = problems["trial"]
        io.write_npz(args.out, **problems)
        io.write_csv(summary, args.summary)


if __name__ == "__main__":
    main()
