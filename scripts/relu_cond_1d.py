"""Condition numbers of the 1D ReLU mass matrix A and Gauss-Newton matrix H (uniform breakpoints).

lambda_min comes from well-conditioned reformulations (A: the pencil (B B^T, M) of the hat basis;
H: its tridiagonal inverse); plain float64 eigvalsh is recorded beside it up to --naive-max-n, and
both are checked against mpmath at small n (second CSV).

    python scripts/relu_cond_1d.py --ns 8 16 32 --naive-max-n 32 --mpmath-ns 4 8 --mpmath-dps 60 \
        --out results/relu/cond_1d.csv --mpmath-out results/relu/cond_mpmath.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat import relu_matrices as rm


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--ns", type=int, nargs="+", required=True, help="numbers of units n (each >= 2)")
    p.add_argument("--naive-max-n", type=int, required=True, help="plain float64 eigvalsh up to this n")
    p.add_argument("--mpmath-ns", type=int, nargs="*", default=[], help="n values checked with mpmath")
    p.add_argument("--mpmath-dps", type=int, default=60, help="mpmath decimal digits")
    p.add_argument("--out", required=True)
    p.add_argument("--mpmath-out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    if min(args.ns) < 2:
        p.error("every n must be >= 2")
    with cli.stage("relu_cond_1d", vars(args), args.provenance):
        prog = cli.Progress(len(args.ns), "cond 1D n values")
        io.write_csv(rm.cond_uniform_1d(sorted(args.ns), args.naive_max_n, prog), args.out)
        io.write_csv(rm.cond_mpmath_check(sorted(args.mpmath_ns), args.mpmath_dps), args.mpmath_out)


if __name__ == "__main__":
    main()
