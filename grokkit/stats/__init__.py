"""The statistics of the reproductions: censored grok times, confidence intervals, an interval against
an equivalence margin, and how many seeds would decide a comparison that cannot yet.

Every interval comes from scipy.stats:
  km_median            Kaplan–Meier median of grok steps, right-censored at each run's cap
                       (`CensoredData`, `ecdf`; the median's interval inverts the survival function's
                       log-log confidence band: the first step where the band's lower / upper edge
                       falls to one half)
  mean_interval        Student t interval of a mean (`ttest_1samp(...).confidence_interval`), on a log
                       scale for positive quantities
  proportion_interval  Clopper–Pearson interval of k of n (`binomtest(...).proportion_ci`)
  slope_interval       least-squares slope with its t interval (`linregress`), log–log for power laws
  order_test           one-sided sign test that one group's runs come first (`binomtest`, ties dropped,
                       a censored run comes after an event before its cap)
  logrank_p            two groups of grok steps (`logrank`)
A run stopped at its cap without grokking is right-censored: it has not grokked *yet*. It enters every
summary as such; nothing here drops it or replaces it by its cap.

A single run has no spread of its own. Where the paper reports the spread of the same quantity (its
seed-to-seed or rerun spread), `spread=` gives the single run the interval value × exp(±z·spread);
without it a single run's interval is unbounded, and a comparison with it cannot decide.

`compare(ours, margin)` says "inside", "outside" or "straddles"; `seeds_to_decide` how many runs
would turn "straddles" into one of the others if the estimate and the spread stayed as measured (the
median's large-sample standard error is 1.2533 σ/√n, the mean's σ/√n).
"""

from grokkit.stats.intervals import (
    LEVEL,
    MEDIAN_EFFICIENCY,
    Interval,
    fmt_number,
    grok_times,
    km_median,
    logrank_p,
    mean_interval,
    order_test,
    proportion_interval,
    slope_interval,
    span,
    t_quantile,
)
from grokkit.stats.margins import (
    Margin,
    compare,
    km_min_runs,
    margin_from_proportion,
    margin_from_values,
    seeds_to_decide,
)

__all__ = [
    "LEVEL",
    "MEDIAN_EFFICIENCY",
    "Interval",
    "Margin",
    "compare",
    "fmt_number",
    "grok_times",
    "km_median",
    "km_min_runs",
    "logrank_p",
    "margin_from_proportion",
    "margin_from_values",
    "mean_interval",
    "order_test",
    "proportion_interval",
    "seeds_to_decide",
    "slope_interval",
    "span",
    "t_quantile",
]
