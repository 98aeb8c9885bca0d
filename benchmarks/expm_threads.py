"""Does a second BLAS thread help the Theorem 1 closed form? Wall time of solve + verify, 1 vs 2 threads.

Runs `nnmat.gz.theorem1.theorem1_row` (eq. 12 weights: solve, logm, 3 expm; verification: 4 expm and the
identities) on fixed random problems at each d, in fresh subprocesses with OPENBLAS_NUM_THREADS (and
OMP/MKL) = 1 and = 2, interleaved so that load from other jobs hits both settings alike, and prints the
median wall time per solve for both settings side by side with their ratio.

    .venv/bin/python benchmarks/expm_threads.py --dims 16 64 --reps 5 --solves 8
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

# nnmat is installed (editable, from scripts/nnmat), so the child imports it like any package.
CHILD = """
import json, time
import numpy as np
from nnmat.gz import theorem1
d, solves, alpha = {d}, {solves}, {alpha}
rng = np.random.default_rng(12345 + d)
problems = [tuple(rng.standard_normal((d, d)) for _ in range(4)) for _ in range(solves)]
theorem1.theorem1_row(*problems[0], alpha)  # warm-up (lazy imports, BLAS init)
times = []
for p in problems:
    t = time.perf_counter()
    theorem1.theorem1_row(*p, alpha)
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def run_child(d: int, solves: int, alpha: float, threads: int) -> list[float]:
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }
    code = CHILD.format(d=d, solves=solves, alpha=alpha)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dims", type=int, nargs="+", default=[16, 64])
    p.add_argument("--reps", type=int, default=5, help="subprocesses per (d, threads)")
    p.add_argument("--solves", type=int, default=8, help="solve + verify calls timed per subprocess")
    p.add_argument("--alpha", type=float, default=2.0)
    args = p.parse_args(argv)
    print(f"host cpus: {os.cpu_count()}; {args.reps} subprocesses x {args.solves} solves per setting")
    print(f"{'d':>4} {'1 thread [ms]':>14} {'2 threads [ms]':>15} {'ratio 2/1':>10}")
    for d in args.dims:
        per = {1: [], 2: []}
        for _ in range(args.reps):
            for threads in (1, 2):  # interleaved
                per[threads].extend(run_child(d, args.solves, args.alpha, threads))
        m1, m2 = statistics.median(per[1]), statistics.median(per[2])
        print(f"{d:>4} {1e3 * m1:>14.2f} {1e3 * m2:>15.2f} {m2 / m1:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
