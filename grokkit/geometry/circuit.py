"""What a modular-arithmetic network computes at one step: its embedding "clock" and its answer table.

* clock: for a frequency k, each token's embedding W_E[a] projected on the two directions of the
  embedding's own k-th Fourier coefficient F_k = Σ_a W_E[a] e^{-2πika/p} (real and imaginary parts,
  orthonormalised). A network that uses frequency k puts token a at angle ≈ 2πka/p on a circle;
  a random embedding gives a cloud. Coordinates are scaled so the largest radius is 1.
* answer table: (p, p) booleans, right or wrong per pair (a, b), task `task`, every pair.
"""

from __future__ import annotations

import torch

from grokkit.data import Dataset


def embedding_clock(W_E: torch.Tensor, k: int, p: int | None = None) -> torch.Tensor:
    """(p, 2) float64: tokens 0..p-1 on the plane of frequency k (1 <= k <= p // 2)."""
    p = W_E.shape[0] if p is None else p
    if not 1 <= k <= p // 2:
        raise ValueError(f"frequency k must lie in 1..{p // 2}, got {k}")
    W = W_E[:p].double()
    phase = torch.exp(-2j * torch.pi * k * torch.arange(p, dtype=torch.float64) / p)
    F_k = (W.to(torch.complex128) * phase[:, None]).sum(0)
    basis, _ = torch.linalg.qr(torch.stack([F_k.real, F_k.imag], dim=1))  # (d, 2) orthonormal
    xy = (W - W.mean(0)) @ basis
    r = xy.norm(dim=1).max()
    return xy / r if r > 0 else xy


@torch.no_grad()
def answer_table(model, data: Dataset, task: int = 0) -> torch.Tensor:
    """(p, p) bool, row a, column b: does the model answer the pair right? (pairs absent: False)."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    pred = torch.cat(
        [model(data.inputs[i : i + 16384].to(dev))[task].argmax(-1).cpu() for i in range(0, len(data.inputs), 16384)]
    )
    model.train(was)
    table = torch.zeros(data.p, data.p, dtype=torch.bool)
    a, b = data.pairs[:, 0].cpu(), data.pairs[:, 1].cpu()
    table[a, b] = pred == data.labels[:, task].cpu()
    return table


def train_table(data: Dataset) -> torch.Tensor:
    """(p, p) bool: which pairs (a, b) are training pairs."""
    table = torch.zeros(data.p, data.p, dtype=torch.bool)
    idx = data.train_idx.cpu()
    table[data.pairs[idx, 0].cpu(), data.pairs[idx, 1].cpu()] = True
    return table
