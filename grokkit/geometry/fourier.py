"""The Fourier view of a modular-arithmetic network (Nanda et al. 2023).

A network that has grokked addition mod p represents each token a by cos(2πka/p), sin(2πka/p) for a
handful of "key" frequencies k. Measured on the token embedding W_E (rows = tokens 0..p-1): the
discrete Fourier transform along the token axis, power |F_k|² summed over embedding dimensions,
cosine and sine parts together (k and p−k are the same frequency), the constant k = 0 left out.
"""

from __future__ import annotations

import torch


def fourier_power(W_E: torch.Tensor, p: int | None = None) -> torch.Tensor:
    """Power at each frequency k = 1 .. p//2 of the embedding's first p rows, (p//2,) float64."""
    p = W_E.shape[0] if p is None else p
    F = torch.fft.rfft(W_E[:p].double(), dim=0)  # (p//2 + 1, d): row k = sum_a W_E[a] e^{-2πika/p}
    return (F.abs() ** 2).sum(1)[1:]


def key_frequencies(power: torch.Tensor, share: float = 0.5) -> list[int]:
    """The fewest frequencies (1-based k, strongest first) that hold `share` of the total power."""
    order = torch.argsort(power, descending=True)
    cum = torch.cumsum(power[order], 0) / power.sum()
    n = int((cum < share).sum()) + 1
    return [int(k) + 1 for k in order[:n]]
