"""A paper's equivalence margin, an interval against it, and how many runs would decide a comparison that
straddles it (`grokkit.stats`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from grokkit.stats.intervals import (
    LEVEL,
    MEDIAN_EFFICIENCY,
    Interval,
    _z,
    fmt_number,
    km_median,
    mean_interval,
    proportion_interval,
    t_quantile,
)


@dataclass(frozen=True)
class Margin:
    """The equivalence margin of a paper's number: the values a reproduction may take and still agree,
    and where they come from."""

    lo: float
    hi: float
    center: float | None
    source: str
    log: bool = False

    def text(self, fmt=fmt_number, source: bool = True) -> str:
        lo = "−∞" if self.lo == -math.inf else fmt(self.lo)
        hi = "∞" if self.hi == math.inf else fmt(self.hi)
        c = f"{fmt(self.center)}, " if self.center is not None else ""
        return f"paper {c}margin [{lo}, {hi}]" + (f" ({self.source})" if source else "")


def margin_from_values(
    values: Sequence, source: str, log: bool = True, floor: float | None = None, level: float = LEVEL
) -> Margin:
    """The margin of a number the paper reports for several seeds (or runs): the t interval of its mean
    (geometric on a log scale), i.e. every value the paper's own data cannot tell from its estimate;
    widened to ± `floor` around its centre where that is larger (relative on a log scale, e.g. the
    paper's 10% rerun spread)."""
    ci = mean_interval(values, level, log=log)
    if ci is None:
        raise ValueError("a margin needs the paper's values")
    lo, hi, c = ci.low, ci.high, ci.estimate
    if ci.n == 1:
        lo = hi = c
    if floor is not None:
        lo = min(lo, c * math.exp(-floor) if log else c - floor)
        hi = max(hi, c * math.exp(floor) if log else c + floor)
    return Margin(lo, hi, c, source, log)


def margin_from_proportion(k: int, n: int, source: str, level: float = LEVEL) -> Margin:
    """The margin of a paper's "k of n": its Clopper–Pearson interval."""
    ci = proportion_interval(k, n, level)
    if ci is None:
        raise ValueError("a margin needs the paper's n > 0")
    return Margin(ci.low, ci.high, k / n, source)  # an exact interval: low, high are its lo, hi


def compare(ours: Interval | None, margin: Margin) -> str | None:
    """'inside' (the interval lies within the margin), 'outside' (disjoint) or 'straddles'; None: no data."""
    if ours is None:
        return None
    if margin.lo <= ours.low and ours.high <= margin.hi:
        return "inside"
    if ours.high < margin.lo or ours.low > margin.hi:
        return "outside"
    return "straddles"


def seeds_to_decide(ours: Interval | None, margin: Margin, level: float = LEVEL, most: int = 10_000) -> int | None:
    """About how many runs would decide a comparison that straddles its margin, if the estimate and the
    spread stayed as measured; None where the estimate sits on an edge, is not reached, or no spread is
    known."""
    if ours is None or ours.estimate is None or compare(ours, margin) != "straddles":
        return None
    if ours.kind == "proportion":
        return _proportion_n(ours, margin, level, most)
    tr = (lambda v: math.log(v) if v > 0 else -math.inf) if ours.log else (lambda v: v)
    est = tr(ours.estimate)
    edges = [tr(e) for e in (margin.lo, margin.hi) if math.isfinite(e) and (not ours.log or e > 0)]
    if not edges or ours.spread is None or ours.spread <= 0:
        return None
    d = min(abs(est - e) for e in edges)
    if d == 0:
        return None
    k = MEDIAN_EFFICIENCY if ours.kind == "median" else 1.0
    floor = km_min_runs(level) if ours.kind == "median" else 2  # a median's interval is bounded from this n
    if ours.kind == "slope":  # stderr ∝ 1/√n: scale the measured one
        n = ours.n * (_z(level) * ours.spread / math.sqrt(ours.n) / d) ** 2
        return min(most, max(ours.n + 1, math.ceil(n)))
    for n in range(2, most + 1):
        if t_quantile(level, n - 1) * k * ours.spread / math.sqrt(n) < d:
            return max(n, ours.n + 1, floor)
    return None


@functools.cache
def km_min_runs(level: float = LEVEL) -> int:
    """The fewest runs (all grokked) whose median has a bounded interval (6 at 95%: the order statistics
    [x(1), x(6)] cover the median with probability 1 - 2/64 ≈ 96.9%)."""
    return next(
        n
        for n in range(2, 100)
        if (iv := km_median(list(range(1, n + 1)), level=level)) is not None and iv.hi is not None
    )


def _proportion_n(ours: Interval, margin: Margin, level: float, most: int) -> int | None:
    p = ours.estimate
    assert p is not None  # seeds_to_decide returns None first where there is no estimate
    for n in range(ours.n + 1, most + 1):
        iv = proportion_interval(round(p * n), n, level)
        if compare(iv, margin) != "straddles":
            return n
    return None
