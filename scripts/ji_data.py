"""Build one Ji, Wu & Xi dataset: A0 + Delta in a certified box, train/test splits, sigma_min per sample.

The dataset's spec comes as JSON (the config slice `ji.datasets.NAME`); a box that can reach a singular
matrix is refused unless the spec declares `includes_singular: true`.

    python scripts/ji_data.py --name first --seed 1 \
        --spec '{"n": 2, "centre": [[2, 1], [1, 2]], "radius_fraction": 0.5, "train": 1000, "test": 100}' \
        --out data/ji/first.npz --summary results/ji/data/first_summary.csv \
        --samples results/ji/data/first_test_samples.csv
"""

from __future__ import annotations

import json

from nnmat import cli, io
from nnmat import inversion_data as idata


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--name", required=True, help="dataset name (also keys its seed streams)")
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--spec", required=True, help="JSON of the dataset's config")
    p.add_argument("--out", required=True, help="NPZ: n, A0, radius, on_the_fly, X_train, X_test, Y_test")
    p.add_argument("--summary", required=True, help="CSV: certificate and sigma_min/cond quantiles per split")
    p.add_argument("--samples", required=True, help="CSV: sigma_min and cond of every test sample")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    spec = json.loads(args.spec)
    with cli.stage("ji_data", {**vars(args), "spec": spec}, args.provenance):
        try:
            arrays, cert = idata.build(args.name, spec, args.seed)
        except idata.DatasetError as exc:
            p.error(str(exc))
        log.info(
            "%s: radius %.6g, sigma_min(A0) %.6g, n r %.6g, certified non-singular: %s",
            args.name, cert.radius, cert.sigma_min_centre, cert.max_delta_norm2, cert.certified,
        )  # fmt: skip
        io.write_npz(args.out, **arrays)
        includes_singular = bool(spec.get("includes_singular", False))
        io.write_csv(idata.summary(args.name, arrays, cert, includes_singular), args.summary)
        io.write_csv(idata.per_sample_table(args.name, arrays), args.samples)


if __name__ == "__main__":
    main()
