"""Generate the Gai & Zhang problem instances for one dimension d (and, optionally, a near-singular family).

    python scripts/gz_data.py --seed 1 --d 8 --trials 10 --out data/gz/problems_d8.npz \
        --summary results/data/gz_problems_d8.csv
"""

from __future__ import annotations

from nnmat import cli, gz_problems, io


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--d", type=int, required=True, help="matrix dimension")
    p.add_argument("--trials", type=int, required=True, help="problem instances to draw")
    p.add_argument("--out", required=True, help="NPZ with X1, X2, Y1, Y2 of shape (trials, d, d)")
    p.add_argument("--summary", required=True, help="CSV with condition numbers per trial")
    p.add_argument(
        "--conds",
        type=float,
        nargs="*",
        default=None,
        help="if given: build the near-singular family with these cond(X1 - X2) instead",
    )
    args = p.parse_args(argv)
    cli.setup_logging()
    with cli.stage("gz_data", vars(args), args.provenance):
        if args.conds:
            problems = gz_problems.make_near_singular(args.seed, args.d, args.conds, args.trials)
        else:
            problems = gz_problems.make_problems(args.seed, args.d, args.trials)
        summary = gz_problems.summarize(problems, args.d)
        if args.conds:
            summary["cond_target"] = problems["cond_target"]
            summary["trial"] = problems["trial"]
        io.write_npz(args.out, **problems)
        io.write_csv(summary, args.summary)


if __name__ == "__main__":
    main()
