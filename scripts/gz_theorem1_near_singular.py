"""Theorem 1 on problems whose X1 - X2 has a prescribed condition number (near-singular sweep).

    python scripts/gz_theorem1_near_singular.py data/gz/near_singular_d8.npz \
        --settings '{"d": 8, "alpha": 2.0}' --out results/gz/theorem1/near_singular_d8.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.gz import theorem1


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument(
        "problems", help="NPZ of the near-singular family (X1, X2, Y1, Y2, seed, cond_target, trial)"
    )
    cli.add_settings(p, theorem1.NearSingularSettings)
    p.add_argument("--out", required=True, help="result CSV (one row per cond_target, trial)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    s = args.settings
    problems = io.read_npz(args.problems)
    theorem1.check_problems(problems, s.d, extra_keys=("cond_target", "trial"))
    with cli.stage("expnet_near_singular", cli.params(args), args.provenance) as extra:
        progress = cli.Progress(problems["X1"].shape[0], f"near-singular d={s.d}")
        df = theorem1.near_singular_table(problems, s, progress=progress.update)
        extra["seeds"] = [int(seed) for seed in problems["seed"]]
        log.info(
            "median rel_residual_max per cond_target:\n%s",
            df.groupby("cond_target")["rel_residual_max"].median().to_string(float_format="%.2e"),
        )
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
