"""Layer Matrix Decomposition (Shyh-Chang, Luo & Qiu, arXiv 2309.05968) made measurable: one network.

The paper is pure theory; it prescribes constructs but no numbers. Each construct becomes a measurement
on the trained ReLU MLPs of the pipeline (our operationalisation, stated in each module and in the
report):

1.-2. layer SVD of [W | b] (bias absorbed) and the Eckart-Young check: `nnmat.lmd.decomposition`;
3. truncated networks, test error and the latent dimension n': `nnmat.lmd.truncation`;
4. graph Laplacians of the input, hidden and output point clouds, eigenmaps against PCA:
   `nnmat.lmd.graphs`;
5. metric maps I_dist, O_dist between the clouds: `nnmat.lmd.metric_maps`.

This module runs them all on one network (`analyse_model`) and summarises the result per layer
(`summary_table`); the settings are `nnmat.lmd.settings.Settings`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nnmat.lmd.decomposition import (
    ENERGY_THRESHOLDS,
    augment,
    eckart_young_table,
    ey_ks,
    layer_svd,
    svd_table,
)
from nnmat.lmd.graphs import angle_rows, build_graphs, cloud_subspaces, spectrum_rows
from nnmat.lmd.metric_maps import metric_rows
from nnmat.lmd.settings import Settings
from nnmat.lmd.truncation import TruncationEvaluator, truncation_table

SPACE_INPUT, SPACE_OUTPUT = "input", "output"


def representations(mats: Sequence[np.ndarray], X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Float64 forward pass: (spaces, pre-activations). spaces = [input, hidden_1 (post-ReLU), ...,
    output]; pre[l] = W_l h_l + b_l."""
    h = X.reshape(len(X), -1).astype(np.float64)
    spaces, pre = [h], []
    for i, M in enumerate(mats):
        z = augment(spaces[-1]) @ M.T
        pre.append(z)
        spaces.append(np.maximum(z, 0.0) if i < len(mats) - 1 else z)
    return spaces, pre


def space_names(n_layers: int) -> list[str]:
    return [SPACE_INPUT, *(f"hidden_{i}" for i in range(1, n_layers)), SPACE_OUTPUT]


def with_keys(df: pd.DataFrame, **keys) -> pd.DataFrame:
    """`df` with constant key columns in front (tidy tables read left to right: keys, then values)."""
    front = pd.DataFrame({k: [v] * len(df) for k, v in keys.items()}, index=df.index)
    return pd.concat([front, df.drop(columns=[k for k in keys if k in df.columns])], axis=1)


def analyse_model(
    mats: Sequence[np.ndarray],
    X_eval: np.ndarray,
    Y_eval: np.ndarray,
    X_points: np.ndarray,
    settings: Settings,
    null: bool = False,
) -> dict[str, pd.DataFrame]:
    """Every table of the stage for one network given as its [W | b] matrices.

    X_eval, Y_eval: the test matrices on which truncated networks are scored; X_points: the p matrices
    whose point clouds feed the Laplacians and metric maps. Returns DataFrames keyed svd, eckart_young,
    truncation, laplacian, angles, metric (each row tagged with its layer or space; the caller adds the
    model keys). null=True (the random-weight null network) computes only what its claims use: svd,
    truncation and metric (Eckart-Young is a theorem; the graph claims have their own nulls).
    """
    svds = [layer_svd(M) for M in mats]
    names = ("svd", "eckart_young", "laplacian", "angles", "metric")
    out: dict[str, list[pd.DataFrame]] = {k: [] for k in names}
    for i, s in enumerate(svds):
        shape = {"layer": i, "rows": s.M.shape[0], "cols": s.M.shape[1]}
        out["svd"].append(with_keys(svd_table(s.sigma, s.M.shape, ENERGY_THRESHOLDS), layer=i))
        if not null:
            ks = ey_ks(s, settings.eckart_young_ks)
            out["eckart_young"].append(with_keys(eckart_young_table(s, ks), **shape))
    ev = TruncationEvaluator(svds, X_eval, Y_eval)
    trunc, latent = truncation_table(ev, settings)

    spaces, pre = representations(mats, X_points)
    for idx, (name, H) in enumerate(zip(space_names(len(mats)), spaces, strict=True)):
        if null:
            break
        graphs, med = build_graphs(H, settings)
        ref = cloud_subspaces(H, (settings.subspace_dim,))
        keys = {"space": name, "layer": idx, "median_distance": med}
        out["laplacian"].append(
            pd.DataFrame([{**keys, **r} for g in graphs for r in spectrum_rows(g, settings)])
        )
        out["angles"].append(pd.DataFrame([{**keys, **r} for g in graphs for r in angle_rows(g, ref)]))
    for i, s in enumerate(svds):

        def scores_of(k: int, i: int = i) -> tuple[float, float]:
            mae, dev = ev.one_layer_scores(i, k)
            return (mae / ev.full_mae if ev.full_mae > 0 else float("nan")), dev

        rows = metric_rows(s, spaces[i], pre[i], latent[i], scores_of, settings)
        out["metric"].append(with_keys(pd.DataFrame(rows), layer=i))
    result = {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in out.items()}
    result["truncation"] = trunc
    return result


def summary_table(tables: dict[str, pd.DataFrame], n_sq: int) -> pd.DataFrame:
    """Per layer (layer -1: all layers): shape, ranks, latent dimension n' against n^2 and the width
    (min(rows, fan-in)), whether it is hidden-to-hidden, and the memory of the
    rank-n' factorisation U_k S_k V_k^T (k (rows + cols + 1) numbers) against rows x cols."""
    svd = tables["svd"].drop_duplicates("layer").set_index("layer")
    tr = tables["truncation"]
    lat = tr[tr["is_latent_dim"]].set_index("layer")
    rows = []
    for layer in sorted(set(tr["layer"])):
        r = {"layer": layer, "n_sq": n_sq}
        n_lat = int(tr.loc[tr["layer"] == layer, "latent_dim"].iloc[0])
        r["latent_dim"] = n_lat
        r["ratio_at_latent_dim"] = float(lat.loc[layer, "ratio"]) if layer in lat.index else np.nan
        r["deviation_at_latent_dim"] = (
            float(lat.loc[layer, "output_deviation"]) if layer in lat.index else np.nan
        )
        r["full_test_mae"] = float(tr["full_test_mae"].iloc[0])
        r["baseline_mae"] = float(tr["baseline_mae"].iloc[0])
        if layer >= 0:
            info = svd.loc[layer]
            rows_, cols_ = int(info["rows"]), int(info["cols"])
            r.update({"rows": rows_, "cols": cols_, "numerical_rank": int(info["numerical_rank"]),
                      "stable_rank": float(info["stable_rank"]),
                      # a hidden-to-hidden layer (fc3's middle one) is the only kind whose rank is not
                      # capped by an n^2-sized side, i.e. the only one that can compress below n^2
                      "hidden_to_hidden": bool(0 < layer < len(svd) - 1),
                      "width": min(rows_, cols_ - 1)})  # fmt: skip
            r.update({c: int(info[c]) for c in svd.columns if c.startswith("eff_rank_p")})
            r["full_params"] = rows_ * cols_
            r["lowrank_params"] = n_lat * (rows_ + cols_ + 1) if n_lat >= 0 else -1
        rows.append(r)
    return pd.DataFrame(rows)
