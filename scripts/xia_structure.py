"""Numerical ranks of the off-diagonal blocks of a hierarchical partition of A and H.

Settings: nnmat.xia.studies.StructureSettings (tols relative to each block's sigma_1, each > 0).

    python scripts/xia_structure.py --settings '{"seed": 1, "n_1d": 1024, "ns_2d": [64, 128, 256],
        "min_block": 32, "tols": [1e-2, 1e-8], "margin": 0.1}' \
        --out results/xia/ranks.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.xia import studies

STAGE = "relu_structure"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, studies.StructureSettings)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    with cli.stage(STAGE, cli.params(args), args.provenance):
        io.write_csv(studies.structure_study(args.settings), args.out)


if __name__ == "__main__":
    main()
