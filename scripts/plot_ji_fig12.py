"""Ji, Wu & Xi, Figs. 1-2: the eps-neighbourhood of the singular set on two planes, and in 3D with d fixed.

    python scripts/plot_ji_fig12.py results/ji/geometry_slices.csv results/ji/geometry_surface.csv \
        --out figures/ji_fig1_singular_slices.png figures/ji_fig1_singular_slices.pdf \
              figures/ji_fig2_singular_surface.png figures/ji_fig2_singular_surface.pdf

Reads only the CSVs of ji_singular_geometry.py. --out paths are grouped by name without suffix, in
order of first appearance: the first group is Fig. 1 (two slices), the second Fig. 2 (3D surface).
Fig. 1: shaded, D_eps = {sigma_min < eps} on the plane; dashed, the in-plane eps-tube around the
singular curve (D_eps on the plane contains it); thin grey lines, sigma_min contours; yellow, the
training disc. Fig. 2: the surface a d - b c = 0 at fixed d and the training ball.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch
from matplotlib.ticker import MaxNLocator

from nnmat import cli, io, plotting

BAND = "tab:red"
CURVE = "tab:blue"
BALL = "gold"
SIGMA_LEVELS = (0.5, 1.0, 2.0)


def group_outputs(paths: list[str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(str(Path(path).with_suffix("")), []).append(path)
    if len(groups) != 2:
        raise SystemExit(f"--out needs the files of exactly two figures (Fig. 1, Fig. 2), got {list(groups)}")
    return list(groups.values())


def grid_2d(g: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    table = g.pivot(index="y", columns="x", values=col).sort_index().sort_index(axis=1)
    return table.columns.to_numpy(), table.index.to_numpy(), table.to_numpy(dtype=float)


def ball_label(ball: pd.Series) -> str:
    if ball["status"] != "ok":
        return f"no ball: {ball['reason']}"
    verdict = "clear of" if bool(ball["avoids_band"]) else "MEETS"
    return (
        f"training ball r = {ball['radius']:.3g}\n"
        f"$\\sigma_{{min}}(A_0) - r$ = {ball['certified_distance']:.3g} ({verdict} $D_\\varepsilon$)"
    )


def draw_slice(ax, df: pd.DataFrame, log) -> None:
    g = df[df["kind"] == "grid"]
    eps = float(g["eps"].iloc[0])
    x_entry, y_entry, fixed = g["x_entry"].iloc[0], g["y_entry"].iloc[0], g["fixed"].iloc[0]
    x, y, s = grid_2d(g, "sigma_min")
    _, _, dist = grid_2d(g, "dist_in_slice")
    ax.contourf(x, y, s, levels=[0.0, eps], colors=[BAND], alpha=0.35)
    cs = ax.contour(x, y, s, levels=SIGMA_LEVELS, colors="0.55", linewidths=0.6)
    ax.clabel(cs, fontsize=6, fmt="%g")
    ax.contour(x, y, dist, levels=[eps], colors="k", linewidths=0.8, linestyles="--")
    for _, seg in df[df["kind"] == "singular_curve"].groupby("branch"):
        ax.plot(seg["x"], seg["y"], color=CURVE, linewidth=1.6)
    ball = df[df["kind"] == "ball"].iloc[0]
    if ball["status"] == "ok":
        ax.add_patch(
            Circle((ball["x"], ball["y"]), ball["radius"], facecolor=BALL, edgecolor="0.3", alpha=0.7)
        )
    ax.plot([ball["x"]], [ball["y"]], marker="+", color="k", markersize=6, linestyle="none")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    ax.set_aspect("equal")
    ax.set_xlabel(f"entry {x_entry}")
    ax.set_ylabel(f"entry {y_entry}")
    ax.set_title(f"{fixed.replace(' ', ', ')}: plane ({x_entry}, {y_entry})")
    handles = [
        Line2D([], [], color=CURVE, linewidth=1.6, label="singular set (det = 0)"),
        Patch(
            facecolor=BAND, alpha=0.35, label=f"$D_\\varepsilon$: $\\sigma_{{min}} < \\varepsilon$ = {eps:g}"
        ),
        Line2D([], [], color="k", linewidth=0.8, linestyle="--", label="in-plane $\\varepsilon$-tube"),
        Line2D([], [], color="0.55", linewidth=0.6, label="$\\sigma_{min}$ contours"),
        Patch(facecolor=BALL, edgecolor="0.3", alpha=0.7, label=ball_label(ball)),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
    log.info("slice %s: %s", df["slice_id"].iloc[0], ball_label(ball).replace("\n", "; "))


def draw_surface(ax, df: pd.DataFrame, log) -> None:
    surf = df[df["kind"] == "surface"]
    n_i, n_j = int(surf["i"].max()) + 1, int(surf["j"].max()) + 1
    surf = surf.sort_values(["i", "j"])

    def mesh(col: str) -> np.ndarray:
        return surf[col].to_numpy(dtype=float).reshape(n_i, n_j)

    B, C, A = mesh("b"), mesh("c"), mesh("a")
    window = surf["in_window"].astype(bool).to_numpy().reshape(n_i, n_j)
    A = np.where(window, A, np.nan)  # mpl drops the quads with a NaN corner: the surface ends at the box
    a_lo, a_hi = float(np.nanmin(A)), float(np.nanmax(A))
    ax.plot_surface(B, C, A, color=CURVE, alpha=0.45, linewidth=0.2, edgecolor="navy", rstride=4, cstride=4)
    ball = df[df["kind"] == "ball"].iloc[0]
    if ball["status"] == "ok":
        u, v = np.meshgrid(np.linspace(0, 2 * np.pi, 41), np.linspace(0, np.pi, 21))
        r = ball["radius"]
        ax.plot_surface(
            ball["b"] + r * np.cos(u) * np.sin(v),
            ball["c"] + r * np.sin(u) * np.sin(v),
            ball["a"] + r * np.cos(v),
            color=BALL,
            alpha=0.9,
            linewidth=0,
        )
    ax.set_xlabel("entry b")
    ax.set_ylabel("entry c")
    ax.set_zlabel("entry a")
    b_lo, b_hi, c_lo, c_hi = B.min(), B.max(), C.min(), C.max()
    ax.set_xlim(b_lo, b_hi)
    ax.set_ylim(c_lo, c_hi)
    ax.set_zlim(a_lo, a_hi)
    ax.set_box_aspect(
        (b_hi - b_lo, c_hi - c_lo, a_hi - a_lo), zoom=0.85
    )  # equal scales: the ball looks round
    ax.view_init(elev=18, azim=-55)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
    eps = float(ball["eps"])
    d = float(ball["d"])
    handles = [
        Patch(facecolor=CURVE, alpha=0.45, label=f"singular set a d - b c = 0 (d = {d:g})"),
        Patch(facecolor=BALL, label=ball_label(ball) + f", $\\varepsilon$ = {eps:g}"),
    ]
    ax.legend(handles=handles, loc="upper left", framealpha=0.85)
    ax.set_title(f"2x2 matrices with d = {d:g} fixed: axes (b, c, a)")
    log.info("surface: %s", ball_label(ball).replace("\n", "; "))


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("slices", help="slices CSV of ji_singular_geometry.py")
    p.add_argument("surface", help="surface CSV of ji_singular_geometry.py")
    p.add_argument("--out", nargs="+", required=True, help="PNG/PDF paths of Fig. 1 and of Fig. 2")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    out1, out2 = group_outputs(args.out)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # font subsetting chatter of the PDF backend
    slices = io.read_csv(args.slices, low_memory=False)  # mixed columns: grid, curve and ball rows
    ids = list(dict.fromkeys(slices["slice_id"]))
    fig, axes = plotting.new_figure(ncols=len(ids), width=3.7, height=4.0, squeeze=False)
    for ax, sid in zip(axes[0], ids, strict=True):
        draw_slice(ax, slices[slices["slice_id"] == sid], log)
    fig.suptitle("Singular 2x2 matrices and their $\\varepsilon$-neighbourhood on two planes")
    plotting.save_figure(fig, *out1)
    fig, ax = plotting.new_figure(width=5.0, height=5.0, subplot_kw={"projection": "3d"})
    draw_surface(ax, io.read_csv(args.surface, low_memory=False), log)
    plotting.save_figure(fig, *out2)


if __name__ == "__main__":
    main()
