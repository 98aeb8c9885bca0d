"""Theorem 1 of Gai & Zhang in float64: closed-form weights (eq. 12), residuals and proof identities.

One row per (alpha, trial) of dimension d. Timings go to a separate CSV so that the result CSV is
byte-identical across runs of the same config.

    python scripts/expnet_theorem1.py data/gz/problems_d8.npz --d 8 --alphas 0.5 2.0 \
        --out results/expnet/theorem1_d8.csv --timing results/expnet/timing_d8.csv
"""

from __future__ import annotations

from nnmat import cli, expnet, io


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("problems", help="NPZ with X1, X2, Y1, Y2 of shape (trials, d, d) and seed (trials,)")
    p.add_argument("--d", type=int, required=True, help="matrix dimension (checked against the NPZ)")
    p.add_argument("--alphas", type=float, nargs="+", required=True, help="alpha > 0, alpha != 1")
    p.add_argument("--out", required=True, help="result CSV (one row per alpha, trial)")
    p.add_argument("--timing", required=True, help="timing CSV (d, alpha, trial, solve_s, verify_s)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    for a in args.alphas:
        expnet.check_alpha(a)
    problems = io.read_npz(args.problems)
    expnet.check_problems(problems, args.d)
    with cli.stage("expnet_theorem1", vars(args), args.provenance) as extra:
        n = problems["X1"].shape[0] * len(args.alphas)
        progress = cli.Progress(n, f"theorem1 d={args.d}")
        df, timing = expnet.theorem1_table(problems, args.alphas, args.d, progress=progress.update)
        extra["seeds"] = [int(s) for s in problems["seed"]]
        extra["flagged"] = int((df["status"] != "ok").sum())
        log.info("flagged rows: %d of %d %s", extra["flagged"], len(df), df["reason"].unique().tolist())
        log.info(
            "median rel_residual_max per alpha:\n%s",
            df.groupby("alpha")["rel_residual_max"].median().to_string(float_format="%.2e"),
        )
        io.write_csv(df, args.out)
        io.write_csv(timing, args.timing)


if __name__ == "__main__":
    main()
