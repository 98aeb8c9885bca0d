"""Ji, Wu & Xi, Figs. 1-2: the singular set of 2x2 matrices, its eps-neighbourhood D_eps, a training ball.

    python scripts/ji_singular_geometry.py \
        --settings '{"eps": 0.1, "grid": 401, "mesh": 81, "ball_fraction": 0.8}' \
        --out-slices results/ji/geometry_slices.csv --out-surface results/ji/geometry_surface.csv \
        --provenance results/ji/provenance/geometry.json

D_eps = {A : sigma_min(A) < eps} (distance to the singular set in the 2-norm and Frobenius norm alike).
Slices (Fig. 1, our choice, see nnmat.ji.singular_set.FIG1_SLICES): c = d = 1 (line a = b in the (a, b)
plane) and b = c = 1 (hyperbola a d = 1 in the (a, d) plane), `grid` points per axis; Fig. 2: d = 1
(surface a = b c), `mesh` points per axis. Each training ball has radius
ball_fraction * (sigma_min(centre) - eps), and its row records the exact certificate: the closed
Frobenius ball B(A0, r) avoids the singular set iff sigma_min(A0) > r, and D_eps iff
sigma_min(A0) - r >= eps. Settings: nnmat.ji.singular_set.GeometrySettings (config ji.geometry).
"""

from __future__ import annotations

import pandas as pd

from nnmat import cli, io
from nnmat.ji import singular_set as ss


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    cli.add_settings(p, ss.GeometrySettings)
    p.add_argument("--out-slices", required=True, help="CSV of the Fig. 1 slices (grid, curve, ball rows)")
    p.add_argument("--out-surface", required=True, help="CSV of the Fig. 2 surface mesh and ball")
    args = p.parse_args(argv)
    s: ss.GeometrySettings = args.settings
    log = cli.setup_logging()
    if s.eps <= 0 or s.grid < 2 or s.mesh < 2 or s.ball_fraction <= 0:
        p.error("need eps > 0, grid >= 2, mesh >= 2 and ball_fraction > 0")
    eps, ball_fraction = float(s.eps), float(s.ball_fraction)  # the CSVs print floats even for eps: 1
    with cli.stage("ji_singular_geometry", cli.params(args), args.provenance):
        frames = []
        for spec in ss.FIG1_SLICES:
            df = ss.slice_table(spec, eps, int(s.grid), ball_fraction)
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
        surface = ss.surface_table(eps, int(s.mesh), ball_fraction)
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
