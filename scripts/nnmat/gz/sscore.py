"""The s score of Gai & Zhang (eq. 33-35, Fig. 1): how much an element-wise activation helps.

For a problem (X1, X2, Y1, Y2) of d x d matrices and an activation sigma we minimise over W1

    L(W1) = || Y1 - Y2 sigma(W1 X2)^-1 sigma(W1 X1) ||_F^2                       (eq. 34)

and report s = L(W1) / L_id with L_id = || Y1 - Y2 X2^-1 X1 ||_F^2 (eq. 35), the loss of the identity
activation, which does not depend on W1 (W1 cancels). L_id is computed once per problem. All matrices
are float64 and every inverse is a `torch.linalg.solve_ex` (LU with partial pivoting), never `inv`.

Batching: all runs of one (d, optimizer) train together, W1 has shape (runs, d, d) per activation, and
several activations can share one batch (one block of runs each). The losses are separable, so the
gradient of their sum gives each run its own gradient, and the optimizers act element-wise, so run k of
a batch follows exactly the path it would follow alone (up to the last bits of floating point; a test
checks 1e-12).

Initialisation: W1 has i.i.d. N(0, init_std^2 / d) entries drawn with numpy from the seed
`derive_seed(master, "sscore_init", d, run)`. The seed does not depend on the activation or the
optimizer, so every activation starts from the same W1 on the same problem (a paired comparison).

Singular and non-finite points (our choice; the paper does not discuss them). A ReLU can make
sigma(W1 X2) exactly singular (a row of W1 X2 with no positive entry gives a zero row; a column of
W1 X2 with no positive entry a zero column), and near-singular matrices give huge or non-finite losses.
A point is *bad* for a run when the LU factorisation reports an exact zero pivot (`solve_ex` info > 0)
or the loss or any entry of its gradient is not finite. Then, per run and without touching the others:

* at initialisation the run redraws W1 from the next draws of its own seed stream (``init_redraws``
  counts them); after MAX_INIT_REDRAWS failed draws the run is marked ``init_failed`` and frozen
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
  `max_rejections` (config `gz.sscore.max_rejections`) consecutive rejections the run is marked
  ``stalled`` and frozen at its last good W1.

The trace records s at step 0, every `log_every` steps and at the last step, always for the run's
current accepted W1, so s is finite for every run that started.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .. import cli, seeding

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "identity": lambda x: x,
}
OPTIMIZERS = ("adam", "gd")
STATUS_OK, STATUS_STALLED, STATUS_INIT_FAILED = "ok", "stalled", "init_failed"
# A run whose start is bad redraws W1 at most this often, then is marked init_failed (a safety limit,
# not a setting: an exactly singular start is rare and an independent redraw almost surely fixes it).
MAX_INIT_REDRAWS = 100


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


@dataclass(frozen=True)
class TrainSettings:
    """One gz_sscore_train.py job: one (d, optimizer), every activation in `activations`.

    seed: master seed (config `seed`); lr: gz.sscore.lr[optimizer]; the other fields are the keys of
    gz.sscore with the same names (see config/schema.yaml and the module docstring).
    """

    seed: int
    d: int
    optimizer: str
    activations: tuple[str, ...]
    runs: int
    steps: int
    log_every: int
    init_std: float
    lr: float
    max_loss_growth: float
    max_rejections: int

    def __post_init__(self) -> None:
        acts = (self.activations,) if isinstance(self.activations, str) else tuple(self.activations)
        unknown = [a for a in acts if a not in ACTIVATIONS]
        if unknown or not acts:
            raise ValueError(f"activations: unknown {unknown} or none; known: {sorted(ACTIVATIONS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: unknown {self.optimizer!r}; known: {OPTIMIZERS}")
        object.__setattr__(self, "activations", acts)
        for name in ("init_std", "lr", "max_loss_growth"):
            object.__setattr__(self, name, float(getattr(self, name)))


@dataclass(frozen=True)
class _Batch:
    """The problems of one training batch: row b = (activation acts[b // runs], run b % runs)."""

    X1: torch.Tensor
    X2: torch.Tensor
    Y1: torch.Tensor
    Y2: torch.Tensor
    l_id: torch.Tensor  # L_id per row (eq. 35)
    acts: list[str]
    key: str | list[str]  # the activation argument of loss(): one name, or one per block of rows
    row_act: list[str]
    run_ids: list[int]
    problem_seeds: list[int]

    def evaluate(self, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return evaluate(W, self.X1, self.X2, self.Y1, self.Y2, self.key)

    def is_bad(self, W: torch.Tensor) -> torch.Tensor:
        return self.evaluate(W)[2]


def _batch(problems: dict[str, np.ndarray], settings: TrainSettings) -> _Batch:
    """Check the problems against the settings and stack the first `runs` once per activation."""
    acts, runs, d = list(settings.activations), settings.runs, settings.d
    n_avail = problems["X1"].shape[0]
    if runs > n_avail:
        raise ValueError(f"runs ({runs}) > problem instances ({n_avail})")
    if problems["X1"].shape[1:] != (d, d):
        raise ValueError(f"problems have shape {tuple(problems['X1'].shape[1:])}, expected ({d}, {d})")
    X1, X2, Y1, Y2 = (as_tensor(problems[k][:runs]).repeat(len(acts), 1, 1) for k in ("X1", "X2", "Y1", "Y2"))
    problem_seeds = [int(s) for s in problems["seed"][:runs]] if "seed" in problems else [-1] * runs
    return _Batch(
        X1=X1,
        X2=X2,
        Y1=Y1,
        Y2=Y2,
        l_id=identity_loss(X1, X2, Y1, Y2),
        acts=acts,
        key=acts if len(acts) > 1 else acts[0],
        row_act=[a for a in acts for _ in range(runs)],
        run_ids=list(range(runs)) * len(acts),
        problem_seeds=problem_seeds * len(acts),
    )


@dataclass
class _RunState:
    """Per-row bookkeeping of the rejection rules (see the module docstring)."""

    seeds: list[int]
    redraws: np.ndarray
    init_failed: np.ndarray
    frozen: torch.Tensor
    stalled: torch.Tensor
    singular: torch.Tensor
    growth: torch.Tensor
    consecutive: torch.Tensor
    step_scale: torch.Tensor

    @classmethod
    def start(cls, seeds: list[int], redraws: np.ndarray, init_failed: np.ndarray) -> _RunState:
        rows = len(seeds)
        return cls(
            seeds=seeds,
            redraws=redraws,
            init_failed=init_failed,
            frozen=torch.as_tensor(init_failed.copy()),
            stalled=torch.zeros(rows, dtype=torch.bool),
            singular=torch.zeros(rows, dtype=torch.int64),
            growth=torch.zeros(rows, dtype=torch.int64),
            consecutive=torch.zeros(rows, dtype=torch.int64),
            step_scale=torch.ones(rows, dtype=torch.float64),
        )

    def reject(self, bad: torch.Tensor, grew: torch.Tensor, max_rejections: int) -> None:
        """Count the rejected rows, halve their next step, freeze those rejected too often in a row."""
        self.singular += (bad & ~grew).long()
        self.growth += (bad & grew).long()
        self.consecutive = torch.where(bad, self.consecutive + 1, torch.zeros_like(self.consecutive))
        self.step_scale = torch.where(bad, self.step_scale * 0.5, torch.ones_like(self.step_scale))
        newly = bad & (self.consecutive >= max_rejections)
        self.stalled |= newly
        self.frozen |= newly

    def accept(self) -> None:
        """No row rejected this step: every row is back to the full step length."""
        self.consecutive.zero_()
        self.step_scale.fill_(1.0)

    def status(self, k: int) -> str:
        return STATUS_INIT_FAILED if self.init_failed[k] else STATUS_STALLED if self.stalled[k] else STATUS_OK


def _trace_rows(
    step: int, values: torch.Tensor, batch: _Batch, state: _RunState, settings: TrainSettings
) -> list[dict]:
    """The trace rows of one recorded step, one per batch row."""
    s = values / batch.l_id
    failed = state.init_failed
    return [
        {
            "d": settings.d,
            "activation": batch.row_act[k],
            "optimizer": settings.optimizer,
            "run": batch.run_ids[k],
            "seed": state.seeds[k],
            "problem_seed": batch.problem_seeds[k],
            "step": step,
            "s": float("nan") if failed[k] else float(s[k]),
            "loss": float("nan") if failed[k] else float(values[k]),
            "loss_identity": float(batch.l_id[k]),
            "singular_steps": int(state.singular[k]),
            "growth_rejections": int(state.growth[k]),
            "init_redraws": int(state.redraws[k]),
            "status": state.status(k),
        }
        for k in range(len(batch.run_ids))
    ]


def _optimizer(settings: TrainSettings, W: torch.nn.Parameter) -> torch.optim.Optimizer:
    if settings.optimizer == "adam":
        return torch.optim.Adam([W], lr=settings.lr)
    return torch.optim.SGD([W], lr=settings.lr, momentum=0.0)


def _sorted_trace(rows: list[dict], acts: list[str]) -> pd.DataFrame:
    """Same row order whatever the batching: by activation (as given), then step, then run."""
    trace = pd.DataFrame(rows)
    order = {a: i for i, a in enumerate(acts)}
    trace["_a"] = trace["activation"].map(order)
    return trace.sort_values(["_a", "step", "run"], kind="stable").drop(columns="_a").reset_index(drop=True)


def train(
    problems: dict[str, np.ndarray], settings: TrainSettings, progress: cli.Progress | None = None
) -> pd.DataFrame:
    """Train the first `settings.runs` problems of one (d, optimizer) together, for every activation.

    Several activations share one batch of len(activations) * runs rows (one Python loop, one batched
    solve per step); every row still follows exactly the path it would follow alone.

    Columns: d, activation, optimizer, run, seed (init seed), problem_seed, step, s, loss,
    loss_identity, singular_steps and growth_rejections (cumulative), init_redraws, status.
    """
    batch = _batch(problems, settings)
    W0, seeds, redraws, init_failed = init_weights(
        settings.seed, settings.d, batch.run_ids, settings.init_std, batch.is_bad, MAX_INIT_REDRAWS
    )
    state = _RunState.start(seeds, redraws, init_failed)
    W = torch.nn.Parameter(W0)
    opt = _optimizer(settings, W)
    steps = settings.steps
    rows: list[dict] = []
    prev_W = W.detach().clone()
    prev_values, prev_grad, prev_state = None, None, {}
    for step in range(steps + 1):
        values, grad, bad = batch.evaluate(W)
        grew = torch.zeros_like(bad)
        if step > 0:
            # A step that multiplies the loss by more than max_loss_growth is rejected like a singular one.
            grew = ~bad & (values > settings.max_loss_growth * prev_values)
        bad = (bad | grew) & ~state.frozen
        if step > 0 and bad.any():
            # Reject the step that led here: back to the last good W1 and optimizer state, half the length.
            with torch.no_grad():
                W[bad] = prev_W[bad]
            _restore_rows(opt, W, prev_state, bad)
            values = torch.where(bad, prev_values, values)
            grad = torch.where(bad[:, None, None], prev_grad, grad)
            state.reject(bad, grew, settings.max_rejections)
        else:
            state.accept()
        if step % settings.log_every == 0 or step == steps:
            rows.extend(_trace_rows(step, values, batch, state, settings))
        if step == steps:
            break
        prev_W, prev_values, prev_grad = W.detach().clone(), values, grad
        prev_state = _state_rows(opt, W)
        frozen = state.frozen
        W.grad = torch.where(frozen[:, None, None], torch.zeros_like(grad), grad)
        opt.step()
        with torch.no_grad():
            # Per-run step length (backtracking after a rejection); frozen runs do not move at all.
            scale = torch.where(frozen, torch.zeros_like(state.step_scale), state.step_scale)[:, None, None]
            W.copy_(prev_W + scale * (W - prev_W))
        _restore_rows(opt, W, prev_state, frozen)
        if progress is not None:
            progress.update()
    return _sorted_trace(rows, batch.acts)


def final_summary(trace: pd.DataFrame) -> pd.DataFrame:
    """One row per (d, activation, optimizer, at): quantiles of s over runs and failure counts.

    at == 'final': s at the last step; at == 'init': s of the untrained W1 at step 0 (the null of the
    "s close to 0" and "s decreases with d" claims: the same runs before any optimisation).
    """
    keys = ["d", "activation", "optimizer"]
    last = trace[trace["step"] == trace.groupby(keys)["step"].transform("max")]
    first = trace[trace["step"] == trace.groupby(keys)["step"].transform("min")]
    rows = []
    for at, part in (("final", last), ("init", first)):
        for (d, act, opt), g in part.groupby(keys, sort=True):
            s = g["s"].to_numpy(dtype=float)
            finite = s[np.isfinite(s)]

            def q(p: float, finite=finite) -> float:
                return float(np.quantile(finite, p)) if finite.size else float("nan")

            rows.append(
                {
                    "d": int(d),
                    "activation": act,
                    "optimizer": opt,
                    "at": at,
                    "runs": int(len(g)),
                    "steps": int(g["step"].max()),
                    "s_median": q(0.5),
                    "s_min": float(finite.min()) if finite.size else float("nan"),
                    "s_max": float(finite.max()) if finite.size else float("nan"),
                    "s_q10": q(0.1),
                    "s_q90": q(0.9),
                    "singular_steps_total": int(g["singular_steps"].sum()),
                    "growth_rejections_total": int(g["growth_rejections"].sum()),
                    "init_redraws_total": int(g["init_redraws"].sum()),
                    "runs_flagged": int((g["status"] != STATUS_OK).sum()),
                }
            )
    return pd.DataFrame(rows)
