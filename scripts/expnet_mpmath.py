"""Theorem 1 at high precision (mpmath): separates the exact theorem from float64 limits.

Uses the first `--trials` problems of each NPZ (the same matrices as the float64 stage) and records the
float64 residual of the same problem next to the high-precision one.

    python scripts/expnet_mpmath.py data/gz/problems_d2.npz data/gz/problems_d3.npz --dps 50 \
        --trials 2 --alphas 0.5 2.0 --out results/expnet/mpmath.csv
"""

from __future__ import annotations

import pandas as pd

from nnmat import cli, expnet, io


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("problems", nargs="+", help="NPZ files (one per dimension) of the data stage")
    p.add_argument("--dps", type=int, required=True, help="mpmath decimal digits")
    p.add_argument("--trials", type=int, required=True, help="first this many problems of each NPZ")
    p.add_argument("--alphas", type=float, nargs="+", required=True, help="alpha > 0, alpha != 1")
    p.add_argument("--out", required=True, help="result CSV (one row per d, alpha, trial)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    for a in args.alphas:
        expnet.check_alpha(a)
    sets = [io.read_npz(path) for path in args.problems]
    for path, problems in zip(args.problems, sets, strict=True):
        d = problems["X1"].shape[-1]
        expnet.check_problems(problems, d)
        if problems["X1"].shape[0] < args.trials:
            raise SystemExit(
                f"{path} holds {problems['X1'].shape[0]} problems, fewer than --trials {args.trials}"
            )
    with cli.stage("expnet_mpmath", vars(args), args.provenance) as extra:
        progress = cli.Progress(len(sets) * len(args.alphas) * args.trials, "mpmath")
        rows = []
        for problems in sorted(sets, key=lambda s: s["X1"].shape[-1]):
            d = problems["X1"].shape[-1]
            for alpha in args.alphas:
                for t in range(args.trials):
                    mats = [problems[k][t] for k in ("X1", "X2", "Y1", "Y2")]
                    row = expnet.mp_theorem1_row(*mats, alpha, args.dps)
                    f64, _ = expnet.theorem1_row(*mats, alpha)
                    keys = {
                        "d": d,
                        "alpha": alpha,
                        "trial": t,
                        "seed": int(problems["seed"][t]),
                        "dps": args.dps,
                    }
                    rows.append(
                        {
                            **keys,
                            **row,
                            "float64_status": f64["status"],
                            "float64_rel_residual_max": f64["rel_residual_max"],
                        }
                    )
                    progress.update()
        df = pd.DataFrame(rows)
        extra["seeds"] = sorted({int(s) for s in df["seed"]})
        log.info(
            "\n%s", df[["d", "alpha", "trial", "status", "log10_rel_residual_max"]].to_string(index=False)
        )
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
