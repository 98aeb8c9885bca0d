"""The numbers the LMD claims are scored on, each computed from the LMD stage's tidy CSVs."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _largest_bandwidth(angles: pd.DataFrame, laplacian: str) -> pd.Series:
    gauss = angles[(angles["graph"] == "gauss") & (angles["laplacian"] == laplacian)]
    return gauss[gauss["bandwidth_mult"] == gauss["bandwidth_mult"].max()]["max_angle_deg"]


def _spearman_vs_bandwidth(angles: pd.DataFrame, laplacian: str) -> float:
    """Median over (model, space) of the rank correlation of the max principal angle with the bandwidth."""
    gauss = angles[(angles["graph"] == "gauss") & (angles["laplacian"] == laplacian)]
    rhos = [
        g["bandwidth_mult"].corr(g["max_angle_deg"], method="spearman")
        for _, g in gauss.groupby(["model", "space"])
        if len(g) > 2
    ]
    return float(np.nanmedian(rhos)) if rhos else float("nan")


def measures(
    summary: pd.DataFrame, eckart_young: pd.DataFrame, angles: pd.DataFrame, metric: pd.DataFrame
) -> pd.DataFrame:
    """One row per measurement: name, value, and what it is."""
    layers = summary[summary["layer"] >= 0]
    maps = metric[metric["map"].isin(["I_dist", "O_dist"])]
    explained = maps[maps["explained"].astype(bool)]["dist_identity"]
    unexplained = maps[~maps["explained"].astype(bool)]["dist_identity"]
    rows = [
        (
            "eckart_young_max_rel_discrepancy",
            eckart_young["rel_discrepancy"].max(),
            "max over layers, k of |truncation error - sigma_{k+1}| (2-norm, Frobenius) / sigma_1",
        ),
        (
            "latent_dim_over_data_dim_median",
            (layers["latent_dim"] / layers["n_sq"]).median(),
            "median over (model, layer) of n' / n^2",
        ),
        (
            "latent_dim_over_width_median",
            (layers["latent_dim"] / layers[["rows", "cols"]].min(axis=1)).median(),
            "median over (model, layer) of n' / min(rows, cols) of [W | b]",
        ),
        (
            "gauss_rw_angle_at_largest_bandwidth_max",
            _largest_bandwidth(angles, "random_walk").max(),
            "max principal angle (deg), eigenmap vs PCA subspace, random-walk Laplacian, largest bandwidth",
        ),
        (
            "gauss_rw_angle_spearman_vs_bandwidth",
            _spearman_vs_bandwidth(angles, "random_walk"),
            "median rank correlation of that angle with the bandwidth (negative: angles shrink as h grows)",
        ),
        (
            "gauss_unnormalized_angle_at_largest_bandwidth_median",
            _largest_bandwidth(angles, "unnormalized").median(),
            "same angle for the unnormalised Laplacian L = D - A (the paper's L)",
        ),
        (
            "knn_angle_median",
            angles[(angles["graph"] == "knn") & (angles["laplacian"] == "random_walk")][
                "max_angle_deg"
            ].median(),
            "max principal angle (deg) for the locally connected kNN graph",
        ),
        (
            "metric_dist_identity_explained_mean",
            explained.mean(),
            "mean ||P M P - P||_F / ||P||_F of I_dist, O_dist when rank k keeps the error (eq. 4 case)",
        ),
        (
            "metric_dist_identity_unexplained_mean",
            unexplained.mean(),
            "the same when the truncation does not explain the map",
        ),
    ]
    rows.append(
        (
            "metric_dist_identity_explained_over_unexplained",
            explained.mean() / unexplained.mean(),
            "ratio of the two (< 1: the maps are nearer the identity where the truncation explains the map)",
        )
    )
    out = pd.DataFrame(rows, columns=["measure", "value", "what"])
    out["value"] = out["value"].astype(float)
    return out
