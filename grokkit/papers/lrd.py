"""arXiv 2606.04405 (Li, low-rank decay): the numbers of targets 2, 9 and 10 (papers-spec §5, §6)."""

from __future__ import annotations

from grokkit.papers.common import LI

NUMBERS: dict[int, dict] = {
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
