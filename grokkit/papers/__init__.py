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
from grokkit.papers import lrd, multitask, single_task
from grokkit.papers.common import (  # noqa: F401 (the table's names, for the chapters and the scorecard)
    CHANCE,
    LI,
    NEAR_CHANCE,
    RERUN_SOURCE,
    RERUN_SPREAD,
    RHO_SPREAD,
    SEEDS,
    WEIGHT_DECAYS,
    X1,
    X2,
    X3,
)
from grokkit.papers.fmt import grid, k, k1, krange, minus, pct, pct_range, sci, steps_fmt  # noqa: F401
from grokkit.papers.multitask import DUAL_WD_GROK

NUMBERS: dict[int, dict] = dict(sorted({**single_task.NUMBERS, **multitask.NUMBERS, **lrd.NUMBERS}.items()))

# --- margins -------------------------------------------------------------------------------------


def margin(target: int, name: str, key=None) -> stats.Margin:
    """The equivalence margin of `NUMBERS[target]`'s number `name` (per op / λ / task: `key`), as its
    entry's `margins` text says; see the module docstring."""
    n = NUMBERS[target]
    src = f"{n['source'].split(';')[0]}: {n['margins'].get(name, '')}".rstrip(": ")
    if (target, name) in {(4, "t90"), (4, "t98x3"), (18, "seeds_t98"), (21, "seeds_t")}:
        vals = n[name][key if target != 21 else float(key)]
        return stats.margin_from_values(vals, src, log=True, floor=RERUN_SPREAD)
    if (target, name) == (25, "t90_seeds"):
        return stats.margin_from_values(list(n[name].values()), src, log=True, floor=RERUN_SPREAD)
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
    if (target, name) in {
        (5, "grokked"),
        (5, "wd0_grokked"),
        (8, "positive"),
        (11, "full_grokked"),
        (21, "leads"),
        (22, "leads"),
    }:
        return stats.margin_from_proportion(*n[name], src)
    if (target, name) == (21, "exponent"):
        w, t = zip(*[(lam, x) for lam, v in DUAL_WD_GROK.items() for x in v])
        s = stats.slope_interval(w, t)
        return stats.Margin(s.lo, s.hi, s.estimate, src)
    if (target, name) == (22, "lead_fractions"):  # f = 1 − onset/t90: both move by the rerun spread
        lo, hi = n[name][float(key)]
        w = 1.96 * math.sqrt(2) * RERUN_SPREAD * (1 - hi)
        return stats.Margin(lo - w, hi + w, (lo + hi) / 2, src)
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
