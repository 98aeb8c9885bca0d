"""Condition numbers of the 1D ReLU mass matrix A and Gauss-Newton matrix H (uniform breakpoints).

lambda_min comes from well-conditioned reformulations (A: the pencil (B B^T, M) of the hat basis;
H: its tridiagonal inverse); plain float64 eigvalsh is recorded beside it up to naive_max_n, and
both are checked against mpmath at small n (second CSV). Settings: nnmat.xia.studies.Cond1DSettings.

    python scripts/xia_cond_1d.py \
        --settings '{"ns": [8, 16, 32], "naive_max_n": 32, "mpmath_ns": [4, 8], "mpmath_dps": 60}' \
        --out results/xia/cond_1d.csv --mpmath-out results/xia/cond_mpmath.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.xia import studies

STAGE = "relu_cond_1d"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, studies.Cond1DSettings)
    p.add_argument("--out", required=True)
    p.add_argument("--mpmath-out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    s = args.settings
    with cli.stage(STAGE, cli.params(args), args.provenance):
        prog = cli.Progress(len(s.ns), "cond 1D n values")
        io.write_csv(studies.cond_uniform_1d(s, prog), args.out)
        io.write_csv(studies.cond_mpmath_check(s), args.mpmath_out)


if __name__ == "__main__":
    main()
