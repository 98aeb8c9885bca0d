"""Train the Ji, Wu & Xi inversion MLPs (fc2/fc3/small x seeds) on one dataset, in one process.

All seeds of all architectures train together (nnmat.inversion.train); the run checkpoints every
--checkpoint-every steps and resumes from --checkpoint when it is started again with the same
configuration (a checkpoint of another configuration stops the run and is left untouched). The
checkpoint is kept after success: it is small, and a rerun with the same configuration just reloads
it and rewrites the outputs without training.

    python scripts/ji_train.py data/ji/box2.npz --dataset box2 --archs fc2 fc3 --seeds 3 \
        --master-seed 20240702 --steps 20000 --batch-size 128 --lr 5e-5 --weight-decay 1e-7 \
        --t0-steps 2857 --t-mult 2 --log-every 500 --checkpoint-every 2000 --device cpu --threads 1 \
        --checkpoint results/ji/checkpoints/box2.pt --curves-out results/ji/curves_box2.csv \
        --final-out results/ji/final_box2.csv --models-dir results/ji/models/box2

Models are written as MODELS_DIR/{arch}_seed{seed_index}.pt: torch.save of an nn.Sequential state
dict (load with nnmat.inversion.mlp_from_state_dict).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from nnmat import cli, inversion, io


def model_path(models_dir: str | os.PathLike, arch: str, seed_index: int) -> Path:
    return Path(models_dir) / f"{arch}_seed{seed_index}.pt"


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("data", help="dataset NPZ: n, A0, radius, on_the_fly, X_train, X_test, Y_test")
    p.add_argument("--dataset", required=True, help="dataset name (a key of every output row and seed)")
    p.add_argument("--archs", nargs="+", required=True, choices=inversion.ARCHS)
    p.add_argument("--seeds", type=int, required=True, help="models per architecture")
    p.add_argument("--master-seed", type=int, required=True)
    p.add_argument("--steps", type=int, required=True, help="optimisation steps per model")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--weight-decay", type=float, default=1e-7, help="Adam's L2 weight decay")
    p.add_argument("--t0-steps", type=int, required=True, help="CosineAnnealingWarmRestarts T_0 (steps)")
    p.add_argument("--t-mult", type=int, default=1, help="CosineAnnealingWarmRestarts T_mult")
    p.add_argument("--log-every", type=int, required=True, help="curve rows every this many steps")
    p.add_argument("--checkpoint-every", type=int, default=None, help="checkpoint every this many steps")
    p.add_argument("--checkpoint", help="checkpoint file (resumed if it exists and matches)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:k]")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--curves-out", required=True, help="CSV: one row per model and logged step")
    p.add_argument("--final-out", required=True, help="CSV: one row per model")
    p.add_argument("--models-dir", required=True, help="directory for {arch}_seed{i}.pt state dicts")
    args = p.parse_args(argv)
    if args.checkpoint_every is not None and not args.checkpoint:
        p.error("--checkpoint-every needs --checkpoint")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error(f"--device {args.device} but CUDA is not available here (torch.cuda.is_available() is False)")
    log = cli.setup_logging()
    if args.device.startswith("cuda"):
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    with cli.stage("ji_train", vars(args), args.provenance) as extra:
        data = inversion.data_from_arrays(io.read_npz(args.data))
        kind = "on the fly" if data.on_the_fly else f"{data.X_train.shape[0]} training matrices"
        log.info("dataset %s: n = %d, %s, %d test matrices", args.dataset, data.n, kind, data.X_test.shape[0])
        start = time.perf_counter()
        result = inversion.train(
            data,
            dataset=args.dataset,
            archs=args.archs,
            n_seeds=args.seeds,
            master_seed=args.master_seed,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            t0_steps=args.t0_steps,
            t_mult=args.t_mult,
            log_every=args.log_every,
            checkpoint_every=args.checkpoint_every,
            checkpoint_path=args.checkpoint,
            device=args.device,
        )
        wall = time.perf_counter() - start
        trained = args.steps - (result.resumed_from or 0)
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
        for (arch, seed_index), sd in result.state_dicts.items():
            io.write_torch(sd, model_path(args.models_dir, arch, seed_index))
        io.write_csv(result.curves, args.curves_out)
        io.write_csv(result.final, args.final_out)
        extra.update(
            init_seeds={f"{r.arch}_seed{r.seed_index}": int(r.seed) for r in result.final.itertuples()},
            batch_seeds={
                f"{r.arch}_seed{r.seed_index}": int(r.batch_seed) for r in result.final.itertuples()
            },
            resumed_from_step=result.resumed_from,
            fingerprint=result.fingerprint,
            train_wall_s=wall,
        )


if __name__ == "__main__":
    main()
