"""Ji, Wu & Xi, Theorems 3.7-3.9: network error against the distance sigma_min to the singular set.

    python scripts/plot_ji_whycant.py results/ji/whycant_points.csv results/ji/whycant_neighbourhood.csv \
        results/ji/whycant_fit.csv \
        --out figures/ji_whycant_error_vs_sigma.png figures/ji_whycant_error_vs_sigma.pdf

Left: mean absolute error over entries against sigma_min (log-log): a deterministic subsample of the
points (every k-th row per model, at most MAX_POINTS), binned medians per model (BINS log-spaced bins
shared by all models; empty bins leave a gap), the fitted log-log line of the near-singular samples with
its slope, and the reference ||A^-1||_2 = 1/sigma_min. Right: mean (solid) and median (dashed) error per
neighbourhood radius around the singular centre, the test-set mean (dotted) and the mean ||A^-1||_2.
Nothing is smoothed: a non-monotone trend shows as such.
"""

from __future__ import annotations

import logging

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from nnmat import cli, io, plotting
from nnmat.ji import singular_set as ss

BINS = 24  # log-spaced sigma_min bins of the binned medians
MAX_POINTS = 3000  # scatter points drawn per model


def subsample(df: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Every k-th row (deterministic), so at most max_points remain."""
    step = max(1, int(np.ceil(len(df) / max_points)))
    return df.iloc[::step]


def draw_error_vs_sigma(
    ax, ok: pd.DataFrame, fit: pd.DataFrame, models: list[str], colors: dict, log
) -> None:
    """Left panel: error against sigma_min, binned medians, the near-singular fits and 1/sigma_min."""
    s_all = ok["sigma_min"].to_numpy()
    edges = np.logspace(np.log10(s_all.min()), np.log10(s_all.max()), BINS + 1) if len(s_all) else None
    if edges is not None:
        edges[0], edges[-1] = s_all.min(), s_all.max()
        ref = np.array([edges[0], edges[-1]])
        ax.plot(
            ref,
            1.0 / ref,
            color="k",
            linestyle=":",
            linewidth=1.2,
            label="$\\|A^{-1}\\|_2 = 1/\\sigma_{min}$",
        )
    for m in models:
        g = ok[ok["model"] == m]
        if g.empty:
            continue
        sub = subsample(g, MAX_POINTS)
        ax.scatter(sub["sigma_min"], sub["abs_err_mean"], s=2, color=colors[m], alpha=0.15, linewidths=0)
        binned = ss.binned_error(g["sigma_min"], g["abs_err_mean"], edges)
        binned = binned[binned["status"] == "ok"]
        f = fit[(fit["model"] == m) & (fit["subset"] == "near_singular")]
        label = f"{m}: binned median"
        if len(f) and f["status"].iloc[0] == "ok":
            r = f.iloc[0]
            xs = np.array([r["sigma_min_lo"], r["sigma_min_hi"]])
            ax.plot(
                xs,
                10 ** r["intercept_log10"] * xs ** r["slope"],
                color=colors[m],
                linestyle="--",
                linewidth=1.0,
            )
            label += f"; fit slope {r['slope']:.3f} $\\pm$ {r['slope_stderr']:.1g} (n = {int(r['n'])})"
            log.info(
                "%s: near-singular slope %.4f +- %.4f (n = %d)", m, r["slope"], r["slope_stderr"], r["n"]
            )
        ax.plot(
            binned["sigma_centre"],
            binned["err_median"],
            color=colors[m],
            marker="o",
            markersize=3,
            label=label,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("$\\sigma_{min}(A)$ (distance to the singular set)")
    ax.set_ylabel("mean |f(A) - $A^{-1}$| over entries")
    ax.set_title("error against distance to singularity")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.3", linestyle="--", linewidth=1.0))
    labels.append("log-log fit of the near-singular samples")
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=1)


def draw_neighbourhood(ax2, nb: pd.DataFrame, models: list[str], colors: dict, log) -> None:
    """Right panel: mean and median error per radius around S, the test-set mean and mean ||A^-1||."""
    near = nb[nb["source"] == "near_singular"].sort_values("radius")
    for m in models:
        g = near[near["model"] == m]
        ax2.plot(g["radius"], g["abs_err_mean"], color=colors[m], marker="o", markersize=3, label=m)
        ax2.plot(g["radius"], g["abs_err_median"], color=colors[m], linestyle="--", marker="s", markersize=2)
        t = nb[(nb["source"] == "test") & (nb["model"] == m)]
        if len(t):
            ax2.axhline(t["abs_err_mean"].iloc[0], color=colors[m], linestyle=":", linewidth=1.0)
    inv = near.groupby("radius")["inv_norm2_mean"].mean()
    ax2.plot(inv.index, inv.to_numpy(), color="k", linestyle=":", marker="^", markersize=3)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("radius of the Frobenius ball around S")
    ax2.set_ylabel("mean |f(A) - $A^{-1}$| over entries")
    centre = near["singular"].iloc[0] if len(near) and "singular" in near else "?"
    ax2.set_title(f"near the singular S = {centre}")
    style = [
        Line2D([], [], color="0.3", marker="o", markersize=3, label="mean error"),
        Line2D([], [], color="0.3", linestyle="--", marker="s", markersize=2, label="median error"),
        Line2D([], [], color="0.3", linestyle=":", label="test-set mean error"),
        Line2D([], [], color="k", linestyle=":", marker="^", markersize=3, label="mean $\\|A^{-1}\\|_2$"),
    ]
    model_handles = [Line2D([], [], color=colors[m], label=m) for m in models]
    ax2.legend(handles=style + model_handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    for _, r in near.iterrows():
        log.info(
            "%s radius %g: mean %.4g median %.4g max %.4g",
            r["model"],
            r["radius"],
            r["abs_err_mean"],
            r["abs_err_median"],
            r["abs_err_max"],
        )


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("points", help="points CSV of ji_whycant.py")
    p.add_argument("neighbourhood", help="neighbourhood CSV of ji_whycant.py")
    p.add_argument("fit", help="fit CSV of ji_whycant.py")
    p.add_argument("--out", nargs="+", required=True, help="PNG and/or PDF paths")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # font subsetting chatter of the PDF backend
    points = io.read_csv(args.points)
    ok = points[(points["status"] == "ok") & (points["sigma_min"] > 0) & (points["abs_err_mean"] > 0)]
    models = list(dict.fromkeys(points["model"]))
    cmap = mpl.colormaps["tab10"]
    colors = {m: cmap(i % 10) for i, m in enumerate(models)}
    fig, (ax, ax2) = plotting.new_figure(ncols=2, width=3.9, height=3.6)
    draw_error_vs_sigma(ax, ok, io.read_csv(args.fit), models, colors, log)
    draw_neighbourhood(ax2, io.read_csv(args.neighbourhood), models, colors, log)
    fig.suptitle("Theorems 3.7-3.9: the error of a trained network grows as $\\sigma_{min} \\to 0$")
    plotting.save_figure(fig, *args.out)


if __name__ == "__main__":
    main()
