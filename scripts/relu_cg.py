"""Conjugate-gradient iterations on A c = b: no preconditioner, Jacobi, and the hat-basis change.

    python scripts/relu_cg.py --seed 1 --ns 16 32 --draws 3 --rtol 1e-8 --maxiter-factor 4 \
        --margin 0.1 --quad-points 256 --out results/relu/cg.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat import relu_matrices as rm


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--ns", type=int, nargs="+", required=True)
    p.add_argument("--draws", type=int, required=True)
    p.add_argument("--rtol", type=float, required=True)
    p.add_argument("--maxiter-factor", type=int, required=True)
    p.add_argument("--margin", type=float, required=True)
    p.add_argument("--quad-points", type=int, required=True, help="2D midpoints per side")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    if min(args.ns) < 4 or args.rtol <= 0:
        p.error("every n must be >= 4 and rtol > 0")
    with cli.stage("relu_cg", vars(args), args.provenance):
        prog = cli.Progress(len(args.ns), "CG n values")
        df = rm.cg_study(
            sorted(args.ns),
            args.draws,
            args.rtol,
            args.maxiter_factor,
            args.seed,
            prog,
            margin=args.margin,
            q=args.quad_points,
        )
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
