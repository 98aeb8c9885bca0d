"""Condition numbers of A and H for random breakpoints (U[0,1)) and random +-1 directions.

float64 eigenvalues; rows with cond > 1e12 are flagged `unreliable`, duplicated units `singular`.

    python scripts/relu_random_1d.py --seed 1 --ns 8 16 --draws 3 --out results/relu/cond_random_1d.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat import relu_matrices as rm


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--ns", type=int, nargs="+", required=True)
    p.add_argument("--draws", type=int, required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    if min(args.ns) < 2:
        p.error("every n must be >= 2")
    with cli.stage("relu_random_1d", vars(args), args.provenance):
        prog = cli.Progress(len(args.ns) * args.draws, "random 1D draws")
        io.write_csv(rm.cond_random_1d(sorted(args.ns), args.draws, args.seed, prog), args.out)


if __name__ == "__main__":
    main()
