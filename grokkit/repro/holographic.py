"""The holographic paper (arXiv 2602.18649): static compressions of a grokked model fail, at the
papers' scale and at 1.15M and 2.2M parameters: targets 16, 24 (Chapter 4)."""

from __future__ import annotations

from grokkit.repro import cpu_full
from grokkit.repro.helpers import CH4, ch4_coverage, from_chapter, like_dual, not_run, within
from grokkit.repro.paper_numbers import NUMBERS, X3, one_decimal, pct
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov

_N16 = NUMBERS[16]
_RANK, _FULL, _HALF, _CHANCE = _N16["rank_chance"], _N16["rank_full"], _N16["half"], _N16["chance"]
_KEEP0, _KEEP1 = _N16["keep_chance"], _N16["keep_half"]
_S0, _S1 = _N16["scales"]


@target(
    16,
    "holographic-incompressibility",
    "Static compressions fail",
    paper=f"SVD rank ≤ {_RANK} → chance, {_FULL} → 1.0; prune keep {pct(_KEEP0)} → chance, {pct(_KEEP1)} → "
    f"≈ {_HALF}; scale {_S0}/{_S1} → chance",
    source=f"{X3}",
    chapter=CH4,
    measure=from_chapter(
        CH4,
        ["rank_needed_95", "pruning", "rescaling"],
        "chapter 4: the tri-task wd 1.0 run (paper: dual task)",
        ch4_coverage,
    ),
    cpu_full=cpu_full.MEASURES[16],
)
def _c_holo(m):
    r, pr, sc = m["rank_needed_95"] or {}, m["pruning"] or {}, m["rescaling"] or {}
    need = r.get("per-matrix SVD", "absent")
    half = one_decimal(_HALF)
    return [
        like_dual(
            m,
            f"per-matrix SVD: rank {_RANK} is not enough (rank needed > {_RANK})",
            None if need == "absent" else (need is None or need > _RANK),
        ),
        like_dual(
            m,
            f"magnitude pruning keeping {pct(_KEEP0)}: near chance (< {pct(_CHANCE)} of final)",
            within(pr.get(str(_KEEP0)), 0, _CHANCE),
        ),
        like_dual(
            m,
            f"keeping {pct(_KEEP1)}: ≈ {_HALF} of final (to one decimal: {half[0]}–{half[1]})",
            within(pr.get(str(_KEEP1)), *half),
        ),
        like_dual(
            m,
            f"rescaling by {_S0} and {_S1}: near chance (< {pct(_CHANCE)})",
            None if str(_S0) not in sc else sc[str(_S0)] < _CHANCE and sc.get(str(_S1), 1) < _CHANCE,
        ),
        cov(f"{_N16['seeds']} seeds (paper)", (m.get("seeds") or 1) >= _N16["seeds"]),
    ]


_N24 = NUMBERS[24]
_PCS, _SVD = _N24["pcs"], _N24["svd"]
_SCALING = (
    f"{_PCS[0]}–{_PCS[1]} uncentred PCs give ≥ {pct(_N24['share'])}",
    f"per-matrix SVD needs ≳ {_SVD[0]}/{_SVD[1]}",
)
target(
    24,
    "paper1-scaling",
    "Holographic findings at 1.15M and 2.2M parameters",
    paper="; ".join(_SCALING),
    source=f"{X3}",
    chapter=CH4,
    measure=None,
)(not_run(f"{_SCALING[0]} of final accuracy", f"{_SCALING[1]} components"))
