"""Table 3 of Ji, Wu & Xi: inference time of trained MLPs on each test set, and exact inversion.

One row per (dataset, model file or exact method, device, batch size): the median wall time over
--repeats passes over the whole test set. Without CUDA (or without --device cuda) the GPU rows are
written with status "needs_gpu" and no time, so the table says what was not measured.

    python scripts/ji_inference_time.py --data data/ji/first.npz --names first \
        --models results/ji/models/first/fc2_seed0.pt --batch-sizes 1 100 10000 --repeats 3 \
        --device cpu --out results/ji/timing_inference.csv
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from nnmat import cli, io
from nnmat import inference_timing as timing
from nnmat.inversion import load_model


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--data", nargs="+", required=True, help="dataset NPZ files (X_test is timed)")
    p.add_argument("--names", nargs="+", required=True, help="dataset names, one per --data file")
    p.add_argument("--models", nargs="+", required=True, help="model files .../models/NAME/ARCH_seedK.pt")
    p.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    log = cli.setup_logging()
    if len(args.data) != len(args.names):
        p.error(f"{len(args.data)} --data files but {len(args.names)} --names")
    if min(args.batch_sizes) < 1 or args.repeats < 1:
        p.error("batch sizes and --repeats must be >= 1")
    cuda = args.device == "cuda" and torch.cuda.is_available()
    if args.device == "cuda" and not cuda:
        log.warning("--device cuda asked but CUDA is not available: GPU rows are marked needs_gpu")
    torch.set_num_threads(1)  # the rule's `threads`; single-threaded like the OPENBLAS setting
    rows = []
    with cli.stage("ji_inference_time", vars(args), args.provenance) as extra:
        extra["cuda_device"] = torch.cuda.get_device_name(0) if cuda else None
        for name, path in zip(args.names, args.data, strict=True):
            models = {
                Path(m).stem: load_model(m)
                for m in args.models
                if Path(m).parent.name == name
            }
            X = io.read_npz(path)["X_test"]
            rows += timing.time_dataset(name, X, models, args.batch_sizes, args.repeats, cuda, log.info)
        io.write_csv(pd.DataFrame(rows), args.out)


if __name__ == "__main__":
    main()
