"""The papers' numbers, in one table: what each reproduction target's checks compare with.

`NUMBERS[target id]` holds the numbers a target's claim states (papers-spec §6, and the corrections
of §2.3), plus the few tolerances of ours that the checks and their questions share (marked
"ours"). The paper modules build each target's `paper` line and its check questions from this
table, so a number is typed once. The formatters below write the numbers the way the papers do
("2.5–3.2k", "7%", "5e-3").
"""

from __future__ import annotations

import math

X1, X2, X3, LI = "2602.16746", "2602.18523", "2602.18649", "2606.04405"  # single task, multi-task, holographic, LRD

WEIGHT_DECAYS = (0.1, 0.2, 0.3, 0.5, 1.0)  # the multi-task paper's weight-decay grid (2602.18523 §3, §4)
ADD_SEED_SPREAD = 0.10  # ours: ±10% of a step, the paper's seed spread of add (t98×3 2.8k–3.4k)

NUMBERS: dict[int, dict] = {
    # --- 2602.16746, single task ---------------------------------------------------------------
    1: {"params": {"one task": 290_401, "two tasks": 302_914, "three tasks": 315_427, "2.2M scale": 2_209_059}},
    3: {"defect": (1.7, 2.4)},  # median defect at initialisation
    4: {
        "add_t90": (2500, 3200),
        "add_t98x3": (2800, 3400),  # add, the range over the paper's seeds
        "grok": (1800, 3900),  # t98×3 of all four grokking ops
        "ops": 4,
        "seeds": 3,
    },  # the paper's single-task grid (its 12 runs)
    5: {
        "ops": ("x2_xy_y2", "x3_xy"),  # the non-grokking operations (besides add at weight decay 0)
        "acc": 0.9,
        "best": 0.78,
        "budgets": (50_000, 200_000),
        "seeds": 3,
    },
    6: {
        "grokking": (67.5, 83.1),
        "nongrokking": (42, 49),  # layer-0 PC1 share, %
        "spread": 5,  # the ends move by up to 5 points between the paper's seeds (§2.3)
        "steps": 200_000,
    },  # the paper's trajectories
    7: {
        "rho": 0.9999,  # as the paper states it
        "rho_lowest": 0.9996,  # the lowest per-checkpoint ρ in the authors' saved results (§2.3, correction)
        "conditions": (6, 2, 3),
    },  # ops × weight decays × seeds
    8: {"lead": (600, 1600), "mean_lead": 1117, "growth_grok": 513, "growth_nongrok": 47},
    11: {
        "s_full": 1.0,
        "s_partial": 0.75,
        "delay": (0.15, 0.26),
        "delay_spread": 0.04,  # ours: ±4 points, the baseline's seed spread
        "cap": 15_000,
        "strengths": (0.25, 0.5, 0.75, 1.0),
    },
    12: {"grok": 3200, "alphas": (50, 100, 200, 500), "runs": 27},
    13: {"exec_random": {"add": 2.01, "sub": 1.70, "mul": 2.20, "x2_y2": 2.91}},  # memorisation means, seed 42 (§2.3)
    23: {
        "alpha": 1.27,
        "alpha_se": 0.03,
        "r2": 0.97,
        "n": 43,
        "learning_rates": 6,
        "r2_min": 0.9,
    },  # ours: the R² a power law must reach
    25: {"t90": (550_000, 585_000), "rho": 1},
    # --- 2602.18523, multi-task ----------------------------------------------------------------
    14: {
        "t98": (9600, 16300),
        "same": 0.25,  # ours: add ≈ mul within 25%
        "seeds": 3,
    },
    15: {
        "share": 0.95,  # k*: the fewest PCs that give 95% of the final accuracy
        "uncentred": (6, 7),
        "centred_with_init": 10,
        "max_k": 30,
        "seeds": 3,
    },
    17: {
        "t_grok": {0.0: 14_000, 0.01: 18_100, 0.02: 21_000, 0.5: 36_900},
        "fails": (0.10, 0.25),
        "groks_again": 0.5,
        "slow": (0.07, 3),  # the paper's 7% run grokked at ~3× the f = 0 step
        "fractions": 10,
    },
    18: {
        "mean_t98": {"add": 21133, "mul": 15300, "x2_y2": 18433},
        "order": ("mul", "x2_y2", "add"),
        "within": 0.25,  # ours
        "seeds": 3,
    },
    19: {"kstar": (4, 8), "weight_decays": WEIGHT_DECAYS, "seeds": 3},
    20: {"delays_to": 0.07, "fails_from": 0.10},
    21: {
        "t_grok": dict(zip(map(str, WEIGHT_DECAYS), (98_000, 45_000, 28_000, 16_500, 13_000))),
        "within": 0.3,  # ours
        "exponent": -0.91,
        "exponent_within": 0.3,  # ours
        "seeds": 3,
    },
    22: {"leads": 27, "lead_fractions": (0.83, 0.77, 0.96)},
    # --- 2602.18649, holographic ---------------------------------------------------------------
    16: {
        "rank_chance": 64,
        "rank_full": 128,
        "keep_chance": 0.5,
        "keep_half": 0.8,
        "half": 0.5,
        "scales": (0.95, 1.05),
        "chance": 0.1,  # ours: "near chance" is below 10% of the final accuracy
        "seeds": 3,
    },
    24: {"pcs": (3, 5), "share": 0.95, "svd": (80, 128)},
    # --- 2606.04405, low-rank decay ------------------------------------------------------------
    9: {
        "srank_init": 33,
        "lrd_srank": 5,
        "lrd_srank_by": 400,
        "l2_srank": 25,
        "l2_srank_min": 15,  # ours: "stays ~25" read as never below 15
        "lrd_acc": 1.0,
        "lrd_acc_by": 3000,
        "l2_acc": 0.5,
        "l2_acc_max": 0.6,
    },  # ours: "flat ~0.5"
    10: {"acc": 0.99, "f": 0.5, "c": 5e-3, "acc_f_small": 0.9, "f_small": 0.4, "p": 113, "seeds": 3},
}


# --- how the papers write numbers -----------------------------------------------------------------


def k(n) -> str:
    """Thousands, as the papers write them: 2500 -> '2.5' (append the 'k')."""
    return f"{n / 1000:g}"


def krange(lo, hi, sep: str = "–") -> str:
    """2500, 3200 -> '2.5–3.2k'."""
    return f"{k(lo)}{sep}{k(hi)}k"


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


def one_sig_fig_max(n: int) -> int:
    """The largest integer that rounds to `n` at one significant figure: 3000 -> 3499."""
    unit = 10 ** int(math.floor(math.log10(n)))
    return n + unit // 2 - 1


def one_decimal(x: float) -> tuple[float, float]:
    """What rounds to `x` at one decimal: 0.5 -> (0.45, 0.55)."""
    return round(x - 0.05, 2), round(x + 0.05, 2)
