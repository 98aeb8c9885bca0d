"""Train the Ji, Wu & Xi inversion MLPs (fc2/fc3/small x seeds) on one dataset, in one process.

All seeds of all architectures train together (nnmat.ji.engine.train, settings
nnmat.ji.engine.TrainSettings). With --checkpoint-dir the run checkpoints every `checkpoint_every` steps
into CHECKPOINT_DIR/{dataset}-{fingerprint}.pt, the fingerprint digesting the settings, the data and the
engine version: a job started again with the same run resumes from its own checkpoint, another run
starts afresh beside it. The checkpoint is kept after success: it is small, and a rerun of the same run
just reloads it and rewrites the outputs without training.

    python scripts/ji_train.py data/ji/first.npz --settings '{"dataset": "first", "archs": ["fc2", "fc3"],
        "seeds": 3, "seed": 20240702, "steps": 20000, "batch_size": 128, "lr": 5e-5, "weight_decay": 1e-7,
        "t0_steps": 2857, "t_mult": 2, "log_every": 500, "checkpoint_every": 2000, "device": "cpu"}' \
        --threads 1 --checkpoint-dir results/ji/checkpoints --curves-out results/ji/curves_first.csv \
        --final-out results/ji/final_first.csv --models-dir results/ji/models/first

Models are written as MODELS_DIR/{arch}_seed{seed_index}.pt (nnmat.ji.names.model_file): torch.save of
an nn.Sequential state dict (load with nnmat.ji.mlp.load_model). The final CSV carries, per model, the
test MAE of the constant predictor inv(A0) and of the linear approximation on the same test matrices
(constant_mae, linear_mae), the model's ratios to them, learned (beats the constant predictor by 2x)
and did_not_learn (not learned, on a certified box; the general dataset is exempt).
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from nnmat import cli, io
from nnmat.ji import baselines, engine, mlp, names, stream


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("data", help="dataset NPZ: n, A0, radius, on_the_fly, X_train, X_test, Y_test")
    cli.add_settings(p, engine.TrainSettings)
    p.add_argument("--threads", type=int, required=True, help="torch intra-op threads")
    p.add_argument("--checkpoint-dir", help="directory of the resumable checkpoint (none: no checkpoint)")
    p.add_argument("--curves-out", required=True, help="CSV: one row per model and logged step")
    p.add_argument("--final-out", required=True, help="CSV: one row per model")
    p.add_argument("--models-dir", required=True, help="directory for {arch}_seed{i}.pt state dicts")
    args = p.parse_args(argv)
    settings: engine.TrainSettings = args.settings
    cuda = settings.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        p.error(
            f"device {settings.device} but CUDA is not available here (torch.cuda.is_available() is False)"
        )
    log = cli.setup_logging()
    if cuda:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    with cli.stage("ji_train", cli.params(args), args.provenance) as extra:
        arrays = io.read_npz(args.data)
        data = stream.data_from_arrays(arrays)
        kind = "on the fly" if data.on_the_fly else f"{data.X_train.shape[0]} training matrices"
        log.info(
            "dataset %s: n = %d, %s, %d test matrices", settings.dataset, data.n, kind, data.X_test.shape[0]
        )
        checkpoint = None
        if args.checkpoint_dir:
            fingerprint = engine.run_fingerprint(data, settings)
            checkpoint = names.checkpoint_file(args.checkpoint_dir, settings.dataset, fingerprint)
        start = time.perf_counter()
        result = engine.train(data, settings, checkpoint_path=checkpoint)
        wall = time.perf_counter() - start
        log_result(log, result, settings.steps, wall)
        for (arch, seed_index), sd in result.state_dicts.items():
            mlp.save_model(sd, names.model_file(args.models_dir, arch, seed_index))
        io.write_csv(result.curves, args.curves_out)
        io.write_csv(final_with_baselines(result.final, arrays), args.final_out)
        extra.update(
            init_seeds={
                names.model_stem(r.arch, r.seed_index): int(r.seed) for r in result.final.itertuples()
            },
            batch_seeds={
                names.model_stem(r.arch, r.seed_index): int(r.batch_seed) for r in result.final.itertuples()
            },
            resumed_from_step=result.resumed_from,
            checkpoint=checkpoint,
            fingerprint=result.fingerprint,
            train_wall_s=wall,
        )


def final_with_baselines(final, arrays: dict):
    """The final rows with the constant predictor's and the linear approximation's test MAE beside each
    model (nnmat.ji.baselines). A box whose certificate fails (sigma_min(A0) <= n r: the general
    dataset, which contains singular matrices) is exempt from the did-not-learn flag."""
    A0 = arrays["A0"].astype(np.float64)
    X, Y = arrays["X_test"].astype(np.float64), arrays["Y_test"].astype(np.float64)
    n, radius = A0.shape[0], float(arrays["radius"])
    exempt = not np.linalg.svd(A0, compute_uv=False)[-1] > n * radius
    return baselines.with_baselines(final, baselines.baseline_maes(A0, X, Y), exempt)


def log_result(log, result: engine.TrainResult, steps: int, wall: float) -> None:
    """The training speed and every model's final test errors."""
    trained = steps - (result.resumed_from or 0)
    log.info(
        "trained %d steps x %d models in %.1f s (%.0f model-steps/s)",
        trained,
        len(result.final),
        wall,
        trained * len(result.final) / max(wall, 1e-9),
    )
    for row in result.final.itertuples(index=False):
        log.info(
            "%s %s seed %d: test mae %.4g, max abs err %.4g, rel fro err %.4g, status %s %s",
            row.dataset,
            row.arch,
            row.seed_index,
            row.test_mae,
            row.test_max_abs_err,
            row.test_rel_fro_err_mean,
            row.status,
            row.reason,
        )


if __name__ == "__main__":
    main()
