"""Ji, Wu & Xi, Figs. 1-2: the singular set of 2x2 matrices, its eps-neighbourhood D_eps, a training ball.

    python scripts/ji_singular_geometry.py --eps 0.1 --grid 401 --mesh 81 --ball-fraction 0.8 \
        --out-slices results/ji/singular_slices.csv --out-surface results/ji/singular_surface.csv \
        --provenance results/ji/provenance/singular_geometry.json

D_eps = {A : sigma_min(A) < eps} (distance to the singular set in the 2-norm and Frobenius norm alike).
Slices (Fig. 1, our choice, see nnmat.singular_set.FIG1_SLICES): c = d = 1 (line a = b in the (a, b)
plane) and b = c = 1 (hyperbola a d = 1 in the (a, d) plane); Fig. 2: d = 1 (surface a = b c). Each
training ball has radius ball_fraction * (sigma_min(centre) - eps), and its row records the exact
certificate: the closed Frobenius ball B(A0, r) avoids the singular set iff sigma_min(A0) > r, and D_eps
iff sigma_min(A0) - r >= eps.
"""

from __future__ import annotations

import pandas as pd

from nnmat import cli, io
from nnmat import singular_set as ss


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--eps", type=float, default=0.1, help="half-width of the neighbourhood D_eps (> 0)")
    p.add_argument("--grid", type=int, default=401, help="grid points per axis of each Fig. 1 slice")
    p.add_argument("--mesh", type=int, default=81, help="mesh points per axis of the Fig. 2 surface")
    p.add_argument(
        "--ball-fraction",
        type=float,
        default=0.8,
        help="ball radius as a fraction of sigma_min(centre) - eps (< 1: clear of D_eps)",
    )
    p.add_argument("--out-slices", required=True, help="CSV of the Fig. 1 slices (grid, curve, ball rows)")
    p.add_argument("--out-surface", required=True, help="CSV of the Fig. 2 surface mesh and ball")
    args = p.parse_args(argv)
    log = cli.setup_logging()
    if args.eps <= 0 or args.grid < 2 or args.mesh < 2 or args.ball_fraction <= 0:
        p.error("need --eps > 0, --grid >= 2, --mesh >= 2 and --ball-fraction > 0")
    with cli.stage("ji_singular_geometry", vars(args), args.provenance):
        frames = []
        for spec in ss.FIG1_SLICES:
            df = ss.slice_table(spec, args.eps, args.grid, args.ball_fraction)
            frames.append(df)
            ball = df[df["kind"] == "ball"].iloc[0]
            log.info(
                "slice %s (%s): %d of %d grid points in D_eps; ball centre (%g, %g) sigma_min %.4g "
                "radius %.4g certified distance %.4g avoids D_eps %s (grid min sigma in ball %.4g)",
                spec.slice_id,
                spec.fixed_label,
                int(df["in_band"].eq(True).sum()),
                int((df["kind"] == "grid").sum()),
                ball["x"],
                ball["y"],
                ball["sigma_min"],
                ball["radius"],
                ball["certified_distance"],
                ball["avoids_band"],
                ball["grid_min_sigma_in_ball"],
            )
        surface = ss.surface_table(args.eps, args.mesh, args.ball_fraction)
        ball = surface[surface["kind"] == "ball"].iloc[0]
        log.info(
            "surface (d = %g): ball centre (a, b, c) = (%g, %g, %g) sigma_min %.4g radius %.4g "
            "avoids D_eps %s (sphere min sigma %.4g)",
            ball["d"],
            ball["a"],
            ball["b"],
            ball["c"],
            ball["sigma_min"],
            ball["radius"],
            ball["avoids_band"],
            ball["sphere_min_sigma"],
        )
        io.write_csv(pd.concat(frames, ignore_index=True), args.out_slices)
        io.write_csv(surface, args.out_surface)


if __name__ == "__main__":
    main()
