"""Training of the Ji, Wu & Xi inversion MLPs (arXiv 2506.00642): every model of one dataset in one loop.

Training (Appendix B, C): Adam (lr 5e-5, L2 weight decay 1e-7), CosineAnnealingWarmRestarts stepped once
per optimisation step, MSE, batch 128; the values come from `TrainSettings` (config ji.training and the
dataset's archs and steps). The models and their hand-written gradients are in `nnmat.ji.mlp`, the
batches in `nnmat.ji.stream`.

One process and one Python loop train many models. The loss that is minimised is the sum over models
of each model's mean MSE, so model m gets exactly the gradient it would get alone, and Adam acts
element-wise, so model m follows the path it would follow alone (a test checks 1e-6 against a plain
per-model nn.Sequential loop). One Adam updates all architectures: the fused kernel where PyTorch has
one for the device (on the CPU 10x faster than `foreach` for the 16 x 16 networks), else `foreach`.
Measured speeds: benchmarks/train_throughput.py.

Checkpoint/resume. Every `checkpoint_every` steps (and at the end) one checkpoint file holds all
parameters, the optimizer and scheduler states, the generator states at the start of the current data
block (the block is regenerated on resume), the loss accumulators, the status of every model and the
curves so far, plus the run's identity (every settings field, the data digest, the engine version) and
its fingerprint (`run_fingerprint`, which also names the checkpoint file). A run killed after a
checkpoint and started again ends with bit-identical weights and curves (CPU, same thread count). A
checkpoint of another run is never overwritten or deleted: the run stops with an error naming the
fields that differ.

Divergence. Every `log_every` steps the accumulated train loss of every model is checked; a model whose
loss went non-finite is marked ``flagged`` (with the step range in ``reason``) and frozen: its gradient
is zeroed and its parameters restored after every later step. Models never interact, so the others are
unaffected.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.optim.optimizer import _get_fused_kernels_supported_devices

from .. import cli, io, seeding
from .mlp import ARCHS, StackedMLP, n_params, widths
from .stream import OTF_BLOCK_STEPS, BatchStream, InversionData

log = logging.getLogger(__name__)

STATUS_OK, STATUS_FLAGGED = "ok", "flagged"
ENGINE_VERSION = 1  # part of the run identity: bump when the training arithmetic changes
CHECKPOINT_FORMAT = 2  # part of the run identity: bump when the checkpoint layout changes
EVAL_CHUNK = 4096  # test matrices per evaluation batch (memory only: the errors do not depend on it)


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """One training job: config ji.training, the dataset's archs and steps, and the derived schedule
    (config/schema.yaml documents every field; the rule derives t0_steps and log_every)."""

    dataset: str  # dataset name: a key of every output row and of every model's seed streams
    archs: Sequence[str]  # architectures, trained together (each with `seeds` models)
    seeds: int  # models per architecture
    seed: int  # master seed of the config
    steps: int  # optimisation steps per model
    batch_size: int
    lr: float  # Adam learning rate
    weight_decay: float  # Adam's L2 weight decay
    t0_steps: int  # CosineAnnealingWarmRestarts T_0 (steps)
    t_mult: int  # CosineAnnealingWarmRestarts T_mult
    log_every: int  # a curve row every this many steps (and at the last step)
    checkpoint_every: int  # a checkpoint every this many steps (and at the end), when there is a path
    device: str  # "cpu" or "cuda[:k]"


# --------------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def evaluate(
    model: StackedMLP, X: torch.Tensor, Y: torch.Tensor, chunk: int = EVAL_CHUNK
) -> dict[str, np.ndarray]:
    """Per-model test errors in float32 (sums in float64): the paper's average absolute error (`mae`,
    mean over matrices and entries of |out - inv|), the max abs error and the mean relative Frobenius
    error ||out - inv||_F / ||inv||_F over matrices."""
    device = model.weights[0].device
    M = model.n_models
    abs_sum = torch.zeros(M, dtype=torch.float64, device=device)
    abs_max = torch.zeros(M, dtype=torch.float64, device=device)
    rel_sum = torch.zeros(M, dtype=torch.float64, device=device)
    for start in range(0, X.shape[0], chunk):
        x = X[start : start + chunk].to(device)
        y = Y[start : start + chunk].to(device)
        err = model.predict(x.expand(M, -1, -1).contiguous()).sub_(y)
        rel = torch.linalg.vector_norm(err, dim=2) / torch.linalg.vector_norm(y, dim=1)
        err.abs_()
        abs_sum += err.sum(dim=(1, 2), dtype=torch.float64)
        abs_max = torch.maximum(abs_max, err.amax(dim=(1, 2)).double())
        rel_sum += rel.sum(dim=1, dtype=torch.float64)
    count = X.shape[0]
    return {
        "test_mae": (abs_sum / (count * X.shape[1])).cpu().numpy(),
        "test_max_abs_err": abs_max.cpu().numpy(),
        "test_rel_fro_err_mean": (rel_sum / count).cpu().numpy(),
    }


# --------------------------------------------------------------------------------------------------
# Seeds, device, run identity, checkpoint files, optimiser


def model_seeds(master_seed: int, dataset: str, arch: str, seed_index: int) -> tuple[int, int]:
    """(init seed, batch seed) of one model: independent of the other models and of the job layout."""
    return (
        seeding.derive_seed(master_seed, "ji_init", dataset, arch, seed_index),
        seeding.derive_seed(master_seed, "ji_batches", dataset, arch, seed_index),
    )


def resolve_device(device: str | torch.device) -> torch.device:
    """torch.device for "cpu"/"cuda[:k]"; RuntimeError when CUDA is asked for but not available."""
    dev = torch.device(device)
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but torch.cuda.is_available() is False")
    return dev


def run_identity(
    data: InversionData, settings: TrainSettings, otf_block_steps: int = OTF_BLOCK_STEPS
) -> dict[str, Any]:
    """Everything that defines a run: every settings field, the data, and how the engine computes."""
    return {
        **dataclasses.asdict(settings),
        "archs": list(settings.archs),
        "data_digest": data.digest,
        "engine_version": ENGINE_VERSION,
        "checkpoint_format": CHECKPOINT_FORMAT,
        "otf_block_steps": int(otf_block_steps) if data.on_the_fly else None,
    }


def run_fingerprint(
    data: InversionData, settings: TrainSettings, otf_block_steps: int = OTF_BLOCK_STEPS
) -> str:
    """Short digest of `run_identity`: names the run's checkpoint file and is stored in it."""
    return cli.fingerprint(run_identity(data, settings, otf_block_steps))


def fingerprint_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable 'field old != new' for every field that differs (old = the checkpoint's)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True, default=str):
            out.append(f"{key} {a} != {b}")
    return out


def save_checkpoint(state: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Written atomically: a kill never leaves half a checkpoint."""
    io.write_torch(dict(state), path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any] | None:
    """The checkpoint at `path` (tensors and plain Python only: weights_only=True), or None if absent.

    A checkpoint that cannot be read (cut short by a full disk, damaged, not a torch file) is named,
    moved aside to `<path>.corrupt` (kept for inspection, never read again) and training restarts
    from scratch: losing a resume point costs time, reading a damaged one would cost correctness."""
    if not os.path.exists(path):
        return None
    try:
        state = io.read_torch(path)
        if not isinstance(state, dict):
            raise ValueError(f"holds a {type(state).__name__}, not a checkpoint dict")
        return state
    except Exception as exc:  # torch raises RuntimeError, OSError, pickle errors, ... for damaged files
        aside = f"{path}.corrupt"
        os.replace(path, aside)
        log.warning("checkpoint %s is unreadable (%s: %s); moved to %s, training from scratch",
                    path, type(exc).__name__, exc, aside)  # fmt: skip
        return None


def make_optimizer(params: list[torch.nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Adam:
    """Adam with L2 weight decay; the fused kernel where the device has one, else foreach."""
    fused = params[0].device.type in _get_fused_kernels_supported_devices()
    kind = {"fused": True} if fused else {"foreach": True}
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, **kind)


# --------------------------------------------------------------------------------------------------
# Training


@dataclasses.dataclass
class Group:
    """All seeds of one architecture: a StackedMLP and its batch stream, plus per-model bookkeeping."""

    arch: str
    model: StackedMLP
    stream: BatchStream
    batch_seeds: list[int]
    loss_acc: torch.Tensor
    status: list[str]
    reason: list[str]
    frozen_params: list[torch.Tensor] | None = None  # params of frozen models, restored after each step

    @property
    def frozen(self) -> list[bool]:
        return [s != STATUS_OK for s in self.status]

    def freeze(self) -> None:
        """Remember the current parameters of the frozen models (restored after every later step)."""
        frozen = self.frozen
        if any(frozen):
            mask = torch.tensor(frozen, device=self.loss_acc.device)
            self.frozen_params = [t[mask].clone() for t in self.model.tensors()]

    def zero_frozen_grads(self) -> None:
        if self.frozen_params is not None:
            mask = torch.tensor(self.frozen, device=self.loss_acc.device)
            for grad in self.model.grads():
                grad[mask] = 0.0

    def restore_frozen(self) -> None:
        if self.frozen_params is not None:
            mask = torch.tensor(self.frozen, device=self.loss_acc.device)
            for t, frozen in zip(self.model.tensors(), self.frozen_params, strict=True):
                t[mask] = frozen


@dataclasses.dataclass
class TrainResult:
    """Curves and final errors (tidy DataFrames) and the trained models as nn.Sequential state dicts."""

    curves: pd.DataFrame
    final: pd.DataFrame
    state_dicts: dict[tuple[str, int], dict[str, torch.Tensor]]
    resumed_from: int | None  # step of the checkpoint the run started from (None: from scratch)
    fingerprint: str = ""  # of the run's identity (as in its checkpoint)


_CURVE_COLUMNS = (
    "dataset",
    "arch",
    "seed",
    "seed_index",
    "step",
    "lr",
    "train_loss",
    "test_mae",
    "test_rel_fro_err_mean",
)


@dataclasses.dataclass
class _Run:
    """One run in progress: its groups, optimiser and scheduler, position and curves (a checkpoint)."""

    groups: list[Group]
    opt: torch.optim.Adam
    sched: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts
    identity: dict[str, Any]
    fingerprint: str
    step: int = 0
    count: int = 0  # steps accumulated in the groups' loss_acc since the last curve row
    last_log: int = 0
    curves: dict[str, list] = dataclasses.field(default_factory=lambda: {k: [] for k in _CURVE_COLUMNS})

    def state_dict(self) -> dict[str, Any]:
        groups = self.groups
        return {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint,
            "identity": self.identity,
            "step": self.step,
            "count": self.count,
            "last_log": self.last_log,
            "models": {g.arch: g.model.state_dict() for g in groups},
            "streams": {g.arch: g.stream.state_dict() for g in groups},
            "loss_acc": {g.arch: g.loss_acc.cpu() for g in groups},
            "status": {g.arch: list(g.status) for g in groups},
            "reason": {g.arch: list(g.reason) for g in groups},
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "curves": self.curves,
        }

    def load_state_dict(self, ckpt: Mapping[str, Any]) -> None:
        self.step, self.count, self.last_log = int(ckpt["step"]), int(ckpt["count"]), int(ckpt["last_log"])
        for g in self.groups:
            g.model.load_state_dict(ckpt["models"][g.arch])
            g.stream.load_state_dict(ckpt["streams"][g.arch])
            g.loss_acc.copy_(ckpt["loss_acc"][g.arch])
            g.status, g.reason = list(ckpt["status"][g.arch]), list(ckpt["reason"][g.arch])
            g.freeze()
        self.opt.load_state_dict(ckpt["optimizer"])
        self.sched.load_state_dict(ckpt["scheduler"])
        self.curves = {k: list(v) for k, v in ckpt["curves"].items()}

    def step_once(self) -> float:
        """One optimisation step of every model; returns the learning rate the step used."""
        for g in self.groups:
            x, y = g.stream.next()
            g.loss_acc += g.model.loss_and_grad_(x, y)
            g.zero_frozen_grads()
        lr_used = self.opt.param_groups[0]["lr"]
        self.opt.step()
        self.sched.step()
        for g in self.groups:
            g.restore_frozen()
        self.step += 1
        self.count += 1
        return lr_used


def check_settings(data: InversionData, settings: TrainSettings, otf_block_steps: int) -> None:
    """ValueError naming the first bad field: architectures, counts (each >= 1), rates, data shapes."""
    archs = list(settings.archs)
    unknown = [a for a in archs if a not in ARCHS]
    if unknown or not archs:
        raise ValueError(f"unknown or no architecture(s) {list(unknown)}; valid: {', '.join(ARCHS)}")
    if len(set(archs)) != len(archs):
        raise ValueError(f"architectures repeat: {archs}")
    counts = {k: getattr(settings, k) for k in ("seeds", "steps", "batch_size", "t0_steps", "t_mult")}
    counts.update(log_every=settings.log_every, checkpoint_every=settings.checkpoint_every)
    counts["otf_block_steps"] = otf_block_steps
    for name, value in counts.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value}")
    if not (settings.lr > 0 and math.isfinite(settings.lr)):
        raise ValueError(f"lr must be positive and finite, got {settings.lr}")
    if not (settings.weight_decay >= 0 and math.isfinite(settings.weight_decay)):
        raise ValueError(f"weight_decay must be >= 0 and finite, got {settings.weight_decay}")
    _check_data(data)


def _check_data(data: InversionData) -> None:
    d = data.n * data.n
    for name, t in (
        ("X_test", data.X_test),
        ("Y_test", data.Y_test),
        ("X_train", data.X_train),
        ("Y_train", data.Y_train),
    ):
        if t is not None and (t.ndim != 2 or t.shape[1] != d):
            raise ValueError(f"{name} has shape {tuple(t.shape)}, expected (count, {d}) for n = {data.n}")
    if data.X_test.shape[0] != data.Y_test.shape[0]:
        raise ValueError(f"X_test has {data.X_test.shape[0]} rows but Y_test {data.Y_test.shape[0]}")
    if (data.X_train is None) != (data.Y_train is None) or (
        data.X_train is not None and data.X_train.shape[0] != data.Y_train.shape[0]
    ):
        raise ValueError("X_train and Y_train must both be given with the same number of rows")


def _make_groups(
    data: InversionData, settings: TrainSettings, dev: torch.device, otf_block_steps: int
) -> list[Group]:
    """One group per architecture, its models initialised and its stream seeded per model."""
    groups = []
    for arch in settings.archs:
        seeds = [model_seeds(settings.seed, settings.dataset, arch, i) for i in range(settings.seeds)]
        init_seeds, batch_seeds = [s[0] for s in seeds], [s[1] for s in seeds]
        groups.append(
            Group(
                arch=arch,
                model=StackedMLP(widths(arch, data.n), init_seeds, dev),
                stream=BatchStream(data, settings.batch_size, batch_seeds, dev, otf_block_steps),
                batch_seeds=batch_seeds,
                loss_acc=torch.zeros(settings.seeds, device=dev),
                status=[STATUS_OK] * settings.seeds,
                reason=[""] * settings.seeds,
            )
        )
    return groups


def _start(
    data: InversionData,
    settings: TrainSettings,
    otf_block_steps: int,
    checkpoint_path: str | os.PathLike | None,
) -> tuple[_Run, int | None]:
    """A fresh run, or the run of the checkpoint at `checkpoint_path` (ValueError if another run's)."""
    groups = _make_groups(data, settings, resolve_device(settings.device), otf_block_steps)
    opt = make_optimizer([g.model.flat for g in groups], settings.lr, settings.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=settings.t0_steps, T_mult=settings.t_mult, eta_min=0.0
    )
    identity = run_identity(data, settings, otf_block_steps)
    run = _Run(groups, opt, sched, identity, cli.fingerprint(identity))
    ckpt = load_checkpoint(checkpoint_path) if checkpoint_path is not None else None
    if ckpt is None:
        return run, None
    if ckpt.get("fingerprint") != run.fingerprint:
        diff = fingerprint_diff(ckpt.get("identity", {}), identity)
        raise ValueError(
            f"checkpoint {checkpoint_path} was written by another config: {'; '.join(diff) or 'format'} "
            "(checkpoint value != this run's). It is left untouched: delete it or choose another path."
        )
    run.load_state_dict(ckpt)
    log.info(
        "resumed %s from checkpoint %s at step %d/%d",
        settings.dataset,
        checkpoint_path,
        run.step,
        settings.steps,
    )
    return run, run.step


def train(
    data: InversionData,
    settings: TrainSettings,
    *,
    checkpoint_path: str | os.PathLike | None = None,
    otf_block_steps: int = OTF_BLOCK_STEPS,
    eval_chunk: int = EVAL_CHUNK,
    progress_every_s: float = 10.0,
    on_step: Callable[[int, dict[str, StackedMLP]], None] | None = None,
) -> TrainResult:
    """Train settings.seeds models of every architecture in settings.archs on one dataset, in one loop.

    One Adam (all parameters) and one CosineAnnealingWarmRestarts(T_0=t0_steps, T_mult=t_mult,
    eta_min=0) stepped once per optimisation step; every model sees its own batches. Curves are logged
    every `log_every` steps and at the last step. With `checkpoint_path`, a checkpoint is written every
    `checkpoint_every` steps and at the end, and an existing one of the same run is resumed (one of
    another run raises ValueError and is left untouched). `on_step(step, {arch: model})` is called
    after each step (after its checkpoint): tests use it to stop a run or to poison a model.
    `otf_block_steps`, `eval_chunk` and `progress_every_s` change speed and logging, not the numbers.

    Curves (one row per model and logged step): dataset, arch, seed (init seed), seed_index, step, lr
    (used by that step), train_loss (mean of the per-step mean MSE since the previous row),
    test_mae, test_rel_fro_err_mean. Final (one row per model): dataset, arch, seed, batch_seed,
    seed_index, n, n_params, steps, train_loss, test_mae, test_max_abs_err, test_rel_fro_err_mean,
    n_test, status ("ok" / "flagged"), reason.
    """
    check_settings(data, settings, otf_block_steps)
    run, resumed_from = _start(data, settings, otf_block_steps, checkpoint_path)
    steps = settings.steps
    what = f"ji {settings.dataset} ({'+'.join(settings.archs)} x {settings.seeds} seeds): steps"
    progress = cli.Progress(steps - run.step, what, every_s=progress_every_s)
    models = {g.arch: g.model for g in run.groups}
    while run.step < steps:
        lr_used = run.step_once()
        step = run.step
        if step % settings.log_every == 0 or step == steps:
            _log_step(run, data, settings.dataset, lr_used, eval_chunk)
            run.count, run.last_log = 0, step
        if checkpoint_path is not None and (step == steps or step % settings.checkpoint_every == 0):
            save_checkpoint(run.state_dict(), checkpoint_path)
        progress.update()
        if on_step is not None:
            on_step(step, models)
    result = _finish(run.groups, data, settings.dataset, steps, run.curves, eval_chunk, resumed_from)
    result.fingerprint = run.fingerprint
    return result


def _log_step(run: _Run, data: InversionData, dataset: str, lr_used: float, eval_chunk: int) -> None:
    """Append one curve row per model, flag models whose train loss went non-finite, log a summary."""
    step, curves = run.step, run.curves
    for g in run.groups:
        train_loss = (g.loss_acc / run.count).cpu().numpy().astype(np.float64)
        g.loss_acc.zero_()
        newly = [m for m, v in enumerate(train_loss) if g.status[m] == STATUS_OK and not np.isfinite(v)]
        for m in newly:
            g.status[m] = STATUS_FLAGGED
            g.reason[m] = f"non-finite train loss between steps {run.last_log + 1} and {step}"
            log.warning("%s %s seed %d: %s; frozen", dataset, g.arch, m, g.reason[m])
        if newly:
            g.freeze()
        errs = evaluate(g.model, data.X_test, data.Y_test, eval_chunk)
        for m in range(g.model.n_models):
            row = (
                dataset,
                g.arch,
                g.model.seeds[m],
                m,
                step,
                float(lr_used),
                float(train_loss[m]),
                float(errs["test_mae"][m]),
                float(errs["test_rel_fro_err_mean"][m]),
            )
            for k, v in zip(_CURVE_COLUMNS, row, strict=True):
                curves[k].append(v)
        log.info(
            "%s %s step %d: lr %.3g, train loss %s, test mae %s",
            dataset,
            g.arch,
            step,
            lr_used,
            np.array2string(train_loss, precision=4),
            np.array2string(errs["test_mae"], precision=4),
        )


def _finish(
    groups: list[Group],
    data: InversionData,
    dataset: str,
    steps: int,
    curves: dict[str, list],
    eval_chunk: int,
    resumed_from: int | None,
) -> TrainResult:
    curve_df = pd.DataFrame(curves, columns=list(_CURVE_COLUMNS))
    order = {g.arch: i for i, g in enumerate(groups)}
    curve_df = (
        curve_df.assign(_a=curve_df["arch"].map(order))
        .sort_values(["_a", "seed_index", "step"], kind="stable")
        .drop(columns="_a")
        .reset_index(drop=True)
    )
    rows, state_dicts = [], {}
    for g in groups:
        errs = evaluate(g.model, data.X_test, data.Y_test, eval_chunk)
        for m in range(g.model.n_models):
            last = curve_df[(curve_df["arch"] == g.arch) & (curve_df["seed_index"] == m)]
            rows.append(
                {
                    "dataset": dataset,
                    "arch": g.arch,
                    "seed": g.model.seeds[m],
                    "batch_seed": g.batch_seeds[m],
                    "seed_index": m,
                    "n": data.n,
                    "n_params": n_params(g.model.layer_widths),
                    "steps": steps,
                    "train_loss": float(last["train_loss"].iloc[-1]) if len(last) else float("nan"),
                    "test_mae": float(errs["test_mae"][m]),
                    "test_max_abs_err": float(errs["test_max_abs_err"][m]),
                    "test_rel_fro_err_mean": float(errs["test_rel_fro_err_mean"][m]),
                    "n_test": int(data.X_test.shape[0]),
                    "status": g.status[m],
                    "reason": g.reason[m],
                }
            )
            state_dicts[(g.arch, m)] = g.model.state_dict_of(m)
    return TrainResult(curve_df, pd.DataFrame(rows), state_dicts, resumed_from)
