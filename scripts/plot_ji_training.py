"""Training curves of Ji, Wu & Xi's MLPs: training loss (top) and test error (bottom) against step.

    python scripts/plot_ji_training.py results/ji/curves_*.csv \
        --out figures/ji_training_curves.png figures/ji_training_curves.pdf

One column per dataset, one curve per architecture: the median over seeds with a min-max band.
"""

from __future__ import annotations

import pandas as pd

from nnmat import cli, io, plotting

ROWS = (("train_loss", "training MSE"), ("test_mae", "test average abs. error"))


def seed_stats(curves: pd.DataFrame, column: str) -> pd.DataFrame:
    g = curves.groupby("step")[column]
    return pd.DataFrame({"median": g.median(), "lo": g.min(), "hi": g.max()}).reset_index()


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("curves", nargs="+", help="curves CSVs of the training stage")
    p.add_argument("--out", nargs="+", required=True, help="PNG and/or PDF paths")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    curves = io.read_csvs(args.curves)
    datasets = list(dict.fromkeys(curves["dataset"]))
    fig, axes = plotting.new_figure(ncols=len(datasets), nrows=2, width=2.6, height=2.3, squeeze=False)
    for col, dataset in enumerate(datasets):
        sub = curves[curves["dataset"] == dataset]
        for row, (column, label) in enumerate(ROWS):
            ax = axes[row][col]
            ax.set_yscale("log")
            for arch, a in sub.groupby("arch", sort=False):
                q = seed_stats(a, column)
                plotting.seed_band(ax, q["step"], q["median"], q["lo"], q["hi"], arch)
                log.info("%s %s: final median %s %.4g", dataset, arch, column, q["median"].iloc[-1])
            ax.set_xlabel("training step" if row == 1 else "")
            if col == 0:
                ax.set_ylabel(label)
        axes[0][col].set_title(f"{dataset} (n = {int(sub['n'].iloc[0])})" if "n" in sub else dataset)
        axes[0][col].legend(loc="upper right")
    seeds = int(curves.groupby(["dataset", "arch"])["seed_index"].nunique().max())
    fig.suptitle(f"Ji, Wu & Xi MLPs: median and min-max over {seeds} seeds")
    plotting.save_figure(fig, *args.out)


if __name__ == "__main__":
    main()
