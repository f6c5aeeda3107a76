"""The multi-task paper (arXiv 2602.18523), the tri-task model: staggered generalisation (§3), k*
across weight decay (§4), and the two tri-task targets not run, the defect lead across weight decay
(§3) and the deletion cliff (§5): targets 18, 19, 20, 22 (Chapters 3 and 4). The dual-task targets
(14, 15, 17, 21) are in `grokkit.repro.dual_task`.
"""

from __future__ import annotations

import numpy as np

from grokkit import book
from grokkit.repro import gpu_runs, lease
from grokkit.repro.helpers import CH3, CH4, chapter, from_chapter, not_run, within
from grokkit.repro.paper_numbers import NUMBERS, X2, grid, pct
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, num

# --- 18, 19: the tri-task model ----------------------------------------------------------------------


def _m_tri(profile):
    if profile == "paper":
        runs = [r for r in gpu_runs.stored("paper_multitask") if len(r["config"]["ops"]) == 3]
        return {
            "measured": {"per_seed": gpu_runs.per_seed(runs)},
            **gpu_runs.gpu_prov(runs),
            "scale": "the papers' tri-task model, wd 1.0, 3 seeds, 40k cap, one H200 (ensemble trainer)",
        }
    metrics, prov = chapter(CH3, profile)
    return {
        "measured": {"per_seed": metrics.get("tri_grok_steps")},
        **prov,
        "scale": f"chapter 3's tri-task runs, wd 1.0, seeds {list(book.chapter3(profile).tri_seeds)}, "
        f"cap {book.chapter3(profile).tri.max_steps:,}",
    }


_N18 = NUMBERS[18]
_MEANS, _ORDER = _N18["mean_t98"], _N18["order"]
_ORDER_Q = " < ".join({"x2_y2": "sq"}.get(op, op) for op in _ORDER)


def _k1(n) -> str:
    return f"{n / 1000:.1f}k"  # 21133 -> '21.1k'


@target(
    18,
    "tri-task-order",
    "Tri-task staggered generalisation",
    paper=f"{_ORDER_Q} in {_N18['seeds']}/{_N18['seeds']}; means {' / '.join(_k1(_MEANS[op]) for op in _ORDER)}",
    source=f"{X2} §3",
    chapter=CH3,
    measure=lease.paper_measure(18, _m_tri),
)
def _c_tri(m):
    ps = m["per_seed"] or {}
    done = {s: d for s, d in ps.items() if all(d.get(op) for op in _MEANS)}
    order = [all(d[a] < d[b] for a, b in zip(_ORDER, _ORDER[1:])) for d in done.values()]
    means = {op: np.mean([d[op] for d in done.values()]) for op in _MEANS} if done else {}
    w = _N18["within"]
    return [
        num("every task groks in every seed", None if not ps else len(done) == len(ps)),
        num(f"order {_ORDER_Q} in every seed", all(order) if order else None),
        num(
            f"mean t98 per task within {pct(w)} of {' / '.join(_k1(v) for v in _MEANS.values())}",
            None if not means else all(abs(means[op] / _MEANS[op] - 1) <= w for op in _MEANS),
        ),
        cov(f"{_N18['seeds']} seeds (paper)", len(ps) >= _N18["seeds"]),
    ]


_N19 = NUMBERS[19]
_CELLS = len(_N19["weight_decays"]) * _N19["seeds"]


@target(
    19,
    "tri-task-kstar",
    "Tri-task k* across weight decay",
    paper=f"k* ∈ [{_N19['kstar'][0]}, {_N19['kstar'][1]}] in every cell",
    source=f"{X2} §4",
    chapter=CH4,
    measure=from_chapter(CH4, ["k_star_95"], f"chapter 4: one cell (wd 1.0, seed 42) of the paper's {_CELLS}"),
)
def _c_kstar_tri(m):
    lo, hi = _N19["kstar"]
    kstar = (m["k_star_95"] or {}).get("uncentred")
    return [
        num(f"tri-task uncentred k* in [{lo}, {hi}] (wd 1.0 cell)", within(kstar, lo, hi) if m["k_star_95"] else None),
        cov(f"all {_CELLS} cells: wd ∈ {grid(_N19['weight_decays'])} × {_N19['seeds']} seeds (ours: one)", False),
    ]


# --- 20, 22: not run -----------------------------------------------------------------------------------

_TRI_DELETION = (f"delays for f ≤ {pct(NUMBERS[20]['delays_to'])}", f"failure for f ≥ {pct(NUMBERS[20]['fails_from'])}")
target(
    20,
    "deletion-cliff-tri",
    "Tri-task deletion cliff",
    paper=", ".join(_TRI_DELETION),
    source=f"{X2} §5",
    chapter=None,
    measure=None,
)(not_run(*_TRI_DELETION))


_N22 = NUMBERS[22]
target(
    22,
    "tri-task-lead",
    "Tri-task defect lead across weight decay",
    paper=f"{_N22['leads']}/{_N22['leads']} positive; lead fraction ≈ {'/'.join(map(str, _N22['lead_fractions']))}",
    source=f"{X2} §3",
    chapter=None,
    measure=None,
)(
    not_run(
        f"{_N22['leads']}/{_N22['leads']} leads positive",
        f"lead fractions ≈ {' / '.join(map(str, _N22['lead_fractions']))}",
    )
)
