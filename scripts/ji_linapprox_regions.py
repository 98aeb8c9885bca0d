"""Ji, Wu & Xi, Sec. 5.3 and Appendix E: activation regions of the small 2-layer model, its affine map
per region against the linear approximation, and one linear program per (region, output entry).

    python scripts/ji_linapprox_regions.py --data data/ji/first.npz \
        --models results/ji/models/first/small_seed0.pt [...] \
        --settings '{"dataset": "first", "seed": 20240702, "samples": 1000000, "coef_min_fraction": 0.01}' \
        --out-regions results/ji/linapprox/regions.csv \
        --out-coefficients results/ji/linapprox/coefficients.csv \
        --out-lp results/ji/linapprox/lp.csv --provenance results/ji/linapprox/provenance/regions.json

For each model (nn.Sequential(Linear, ReLU, Linear) state dict named ARCH_seedK.pt, weights cast to
float64): `samples` points x = vec_row(A) uniform in the dataset's box [vec(A0) - r, vec(A0) + r] (E.2.1),
from the seed derived from (seed, "linapprox_regions", dataset, K) and recorded as sample_seed; their
activation patterns (string of 0/1, character j = hidden unit j); per pattern the network's affine map
C x + c against the linear approximation M_lin x + c_lin (eq. 12); and for each pattern with data and each
output entry k (row-major entry of the inverse) the LP max |g_k| over (region) ∩ (box), g = f - L (E.2.2).
Outputs (tidy CSVs, every row keyed by dataset, model, arch, seed_index, sample_seed):

  Every model is analysed beside a random network of its shape (model ARCH_seedK_untrained, weights
  "untrained", torch's default init from a derived seed; no LPs): the null of the regions and
  coefficient claims. Key columns weights, test_mae, constant_mae (inv(A0) on the test set) and learned
  (test MAE <= half the constant's, nnmat.ji.baselines) are in every row of the regions CSV.
  regions       per (model, pattern): rank, pattern, count, fraction, n_active, active_units,
                max_abs_diff_weight = max |C - M_lin|, max_abs_diff_bias = max |c - c_lin|,
                max_abs_diff_bias_centred = max |(C - M_lin) vec(A0) + c - c_lin| (the gap at A0),
                lp_max_abs = max over k of the LP maxima, lp_flagged (LPs not optimal)
  coefficients  per (model, pattern with fraction >= coef_min_fraction or among the top two,
                output_entry, input_entry):
                term (weight; bias with input_entry -1; value_at_centre, input_entry -2: the affine maps at
                vec(A0), i.e. the bias in centred coordinates), coef_network, coef_linear, diff
  lp            per (model, pattern, output_entry): proportion, count, status (optimal | infeasible |
                failed), reason, lp_max_abs, lp_gap_max, lp_gap_min, x_star_0.. (the maximiser),
                check_eval_diff = |real float64 network at x* - L(x*) - LP value| (must be <= 1e-9),
                eval_within_tol, max_sampled_abs (max |g_k| over the samples of the pattern),
                sampled_within_bound (max_sampled_abs <= lp_max_abs + 1e-9)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from nnmat import cli, io, seeding
from nnmat.ji import baselines
from nnmat.ji import linapprox as la
from nnmat.ji.mlp import linear_init_
from nnmat.ji.names import parse_model_stem

STAGE = "linapprox_regions"


def analyse_model(
    W, A0: np.ndarray, radius: float, X: np.ndarray, keys: dict, min_fraction: float, log, lps: bool = True
):
    """The three tables of one model on the samples X (N, n^2); without `lps`, no linear programs."""
    W1, b1, W2, b2 = W
    M_lin, c_lin = la.linear_affine(A0)
    lo, hi = A0.ravel() - radius, A0.ravel() + radius
    P = la.activation_patterns(W1, b1, X)
    codes = la.pattern_codes(P)
    sampled = la.sampled_gap_max(W1, b1, W2, b2, X, M_lin, c_lin, codes)
    regions = la.region_table(P)
    progress = cli.Progress(len(regions), f"{keys['model']}: regions (LPs)")
    region_rows, coef_frames, lp_rows = [], [], []
    for reg in regions.itertuples(index=False):
        pattern = la.pattern_from_id(reg.pattern)
        code = int(la.pattern_codes(pattern[None])[0])
        C, c = la.affine_map(W1, b1, W2, b2, pattern)
        diffs = la.coefficient_diffs(C, c, M_lin, c_lin, A0.ravel())
        if reg.fraction >= min_fraction or reg.rank <= 2:
            coef = la.coefficient_table(C, c, M_lin, c_lin, A0.ravel())
            for i, (col, val) in enumerate(
                (*keys.items(), ("rank", reg.rank), ("pattern", reg.pattern), ("fraction", reg.fraction))
            ):
                coef.insert(i, col, val)
            coef_frames.append(coef)
        lps_ = la.gap_lp(W1, b1, W2, b2, pattern, lo, hi, M_lin, c_lin) if lps else []
        for r in lps_:
            x_star = r.pop("x_star")
            k = r["output_entry"]
            max_sampled = float(sampled.loc[code, k])
            ok = r["status"] == "optimal"
            row = {**keys, "rank": reg.rank, "pattern": reg.pattern, "proportion": reg.fraction}
            row.update(count=reg.count, **r)
            row["eval_within_tol"] = bool(ok and r["check_eval_diff"] <= la.EVAL_TOL)
            row["max_sampled_abs"] = max_sampled
            row["sampled_within_bound"] = bool(ok and max_sampled <= r["lp_max_abs"] + la.BOUND_TOL)
            row.update({f"x_star_{j}": v for j, v in enumerate(x_star)})
            lp_rows.append(row)
        lp_max = [r["lp_max_abs"] for r in lps_ if r["status"] == "optimal"]
        region_rows.append(
            {
                **keys,
                **reg._asdict(),
                **diffs,
                "lp_max_abs": max(lp_max) if lp_max else np.nan,
                "lp_flagged": sum(r["status"] != "optimal" for r in lps_),
            }
        )
        progress.update()
    regions_df = pd.DataFrame(region_rows)
    lp_df = pd.DataFrame(lp_rows)
    top = regions_df.head(2)
    if not lps:
        return regions_df, coef_frames, lp_df
    log.info(
        "%s: %d patterns with data; top two %s hold %.4f of the samples; their max |C - M_lin| %s, "
        "max |c - c_lin| %s (at the centre %s)",
        keys["model"],
        len(regions_df),
        list(top["pattern"]),
        top["fraction"].sum(),
        [f"{v:.3g}" for v in top["max_abs_diff_weight"]],
        [f"{v:.3g}" for v in top["max_abs_diff_bias"]],
        [f"{v:.3g}" for v in top["max_abs_diff_bias_centred"]],
    )
    log.info(
        "%s: LPs flagged %d, eval check failures %d (max diff %.3g), sampled above bound %d",
        keys["model"],
        int((lp_df["status"] != "optimal").sum()),
        int((~lp_df["eval_within_tol"]).sum()),
        lp_df["check_eval_diff"].max(),
        int((~lp_df["sampled_within_bound"]).sum()),
    )
    return regions_df, coef_frames, lp_df


def untrained_weights(W, seed: int):
    """(W1, b1, W2, b2) of a random network of the shapes of W: torch.nn.Linear's default init from `seed`
    (the null of the claims about what training made of the small model)."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for w in (W[0], W[2]):
        weight, bias = torch.empty(w.shape, dtype=torch.float64), torch.empty(w.shape[0], dtype=torch.float64)
        linear_init_(weight, bias, gen)
        out += [weight.numpy(), bias.numpy()]
    return tuple(out)


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="NPZ of the dataset (A0, radius)")
    p.add_argument("--models", nargs="+", required=True, help="2-layer state dicts named ARCH_seedK.pt")
    cli.add_settings(p, la.RegionsSettings)
    p.add_argument("--out-regions", required=True, help="CSV, one row per (model, pattern)")
    p.add_argument("--out-coefficients", required=True, help="CSV, one row per (model, pattern, k, j)")
    p.add_argument("--out-lp", required=True, help="CSV, one row per (model, pattern, output entry)")
    args = p.parse_args(argv)
    settings: la.RegionsSettings = args.settings
    log = cli.setup_logging()
    data = io.read_npz(args.data)
    missing = {"A0", "radius", "X_test", "Y_test"} - set(data)
    if missing:
        p.error(f"{args.data} lacks {sorted(missing)} (keys: {sorted(data)})")
    A0, radius = data["A0"].astype(np.float64), float(data["radius"])
    d = A0.size
    if settings.samples < 1 or radius <= 0:
        p.error(f"need samples >= 1 and a positive box radius (got {settings.samples}, {radius})")
    models = []
    for path in args.models:
        parsed = parse_model_stem(Path(path).stem)
        if parsed is None:
            p.error(f"model files must be named ARCH_seedK.pt: {path}")
        try:
            W = la.two_layer_weights(io.read_torch(path))
        except ValueError as exc:
            p.error(f"{path}: {exc}")
        if W[0].shape[1] != d or W[2].shape[0] != d:
            p.error(f"{path} maps {W[0].shape[1]} -> {W[2].shape[0]} values, the data needs {d} -> {d}")
        models.append((Path(path).stem, parsed, W, "trained"))
    X_test, Y_test = data["X_test"].astype(np.float64), data["Y_test"].astype(np.float64)
    constant_mae = baselines.mae(baselines.constant_prediction(A0, len(X_test)), Y_test)
    with cli.stage(STAGE, cli.params(args), args.provenance) as extra:
        extra["seeds"] = {}
        for stem, (arch, seed_index), W, _ in list(models):
            init = seeding.derive_seed(settings.seed, STAGE, "untrained", seed_index)
            extra["seeds"][f"{stem}_untrained_init"] = init
            models.append((f"{stem}_untrained", (arch, seed_index), untrained_weights(W, init), "untrained"))
        regions, coefs, lps = [], [], []
        for stem, (arch, seed_index), W, weights in models:
            seed = seeding.derive_seed(settings.seed, STAGE, settings.dataset, seed_index)
            extra["seeds"][stem] = seed
            test_mae = baselines.mae(
                la.forward(*W, X_test.reshape(len(X_test), d)).reshape(Y_test.shape), Y_test
            )
            keys = {
                "dataset": settings.dataset,
                "model": stem,
                "arch": arch,
                "seed_index": seed_index,
                "weights": weights,
                "test_mae": test_mae,
                "constant_mae": constant_mae,
                "learned": baselines.learned(test_mae, constant_mae),
            }
            keys["sample_seed"] = seed
            rng = np.random.default_rng(seed)
            X = A0.ravel() + rng.uniform(-radius, radius, size=(settings.samples, d))
            log.info(
                "%s: %d samples in the box of half-width %.6g (seed %d)", keys["model"], len(X), radius, seed
            )
            r, c, lp = analyse_model(
                W, A0, radius, X, keys, settings.coef_min_fraction, log, lps=weights == "trained"
            )
            regions.append(r)
            coefs.extend(c)
            lps.append(lp)
        regions_df = pd.concat(regions, ignore_index=True)
        regions_df.insert(regions_df.columns.get_loc("sample_seed") + 1, "samples", settings.samples)
        coef_df = pd.concat(coefs, ignore_index=True) if coefs else pd.DataFrame()
        log.info(
            "regions:\n%s",
            regions_df.groupby("model")
            .head(5)[
                [
                    "model",
                    "rank",
                    "pattern",
                    "fraction",
                    "max_abs_diff_weight",
                    "max_abs_diff_bias",
                    "lp_max_abs",
                ]
            ]
            .to_string(index=False, float_format="%.4g"),
        )
        io.write_csv(regions_df, args.out_regions)
        io.write_csv(coef_df, args.out_coefficients)
        io.write_csv(pd.concat(lps, ignore_index=True), args.out_lp)


if __name__ == "__main__":
    main()
