"""The holographic paper (arXiv 2602.18649): static compressions of a grokked model fail, at the
papers' scale and at 1.15M and 2.2M parameters: targets 16, 24 (Chapter 4)."""

from __future__ import annotations

from grokkit import stats
from grokkit.papers import NUMBERS, X3, pct
from grokkit.repro import cpu_full_mt
from grokkit.repro.helpers import CH4, compressions, from_chapter, like_dual, not_run, stated
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, equivalence, exact, num

_N16 = NUMBERS[16]
_RANK, _FULL = _N16["rank_chance"], _N16["rank_full"]
_KEEP0, _KEEP1 = _N16["keep_chance"], _N16["keep_partial"]
_S0, _S1 = _N16["scales"]
_CHANCE = stats.Margin(0.0, _N16["chance"], None, _N16["margins"]["chance"])
_ACC = lambda x: f"{x:.3f}"


def _worst(runs, table, key):
    """Per run, the largest task accuracy of `table`[key] (a claim of chance must hold for every task)."""
    return [max(r[table][key]) for r in runs if key in r[table]]


def _task(runs, table, key, op):
    return [r[table][key][r["ops"].index(op)] for r in runs if key in r[table] and op in r["ops"]]


@target(
    16,
    "holographic-incompressibility",
    "Static compressions fail",
    paper=f"SVD rank ≤ {_RANK} → chance, {_FULL} → 1.0; prune keep {pct(_KEEP0)} → chance, {pct(_KEEP1)} → "
    + " / ".join(f"{v} ({op})" for op, v in _N16["keep_partial_acc"].items())
    + f"; scale {_S0}/{_S1} → chance",
    source=f"{X3}",
    chapter=CH4,
    measure=from_chapter(
        CH4, ["compression_dual"], "chapter 4: the dual-task wd 1.0 run", lambda p: {"tasks": 2, "seeds": 1}
    ),
    cpu_full=cpu_full_mt.MEASURES[16],
    section="4. Fragility",
    ours=lambda m: stated(
        _c_holo(m),
        (f"per-matrix SVD at rank {_RANK}:", f"rank-{_RANK} SVD accuracy"),
        (f"keeping {pct(_KEEP1)}: add", f"{pct(_KEEP1)} kept: add"),
        (f"keeping {pct(_KEEP1)}: mul", "mul"),
    ),
)
def _c_holo(m):
    runs = compressions(m) or ([m["compression_dual"]] if m.get("compression_dual") else [])
    if not runs:
        return [num("static compressions", None)]
    iv = lambda xs: stats.mean_interval(xs) if xs else None
    chance = f"near chance (below {_N16['chance']:.0%} on every task; fails if our interval lies above)"
    out = [
        like_dual(
            m,
            equivalence(
                f"per-matrix SVD at rank {_RANK}: {chance}", iv(_worst(runs, "svd_acc", str(_RANK))), _CHANCE, fmt=_ACC
            ),
        ),
        like_dual(
            m,
            exact(
                f"per-matrix SVD at rank {_FULL} (full) gives back the final accuracy (fails on any loss: a full-rank "
                "truncation is exact)",
                all(abs(a - f) < 1e-6 for r in runs for a, f in zip(r["svd_acc"].get(str(_FULL), [0]), r["final_acc"])),
            ),
        ),
        like_dual(
            m,
            equivalence(
                f"magnitude pruning keeping {pct(_KEEP0)}: {chance}",
                iv(_worst(runs, "pruning_acc", str(_KEEP0))),
                _CHANCE,
                fmt=_ACC,
            ),
        ),
    ]
    tol = _N16["figure_tolerance"]
    for op, v in _N16["keep_partial_acc"].items():
        out.append(
            like_dual(
                m,
                equivalence(
                    f"keeping {pct(_KEEP1)}: {op} test accuracy ≈ {v} (figure-read ± {tol}; fails if our interval lies "
                    "outside)",
                    iv(_task(runs, "pruning_acc", str(_KEEP1), op)),
                    stats.Margin(v - tol, v + tol, v, _N16["margins"]["keep_partial_acc"]),
                    fmt=_ACC,
                ),
            )
        )
    scaled = [
        max(a, b) for a, b in zip(_worst(runs, "rescaling_acc", str(_S0)), _worst(runs, "rescaling_acc", str(_S1)))
    ]
    out.append(like_dual(m, equivalence(f"rescaling Δ by {_S0} and {_S1}: {chance}", iv(scaled), _CHANCE, fmt=_ACC)))
    return out + [cov(f"{_N16['seeds']} seeds (paper)", len(runs) >= _N16["seeds"])]


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
