"""A and H on the unit square by a midpoint grid: condition numbers, and a refinement check.

    python scripts/relu_2d.py --seed 1 --ns 16 32 --draws 3 --margin 0.1 --quad-points 256 \
        --refine-n 64 --out results/relu/cond_2d.csv --quad-out results/relu/quad_check_2d.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat import relu_matrices as rm


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--ns", type=int, nargs="+", required=True)
    p.add_argument("--draws", type=int, required=True)
    p.add_argument("--margin", type=float, required=True)
    p.add_argument("--quad-points", type=int, required=True, help="midpoints per side")
    p.add_argument("--refine-n", type=int, required=True, help="n of the grid-refinement check")
    p.add_argument("--out", required=True)
    p.add_argument("--quad-out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    if min(args.ns) < 2 or args.refine_n < 2:
        p.error("every n must be >= 2")
    with cli.stage("relu_2d", vars(args), args.provenance):
        prog = cli.Progress(len(args.ns) * args.draws, "2D draws")
        df = rm.cond_2d(sorted(args.ns), args.draws, args.quad_points, args.seed, prog, margin=args.margin)
        io.write_csv(df, args.out)
        q = rm.quadrature_check_2d(args.refine_n, args.draws, args.quad_points, args.seed, margin=args.margin)
        io.write_csv(q, args.quad_out)


if __name__ == "__main__":
    main()
