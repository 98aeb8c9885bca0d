"""One figure style for every paper, and byte-stable saving (no timestamps in PDF/PNG metadata)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import io  # noqa: E402

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.4,
    "image.cmap": "viridis",
    "svg.hashsalt": "nnmat",
    "pdf.fonttype": 42,
}

# Metadata keys matplotlib would otherwise fill with a date or its version string.
_STABLE_METADATA = {
    ".pdf": {"CreationDate": None, "Producer": None, "Creator": None},
    ".png": {"Software": None},
    ".svg": {"Date": None, "Creator": None},
}


def use_style() -> None:
    plt.rcParams.update(STYLE)


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 3.4, height: float = 2.8, **kw):
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), layout="constrained", **kw)


def save_figure(fig, *paths: str | os.PathLike) -> None:
    """Save `fig` to every path (format from the suffix), atomically and without timestamps."""
    for path in paths:
        suffix = Path(path).suffix.lower()
        with io.atomic_path(path) as tmp:
            fig.savefig(tmp, format=suffix.lstrip("."), metadata=_STABLE_METADATA.get(suffix, {}))
    plt.close(fig)


def seed_band(ax, x, median, lo, hi, label: str, color=None):
    """Median line with a shaded band (e.g. 10-90 % quantiles over seeds)."""
    marker = "o" if len(x) < 8 else None  # a short curve must still show its points
    (line,) = ax.plot(x, median, label=label, color=color, marker=marker, markersize=3)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    return line
