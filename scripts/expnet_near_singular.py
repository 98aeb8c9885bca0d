"""Theorem 1 on problems whose X1 - X2 has a prescribed condition number (near-singular sweep).

    python scripts/expnet_near_singular.py data/gz/near_singular_d8.npz --d 8 --alpha 2.0 \
        --out results/expnet/near_singular_d8.csv
"""

from __future__ import annotations

from nnmat import cli, expnet, io


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument(
        "problems", help="NPZ of the near-singular family (X1, X2, Y1, Y2, seed, cond_target, trial)"
    )
    p.add_argument("--d", type=int, required=True, help="matrix dimension (checked against the NPZ)")
    p.add_argument("--alpha", type=float, required=True, help="alpha > 0, alpha != 1")
    p.add_argument("--out", required=True, help="result CSV (one row per cond_target, trial)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    expnet.check_alpha(args.alpha)
    problems = io.read_npz(args.problems)
    expnet.check_problems(problems, args.d, extra_keys=("cond_target", "trial"))
    with cli.stage("expnet_near_singular", vars(args), args.provenance) as extra:
        progress = cli.Progress(problems["X1"].shape[0], f"near-singular d={args.d}")
        df = expnet.near_singular_table(problems, args.alpha, args.d, progress=progress.update)
        extra["seeds"] = [int(s) for s in problems["seed"]]
        log.info(
            "median rel_residual_max per cond_target:\n%s",
            df.groupby("cond_target")["rel_residual_max"].median().to_string(float_format="%.2e"),
        )
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
