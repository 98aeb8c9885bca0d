"""Depth comparison (Gai & Zhang Sec. 2, eqs. 7-10): one layer, two linear layers, three exp layers.

On each problem of dimension d: one W by least squares on both equations, one W fitted to the first
equation only, W2 W1 by alternating least squares (seeded random start), and the Theorem 1 network.

    python scripts/gz_depth.py data/gz/problems_d8.npz \
        --settings '{"seed": 1, "d": 8, "alpha": 2.0, "als_iters": 20}' \
        --out results/gz/theorem1/depth_d8.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.gz import depth, theorem1


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("problems", help="NPZ with X1, X2, Y1, Y2 of shape (trials, d, d) and seed (trials,)")
    cli.add_settings(p, depth.DepthSettings)
    p.add_argument("--out", required=True, help="result CSV (one row per trial, model)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    s = args.settings
    problems = io.read_npz(args.problems)
    theorem1.check_problems(problems, s.d)
    with cli.stage("expnet_depth", cli.params(args), args.provenance) as extra:
        init_seeds = depth.als_init_seeds(s, problems["X1"].shape[0])
        df = depth.depth_table(problems, s, init_seeds)
        extra["seeds"] = [int(seed) for seed in problems["seed"]]
        extra["als_init_seeds"] = init_seeds
        log.info(
            "median residuals per model:\n%s",
            df.groupby("model")[["rel_residual_1", "rel_residual_2"]].median().to_string(float_format="%.2e"),
        )
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
