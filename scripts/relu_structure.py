"""Numerical ranks of the off-diagonal blocks of a hierarchical partition of A and H.

    python scripts/relu_structure.py --seed 1 --n-1d 1024 --ns-2d 64 128 256 --min-block 32 \
        --tols 1e-2 1e-8 --margin 0.1 --quad-points 256 --out results/relu/ranks.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat import relu_matrices as rm


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--n-1d", type=int, required=True)
    p.add_argument("--ns-2d", type=int, nargs="+", required=True)
    p.add_argument("--min-block", type=int, required=True)
    p.add_argument("--tols", type=float, nargs="+", required=True, help="relative tolerances (> 0)")
    p.add_argument("--margin", type=float, required=True)
    p.add_argument("--quad-points", type=int, required=True, help="2D midpoints per side")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    if min(args.tols) <= 0:
        p.error("every tolerance must be > 0")
    with cli.stage("relu_structure", vars(args), args.provenance):
        df = rm.structure_study(
            args.n_1d,
            sorted(args.ns_2d),
            args.min_block,
            sorted(args.tols, reverse=True),
            args.seed,
            margin=args.margin,
            q=args.quad_points,
        )
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
