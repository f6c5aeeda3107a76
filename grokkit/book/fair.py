"""Chapter 5's methods: the phase table of L2 and LRD, its boundary, and the fair comparison.

The choices that change the answer, stated once:
  * a run's score is its best test accuracy over training (`best_test_acc`); "leak-free" scores use
    the test pairs whose swapped pair is not in training (grokkit.hooks.trackers.LeakFreeTest);
  * L2's strength is reported as its weight decay w = 10c (the original grid's ratio);
  * the boundary is the smallest training fraction at which some strength's seed-mean best test
    accuracy exceeds 0.99;
  * each regulariser gets two tuning trials at the comparison's fraction: its best phase-grid strength
    (leak-free, seed mean; ties to the larger strength) and one x3 step beyond it, on the side where
    the best sat; the best trial is picked by seed-mean leak-free accuracy (rounded to 0.001), ties
    to fewer steps to 99% (a run that never gets there counts the budget);
  * a regulariser is "ahead" only when its worst seed beats the other's best seed by > 0.01; with both
    succeeding, "faster" only when every seed is faster.
"""

from __future__ import annotations

import numpy as np

from grokkit.book.prose import fmt_step
from grokkit.book.settings import lrd_member
from grokkit.hooks.trackers import LeakFreeTest

REGULARISERS = ("l2", "lrd")


def unit(reg: str, c: float) -> float:
    """The strength as reported: L2's weight decay w = 10c; LRD's c."""
    return 10 * c if reg == "l2" else c


def best_test_acc(run, leak_free: bool = False) -> float:
    if leak_free:
        return max(v[0] for v in run.series("test_acc_leak_free")[1])
    return max(run.curve("test_acc")[1])


def phase_members(settings) -> tuple[list, list]:
    """(members, cells): every (regulariser, fraction, strength, seed) of the phase grid."""
    members, cells = [], []
    for reg in REGULARISERS:
        for f in settings.fractions:
            for c in settings.strengths:
                for seed in settings.seeds:
                    base = settings.grid_base.replace(train_frac=f, seed=seed, max_steps=settings.budget)
                    members.append(lrd_member(base, reg, unit(reg, c), hooks=[LeakFreeTest()]))
                    cells.append((reg, f, c, seed))
    return members, cells


def phase_cell(run, settings) -> tuple:
    """(reg, f, c, seed): the phase-grid cell of `run` (a member of `phase_members(settings)`), read from the run
    itself (its LRD hook's strength, or L2's weight decay = 10c), so a run trained elsewhere is placed too."""
    lrd = [h for h in run.info.get("hooks") or [] if h.startswith("lrd(")]
    reg, value = ("lrd", float(lrd[0].split("λ=")[1].split(",")[0])) if lrd else ("l2", run.config.weight_decay)
    near = lambda xs, x: min(xs, key=lambda v: abs(v - x))  # noqa: E731  (the settings' own float)
    c = near(settings.strengths, value if reg == "lrd" else value / 10)
    if not np.isclose(unit(reg, c), value, rtol=1e-9):
        raise ValueError(f"run {run.info.get('key')}: {reg} strength {value} is not in the phase grid")
    return reg, near(settings.fractions, run.config.train_frac), c, run.config.seed


def phase_table(cells, runs) -> dict:
    """(reg, f, c) -> [(best test acc, best leak-free test acc) per seed]."""
    table = {}
    for (reg, f, c, _), r in zip(cells, runs):
        table.setdefault((reg, f, c), []).append((best_test_acc(r), best_test_acc(r, True)))
    return table


def fraction_boundary(settings, table, reg: str, split: int):
    """The smallest fraction at which some strength's seed-mean best accuracy exceeds 0.99 (or None)."""
    ok = [
        f
        for f in settings.fractions
        if any(np.mean([x[split] for x in table[(reg, f, c)]]) > 0.99 for c in settings.strengths)
    ]
    return min(ok) if ok else None


def tuning_grid(settings, table, reg: str) -> list:
    """The two trials: the best phase-grid strength at `fair_fraction` and one x3 step beyond it."""
    score = {c: np.mean([x[1] for x in table[(reg, settings.fair_fraction, c)]]) for c in settings.strengths}
    c0 = max(settings.strengths, key=lambda c: (round(score[c], 3), c))
    return [c0, c0 * 3 if c0 == max(settings.strengths) else c0 / 3]


def fair_members(settings, grids: dict) -> tuple[list, list]:
    members, keys = [], []
    for op in settings.fair_ops:
        for reg in REGULARISERS:
            for c in grids[reg]:
                for seed in settings.fair_seeds:
                    cfg = settings.grid_base.replace(
                        ops=(op,), train_frac=settings.fair_fraction, seed=seed, max_steps=settings.budget
                    )
                    members.append(lrd_member(cfg, reg, unit(reg, c), hooks=[LeakFreeTest()]))
                    keys.append((op, reg, c, seed))
    return members, keys


def fair_outcome(settings, keys, runs) -> dict:
    """acc and steps99 ((op, reg) -> strength -> per-seed values), each one's pick, and the verdicts."""
    acc, steps99 = {}, {}
    for (op, reg, c, _), r in zip(keys, runs):
        acc.setdefault((op, reg), {}).setdefault(c, []).append(best_test_acc(r, leak_free=True))
        steps99.setdefault((op, reg), {}).setdefault(c, []).append(r.grok_step(0.99, 1)[0])
    mean_steps = lambda v: np.mean([s if s is not None else settings.budget for s in v])
    pick = {
        k: max(by_c, key=lambda c: (round(np.mean(by_c[c]), 3), -mean_steps(steps99[k][c]))) for k, by_c in acc.items()
    }
    verdict = {}
    for op in settings.fair_ops:
        a_l2, a_lrd = acc[(op, "l2")][pick[(op, "l2")]], acc[(op, "lrd")][pick[(op, "lrd")]]
        s_l2, s_lrd = steps99[(op, "l2")][pick[(op, "l2")]], steps99[(op, "lrd")][pick[(op, "lrd")]]
        if min(a_lrd) > max(a_l2) + 0.01:
            verdict[op] = "LRD ahead in every seed"
        elif min(a_l2) > max(a_lrd) + 0.01:
            verdict[op] = "L2 ahead in every seed"
        elif all(s is not None for s in s_lrd + s_l2):
            verdict[op] = (
                "both succeed; LRD faster in every seed"
                if max(s_lrd) < min(s_l2)
                else "both succeed; L2 faster in every seed"
                if max(s_l2) < min(s_lrd)
                else "both succeed; seed ranges overlap"
            )
        else:
            verdict[op] = "no difference beyond the seed spread"
    return {"acc": acc, "steps99": steps99, "pick": pick, "verdict": verdict}


def setting_phrase(outcome: dict, op: str, reg: str) -> str:
    """One regulariser's chosen setting on one operation, as a chapter's reading quotes it:
    'L2 (w = 0.3) 0.97 (seeds 0.95–0.99), steps to 99%: 1,200, did not grok' (`outcome`: fair_outcome's)."""
    c = outcome["pick"][(op, reg)]
    acc = outcome["acc"][(op, reg)][c]
    steps = ", ".join(fmt_step(s) for s in outcome["steps99"][(op, reg)][c])
    strength = f"{'w' if reg == 'l2' else 'c'} = {unit(reg, c):g}"
    return f"{reg.upper()} ({strength}) {np.mean(acc):.2f} (seeds {min(acc):.2f}–{max(acc):.2f}), steps to 99%: {steps}"
