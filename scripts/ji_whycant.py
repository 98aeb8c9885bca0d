"""Ji, Wu & Xi, Theorems 3.7-3.9: the error of a trained network grows without bound near a singular matrix.

    python scripts/ji_whycant.py --models results/ji/models/general/fc2_seed0.pt ... \
        --data data/ji/general.npz --settings '{"seed": 20240702, "singular": [1, 0, 0, 0],
        "radii": [0.3, 0.1, 0.03, 0.01, 0.003, 0.001], "per_radius": 2000}' \
        --out-points results/ji/whycant_points.csv --out-neighbourhood results/ji/whycant_neighbourhood.csv \
        --out-fit results/ji/whycant_fit.csv --provenance results/ji/provenance/whycant.json

Each model (an nn.Sequential(Linear, ReLU, ..., Linear) state dict, rebuilt by nnmat.ji.mlp.load_model)
is evaluated on the dataset's test matrices (X_test, with the stored inverses Y_test) and on matrices
S + E near the singular centre S (`singular`, n*n entries row-major; config ji.whycant: diag(1, 0), a
rank-1 matrix inside the box of the "general" dataset), E uniform in the Frobenius ball of each radius.
The samples come from one seed stream derived from (seed, "ji_whycant"), the same for every model.
Input: the matrix flattened row-major as float32; output reshaped to n x n; errors in float64 against
the true inverse (solve with I). Settings: nnmat.ji.singular_set.WhycantSettings. Outputs (tidy CSVs):

  points         one row per (model, matrix): source (test | near_singular), radius, sigma_min,
                 inv_norm2 = ||A^-1||_2 = 1/sigma_min, abs_err_mean (the paper's metric), abs_err_max,
                 err_norm2, out_norm2 = ||f(A)||_2, lower_bound_norm2 = max(1/sigma_min - ||f(A)||_2, 0)
  neighbourhood  one row per (model, radius), and per model one row for the test set (radius empty),
                 with the singular centre S as text
  fit            per (model, subset): log-log slope of abs_err_mean against sigma_min, its standard
                 error and the number of points (subsets: near_singular, test, all)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from nnmat import cli, io, seeding
from nnmat.ji import singular_set as ss
from nnmat.ji.linapprox import predict
from nnmat.ji.mlp import load_model

STAGE = "ji_whycant"


def load_checked_model(path: str, n: int) -> torch.nn.Module:
    """The saved network, refused with a clear message unless it maps n x n matrices to n x n."""
    model = load_model(path)
    linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linear or linear[0].in_features != n * n or linear[-1].out_features != n * n:
        raise SystemExit(
            f"{path}: the network maps {linear[0].in_features} -> {linear[-1].out_features} "
            f"values, the data needs {n * n} -> {n * n}"
        )
    return model.eval()


def neighbourhood_table(points: pd.DataFrame) -> pd.DataFrame:
    """Per (model, source, radius): error and ||A^-1|| statistics over the rows with status ok."""
    rows = []
    for (model, source, radius), g in points.groupby(["model", "source", "radius"], dropna=False, sort=False):
        ok = g[g["status"] == "ok"]
        e = ok["abs_err_mean"]
        rows.append(
            {
                "model": model,
                "source": source,
                "radius": radius,
                "count": len(g),
                "flagged": int((g["status"] != "ok").sum()),
                "sigma_min_min": g["sigma_min"].min(),
                "sigma_min_median": g["sigma_min"].median(),
                "abs_err_mean": e.mean(),
                "abs_err_median": e.median(),
                "abs_err_max": e.max(),
                "inv_norm2_mean": ok["inv_norm2"].mean(),
                "out_norm2_max": ok["out_norm2"].max(),
                "lower_bound_norm2_mean": ok["lower_bound_norm2"].mean(),
            }
        )
    return pd.DataFrame(rows)


def fit_table(points: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for model, g in points.groupby("model", sort=False):
        ok = g[g["status"] == "ok"]
        for subset, sub in (
            ("near_singular", ok[ok["source"] == "near_singular"]),
            ("test", ok[ok["source"] == "test"]),
            ("all", ok),
        ):
            fit = ss.fit_growth(sub["sigma_min"].to_numpy(), sub["abs_err_mean"].to_numpy())
            rows.append(
                {
                    "model": model,
                    "subset": subset,
                    "metric": "abs_err_mean",
                    **fit,
                    "sigma_min_lo": sub["sigma_min"].min(),
                    "sigma_min_hi": sub["sigma_min"].max(),
                    "flagged_rows": int((g["status"] != "ok").sum()) if subset == "all" else 0,
                }
            )
    df = pd.DataFrame(rows)
    return df[[c for c in df.columns if c not in ("status", "reason")] + ["status", "reason"]]


def read_test_set(p, path: str) -> tuple[np.ndarray, np.ndarray]:
    """X_test and Y_test of the dataset NPZ as float64 (M, n, n) stacks (a parser error if not)."""
    data = io.read_npz(path)
    for key in ("X_test", "Y_test"):
        if key not in data:
            p.error(f"{path} has no {key} (keys: {sorted(data)})")
    X, Y = data["X_test"].astype(np.float64), data["Y_test"].astype(np.float64)
    if X.ndim != 3 or X.shape[1] != X.shape[2] or Y.shape != X.shape:
        p.error(f"X_test {X.shape} and Y_test {Y.shape} must both be (M, n, n)")
    return X, Y


def singular_centre(p, settings: ss.WhycantSettings, n: int) -> np.ndarray:
    """The singular centre S as an n x n float64 matrix (a parser error unless it is singular)."""
    if len(settings.singular) != n * n:
        p.error(f"singular needs {n * n} entries for n = {n}, got {len(settings.singular)}")
    S = np.asarray(settings.singular, dtype=np.float64).reshape(n, n)
    s_S = float(ss.sigma_min(S))
    if s_S > 1e-12 * max(1.0, float(np.linalg.norm(S))):
        p.error(f"singular is not singular: sigma_min = {s_S:.3g}")
    return S


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--models", nargs="+", required=True, help="state-dict files (.pt) of trained MLPs")
    p.add_argument("--data", required=True, help="NPZ of the dataset (X_test (M, n, n), Y_test)")
    cli.add_settings(p, ss.WhycantSettings)
    p.add_argument("--out-points", required=True, help="CSV, one row per (model, matrix)")
    p.add_argument("--out-neighbourhood", required=True, help="CSV, one row per (model, radius)")
    p.add_argument("--out-fit", required=True, help="CSV, one row per (model, subset)")
    args = p.parse_args(argv)
    settings: ss.WhycantSettings = args.settings
    log = cli.setup_logging()
    X, Y = read_test_set(p, args.data)
    n = X.shape[-1]
    S = singular_centre(p, settings, n)
    radii = [float(r) for r in settings.radii]
    if settings.per_radius < 1 or any(r <= 0 for r in radii):
        p.error("need per_radius >= 1 and positive radii")
    stems = [Path(m).stem for m in args.models]
    if len(set(stems)) != len(stems):
        p.error(f"model file names must differ (the CSVs key on the name): {stems}")
    with cli.stage(STAGE, cli.params(args), args.provenance) as extra:
        seed = seeding.derive_seed(settings.seed, STAGE, "near_singular")
        extra["seeds"] = {"near_singular": seed}
        A_near, radius = ss.sample_near(S, radii, settings.per_radius, np.random.default_rng(seed))
        log.info("%d test matrices, %d near-singular samples (seed %d)", len(X), len(A_near), seed)
        progress = cli.Progress(len(args.models), "models", every_s=0.0)
        frames = []
        for path, stem in zip(args.models, stems, strict=True):
            model = load_checked_model(path, n)
            for source, A, inv, rad in (
                ("test", X, Y, np.full(len(X), np.nan)),
                ("near_singular", A_near, None, radius),
            ):
                df = ss.error_table(A, predict(model, A), inv)
                df.insert(0, "model", stem)
                df.insert(1, "source", source)
                df.insert(2, "radius", rad)
                df.insert(3, "sample", np.arange(len(A)))
                df.insert(4, "seed", seed if source == "near_singular" else -1)
                frames.append(df)
            progress.update()
        points = pd.concat(frames, ignore_index=True)
        neighbourhood = neighbourhood_table(points)
        neighbourhood.insert(
            1, "singular", "[[" + "], [".join(", ".join(f"{v:g}" for v in row) for row in S) + "]]"
        )
        fit = fit_table(points)
        log_summary(log, points, neighbourhood, fit)
        io.write_csv(points, args.out_points)
        io.write_csv(neighbourhood, args.out_neighbourhood)
        io.write_csv(fit, args.out_fit)


def log_summary(log, points: pd.DataFrame, neighbourhood: pd.DataFrame, fit: pd.DataFrame) -> None:
    log.info("flagged rows: %d", int((points["status"] != "ok").sum()))
    log.info(
        "mean abs error per radius:\n%s",
        neighbourhood.pivot_table(
            index="radius", columns="model", values="abs_err_mean", dropna=False
        ).to_string(float_format="%.3g"),
    )
    log.info(
        "growth fits:\n%s", fit[["model", "subset", "slope", "slope_stderr", "n"]].to_string(index=False)
    )


if __name__ == "__main__":
    main()
