"""Neural matrix inversion of Ji, Wu & Xi (arXiv 2506.00642): ReLU MLPs from vec(A) to vec(A^-1).

A network maps a flattened n x n matrix A (row-major, n^2 inputs) to its flattened inverse. The
architectures of Appendix B and Sec. 5.3 are ``fc2`` [n^2, 8n^2, n^2], ``fc3`` [n^2, 8n^2, 8n^2, n^2]
and ``small`` [n^2, 2n^2, n^2], ReLU between layers and none after the last. Training: Adam (lr 5e-5,
L2 weight decay 1e-7), CosineAnnealingWarmRestarts stepped once per optimisation step, MSE, batch 128.

The engine trains many models in one process and one Python loop. All seeds of one architecture form
a `StackedMLP` whose layer l holds W_l of shape (M, out, in) and b_l of shape (M, out); the M models
see their own batches (an (M, B, n^2) tensor) through batched GEMMs. The loss that is minimised is the
sum over models of each model's mean MSE, so model m gets exactly the gradient it would get alone, and
Adam acts element-wise, so model m follows the path it would follow alone (a test checks 1e-6 against
a plain per-model nn.Sequential loop). Gradients are computed by hand (the backward of an MLP is four
GEMM-like ops per layer), which removes the autograd bookkeeping that dominates small networks; a test
checks them against autograd. On the CPU, large layers call one multi-threaded `addmm`/`mm` per model
instead of one `bmm`, because CPU `bmm` spreads the M matrices over the threads (M = 3 seeds on 2 threads
leaves one thread idle a third of the time). All weights and biases of an architecture are views into
one flat parameter, and one Adam updates all architectures: the fused kernel where PyTorch has one for
the device (on the CPU 10x faster than `foreach` for the 16 x 16 networks), else `foreach`.
Measured speeds: benchmarks/train_throughput.py.

Data. A fixed training set (X_train, Y_train) is shuffled per model: each model has its own generator
and draws a fresh permutation per epoch (the last batch of an epoch is the remainder, as a DataLoader
with drop_last=False). On-the-fly data: each step every model draws its batch A = A0 + Delta, Delta
i.i.d. U(-radius, radius) from its own generator (float64), and the target is inv(A) computed in
float64 (LU with partial pivoting) then cast to float32. Draws are made `otf_block_steps` steps at a time (one
call per model per block rather than per step); the stream does not depend on the block size.

Checkpoint/resume. Every `checkpoint_every` steps (and at the end) one checkpoint file holds all
parameters, the optimizer and scheduler states, the generator states at the start of the current data
block (the block is regenerated on resume), the loss accumulators, the status of every model and the
curves so far, plus a fingerprint of everything that defines the run. A run killed after a checkpoint
and started again ends with bit-identical weights and curves (CPU, same thread count). A checkpoint
of another configuration is never overwritten or deleted: the run stops with an error naming the
fields that differ.

Divergence. Every `log_every` steps the accumulated train loss of every model is checked; a model whose
loss went non-finite is marked ``flagged`` (with the step range in ``reason``) and frozen: its gradient
is zeroed and its parameters restored after every later step. Models never interact, so the others are
unaffected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import cli, io, seeding

log = logging.getLogger("nnmat.inversion")

ARCHS = ("fc2", "fc3", "small")
# Hidden widths as multiples of n^2 (Appendix B: 2x2 -> 4-32-4, 3x3 -> 9-72-9; Sec. 5.3: 4-8-4).
_HIDDEN_FACTORS: dict[str, tuple[int, ...]] = {"fc2": (8,), "fc3": (8, 8), "small": (2,)}
STATUS_OK, STATUS_FLAGGED = "ok", "flagged"
ENGINE_VERSION = 1  # part of the checkpoint fingerprint: bump when the training arithmetic changes
# CPU layers with at least this many multiply-adds per model (batch * in * out) use one mm per model.
_LOOP_MIN_MACS = 1 << 21
CHECKPOINT_FORMAT = 1


# --------------------------------------------------------------------------------------------------
# Architectures and the saved-model format


def widths(arch: str, n: int) -> list[int]:
    """Layer widths [n^2, hidden..., n^2] of architecture `arch` for n x n matrices."""
    if arch not in _HIDDEN_FACTORS:
        raise ValueError(f"unknown architecture {arch!r}; valid: {', '.join(ARCHS)}")
    if int(n) < 1:
        raise ValueError(f"matrix size n must be >= 1, got {n}")
    d = int(n) * int(n)
    return [d, *(f * d for f in _HIDDEN_FACTORS[arch]), d]


def n_params(layer_widths: Sequence[int]) -> int:
    """Number of weights and biases of one MLP with these widths."""
    return sum(w_in * w_out + w_out for w_in, w_out in zip(layer_widths[:-1], layer_widths[1:], strict=True))


def mlp(layer_widths: Sequence[int]) -> torch.nn.Sequential:
    """Plain nn.Sequential(Linear, ReLU, ..., Linear): the saved-model format (keys "0.weight", ...)."""
    layers: list[torch.nn.Module] = []
    for i, (w_in, w_out) in enumerate(zip(layer_widths[:-1], layer_widths[1:], strict=True)):
        if i > 0:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(w_in, w_out))
    return torch.nn.Sequential(*layers)


def mlp_from_state_dict(sd: Mapping[str, torch.Tensor]) -> torch.nn.Sequential:
    """Rebuild the nn.Sequential of a saved state dict from its shapes and load the weights."""
    keys = sorted({int(k.split(".")[0]) for k in sd if k.endswith(".weight")})
    if not keys or keys != list(range(0, 2 * len(keys), 2)):
        raise ValueError(f"not an nn.Sequential(Linear, ReLU, ...) state dict: keys {sorted(sd)}")
    shapes = [tuple(sd[f"{k}.weight"].shape) for k in keys]
    layer_widths = [shapes[0][1], *(s[0] for s in shapes)]
    for (out_prev, _), (_, w_in) in zip(shapes[:-1], shapes[1:], strict=True):
        if out_prev != w_in:
            raise ValueError(f"inconsistent layer shapes {shapes}")
    model = mlp(layer_widths)
    model.load_state_dict(dict(sd))
    return model


def linear_init_(weight: torch.Tensor, bias: torch.Tensor, generator: torch.Generator) -> None:
    """torch.nn.Linear's default init (weight then bias, U(+-1/sqrt(in))) drawn from `generator`.

    Same calls as nn.Linear.reset_parameters, so after torch.manual_seed(s) a plain nn.Linear stack
    gets the very same numbers as a stack initialised here from a generator seeded with s.
    """
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(weight.shape[1]) if weight.shape[1] > 0 else 0.0
    torch.nn.init.uniform_(bias, -bound, bound, generator=generator)


# --------------------------------------------------------------------------------------------------
# The stacked model


def _use_loop(device: torch.device, macs_per_model: int) -> bool:
    """One mm per model (multi-threaded GEMM) instead of one bmm (threads over models): large CPU GEMMs."""
    return device.type == "cpu" and macs_per_model >= _LOOP_MIN_MACS


def _affine(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x @ w^T + b per model: x (M, B, in), w (M, out, in), b (M, out) -> (M, B, out). No autograd."""
    if not _use_loop(x.device, x.shape[1] * w.shape[1] * w.shape[2]):
        return torch.baddbmm(b.unsqueeze(1), x, w.mT)
    out = x.new_empty(x.shape[0], x.shape[1], w.shape[1])
    for m in range(x.shape[0]):
        torch.addmm(b[m], x[m], w[m].T, out=out[m])
    return out


def _bmm(
    a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None, loop: bool = False
) -> torch.Tensor:
    """a @ b per model, into `out` if given. No autograd."""
    if not loop:
        return torch.bmm(a, b, out=out)
    if out is None:
        out = a.new_empty(a.shape[0], a.shape[1], b.shape[2])
    for m in range(a.shape[0]):
        torch.mm(a[m], b[m], out=out[m])
    return out


def _weight_grad(g: torch.Tensor, h_in: torch.Tensor, out: torch.Tensor, loop: bool) -> None:
    """out = g^T h_in per model, (M, out, in). For narrow inputs (in < out, e.g. the first layer) CPU bmm
    is twice as fast computing h_in^T g (M, in, out) and copying it transposed."""
    if not loop and h_in.shape[2] < g.shape[2]:
        out.copy_(torch.bmm(h_in.mT, g).mT)
    else:
        _bmm(g.mT, h_in, out=out, loop=loop)


class StackedMLP(torch.nn.Module):
    """M = len(seeds) independent ReLU MLPs of identical widths, trained together.

    Layer l has ``weights[l]`` of shape (M, out, in) and ``biases[l]`` of shape (M, out); model m is
    initialised like torch.nn.Linear from a CPU generator seeded with seeds[m] (layer by layer, weight
    then bias), so it equals a plain `mlp(widths)` built after torch.manual_seed(seeds[m]).

    Storage: all weights and biases are views into one flat Parameter ``flat`` (and their gradients
    views into ``flat.grad``), so the optimizer updates one tensor per architecture instead of 2 per
    layer: for small networks the per-tensor overhead of Adam is a large part of a step.
    """

    def __init__(self, layer_widths: Sequence[int], seeds: Sequence[int], device: str | torch.device = "cpu"):
        super().__init__()
        if len(layer_widths) < 2 or any(int(w) < 1 for w in layer_widths):
            raise ValueError(f"need at least two positive layer widths, got {list(layer_widths)}")
        if len(seeds) < 1:
            raise ValueError("need at least one seed")
        self.layer_widths = [int(w) for w in layer_widths]
        self.seeds = [int(s) for s in seeds]
        M = len(self.seeds)
        pairs = list(zip(self.layer_widths[:-1], self.layer_widths[1:], strict=True))
        self._shapes = [s for w_in, w_out in pairs for s in ((M, w_out, w_in), (M, w_out))]
        flat = torch.empty(sum(math.prod(s) for s in self._shapes))
        views = self._views(flat)
        for m, seed in enumerate(self.seeds):
            gen = torch.Generator().manual_seed(seed)
            for w, b in zip(views[0::2], views[1::2], strict=True):
                linear_init_(w[m], b[m], gen)
        self.flat = torch.nn.Parameter(flat.to(device))
        self._grad_of: torch.Tensor | None = None  # the flat.grad that `_grads` are views of
        self._sync_views()

    def _views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """[W_0, b_0, W_1, b_1, ...] as views of a flat tensor (layer-major, models stacked per layer)."""
        sizes = [math.prod(s) for s in self._shapes]
        return [v.view(s) for v, s in zip(flat.split(sizes), self._shapes, strict=True)]

    def _sync_views(self) -> None:
        views = self._views(self.flat.detach())  # plain tensors sharing flat's storage (no autograd)
        self.weights, self.biases = views[0::2], views[1::2]

    def _apply(self, fn, recurse=True):  # .to(), .cuda(), .float() replace flat: rebuild the views
        out = super()._apply(fn, recurse)
        self._sync_views()
        self._grad_of = None
        return out

    def grads(self) -> list[torch.Tensor]:
        """[dW_0, db_0, dW_1, ...] as views of flat.grad (allocated on first use)."""
        if self.flat.grad is None:
            self.flat.grad = torch.zeros_like(self.flat)
        if self._grad_of is not self.flat.grad:
            self._grad_of, self._grads = self.flat.grad, self._views(self.flat.grad)
        return self._grads

    def tensors(self) -> list[torch.Tensor]:
        """[W_0, b_0, W_1, b_1, ...]: views of flat (row m of each belongs to model m)."""
        return [t for pair in zip(self.weights, self.biases, strict=True) for t in pair]

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (M, B, out) for inputs (M, B, in); differentiable (batched GEMMs, autograd)."""
        views = self._views(self.flat)
        last = len(views) // 2 - 1
        for i, (w, b) in enumerate(zip(views[0::2], views[1::2], strict=True)):
            x = torch.baddbmm(b.unsqueeze(1), x, w.mT)
            if i < last:
                x = torch.relu(x)
        return x

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Same values as forward, without autograd and with the fastest GEMM layout for the device."""
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = _affine(x, w, b)
            if i < last:
                x = x.relu_()
        return x

    @torch.no_grad()
    def loss_and_grad_(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each model's mean MSE on its batch (M,), with the gradient of their sum written into flat.grad.

        The backward pass by hand: g = dL/d(output) = 2 (out - y) / (B d); per layer (last first)
        dW = g^T h_in, db = sum_B g, and g <- (g W) * [h_in > 0] (the ReLU derivative, 0 at 0 as in
        autograd). The gradient buffer is overwritten, so no zero_grad is needed.
        """
        weights, biases, grads = self.weights, self.biases, self.grads()
        hs = [x]
        last = len(weights) - 1
        for i in range(last + 1):
            h = _affine(hs[-1], weights[i], biases[i])
            hs.append(h.relu_() if i < last else h)
        g = hs.pop().sub_(y)
        scale = 1.0 / (g.shape[1] * g.shape[2])
        flat_g = g.view(g.shape[0], -1)
        loss = torch.linalg.vecdot(flat_g, flat_g).mul_(scale)
        g.mul_(2.0 * scale)
        for i in range(last, -1, -1):
            w, h_in = weights[i], hs[i]
            loop = _use_loop(g.device, g.shape[1] * w.shape[1] * w.shape[2])
            _weight_grad(g, h_in, grads[2 * i], loop)
            torch.sum(g, dim=1, out=grads[2 * i + 1])
            if i > 0:
                g = torch.ops.aten.threshold_backward(_bmm(g, w, loop=loop), h_in, 0.0)
        return loss

    def state_dict_of(self, m: int) -> dict[str, torch.Tensor]:
        """Model m as an nn.Sequential state dict ("0.weight", "0.bias", "2.weight", ...): CPU clones."""
        if not 0 <= m < self.n_models:
            raise IndexError(f"model index {m} out of range for {self.n_models} models")
        sd: dict[str, torch.Tensor] = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            sd[f"{2 * i}.weight"] = w[m].detach().to("cpu", copy=True).contiguous()
            sd[f"{2 * i}.bias"] = b[m].detach().to("cpu", copy=True).contiguous()
        return sd


# --------------------------------------------------------------------------------------------------
# Data


@dataclasses.dataclass(frozen=True)
class InversionData:
    """One dataset, flattened row-major and cast to float32 for the network.

    X_train/Y_train are None for on-the-fly data (batches A0 + U(-radius, radius)^{n x n}).
    `digest` identifies the source arrays (it goes into the checkpoint fingerprint).
    """

    n: int
    X_test: torch.Tensor
    Y_test: torch.Tensor
    X_train: torch.Tensor | None
    Y_train: torch.Tensor | None
    A0: torch.Tensor
    radius: float
    digest: str

    @property
    def on_the_fly(self) -> bool:
        return self.X_train is None


def inverse_targets(A: torch.Tensor) -> torch.Tensor:
    """Flattened float32 inverses of a float64 batch (..., n, n); ValueError if one is exactly singular."""
    A = A.to(torch.float64)
    # LU with partial pivoting, then solve with I: the same inverse as torch.linalg.inv up to rounding
    # in float64, and twice as fast for batches of small matrices (getri is the slow half of inv).
    lu, pivots, info = torch.linalg.lu_factor_ex(A)
    if bool((info != 0).any()):
        raise ValueError(f"{int((info != 0).sum())} exactly singular matrices in the batch")
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device).expand_as(A)
    return torch.linalg.lu_solve(lu, pivots, eye).flatten(-2).to(torch.float32)


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def data_from_arrays(arrays: Mapping[str, np.ndarray]) -> InversionData:
    """Validate the dataset NPZ contents (n, A0, radius, on_the_fly, X_train, X_test, Y_test).

    Training targets are the inverses of X_train computed here in float64 (the NPZ has no Y_train).
    """
    needed = ("n", "A0", "radius", "on_the_fly", "X_train", "X_test", "Y_test")
    missing = [k for k in needed if k not in arrays]
    if missing:
        raise ValueError(f"dataset lacks key(s) {missing}; expected {list(needed)}")
    n = int(arrays["n"])
    shapes = {k: tuple(np.shape(arrays[k])) for k in ("A0", "X_train", "X_test", "Y_test")}
    if shapes["A0"] != (n, n):
        raise ValueError(f"A0 has shape {shapes['A0']}, expected ({n}, {n})")
    for k in ("X_train", "X_test", "Y_test"):
        if len(shapes[k]) != 3 or shapes[k][1:] != (n, n):
            raise ValueError(f"{k} has shape {shapes[k]}, expected (count, {n}, {n})")
    if shapes["X_test"] != shapes["Y_test"]:
        raise ValueError(f"X_test {shapes['X_test']} and Y_test {shapes['Y_test']} differ in shape")
    if shapes["X_test"][0] < 1:
        raise ValueError("empty test set")
    on_the_fly = bool(arrays["on_the_fly"])
    radius = float(arrays["radius"])
    if on_the_fly and not radius > 0:
        raise ValueError(f"on-the-fly data needs radius > 0, got {radius}")
    if not on_the_fly and shapes["X_train"][0] < 1:
        raise ValueError("on_the_fly is false but X_train is empty")

    def flat32(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float64)).flatten(1).to(torch.float32)

    X_train = Y_train = None
    if not on_the_fly:
        A = torch.as_tensor(np.asarray(arrays["X_train"], dtype=np.float64))
        X_train, Y_train = A.flatten(1).to(torch.float32), inverse_targets(A)
    return InversionData(
        n=n,
        X_test=flat32(arrays["X_test"]),
        Y_test=flat32(arrays["Y_test"]),
        X_train=X_train,
        Y_train=Y_train,
        A0=torch.as_tensor(np.asarray(arrays["A0"], dtype=np.float64)),
        radius=radius,
        digest=_digest({k: np.asarray(arrays[k]) for k in needed}),
    )


class BatchStream:
    """Per-model batches of one group: `next()` returns inputs and targets of shape (M, B, n^2).

    Data come in blocks (an epoch of a fixed training set, or `otf_block_steps` steps of on-the-fly
    draws). The state is the generator states at the start of the current block plus the position in
    it: on resume the block is drawn again, which is cheaper than storing it.
    """

    def __init__(
        self,
        data: InversionData,
        batch_size: int,
        seeds: Sequence[int],
        device: torch.device,
        otf_block_steps: int = 64,
    ):
        self.data, self.batch_size, self.device = data, int(batch_size), device
        self.gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        if data.on_the_fly:
            self.block_steps = int(otf_block_steps)
        else:
            self.block_steps = math.ceil(data.X_train.shape[0] / self.batch_size)
            self._X, self._Y = data.X_train.to(device), data.Y_train.to(device)
        self._block_states = [g.get_state() for g in self.gens]
        self._pos = self.block_steps  # no block drawn yet
        self._block: Any = None

    def _draw_block(self) -> None:
        self._block_states = [g.get_state() for g in self.gens]
        if self.data.on_the_fly:
            n, B, K = self.data.n, self.batch_size, self.block_steps
            unit = torch.stack(
                [torch.rand((K, B, n, n), dtype=torch.float64, generator=g) for g in self.gens]
            )
            A = self.data.A0.to(self.device) + (2.0 * unit.to(self.device) - 1.0) * self.data.radius
            self._block = (A.flatten(-2).to(torch.float32), inverse_targets(A))
        else:
            N = self._X.shape[0]
            self._block = torch.stack([torch.randperm(N, generator=g) for g in self.gens]).to(self.device)
        self._pos = 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._pos >= self.block_steps:
            self._draw_block()
        j = self._pos
        self._pos += 1
        if self.data.on_the_fly:
            return self._block[0][:, j], self._block[1][:, j]
        idx = self._block[:, j * self.batch_size : (j + 1) * self.batch_size]
        return self._X[idx], self._Y[idx]

    def state_dict(self) -> dict[str, Any]:
        return {"block_states": [s.clone() for s in self._block_states], "pos": self._pos}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for g, s in zip(self.gens, state["block_states"], strict=True):
            g.set_state(s)
        pos = int(state["pos"])
        if pos < self.block_steps:  # mid-block: draw the block again from its start
            self._draw_block()
        self._pos = pos


# --------------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def evaluate(model: StackedMLP, X: torch.Tensor, Y: torch.Tensor, chunk: int = 4096) -> dict[str, np.ndarray]:
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
# Seeds, device, fingerprint, checkpoint files


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


def fingerprint(fields: Mapping[str, Any]) -> str:
    """Hash of the fields that define a run (JSON, sorted keys)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:24]


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
    """The checkpoint at `path` (tensors and plain Python only: weights_only=True), or None if absent."""
    if not os.path.exists(path):
        return None
    return io.read_torch(path)


def load_model(path: str | os.PathLike) -> torch.nn.Sequential:
    """A saved model file (an nn.Sequential state dict) as a network in eval mode."""
    return mlp_from_state_dict(io.read_torch(path)).eval()


def make_optimizer(params: list[torch.nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Adam:
    """Adam with L2 weight decay; the fused kernel where the device has one, else foreach."""
    from torch.optim.optimizer import _get_fused_kernels_supported_devices

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
    fingerprint: str = ""  # of the run's configuration (as in its checkpoint)


def _check_args(
    data: InversionData,
    archs: Sequence[str],
    counts: Mapping[str, int],
    checkpoint_every: int | None,
    lr: float,
    weight_decay: float,
) -> None:
    """ValueError naming the first bad argument: architectures, counts (each >= 1), rates, shapes."""
    unknown = [a for a in archs if a not in ARCHS]
    if unknown or not archs:
        raise ValueError(f"unknown or no architecture(s) {list(unknown)}; valid: {', '.join(ARCHS)}")
    if len(set(archs)) != len(archs):
        raise ValueError(f"architectures repeat: {list(archs)}")
    for name, value in counts.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value}")
    if checkpoint_every is not None and (int(checkpoint_every) != checkpoint_every or checkpoint_every < 1):
        raise ValueError(f"checkpoint_every must be an integer >= 1, got {checkpoint_every}")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be positive and finite, got {lr}")
    if not (weight_decay >= 0 and math.isfinite(weight_decay)):
        raise ValueError(f"weight_decay must be >= 0 and finite, got {weight_decay}")
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


def train(
    data: InversionData,
    *,
    dataset: str,
    archs: Sequence[str],
    n_seeds: int,
    master_seed: int,
    steps: int,
    batch_size: int = 128,
    lr: float = 5e-5,
    weight_decay: float = 1e-7,
    t0_steps: int,
    t_mult: int = 1,
    log_every: int,
    checkpoint_every: int | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    otf_block_steps: int = 64,
    eval_chunk: int = 4096,
    progress_every_s: float = 10.0,
    on_step: Callable[[int, dict[str, StackedMLP]], None] | None = None,
) -> TrainResult:
    """Train n_seeds models of every architecture in `archs` on one dataset, all in one loop.

    One Adam (all parameters) and one CosineAnnealingWarmRestarts(T_0=t0_steps, T_mult=t_mult,
    eta_min=0) stepped once per optimisation step; every model sees its own batches. Curves are logged
    every `log_every` steps and at the last step. With `checkpoint_path`, a checkpoint is written every
    `checkpoint_every` steps and at the end, and an existing one of the same run is resumed (one of
    another run raises ValueError and is left untouched). `on_step(step, {arch: model})` is called
    after each step (after its checkpoint): tests use it to stop a run or to poison a model.

    Curves (one row per model and logged step): dataset, arch, seed (init seed), seed_index, step, lr
    (used by that step), train_loss (mean of the per-step mean MSE since the previous row),
    test_mae, test_rel_fro_err_mean. Final (one row per model): dataset, arch, seed, batch_seed,
    seed_index, n, n_params, steps, train_loss, test_mae, test_max_abs_err, test_rel_fro_err_mean,
    n_test, status ("ok" / "flagged"), reason.
    """
    archs = list(archs)
    counts = {"n_seeds": n_seeds, "steps": steps, "batch_size": batch_size, "t0_steps": t0_steps}
    counts.update(t_mult=t_mult, log_every=log_every, otf_block_steps=otf_block_steps)
    _check_args(data, archs, counts, checkpoint_every, lr, weight_decay)
    dev = resolve_device(device)
    groups: list[Group] = []
    for arch in archs:
        seeds = [model_seeds(master_seed, dataset, arch, i) for i in range(n_seeds)]
        init_seeds, batch_seeds = [s[0] for s in seeds], [s[1] for s in seeds]
        groups.append(
            Group(
                arch=arch,
                model=StackedMLP(widths(arch, data.n), init_seeds, dev),
                stream=BatchStream(data, batch_size, batch_seeds, dev, otf_block_steps),
                batch_seeds=batch_seeds,
                loss_acc=torch.zeros(n_seeds, device=dev),
                status=[STATUS_OK] * n_seeds,
                reason=[""] * n_seeds,
            )
        )
    params = [g.model.flat for g in groups]
    opt = make_optimizer(params, lr, weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=t0_steps, T_mult=t_mult, eta_min=0.0
    )
    fields = {
        "engine_version": ENGINE_VERSION,
        "dataset": dataset,
        "data_digest": data.digest,
        "n": data.n,
        "n_train": 0 if data.X_train is None else int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "on_the_fly": data.on_the_fly,
        "otf_block_steps": int(otf_block_steps) if data.on_the_fly else None,
        "archs": archs,
        "init_seeds": {g.arch: g.model.seeds for g in groups},
        "batch_seeds": {g.arch: g.batch_seeds for g in groups},
        "steps": int(steps),
        "batch_size": int(batch_size),
        "lr": float(lr),
        "weight_decay": float(weight_decay),
        "scheduler": f"CosineAnnealingWarmRestarts(T_0={t0_steps}, T_mult={t_mult}, eta_min=0)",
        "log_every": int(log_every),
    }
    fp = fingerprint(fields)
    curves: dict[str, list] = {k: [] for k in _CURVE_COLUMNS}
    step, count, last_log = 0, 0, 0
    resumed_from = None
    ckpt = load_checkpoint(checkpoint_path) if checkpoint_path is not None else None
    if ckpt is not None:
        if ckpt.get("fingerprint") != fp:
            diff = fingerprint_diff(ckpt.get("fingerprint_fields", {}), fields)
            raise ValueError(
                f"checkpoint {checkpoint_path} was written by another config: {'; '.join(diff) or 'format'} "
                "(checkpoint value != this run's). It is left untouched: delete it or choose another path."
            )
        step, count, last_log = int(ckpt["step"]), int(ckpt["count"]), int(ckpt["last_log"])
        resumed_from = step
        for g in groups:
            g.model.load_state_dict(ckpt["models"][g.arch])
            g.stream.load_state_dict(ckpt["streams"][g.arch])
            g.loss_acc.copy_(ckpt["loss_acc"][g.arch])
            g.status, g.reason = list(ckpt["status"][g.arch]), list(ckpt["reason"][g.arch])
            g.freeze()
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        curves = {k: list(v) for k, v in ckpt["curves"].items()}
        log.info("resumed %s from checkpoint %s at step %d/%d", dataset, checkpoint_path, step, steps)

    def checkpoint() -> None:
        save_checkpoint(
            {
                "format": CHECKPOINT_FORMAT,
                "fingerprint": fp,
                "fingerprint_fields": fields,
                "step": step,
                "count": count,
                "last_log": last_log,
                "models": {g.arch: g.model.state_dict() for g in groups},
                "streams": {g.arch: g.stream.state_dict() for g in groups},
                "loss_acc": {g.arch: g.loss_acc.cpu() for g in groups},
                "status": {g.arch: list(g.status) for g in groups},
                "reason": {g.arch: list(g.reason) for g in groups},
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "curves": curves,
            },
            checkpoint_path,
        )

    progress = cli.Progress(
        steps - step, f"ji {dataset} ({'+'.join(archs)} x {n_seeds} seeds): steps", every_s=progress_every_s
    )
    models = {g.arch: g.model for g in groups}
    while step < steps:
        for g in groups:
            x, y = g.stream.next()
            g.loss_acc += g.model.loss_and_grad_(x, y)
            g.zero_frozen_grads()
        lr_used = opt.param_groups[0]["lr"]
        opt.step()
        sched.step()
        for g in groups:
            g.restore_frozen()
        step += 1
        count += 1
        if step % log_every == 0 or step == steps:
            _log_step(groups, data, dataset, step, last_log, count, lr_used, curves, eval_chunk)
            count, last_log = 0, step
        if checkpoint_path is not None and (
            step == steps or (checkpoint_every is not None and step % checkpoint_every == 0)
        ):
            checkpoint()
        progress.update()
        if on_step is not None:
            on_step(step, models)
    result = _finish(groups, data, dataset, steps, curves, eval_chunk, resumed_from)
    result.fingerprint = fp
    return result


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


def _log_step(
    groups: list[Group],
    data: InversionData,
    dataset: str,
    step: int,
    last_log: int,
    count: int,
    lr_used: float,
    curves: dict[str, list],
    eval_chunk: int,
) -> None:
    """Append one curve row per model, flag models whose train loss went non-finite, log a summary."""
    for g in groups:
        train_loss = (g.loss_acc / count).cpu().numpy().astype(np.float64)
        g.loss_acc.zero_()
        newly = [m for m, v in enumerate(train_loss) if g.status[m] == STATUS_OK and not np.isfinite(v)]
        for m in newly:
            g.status[m] = STATUS_FLAGGED
            g.reason[m] = f"non-finite train loss between steps {last_log + 1} and {step}"
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
