"""Fast direct solvers (O(n) hat basis, HODLR Cholesky, HODLR Woodbury) against dense Cholesky.

Accuracy goes to --out (same config => same bytes), wall times to --timing-out (machine dependent).
Settings: nnmat.xia.structured.SolverSettings (seed is the master seed of the config).

    python scripts/xia_solver.py \
        --settings '{"seed": 1, "ns": [256, 1024], "dense_max_n": 1024, "leaf": 64}' \
        --out results/xia/solver.csv --timing-out results/xia/solver_timing.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.xia import structured

STAGE = "relu_solver"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, structured.SolverSettings)
    p.add_argument("--out", required=True)
    p.add_argument("--timing-out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    s = args.settings
    with cli.stage(STAGE, cli.params(args), args.provenance):
        prog = cli.Progress(len(s.ns), "solver n values", every_s=0.0)
        acc, tim = structured.solver_benchmark(s, progress=prog)
        io.write_csv(acc, args.out)
        io.write_csv(tim, args.timing_out)


if __name__ == "__main__":
    main()
