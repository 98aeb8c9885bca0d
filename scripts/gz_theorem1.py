"""Theorem 1 of Gai & Zhang in float64: closed-form weights (eq. 12), residuals and proof identities.

One row per (alpha, trial) of dimension d. Timings go to a separate CSV so that the result CSV is
byte-identical across runs of the same config.

    python scripts/gz_theorem1.py data/gz/problems_d8.npz --settings '{"d": 8, "alphas": [0.5, 2.0]}' \
        --out results/gz/theorem1/theorem1_d8.csv --timing results/gz/theorem1/timing_d8.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.gz import theorem1


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("problems", help="NPZ with X1, X2, Y1, Y2 of shape (trials, d, d) and seed (trials,)")
    cli.add_settings(p, theorem1.Theorem1Settings)
    p.add_argument("--out", required=True, help="result CSV (one row per alpha, trial)")
    p.add_argument("--timing", required=True, help="timing CSV (d, alpha, trial, solve_s, verify_s)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    s = args.settings
    problems = io.read_npz(args.problems)
    theorem1.check_problems(problems, s.d)
    with cli.stage("expnet_theorem1", cli.params(args), args.provenance) as extra:
        n = problems["X1"].shape[0] * len(s.alphas)
        progress = cli.Progress(n, f"theorem1 d={s.d}")
        df, timing = theorem1.theorem1_table(problems, s, progress=progress.update)
        extra["seeds"] = [int(seed) for seed in problems["seed"]]
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
