r"""Shyh-Chang, Luo & Qiu (LMD): layer SVDs, Eckart-Young, latent dimensions, graph Laplacians, metric maps.

    python scripts/lmd_analyse.py --data data/ji/first.npz \
        --models results/ji/models/first/fc2_seed0.pt ... \
        --settings '{"dataset": "first", "seed": 20240702, "points": 400, "eval_points": 2000,
                     "bandwidths": [0.25, 0.5, 1, 2, 4, 8, 16], "knn": 10, "subspace_dim": 3,
                     "tolerance": 1.05, "n_eigs": 20, "eig_tol": 1e-9, "metric_bandwidth": 1.0,
                     "output_tolerance": 0.05, "truncation_ks": 24, "eckart_young_ks": 16,
                     "learned_exempt": false}' \
        --out-svd results/lmd/svd_first.csv --out-eckart-young results/lmd/eckart_young_first.csv \
        --out-truncation results/lmd/truncation_first.csv --out-laplacian results/lmd/laplacian_first.csv \
        --out-angles results/lmd/angles_first.csv --out-metric results/lmd/metric_first.csv \
        --out-summary results/lmd/summary_first.csv --out-summary-md results/lmd/summary_first.md \
        --provenance results/lmd/provenance/first.json

The settings are the config's `lmd` section (keys described in config/schema.yaml; `datasets` and
`figure_bandwidth` excepted), the master `seed`, the analysed `dataset` and `learned_exempt` (the ji
dataset declares includes_singular); every key is required.

One call per dataset; models are state dicts named ARCH_seedK.pt. Every row carries dataset, model (file
stem), arch, seed_index, n (matrices are n x n, the data manifold has dimension n^2), network (trained |
random), learned and its layer. network = random: the null of the latent-dimension and metric-map
claims, a network of the model's shapes with PyTorch's default nn.Linear initialisation (W and b
uniform in +-1/sqrt(fan-in)) drawn from seed derive_seed(seed, "lmd", dataset, "random", model), analysed
the same way (svd, truncation, metric only), one per trained model that learned. learned: the trained
model's test MAE on the scoring points is <= nnmat.ji.baselines.LEARNED_FACTOR x the constant predictor
inv(A0)'s on the same points (always True on a dataset with singular matrices, `learned_exempt`); the
random rows carry their trained model's flag. model_mae, constant_mae: those two numbers (truncation). The
operationalisation of each construct is documented in the modules of nnmat/lmd/ (decomposition,
truncation, graphs, metric_maps; analysis runs them on one model). Tables (tidy, long):

svd           layer, i, sigma, sigma_rel, energy_cum; per-layer summary repeated on each row: rows, cols
              ([W | b]: cols = fan-in + 1), numerical_rank, stable_rank, eff_rank_p90/p99/p99_9.
eckart_young  layer, rows, cols, k, err2, pred2, errF, predF, rel_discrepancy{2,F,} (|meas - pred| / s_1),
              tol, ok, norm2_method.
truncation    mode (one_layer | all_layers), layer (-1 = all), rank, k, energy_kept, test_mae,
              full_test_mae, baseline_mae (the mean target predicted everywhere), ratio, tolerance,
              within_tolerance, output_deviation (mean |f_k - f| / mean |f - mean f|), output_tolerance,
              within_output_tolerance, latent_dim (n' of this mode/layer: smallest k with
              output_deviation <= output_tolerance, repeated), is_latent_dim, on_grid (False: a bisection
              point), sample_seed, eval_points, model_mae, constant_mae.
laplacian     space (input | hidden_l | output), layer (0 = input .. L = output), median_distance, graph
              (knn | gauss), bandwidth_mult, bandwidth, knn_k, eig_index (0-based), value, value_rel
              (/ lambda_max), lambda_max, n_small (eigenvalues <= eig_tol x lambda_max), n_components,
              eig_tol, reason; the n_eigs smallest eigenvalues of L = D - A.
angles        space, layer, median_distance, graph, bandwidth_mult, bandwidth, knn_k, laplacian
              (unnormalized | random_walk), m, pca_gap_ratio (s_{m+1} / s_m of the centred cloud),
              max_angle_deg, mean_angle_deg, max_angle_to_limit_deg, reason.
metric        layer, map (I_dist | O_dist | layer = L_out L_in^+), k, k_role, rank, metric_bandwidth_mult,
              test_mae_ratio, output_deviation, explained (output_deviation <= output_tolerance),
              dist_identity, dist_identity_scaled, laplacian_rel_diff, reason.
summary       (CSV + Markdown) per model, network and layer (-1 = all layers): n_sq, latent_dim,
              ratio_at_latent_dim, deviation_at_latent_dim, full_test_mae, baseline_mae, rows, cols,
              numerical_rank, stable_rank, hidden_to_hidden, width (min(rows, fan-in)), effective
              ranks, full_params, lowrank_params.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from nnmat import cli, io, seeding
from nnmat.ji import baselines
from nnmat.ji.mlp import load_model
from nnmat.ji.names import parse_model_stem
from nnmat.lmd import analysis
from nnmat.lmd.decomposition import EY_TOL, affine_matrices
from nnmat.lmd.settings import Settings

STAGE = "lmd"
OUTPUTS = ("svd", "eckart_young", "truncation", "laplacian", "angles", "metric")
log = logging.getLogger("nnmat")


class InputError(ValueError):
    """A data or model file the analysis cannot use (reported as a usage error naming the file)."""


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="NPZ of the dataset (n, X_test, Y_test)")
    p.add_argument("--models", nargs="+", required=True, help="state dicts ARCH_seedK.pt")
    cli.add_settings(p, Settings)
    for name in OUTPUTS:
        p.add_argument(f"--out-{name.replace('_', '-')}", required=True, help=f"{name} CSV")
    p.add_argument("--out-summary", required=True, help="per-layer summary CSV")
    p.add_argument("--out-summary-md", required=True, help="the same summary as Markdown")
    return p, p.parse_args(argv)


def load_test_data(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X_test, Y_test and A0 of the dataset in float64, checked to be (M, n, n) with M >= 3."""
    data = io.read_npz(path)
    missing = {"X_test", "Y_test", "A0"} - set(data)
    if missing:
        raise InputError(f"{path} lacks {sorted(missing)} (keys: {sorted(data)})")
    X, Y = data["X_test"].astype(np.float64), data["Y_test"].astype(np.float64)
    if X.ndim != 3 or X.shape != Y.shape or X.shape[1] != X.shape[2] or len(X) < 3:
        raise InputError(f"X_test {X.shape} and Y_test {Y.shape} must be (M, n, n) with M >= 3")
    return X, Y, data["A0"].astype(np.float64)


def random_matrices(mats: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """[W | b] of a network of the same shapes with nn.Linear's default initialisation (W and b uniform
    in +-1/sqrt(fan-in)): the untrained network, which has learned no structure of the data."""
    rng = np.random.default_rng(seed)
    out = []
    for M in mats:
        bound = 1.0 / np.sqrt(M.shape[1] - 1)
        out.append(rng.uniform(-bound, bound, size=M.shape))
    return out


def model_names(paths: list[str]) -> dict[str, tuple[str, int]]:
    """(arch, seed index) of each model file, from its name ARCH_seedK.pt."""
    parsed = {m: parse_model_stem(Path(m).stem) for m in paths}
    bad = [m for m, v in parsed.items() if v is None]
    if bad:
        raise InputError(f"model files must be named ARCH_seedK.pt: {bad}")
    return parsed


def sample_rows(count: int, total: int, rng: np.random.Generator) -> np.ndarray:
    """`count` distinct row indices out of `total` (all when count >= total), ascending."""
    if count >= total:
        return np.arange(total)
    return np.sort(rng.choice(total, size=count, replace=False))


def sample_points(settings: Settings, total: int) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The p graph points and the scoring points out of `total` test matrices, and their seeds: one sample
    per dataset (not per model), so every model is measured on the same points."""
    points_seed = seeding.derive_seed(settings.seed, STAGE, settings.dataset, "points")
    eval_seed = seeding.derive_seed(settings.seed, STAGE, settings.dataset, "eval")
    pts = sample_rows(settings.points, total, np.random.default_rng(points_seed))
    ev = sample_rows(settings.eval_points, total, np.random.default_rng(eval_seed))
    return pts, ev, {"points": points_seed, "eval": eval_seed}


def run_network(
    mats: list[np.ndarray],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    samples: tuple[np.ndarray, np.ndarray, dict[str, int]],
    settings: Settings,
    null: bool,
) -> dict[str, pd.DataFrame]:
    """The tables of one network (trained or its random null) with the sample columns added."""
    X, Y, _ = data
    pts, ev, seeds = samples
    n = X.shape[1]
    res = analysis.analyse_model(mats, X[ev], Y[ev], X[pts], settings, null=null)
    res["truncation"] = res["truncation"].assign(sample_seed=seeds["eval"], eval_points=len(ev))
    for table in ("laplacian", "angles", "metric"):
        if len(res[table]):
            res[table] = res[table].assign(sample_seed=seeds["points"], points=len(pts))
    res["summary"] = analysis.summary_table(res, n * n)
    return res


def analyse_file(
    path: str,
    name: tuple[str, int],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    samples: tuple[np.ndarray, np.ndarray, dict[str, int]],
    settings: Settings,
) -> dict[str, pd.DataFrame]:
    """Every table of one model file and of its random-weight null, each row keyed by dataset, model,
    arch, seed_index, n, network and learned (a model with non-finite weights gives one flagged svd row)."""
    X, Y, A0 = data
    ev = samples[1]
    n = X.shape[1]
    model = load_model(path)
    if model[0].in_features != n * n:
        raise InputError(f"{path} takes {model[0].in_features} inputs, the data has n^2 = {n * n}")
    stem = Path(path).stem
    keys = {"dataset": settings.dataset, "model": stem, "arch": name[0], "seed_index": name[1], "n": n}
    mats = affine_matrices(model)
    if not all(np.all(np.isfinite(M)) for M in mats):
        log.error("%s has non-finite weights: recorded as a flagged svd row, skipped", path)
        return {
            "svd": pd.DataFrame([{**keys, "network": "trained", "layer": -1, "reason": "non-finite weights"}])
        }
    res = run_network(mats, data, samples, settings, null=False)
    model_mae = float(res["truncation"]["full_test_mae"].iloc[0])
    constant_mae = baselines.mae(baselines.constant_prediction(A0, len(ev)), Y[ev])
    learned = settings.learned_exempt or baselines.learned(model_mae, constant_mae)
    results = {"trained": res}
    if learned:  # the null of a model left out of the claims would cost time and inform nothing
        seed = seeding.derive_seed(settings.seed, STAGE, settings.dataset, "random", stem)
        results["random"] = run_network(random_matrices(mats, seed), data, samples, settings, null=True)
    for network, r in results.items():
        lat = r["summary"].set_index("layer")["latent_dim"].to_dict()
        log.info("%s (%s): latent dims %s (n^2 = %d), full test MAE %.3g, constant %.3g, learned %s",
                 stem, network, lat, n * n, r["truncation"]["full_test_mae"].iloc[0], constant_mae,
                 learned)  # fmt: skip
        r["truncation"] = r["truncation"].assign(model_mae=model_mae, constant_mae=constant_mae)
    out: dict[str, list[pd.DataFrame]] = {}
    for network, r in results.items():
        for table, df in r.items():
            if len(df):
                out.setdefault(table, []).append(
                    analysis.with_keys(df, **keys, network=network, learned=learned)
                )
    return {table: pd.concat(v, ignore_index=True) for table, v in out.items()}


def write_outputs(
    tables: dict[str, list[pd.DataFrame]], args: argparse.Namespace, settings: Settings
) -> None:
    """The six CSVs, and the summary as CSV and Markdown."""
    for name in OUTPUTS:
        io.write_csv(pd.concat(tables[name], ignore_index=True), getattr(args, f"out_{name}"))
    summary = pd.concat(tables["summary"], ignore_index=True) if tables["summary"] else pd.DataFrame()
    io.write_table(
        summary,
        args.out_summary,
        args.out_summary_md,
        f"LMD summary ({settings.dataset}): latent dimension n' per layer (layer -1: all layers at once)",
        f"n' = smallest rank k of the truncated [W | b] whose output deviates from the untruncated "
        f"network's by <= {settings.output_tolerance} (mean |f_k - f| / mean |f - mean f|); network = "
        "random: the random-weight null; lowrank_params = n' (rows + cols + 1) numbers of U S V^T.",
    )
    ey = pd.concat(tables["eckart_young"], ignore_index=True)
    if len(ey):
        log.info("Eckart-Young: max relative discrepancy %.2e (tol %.0e), all ok: %s",
                 ey["rel_discrepancy"].max(), EY_TOL, bool(ey["ok"].all()))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p, args = parse_args(argv)
    cli.setup_logging()
    settings: Settings = args.settings
    try:
        data = load_test_data(args.data)
        names = model_names(args.models)
    except InputError as exc:
        p.error(str(exc))
    with cli.stage(STAGE, cli.params(args), args.provenance) as extra:
        samples = sample_points(settings, len(data[0]))
        extra["seeds"] = samples[2]
        log.info("%s: n=%d, %d points for graphs, %d for test errors", settings.dataset, data[0].shape[1],
                 len(samples[0]), len(samples[1]))  # fmt: skip
        tables: dict[str, list[pd.DataFrame]] = {k: [] for k in (*OUTPUTS, "summary")}
        progress = cli.Progress(len(args.models), "models", every_s=0.0)
        excluded = 0
        for path in args.models:
            try:
                result = analyse_file(path, names[path], data, samples, settings)
            except InputError as exc:
                p.error(str(exc))
            for table, df in result.items():
                tables[table].append(df)
            if result.get("truncation") is not None and not result["truncation"]["learned"].iloc[0]:
                excluded += 1
            progress.update()
        log.info("%d of %d models did not learn (no random null; left out of the learned-function claims)",
                 excluded, len(args.models))  # fmt: skip
        write_outputs(tables, args, settings)


if __name__ == "__main__":
    main()
