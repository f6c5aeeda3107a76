"""Outcomes of a weight-decay × train-fraction grid (Chapter 1's phase diagram): how each run ended,
each cell's grok steps, its Kaplan–Meier median grok step, its state (grokked, undecided, no grok) and
the grokking boundary with the counts that say whether a grid shows it (`boundary_counts`).

`grid` is anything that iterates as `(point, run)` with `point["weight_decay"]` and
`point["train_frac"]` and has `grid.values` (a `grokkit.engines.sweep` result): several runs per cell are seeds.
A run's grok step is t98×3 reached by every task (the largest over tasks; None: not by its cap). A run
that did not grok is right-censored at its cap, the step it was stopped at (`run_cap`): it has not grokked
*yet*. A cell's grok step is the Kaplan–Meier median of its runs (`grokkit.stats.km_median`), None
where the median is not reached (more than half the runs censored before it).
"""

from __future__ import annotations

import dataclasses

from grokkit import stats

GROK_SHARE = 0.98  # a run's train accuracy must end at or above this to count as fit (t98's threshold)
HALF = 0.5  # "memorise": the best test accuracy stayed below this; "late": it passed it
RISING = 0.02  # "still rising": the last quarter's mean test accuracy beats the quarter before by this much
BOUNDARY_ROWS, MAX_UNDECIDED = 3, 0.25  # a grid shows its boundary: rows holding both kinds, undecided share


def run_cap(run) -> int:
    """The step a run was stopped at (where its grok step is censored when it did not grok)."""
    return int(run.info.get("final_step") or run.config.max_steps)


def _all_tasks(run):
    """t98×3 of the slowest task (every task grokked), else None."""
    steps = run.grok_step()
    return max(steps) if all(s is not None for s in steps) else None


def still_rising(run, margin: float = RISING) -> bool:
    """A run stopped at its cap while a task that had not grokked was still improving: the mean test
    accuracy of its last quarter of evaluations beats the quarter before by at least `margin`. Such a
    run's censoring says little: a longer budget would likely decide it."""
    if run.diverged_at is not None:
        return False
    for task, step in enumerate(run.grok_step()):
        acc = run.curve("test_acc", task)[1]
        q = len(acc) // 4
        if step is None and q >= 1 and sum(acc[-q:]) / q - sum(acc[-2 * q : -q]) / q >= margin:
            return True
    return False


def outcome(run) -> str:
    """How a run ended: "grok" (t98×3 reached by every task); "diverged" (a loss became NaN or inf);
    else, with train accuracy ending >= 98%, "memorise" (test accuracy never reached 50%) or "late" (it
    passed 50% but had not held 98% by the budget); else "unstable" (train accuracy ended below 98%:
    mid-transition, or too strong a pull)."""
    if all(s is not None for s in run.grok_step()):
        return "grok"
    if run.diverged_at is not None:
        return "diverged"
    if min(run.final("train_acc")) < GROK_SHARE:
        return "unstable"
    test_best = max(max(run.curve("test_acc", t)[1]) for t in range(len(run.ops)))
    return "memorise" if test_best < HALF else "late"


def grok_cells(grid) -> dict:
    """{(weight_decay, train_frac): [grok step or None per seed]} of a sweep (all tasks: their max)."""
    cells: dict = {}
    for pt, run in grid:
        cells.setdefault((pt["weight_decay"], pt["train_frac"]), []).append(_all_tasks(run))
    return cells


def cell_caps(grid) -> dict:
    """{(weight_decay, train_frac): [cap per seed]}, in the order of `grok_cells`."""
    caps: dict = {}
    for pt, run in grid:
        caps.setdefault((pt["weight_decay"], pt["train_frac"]), []).append(run_cap(run))
    return caps


def cell_medians(grid) -> dict:
    """{(weight_decay, train_frac): the Kaplan–Meier median grok step of the cell's runs (each run that
    did not grok censored at its cap), or None where the median is not reached}."""
    cells, caps = grok_cells(grid), cell_caps(grid)
    out = {}
    for key, steps in cells.items():
        iv = stats.km_median(steps, caps[key])
        assert iv is not None  # a cell holds at least one run
        est = iv.estimate
        out[key] = None if est is None else int(round(est))
    return out


def grok_table(grid) -> list:
    """Rows train fraction, columns weight decay (sweep order): each cell's Kaplan–Meier median grok step
    (`cell_medians`), None where it is not reached."""
    med = cell_medians(grid)
    return [[med[(w, f)] for w in grid.values["weight_decay"]] for f in grid.values["train_frac"]]


def boundary(grid) -> dict:
    """{train_frac: the smallest weight decay at which every seed grokked within its budget, or None}."""
    cells = grok_cells(grid)
    wds = sorted({w for w, _ in cells})
    return {
        f: next((w for w in wds if all(t is not None for t in cells[(w, f)])), None)
        for f in sorted({f for _, f in cells})
    }


def cell_states(grid) -> dict:
    """{(weight_decay, train_frac): "grok" | "undecided" | "no grok"}: "grok" where the cell's Kaplan–Meier
    median grok step is reached; else "undecided" where one of its runs was stopped still rising
    (`still_rising`: the budget, not the setting, ended it); else "no grok" (memorised, late with a flat
    curve, unstable or diverged: `outcome` says which)."""
    med, rising = cell_medians(grid), dict[tuple, bool]()
    for pt, run in grid:
        key = (pt["weight_decay"], pt["train_frac"])
        rising[key] = rising.get(key, False) or (_all_tasks(run) is None and still_rising(run))
    return {k: "grok" if m is not None else "undecided" if rising[k] else "no grok" for k, m in med.items()}


def boundary_counts(grid) -> dict:
    """Whether a grid shows its grokking boundary: per train fraction (a row) whether it holds both a
    grokked cell and a "no grok" one, and how many cells are undecided (`cell_states`).
    {"rows", "rows_with_both", "cells", "grok", "no_grok", "undecided", "undecided_share"}."""
    states = cell_states(grid)
    fracs = sorted({f for _, f in states})
    row = {f: {s for (w, g), s in states.items() if g == f} for f in fracs}
    n = len(states)
    undecided = sum(s == "undecided" for s in states.values())
    return {
        "rows": len(fracs),
        "rows_with_both": sum({"grok", "no grok"} <= row[f] for f in fracs),
        "cells": n,
        "grok": sum(s == "grok" for s in states.values()),
        "no_grok": sum(s == "no grok" for s in states.values()),
        "undecided": undecided,
        "undecided_share": undecided / n if n else 0.0,
    }


def shows_boundary(counts: dict, rows: int = BOUNDARY_ROWS, undecided: float = MAX_UNDECIDED) -> bool:
    """Whether `boundary_counts` say the grid shows its boundary: at least `rows` rows hold both a grokked
    and a non-grokking cell, and at most `undecided` of the cells are undecided."""
    return counts["rows_with_both"] >= rows and counts["undecided_share"] <= undecided


def at_budget(run, budget: int):
    """The run as a shorter budget would have left it: its evaluations up to `budget`, stopped there
    unless it grokked (or diverged) first. A run of the same kind, so a scan trained once at its longest
    budget tells what every shorter budget would show."""
    n = sum(s <= budget for s in run.steps)
    diverged = run.diverged_at if run.diverged_at is not None and run.diverged_at <= budget else None
    return dataclasses.replace(
        run,
        config=run.config.replace(max_steps=min(run.config.max_steps, budget)),
        history={m: values[:n] for m, values in run.history.items()},
        info={**run.info, "final_step": min(run_cap(run), budget), "diverged_at": diverged},
    )
