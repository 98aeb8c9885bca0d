"""Build one Ji, Wu & Xi dataset: A0 + Delta in a certified box, train/test splits, sigma_min per sample.

The settings are the data keys of the config slice ji.datasets.NAME plus the dataset's name and the
master seed (nnmat.ji.boxes.DatasetSettings); a box that can reach a singular matrix is refused unless
the settings declare `includes_singular: true`.

    python scripts/ji_data.py --settings '{"dataset": "first", "seed": 1, "n": 2,
        "centre": [[2, 1], [1, 2]], "radius_fraction": 0.5, "includes_singular": false,
        "train": 1000, "test": 100}' \
        --out data/ji/first.npz --summary results/ji/data/first_summary.csv \
        --samples results/ji/data/first_test_samples.csv
"""

from __future__ import annotations

from nnmat import cli, io
from nnmat.ji import boxes


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, boxes.DatasetSettings)
    p.add_argument("--out", required=True, help="NPZ: n, A0, radius, on_the_fly, X_train, X_test, Y_test")
    p.add_argument("--summary", required=True, help="CSV: certificate and sigma_min/cond quantiles per split")
    p.add_argument("--samples", required=True, help="CSV: sigma_min and cond of every test sample")
    args = p.parse_args(argv)
    settings: boxes.DatasetSettings = args.settings
    log = cli.setup_logging()
    with cli.stage("ji_data", cli.params(args), args.provenance):
        try:
            arrays, cert = boxes.build(settings)
        except boxes.DatasetError as exc:
            p.error(str(exc))
        log.info(
            "%s: radius %.6g, sigma_min(A0) %.6g, n r %.6g, certified non-singular: %s",
            settings.dataset, cert.radius, cert.sigma_min_centre, cert.max_delta_norm2, cert.certified,
        )  # fmt: skip
        io.write_npz(args.out, **arrays)
        summary = boxes.summary(settings.dataset, arrays, cert, bool(settings.includes_singular))
        io.write_csv(summary, args.summary)
        io.write_csv(boxes.per_sample_table(settings.dataset, arrays), args.samples)


if __name__ == "__main__":
    main()
