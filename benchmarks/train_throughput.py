"""Throughput of the Ji et al. inversion engine (nnmat.ji.engine.train) against a plain PyTorch loop.

Same process, same machine, same work, interleaved repeats (medians), counting *model-steps* (one
optimiser step of one model):

1. 2x2 and 3x3, fixed training set (10 000 box samples): the engine trains S = 3 seeds of fc2 and
   fc3 together; the plain loop trains the same 6 models one after the other, each an nn.Sequential
   with a DataLoader(TensorDataset, batch 128, shuffle), default Adam, CosineAnnealingWarmRestarts.
   Prints model-steps/s of both and their ratio.
2. 16x16 on-the-fly data, fc2 (256-2048-256) and fc3 (256-2048-2048-256), S = 3: achieved FLOP/s,
   counting 6 * batch * sum(in * out) per model-step, as a fraction of the float32 GEMM rate of this
   machine measured in the same run on the very GEMMs of one training step (forward x W^T, weight
   gradient g^T x, input gradient g W for every layer, batch 128; best of torch.mm per model and
   torch.bmm over the 3 models). Same for a plain loop (nn.Sequential, default Adam, batch drawn and
   inverted in float64 per step).

    .venv/bin/python benchmarks/train_throughput.py --threads 2          # about 2 minutes
    .venv/bin/python benchmarks/train_throughput.py --threads 2 --quick  # about 30 s
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time

import numpy as np
import torch

from nnmat.ji import engine, mlp, stream

LR, WD, BATCH, SEEDS = 5e-5, 1e-7, 128, 3
CENTRES = {2: [[2.0, 1.0], [1.0, 2.0]], 3: [[3.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 3.0]]}


def box_arrays(n: int, n_train: int, n_test: int, on_the_fly: bool, radius: float = 0.3) -> dict:
    rng = np.random.default_rng(n)
    A0 = np.asarray(CENTRES[n]) if n in CENTRES else n * np.eye(n) + rng.uniform(-0.5, 0.5, (n, n))
    X_test = A0 + rng.uniform(-radius, radius, (n_test, n, n))
    return {
        "n": np.array(n),
        "A0": A0,
        "radius": np.array(radius),
        "on_the_fly": np.array(on_the_fly),
        "X_train": A0 + rng.uniform(-radius, radius, (0 if on_the_fly else n_train, n, n)),
        "X_test": X_test,
        "Y_test": np.linalg.inv(X_test),
    }


def engine_rate(data, archs: list[str], steps: int, warm: int, block: int = 64) -> float:
    """Model-steps/s of engine.train between the end of step `warm` and the end of step steps - 1
    (the last step also evaluates the test set, which is left out)."""
    marks: dict[int, float] = {}

    def on_step(step, models):
        if step in (warm, steps - 1):
            marks[step] = time.perf_counter()

    settings = engine.TrainSettings(
        dataset="bench", archs=archs, seeds=SEEDS, seed=1, steps=steps, batch_size=BATCH, lr=LR,
        weight_decay=WD, t0_steps=1000, t_mult=2, log_every=steps, checkpoint_every=steps, device="cpu",
    )  # fmt: skip
    engine.train(data, settings, otf_block_steps=block, progress_every_s=1e9, on_step=on_step)
    return (steps - 1 - warm) * SEEDS * len(archs) / (marks[steps - 1] - marks[warm])


def plain_model(n: int, arch: str, seed: int):
    torch.manual_seed(seed)
    model = mlp.mlp(mlp.widths(arch, n))
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WD)  # defaults: what a user writes
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1000, T_mult=2)
    return model, opt, sched


def plain_step(model, opt, sched, x, y) -> None:
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    opt.step()
    sched.step()


def plain_rate_fixed(data, archs: list[str], steps: int, warm: int) -> float:
    """Model-steps/s of a DataLoader loop, one model after the other (S seeds of every arch)."""
    dataset = torch.utils.data.TensorDataset(data.X_train, data.Y_train)
    elapsed, counted = 0.0, 0
    for arch in archs:
        for seed in range(SEEDS):
            model, opt, sched = plain_model(data.n, arch, seed)
            loader = torch.utils.data.DataLoader(
                dataset, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(seed)
            )
            step = 0
            while step < steps:
                for x, y in loader:
                    if step == warm:
                        start = time.perf_counter()
                    plain_step(model, opt, sched, x, y)
                    step += 1
                    if step == steps:
                        break
            elapsed += time.perf_counter() - start
            counted += steps - warm
    return counted / elapsed


def plain_rate_on_the_fly(data, arch: str, steps: int, warm: int) -> float:
    """Model-steps/s of a plain loop that draws A0 + U(-r, r) and inverts it (float64) every step."""
    model, opt, sched = plain_model(data.n, arch, 0)
    gen = torch.Generator().manual_seed(0)
    n = data.n
    for step in range(steps):
        if step == warm:
            start = time.perf_counter()
        A = data.A0 + (2 * torch.rand((BATCH, n, n), dtype=torch.float64, generator=gen) - 1) * data.radius
        x, y = A.flatten(1).float(), torch.linalg.inv(A).flatten(1).float()
        plain_step(model, opt, sched, x, y)
    return (steps - warm) / (time.perf_counter() - start)


def median_time(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def gemm_peak(layer_widths: list[int], reps: int) -> tuple[float, float]:
    """(GEMM FLOP/s, seconds) of the GEMMs of one model-step at this machine's best rate per GEMM.

    For every layer: forward (B, in) @ (in, out), weight gradient (out, B) @ (B, in), input gradient
    (B, out) @ (out, in); each timed as torch.mm on one model's matrices (x 3 models, one by one) and as
    one torch.bmm over the 3 models; the faster counts.
    """
    seconds = flops = 0.0
    for w_in, w_out in zip(layer_widths[:-1], layer_widths[1:], strict=True):
        for shape_a, shape_b in (((BATCH, w_in), (w_in, w_out)), ((w_out, BATCH), (BATCH, w_in)),
                                 ((BATCH, w_out), (w_out, w_in))):  # fmt: skip
            a, b = torch.randn(SEEDS, *shape_a), torch.randn(SEEDS, *shape_b)
            out_mm = torch.empty(SEEDS, shape_a[0], shape_b[1])

            def per_model(a=a, b=b, o=out_mm):
                for m in range(SEEDS):
                    torch.mm(a[m], b[m], out=o[m])

            t_mm = median_time(per_model, reps)
            t_bmm = median_time(lambda a=a, b=b, o=out_mm: torch.bmm(a, b, out=o), reps)
            seconds += min(t_mm, t_bmm) / SEEDS
            flops += 2.0 * shape_a[0] * shape_a[1] * shape_b[1]
    return flops / seconds, seconds


def counted_flops(layer_widths: list[int]) -> float:
    return 6.0 * BATCH * sum(a * b for a, b in zip(layer_widths[:-1], layer_widths[1:], strict=True))


def performed_flops(layer_widths: list[int]) -> float:
    """FLOPs actually needed: the first layer needs no input gradient (both engine and plain skip it)."""
    return counted_flops(layer_widths) - 2.0 * BATCH * layer_widths[0] * layer_widths[1]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=5, help="interleaved repeats (medians are printed)")
    p.add_argument("--quick", action="store_true", help="1 repeat, fewer steps (smoke run)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    reps = 1 if args.quick else args.reps
    small_steps, plain_steps = (300, 100) if args.quick else (1500, 300)
    big_blocks = 2 if args.quick else 3
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, host cpus {os.cpu_count()}, "
          f"{reps} interleaved repeats (medians)")  # fmt: skip
    print("plain loop: nn.Sequential + default Adam (CPU: single-tensor) + DataLoader; engine: fused Adam\n")

    print("1) fixed training set (10 000 matrices), fc2 + fc3 x 3 seeds, batch 128: model-steps/s")
    print(f"{'n':>3} {'engine':>10} {'plain':>10} {'ratio':>7}")
    for n in (2, 3):
        data = stream.data_from_arrays(box_arrays(n, 10_000, 256, on_the_fly=False))
        eng, pln = [], []
        for _ in range(reps):
            eng.append(engine_rate(data, ["fc2", "fc3"], small_steps, warm=20))
            pln.append(plain_rate_fixed(data, ["fc2", "fc3"], plain_steps, warm=10))
        e, q = statistics.median(eng), statistics.median(pln)
        print(f"{n:>3} {e:>10.0f} {q:>10.0f} {e / q:>6.1f}x")

    print("\n2) 16x16 on the fly, 3 seeds, batch 128: FLOP/s (counted 6*B*sum(in*out) per model-step)")
    print("   as a fraction of the GEMM rate measured on the same GEMMs; 'work' = fraction with the")
    print("   FLOPs actually performed (no input gradient for layer 1)")
    print(f"{'arch':>5} {'widths':>20} {'GEMM GF/s':>10} {'engine GF/s':>12} {'frac':>6} {'work':>6} "
          f"{'plain GF/s':>11} {'frac':>6} {'work':>6}")  # fmt: skip
    data = stream.data_from_arrays(box_arrays(16, 0, 64, on_the_fly=True))
    block = 16
    for arch in ("fc2", "fc3"):
        w = mlp.widths(arch, 16)
        peaks, eng, pln = [], [], []
        for _ in range(reps):
            peaks.append(gemm_peak(w, reps=3)[0])
            eng.append(engine_rate(data, [arch], block * (big_blocks + 1) + 1, warm=block, block=block))
            pln.append(plain_rate_on_the_fly(data, arch, 4 + block * big_blocks // 2, warm=4))
        peak, e, q = statistics.median(peaks), statistics.median(eng), statistics.median(pln)
        c, d = counted_flops(w), performed_flops(w)
        print(f"{arch:>5} {'-'.join(map(str, w)):>20} {peak / 1e9:>10.1f} {e * c / 1e9:>12.1f} "
              f"{e * c / peak:>6.0%} {e * d / peak:>6.0%} {q * c / 1e9:>11.1f} {q * c / peak:>6.0%} "
              f"{q * d / peak:>6.0%}")  # fmt: skip
    a = torch.randn(2048, 2048)
    square = 2 * 2048**3 / median_time(lambda: a @ a, reps=3)
    print(f"\nreference: square 2048 x 2048 torch.mm {square / 1e9:.1f} GF/s")


if __name__ == "__main__":
    main()
