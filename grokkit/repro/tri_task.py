"""The multi-task paper (arXiv 2602.18523), the tri-task model: staggered generalisation (§3), k*
across weight decay (§4), the deletion cliff (§5; cpu-full only) and the target not run, the defect lead
across weight decay (§3): targets 18, 19, 20, 22 (Chapters 3 and 4). The dual-task targets
(14, 15, 17, 21) are in `grokkit.repro.dual_task`.
"""

from __future__ import annotations

from grokkit import book, stats
from grokkit.papers import NUMBERS, X2, grid, k1, margin, pct
from grokkit.repro import cpu_full_mt, gpu_runs, lease
from grokkit.repro.helpers import (
    CH3,
    CH4,
    TWO_RUNS,
    chapter,
    count_check,
    deletion_line,
    grok_check,
    median_steps,
    ratio_check,
    stated,
)
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, equivalence, num, order, undecided

# --- 18, 19: the tri-task model ----------------------------------------------------------------------


def _m_tri(profile):
    if profile == "paper":
        runs = [r for r in gpu_runs.stored("paper_multitask") if len(r["config"]["ops"]) == 3]
        return {
            "measured": {"per_seed": gpu_runs.per_seed(runs), "cap": runs[0]["config"]["max_steps"]},
            **gpu_runs.gpu_prov(runs),
            "scale": "the papers' tri-task model, wd 1.0, 3 seeds, 40k cap, one H200 (ensemble trainer)",
        }
    metrics, prov = chapter(CH3, profile)
    return {
        "measured": {"per_seed": metrics.get("tri_grok_steps"), "cap": metrics.get("tri_cap")},
        **prov,
        "scale": f"chapter 3's tri-task runs, wd 1.0, seeds {list(book.chapter3(profile).tri_seeds)}, "
        f"cap {book.chapter3(profile).tri.max_steps:,}",
    }


_N18 = NUMBERS[18]
_MEANS, _ORDER = _N18["mean_t98"], _N18["order"]
_NAME = {"x2_y2": "sq"}
_ORDER_Q = " < ".join(_NAME.get(op, op) for op in _ORDER)


@target(
    18,
    "tri-task-order",
    "Tri-task staggered generalisation",
    paper=f"{_ORDER_Q} in {_N18['seeds']}/{_N18['seeds']}; means {' / '.join(k1(_MEANS[op]) for op in _ORDER)}",
    source=f"{X2} §3",
    chapter=CH3,
    measure=lease.paper_measure(18, _m_tri),
    section="1. Three tasks, one trunk: who groks first?",
    ours=lambda m: (
        "median t98×3: "
        + ", ".join(
            f"{_NAME.get(op, op)} {median_steps([d.get(op) for d in m['per_seed'].values()], m['cap'])}"
            for op in _ORDER
        )
        + f" ({len(m['per_seed'])} seeds)"
    ),
)
def _c_tri(m):
    ps, cap = m["per_seed"] or {}, m.get("cap")
    seeds = list(ps.values())
    out = [
        grok_check(
            f"{_NAME.get(op, op)}: the median t98×3 is the paper's (its seeds "
            + "/".join(k1(x) for x in _N18["seeds_t98"][op])
            + "; fails if our interval lies outside their margin)",
            [d.get(op) for d in seeds],
            cap,
            margin(18, "seeds_t98", op),
            spread=stats.mean_interval(_N18["seeds_t98"][op], log=True).spread,
        )
        for op in _ORDER
    ]
    for a, b in zip(_ORDER, _ORDER[1:]):
        out.append(
            order(
                f"{_NAME.get(a, a)} groks before {_NAME.get(b, b)} (one-sided sign test over seeds at α = 0.05; fails "
                "if the reverse order is significant)",
                stats.order_test([d.get(a) for d in seeds], [d.get(b) for d in seeds], cap, cap) if seeds else None,
            )
        )
    return out + [cov(f"{_N18['seeds']} seeds (paper)", len(ps) >= _N18["seeds"])]


_N19 = NUMBERS[19]
_CELLS = len(_N19["weight_decays"]) * _N19["seeds"]


def _m_kstar_tri(profile):
    metrics, prov = chapter(CH4, profile)
    c = metrics.get("compression_tri")
    return {
        "measured": {"k_star_by_cell": {"1.0 seed 42": c["k_star"]["uncentred"]} if c else {}, "k_max": 20},
        **prov,
        "scale": f"chapter 4: one cell (wd 1.0, seed 42) of the paper's {_CELLS}",
    }


@target(
    19,
    "tri-task-kstar",
    "Tri-task k* across weight decay",
    paper=f"k* ∈ [{_N19['kstar'][0]}, {_N19['kstar'][1]}] in every cell",
    source=f"{X2} §4",
    chapter=CH4,
    measure=lease.paper_measure(19, _m_kstar_tri),
    section="3. Reconstruction: energy is not accuracy",
    ours=lambda m: stated(_c_kstar_tri(m), ("tri-task uncentred k*", "uncentred k*")),
)
def _c_kstar_tri(m):
    cells = m.get("k_star_by_cell") or {}
    paper_cells = [v for vs in _N19["cells"].values() for v in vs]
    iv = stats.km_median(
        list(cells.values()), m.get("k_max", 20), spread=stats.mean_interval(paper_cells, log=True).spread
    )
    return [
        equivalence(
            f"tri-task uncentred k* (every task ≥ {_N19['threshold']:.0%}), median over cells, is the paper's "
            "(fails if our interval lies outside the margin of its 15 cells)",
            iv if cells else None,
            margin(19, "cells"),
            fmt=lambda x: f"{x:.1f}",
        ),
        cov(f"all {_CELLS} cells: wd ∈ {grid(_N19['weight_decays'])} × {_N19['seeds']} seeds", len(cells) >= _CELLS),
    ]


# --- 20: the deletion cliff (cpu-full: seed 42; paper: the GPU lease, per seed); 22: the lease ---------------

_N20 = NUMBERS[20]
_T0_20 = max(NUMBERS[18]["seeds_t98"][op][0] for op in NUMBERS[18]["order"])  # seed 42: every task's t98×3
_RATIO20 = _N20["cap"] / _T0_20  # the paper's cap in units of its f = 0 grok step
_DELAYED = stats.Margin(1.0, float("inf"), None, _N20["margins"]["delay"])


def _m_deletion_paper(profile):
    raise LookupError(
        "measured at the paper profile only by the GPU lease's items 20-tri-deletion-* (none stored yet); "
        "the seed-42 sweep on this CPU is the cpu-full profile"
    )


@target(
    20,
    "deletion-cliff-tri",
    "Tri-task deletion cliff",
    paper=f"delays for f ≤ {pct(_N20['delays_to'])}, failure for f ≥ {pct(_N20['fails_from'])}",
    source=f"{X2} §5",
    chapter=None,
    measure=lease.paper_measure(20, _m_deletion_paper),
    cpu_full=cpu_full_mt.measure_20,
    profiles=("cpu-full", "paper"),
    ours=deletion_line,
)
def _c_tri_deletion(m):
    """Judged over every seed measured (`per_seed`, the GPU lease) or the paper's one (seed 42: the cpu-full
    sweep's `deletion` and `caps`), each run's grok step over its own seed's f = 0 step."""
    seeds = m.get("per_seed") or {str(_N20["seed"]): m}
    sweeps = {}
    for seed, sm in seeds.items():
        d = {float(f): t for f, t in (sm.get("deletion") or {}).items()}
        sweeps[seed] = (d, {float(f): c for f, c in (sm.get("caps") or {}).items()})
    bases = {seed: d.get(0.0) for seed, (d, _) in sweeps.items()}
    if not sweeps or any(b is None for b in bases.values()):
        missing = [seed for seed, b in bases.items() if b is None]
        return [
            num(
                "f = 0 groks" + (f" (seeds {', '.join(missing)})" if missing else ""),
                None if not sweeps or any(0.0 not in sweeps[s][0] for s in missing) else False,
            ),
            num("deletion delays, then kills", None),
        ]
    fractions = sorted({f for d, _ in sweeps.values() for f in d if f > 0})
    n = f" ({len(sweeps)} seeds)" if len(sweeps) > 1 else ""
    out = []
    for f in fractions:
        at = [(seed, d[f], caps[f], bases[seed]) for seed, (d, caps) in sweeps.items() if f in d]
        if f <= _N20["delays_to"]:
            q = (
                f"f = {f:g}: grokking is delayed, not stopped (t(f) / t(0) > 1{n}; fails if our interval is at or "
                "below 1)"
            )
            ratios = [None if t is None else t / b for _, t, _, b in at]
            out.append(ratio_check(q, ratios, [c / b for _, _, c, b in at], _DELAYED, spread=TWO_RUNS))
        elif f >= _N20["fails_from"]:
            q = (
                f"f = {f:g}: no grokking within {_RATIO20:.1f}× the f = 0 grok step{n} (the paper's {_N20['cap']:,}-"
                "step cap over its seed-42 grok step; fails if a run groks within that)"
            )
            early = [(seed, t, b) for seed, t, _, b in at if t is not None and t / b <= _RATIO20]
            short = [(seed, c, b) for seed, t, c, b in at if t is None and c / b < _RATIO20]
            if early:
                said = "; ".join(f"seed {seed} groks at {t:,} = {t / b:.2f}× its f = 0 step" for seed, t, b in early)
                out.append(num(q, False, statistic=said))
            elif short:
                said = "; ".join(f"seed {seed} censored at {c:,} = {c / b:.1f}× its f = 0 step" for seed, c, b in short)
                out.append(undecided(q, said + ", short of it"))
            else:
                said = "; ".join(
                    f"seed {seed}: " + (f"no grok by {c:,} = {c / b:.1f}×" if t is None else f"groks at {t / b:.1f}×")
                    for seed, t, c, b in at
                )
                out.append(num(q, True, statistic=said))
    covered = min(len([f for f in d if f > 0]) + 1 for d, _ in sweeps.values())
    return out + [cov(f"the paper's fractions ({len(_N20['fractions'])})", covered >= len(_N20["fractions"]))]


_N22 = NUMBERS[22]
_LF = _N22["lead_fractions"]
_FRACS = " / ".join(f"{a:.2f}" if a == b else f"{a:.2f}–{b:.2f}" for a, b in _LF.values())


def _m_tri_lead(profile):
    raise LookupError(
        "measured only at the paper profile, by the GPU lease's tri-task runs with the inline defect "
        "(items 19-22-tri-*); none stored yet"
    )


@target(
    22,
    "tri-task-lead",
    "Tri-task defect lead across weight decay",
    paper=f"{_N22['leads'][0]}/{_N22['leads'][1]} positive; lead fraction ≈ {_FRACS} at λ = {grid(list(_LF))}",
    source=f"{X2} §3",
    chapter=None,
    measure=lease.paper_measure(22, _m_tri_lead),
    profiles=("paper",),
    ours=lambda m: stated(_c_tri_lead(m), ("the defect onset", "onset before t90 in")),
)
def _c_tri_lead(m):
    recs = m.get("leads") or []
    timed = [r for r in recs if r["t90"] is not None]
    positive = sum(1 for r in timed if r["lead"] is not None and r["lead"] > 0)
    out = [
        count_check(
            "the defect onset (M6: 10 × the median of the first 3, and > 20) precedes t90 for every task of every "
            "run (fails if our share lies outside the paper's interval)",
            positive,
            len(timed),
            margin(22, "leads"),
        )
        if timed
        else num("the defect onset precedes t90 for every task of every run", None)
    ]
    for lam, (lo, hi) in _LF.items():
        at = [r for r in recs if r["wd"] == lam]
        paper = f"{lo:.2f}" if lo == hi else f"{lo:.2f}–{hi:.2f}"
        q = f"λ = {lam:g}: the mean lead fraction is the paper's {paper} (fails if our interval is outside the margin)"
        if any(r["t90"] is None for r in at):
            n = sum(r["t90"] is None for r in at)
            out.append(undecided(q, f"{n} task(s) did not reach 90% by the cap: their lead is unknown"))
        else:
            fr = [r["fraction"] for r in at if r["fraction"] is not None]
            iv = stats.mean_interval(fr) if fr else None
            out.append(equivalence(q, iv, margin(22, "lead_fractions", lam), fmt=lambda x: f"{x:.2f}"))
    seeds = min((len({r["seed"] for r in recs if r["wd"] == lam}) for lam in _LF), default=0)
    return out + [
        cov(f"λ ∈ {grid(list(_LF))} (paper)", {r["wd"] for r in recs} >= set(_LF)),
        cov(f"{_N22['seeds']} seeds per λ (paper)", seeds >= _N22["seeds"]),
    ]
