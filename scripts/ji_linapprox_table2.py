"""Ji, Wu & Xi, Table 2: average absolute test error of the linear approximation vs the trained MLPs.

    python scripts/ji_linapprox_table2.py --data data/ji/first.npz --settings '{"dataset": "first"}' \
        --models results/ji/models/first/small_seed0.pt results/ji/models/first/fc2_seed0.pt ... \
        --out results/ji/linapprox/table2_first.csv [--out-md results/ji/linapprox/table2_first.md] \
        --provenance results/ji/linapprox/provenance/table2_first.json

One call per dataset (settings: nnmat.ji.linapprox.Table2Settings, the dataset's name).
Rows (tidy): dataset, radius (the box half-width of the dataset), n_test, method,
model, seed_index, test_mae (the paper's metric: mean over test matrices and entries of |pred - A^-1|),
test_max_abs_err, max_abs_diff_to_linear_1st (max |pred - linear_1st| over entries), learned (test MAE at
most half the constant predictor's). Methods: linear_1st (eq. 12: A0^-1 - A0^-1 Delta A0^-1, the paper's
row), linear_2nd (adds A0^-1 Delta A0^-1 Delta A0^-1; our extra row, for context), constant (inv(A0) for
every input: the null of the learned models), eq11_relu (the 2-layer ReLU network of eq. 11 with 2 n^2
hidden units built to realise linear_1st, in float64: a construction check), then one row per model file named
ARCH_seedK.pt (method = ARCH, seed_index = K; -1 for the approximations). Approximations in float64;
networks as deployed (float32 input, row-major).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nnmat import cli, io
from nnmat.ji import baselines
from nnmat.ji import linapprox as la
from nnmat.ji.mlp import load_model
from nnmat.ji.names import parse_model_stem

STAGE = "linapprox_table2"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="NPZ of the dataset (A0, radius, X_test, Y_test)")
    cli.add_settings(p, la.Table2Settings)
    p.add_argument("--models", nargs="*", default=[], help="state dicts ARCH_seedK.pt of trained MLPs")
    p.add_argument("--out", required=True, help="CSV")
    p.add_argument("--out-md", help="optional Markdown copy of the table")
    args = p.parse_args(argv)
    name = args.settings.dataset
    log = cli.setup_logging()
    data = io.read_npz(args.data)
    missing = {"A0", "radius", "X_test", "Y_test"} - set(data)
    if missing:
        p.error(f"{args.data} lacks {sorted(missing)} (keys: {sorted(data)})")
    A0 = data["A0"].astype(np.float64)
    X, Y = data["X_test"].astype(np.float64), data["Y_test"].astype(np.float64)
    if X.ndim != 3 or X.shape[1:] != A0.shape or Y.shape != X.shape:
        p.error(f"X_test {X.shape}, Y_test {Y.shape} and A0 {A0.shape} do not fit together")
    if len(X) == 0:
        p.error(f"{args.data} has an empty test set")
    parsed = {m: parse_model_stem(Path(m).stem) for m in args.models}
    bad = [m for m, v in parsed.items() if v is None]
    if bad:
        p.error(f"model files must be named ARCH_seedK.pt: {bad}")
    with cli.stage(STAGE, cli.params(args), args.provenance):
        base = {"dataset": name, "radius": float(data["radius"]), "n_test": len(X)}
        rows = []
        linear = la.first_order(A0, X)
        for method, pred in (
            ("linear_1st", linear),
            ("linear_2nd", la.second_order(A0, X)),
            ("constant", baselines.constant_prediction(A0, len(X))),
            ("eq11_relu", la.predict_float64(la.eq11_network(A0), X)),
        ):
            rows.append({**base, "method": method, "model": "", "seed_index": -1, "pred": pred})
        for path in args.models:
            arch, seed_index = parsed[path]
            model = load_model(path)
            if model[0].in_features != X.shape[1] ** 2:
                p.error(f"{path} takes {model[0].in_features} inputs, the data has n^2 = {X.shape[1] ** 2}")
            pred = la.predict(model, X)
            rows.append(
                {**base, "method": arch, "model": Path(path).stem, "seed_index": seed_index, "pred": pred}
            )
        constant_mae = baselines.mae(baselines.constant_prediction(A0, len(X)), Y)
        for row in rows:
            pred = row.pop("pred")
            row["test_mae"] = la.average_abs_error(pred, Y)
            row["test_max_abs_err"] = la.max_abs_error(pred, Y)
            row["max_abs_diff_to_linear_1st"] = float(np.max(np.abs(pred - linear)))
            row["learned"] = baselines.learned(row["test_mae"], constant_mae)
        df = pd.DataFrame(rows)
        log.info("Table 2 (%s):\n%s", name, df.to_string(index=False))
        if args.out_md:
            io.write_table(
                df,
                args.out,
                args.out_md,
                f"Ji, Wu & Xi, Table 2: linear approximation vs MLPs ({name})",
                "Average absolute error on the test set; linear_2nd is our extra second-order row.",
            )
        else:
            io.write_csv(df, args.out)


if __name__ == "__main__":
    main()
