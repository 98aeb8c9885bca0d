"""Figures of the Theorem 1 stage (Gai & Zhang), drawn from the result CSVs only.

    python scripts/plot_gz_theorem1.py residual-vs-d results/gz/theorem1/theorem1_d*.csv \
        --settings '{"rel_tol": 1e-8}' \
        --out figures/gz_theorem1_residual_vs_d.png figures/gz_theorem1_residual_vs_d.pdf
    python scripts/plot_gz_theorem1.py alpha-heatmap results/gz/theorem1/theorem1_d*.csv --out ...
    python scripts/plot_gz_theorem1.py near-singular results/gz/theorem1/near_singular_d8.csv \
        --settings '{"rel_tol": 1e-8}' --out ...
    python scripts/plot_gz_theorem1.py mpmath results/gz/theorem1/mpmath.csv \
        --settings '{"rel_tol": 1e-8, "mp_rel_tol": 1e-40}' --out ...
    python scripts/plot_gz_theorem1.py depth results/gz/theorem1/depth_d*.csv --out ...

rel_tol is gz.theorem1.rel_tol and mp_rel_tol gz.theorem1.mpmath.rel_tol (tolerance lines only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnmat import cli, io, plotting

EPS = np.finfo(float).eps
MODEL_LABELS = {
    "one_layer_lstsq": "1 layer, least squares (eq. 8)",
    "one_layer_single_equation": "1 layer, eq. 1 only: W = Y1 X1^-1",
    "two_layer_linear_als": "2 linear layers W2 W1, ALS (eq. 9)",
    "two_layer_linear_single_equation": "2 linear layers, eq. 1 only",
    "three_layer_exp": "3 layers, exp activation (Thm. 1)",
}


@dataclass(frozen=True)
class ToleranceSettings:
    """residual-vs-d and near-singular: the float64 tolerance line."""

    rel_tol: float


@dataclass(frozen=True)
class MpmathFigureSettings:
    """mpmath: the float64 and the high-precision tolerance lines."""

    rel_tol: float
    mp_rel_tol: float


# figure -> (settings class or None, help)
FIGURES = {
    "residual-vs-d": (ToleranceSettings, "float64 residual against d (theorem1_d*.csv)"),
    "alpha-heatmap": (None, "alpha x d heatmap of the median log10 residual (theorem1_d*.csv)"),
    "near-singular": (ToleranceSettings, "residual and identities against cond(X1 - X2)"),
    "mpmath": (MpmathFigureSettings, "float64 against high precision (mpmath.csv)"),
    "depth": (None, "residual of each equation for each depth (depth_d*.csv)"),
}


def _clip(v, lo=1e-18):
    """Exact zeros cannot be drawn on a log axis: show them at `lo`."""
    return np.maximum(np.asarray(v, dtype=float), lo)


def _amplification(df: pd.DataFrame) -> pd.Series:
    """Rounding amplification of the two exp cancellations (see nnmat.gz.theorem1): outer + inner."""
    return df["amplification"] + df["amplification_inner"]


def residual_vs_d(df: pd.DataFrame, rel_tol: float, out: list[str]) -> None:
    fig, (ax, ax2) = plotting.new_figure(ncols=2, width=3.6, height=3.0)
    ymax = np.nanmax(df["rel_residual_max"].to_numpy()) if df["rel_residual_max"].notna().any() else 1.0
    top = 10 ** np.ceil(np.log10(max(ymax, 1.0)) + 1)
    for alpha, g in df.groupby("alpha", sort=True):
        q = (
            g.groupby("d")["rel_residual_max"]
            .quantile([0.1, 0.5, 0.9])
            .unstack()
            .reindex(sorted(g["d"].unique()))
        )
        flagged = g[g["status"] != "ok"]
        label = f"α = {alpha:g}" + (f" ({len(flagged)} flagged)" if len(flagged) else "")
        line = plotting.seed_band(ax, q.index, _clip(q[0.5]), _clip(q[0.1]), _clip(q[0.9]), label=label)
        nan_rows = g[g["rel_residual_max"].isna()]
        if len(nan_rows):  # no residual: drawn at the top edge
            ax.plot(nan_rows["d"], np.full(len(nan_rows), top), "x", color=line.get_color(), ms=6, mew=1.5)
        ok = g[g["rel_residual_max"].notna()]
        ax2.loglog(_amplification(ok), _clip(ok["rel_residual_max"]), ".", color=line.get_color(), ms=4)
    ax.axhline(rel_tol, color="k", ls="--", lw=0.9, label=f"rel_tol = {rel_tol:g}")
    ax.axhline(top, color="0.6", lw=0.5)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("max_k ||f(X_k) - Y_k||_F / ||Y_k||_F")
    ax.set_title("Theorem 1 in float64: median, 10-90 % over trials")
    ax.legend(loc="upper left", ncol=1, fontsize=6.5)
    ax.text(
        0.99,
        0.02,
        "x at top: flagged, no residual",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=6.5,
    )
    amp = _amplification(df[df["rel_residual_max"].notna()]).dropna()
    if len(amp):
        xs = np.logspace(np.log10(amp.min()), np.log10(amp.max()), 10)
        ax2.loglog(xs, EPS * xs, "k--", lw=0.9, label="ε · amplification")
    ax2.axhline(rel_tol, color="k", ls=":", lw=0.9)
    ax2.set_xlabel("rounding amplification (outer + inner)")
    ax2.set_ylabel("rel. residual (max over k)")
    ax2.set_title("Where float64 accuracy goes (all d)")
    ax2.legend(loc="upper left")
    plotting.save_figure(fig, *out)


def alpha_heatmap(df: pd.DataFrame, out: list[str]) -> None:
    med = df.assign(lg=np.log10(_clip(df["rel_residual_max"]))).pivot_table(
        index="alpha", columns="d", values="lg", aggfunc="median"
    )
    flagged = df.assign(f=df["status"] != "ok").pivot_table(
        index="alpha", columns="d", values="f", aggfunc="sum"
    )
    fig, ax = plotting.new_figure(width=4.8, height=3.2)
    im = ax.imshow(med.to_numpy(), cmap="viridis_r", aspect="auto", vmin=-16, vmax=max(0.0, np.nanmax(med)))
    ax.grid(False)
    ax.set_xticks(range(med.shape[1]), [str(c) for c in med.columns])
    ax.set_yticks(range(med.shape[0]), [f"{a:g}" for a in med.index])
    for i in range(med.shape[0]):
        for j in range(med.shape[1]):
            v, nf = med.iat[i, j], int(flagged.iat[i, j])
            txt = ("—" if np.isnan(v) else f"{v:.1f}") + (f"\n{nf} fl." if nf else "")
            ax.text(j, i, txt, ha="center", va="center", fontsize=6.5, color="w" if v > -6 else "k")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("α")
    ax.set_title("Theorem 1, float64: median log10 residual")
    fig.colorbar(im, ax=ax, label="median log10 max_k rel. residual")
    plotting.save_figure(fig, *out)


def near_singular(df: pd.DataFrame, rel_tol: float, out: list[str]) -> None:
    fig, ax = plotting.new_figure(width=5.0, height=4.4)
    series = [
        ("rel_residual_max", "residual max_k ||f(X_k)-Y_k||/||Y_k||", "o"),
        ("eq25_rel_err", "eq. 25: W1 X1 - W1 X2 = ln α I", "s"),
        ("expz_rel_err", "exp(Z) = α Y1^-1 Y2 (logm)", "^"),
        ("eq31_rel_err", "eq. 31: W2 exp(W1 X1) = α/(1-α)(Z - ln α I)", "v"),
        ("commutator_rel", "[W2 exp(W1 X1), Z] = 0", "d"),
    ]
    x = df["cond_x1_minus_x2"]
    for col, label, marker in series:
        ok = df[col].notna()
        (pts,) = ax.loglog(x[ok], _clip(df.loc[ok, col]), marker, ms=3.5, alpha=0.7, label=label)
        med = df[ok].groupby("cond_target").agg(x=("cond_x1_minus_x2", "median"), y=(col, "median"))
        ax.loglog(med["x"], _clip(med["y"]), "-", color=pts.get_color(), lw=0.9)
    flagged = df[df["status"] != "ok"]
    nores = df[df["rel_residual_max"].isna()]
    if len(nores):
        ax.loglog(
            nores["cond_x1_minus_x2"],
            np.full(len(nores), 1e2),
            "kx",
            ms=6,
            label=f"no residual ({len(nores)})",
        )
    ax.axhline(rel_tol, color="k", ls="--", lw=0.9, label=f"rel_tol = {rel_tol:g}")
    xs = np.logspace(0, np.log10(max(x.max(), 10.0)), 20)
    ax.loglog(xs, EPS * xs, color="0.5", ls=":", lw=0.9, label="ε · cond(X1 - X2)")
    reasons = sorted({r for r in flagged["reason"].fillna("") if r})
    d, alpha = int(df["d"].iloc[0]), float(df["alpha"].iloc[0])
    flags = f"flagged: {len(flagged)}" + (f" ({', '.join(reasons)})" if reasons else "")
    ax.set_title(f"Near-singular X1 - X2 (d = {d}, α = {alpha:g})\n{flags}", fontsize=8.5)
    ax.set_xlabel("measured 2-norm cond(X1 - X2)")
    ax.set_ylabel("relative error (Frobenius)")
    fig.legend(loc="outside lower center", ncol=2, fontsize=6)
    plotting.save_figure(fig, *out)


def mpmath_fig(df: pd.DataFrame, rel_tol: float, mp_rel_tol: float, out: list[str]) -> None:
    fig, ax = plotting.new_figure(width=4.2, height=3.2)
    alphas = sorted(df["alpha"].unique())
    width = 0.25
    for i, alpha in enumerate(alphas):
        g = df[df["alpha"] == alpha]
        off = (i - (len(alphas) - 1) / 2) * width / max(len(alphas) - 1, 1)
        (p1,) = ax.semilogy(
            g["d"] + off,
            _clip(g["float64_rel_residual_max"], 1e-60),
            "o",
            ms=4,
            label=f"float64, α = {alpha:g}",
        )
        ax.semilogy(
            g["d"] + off,
            _clip(g["rel_residual_max"], 1e-60),
            "*",
            ms=6,
            color=p1.get_color(),
            label=f"mpmath {int(g['dps'].iloc[0])} digits, α = {alpha:g}",
        )
    ax.axhline(rel_tol, color="k", ls="--", lw=0.9, label=f"float64 rel_tol = {rel_tol:g}")
    ax.axhline(mp_rel_tol, color="k", ls=":", lw=0.9, label=f"mpmath rel_tol = {mp_rel_tol:g}")
    ax.set_xticks(sorted(df["d"].unique()))
    ax.set_xlabel("dimension d")
    ax.set_ylabel("max_k ||f(X_k) - Y_k||_F / ||Y_k||_F")
    ax.set_title("Theorem 1: float64 vs mpmath, same problems")
    ax.legend(fontsize=6, loc="center right")
    plotting.save_figure(fig, *out)


def depth_fig(df: pd.DataFrame, out: list[str]) -> None:
    fig, axes = plotting.new_figure(ncols=2, width=3.4, height=3.0, sharey=True)
    for ax, col, eq in zip(
        axes, ("rel_residual_1", "rel_residual_2"), ("1: f(X1) = Y1", "2: f(X2) = Y2"), strict=True
    ):
        for model, label in MODEL_LABELS.items():
            g = df[df["model"] == model]
            q = g.groupby("d")[col].quantile([0.1, 0.5, 0.9]).unstack()
            ls = "--" if model == "two_layer_linear_als" else "-"
            line = plotting.seed_band(ax, q.index, _clip(q[0.5]), _clip(q[0.1]), _clip(q[0.9]), label=label)
            line.set_linestyle(ls)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("dimension d")
        ax.set_title(f"equation {eq} (median, 10-90 %)")
    alpha = df.loc[df["model"] == "three_layer_exp", "alpha"].dropna()
    axes[0].set_ylabel("||f(X_k) - Y_k||_F / ||Y_k||_F")
    axes[1].legend(
        loc="center right", fontsize=6, title=f"exp net at α = {alpha.iloc[0]:g}" if len(alpha) else None
    )
    plotting.save_figure(fig, *out)


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    figures = p.add_subparsers(dest="figure", required=True, metavar="FIGURE")
    for name, (settings_class, help_text) in FIGURES.items():
        f = figures.add_parser(name, help=help_text, description=help_text)
        f.add_argument("csvs", nargs="+", help="result CSVs of the Theorem 1 stage (results/gz/theorem1)")
        if settings_class is not None:
            cli.add_settings(f, settings_class)
        f.add_argument("--out", nargs="+", required=True, help="PNG and/or PDF paths")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    df = io.read_csvs(args.csvs)
    log.info("%s: %d rows from %d CSVs", args.figure, len(df), len(args.csvs))
    if args.figure == "residual-vs-d":
        residual_vs_d(df, args.settings.rel_tol, args.out)
    elif args.figure == "alpha-heatmap":
        alpha_heatmap(df, args.out)
    elif args.figure == "near-singular":
        near_singular(df, args.settings.rel_tol, args.out)
    elif args.figure == "mpmath":
        mpmath_fig(df, args.settings.rel_tol, args.settings.mp_rel_tol, args.out)
    else:
        depth_fig(df, args.out)


if __name__ == "__main__":
    main()
