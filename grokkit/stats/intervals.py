"""Estimates with their confidence intervals, from scipy.stats: censored grok times (Kaplan–Meier), means,
proportions, slopes, and the order and logrank tests (`grokkit.stats`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95


def fmt_number(x: float) -> str:
    """A number as a statistic prints it: 3,017 / 2.43 / 0.0123."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


MEDIAN_EFFICIENCY = math.sqrt(math.pi / 2)  # the sample median's standard error, in units of σ/√n


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval. `lo`/`hi` None: unbounded on that side. `log`: a
    positive quantity, compared as a ratio. `spread`: the per-run standard deviation behind the interval
    (of log values when `log`), for `seeds_to_decide`."""

    estimate: float | None
    lo: float | None
    hi: float | None
    n: int
    method: str
    log: bool = False
    spread: float | None = None
    censored: int = 0
    kind: str = "mean"  # mean | median | proportion | slope

    @property
    def low(self) -> float:
        return -math.inf if self.lo is None else self.lo

    @property
    def high(self) -> float:
        return math.inf if self.hi is None else self.hi

    def text(self, fmt=fmt_number) -> str:
        est = "not reached" if self.estimate is None else fmt(self.estimate)
        lo = "−∞" if self.lo is None else fmt(self.lo)
        hi = "∞" if self.hi is None else fmt(self.hi)
        cens = f", {self.censored} censored" if self.censored else ""
        return f"{self.method} {est} [{lo}, {hi}] (n = {self.n}{cens})"


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def t_quantile(level: float, df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, df))


def _as_caps(steps: Sequence, caps) -> list:
    caps = [caps] * len(steps) if caps is None or isinstance(caps, (int, float)) else list(caps)
    if len(caps) != len(steps):
        raise ValueError(f"{len(steps)} grok steps but {len(caps)} caps")
    for s, c in zip(steps, caps):
        if s is None and c is None:
            raise ValueError("a run that did not grok needs its cap (the step it was stopped at)")
        if s is not None and c is not None and s > c:
            raise ValueError(f"grok step {s} beyond its cap {c}")
    return caps


def grok_times(steps: Sequence, caps):
    """scipy's CensoredData of grok steps: a None step is right-censored at its run's cap."""
    from scipy.stats import CensoredData

    caps = _as_caps(steps, caps)
    return CensoredData(
        uncensored=[float(s) for s in steps if s is not None],
        right=[float(c) for s, c in zip(steps, caps) if s is None],
    )


def km_median(steps: Sequence, caps=None, level: float = LEVEL, spread: float | None = None) -> Interval | None:
    """Kaplan–Meier median of grok steps (None: not grokked by its cap) with its confidence interval.

    The interval inverts the survival function's pointwise log-log band: the lower limit is the first
    step where the band's lower edge is at or below one half, the upper limit the first where its upper
    edge is (none: unbounded). With more than half the runs censored the median is "not reached" and only
    its lower limit is known. Without censoring the KM median is the sample median and its interval is
    the exact order-statistic one (scipy.stats.quantile_test): the log-log band is undefined where tied
    values make the survival function drop to zero. A single run that grokked gets value × exp(±z·spread)
    where `spread` (the log-sd of the paper's runs) is given."""
    from scipy.stats import ecdf

    steps = list(steps)
    if not steps:
        return None
    caps = _as_caps(steps, caps)
    events = [float(s) for s in steps if s is not None]
    n, n_cens = len(steps), len(steps) - len(events)
    s_log = float(np.std(np.log(events), ddof=1)) if len(events) >= 2 else spread
    if n == 1 and events:
        x = events[0]
        if spread is None:
            return Interval(x, None, None, 1, "one run", log=True, kind="median")
        w = math.exp(_z(level) * spread)
        return Interval(x, x / w, x * w, 1, "one run ± the paper's spread", log=True, spread=spread, kind="median")
    if n_cens == 0:  # no censoring: the exact distribution-free interval of the median (order statistics)
        return _order_median(events, level, s_log)
    res = ecdf(grok_times(steps, caps))
    q, p = res.sf.quantiles, res.sf.probabilities
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        band = res.sf.confidence_interval(level, method="log-log")
        lo_p, hi_p = band.low.probabilities, band.high.probabilities
    first = lambda probs: next((float(t) for t, v in zip(q, probs) if not np.isnan(v) and v <= 0.5), None)
    est = first(p)
    lo = first(lo_p)
    if lo is None:  # the band never reaches one half: the median lies beyond the last step observed
        lo = float(q[-1])
    hi = first(hi_p)
    return Interval(est, lo, hi, n, "KM median", log=True, spread=s_log, censored=n_cens, kind="median")


def _order_median(events: list, level: float, s_log) -> Interval:
    """The sample (lower) median of uncensored values with its exact binomial order-statistic interval;
    a side the sample is too small to bound at `level` (n ≤ 5 at 95%) stays unbounded."""
    from scipy.stats import quantile_test

    x = sorted(events)
    est = x[(len(x) - 1) // 2]
    ci = quantile_test(x, q=est, p=0.5).confidence_interval(confidence_level=level)
    lo, hi = (None if np.isnan(v) else float(v) for v in (ci.low, ci.high))
    return Interval(est, lo, hi, len(x), "median (order statistics)", log=True,
                    spread=s_log, censored=0, kind="median")  # fmt: skip


def mean_interval(values: Sequence, level: float = LEVEL, log: bool = False, spread: float | None = None):
    """Mean with its Student t interval (on log values when `log`: a geometric mean and a ratio interval).
    One value: value ± z·spread where `spread` (on the same scale) is known, else unbounded."""
    from scipy.stats import ttest_1samp

    xs = [float(v) for v in values if v is not None]
    if not xs:
        return None
    if log and min(xs) <= 0:
        raise ValueError("a log-scale interval needs positive values")
    ys = np.log(xs) if log else np.array(xs)
    back = np.exp if log else (lambda v: v)
    name = "geometric mean" if log else "mean"
    if len(ys) == 1:
        if spread is None:
            return Interval(float(back(ys[0])), None, None, 1, "one run", log=log)
        w = _z(level) * spread
        return Interval(
            float(back(ys[0])),
            float(back(ys[0] - w)),
            float(back(ys[0] + w)),
            1,
            "one run ± the paper's spread",
            log=log,
            spread=spread,
        )
    sd = float(np.std(ys, ddof=1))
    if sd == 0.0:
        m = float(back(ys[0]))
        return Interval(m, m, m, len(ys), name, log=log, spread=0.0)
    ci = ttest_1samp(ys, 0.0).confidence_interval(level)
    return Interval(
        float(back(np.mean(ys))), float(back(ci.low)), float(back(ci.high)), len(ys), name, log=log, spread=sd
    )


def proportion_interval(k: int, n: int, level: float = LEVEL) -> Interval | None:
    """k of n with its Clopper–Pearson (exact) interval."""
    from scipy.stats import binomtest

    if n == 0:
        return None
    ci = binomtest(int(k), int(n)).proportion_ci(level, method="exact")
    return Interval(k / n, float(ci.low), float(ci.high), n, f"{k}/{n}", kind="proportion")


def slope_interval(x: Sequence, y: Sequence, level: float = LEVEL, log: bool = True) -> Interval | None:
    """The least-squares slope of y on x (log–log when `log`: a power law's exponent) with its t interval
    on n − 2 degrees of freedom."""
    from scipy.stats import linregress

    pts = [(a, b) for a, b in zip(x, y) if a is not None and b is not None and (not log or (a > 0 and b > 0))]
    if len(pts) < 3 or len({a for a, _ in pts}) < 2:
        return None
    xs, ys = (np.log([p[i] for p in pts]) if log else np.array([p[i] for p in pts]) for i in (0, 1))
    r = linregress(xs, ys)
    w = t_quantile(level, len(pts) - 2) * r.stderr
    spread = float(r.stderr * math.sqrt(len(pts)))
    return Interval(
        float(r.slope), float(r.slope - w), float(r.slope + w), len(pts), "slope", spread=spread, kind="slope"
    )


def span(x: Sequence) -> float:
    """max / min of the positive values of x: the leverage of a log–log fit's design."""
    xs = [v for v in x if v is not None and v > 0]
    return max(xs) / min(xs) if xs else 1.0


def order_test(first: Sequence, second: Sequence, caps_first=None, caps_second=None) -> dict:
    """Paired runs (seed by seed): how often the first group's run groks before the second's, with the
    one-sided sign-test p-value of that (`binomtest`, ties and undecidable pairs dropped). A run that
    did not grok by its cap comes after a run that grokked before that cap."""
    from scipy.stats import binomtest

    caps_first = _as_caps(first, caps_first)
    caps_second = _as_caps(second, caps_second)
    wins = losses = 0
    for a, ca, b, cb in zip(first, caps_first, second, caps_second):
        ta = a if a is not None else math.inf
        tb = b if b is not None else math.inf
        if a is None and b is None:
            continue
        if a is None and b is not None and b >= ca:
            continue  # a stopped before b grokked: order unknown
        if b is None and a is not None and a >= cb:
            continue
        if ta < tb:
            wins += 1
        elif tb < ta:
            losses += 1
    n = wins + losses
    p_first = float(binomtest(wins, n, 0.5, alternative="greater").pvalue) if n else None
    p_second = float(binomtest(losses, n, 0.5, alternative="greater").pvalue) if n else None
    return {"first": wins, "second": losses, "n": n, "p": p_first, "p_reverse": p_second}


def logrank_p(steps_a: Sequence, caps_a, steps_b: Sequence, caps_b) -> float | None:
    """Two groups of grok steps (censored at their caps): the two-sided logrank p-value."""
    from scipy.stats import logrank

    if not steps_a or not steps_b:
        return None
    return float(logrank(grok_times(steps_a, caps_a), grok_times(steps_b, caps_b)).pvalue)
