"""Figures of Ji, Wu & Xi, Sec. 5.3 / Appendix E (the small model vs the linear approximation), from CSVs.

    python scripts/plot_ji_linapprox.py regions results/ji/linapprox/regions.csv \
        --out figures/ji_linapprox_regions.png figures/ji_linapprox_regions.pdf
    python scripts/plot_ji_linapprox.py coefficients results/ji/linapprox/coefficients.csv [--model M] \
        --out figures/ji_linapprox_coefficients.png figures/ji_linapprox_coefficients.pdf
    python scripts/plot_ji_linapprox.py radius results/ji/linapprox/sweep/table2_*.csv \
        --out figures/ji_error_vs_radius.png figures/ji_error_vs_radius.pdf

regions       fraction of the sampled data per activation pattern (one panel per model, log y), the two
              main regions highlighted with their share
coefficients  for the two top regions of one model (--model; default: the first in the CSV): heatmaps of
              the network's affine coefficients [C | c], of the linear approximation's [M_lin | c_lin] and
              of the difference
radius        average absolute test error against the box half-width c (log-log); linear approximations with
              their fitted exponent, networks as the median over seeds with a min-max band. Input columns:
              dataset, radius, method, seed_index, test_mae (e.g. the rows of ji_linapprox_table2.py)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nnmat import cli, io, plotting
from nnmat.ji import linapprox as la

HIGHLIGHT = 2  # the paper's "two main regions"


def plot_regions(df: pd.DataFrame, out: list[str], log) -> None:
    models = list(dict.fromkeys(df["model"]))
    most = int(df.groupby("model").size().max())
    fig, axes = plotting.new_figure(
        nrows=len(models), width=max(4.4, 0.16 * most + 1.2), height=2.8, squeeze=False
    )
    for ax, model in zip(axes[:, 0], models, strict=True):
        sub = df[df["model"] == model].sort_values("rank")
        x = np.arange(len(sub))
        top = sub["rank"].to_numpy() <= HIGHLIGHT
        ax.bar(x, sub["fraction"], color=np.where(top, "C3", "C0"), width=0.8)
        ax.set_yscale("log")
        ax.set_xticks(x, sub["pattern"], rotation=90, fontsize=5.5, family="monospace")
        ax.set_xlim(-0.7, len(sub) - 0.3)
        for xi, f in zip(x[top], sub["fraction"][top], strict=True):
            ax.annotate(f"{100 * f:.3g} %", (xi, f), ha="center", va="bottom", fontsize=6.5, color="C3")
        share = sub["fraction"][top].sum()
        ax.set_title(
            f"{model}: {len(sub)} patterns with data\ntop {HIGHLIGHT} (red) hold {100 * share:.3g} %"
        )
        ax.set_ylabel("fraction of samples")
        ax.set_ylim(top=1.6)
        log.info("%s: %d patterns, top %d share %.4f", model, len(sub), HIGHLIGHT, share)
    axes[-1, 0].set_xlabel("activation pattern (character j = hidden unit j active)")
    plotting.save_figure(fig, *out)


def _entry_names(d: int, prefix: str) -> list[str]:
    n = math.isqrt(d)
    return (
        [f"{prefix}{i + 1}{j + 1}" for i in range(n) for j in range(n)]
        if n * n == d
        else list(map(str, range(d)))
    )


def _heatmap(ax, mat: np.ndarray, vmax: float, cmap: str, xlabels, ylabels):
    im = ax.imshow(mat, cmap=cmap, vmin=-vmax, vmax=vmax, aspect="auto")
    for (i, j), v in np.ndenumerate(mat):
        text = f"{v:.2g}" if abs(v) < 0.01 else f"{v:.2f}"
        color = "white" if abs(v) > 0.65 * vmax else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=5.5, color=color)
    ax.set_xticks(range(len(xlabels)), xlabels, fontsize=6.5)
    ax.set_yticks(range(len(ylabels)), ylabels, fontsize=6.5)
    ax.grid(False)
    return im


def plot_coefficients(df: pd.DataFrame, model: str | None, top: int, out: list[str], log) -> None:
    model = model or df["model"].iloc[0]
    sub = df[df["model"] == model]
    if sub.empty:
        raise SystemExit(f"no rows for model {model!r}; models: {sorted(set(df['model']))}")
    ranks = sorted(set(sub["rank"]))[:top]
    d = int(sub["output_entry"].max()) + 1
    xlabels = [*_entry_names(d, "a"), "bias", "f(A0)"]
    ylabels = _entry_names(d, "y")

    def matrix(g: pd.DataFrame, col: str) -> np.ndarray:
        col_index = g["term"].map({"bias": d, "value_at_centre": d + 1}).fillna(g["input_entry"]).astype(int)
        mat = np.full((d, d + 2), np.nan)
        mat[g["output_entry"].to_numpy(), col_index] = g[col].to_numpy()
        return mat

    fig, axes = plotting.new_figure(ncols=3, nrows=len(ranks), width=3.0, height=1.9, squeeze=False)
    vmax = float(sub[["coef_network", "coef_linear"]].abs().max().max())
    for row, rank in enumerate(ranks):
        g = sub[sub["rank"] == rank]
        pattern, frac = g["pattern"].iloc[0], float(g["fraction"].iloc[0])
        diff = matrix(g, "diff")
        dmax = float(np.nanmax(np.abs(diff)))
        panels = (
            (matrix(g, "coef_network"), vmax, "RdBu_r", f"network on {pattern} ({100 * frac:.3g} %)"),
            (matrix(g, "coef_linear"), vmax, "RdBu_r", "linear approximation (eq. 12)"),
            (diff, dmax, "PuOr_r", f"difference (max |.| = {dmax:.2g})"),
        )
        for col, (mat, vm, cmap, title) in enumerate(panels):
            ax = axes[row, col]
            im = _heatmap(ax, mat, vm, cmap, xlabels, ylabels)
            ax.set_title(title, fontsize=7.5)
            fig.colorbar(im, ax=ax, shrink=0.85)
        log.info("%s rank %d (%s, %.4f): max |diff| %.4g", model, rank, pattern, frac, dmax)
    fig.suptitle(
        f"{model}: affine map y = C x + c per activation region vs the linear approximation "
        "(f(A0): the map at the centre)",
        fontsize=9,
    )
    plotting.save_figure(fig, *out)


def plot_radius(df: pd.DataFrame, out: list[str], log) -> None:
    fig, ax = plotting.new_figure(width=4.4, height=3.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    markers = {"linear_1st": "o", "linear_2nd": "s"}
    for i, (method, g) in enumerate(df.groupby("method", sort=False)):
        q = g.groupby("radius")["test_mae"].agg(["median", "min", "max"]).reset_index()
        color = f"C{i}"
        if method in markers:
            fit = la.scaling_exponent(g["radius"], g["test_mae"])
            label = f"{method} (slope {fit['slope']:.2f} ± {fit['slope_stderr']:.2f})"
            ax.plot(q["radius"], q["median"], marker=markers[method], color=color, label=label, ms=3.5)
            log.info(
                "%s: fitted exponent %.4f ± %.4f (%d points)",
                method,
                fit["slope"],
                fit["slope_stderr"],
                fit["n"],
            )
        else:
            seeds = g.groupby("radius")["seed_index"].nunique().max()
            plotting.seed_band(
                ax, q["radius"], q["median"], q["min"], q["max"], f"{method} ({seeds} seeds)", color
            )
            ax.plot(q["radius"], q["median"], marker="^", ms=3.5, color=color, linestyle="none")
    ax.set_xlabel("box half-width c")
    ax.set_ylabel("test average abs. error")
    ax.set_title("Error vs radius: linear approximation and MLPs")
    ax.legend(loc="upper left")
    plotting.save_figure(fig, *out)


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    sub = p.add_subparsers(dest="figure", required=True)
    for name, help_ in (
        ("regions", "regions CSV of ji_linapprox_regions.py"),
        ("coefficients", "coefficients CSV of ji_linapprox_regions.py"),
        ("radius", "CSV with dataset, radius, method, seed_index, test_mae"),
    ):
        s = sub.add_parser(name)
        s.add_argument("csv", nargs="+", help=help_)
        s.add_argument("--out", nargs="+", required=True, help="PNG and/or PDF paths")
        if name == "coefficients":
            s.add_argument("--model", help="model (file stem) to show; default: the first in the CSV")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    # pattern ids are strings of 0/1: keep their leading zeros
    df = pd.concat([io.read_csv(f, dtype={"pattern": str}) for f in args.csv], ignore_index=True)
    if args.figure == "regions":
        plot_regions(df, args.out, log)
    elif args.figure == "coefficients":
        plot_coefficients(df, args.model, HIGHLIGHT, args.out, log)
    else:
        missing = {"radius", "method", "seed_index", "test_mae"} - set(df.columns)
        if missing:
            p.error(f"radius CSV lacks columns {sorted(missing)}")
        plot_radius(df, args.out, log)


if __name__ == "__main__":
    main()
