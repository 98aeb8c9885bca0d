r"""Figures of the LMD stage (Shyh-Chang, Luo & Qiu), from the CSVs of lmd_analyse.py only.

    python scripts/plot_lmd.py spectra results/lmd/svd_*.csv \
        --out figures/lmd_singular_values.png figures/lmd_singular_values.pdf
    python scripts/plot_lmd.py truncation results/lmd/truncation_*.csv \
        --out figures/lmd_error_vs_rank.png figures/lmd_error_vs_rank.pdf
    python scripts/plot_lmd.py laplacian results/lmd/laplacian_*.csv --settings '{"figure_bandwidth": 1.0}' \
        --out figures/lmd_laplacian_spectra.png figures/lmd_laplacian_spectra.pdf
    python scripts/plot_lmd.py angles results/lmd/angles_*.csv \
        --out figures/lmd_principal_angles.png figures/lmd_principal_angles.pdf

spectra     s_i / s_1 of every [W | b] against i (log y), one panel per dataset, one colour per
            (architecture, layer), seeds in the same colour
truncation  output deviation of the truncated network from the untruncated one against the rank k of the
            truncated [W | b] (log y); top row one layer truncated at a time, bottom row all layers at
            once; solid: trained models, dashed: their random-weight nulls (network = random); dots: the
            latent dimension n', dotted: lmd.output_tolerance and n^2
laplacian   the smallest eigenvalues of L = D - A (eigenvalue 0 left out; relative to the largest),
            kNN graph (top row) and Gaussian graph at one bandwidth (bottom row: the setting
            figure_bandwidth = config lmd.figure_bandwidth, a multiple of the median distance that should be
            one of lmd.bandwidths), one colour per space
angles      largest principal angle between the Laplacian eigenmap and the PCA subspace against the
            Gaussian bandwidth (multiple of the median distance): random-walk eigenmap (solid, median over
            models with min-max band), unnormalized L (dashed), kNN graph (dotted, flat), one colour per
            space; for the smallest subspace dimension m in the CSVs (the pipeline writes one:
            lmd.subspace_dim)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from nnmat import cli, io, plotting

SPACE_ORDER = ("input", "hidden_1", "hidden_2", "hidden_3", "output")


@dataclasses.dataclass(frozen=True)
class LaplacianFigureSettings:
    """The settings of the laplacian figure (config `lmd.figure_bandwidth`)."""

    figure_bandwidth: float  # the Gaussian graph shown: bandwidth as a multiple of the median distance

    def __post_init__(self) -> None:
        value = self.figure_bandwidth
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"settings key 'figure_bandwidth' must be a positive number, got {value!r}")
        object.__setattr__(self, "figure_bandwidth", float(value))


def _datasets(df: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(df["dataset"]))


def _colours(keys) -> dict:
    return {k: f"C{i % 10}" for i, k in enumerate(keys)}


def _space_colours(spaces) -> dict:
    ordered = [s for s in SPACE_ORDER if s in set(spaces)] + sorted(set(spaces) - set(SPACE_ORDER))
    return _colours(ordered)


def _log_x_if_wide(ax, kmax: float, linear_until: float = 64) -> None:
    """Ranks span 0..2048 for the 16 x 16 networks: symlog keeps k = 0 visible and spreads the decades."""
    if kmax > linear_until:
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(left=0, right=kmax * 1.3)


def plot_spectra(df: pd.DataFrame, out: list[str], log) -> None:
    df = df[df["sigma"].notna()]
    datasets = _datasets(df)
    fig, axes = plotting.new_figure(ncols=len(datasets), width=3.6, height=3.0, squeeze=False)
    for ax, ds in zip(axes[0], datasets, strict=True):
        sub = df[df["dataset"] == ds]
        groups = list(dict.fromkeys(zip(sub["arch"], sub["layer"], strict=True)))
        colours = _colours(groups)
        labelled = set()
        for (_, layer), g in sub.groupby(["model", "layer"], sort=False):
            key = (g["arch"].iloc[0], layer)
            y = np.where(g["sigma_rel"] > 0, g["sigma_rel"], np.nan)
            label = (
                None
                if key in labelled
                else f"{key[0]} layer {layer} ({g['rows'].iloc[0]}x{g['cols'].iloc[0]})"
            )
            labelled.add(key)
            ax.plot(g["i"], y, color=colours[key], lw=0.9, alpha=0.8, label=label)
        ax.set_yscale("log")
        if sub["i"].max() > 64:
            ax.set_xscale("log")
        ax.set_title(f"{ds} (n = {sub['n'].iloc[0]})")
        ax.set_xlabel("index i")
        ax.legend(loc="lower left", fontsize=6)
        log.info("%s: %d layers of %d models", ds, len(groups), sub["model"].nunique())
    axes[0, 0].set_ylabel(r"$\sigma_i / \sigma_1$ of $[W \mid b]$")
    plotting.save_figure(fig, *out)


def plot_truncation(df: pd.DataFrame, out: list[str], log) -> None:
    datasets = _datasets(df)
    fig, axes = plotting.new_figure(ncols=len(datasets), nrows=2, width=3.6, height=2.9, squeeze=False)
    for col, ds in enumerate(datasets):
        sub = df[df["dataset"] == ds]
        n_sq = int(sub["n"].iloc[0]) ** 2
        tol = float(sub["output_tolerance"].iloc[0])
        for row, mode in enumerate(("one_layer", "all_layers")):
            ax = axes[row, col]
            part = sub[sub["mode"] == mode]
            groups = list(dict.fromkeys(zip(part["arch"], part["layer"], strict=True)))
            colours = _colours(groups)
            labelled = set()
            for (_, _, net), g in part.groupby(["model", "layer", "network"], sort=False):
                g = g.sort_values("k")
                key = (g["arch"].iloc[0], int(g["layer"].iloc[0]))
                name = key[0] if mode == "all_layers" else f"{key[0]} layer {key[1]}"
                random = net == "random"
                label = None if key in labelled or random else name
                ax.plot(g["k"], g["output_deviation"], color=colours[key], lw=0.9,
                        alpha=0.5 if random else 0.8, ls="--" if random else "-", label=label)  # fmt: skip
                labelled.add(key)
                lat = g[g["is_latent_dim"]]
                ax.plot(lat["k"], lat["output_deviation"], "o", color=colours[key], ms=3.5, mec="black",
                        mew=0.4, mfc="none" if random else colours[key])  # fmt: skip
            ax.axhline(tol, color="grey", ls=":", lw=0.9)
            ax.axvline(n_sq, color="grey", ls=":", lw=0.9)
            ax.annotate(r"$n^2$", (n_sq, 1.0), textcoords="offset points", xytext=(2, -10), fontsize=7)
            ax.set_yscale("log")
            _log_x_if_wide(ax, part["k"].max())
            ax.set_title(f"{ds}: {'one layer truncated' if mode == 'one_layer' else 'all layers truncated'}")
            ax.set_xlabel("rank k of the truncated [W | b]")
            ax.legend(fontsize=6, loc="best")
            lat_all = part[part["is_latent_dim"] & (part["network"] == "trained")]
            log.info("%s %s: latent dims %s", ds, mode,
                     lat_all.groupby(["arch", "layer"])["k"].agg(list).to_dict())  # fmt: skip
        axes[0, col].set_ylabel("output deviation from the full network")
        axes[1, col].set_ylabel("output deviation from the full network")
    plotting.save_figure(fig, *out)


def plot_laplacian(df: pd.DataFrame, bandwidth_mult: float, out: list[str], log) -> None:
    df = df[(df["eig_index"] >= 1) & df["value_rel"].notna()]
    datasets = _datasets(df)
    fig, axes = plotting.new_figure(ncols=len(datasets), nrows=2, width=3.6, height=2.8, squeeze=False)
    colours = _space_colours(df["space"])
    for col, ds in enumerate(datasets):
        sub = df[df["dataset"] == ds]
        knn = sub[sub["graph"] == "knn"]
        gauss = sub[(sub["graph"] == "gauss") & np.isclose(sub["bandwidth_mult"], bandwidth_mult)]
        if gauss.empty:
            log.warning("%s: no Gaussian graph at bandwidth %g x median (have %s): bottom panel empty", ds,
                        bandwidth_mult, sorted(sub["bandwidth_mult"].dropna().unique()))  # fmt: skip
        knn_k = int(knn["knn_k"].iloc[0]) if len(knn) else "?"
        panels = ((knn, f"kNN graph (k = {knn_k})"),
                  (gauss, f"Gaussian graph, h = {bandwidth_mult:g} x median dist."))  # fmt: skip
        for row, (part, title) in enumerate(panels):
            ax = axes[row, col]
            labelled = set()
            for (_, space), g in part.groupby(["model", "space"], sort=False):
                ax.plot(g["eig_index"], g["value_rel"], color=colours[space], lw=0.8, alpha=0.7,
                        label=None if space in labelled else space)  # fmt: skip
                labelled.add(space)
            ax.set_yscale("log")
            ax.set_title(f"{ds}: {title}", fontsize=8.5)
            ax.set_xlabel("eigenvalue index j (j = 0 left out)")
            ax.set_ylabel(r"$\lambda_j / \lambda_{max}$ of $L = D - A$")
            handles, labels = ax.get_legend_handles_labels()
            order = sorted(range(len(labels)), key=lambda i: _space_colours(labels)[labels[i]])
            ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=6, loc="lower right")
            if len(part):
                small = part.drop_duplicates(["model", "space"])[["space", "n_small", "n_components"]]
                log.info("%s %s: small eigenvalues / components per space:\n%s", ds, title,
                         small.groupby("space")[["n_small", "n_components"]].agg(["min", "max"]))  # fmt: skip
    plotting.save_figure(fig, *out)


def plot_angles(df: pd.DataFrame, out: list[str], log) -> None:
    df = df[df["max_angle_deg"].notna()]
    m = int(df["m"].min())
    df = df[df["m"] == m]
    datasets = _datasets(df)
    fig, axes = plotting.new_figure(ncols=len(datasets), width=3.8, height=3.2, squeeze=False)
    colours = _space_colours(df["space"])
    for ax, ds in zip(axes[0], datasets, strict=True):
        sub = df[df["dataset"] == ds]
        spaces = [s for s in colours if s in set(sub["space"])]
        for space in spaces:
            sp_ = sub[sub["space"] == space]
            gauss = sp_[sp_["graph"] == "gauss"]
            for problem, ls in (("random_walk", "-"), ("unnormalized", "--")):
                q = gauss[gauss["laplacian"] == problem].groupby("bandwidth_mult")["max_angle_deg"]
                stats = q.agg(["median", "min", "max"]).sort_index()
                x = stats.index.to_numpy()
                if problem == "random_walk":
                    plotting.seed_band(ax, x, stats["median"], stats["min"], stats["max"], label=None,
                                       color=colours[space])  # fmt: skip
                else:
                    ax.plot(x, stats["median"], ls=ls, color=colours[space], lw=1.0)
                if problem == "random_walk":
                    log.info("%s %s m=%d random-walk angle (median deg) by bandwidth: %s", ds, space, m,
                             stats["median"].round(2).to_dict())  # fmt: skip
            knn = sp_[(sp_["graph"] == "knn") & (sp_["laplacian"] == "unnormalized")]["max_angle_deg"]
            if len(knn):
                ax.axhline(knn.median(), color=colours[space], ls=":", lw=1.0)
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 92)
        ax.set_yticks([0, 15, 30, 45, 60, 75, 90])
        ax.set_xlabel("Gaussian bandwidth h / median distance")
        ax.set_title(f"{ds}: eigenmap vs PCA, m = {m}")
        handles = [Line2D([], [], color=colours[s], label=s) for s in spaces]
        handles += [Line2D([], [], color="black", ls=ls, label=lab) for ls, lab in
                    (("-", "L v = l D v (random walk)"), ("--", "L v = l v (unnormalized)"),
                     (":", "kNN graph, L v = l v"))]  # fmt: skip
        if ax is axes[0, -1]:
            ax.legend(handles=handles, fontsize=6, loc="center right")
    axes[0, 0].set_ylabel("largest principal angle (deg)")
    plotting.save_figure(fig, *out)


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    sub = p.add_subparsers(dest="figure", required=True)
    for name, help_ in (
        ("spectra", "svd CSVs"),
        ("truncation", "truncation CSVs"),
        ("laplacian", "laplacian CSVs"),
        ("angles", "angles CSVs"),
    ):
        s = sub.add_parser(name)
        s.add_argument("csv", nargs="+", help=help_)
        s.add_argument("--out", nargs="+", required=True, help="PNG and/or PDF paths")
        if name == "laplacian":
            cli.add_settings(s, LaplacianFigureSettings)
    args = p.parse_args(argv)
    log = cli.setup_logging()
    df = pd.concat([io.read_csv(f) for f in args.csv], ignore_index=True)
    if df.empty:
        p.error("no rows in the input CSVs")
    if args.figure != "truncation" and "network" in df.columns:  # the random nulls: truncation figure only
        df = df[df["network"] == "trained"]
    if args.figure == "spectra":
        plot_spectra(df, args.out, log)
    elif args.figure == "truncation":
        plot_truncation(df, args.out, log)
    elif args.figure == "laplacian":
        plot_laplacian(df, args.settings.figure_bandwidth, args.out, log)
    else:
        plot_angles(df, args.out, log)


if __name__ == "__main__":
    main()
