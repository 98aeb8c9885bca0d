"""Fast direct solvers (O(n) hat basis, HODLR Cholesky, HODLR Woodbury) against dense Cholesky.

Accuracy goes to --out (same config => same bytes), wall times to --timing-out (machine dependent).

    python scripts/relu_solver.py --seed 1 --ns 256 1024 --dense-max-n 1024 --leaf 64 \
        --out results/relu/solver.csv --timing-out results/relu/solver_timing.csv
"""

from __future__ import annotations

from nnmat import cli, io, structured


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--ns", type=int, nargs="+", required=True)
    p.add_argument("--dense-max-n", type=int, required=True)
    p.add_argument("--leaf", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--timing-out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    if min(args.ns) < 4 or args.leaf < 2:
        p.error("every n must be >= 4 and leaf >= 2")
    with cli.stage("relu_solver", vars(args), args.provenance):
        prog = cli.Progress(len(args.ns), "solver n values", every_s=0.0)
        acc, tim = structured.solver_benchmark(
            sorted(args.ns), args.dense_max_n, args.leaf, args.seed, progress=prog
        )
        io.write_csv(acc, args.out)
        io.write_csv(tim, args.timing_out)


if __name__ == "__main__":
    main()
