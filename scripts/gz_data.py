"""Generate the Gai & Zhang problem instances of one dimension d: X1, X2, Y1, Y2 with N(0, 1) entries.

    python scripts/gz_data.py --settings '{"seed": 1, "d": 8, "trials": 10}' \
        --out data/gz/problems_d8.npz --summary results/gz/data/gz_problems_d8.csv

The near-singular family of the Theorem 1 sweep is made by scripts/gz_data_near_singular.py.
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.gz import instances


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, instances.ProblemSettings)
    p.add_argument("--out", required=True, help="NPZ with X1, X2, Y1, Y2 of shape (trials, d, d) and seed")
    p.add_argument("--summary", required=True, help="CSV with condition numbers per trial")
    args = p.parse_args(argv)
    cli.setup_logging()
    s = args.settings
    with cli.stage("gz_data", cli.params(args), args.provenance):
        problems = instances.make_problems(s.seed, s.d, s.trials)
        summary = instances.summarize(problems, s.d)
        io.write_npz(args.out, **problems)
        io.write_csv(summary, args.summary)


if __name__ == "__main__":
    main()
