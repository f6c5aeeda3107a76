"""The four papers' numbers, in one table: what the chapters quote and the scorecard judges against.

`NUMBERS[target id]` holds the numbers a reproduction target's claim states (papers-spec §6 and the
per-seed values of §2.3/§3.3), each entry with its `source` (paper, section/table/figure, and the
papers-spec section it was read from) and, under `margins`, how each number's equivalence margin is
derived (`grokkit.repro.verdict` states the rule; `margin(target, name)` computes it). A chapter
imports this module to quote a paper (`gk.papers`); nothing else types a paper's number.

Margins, by what the paper gives:
  per-seed (or per-run) values  the t interval of their mean (geometric for steps and ratios): every
                                value the paper's own seeds cannot tell from its estimate; at least the
                                paper's rerun spread (RERUN_SPREAD: re-runs of one seed differ by 5–10%)
  a single run                  its value ± 1.96 × the rerun spread
  "k of n"                      the Clopper–Pearson interval of k/n
  a bound ("≥ 513×")            the one-sided interval it states
  a figure-read or rounded value  what rounds to it at the precision it was stated to (or the spec's
                                  figure-reading tolerance)
Where the papers' text and the spec disagree, the spec's reading of the authors' data wins and the
entry says so. The formatters at the end write numbers the way the papers do ("2.5–3.2k", "7%").
"""

from __future__ import annotations

import math

from grokkit import stats

X1, X2, X3, LI = "2602.16746", "2602.18523", "2602.18649", "2606.04405"  # single task, multi-task, holographic, LRD

RERUN_SPREAD = 0.10  # 2602.18523 §3.1 via papers-spec §1.3: re-runs of one seed differ by ~5–10% in grok step
RERUN_SOURCE = "at least ±10%, the papers' rerun spread (papers-spec §1.3)"
WEIGHT_DECAYS = (0.1, 0.2, 0.3, 0.5, 1.0)  # the multi-task paper's weight-decay grid (2602.18523 §3, §4)
SEEDS = (42, 137, 2024)  # the Xu papers' seeds (papers-spec §1.3)
CHANCE = 1 / 97  # one class of 97
NEAR_CHANCE = 0.05  # ours: "chance" / "≈ 0.01" read as below 5× chance
RHO_SPREAD = (0.99985 - 0.99961) / 4  # one run's ρ_min: a quarter of the range of the authors' 36 per-run minima

_TRI_KSTAR = {  # 2602.18523 §4 heatmap (papers-spec §3.3): tri-task k* per (wd, seed 42/137/2024)
    1.0: (5, 5, 6),
    0.5: (4, 4, 5),
    0.3: (7, 5, 7),
    0.2: (5, 5, 6),
    0.1: (5, 5, 8),
}
_DUAL_KSTAR = {1.0: (7, 6, 6), 0.5: (5, 5, 5), 0.3: (5, 6, 6), 0.2: (6, 10, 7), 0.1: (9, 7, 9)}
_DUAL_WD_GROK = {  # 2602.18523 §3.3 table: grok = min(t98 add, t98 mul), seeds 42 / 137 / 2024
    1.0: (16300, 9600, 13500),
    0.5: (16600, 16800, 15200),
    0.3: (29800, 28000, 26800),
    0.2: (46500, 45100, 43600),
    0.1: (98800, 101300, 93700),
}

NUMBERS: dict[int, dict] = {
    # --- 2602.16746, single task ---------------------------------------------------------------
    1: {
        "params": {"one task": 290_401, "two tasks": 302_914, "three tasks": 315_427, "2.2M scale": 2_209_059},
        "source": f"{X1} §2; {X2} §3.1 ('~315k'); {X3} ('315K'); papers-spec §1.2, §4.1 (the 2.2M recipe)",
        "margins": {"params": "exact: a parameter count is arithmetic"},
    },
    3: {
        "defect": (1.7, 2.4),
        "source": f"{X1} §3; papers-spec §1.5 (M2) and §2.3 ('initial ≈ 1.7–2.4 everywhere')",
        "margins": {"defect": "the range over the paper's conditions, at the precision it was stated to (1.65–2.45)"},
    },
    4: {
        "t90": {
            "add": (3100, 3200, 2500),
            "sub": (3200, 3600, 3500),
            "mul": (2500, 2800, 2600),
            "x2_y2": (1900, 1900, 1800),
        },
        "t98x3": {
            "add": (3300, 3400, 2800),
            "sub": (3500, 3800, 3700),
            "mul": (2800, 3100, 2800),
            "x2_y2": (2700, 2600, 2500),
        },
        "add_t90": (2500, 3200),
        "add_t98x3": (2800, 3400),
        "grok": (1800, 3900),
        "ops": ("add", "sub", "mul", "x2_y2"),
        "seeds": 3,
        "source": f"{X1} §4; papers-spec §2.3 (per-seed t90 and t98×3 recomputed from the authors' saved results)",
        "margins": {"t90": "per op: the paper's 3 seeds", "t98x3": "per op: the paper's 3 seeds"},
    },
    5: {
        "ops": ("x2_xy_y2", "x3_xy"),
        "grokked": (0, 6),  # 2 non-grokking ops × 3 seeds at weight decay 1, 200k steps
        "wd0_grokked": (0, 12),  # the 4 grokking ops × 3 seeds at weight decay 0, 50k steps
        "acc": 0.9,
        "best": 0.78,
        "budgets": (50_000, 200_000),  # weight decay 0; the non-grokking ops
        "seeds": 3,
        "source": f"{X1} §4; papers-spec §2.1 (budgets) and §2.3 ('0/12 wd=0', 'never > 78%')",
        "margins": {"grokked": "Clopper–Pearson of 0/6", "wd0_grokked": "Clopper–Pearson of 0/12"},
    },
    6: {
        # layer 0, W_Q / W_K / W_V / W_O, each the mean over the paper's 3 seeds (pca_sweep_summary.json)
        "grokking_matrices": (
            69.0,
            68.7,
            81.5,
            73.0,
            68.4,
            68.4,
            79.8,
            71.4,
            69.4,
            69.3,
            80.8,
            72.3,
            73.0,
            73.0,
            82.4,
            74.7,
        ),
        "nongrokking_matrices": (46.7, 46.8, 37.8, 38.3, 53.2, 53.0, 44.5, 44.4),
        "grokking": (67.5, 83.1),  # per run and matrix, the paper's claim "68–83%"
        "nongrokking": (37.8, 53.2),  # per matrix (the 42–49 of earlier tables is a per-operation mean)
        "steps": 200_000,
        "source": f"{X1} §4.1; papers-spec §2.3 (per-matrix table from pca_sweep_summary.json)",
        "margins": {
            "grokking_matrices": "the t interval of the mean of the paper's 16 layer-0 per-matrix values",
            "nongrokking_matrices": "the t interval of the mean of the paper's 8 layer-0 per-matrix values",
        },
    },
    7: {
        "rho": 0.9999,  # as the paper states it (a summary statistic)
        "rho_lowest": 0.99961,  # the lowest per-checkpoint ρ in the authors' saved results
        "rho_spread": RHO_SPREAD,
        "conditions": (6, 2, 3),  # ops × weight decays × seeds
        "source": f"{X1} §4.3; papers-spec §2.3 (the 2026-12-01 correction: per-checkpoint minima 0.99961–0.99985)",
        "margins": {
            "rho_lowest": "one-sided: at or above the lowest per-run minimum in the authors' saved results; "
            "one run's spread is a quarter of the range of those minima"
        },
    },
    8: {
        "leads": (1300, 1400, 600, 1100, 1600, 1500, 600, 900, 700, 1400, 1200, 1100),  # add, sub, mul, x2_y2 × 3
        "lead": (600, 1600),
        "mean_lead": 1117,
        "positive": (12, 12),
        "growth_grok": 513,  # the smallest whole-run growth of a grokking run (authors' formula)
        "growth_grok_max": 2141,
        "growth_nongrok": 47,  # the largest growth of a non-grokking run (authors' formula)
        "source": f"{X1} §4.4; papers-spec §2.3 (lead table; 'growth 513–2141×', 'non-grokking 29–47×')",
        "margins": {
            "leads": "the t interval of the mean of the paper's 12 leads",
            "positive": "Clopper–Pearson of 12/12",
            "growth": "one-sided bounds as stated (≥ 513× grokking, ≤ 47× non-grokking)",
        },
    },
    11: {
        "s_full": 1.0,
        "s_partial": 0.75,
        "full_grokked": (0, 12),
        # s = 0.75 vs baseline, per op, figure-read means of 3 seeds: (baseline, s = 0.75)
        "delay_by_op": {"add": (3200, 4050), "sub": (3750, 4330), "mul": (2850, 3450), "x2_y2": (2650, 3120)},
        "delay": (0.15, 0.26),
        "random_difference": 50,  # "< 50-step difference" at s ≤ 0.75 (add, 3 seeds)
        "cap": 15_000,
        "strengths": (0.25, 0.5, 0.75, 1.0),
        "source": f"{X1} §5; papers-spec §2.3 (dose–response figure, read ±2–3%; PCA-vs-random ablation)",
        "margins": {
            "full_grokked": "Clopper–Pearson of 0/12",
            "delay_by_op": "the t interval of the mean of the 4 per-op delay ratios",
            "random": RERUN_SOURCE,
        },
    },
    12: {
        "grok": 3200,
        "baseline": 3233,
        "alphas": (50, 100, 200, 500),
        "runs": 27,
        "source": f"{X1} §5; papers-spec §2.2 (sustained kicks) and §2.3 ('27/27 runs grok at ~3200')",
        "margins": {"ratio": f"kicked / baseline grok step: {RERUN_SOURCE}"},
    },
    13: {
        "exec_random": {"add": 2.01, "sub": 1.70, "mul": 2.20, "x2_y2": 2.91},  # memorisation means, seed 42
        "pca_whole_run": None,  # the paper states none for its trajectory-PCA basis
        "source": f"{X1} §4.3; papers-spec §2.3 (weight-SVD basis, K = 24, seed 42; 'x2_y2: 1 point')",
        "margins": {"exec_random": "the t interval of the mean of the paper's 4 per-op values"},
    },
    23: {
        "alpha": 1.27,
        "alpha_se": 0.03,
        "r2": 0.97,
        "n": 43,
        "learning_rates": 6,
        "min_span": 10.0,  # ours: a fit needs grok times spanning at least 10× (the paper's span 200 to 136k)
        "source": f"{X1} §4.4; papers-spec §2.3 ('α = 1.27 ± 0.03, R² 0.97, n = 43')",
        "margins": {"alpha": "α ± t(41) × 0.03, the paper's standard error"},
    },
    25: {"t90": (550_000, 585_000), "rho": 1, "source": f"{X1} App.; papers-spec §2.3 (slow regime)", "margins": {}},
    # --- 2602.18523, multi-task ----------------------------------------------------------------
    14: {
        "t98": (9600, 16300),
        "t98_seeds": _DUAL_WD_GROK[1.0],
        "rho": 1.000,  # "ρ ≈ 1.000 at every checkpoint"
        "seeds": 3,
        "source": f"{X2} §3; papers-spec §3.3 (WD table at λ = 1: 16,300 / 9,600 / 13,500; 'add and mul grok "
        "almost simultaneously'; 'ρ ≈ 1.000')",
        "margins": {
            "t98_seeds": f"the paper's 3 seeds, {RERUN_SOURCE}",
            "add_mul": f"add / mul grok step: {RERUN_SOURCE}",
            "rho": "one-sided: what rounds to 1.000 (≥ 0.9995)",
        },
    },
    15: {
        "uncentred_seeds": _DUAL_KSTAR[1.0],
        "uncentred": (6, 7),
        "centred_with_init": (6, 10),  # k = 5 ≈ 0.05 and k ≥ 10 ≈ 1.0: the first k at 0.90 lies in 6–10
        "max_k": 30,
        "k_range": 20,  # k* = the smallest k in 1..20 with every task ≥ 0.90
        "checkpoints": 100,  # papers-spec §3.2: the checkpoint list subsampled to 100 evenly spaced rows
        "uncentred_pc1": (0.965, 0.985),  # papers-spec §3.3: uncentred PC1 alone, share of the trajectory energy
        "threshold": 0.90,
        "seeds": 3,
        "source": f"{X2} §4; papers-spec §3.2 (k* definition, variants i–iii) and §3.3 (dual k* table)",
        "margins": {
            "uncentred_seeds": "the t interval of the mean of the paper's 3 seeds at λ = 1",
            "centred_with_init": "the k the paper's figure brackets (k = 5 ≈ 0.05, k = 10 ≈ 1.0)",
            "centred_without_init": "exact: θ_final − θ_0 is not in the span of the centred rows",
        },
    },
    17: {
        "t_grok": {0.0: 14_000, 0.01: 18_100, 0.02: 21_000, 0.03: 23_400, 0.05: 36_900, 0.07: 42_500, 0.5: 36_900},
        "fails": (0.10, 0.15, 0.25),
        "cap": 50_000,
        "groks_again": 0.5,
        "fractions": 10,
        "basis": 20,  # papers-spec §3.2 (orthogonal gradient deletion): the top-20 uncentred trajectory PCs
        "start": 500,  # papers-spec §3.2: deletion applied from step 500 on
        "source": f"{X2} §5; papers-spec §3.3 (orthogonal deletion table, dual task, seed 42, wd 1.0)",
        "margins": {"t_grok": "delay t(f)/t(0), one seed: ± 1.96 × √2 × the rerun spread"},
    },
    18: {
        "seeds_t98": {"add": (30500, 19000, 13900), "mul": (17900, 15700, 12300), "x2_y2": (24800, 17500, 13000)},
        "mean_t98": {"add": 21133, "mul": 15300, "x2_y2": 18433},
        "order": ("mul", "x2_y2", "add"),
        "seeds": 3,
        "weight_decay": 1.0,  # papers-spec §3.3: the tri-task grok-step table is at wd = 1.0
        "head_cos_max": 0.078,  # papers-spec §3.3: head cosines stay tiny, the largest |cos| (mul↔sq) ≤ 0.078
        "source": f"{X2} §3 (figTT_I); papers-spec §3.3 (tri-task grok steps, wd 1.0)",
        "margins": {"seeds_t98": f"per task: the paper's 3 seeds, {RERUN_SOURCE}", "order": "sign test, α = 0.05"},
    },
    19: {
        "kstar": (4, 8),
        "cells": _TRI_KSTAR,
        "weight_decays": WEIGHT_DECAYS,
        "seeds": 3,
        "threshold": 0.90,
        "source": f"{X2} §4 (k* heatmap); papers-spec §3.3 (tri-task k*, read from the heatmap)",
        "margins": {"cells": "the t interval of the mean of the paper's 15 cells"},
    },
    20: {"delays_to": 0.07, "fails_from": 0.10, "source": f"{X2} §5; papers-spec §3.3", "margins": {}},
    21: {
        "seeds_t": _DUAL_WD_GROK,
        "t_grok": {str(w): round(sum(v) / 3, -2) for w, v in _DUAL_WD_GROK.items()},
        "exponent": -0.911,
        "prefactor": 10585,
        "r2": 0.94,
        "reciprocal_r2": 0.994,  # papers-spec §3.3: the reciprocal fit a/λ + c, R² = 0.994
        # papers-spec §3.3: deepest λ_min of the total-loss Hessian over training, mean of 3 seeds (figure-read)
        "curvature_depth": {1.0: -63, 0.5: -36, 0.3: -15, 0.2: -15, 0.1: -18},
        "leads": (15, 15),
        "min_span": 3.0,  # ours: an exponent needs weight decays spanning at least 3×
        "seeds": 3,
        "source": f"{X2} §3; papers-spec §3.3 (dual-task WD table, grok = min over tasks of t98; t = 10585·λ^−0.911)",
        "margins": {
            "seeds_t": f"per λ: the paper's 3 seeds, {RERUN_SOURCE}",
            "exponent": "the t interval of the slope fitted to the paper's 15 runs",
            "leads": "Clopper–Pearson of 15/15",
        },
    },
    22: {"leads": 27, "lead_fractions": (0.83, 0.77, 0.96), "source": f"{X2} §3; papers-spec §3.3", "margins": {}},
    # --- 2602.18649, holographic ---------------------------------------------------------------
    16: {
        "rank_chance": 64,
        "rank_full": 128,
        "keep_chance": 0.5,
        "keep_partial": 0.8,
        "keep_partial_acc": {"add": 0.6, "mul": 0.47},  # figure-read means of 3 seeds
        "scales": (0.95, 1.05),
        "chance": NEAR_CHANCE,
        "figure_tolerance": 0.03,  # papers-spec: figure-read numbers ±2–3% of the axis range
        "global_dims": (2, 6),  # papers-spec §4.3: trajectories confined to a 2–6 dimensional global subspace
        "steps_after_criterion": 300,  # papers-spec §1.3, §3.4 (4), Q15: measured ~300 steps past t98×3
        "seeds": 3,
        "source": f"{X3}; {X2} §4 (compression figures, dual task); papers-spec §3.3",
        "margins": {
            "chance": f"ours: below {NEAR_CHANCE:.0%} test accuracy (5× chance, 1/97)",
            "keep_partial_acc": "figure-read: ± 0.03 (papers-spec)",
        },
    },
    24: {"pcs": (3, 5), "share": 0.95, "svd": (80, 128), "source": f"{X3}; papers-spec §4.3", "margins": {}},
    # --- 2606.04405, low-rank decay ------------------------------------------------------------
    9: {
        "srank_init": 33,
        "lrd_srank": 5,  # "≈ 5 by step 400" (papers-spec §5.4), not "< 5"
        "lrd_srank_by": 400,
        "lrd_srank_late": (1, 2),  # by step 1400
        "lrd_srank_late_by": 1400,
        "l2_srank": 25,
        "lrd_acc": 1.0,
        "lrd_acc_by": 3000,
        "l2_acc": 0.5,
        # papers-spec §5.3 A: the mechanism run (p, train fraction, LRD c on Q/K, L2 weight decay w, steps)
        "mechanism": {"p": 113, "f": 0.5, "c": 0.005, "w": 0.1, "steps": 4000},
        "seeds": 1,  # code A: one run, model init unseeded
        "source": f"{LI} (code A's mechanism figure); papers-spec §5.4 (figure-read)",
        "margins": {"all": "what rounds to the stated number (one significant figure; 25 to two)"},
    },
    10: {
        "acc": 0.99,
        "f": 0.5,
        "c": 5e-3,
        "acc_f_small": 0.9,
        "acc_f_small_range": (0.90, 0.95),  # papers-spec §5.4: LRD at f = 0.4 reaches ≈ 0.90–0.95
        "l2_factor": 10,  # papers-spec §5.3 A: the L2 grid uses w = 10·c
        "f_small": 0.4,
        "p": 113,
        "steps": 2500,
        "grid": (6, 6),
        "seeds": 1,  # the paper ran one (code A)
        "source": f"{LI} (code A's phase diagram); papers-spec §5.3 A and §5.4",
        "margins": {"all": "figure-read cells; one seed (no spread)"},
    },
    2: {"source": f"{LI} §3; papers-spec §5.1 (exact statements about one step)", "margins": {}},
}


# --- margins -------------------------------------------------------------------------------------


def margin(target: int, name: str, key=None) -> stats.Margin:
    """The equivalence margin of `NUMBERS[target]`'s number `name` (per op / λ / task: `key`), as its
    entry's `margins` text says; see the module docstring."""
    n = NUMBERS[target]
    src = f"{n['source'].split(';')[0]}: {n['margins'].get(name, '')}".rstrip(": ")
    if (target, name) in {(4, "t90"), (4, "t98x3"), (18, "seeds_t98"), (21, "seeds_t")}:
        vals = n[name][key if target != 21 else float(key)]
        return stats.margin_from_values(vals, src, log=True, floor=RERUN_SPREAD)
    if (target, name) == (14, "t98_seeds"):
        return stats.margin_from_values(n[name], src, log=True, floor=RERUN_SPREAD)
    if (target, name) in {(6, "grokking_matrices"), (6, "nongrokking_matrices"), (8, "leads")}:
        return stats.margin_from_values(n[name], src, log=False)
    if (target, name) in {(15, "uncentred_seeds")}:
        return stats.margin_from_values(n[name], src, log=False)
    if (target, name) == (19, "cells"):
        return stats.margin_from_values([k for v in n[name].values() for k in v], src, log=False)
    if (target, name) == (13, "exec_random"):
        return stats.margin_from_values(list(n[name].values()), src, log=True)
    if (target, name) == (11, "delay_by_op"):
        return stats.margin_from_values([b / a for a, b in n[name].values()], src, log=True)
    if (target, name) in {(5, "grokked"), (5, "wd0_grokked"), (8, "positive"), (11, "full_grokked"), (21, "leads")}:
        return stats.margin_from_proportion(*n[name], src)
    if (target, name) == (21, "exponent"):
        w, t = zip(*[(lam, x) for lam, v in _DUAL_WD_GROK.items() for x in v])
        s = stats.slope_interval(w, t)
        return stats.Margin(s.lo, s.hi, s.estimate, src)
    if (target, name) == (23, "alpha"):
        w = stats.t_quantile(0.95, n["n"] - 2) * n["alpha_se"]
        return stats.Margin(n["alpha"] - w, n["alpha"] + w, n["alpha"], src)
    raise KeyError(f"no margin {name!r} for target {target}")


def rerun(value: float, source: str = RERUN_SOURCE, runs: int = 1) -> stats.Margin:
    """A single-seed paper value ± 1.96 × the rerun spread (× √runs for a ratio of `runs` runs)."""
    w = math.exp(1.96 * RERUN_SPREAD * math.sqrt(runs))
    return stats.Margin(value / w, value * w, value, source, log=True)


def rounded(value: float, digits: int = 1, source: str = "what rounds to it at the precision stated") -> stats.Margin:
    """What rounds to `value` at `digits` significant figures: 5 -> [4.5, 5.5), 400 -> [350, 450)."""
    unit = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return stats.Margin(value - unit / 2, value + unit / 2, value, source)


def log_spread(values) -> float:
    """The log-sd of a paper's per-seed values: a single run's spread (`grokkit.stats`)."""
    return stats.mean_interval(values, log=True).spread


# --- how the papers write numbers -----------------------------------------------------------------


def k(n) -> str:
    """Thousands, as the papers write them: 2500 -> '2.5' (append the 'k')."""
    return f"{n / 1000:g}"


def krange(lo, hi, sep: str = "–") -> str:
    """2500, 3200 -> '2.5–3.2k'."""
    return f"{k(lo)}{sep}{k(hi)}k"


def k1(n) -> str:
    """21133 -> '21.1k'."""
    return f"{n / 1000:.1f}k"


def pct(x) -> str:
    """0.07 -> '7%'."""
    return f"{x:.0%}"


def pct_range(lo, hi) -> str:
    """0.1, 0.25 -> '10–25%'."""
    return f"{pct(lo)[:-1]}–{pct(hi)}"


def sci(x) -> str:
    """0.005 -> '5e-3'."""
    return f"{x:.0e}".replace("e-0", "e-")


def minus(x, digits: int = 2) -> str:
    """-0.91 -> '−0.91' (a typographic minus)."""
    return f"{x:.{digits}f}".replace("-", "−")


def grid(values) -> str:
    """(50, 100) -> '{50, 100}'."""
    return "{" + ", ".join(str(v) for v in values) + "}"


def steps_fmt(x) -> str:
    """A step count for a statistic: 11234 -> '11.2k', 950 -> '950'."""
    return f"{x / 1000:.1f}k" if abs(x) >= 1000 else f"{x:.0f}"
