"""What the papers' tables share: the arXiv ids, the Xu papers' seeds and weight-decay grid, and the spreads
the margins are built from."""

from __future__ import annotations

X1, X2, X3, LI = "2602.16746", "2602.18523", "2602.18649", "2606.04405"  # single task, multi-task, holographic, LRD

RERUN_SPREAD = 0.10  # 2602.18523 §3.1 via papers-spec §1.3: re-runs of one seed differ by ~5–10% in grok step
RERUN_SOURCE = "at least ±10%, the papers' rerun spread (papers-spec §1.3)"
WEIGHT_DECAYS = (0.1, 0.2, 0.3, 0.5, 1.0)  # the multi-task paper's weight-decay grid (2602.18523 §3, §4)
SEEDS = (42, 137, 2024)  # the Xu papers' seeds (papers-spec §1.3)
CHANCE = 1 / 97  # one class of 97
NEAR_CHANCE = 0.05  # ours: "chance" / "≈ 0.01" read as below 5× chance
RHO_SPREAD = (0.99985 - 0.99961) / 4  # one run's ρ_min: a quarter of the range of the authors' 36 per-run minima
