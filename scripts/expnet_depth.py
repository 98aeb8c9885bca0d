"""Depth comparison (Gai & Zhang Sec. 2, eqs. 7-10): one layer, two linear layers, three exp layers.

On each problem of dimension d: one W by least squares on both equations, one W fitted to the first
equation only, W2 W1 by alternating least squares (seeded random start), and the Theorem 1 network.

    python scripts/expnet_depth.py data/gz/problems_d8.npz --d 8 --seed 1 --alpha 2.0 \
        --als-iters 20 --out results/expnet/depth_d8.csv
"""

from __future__ import annotations

from nnmat import cli, expnet, io, seeding


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("problems", help="NPZ with X1, X2, Y1, Y2 of shape (trials, d, d) and seed (trials,)")
    p.add_argument("--d", type=int, required=True, help="matrix dimension (checked against the NPZ)")
    p.add_argument("--seed", type=int, required=True, help="master seed (for the ALS initialisation)")
    p.add_argument("--alpha", type=float, required=True, help="alpha of the three-layer exp network")
    p.add_argument("--als-iters", type=int, required=True, help="maximum ALS sweeps of the two-layer model")
    p.add_argument("--out", required=True, help="result CSV (one row per trial, model)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    expnet.check_alpha(args.alpha)
    problems = io.read_npz(args.problems)
    expnet.check_problems(problems, args.d)
    with cli.stage("expnet_depth", vars(args), args.provenance) as extra:
        trials = problems["X1"].shape[0]
        init_seeds = [seeding.derive_seed(args.seed, "expnet_depth_als", args.d, t) for t in range(trials)]
        df = expnet.depth_table(problems, args.d, init_seeds, alpha=args.alpha, als_iters=args.als_iters)
        extra["seeds"] = [int(s) for s in problems["seed"]]
        extra["als_init_seeds"] = init_seeds
        log.info(
            "median residuals per model:\n%s",
            df.groupby("model")[["rel_residual_1", "rel_residual_2"]].median().to_string(float_format="%.2e"),
        )
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
