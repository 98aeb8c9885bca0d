"""Theorem 1 at high precision (mpmath): separates the exact theorem from float64 limits.

Uses the first `trials` problems of each NPZ (the same matrices as the float64 stage) and records the
float64 residual of the same problem next to the high-precision one.

    python scripts/gz_theorem1_mpmath.py data/gz/problems_d2.npz data/gz/problems_d3.npz \
        --settings '{"dps": 50, "trials": 2, "alphas": [0.5, 2.0]}' --out results/gz/theorem1/mpmath.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.gz import theorem1


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("problems", nargs="+", help="NPZ files (one per dimension) of the data stage")
    cli.add_settings(p, theorem1.MpmathSettings)
    p.add_argument("--out", required=True, help="result CSV (one row per d, alpha, trial)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    s = args.settings
    sets = [io.read_npz(path) for path in args.problems]
    for path, problems in zip(args.problems, sets, strict=True):
        theorem1.check_problems(problems, problems["X1"].shape[-1])
        if problems["X1"].shape[0] < s.trials:
            raise SystemExit(f"{path} holds {problems['X1'].shape[0]} problems, fewer than trials {s.trials}")
    with cli.stage("expnet_mpmath", cli.params(args), args.provenance) as extra:
        progress = cli.Progress(len(sets) * len(s.alphas) * s.trials, "mpmath")
        df = theorem1.mpmath_table(sets, s, progress=progress.update)
        extra["seeds"] = sorted({int(seed) for seed in df["seed"]})
        log.info(
            "\n%s", df[["d", "alpha", "trial", "status", "log10_rel_residual_max"]].to_string(index=False)
        )
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
