"""The MLPs of Ji, Wu & Xi (arXiv 2506.00642): architectures, the stacked model, init, saved models.

A network maps a flattened n x n matrix A (row-major, n^2 inputs) to its flattened inverse. The
architectures of Appendix B and Sec. 5.3 are ``fc2`` [n^2, 8n^2, n^2], ``fc3`` [n^2, 8n^2, 8n^2, n^2]
and ``small`` [n^2, 2n^2, n^2], ReLU between layers and none after the last.

All seeds of one architecture form a `StackedMLP` whose layer l holds W_l of shape (M, out, in) and b_l
of shape (M, out); the M models see their own batches (an (M, B, n^2) tensor) through batched GEMMs.
Gradients are computed by hand (the backward of an MLP is four GEMM-like ops per layer), which removes
the autograd bookkeeping that dominates small networks; a test checks them against autograd. On the
CPU, large layers call one multi-threaded `addmm`/`mm` per model instead of one `bmm`, because CPU `bmm`
spreads the M matrices over the threads (M = 3 seeds on 2 threads leaves one thread idle a third of the
time). All weights and biases of an architecture are views into one flat parameter.

Saved models are plain nn.Sequential(Linear, ReLU, ..., Linear) state dicts, one file per model named
by `nnmat.ji.names.model_file`; `load_model` rebuilds the network from the shapes alone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import torch

from .. import io

ARCHS = ("fc2", "fc3", "small")
# Hidden widths as multiples of n^2 (Appendix B: 2x2 -> 4-32-4, 3x3 -> 9-72-9; Sec. 5.3: 4-8-4).
_HIDDEN_FACTORS: dict[str, tuple[int, ...]] = {"fc2": (8,), "fc3": (8, 8), "small": (2,)}
# CPU layers with at least this many multiply-adds per model (batch * in * out) use one mm per model.
_LOOP_MIN_MACS = 1 << 21

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
# Saved models


def save_model(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike) -> None:
    """One trained model (an nn.Sequential state dict), written atomically."""
    io.write_torch(dict(state_dict), path)


def load_model(path: str | os.PathLike) -> torch.nn.Sequential:
    """A saved model file (an nn.Sequential state dict) as a network in eval mode."""
    return mlp_from_state_dict(io.read_torch(path)).eval()
