"""Proposition 2 (Gai & Zhang): the fraction of Gaussian draws where alpha Y1^-1 Y2 has no real log.

Where it has none, the Z of eq. (12) (exp Z = alpha Y1^-1 Y2) must be complex: the field C is needed.
The null rows (construction 'spd') replace Y1^-1 Y2 by the SPD matrix (Y1^-1 Y2)(Y1^-1 Y2)^T.

    python scripts/gz_prop2.py --settings '{"seed": 1, "d": 8, "draws": 200}' \
        --out results/gz/theorem1/prop2_d8.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.gz import prop2


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, prop2.Prop2Settings)
    p.add_argument("--out", required=True, help="result CSV (one row per draw and construction)")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    s = args.settings
    with cli.stage("gz_prop2", cli.params(args), args.provenance) as extra:
        df = prop2.prop2_table(s)
        extra["seeds"] = sorted({int(seed) for seed in df["seed"]})
        log.info("\n%s", prop2.prop2_summary(df).to_string(index=False))
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
