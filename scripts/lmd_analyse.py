"""Shyh-Chang, Luo & Qiu (LMD): layer SVDs, Eckart-Young, latent dimensions, graph Laplacians, metric maps.

    python scripts/lmd_analyse.py --data data/ji/first.npz --name first \
        --models results/ji/models/first/fc2_seed0.pt ... --seed 20240702 --points 400 \
        --bandwidths 0.25 0.5 1 2 4 8 16 --knn 10 --subspace-dim 3 --tolerance 1.05 \
        --out-svd results/lmd/svd_first.csv --out-eckart-young results/lmd/eckart_young_first.csv \
        --out-truncation results/lmd/truncation_first.csv --out-laplacian results/lmd/laplacian_first.csv \
        --out-angles results/lmd/angles_first.csv --out-metric results/lmd/metric_first.csv \
        [--out-summary results/lmd/summary_first.csv] --provenance results/lmd/provenance/first.json

One call per dataset; models are state dicts named ARCH_seedK.pt. Every row carries dataset, model (file
stem), arch, seed_index, n (matrices are n x n, the data manifold has dimension n^2) and its layer. The
operationalisation of each construct is documented in nnmat/lmd.py. Tables (tidy, long):

svd           layer, i, sigma, sigma_rel, energy_cum; per-layer summary repeated on each row: rows, cols
              ([W | b]: cols = fan-in + 1), numerical_rank, stable_rank, eff_rank_p90/p99/p99_9.
eckart_young  layer, rows, cols, k, err2, pred2, errF, predF, rel_discrepancy{2,F,} (|meas - pred| / s_1),
              tol, ok, norm2_method.
truncation    mode (one_layer | all_layers), layer (-1 = all), rank, k, energy_kept, test_mae,
              full_test_mae, baseline_mae (the mean target predicted everywhere), ratio, tolerance,
              within_tolerance, latent_dim (n' of this mode/layer, repeated), is_latent_dim, on_grid
              (False: a bisection point), sample_seed, eval_points.
laplacian     space (input | hidden_l | output), layer (0 = input .. L = output), median_distance, graph
              (knn | gauss), bandwidth_mult, bandwidth, knn_k, eig_index (0-based), value, value_rel
              (/ lambda_max), lambda_max, n_small (eigenvalues <= eig_tol x lambda_max), n_components,
              eig_tol, reason; the n_eigs smallest eigenvalues of L = D - A.
angles        space, layer, median_distance, graph, bandwidth_mult, bandwidth, knn_k, laplacian
              (unnormalized | random_walk), m, pca_gap_ratio (s_{m+1} / s_m of the centred cloud),
              max_angle_deg, mean_angle_deg, max_angle_to_limit_deg, reason.
metric        layer, map (I_dist | O_dist | layer = L_out L_in^+), k, k_role, rank, metric_bandwidth_mult,
              test_mae_ratio, explained, dist_identity, dist_identity_scaled, laplacian_rel_diff, reason.
summary       (optional, CSV + Markdown) per model and layer (-1 = all layers): n_sq, latent_dim,
              ratio_at_latent_dim, full_test_mae, baseline_mae, rows, cols, numerical_rank, stable_rank,
              effective ranks, full_params, lowrank_params.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nnmat import cli, io, lmd, seeding
from nnmat.inversion import load_model
from nnmat.linapprox import parse_model_stem

STAGE = "lmd"
OUTPUTS = ("svd", "eckart_young", "truncation", "laplacian", "angles", "metric")


def sample_rows(count: int, total: int, rng: np.random.Generator) -> np.ndarray:
    """`count` distinct row indices out of `total` (all when count >= total), ascending."""
    if count >= total:
        return np.arange(total)
    return np.sort(rng.choice(total, size=count, replace=False))


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="NPZ of the dataset (n, X_test, Y_test)")
    p.add_argument("--name", required=True, help="dataset name (the CSVs' dataset column)")
    p.add_argument("--models", nargs="+", required=True, help="state dicts ARCH_seedK.pt")
    p.add_argument("--seed", type=int, required=True, help="master seed (point samples derive from it)")
    p.add_argument("--points", type=int, default=400, help="p: test points of the Laplacians/metric maps")
    p.add_argument("--eval-points", type=int, default=1000, help="test points scoring truncated networks")
    p.add_argument("--bandwidths", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 4, 8, 16],
                   help="Gaussian bandwidths as multiples of the median pairwise distance")  # fmt: skip
    p.add_argument("--knn", type=int, default=10, help="neighbours of the kNN graph")
    p.add_argument("--subspace-dim", type=int, nargs="+", default=[3], help="eigenmap / PCA dimension(s) m")
    p.add_argument("--tolerance", type=float, default=1.05, help="n': error <= tolerance x full error")
    p.add_argument("--n-eigs", type=int, default=20, help="smallest Laplacian eigenvalues kept")
    p.add_argument("--eig-tol", type=float, default=1e-9, help="'small' eigenvalue: <= eig_tol x lambda_max")
    p.add_argument("--metric-bandwidth", type=float, default=1.0, help="metric-map bandwidth (x median)")
    p.add_argument("--trunc-ks", type=int, default=24, help="max grid points of the k sweep per layer")
    p.add_argument("--ey-ks", type=int, default=16, help="Eckart-Young k values per large layer")
    for name in OUTPUTS:
        p.add_argument(f"--out-{name.replace('_', '-')}", required=True, help=f"{name} CSV")
    p.add_argument("--out-summary", help="optional per-layer summary CSV (+ Markdown next to it)")
    args = p.parse_args(argv)
    log = cli.setup_logging()

    if args.tolerance < 1:
        p.error(f"--tolerance must be >= 1 (the full-rank network has ratio exactly 1), got {args.tolerance}")
    if args.points < 3 or args.knn < 1 or args.eval_points < 1 or min(args.subspace_dim) < 1:
        p.error("--points >= 3, --knn >= 1, --eval-points >= 1 and --subspace-dim >= 1 are required")
    if min(args.bandwidths) <= 0:
        p.error(f"bandwidth multiples must be positive: {args.bandwidths}")
    data = io.read_npz(args.data)
    missing = {"X_test", "Y_test"} - set(data)
    if missing:
        p.error(f"{args.data} lacks {sorted(missing)} (keys: {sorted(data)})")
    X, Y = data["X_test"].astype(np.float64), data["Y_test"].astype(np.float64)
    if X.ndim != 3 or X.shape != Y.shape or X.shape[1] != X.shape[2] or len(X) < 3:
        p.error(f"X_test {X.shape} and Y_test {Y.shape} must be (M, n, n) with M >= 3")
    n = X.shape[1]
    parsed = {m: parse_model_stem(Path(m).stem) for m in args.models}
    bad = [m for m, v in parsed.items() if v is None]
    if bad:
        p.error(f"model files must be named ARCH_seedK.pt: {bad}")

    settings = lmd.Settings(
        bandwidths=tuple(args.bandwidths),
        knn=args.knn,
        subspace_dims=tuple(args.subspace_dim),
        tolerance=args.tolerance,
        n_eigs=args.n_eigs,
        eig_tol=args.eig_tol,
        metric_bandwidth=args.metric_bandwidth,
        trunc_max_ks=args.trunc_ks,
        ey_max_ks=args.ey_ks,
    )
    with cli.stage(STAGE, vars(args), args.provenance) as extra:
        # one sample per dataset (not per model), so every model is measured on the same points
        points_seed = seeding.derive_seed(args.seed, STAGE, args.name, "points")
        eval_seed = seeding.derive_seed(args.seed, STAGE, args.name, "eval")
        pts = sample_rows(args.points, len(X), np.random.default_rng(points_seed))
        ev = sample_rows(args.eval_points, len(X), np.random.default_rng(eval_seed))
        extra["seeds"] = {"points": points_seed, "eval": eval_seed}
        log.info("%s: n=%d, %d points for graphs, %d for test errors", args.name, n, len(pts), len(ev))
        tables: dict[str, list[pd.DataFrame]] = {k: [] for k in (*OUTPUTS, "summary")}
        progress = cli.Progress(len(args.models), "models", every_s=0.0)
        for path in args.models:
            arch, seed_index = parsed[path]
            model = load_model(path)
            if model[0].in_features != n * n:
                p.error(f"{path} takes {model[0].in_features} inputs, the data has n^2 = {n * n}")
            keys = {
                "dataset": args.name,
                "model": Path(path).stem,
                "arch": arch,
                "seed_index": seed_index,
                "n": n,
            }
            mats = lmd.affine_matrices(model)
            if not all(np.all(np.isfinite(M)) for M in mats):
                log.error("%s has non-finite weights: recorded as a flagged svd row, skipped", path)
                tables["svd"].append(pd.DataFrame([{**keys, "layer": -1, "reason": "non-finite weights"}]))
                progress.update()
                continue
            res = lmd.analyse_model(mats, X[ev], Y[ev], X[pts], settings)
            res["truncation"] = res["truncation"].assign(sample_seed=eval_seed, eval_points=len(ev))
            for name in ("laplacian", "angles", "metric"):
                res[name] = res[name].assign(sample_seed=points_seed, points=len(pts))
            res["summary"] = lmd.summary_table(res, n * n)
            for name, df in res.items():
                tables[name].append(lmd.with_keys(df, **keys))
            lat = res["summary"].set_index("layer")["latent_dim"].to_dict()
            log.info("%s: latent dims %s (n^2 = %d), full test MAE %.3g", keys["model"], lat, n * n,
                     res["truncation"]["full_test_mae"].iloc[0])  # fmt: skip
            progress.update()
        for name in OUTPUTS:
            io.write_csv(pd.concat(tables[name], ignore_index=True), getattr(args, f"out_{name}"))
        summary = pd.concat(tables["summary"], ignore_index=True) if tables["summary"] else pd.DataFrame()
        if args.out_summary:
            io.write_table(
                summary,
                args.out_summary,
                Path(args.out_summary).with_suffix(".md"),
                f"LMD summary ({args.name}): latent dimension n' per layer (layer -1: all layers at once)",
                f"n' = smallest rank k of the truncated [W | b] with test error <= {args.tolerance} x the "
                "full network's; lowrank_params = n' (rows + cols + 1) numbers of U S V^T.",
            )
        ey = pd.concat(tables["eckart_young"], ignore_index=True)
        if len(ey):
            log.info("Eckart-Young: max relative discrepancy %.2e (tol %.0e), all ok: %s",
                     ey["rel_discrepancy"].max(), lmd.EY_TOL, bool(ey["ok"].all()))  # fmt: skip


if __name__ == "__main__":
    main()
