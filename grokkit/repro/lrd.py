"""The low-rank-decay paper (arXiv 2606.04405): LRD's action on singular values (§3), the Q/K rank
collapse before grokking, and the training fractions LRD extends grokking to (its code A): targets
2, 9, 10 (Chapter 5)."""

from __future__ import annotations

import math

import torch

from grokkit import stats
from grokkit.hooks.regularizers import newton_schulz, polar_exact
from grokkit.papers import LI, NUMBERS, rounded, sci
from grokkit.repro import cpu_full_mt, lease
from grokkit.repro.helpers import CH5, from_chapter, stated
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, equivalence, exact, num, unlike


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
    section="2. One step on the singular values",
    ours=lambda m: (
        f"largest error {max(m['exact_max_error'], m['l2_max_error']):.0e} (exact LRD, L2); NS5 misses "
        f"{m['ns5_small_sigma_gap']:.0%} of ηλ on small σ_i; tangential share {m['tangential_share']:.0%}"
    ),
)
def _c_lrd_action(m):  # the claim has no numbers: the thresholds are ours (float64 round-off, and "visibly")
    return [
        exact("exact LRD: every σ_i − ηλ (fails on an error ≥ 1e-9)", m["exact_max_error"] < 1e-9),
        exact("L2: every (1 − ηλ)σ_i (fails on an error ≥ 1e-9)", m["l2_max_error"] < 1e-9),
        exact(
            "NS5 decays the small σ_i less (fails unless it misses > 10% of ηλ and NS30 closes most of that gap)",
            m["ns5_small_sigma_gap"] > 0.1 and m["ns30_small_sigma_gap"] < m["ns5_small_sigma_gap"] / 2,
        ),
        exact("the polar factor has a tangential part (fails at ≤ 10% of its norm)", m["tangential_share"] > 0.1),
    ]


_N9, _N10 = NUMBERS[9], NUMBERS[10]
_RANK, _BY = _N9["lrd_srank"], _N9["lrd_srank_by"]
_SRC9 = _N9["margins"]["all"]
_MECH = (
    f"LRD: the Q/K stable rank is ≈ {_RANK} at step {_BY} (what rounds to {_RANK}; fails outside)",
    f"L2: the Q/K stable rank stays ≈ {_N9['l2_srank']} (its mean after step 0 rounds to {_N9['l2_srank']}; fails "
    "outside)",
    f"LRD: test accuracy ≈ {_N9['lrd_acc']} by ~{_N9['lrd_acc_by']:,} steps (the first step at ≥ 99% rounds to "
    f"{_N9['lrd_acc_by']:,}; fails outside)",
    f"L2: best test accuracy ≈ {_N9['l2_acc']} (rounds to {_N9['l2_acc']}; fails outside)",
)


def mechanisms(m) -> list[dict]:
    """The mechanism runs of a measured dict (one per seed)."""
    return list(m.get("mechanisms") or ([m["mechanism"]] if m.get("mechanism") else []))


@target(
    9,
    "lrd-rank-collapse",
    "LRD collapses the Q/K rank before grokking",
    paper=f"Q/K stable rank {_N9['srank_init']} → ≈ {_RANK} by ~{_BY} steps; L2 stays ~{_N9['l2_srank']}; "
    f"LRD val → ~{_N9['lrd_acc']} by ~{_N9['lrd_acc_by']}, L2 flat ~{_N9['l2_acc']}",
    source=f"{LI} (code A)",
    chapter=CH5,
    measure=from_chapter(
        CH5,
        ["mechanism", "mechanisms"],
        lambda p, m: (
            f"the mechanism runs (p = {_N10['p']}, f = {_N10['f']}, {len(mechanisms(m))} seed(s))"
            + (f", {mechanisms(m)[0]['steps'][-1]:,} steps" if mechanisms(m) else "")
        ),
    ),
    cpu_full=cpu_full_mt.measure_9,
    section="3. The mechanism run: Q/K rank collapses first",
    ours=lambda m: stated(
        _c_lrd_mech(m), ("LRD: the Q/K stable rank", f"LRD Q/K stable rank at step {_BY}"), ("L2: the Q/K", "L2")
    ),
)
def _c_lrd_mech(m):
    runs = mechanisms(m)
    if not runs:
        return [num(q, None) for q in _MECH]
    at = lambda r, series, s: next((v for st, v in zip(r["steps"], r[series]) if st >= s), None)  # noqa: E731
    iv = lambda xs: stats.mean_interval([x for x in xs if x is not None]) if any(x is not None for x in xs) else None
    t99 = [r.get("lrd_t99") for r in runs]
    acc_check = (
        equivalence(_MECH[2], iv(t99), rounded(_N9["lrd_acc_by"], 1, _SRC9), fmt=lambda x: f"{x:,.0f}")
        if all("lrd_t99" in r for r in runs)
        else unlike(_MECH[2], "only the step at 90% was recorded", "the first step at ≥ 99% (chapter 5 records it)")
    )
    return [
        equivalence(
            _MECH[0], iv([at(r, "lrd_srank", _BY) for r in runs]), rounded(_RANK, 1, _SRC9), fmt=lambda x: f"{x:.2f}"
        ),
        equivalence(
            _MECH[1],
            iv([sum(r["l2_srank"][1:]) / len(r["l2_srank"][1:]) for r in runs]),
            rounded(_N9["l2_srank"], 2, _SRC9),
            fmt=lambda x: f"{x:.2f}",
        ),
        acc_check,
        equivalence(
            _MECH[3], iv([r["l2_best_test"] for r in runs]), rounded(_N9["l2_acc"], 1, _SRC9), fmt=lambda x: f"{x:.3f}"
        ),
        cov(f"{_N9['seeds']} run(s) (paper: one, model init unseeded)", len(runs) >= _N9["seeds"]),
    ]


_ACC, _F, _C = _N10["acc"], _N10["f"], _N10["c"]


def _o_phase(m) -> str | None:
    """The smallest training fraction at which each regulariser reaches the accuracy in some cell (every seed)."""
    first: dict = {}
    for key, vals in (m["phase"] or {}).items():
        reg, f, _ = key.split(" ")
        if vals and min(v[0] for v in vals) >= _ACC:
            first[reg] = min(first.get(reg, 1.0), float(f[2:]))
    if not m["phase"]:
        return None
    said = {reg: f"f = {first[reg]:g}" if reg in first else "no cell" for reg in ("l2", "lrd")}
    return f"smallest f reaching {_ACC}: L2 {said['l2']}, LRD {said['lrd']}"


@target(
    10,
    "lrd-fraction-boundary",
    "LRD extends grokking to smaller training fractions",
    paper=f"L2 ≥ {_ACC} only at f ≥ {_F}; LRD ≥ {_ACC} at f ≥ {_F} for c ≥ {sci(_C)}, ≈ {_N10['acc_f_small']} at "
    f"f = {_N10['f_small']}",
    source=f"{LI} (code A)",
    chapter=CH5,
    measure=lease.paper_measure(  # at the paper profile: the GPU lease's items 10-lrd-phase-*, where stored
        10,
        from_chapter(
            CH5,
            ["phase", "boundary", "phase_model"],
            lambda p, m: (
                f"chapter 5's phase grid ({'reduced' if p != 'paper' else 'full'}: {len(m['phase'] or {})} cells, "
                f"{_N10['steps']:,} steps" + (f"; {m['phase_model']}" if m.get("phase_model") else "") + ")"
            ),
        ),
    ),
    section="4. The phase diagram, on both test splits",
    ours=_o_phase,
)
def _c_lrd_phase(m):
    ph = m["phase"] or {}
    qs = (
        f"L2 never reaches {_ACC} below f = {_F} (fails on a cell that does)",
        f"LRD reaches {_ACC} at every f ≥ {_F} with c ≥ {sci(_C)} (fails on a cell that does not)",
    )
    if not ph:
        return [num(q, None) for q in qs]
    cells = {}
    for key, vals in ph.items():
        reg, f, c = key.split(" ")
        cells[(reg, float(f[2:]), float(c[2:]))] = [v[0] for v in vals]
    l2_small = [max(v) for (r, f, c), v in cells.items() if r == "l2" and f < _F]
    lrd_big = [min(v) for (r, f, c), v in cells.items() if r == "lrd" and f >= _F and c >= _C]
    answers = (
        all(v < _ACC for v in l2_small) if l2_small else None,
        all(v >= _ACC for v in lrd_big) if lrd_big else None,
    )
    model = str(m.get("phase_model") or "")
    same = f"p = {_N10['p']}" in model and "smaller" not in model
    out = [
        num(q, ok)
        if same or ok is None
        else unlike(q, f"measured on {model or 'another model'}", f"the paper's model (p = {_N10['p']}, code A)")
        for q, ok in zip(qs, answers)
    ]
    seeds = min(len(v) for v in ph.values())
    return out + [
        cov(
            f"the paper's {_N10['grid'][0]} × {_N10['grid'][1]} grid", len(ph) >= 2 * _N10["grid"][0] * _N10["grid"][1]
        ),
        cov(f"{_N10['seeds']} seed per cell (paper: one)", seeds >= _N10["seeds"]),
    ]
