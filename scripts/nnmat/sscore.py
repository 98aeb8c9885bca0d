"""The s score of Gai & Zhang (eq. 33-35, Fig. 1): how much an element-wise activation helps.

For a problem (X1, X2, Y1, Y2) of d x d matrices and an activation sigma we minimise over W1

    L(W1) = || Y1 - Y2 sigma(W1 X2)^-1 sigma(W1 X1) ||_F^2                       (eq. 34)

and report s = L(W1) / L_id with L_id = || Y1 - Y2 X2^-1 X1 ||_F^2 (eq. 35), the loss of the identity
activation, which does not depend on W1 (W1 cancels). L_id is computed once per problem. All matrices
are float64 and every inverse is a `torch.linalg.solve_ex` (LU with partial pivoting), never `inv`.

Batching: all runs of one (d, optimizer) train together, W1 has shape (runs, d, d) per activation, and
several activations can share one batch (one block of runs each). The
losses are separable, so the gradient of their sum gives each run its own gradient, and the
optimizers act element-wise, so run k of a batch follows exactly the path it would follow alone (up to
the last bits of floating point; a test checks 1e-12).

Initialisation: W1 has i.i.d. N(0, init_std^2 / d) entries drawn with numpy from the seed
`derive_seed(master, "sscore_init", d, run)`. The seed does not depend on the activation or the
optimizer, so every activation starts from the same W1 on the same problem (a paired comparison).

Singular and non-finite points (our choice; the paper does not discuss them). A ReLU can make
sigma(W1 X2) exactly singular (a row of W1 X2 with no positive entry gives a zero row; a column of
W1 X2 with no positive entry a zero column), and near-singular matrices give huge or non-finite losses.
A point is *bad* for a run when the LU factorisation reports an exact zero pivot (`solve_ex` info > 0)
or the loss or any entry of its gradient is not finite. Then, per run and without touching the others:

* at initialisation the run redraws W1 from the next draws of its own seed stream (``init_redraws``
  counts them); after `max_init_redraws` failed draws the run is marked ``init_failed`` and frozen
  (its s is NaN);
* during training a step that lands on a bad point is rejected (``singular_steps`` counts these), and
  so is a step that multiplies the run's loss by more than `max_loss_growth` (config
  `gz.sscore.max_loss_growth`; counted apart as ``growth_rejections``). Fixed-step gradient descent
  needs the second rule: one step into the neighbourhood of a pole of sigma(W1 X2)^-1 gives a finite
  but huge loss (1e40 and more) from which plain GD never returns. A rejected step restores the run's
  W1 and its optimizer state rows (Adam's moment estimates) to their values before the step and
  retries from there with the same gradient and half the step length (a per-run backtracking; the
  full learning rate returns after an accepted step). A rejected step still counts as one of the
  `steps` iterations, and Adam's shared step counter (bias correction) advances for every run. After
  `max_rejections` consecutive rejections the run is marked ``stalled`` and frozen at its last good W1.

The trace records s at step 0, every `log_every` steps and at the last step, always for the run's
current accepted W1, so s is finite for every run that started.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from . import cli, seeding

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "identity": lambda x: x,
}
OPTIMIZERS = ("adam", "gd")
STATUS_OK, STATUS_STALLED, STATUS_INIT_FAILED = "ok", "stalled", "init_failed"


def as_tensor(a: np.ndarray | torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a, dtype=torch.float64)


def identity_loss(X1: torch.Tensor, X2: torch.Tensor, Y1: torch.Tensor, Y2: torch.Tensor) -> torch.Tensor:
    """L_id = ||Y1 - Y2 X2^-1 X1||_F^2 per problem (batched over leading dimensions)."""
    return ((Y1 - Y2 @ torch.linalg.solve(X2, X1)) ** 2).sum(dim=(-2, -1))


def activate(M: torch.Tensor, activation: str | Sequence[str]) -> torch.Tensor:
    """sigma(M); a sequence of k activations applies the i-th one to the i-th of k equal batch blocks."""
    if isinstance(activation, str):
        return ACTIVATIONS[activation](M)
    blocks = M.chunk(len(activation))
    return torch.cat([ACTIVATIONS[a](b) for a, b in zip(activation, blocks, strict=True)])


def loss(
    W1: torch.Tensor,
    X1: torch.Tensor,
    X2: torch.Tensor,
    Y1: torch.Tensor,
    Y2: torch.Tensor,
    activation: str | Sequence[str],
) -> tuple[torch.Tensor, torch.Tensor]:
    """L(W1) per run (eq. 34) and the LU info per run (> 0: sigma(W1 X2) exactly singular)."""
    z, info = torch.linalg.solve_ex(activate(W1 @ X2, activation), activate(W1 @ X1, activation))
    return ((Y1 - Y2 @ z) ** 2).sum(dim=(-2, -1)), info


def evaluate(
    W1, X1, X2, Y1, Y2, activation: str | Sequence[str]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Loss, gradient dL/dW1 and a per-run `bad` mask (singular, or non-finite loss or gradient)."""
    w = W1.detach().clone().requires_grad_(True)
    values, info = loss(w, X1, X2, Y1, Y2, activation)
    bad = (info > 0) | ~torch.isfinite(values)
    # Bad runs contribute nothing to the summed loss; their gradient is checked (and discarded) below.
    total = torch.where(bad, torch.zeros_like(values), values).sum()
    (grad,) = torch.autograd.grad(total, w)
    bad = bad | ~torch.isfinite(grad).all(dim=(-2, -1))
    grad = torch.where(bad[:, None, None], torch.zeros_like(grad), grad)
    return values.detach(), grad, bad


def init_weights(
    master_seed: int,
    d: int,
    runs: list[int],
    init_std: float,
    is_bad: Callable[[torch.Tensor], torch.Tensor],
    max_init_redraws: int,
) -> tuple[torch.Tensor, list[int], np.ndarray, np.ndarray]:
    """W1 of shape (len(runs), d, d), the init seeds, redraw counts and an init-failed mask.

    `is_bad(W1)` returns the per-run bad mask; bad runs redraw from the next draws of their stream.
    """
    seeds = [seeding.derive_seed(master_seed, "sscore_init", d, r) for r in runs]
    gens = [np.random.default_rng(s) for s in seeds]
    scale = init_std / math.sqrt(d)
    W1 = torch.stack([as_tensor(g.standard_normal((d, d)) * scale) for g in gens])
    redraws = np.zeros(len(runs), dtype=np.int64)
    bad = is_bad(W1).numpy().copy()
    while True:
        retry = bad & (redraws < max_init_redraws)
        if not retry.any():
            break
        for k in np.flatnonzero(retry):
            W1[k] = as_tensor(gens[k].standard_normal((d, d)) * scale)
            redraws[k] += 1
        bad = is_bad(W1).numpy().copy()  # per-run and deterministic: good runs stay good
    return W1, seeds, redraws, bad


def _state_rows(optimizer: torch.optim.Optimizer, param: torch.Tensor) -> dict[str, torch.Tensor]:
    """Clones of the optimizer state tensors that have one row per run (Adam's moments)."""
    return {
        k: v.detach().clone()
        for k, v in optimizer.state.get(param, {}).items()
        if isinstance(v, torch.Tensor) and v.shape == param.shape
    }


def _restore_rows(optimizer, param, snapshot: dict[str, torch.Tensor], mask: torch.Tensor) -> None:
    for k, v in optimizer.state.get(param, {}).items():
        if isinstance(v, torch.Tensor) and v.shape == param.shape:
            # No snapshot yet means the state was created by this very step: its "before" value is 0.
            before = snapshot.get(k, torch.zeros_like(v))
            v[mask] = before[mask]


def train(
    problems: dict[str, np.ndarray],
    d: int,
    activation: str | Sequence[str],
    optimizer: str,
    runs: int,
    steps: int,
    lr: float,
    init_std: float,
    master_seed: int,
    log_every: int,
    max_rejections: int = 50,
    max_init_redraws: int = 100,
    max_loss_growth: float = math.inf,
    progress: cli.Progress | None = None,
) -> pd.DataFrame:
    """Train all `runs` problems of one (d, optimizer) together, for one or several activations.

    Several activations share one batch of len(activation) * runs rows (one Python loop, one batched
    solve per step); every row still follows exactly the path it would follow alone.

    Columns: d, activation, optimizer, run, seed (init seed), problem_seed, step, s, loss,
    loss_identity, singular_steps and growth_rejections (cumulative), init_redraws, status.
    """
    acts = [activation] if isinstance(activation, str) else list(activation)
    unknown = [a for a in acts if a not in ACTIVATIONS]
    if unknown or not acts:
        raise ValueError(f"unknown activation(s) {unknown}; known: {sorted(ACTIVATIONS)}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {OPTIMIZERS}")
    n_avail = problems["X1"].shape[0]
    if runs > n_avail:
        raise ValueError(f"runs ({runs}) > problem instances ({n_avail})")
    if problems["X1"].shape[1:] != (d, d):
        raise ValueError(f"problems have shape {tuple(problems['X1'].shape[1:])}, expected ({d}, {d})")
    # Batch row b = (activation acts[b // runs], run b % runs).
    X1, X2, Y1, Y2 = (as_tensor(problems[k][:runs]).repeat(len(acts), 1, 1) for k in ("X1", "X2", "Y1", "Y2"))
    row_act = [a for a in acts for _ in range(runs)]
    run_ids = list(range(runs)) * len(acts)
    problem_seeds = [int(s) for s in problems["seed"][:runs]] if "seed" in problems else [-1] * runs
    problem_seeds = problem_seeds * len(acts)
    l_id = identity_loss(X1, X2, Y1, Y2)
    key = acts if len(acts) > 1 else acts[0]

    def is_bad(w: torch.Tensor) -> torch.Tensor:
        return evaluate(w, X1, X2, Y1, Y2, key)[2]

    W0, seeds, redraws, init_failed = init_weights(
        master_seed, d, run_ids, init_std, is_bad, max_init_redraws
    )
    runs = len(run_ids)  # from here on: batch rows
    W = torch.nn.Parameter(W0)
    opt = torch.optim.Adam([W], lr=lr) if optimizer == "adam" else torch.optim.SGD([W], lr=lr, momentum=0.0)
    frozen = torch.as_tensor(init_failed.copy())
    stalled = torch.zeros(runs, dtype=torch.bool)
    singular = torch.zeros(runs, dtype=torch.int64)
    growth = torch.zeros(runs, dtype=torch.int64)
    consecutive = torch.zeros(runs, dtype=torch.int64)
    step_scale = torch.ones(runs, dtype=torch.float64)
    rows: list[dict] = []

    def record(step: int, values: torch.Tensor) -> None:
        s = values / l_id
        for k in range(runs):
            status = STATUS_INIT_FAILED if init_failed[k] else STATUS_STALLED if stalled[k] else STATUS_OK
            rows.append(
                {
                    "d": d,
                    "activation": row_act[k],
                    "optimizer": optimizer,
                    "run": run_ids[k],
                    "seed": seeds[k],
                    "problem_seed": problem_seeds[k],
                    "step": step,
                    "s": float("nan") if init_failed[k] else float(s[k]),
                    "loss": float("nan") if init_failed[k] else float(values[k]),
                    "loss_identity": float(l_id[k]),
                    "singular_steps": int(singular[k]),
                    "growth_rejections": int(growth[k]),
                    "init_redraws": int(redraws[k]),
                    "status": status,
                }
            )

    prev_W = W.detach().clone()
    prev_values, prev_grad, prev_state = None, None, {}
    for step in range(steps + 1):
        values, grad, bad = evaluate(W, X1, X2, Y1, Y2, key)
        grew = torch.zeros_like(bad)
        if step > 0:
            # A step that multiplies the loss by more than max_loss_growth is rejected like a singular one.
            grew = ~bad & (values > max_loss_growth * prev_values)
        bad = (bad | grew) & ~frozen
        if step > 0 and bad.any():
            # Reject the step that led here: back to the last good W1 and optimizer state, half the length.
            with torch.no_grad():
                W[bad] = prev_W[bad]
            _restore_rows(opt, W, prev_state, bad)
            values = torch.where(bad, prev_values, values)
            grad = torch.where(bad[:, None, None], prev_grad, grad)
            singular += (bad & ~grew).long()
            growth += (bad & grew).long()
            consecutive = torch.where(bad, consecutive + 1, torch.zeros_like(consecutive))
            step_scale = torch.where(bad, step_scale * 0.5, torch.ones_like(step_scale))
            newly = bad & (consecutive >= max_rejections)
            stalled |= newly
            frozen |= newly
        else:
            consecutive.zero_()
            step_scale.fill_(1.0)
        if step % log_every == 0 or step == steps:
            record(step, values)
        if step == steps:
            break
        prev_W, prev_values, prev_grad = W.detach().clone(), values, grad
        prev_state = _state_rows(opt, W)
        W.grad = torch.where(frozen[:, None, None], torch.zeros_like(grad), grad)
        opt.step()
        with torch.no_grad():
            # Per-run step length (backtracking after a rejection); frozen runs do not move at all.
            scale = torch.where(frozen, torch.zeros_like(step_scale), step_scale)[:, None, None]
            W.copy_(prev_W + scale * (W - prev_W))
        _restore_rows(opt, W, prev_state, frozen)
        if progress is not None:
            progress.update()
    trace = pd.DataFrame(rows)
    # Same row order whatever the batching: by activation (as given), then step, then run.
    order = {a: i for i, a in enumerate(acts)}
    trace["_a"] = trace["activation"].map(order)
    return trace.sort_values(["_a", "step", "run"], kind="stable").drop(columns="_a").reset_index(drop=True)


def final_summary(trace: pd.DataFrame) -> pd.DataFrame:
    """One row per (d, activation, optimizer): quantiles of the final s over runs and failure counts."""
    last = trace[trace["step"] == trace.groupby(["d", "activation", "optimizer"])["step"].transform("max")]
    rows = []
    for (d, act, opt), g in last.groupby(["d", "activation", "optimizer"], sort=True):
        s = g["s"].to_numpy(dtype=float)
        finite = s[np.isfinite(s)]

        def q(p: float, finite=finite) -> float:
            return float(np.quantile(finite, p)) if finite.size else float("nan")

        rows.append(
            {
                "d": int(d),
                "activation": act,
                "optimizer": opt,
                "runs": int(len(g)),
                "steps": int(g["step"].max()),
                "s_final_median": q(0.5),
                "s_final_min": float(finite.min()) if finite.size else float("nan"),
                "s_final_max": float(finite.max()) if finite.size else float("nan"),
                "s_final_q10": q(0.1),
                "s_final_q90": q(0.9),
                "singular_steps_total": int(g["singular_steps"].sum()),
                "growth_rejections_total": int(g["growth_rejections"].sum()),
                "init_redraws_total": int(g["init_redraws"].sum()),
                "runs_flagged": int((g["status"] != STATUS_OK).sum()),
            }
        )
    return pd.DataFrame(rows)
