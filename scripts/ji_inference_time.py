"""Table 3 of Ji, Wu & Xi: inference time of trained MLPs on each test set, and exact inversion.

One row per (dataset, model file or exact method, device, batch size): the median wall time over
`repeats` passes over the whole test set. Without CUDA (or with device "cpu") the GPU rows are written
with status "needs_gpu" and no time, so the table says what was not measured. --data gives one NPZ per
dataset of the settings, in their order; a model belongs to the dataset its directory is named after.

    python scripts/ji_inference_time.py --data data/ji/first.npz \
        --models results/ji/models/first/fc2_seed0.pt \
        --settings '{"datasets": ["first"], "batch_sizes": [1, 100, 10000], "repeats": 3, "device": "cpu"}' \
        --out results/ji/timing_inference.csv
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from nnmat import cli, io
from nnmat.ji import timing
from nnmat.ji.mlp import load_model


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--data", nargs="+", required=True, help="dataset NPZ files (X_test is timed)")
    p.add_argument("--models", nargs="+", required=True, help="model files .../models/NAME/ARCH_seedK.pt")
    cli.add_settings(p, timing.InferenceSettings)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    settings: timing.InferenceSettings = args.settings
    log = cli.setup_logging()
    if len(args.data) != len(settings.datasets):
        p.error(f"{len(args.data)} --data files but {len(settings.datasets)} datasets in the settings")
    if min(settings.batch_sizes) < 1 or settings.repeats < 1:
        p.error("batch sizes and repeats must be >= 1")
    if settings.device not in ("cpu", "cuda"):
        p.error(f"device must be cpu or cuda, got {settings.device!r}")
    cuda = settings.device == "cuda" and torch.cuda.is_available()
    if settings.device == "cuda" and not cuda:
        log.warning("device cuda asked but CUDA is not available: GPU rows are marked needs_gpu")
    torch.set_num_threads(1)  # the rule's `threads`; single-threaded like the OPENBLAS setting
    rows = []
    with cli.stage("ji_inference_time", cli.params(args), args.provenance) as extra:
        extra["cuda_device"] = torch.cuda.get_device_name(0) if cuda else None
        for name, path in zip(settings.datasets, args.data, strict=True):
            models = {Path(m).stem: load_model(m) for m in args.models if Path(m).parent.name == name}
            X = io.read_npz(path)["X_test"]
            rows += timing.time_dataset(name, X, models, settings, cuda, log.info)
        io.write_csv(pd.DataFrame(rows), args.out)


if __name__ == "__main__":
    main()
