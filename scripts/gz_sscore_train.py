"""Train W1 of the Gai & Zhang s-score problem (eq. 34) for one d and one optimizer, every activation.

One process trains all activations in one batch, so torch is imported once per job; one trace CSV per
activation, in the order of `activations`:

    python scripts/gz_sscore_train.py data/gz/problems_d8.npz --settings '{"seed": 1, "d": 8,
        "optimizer": "adam", "activations": ["sigmoid", "relu", "identity"], "runs": 5, "steps": 2000,
        "log_every": 20, "init_std": 1.0, "lr": 0.01, "max_loss_growth": 10.0, "max_rejections": 50}' \
        --out t_sig.csv t_relu.csv t_id.csv
"""

from __future__ import annotations

import torch

from nnmat import cli, io
from nnmat.gz import sscore


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("problems", help="NPZ with X1, X2, Y1, Y2 of shape (trials, d, d) and seed")
    cli.add_settings(p, sscore.TrainSettings)
    p.add_argument("--out", nargs="+", required=True, help="trace CSV per activation (same order)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = p.parse_args(argv)
    s = args.settings
    if len(args.out) != len(s.activations):
        p.error(f"--out needs one path per activation ({len(s.activations)}), got {len(args.out)}")
    log = cli.setup_logging()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    with cli.stage("sscore_train", cli.params(args), args.provenance) as extra:
        problems = io.read_npz(args.problems)
        progress = cli.Progress(s.steps, f"sscore d={s.d} {s.optimizer}: steps")
        # All activations in one batch: one Python loop and one batched solve per step.
        trace = sscore.train(problems, s, progress=progress)
        extra["init_seeds"] = sorted(set(trace["seed"].tolist()))
        summary = sscore.final_summary(trace)
        for final in summary[summary["at"] == "final"].itertuples(index=False):
            log.info(
                "d=%d %s %s: final s median %.4g (min %.4g, max %.4g), singular steps %d, "
                "growth rejections %d, init redraws %d, flagged runs %d",
                final.d,
                final.activation,
                final.optimizer,
                final.s_median,
                final.s_min,
                final.s_max,
                final.singular_steps_total,
                final.growth_rejections_total,
                final.init_redraws_total,
                final.runs_flagged,
            )
        for activation, out in zip(s.activations, args.out, strict=True):
            io.write_csv(trace[trace["activation"] == activation].reset_index(drop=True), out)


if __name__ == "__main__":
    main()
