"""Ranks of weight matrices (2606.04405): stable rank and entropy effective rank.

stable rank  ‖W‖_F² / ‖W‖_2²  (what the LRD paper and both its code bases call "effective rank");
effective rank  exp(H(p)), p_i = σ_i / Σ σ_j  (Roy & Vetterli's entropy definition; differs).
"""

from __future__ import annotations

import torch


def stable_rank(W: torch.Tensor) -> float:
    s = torch.linalg.svdvals(W.detach().double())
    return float((s**2).sum() / s[0] ** 2) if s[0] > 0 else 0.0


def effective_rank(W: torch.Tensor) -> float:
    s = torch.linalg.svdvals(W.detach().double())
    p = s / s.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))
