"""The low-rank-decay paper (arXiv 2606.04405): LRD's action on singular values (§3), the Q/K rank
collapse before grokking, and the training fractions LRD extends grokking to (its code A): targets
2, 9, 10 (Chapter 5)."""

from __future__ import annotations

import math

import numpy as np
import torch

from grokkit.regularizers import newton_schulz, polar_exact
from grokkit.repro.helpers import CH5, from_chapter
from grokkit.repro.paper_numbers import LI, NUMBERS, one_sig_fig_max, sci
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, num


def _m_lrd_action(profile):
    g = torch.Generator().manual_seed(0)
    W = torch.randn(128, 128, generator=g, dtype=torch.float64) / math.sqrt(128)
    c = 0.005
    U, s, Vh = torch.linalg.svd(W)
    action = lambda M: torch.diagonal(U.T @ M @ Vh.T)  # noqa: E731 (M's action on each singular direction of W)
    exact = float((action(W - c * polar_exact(W)) - (s - c)).abs().max())  # σ < c comes out as σ − c < 0
    l2 = float((action((1 - c) * W) - (1 - c) * s).abs().max())
    small = s < s.median()

    def ns_gap(k):  # the share of the intended decay c that NS_k misses, worst over the smaller half of σ
        return float((1 - action(newton_schulz(W, iters=k)))[small].abs().max())

    P = polar_exact(W)
    tangential = P - (P * W).sum() / (W * W).sum() * W  # the part of UVᵀ tangent to the sphere ‖W‖_F = const
    return {
        "measured": {
            "exact_max_error": exact,
            "l2_max_error": l2,
            "ns5_small_sigma_gap": ns_gap(5),
            "ns30_small_sigma_gap": ns_gap(30),
            "tangential_share": float(tangential.norm() / P.norm()),
        },
        "scale": "exact (one random 128×128 matrix, c = ηλ = 0.005)",
        "configs": [],
    }


@target(
    2,
    "lrd-singular-values",
    "LRD's action on singular values",
    paper="exact: σ_i − ηλ; L2: (1−ηλ)σ_i; NS5 deviates for small σ_i; polar factor has a tangential part",
    source=f"{LI} §3",
    chapter=CH5,
    measure=_m_lrd_action,
)
def _c_lrd_action(m):  # the claim has no numbers: the thresholds are ours
    return [
        num("exact LRD: every σ_i − ηλ (error < 1e-9)", m["exact_max_error"] < 1e-9),
        num("L2: every (1 − ηλ)σ_i (error < 1e-9)", m["l2_max_error"] < 1e-9),
        num(
            "NS5 decays the small σ_i less (misses > 10% of ηλ) and NS30 closes most of that gap",
            m["ns5_small_sigma_gap"] > 0.1 and m["ns30_small_sigma_gap"] < m["ns5_small_sigma_gap"] / 2,
        ),
        num("the polar factor has a non-zero tangential part (> 10%)", m["tangential_share"] > 0.1),
    ]


_N9, _N10 = NUMBERS[9], NUMBERS[10]
_RANK, _BY = _N9["lrd_srank"], _N9["lrd_srank_by"]
_L2_RANK, _ACC_BY, _L2_ACC = _N9["l2_srank_min"], _N9["lrd_acc_by"], _N9["l2_acc_max"]
_MECH = (
    f"LRD: Q/K stable rank < {_RANK} by step ~{_BY}",
    f"L2: Q/K stable rank stays ≥ {_L2_RANK}",
    f"LRD: test accuracy ≥ 90% by step ~{_ACC_BY}",
    f"L2: best test accuracy ≤ {_L2_ACC}",
)


@target(
    9,
    "lrd-rank-collapse",
    "LRD collapses the Q/K rank before grokking",
    paper=f"Q/K stable rank {_N9['srank_init']} → < {_RANK} by ~{_BY} steps; L2 stays ~{_N9['l2_srank']}; "
    f"LRD val → ~{_N9['lrd_acc']} by ~{_ACC_BY}, L2 flat ~{_N9['l2_acc']}",
    source=f"{LI} (code A)",
    chapter=CH5,
    measure=from_chapter(
        CH5,
        ["mechanism"],
        lambda p, m: (
            f"the mechanism runs (p = {_N10['p']}, f = {_N10['f']})"
            + (f", {m['mechanism']['steps'][-1]:,} steps" if m["mechanism"] else "")
        ),
    ),
)
def _c_lrd_mech(m):
    mech = m["mechanism"]
    if not mech:
        return [num(q, None) for q in _MECH]
    steps, lrd, l2 = mech["steps"], mech["lrd_srank"], mech["l2_srank"]
    at = lambda series, s: next((v for st, v in zip(steps, series) if st >= s), None)  # noqa: E731
    late = one_sig_fig_max(_ACC_BY)  # "~3000" is what rounds to 3,000
    return [
        num(
            f"{_MECH[0]} (the first measurement at or after step {_BY})",
            None if at(lrd, _BY) is None else at(lrd, _BY) < _RANK,
        ),
        num(_MECH[1], min(l2) >= _L2_RANK),
        num(f"{_MECH[2]} (rounds to {_ACC_BY:,}: ≤ {late:,})", mech["lrd_t90"] is not None and mech["lrd_t90"] <= late),
        num(_MECH[3], mech["l2_best_test"] <= _L2_ACC),
    ]


_ACC, _F, _C = _N10["acc"], _N10["f"], _N10["c"]


@target(
    10,
    "lrd-fraction-boundary",
    "LRD extends grokking to smaller training fractions",
    paper=f"L2 ≥ {_ACC} only at f ≥ {_F}; LRD ≥ {_ACC} at f ≥ {_F} for c ≥ {sci(_C)}, ≈ {_N10['acc_f_small']} at "
    f"f = {_N10['f_small']}",
    source=f"{LI} (code A)",
    chapter=CH5,
    measure=from_chapter(
        CH5,
        ["phase", "boundary", "phase_model"],
        lambda p, m: (
            f"chapter 5's phase grid ({'reduced' if p != 'paper' else 'full'}: {len(m['phase'] or {})} cells, "
            "2,500 steps" + (f"; {m['phase_model']}" if m.get("phase_model") else "") + ")"
        ),
    ),
)
def _c_lrd_phase(m):
    ph = m["phase"] or {}
    if not ph:
        return [num(f"L2 ≥ {_ACC} only at f ≥ {_F}", None), num(f"LRD ≥ {_ACC} at f ≥ {_F} for c ≥ {sci(_C)}", None)]
    cells = {}
    for key, vals in ph.items():
        reg, f, c = key.split(" ")
        cells[(reg, float(f[2:]), float(c[2:]))] = float(np.mean([v[0] for v in vals]))
    l2_small = [v for (r, f, c), v in cells.items() if r == "l2" and f < _F]
    lrd_big = [v for (r, f, c), v in cells.items() if r == "lrd" and f >= _F and c >= _C]
    seeds = min(len(v) for v in ph.values())
    return [
        num(f"L2 never ≥ {_ACC} below f = {_F}", None if not l2_small else all(v < _ACC for v in l2_small)),
        num(
            f"LRD ≥ {_ACC} at every f ≥ {_F} with c ≥ {sci(_C)}",
            None if not lrd_big else all(v >= _ACC for v in lrd_big),
        ),
        cov(f"the paper's model (p = {_N10['p']})", str(_N10["p"]) in str(m.get("phase_model") or "")),
        cov(f"{_N10['seeds']} seeds per cell", seeds >= _N10["seeds"]),
    ]
