"""Condition numbers of A and H for random breakpoints (U[0,1)) and random +-1 directions.

float64 eigenvalues; rows with cond > 1e12 are flagged `unreliable`, duplicated units `singular`.
Settings: nnmat.xia.studies.Random1DSettings (seed is the master seed of the config).

    python scripts/xia_random_1d.py --settings '{"seed": 1, "ns": [8, 16], "draws": 3}' \
        --out results/xia/cond_random_1d.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.xia import studies

STAGE = "relu_random_1d"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, studies.Random1DSettings)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    s = args.settings
    with cli.stage(STAGE, cli.params(args), args.provenance):
        prog = cli.Progress(len(s.ns) * s.draws, "random 1D draws")
        io.write_csv(studies.cond_random_1d(s, prog), args.out)


if __name__ == "__main__":
    main()
