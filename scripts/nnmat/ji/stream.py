"""The data of one training job: a dataset NPZ as tensors, and the per-model batch streams.

A fixed training set (X_train, Y_train) is shuffled per model: each model has its own generator and
draws a fresh permutation per epoch (the last batch of an epoch is the remainder, as a DataLoader with
drop_last=False). On-the-fly data: each step every model draws its batch A = A0 + Delta, Delta i.i.d.
U(-radius, radius) from its own generator (float64), and the target is inv(A) computed in float64 (LU
with partial pivoting) then cast to float32. Draws are made `otf_block_steps` steps at a time (one call
per model per block rather than per step); the stream does not depend on the block size.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

# On-the-fly data are drawn this many steps at a time (speed only: the stream does not depend on it).
OTF_BLOCK_STEPS = 64


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
        otf_block_steps: int = OTF_BLOCK_STEPS,
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
