"""The numbers the LMD claims are scored on, each computed from the LMD stage's tidy CSVs.

Long format: one row per (measure, network), network = trained (the ji models) or random (the
random-weight null of the same shapes, see scripts/lmd_analyse.py), with the number of units the value
aggregates (count). Only models that learned (column `learned`) enter, except in the Eckart-Young check (a
theorem about any matrix) and the model counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NETWORKS = ("trained", "random")


def _learned(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["learned"].astype(bool)] if "learned" in df.columns else df.iloc[0:0]


def _angles(angles: pd.DataFrame, graph: str, laplacian: str) -> pd.Series:
    """Max principal angles of one graph kind and eigenproblem (Gaussian graph: its largest bandwidth)."""
    g = angles[(angles["graph"] == graph) & (angles["laplacian"] == laplacian)]
    if graph == "gauss":
        g = g[g["bandwidth_mult"] == g["bandwidth_mult"].max()]
    return g["max_angle_deg"]


def _spearman_vs_bandwidth(angles: pd.DataFrame, laplacian: str) -> tuple[float, int]:
    """Median over (model, space) of the rank correlation of the max principal angle with the bandwidth."""
    gauss = angles[(angles["graph"] == "gauss") & (angles["laplacian"] == laplacian)]
    rhos = [
        g["bandwidth_mult"].corr(g["max_angle_deg"], method="spearman")
        for _, g in gauss.groupby(["model", "space"])
        if len(g) > 2
    ]
    return (float(np.nanmedian(rhos)) if rhos else float("nan")), len(rhos)


def _stat(values: pd.Series, how: str) -> tuple[float, int]:
    values = values.dropna()
    return (float(getattr(values, how)()) if len(values) else float("nan")), int(len(values))


def network_measures(summary: pd.DataFrame, metric: pd.DataFrame) -> list[tuple]:
    """Latent dimension and metric-map measures for the trained networks and their random nulls."""
    rows = []
    for net in NETWORKS:
        s = summary[(summary["network"] == net) & (summary["layer"] >= 0)]
        hh = s[s["hidden_to_hidden"].astype(bool) & (s["latent_dim"] >= 0)]
        m = metric[(metric["network"] == net) & metric["map"].isin(["I_dist", "O_dist"])]
        m = m[m["k"] < m["rank"]]  # at full rank L_latent = L_out up to rotation: identity by construction
        expl = m["explained"].astype(bool)
        e, ne = _stat(m[expl]["dist_identity"], "mean")
        u, nu = _stat(m[~expl]["dist_identity"], "mean")
        rows += [
            ("latent_dim_over_data_dim_median", net, *_stat(hh["latent_dim"] / hh["n_sq"], "median"),
             "median over hidden-to-hidden layers (fc3's middle one) of n' / n^2 (n^2: the data manifold)"),
            ("latent_dim_over_width_median", net, *_stat(hh["latent_dim"] / hh["width"], "median"),
             "median over hidden-to-hidden layers of n' / width (width = min(rows, fan-in) of the layer)"),
            ("metric_dist_identity_explained_mean", net, e, ne,
             "mean ||P M P - P||_F / ||P||_F of I_dist, O_dist at ranks k < rank whose truncation keeps "
             "the output within lmd.output_tolerance (eq. 4-5 case)"),
            ("metric_dist_identity_unexplained_mean", net, u, nu,
             "the same at ranks k < rank whose truncation does not keep the output"),
            ("metric_dist_identity_explained_over_unexplained", net,
             e / u if u > 0 else float("nan"), min(ne, nu),
             "ratio of the two (< 1: the maps are nearer the identity where the truncation explains it)"),
        ]  # fmt: skip
    return rows


def measures(
    summary: pd.DataFrame, eckart_young: pd.DataFrame, angles: pd.DataFrame, metric: pd.DataFrame
) -> pd.DataFrame:
    """One row per measurement: measure, network, value, count (units aggregated), and what it is."""
    trained = summary[(summary["network"] == "trained") & (summary["layer"] >= 0)]
    models = trained.drop_duplicates(["dataset", "model"])
    n_learned = int(models["learned"].astype(bool).sum())
    learned_summary, learned_metric = _learned(summary), _learned(metric)
    ang = _learned(angles[angles["network"] == "trained"])
    ey = eckart_young[eckart_young["network"] == "trained"]["rel_discrepancy"]
    rw_rho, n_rho = _spearman_vs_bandwidth(ang, "random_walk")
    rows = [
        ("models_analysed", "trained", float(len(models)), len(models), "trained models analysed"),
        ("models_excluded_did_not_learn", "trained", float(len(models) - n_learned), len(models),
         "models whose test MAE is not <= 0.5 x the constant predictor inv(A0)'s (nnmat.ji.baselines; a "
         "dataset with singular matrices is exempt): left out of every measure below but Eckart-Young"),
        ("eckart_young_max_rel_discrepancy", "trained", *_stat(ey, "max"),
         "max over layers, k of |truncation error - sigma_{k+1}| (2-norm, Frobenius) / sigma_1"),
        *network_measures(learned_summary, learned_metric),
        ("gauss_rw_angle_at_largest_bandwidth_max", "trained",
         *_stat(_angles(ang, "gauss", "random_walk"), "max"),
         "max principal angle (deg), eigenmap vs PCA subspace, random-walk Laplacian, largest bandwidth"),
        ("gauss_rw_angle_spearman_vs_bandwidth", "trained", rw_rho, n_rho,
         "median rank correlation of that angle with the bandwidth (negative: angles shrink as h grows)"),
        ("gauss_unnormalized_angle_at_largest_bandwidth_median", "trained",
         *_stat(_angles(ang, "gauss", "unnormalized"), "median"),
         "median of the same angle for the unnormalised Laplacian L = D - A (the paper's L)"),
        ("knn_angle_median", "trained", *_stat(_angles(ang, "knn", "random_walk"), "median"),
         "median max principal angle (deg) for the locally connected kNN graph, random-walk eigenmap"),
        ("knn_unnormalized_angle_median", "trained", *_stat(_angles(ang, "knn", "unnormalized"), "median"),
         "the same for the kNN graph's L = D - A"),
        ("gauss_rw_angle_at_largest_bandwidth_median", "trained",
         *_stat(_angles(ang, "gauss", "random_walk"), "median"),
         "median max principal angle (deg), random-walk Laplacian of the Gaussian graph, largest bandwidth"),
    ]  # fmt: skip
    out = pd.DataFrame(rows, columns=["measure", "network", "value", "count", "what"])
    out["value"] = out["value"].astype(float)
    out["count"] = out["count"].astype(int)
    return out
