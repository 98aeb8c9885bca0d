"""Train W1 of the Gai & Zhang s-score problem (eq. 34) for one d and one optimizer, every activation.

One process trains all activations in one batch, so torch is imported once per job:

    python scripts/sscore_train.py data/gz/problems_d8.npz --d 8 --optimizer adam \
        --activation sigmoid relu identity --out t_sig.csv t_relu.csv t_id.csv \
        --seed 1 --runs 5 --steps 2000 --log-every 20 --init-std 1 --lr 0.01
"""

from __future__ import annotations

import torch

from nnmat import cli, io, sscore


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("problems", help="NPZ with X1, X2, Y1, Y2 of shape (trials, d, d) and seed")
    p.add_argument("--d", type=int, required=True, help="matrix dimension")
    p.add_argument("--optimizer", required=True, choices=sscore.OPTIMIZERS)
    p.add_argument("--activation", nargs="+", required=True, choices=sorted(sscore.ACTIVATIONS))
    p.add_argument("--out", nargs="+", required=True, help="trace CSV per activation (same order)")
    p.add_argument("--seed", type=int, required=True, help="master seed of the config")
    p.add_argument("--runs", type=int, required=True, help="first `runs` problem instances")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--log-every", type=int, required=True)
    p.add_argument("--init-std", type=float, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--max-loss-growth", type=float, required=True)
    p.add_argument("--max-rejections", type=int, default=50)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = p.parse_args(argv)
    if len(args.out) != len(args.activation):
        p.error(f"--out needs one path per activation ({len(args.activation)}), got {len(args.out)}")
    log = cli.setup_logging()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    with cli.stage("sscore_train", vars(args), args.provenance) as extra:
        problems = io.read_npz(args.problems)
        progress = cli.Progress(args.steps, f"sscore d={args.d} {args.optimizer}: steps")
        # All activations in one batch: one Python loop and one batched solve per step.
        trace = sscore.train(
            problems,
            d=args.d,
            activation=args.activation,
            optimizer=args.optimizer,
            runs=args.runs,
            steps=args.steps,
            lr=args.lr,
            init_std=args.init_std,
            master_seed=args.seed,
            log_every=args.log_every,
            max_rejections=args.max_rejections,
            max_loss_growth=args.max_loss_growth,
            progress=progress,
        )
        extra["init_seeds"] = sorted(set(trace["seed"].tolist()))
        for final in sscore.final_summary(trace).itertuples(index=False):
            log.info(
                "d=%d %s %s: final s median %.4g (min %.4g, max %.4g), singular steps %d, "
                "growth rejections %d, init redraws %d, flagged runs %d",
                final.d,
                final.activation,
                final.optimizer,
                final.s_final_median,
                final.s_final_min,
                final.s_final_max,
                final.singular_steps_total,
                final.growth_rejections_total,
                final.init_redraws_total,
                final.runs_flagged,
            )
        for activation, out in zip(args.activation, args.out, strict=True):
            io.write_csv(trace[trace["activation"] == activation].reset_index(drop=True), out)


if __name__ == "__main__":
    main()
