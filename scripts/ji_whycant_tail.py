"""Ji, Wu & Xi, Theorem 3.9: the tail index of the per-sample test error, general dataset against a
certified box (the null).

    python scripts/ji_whycant_tail.py --data data/ji/general.npz \
        --models results/ji/models/general/fc2_seed0.pt ... \
        --null-data data/ji/first.npz --null-models results/ji/models/first/fc2_seed0.pt ... \
        --settings '{"dataset": "general", "null_dataset": "first", "hill_fraction": 0.05}' \
        --out results/ji/whycant_tail.csv --provenance results/ji/provenance/whycant_tail.json

Per model: the per-sample error (the paper's metric on one matrix: mean over entries of
|f(A) - A^-1|, network as deployed) on the dataset's test set, and a Hill estimate of its tail index
from the ceil(hill_fraction * N) largest errors with a 95 % interval (nnmat.ji.tails). One row per
(role, model): role "general" (the dataset containing singular matrices) or "certified_box" (the null:
errors bounded on the box, so the tail index is large). Columns: role, dataset, model, n_samples, k,
hill_alpha, hill_alpha_ci_lo, hill_alpha_ci_hi, err_mean, err_max.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nnmat import cli, io
from nnmat.ji import tails
from nnmat.ji.linapprox import predict
from nnmat.ji.mlp import load_model


def per_sample_errors(model_path: str, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Mean over entries of |f(A) - A^-1| for each test matrix."""
    pred = predict(load_model(model_path).eval(), X)
    return np.abs(pred - Y).reshape(len(X), -1).mean(axis=1)


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="NPZ of the dataset with singular matrices")
    p.add_argument("--models", nargs="+", required=True, help="its models (.pt)")
    p.add_argument("--null-data", required=True, help="NPZ of a certified box dataset (the null)")
    p.add_argument("--null-models", nargs="+", required=True, help="its models (.pt)")
    cli.add_settings(p, tails.TailSettings)
    p.add_argument("--out", required=True, help="CSV, one row per (role, model)")
    args = p.parse_args(argv)
    settings: tails.TailSettings = args.settings
    log = cli.setup_logging()
    if not 0 < settings.hill_fraction < 1:
        p.error(f"hill_fraction must be in (0, 1), got {settings.hill_fraction}")
    rows = []
    with cli.stage("ji_whycant_tail", cli.params(args), args.provenance):
        for role, name, data, models in (
            ("general", settings.dataset, args.data, args.models),
            ("certified_box", settings.null_dataset, args.null_data, args.null_models),
        ):
            arrays = io.read_npz(data)
            X, Y = arrays["X_test"].astype(np.float64), arrays["Y_test"].astype(np.float64)
            for path in models:
                err = per_sample_errors(path, X, Y)
                est = tails.hill_tail_index(err, settings.hill_fraction)
                rows.append(
                    {"role": role, "dataset": name, "model": Path(path).stem, **est,
                     "err_mean": float(err.mean()), "err_max": float(err.max())}
                )  # fmt: skip
        df = pd.DataFrame(rows)
        log.info("tail index of the per-sample error:\n%s", df.to_string(index=False))
        io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
