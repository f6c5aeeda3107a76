"""Outcomes of a weight-decay × train-fraction grid (Chapter 1's phase diagram): how each run ended,
each cell's grok steps, its Kaplan–Meier median grok step and the grokking boundary.

`grid` is anything that iterates as `(point, run)` with `point["weight_decay"]` and
`point["train_frac"]` and has `grid.values` (a `grokkit.sweep` result): several runs per cell are seeds.
A run's grok step is t98×3 reached by every task (the largest over tasks; None: not by its cap). A run
that did not grok is right-censored at its cap, the step it was stopped at (`run_cap`): it has not grokked
*yet*. A cell's grok step is the Kaplan–Meier median of its runs (`grokkit.stats.km_median`), None
where the median is not reached (more than half the runs censored before it).
"""

from __future__ import annotations

from grokkit import stats

GROK_SHARE = 0.98  # a run's train accuracy must end at or above this to count as fit (t98's threshold)
HALF = 0.5  # "memorise": the best test accuracy stayed below this; "late": it passed it


def run_cap(run) -> int:
    """The step a run was stopped at (where its grok step is censored when it did not grok)."""
    return int(run.info.get("final_step") or run.config.max_steps)


def _all_tasks(run):
    """t98×3 of the slowest task (every task grokked), else None."""
    steps = run.grok_step()
    return max(steps) if all(s is not None for s in steps) else None


def outcome(run) -> str:
    """How a run ended: "grok" (t98×3 reached by every task); else, with train accuracy ending >= 98%,
    "memorise" (test accuracy never reached 50%) or "late" (it passed 50% but had not held 98% by the
    budget); else "unstable" (train accuracy ended below 98%: mid-transition, or too strong a pull)."""
    if all(s is not None for s in run.grok_step()):
        return "grok"
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
