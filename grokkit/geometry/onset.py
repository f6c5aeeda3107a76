"""The grok step (`grok_step`: t98×3, t90), defect onset, lead time, sign test and power-law fits
(papers-spec M6, §3.2, §2.2).

Two onset rules are used in the papers; both are parameters of `defect_onset`:
  * single-task and tri-task (M6, the authors' `find_spike_step`): baseline = max(0.1, median of the
    first 3 measurements); onset = first measurement FROM THE THIRD ON with D > 10 x baseline AND
    D > 20 (factor=10, floor=20, first=3, scan_from=2: the first two are never onsets);
  * dual-task weight-decay comparison (§3.2): baseline = median of the first 30% of measurements
    (at least 3); onset = first of 3 consecutive measurements with D > 3 x baseline
    (factor=3, floor=0, first=0.3, sustain=3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def defect_onset(
    steps,
    defects,
    *,
    factor: float = 10.0,
    floor: float = 20.0,
    first: float = 3,
    sustain: int = 1,
    min_baseline: float = 0.1,
    scan_from: int | None = None,
):
    """Step of the defect onset (None if never). `first`: an int counts measurements, a float < 1
    is a fraction of them (at least 3). `scan_from`: index of the first measurement that may be an
    onset (default: 2 for the M6 rule, int `first`, as the authors' code; 0 for the fractional rule).
    Fewer than 3 measurements: None (as the authors' code)."""
    d = list(defects)
    if len(d) < 3:
        return None
    n_base = int(first) if first >= 1 else max(3, int(math.ceil(first * len(d))))
    baseline = max(min_baseline, float(np.median(d[:n_base])))
    start = (2 if first >= 1 else 0) if scan_from is None else scan_from
    run = 0
    for i, (s, v) in enumerate(zip(steps, d)):
        if i < start:
            continue
        run = run + 1 if (v > factor * baseline and v > floor) else 0
        if run >= sustain:
            return steps[i - sustain + 1]
    return None


@dataclass
class DefectSummary:
    """One defect series read the papers' way (M6), against the run's t90."""

    d0: float  # the first measurement (step 0)
    baseline: float  # max(0.1, median of the first 3)
    peak: float  # max over the whole run (includes post-grokking values, as the papers)
    peak_pre_grok: float  # max over measurements before t90 (the whole run if it never groks)
    growth: float  # peak / baseline (the papers' growth ratio)
    growth_pre_grok: float  # peak_pre_grok / baseline
    onset: int | None
    t_grok: int | None  # t90
    lead: int | None  # t90 − onset


def defect_summary(steps, defects, t_grok) -> DefectSummary:
    """Baseline, peak, growth ratio (whole run and before t90), onset (M6 rule) and lead of a series."""
    d = [float(x) for x in defects]
    if not d:
        raise ValueError("an empty defect series")
    base = max(0.1, float(np.median(d[:3])))
    pre = [v for s, v in zip(steps, d) if t_grok is None or s < t_grok] or d[:1]
    onset = defect_onset(steps, d)
    lead = lead_time(onset, t_grok)
    return DefectSummary(d[0], base, max(d), max(pre), max(d) / base, max(pre) / base, onset, t_grok, lead.lead)


def task_leads(run, series: str = "defect") -> list[dict]:
    """The M6 lead of every task of a run with the inline defect (`DefectTracker`; exact formula by
    default): per task its t90 (first evaluation ≥ 0.90; None: not by the cap), the onset of the run's
    defect series, the lead t90 − onset and the lead fraction lead / t90 (tri-task, 2602.18523 §3)."""
    steps, d = run.series(series)
    out = []
    for op, t in zip(run.ops, run.grok_step(0.9, 1)):
        s = defect_summary(steps, d, t)
        frac = None if s.lead is None or not t else s.lead / t
        out.append({"op": op, "t90": t, "onset": s.onset, "lead": s.lead, "fraction": frac})
    return out


@dataclass
class Lead:
    t_onset: int | None
    t_grok: int | None
    lead: int | None  # t_grok − t_onset
    fraction: float | None  # lead / t_grok


def lead_time(t_onset, t_grok) -> Lead:
    if t_onset is None or t_grok is None:
        return Lead(t_onset, t_grok, None, None)
    return Lead(t_onset, t_grok, t_grok - t_onset, (t_grok - t_onset) / t_grok)


def sign_test(leads) -> tuple[int, int, float]:
    """(positive, n, one-sided p = P[Binomial(n, 1/2) >= positive]) over the defined leads."""
    vals = [x for x in leads if x is not None and x != 0]
    n, k = len(vals), sum(1 for x in vals if x > 0)
    p = sum(math.comb(n, j) for j in range(k, n + 1)) / 2**n if n else float("nan")
    return k, n, p


@dataclass
class PowerLaw:
    exponent: float  # α in y = c x^α
    exponent_se: float  # standard error of α (ordinary least squares on logs)
    prefactor: float  # c
    r2: float
    n: int

    def __call__(self, x):
        return self.prefactor * np.asarray(x, dtype=float) ** self.exponent


def power_law_fit(x, y) -> PowerLaw:
    """Least squares of log y on log x over the pairs with x, y > 0."""
    pts = [(a, b) for a, b in zip(x, y) if a and b and a > 0 and b > 0]
    if len(pts) < 2:
        raise ValueError(f"a power-law fit needs >= 2 positive pairs, got {len(pts)}")
    lx, ly = (np.log(np.array(v, dtype=float)) for v in zip(*pts))
    A = np.stack([lx, np.ones_like(lx)], 1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    n = len(lx)
    ss_tot = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else 1.0
    se = math.sqrt(float((resid**2).sum()) / (n - 2) / float(((lx - lx.mean()) ** 2).sum())) if n > 2 else float("nan")
    return PowerLaw(float(coef[0]), se, float(math.exp(coef[1])), r2, n)


@dataclass
class Reciprocal:
    a: float  # y = a / x + c
    c: float
    r2: float
    n: int

    def __call__(self, x):
        return self.a / np.asarray(x, dtype=float) + self.c


def reciprocal_fit(x, y) -> Reciprocal:
    """Least squares of y = a / x + c (the alternative to a power law in 2602.18523)."""
    pts = [(a, b) for a, b in zip(x, y) if a and b is not None]
    if len(pts) < 2:
        raise ValueError(f"a reciprocal fit needs >= 2 pairs, got {len(pts)}")
    xs, ys = (np.array(v, dtype=float) for v in zip(*pts))
    A = np.stack([1 / xs, np.ones_like(xs)], 1)
    (a, c), *_ = np.linalg.lstsq(A, ys, rcond=None)
    resid = ys - A @ np.array([a, c])
    ss_tot = float(((ys - ys.mean()) ** 2).sum())
    return Reciprocal(float(a), float(c), 1 - float((resid**2).sum()) / ss_tot if ss_tot else 1.0, len(xs))


def grok_step(steps, acc, threshold: float = 0.98, patience: int = 3):
    """First step where `acc` has been >= threshold on `patience` consecutive entries (else None)."""
    run = 0
    for s, a in zip(steps, acc):
        run = run + 1 if a >= threshold else 0
        if run >= patience:
            return s
    return None
