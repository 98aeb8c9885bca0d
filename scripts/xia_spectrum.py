"""Eigenvalue decay, extreme eigenvectors (modes) and positive-definiteness checks of A and H.

Settings: nnmat.xia.studies.SpectrumSettings (draws: random draws of the PD check).

    python scripts/xia_spectrum.py \
        --settings '{"seed": 1, "n": 256, "draws": 3, "margin": 0.1}' \
        --eig-out results/xia/spectrum.csv --modes-out results/xia/modes.csv --pd-out results/xia/pd.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.xia import studies

STAGE = "relu_spectrum"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, studies.SpectrumSettings)
    p.add_argument("--eig-out", required=True)
    p.add_argument("--modes-out", required=True)
    p.add_argument("--pd-out", required=True)
    args = p.parse_args(argv)
    cli.setup_logging()
    s = args.settings
    with cli.stage(STAGE, cli.params(args), args.provenance):
        eig, modes = studies.spectrum_study(s)
        io.write_csv(eig, args.eig_out)
        io.write_csv(modes, args.modes_out)
        io.write_csv(studies.pd_study(s), args.pd_out)


if __name__ == "__main__":
    main()
