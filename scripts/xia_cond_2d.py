"""A and H on the unit square by a midpoint grid: condition numbers, and a refinement check.

Settings: nnmat.xia.studies.Cond2DSettings (seed is the master seed of the config).

    python scripts/xia_cond_2d.py --settings '{"seed": 1, "ns": [16, 32], "draws": 3, "margin": 0.1,
        "quad_points": 256, "refine_n": 64}' \
        --out results/xia/cond_2d.csv --quad-out results/xia/quad_check_2d.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.xia import studies

STAGE = "relu_2d"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, studies.Cond2DSettings)
    p.add_argument("--out", required=True)
    p.add_argument("--quad-out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    s = args.settings
    with cli.stage(STAGE, cli.params(args), args.provenance):
        prog = cli.Progress(len(s.ns) * s.draws, "2D draws")
        io.write_csv(studies.cond_2d(s, prog), args.out)
        io.write_csv(studies.quadrature_check_2d(s), args.quad_out)


if __name__ == "__main__":
    main()
