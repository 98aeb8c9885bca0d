"""Eigenvalue decay, extreme eigenvectors (modes) and positive-definiteness checks of A and H.

    python scripts/relu_spectrum.py --seed 1 --n 256 --draws 3 --margin 0.1 --quad-points 256 \
        --eig-out results/relu/spectrum.csv --modes-out results/relu/modes.csv --pd-out results/relu/pd.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat import relu_matrices as rm


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--draws", type=int, required=True, help="random draws in the PD check")
    p.add_argument("--margin", type=float, required=True)
    p.add_argument("--quad-points", type=int, required=True, help="2D midpoints per side")
    p.add_argument("--eig-out", required=True)
    p.add_argument("--modes-out", required=True)
    p.add_argument("--pd-out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    if args.n < 4:
        p.error("n must be >= 4")
    with cli.stage("relu_spectrum", vars(args), args.provenance):
        eig, modes = rm.spectrum_study(args.n, args.seed, margin=args.margin, q=args.quad_points)
        io.write_csv(eig, args.eig_out)
        io.write_csv(modes, args.modes_out)
        io.write_csv(
            rm.pd_study(args.n, args.draws, args.seed, margin=args.margin, q=args.quad_points), args.pd_out
        )


if __name__ == "__main__":
    main()
