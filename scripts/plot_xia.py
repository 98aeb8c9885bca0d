"""Figures of the Xia stage, drawn from the result CSVs only (no recomputation).

    python scripts/plot_xia.py cond_vs_n results/xia/*.csv results/tables/xia_*.csv \
        --out figures/xia_cond_vs_n.png figures/xia_cond_vs_n.pdf
Inputs are recognised by file stem: result CSVs (cond_1d, ...) and tables (xia_*).
Figures: cond_vs_n, eigen_decay, modes, offdiag_ranks, cg_iterations, solver_time_accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnmat import cli, io, plotting

FAMILY_LABEL = {
    "uniform_1d": "1D uniform",
    "random_1d": "1D random, mixed +-1",
    "random_plus_1d": "1D random, all +1",
    "2d": "2D square",
    "wishart": "null: random SPD (Wishart)",
    "hat_mass": "null: hat mass matrix",
}
MARK = {"A": "o", "H": "s", "W": "^", "M": "v"}
COLORS = {
    "dense_cholesky": "C3",
    "hodlr_cholesky": "C0",
    "hodlr_woodbury": "C2",
    "hat_On": "C1",
    "normal_equations": "C7",
}


def _band(ax, d, label, color, marker):
    g = d.groupby("n")["cond"]
    n = np.array(sorted(d.n.unique()))
    med, lo, hi = g.median().loc[n], g.min().loc[n], g.max().loc[n]
    line = plotting.seed_band(ax, n, med, lo, hi, label=label, color=color)
    line.set_marker(marker)
    line.set_markersize(3)


def cond_vs_n(r, t, out):
    fig, axes = plotting.new_figure(ncols=3, width=3.4, height=2.9)
    ax = axes[0]
    fit = t["xia_cond_fit"].set_index(["family", "matrix"])
    c = r["cond_1d"]
    for m, color in (("A", "C0"), ("H", "C1")):
        d = c[c.matrix == m]
        f = fit.loc[("uniform_1d", m)]
        ax.loglog(
            d.n,
            d.cond,
            MARK[m],
            color=color,
            ms=4,
            label=f"cond({m}): slope {f.exponent:.3f} [{f.ci_lo:.3f}, {f.ci_hi:.3f}]",
        )
        nn = np.array([f.n_min, f.n_max], float)
        ax.loglog(nn, f.prefactor * nn**f.exponent, "-", color=color, lw=0.9)
        ax.loglog(d.n, d.cond_naive, "x", color=color, ms=5, label=f"cond({m}), plain float64 eigvalsh")
    ax.set(xlabel="n (units)", ylabel="2-norm condition number", title="1D uniform breakpoints")
    ax.legend(loc="upper left")
    ax = axes[1]
    colors = {("random_1d", "A"): "C2", ("random_1d", "H"): "C9", ("2d", "A"): "C3", ("2d", "H"): "C5"}
    for fam, key in (("random_1d", "cond_random_1d"), ("2d", "cond_2d")):
        d = r[key]
        for m in ("A", "H"):
            dd = d[(d.matrix == m) & (d.reliable == 1)]
            if len(dd):
                f = fit.loc[(fam, m)]
                slope = f"slope {f.exponent:.2f}" if np.isfinite(f.exponent) else "too few reliable n"
                _band(ax, dd, f"{FAMILY_LABEL[fam]}, {m} ({slope})", colors[(fam, m)], MARK[m])
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="n (units)",
        ylabel="condition number",
        title="variants: median, band = min..max over draws",
    )
    ax.legend(loc="upper left")
    ax = axes[2]
    for m, color in (("A", "C0"), ("H", "C1")):
        d = c[(c.matrix == m) & c.naive_rel_err_lambda_min.notna()]
        ax.loglog(
            d.n,
            np.maximum(d.naive_rel_err_lambda_min, 1e-17),
            "x-",
            color=color,
            label=f"plain float64, {m} (vs reformulation)",
        )
        mp = r["cond_mpmath"][r["cond_mpmath"].matrix == m]
        ax.loglog(
            mp.n,
            np.maximum(mp.rel_err_ours, 1e-17),
            MARK[m],
            color=color,
            mfc="none",
            label=f"reformulation, {m} (vs mpmath)",
        )
    ax.set(xlabel="n (units)", ylabel="relative error of lambda_min", title="how lambda_min is obtained")
    ax.legend(loc="upper left")
    plotting.save_figure(fig, *out)


def eigen_decay(r, t, out):
    fig, axes = plotting.new_figure(ncols=2, width=3.4, height=2.8)
    e = r["spectrum"]
    for ax, m in zip(axes, ("A", "H"), strict=True):
        for fam, color in (("uniform_1d", "C0"), ("random_1d", "C2"), ("2d", "C3")):
            d = e[(e.family == fam) & (e.matrix == m)]
            ok = d.resolvable == 1
            ax.semilogy(d.k[ok], d.eigenvalue_rel[ok], "-", color=color, label=FAMILY_LABEL[fam])
            ax.semilogy(d.k[~ok], np.abs(d.eigenvalue_rel[~ok]), ":", color=color)
        n = int(e.n.iloc[0])
        ax.set(
            xlabel="k (eigenvalue index, descending)",
            ylabel="lambda_k / lambda_1",
            title=f"{m}: eigenvalue decay, n = {n}",
        )
        ax.legend(loc="lower left")
    plotting.save_figure(fig, *out)


def modes(r, t, out):
    fig, axes = plotting.new_figure(ncols=2, nrows=2, width=3.4, height=2.3)
    md = r["modes"]
    md = md[(md.family == "uniform_1d") & (md["rank"] == 1)]
    for j, m in enumerate(("A", "H")):
        for i, which in enumerate(("largest", "smallest")):
            ax = axes[i, j]
            d = md[(md.matrix == m) & (md.which == which)]
            lw = 0.8 if which == "largest" else 0.25
            ax.plot(d.i, d.coefficient, ".-", lw=lw, ms=1.5, color="C0" if which == "largest" else "C3")
            ax.set(
                xlabel="unit i (breakpoint (i-1)/n)",
                ylabel="eigenvector entry",
                title=f"{m}, {which} eigenvalue ({d.eigenvalue.iloc[0]:.2e})\n"
                f"{d.sign_changes.iloc[0]} sign changes",
            )
    plotting.save_figure(fig, *out)


def offdiag_ranks(r, t, out):
    fig, axes = plotting.new_figure(ncols=2, width=3.4, height=2.9)
    k = t["xia_ranks"]
    ax = axes[0]
    for (fam, m), d in k.groupby(["family", "matrix"], sort=True):
        d = d[d.n == d.n.max()].sort_values("tol")
        ax.semilogx(
            d.tol,
            d.max_rank,
            MARK[m] + "-",
            ms=3,
            label=f"{FAMILY_LABEL[fam]}, {m} (n={d.n.iloc[0]}, block {d.max_block_size.iloc[0]})",
        )
    ax.set(
        xlabel="relative tolerance (sigma_k > tol sigma_1)",
        ylabel="max numerical rank, all levels",
        yscale="symlog",
        title="off-diagonal ranks vs tolerance",
    )
    ax.invert_xaxis()
    ax.legend(loc="center right", fontsize=6)
    ax = axes[1]
    d2 = k[k.family == "2d"]
    for (m, tol), d in d2.groupby(["matrix", "tol"], sort=True):
        if tol in (1e-2, 1e-4, 1e-6, 1e-8):
            ax.loglog(d.n, d.max_rank, MARK[m] + "-", ms=3, label=f"2D {m}, tol {tol:.0e}")
    if len(d2):
        nn = np.array(sorted(d2.n.unique()), float)
        ax.loglog(nn, nn / 2, "k:", lw=0.8, label="full rank (n/2)")
    ax.set(xlabel="n (units)", ylabel="max numerical rank", title="2D (angle ordering): rank vs n")
    ax.legend(loc="upper left", ncol=2, fontsize=6)
    plotting.save_figure(fig, *out)


def cg_iterations(r, t, out):
    c = t["xia_cg"]
    fams = [f for f in ("uniform_1d", "random_plus_1d", "random_1d", "2d") if f in set(c.family)]
    fig, axes = plotting.new_figure(ncols=len(fams), width=2.8, height=2.8)
    axes = np.atleast_1d(axes)
    colors = {"none": "C7", "jacobi": "C1", "hat": "C0"}
    for ax, fam in zip(axes, fams, strict=True):
        for p, d in c[c.family == fam].groupby("preconditioner", sort=True):
            ax.loglog(d.n, d.iterations_median, "-", color=colors.get(p), label=p)
            conv = d.converged_fraction == 1
            ax.loglog(d.n[conv], d.iterations_median[conv], "o", color=colors.get(p), ms=3)
            ax.loglog(d.n[~conv], d.iterations_median[~conv], "o", mfc="none", color=colors.get(p), ms=4)
        nn = np.array(sorted(c.n.unique()), float)
        ax.loglog(nn, nn, "k:", lw=0.8, label="n")
        ax.set(xlabel="n (units)", ylabel="CG iterations (median over draws)", title=FAMILY_LABEL[fam])
        ax.set_ylim(top=ax.get_ylim()[1] * 30)
        ax.legend(loc="upper left", title="open: not all converged", fontsize=6, title_fontsize=6, ncol=2)
    plotting.save_figure(fig, *out)


def solver_time_accuracy(r, t, out):
    fig, axes = plotting.new_figure(ncols=2, width=3.5, height=2.9)
    tim, acc = t["xia_solver_timing"], t["xia_solver"]
    colors = COLORS
    ax = axes[0]
    for m, d in tim.groupby("method", sort=True):
        ok = d[d.status == "ok"]
        ax.loglog(ok.n, ok.total_s, "o-", ms=3, color=colors.get(m), label=f"{m} (assemble+factor+solve)")
        ax.loglog(ok.n, ok.factor_solve_s, "x--", ms=3, lw=0.7, color=colors.get(m))
        bad = d[d.status != "ok"]
        if len(bad):
            ax.loglog(
                bad.n, bad.total_s, "X", ms=7, color=colors.get(m), label=f"{m}: failed (not PD in float64)"
            )
    nn = np.array(sorted(tim.n.unique()), float)
    ref = tim[tim.method == "hodlr_cholesky"].total_s.max()
    ax.loglog(
        nn, ref * (nn / nn.max()) * np.log2(nn) ** 2 / np.log2(nn.max()) ** 2, "k:", lw=0.8, label="n log^2 n"
    )
    ax.set(
        xlabel="n (units)",
        ylabel="wall time (s); dashed: factor+solve",
        title="A x = f, 1D uniform, this machine",
    )
    ax.legend(loc="upper left", fontsize=6)
    ax = axes[1]
    for m, d in acc.groupby("method", sort=True):
        ax.loglog(d.n, d.rel_error, "o-", ms=3, color=colors.get(m), label=f"{m}: error")
        ax.loglog(d.n, d.rel_residual, "x--", ms=3, lw=0.7, color=colors.get(m))
    ax.set(
        xlabel="n (units)",
        ylabel="relative error (solid), residual (dashed)",
        title="accuracy vs known solution",
    )
    ax.legend(loc="upper left", fontsize=6)
    plotting.save_figure(fig, *out)


FIGURES = {
    f.__name__: f for f in (cond_vs_n, eigen_decay, modes, offdiag_ranks, cg_iterations, solver_time_accuracy)
}


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("figure", choices=sorted(FIGURES))
    p.add_argument("inputs", nargs="+", help="result CSVs and xia_* table CSVs")
    p.add_argument("--out", nargs="+", required=True, help="output files (PNG and/or PDF)")
    args = p.parse_args(argv)
    cli.setup_logging()
    with cli.stage(f"plot_xia_{args.figure}", cli.params(args), args.provenance):
        paths = [Path(f) for f in args.inputs if f.endswith(".csv")]
        r = {f.stem: io.read_csv(f) for f in paths if not f.stem.startswith("xia_")}
        t = {f.stem: io.read_csv(f) for f in paths if f.stem.startswith("xia_")}
        FIGURES[args.figure](r, t, args.out)


if __name__ == "__main__":
    main()
