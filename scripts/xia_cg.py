"""Conjugate-gradient iterations on A c = b: no preconditioner, Jacobi, and the hat-basis change.

Settings: nnmat.xia.studies.CGSettings (seed is the master seed of the config).

    python scripts/xia_cg.py --settings '{"seed": 1, "ns": [16, 32], "draws": 3, "rtol": 1e-8,
        "maxiter_factor": 4, "margin": 0.1}' --out results/xia/cg.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.xia import studies

STAGE = "relu_cg"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, studies.CGSettings)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    s = args.settings
    with cli.stage(STAGE, cli.params(args), args.provenance):
        prog = cli.Progress(len(s.ns), "CG n values")
        io.write_csv(studies.cg_study(s, prog), args.out)


if __name__ == "__main__":
    main()
