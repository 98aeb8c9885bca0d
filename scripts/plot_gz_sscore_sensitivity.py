"""Optimizer sensitivity of the s score: final s against d, one panel per activation, GD against Adam.

    python scripts/plot_gz_sscore_sensitivity.py results/tables/gz_sscore_final.csv \
        --out figures/gz_sscore_optimizer_sensitivity.png figures/gz_sscore_optimizer_sensitivity.pdf
"""

from __future__ import annotations

from nnmat import cli, io, plotting

LABELS = {
    "adam": "Adam",
    "gd": "gradient descent",
    "sigmoid": "Sigmoid",
    "relu": "ReLU",
    "tanh": "tanh",
    "identity": "identity (control)",
}


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("table", help="results/tables/gz_sscore_final.csv")
    p.add_argument("--out", nargs="+", required=True, help="PNG and/or PDF paths")
    args = p.parse_args(argv)
    cli.setup_logging()
    table = io.read_csv(args.table)
    table = table[table["at"] == "final"]
    order = [a for a in ("sigmoid", "relu", "tanh", "identity") if a in set(table["activation"])]
    fig, axes = plotting.new_figure(ncols=len(order), width=2.8, height=2.8, sharey=True, squeeze=False)
    for ax, act in zip(axes[0], order, strict=True):
        ax.set_title(LABELS[act])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("dimension d")
        ax.axhline(1.0, color="0.3", linestyle="--", linewidth=1.0)
        for opt, g in table[table["activation"] == act].groupby("optimizer"):
            g = g.sort_values("d")
            line = ax.errorbar(
                g["d"],
                g["s_median"],
                yerr=[g["s_median"] - g["s_q10"], g["s_q90"] - g["s_median"]],
                marker="o",
                markersize=3.5,
                capsize=2,
                label=LABELS.get(opt, opt),
            )
            flagged = g[g["runs_flagged"] > 0]
            if not flagged.empty:
                ax.plot(flagged["d"], flagged["s_median"], "x", color=line[0].get_color(), markersize=8)
        dims = sorted(table["d"].unique())
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.minorticks_off()
        ax.legend(loc="lower left")
    axes[0][0].set_ylabel("final s (median, 10-90 % over runs)")
    plotting.save_figure(fig, *args.out)


if __name__ == "__main__":
    main()
