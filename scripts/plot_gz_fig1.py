"""Fig. 1 of Gai & Zhang: the s score during training, Sigmoid (left) and ReLU (right), one curve per d.

    python scripts/plot_gz_fig1.py results/gz/sscore/trace_d*_*_gd.csv --settings '{"optimizer": "gd"}' \
        --out figures/gz_fig1_sscore.png figures/gz_fig1_sscore.pdf

Each curve is the median over runs with a 10-90 % band; the dashed line is the identity control (s = 1).
The optimizer whose curves are drawn is gz.sscore.fig1_optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib as mpl
import pandas as pd

from nnmat import cli, io, plotting

PANELS = (("sigmoid", "Sigmoid"), ("relu", "ReLU"))


@dataclass(frozen=True)
class Fig1Settings:
    """optimizer: the optimizer whose curves are drawn."""

    optimizer: str


def quantiles(trace: pd.DataFrame) -> pd.DataFrame:
    g = trace.groupby(["d", "step"])["s"]
    return pd.DataFrame({"median": g.median(), "q10": g.quantile(0.1), "q90": g.quantile(0.9)}).reset_index()


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("traces", nargs="+", help="trace CSVs of the s-score stage")
    cli.add_settings(p, Fig1Settings)
    p.add_argument("--out", nargs="+", required=True, help="PNG and/or PDF paths")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    trace = io.read_csvs(args.traces)
    optimizer = args.settings.optimizer
    trace = trace[trace["optimizer"] == optimizer]
    dims = sorted(trace["d"].unique())
    cmap = mpl.colormaps["viridis"]
    colors = {d: cmap(i / max(len(dims) - 1, 1)) for i, d in enumerate(dims)}
    fig, axes = plotting.new_figure(ncols=2, width=3.6, height=3.0, sharey=True)
    for ax, (act, title) in zip(axes, PANELS, strict=True):
        ax.set_title(f"{title} ({optimizer})")
        ax.set_xlabel("training step")
        ax.set_yscale("log")
        ax.axhline(1.0, color="0.3", linestyle="--", linewidth=1.0, label="identity (s = 1)")
        sub = trace[trace["activation"] == act]
        if sub.empty:
            ax.text(0.5, 0.5, f"{title}: not in config", transform=ax.transAxes, ha="center", va="center")
            log.info("panel %s: activation not in config", act)
            continue
        for d, q in quantiles(sub).groupby("d"):
            plotting.seed_band(ax, q["step"], q["median"], q["q10"], q["q90"], f"d = {d}", colors[d])
            log.info("%s d=%d: final median s %.4g", act, d, q["median"].iloc[-1])
        ax.legend(loc="upper right", ncols=2)
    axes[0].set_ylabel("s score (eq. 35)")
    runs = trace.groupby(["d", "activation"])["run"].nunique()
    fig.suptitle(f"s during training: median and 10-90 % over {int(runs.max()) if len(runs) else 0} runs")
    plotting.save_figure(fig, *args.out)


if __name__ == "__main__":
    main()
