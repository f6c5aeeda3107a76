"""grokkit.stats: censored grok times, intervals, margins and seed counts (scipy underneath)."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from grokkit import stats


def test_km_median_of_uncensored_steps_is_the_order_statistic_with_its_exact_interval():
    steps = [2800, 2900, 3000, 3100, 3200, 3300, 3400, 3500, 3600, 3700]
    iv = stats.km_median(steps)
    assert iv.estimate == 3200 and iv.n == 10 and iv.censored == 0  # S drops to 0.5 at the 5th of 10
    # the binomial order-statistic interval: [x(2), x(9)] covers the median with 1 - 2·11/1024 ≈ 97.9% ≥ 95%
    assert (iv.lo, iv.hi) == (2900, 3600)
    ci = sps.quantile_test(steps, q=3200, p=0.5).confidence_interval(0.95)
    assert (iv.lo, iv.hi) == (ci.low, ci.high)
    # three seeds: [x(1), x(3)] covers only 75%, so at 95% neither side is bounded
    three = stats.km_median([3300, 3400, 2800])
    assert three.estimate == 3300 and three.lo is None and three.hi is None
    # ties (discrete k*): the log-log band was undefined above; the order statistics are not
    ties = stats.km_median([6, 6, 6, 6, 5, 6, 5])
    assert (ties.estimate, ties.lo, ties.hi) == (6, 5, 6)


def test_km_median_keeps_censored_runs_and_never_drops_them():
    grokked = stats.km_median([1000, 1100, 1200, 1300, 1400, 1500])
    censored = stats.km_median([1000, 1100, 1200, None, None, None], caps=2000)
    assert censored.censored == 3 and censored.estimate >= grokked.estimate  # the median moves later, not away
    assert censored.estimate == 1200 or censored.estimate is None
    none = stats.km_median([None, None, None], caps=[5000, 6000, 7000])  # nothing grokked yet
    assert none.estimate is None and none.lo == 7000 and none.hi is None
    with pytest.raises(ValueError, match="cap"):
        stats.km_median([1000, None])
    with pytest.raises(ValueError, match="beyond its cap"):
        stats.km_median([9000], caps=5000)


def test_one_run_has_an_interval_only_with_a_known_spread():
    bare = stats.km_median([3000])
    assert bare.lo is None and bare.hi is None
    iv = stats.km_median([3000], spread=0.1)
    assert iv.lo == pytest.approx(3000 * math.exp(-1.959964 * 0.1)) and iv.hi == pytest.approx(
        3000 * math.exp(1.959964 * 0.1)
    )


def test_mean_interval_is_scipys_t_interval_and_geometric_on_a_log_scale():
    xs = [2.1, 2.4, 2.3, 2.2]
    ci = sps.ttest_1samp(xs, 0).confidence_interval(0.95)
    iv = stats.mean_interval(xs)
    assert (iv.lo, iv.hi) == pytest.approx((ci.low, ci.high)) and iv.estimate == pytest.approx(np.mean(xs))
    g = stats.mean_interval([100, 1000], log=True)
    assert g.estimate == pytest.approx(math.sqrt(100 * 1000)) and g.lo < 100 and g.hi > 1000
    with pytest.raises(ValueError):
        stats.mean_interval([1, -1], log=True)


def test_proportion_and_slope_intervals():
    p = stats.proportion_interval(12, 12)
    assert p.estimate == 1 and p.lo == pytest.approx(0.7354, abs=1e-4) and p.hi == 1.0
    x = [0.1, 0.2, 0.3, 0.5, 1.0]
    y = [10585 * w**-0.911 for w in x]
    s = stats.slope_interval(x, y)
    assert s.estimate == pytest.approx(-0.911) and s.lo == pytest.approx(-0.911) and s.hi == pytest.approx(-0.911)
    noisy = stats.slope_interval(x, [v * f for v, f in zip(y, (1.1, 0.9, 1.05, 0.95, 1.0))])
    assert noisy.lo < -0.911 < noisy.hi
    assert stats.slope_interval([1, 2], [1, 2]) is None  # two points: no interval
    assert stats.span([0.1, 1.0, 0.5]) == pytest.approx(10)


def test_compare_and_margins():
    m = stats.margin_from_values([3300, 3400, 2800], "paper", log=True, floor=0.1)
    assert m.lo < 2800 and m.hi > 3400  # the t interval of the mean is wider than the seed range
    narrow = stats.margin_from_values([1000, 1001, 1002], "paper", log=True, floor=0.1)
    assert narrow.lo == pytest.approx(narrow.center * math.exp(-0.1)) and narrow.hi == pytest.approx(
        narrow.center * math.exp(0.1)
    )
    iv = lambda lo, hi: stats.Interval(1.0, lo, hi, 5, "test")
    mm = stats.Margin(0.0, 10.0, 5.0, "m")
    assert stats.compare(iv(1, 9), mm) == "inside"
    assert stats.compare(iv(11, 12), mm) == "outside"
    assert stats.compare(iv(9, 12), mm) == "straddles" and stats.compare(iv(None, None), mm) == "straddles"
    assert stats.compare(None, mm) is None


def test_seeds_to_decide_is_enough_for_a_sample_with_the_same_spread():
    m = stats.margin_from_values([3300, 3400, 2800], "paper", log=True, floor=0.1)
    sample = [m.center * f for f in (1.05, 1.25, 1.15)]
    ours = stats.mean_interval(sample, log=True)
    assert stats.compare(ours, m) == "straddles"
    n = stats.seeds_to_decide(ours, m)
    assert n and n > 3
    z = np.array([sps.norm.ppf((i + 0.5) / n) for i in range(n)])  # a sample of n with the same mean and spread
    z = (z - z.mean()) / z.std(ddof=1)
    bigger = list(ours.estimate * np.exp(ours.spread * z))
    assert stats.compare(stats.mean_interval(bigger, log=True), m) != "straddles"
    assert stats.seeds_to_decide(stats.proportion_interval(3, 3), stats.margin_from_proportion(12, 12, "p")) == 12


def test_order_test_reads_censored_pairs():
    r = stats.order_test([100, 200, 300], [150, 250, 350])
    assert (r["first"], r["second"], r["n"]) == (3, 0, 3) and r["p"] == pytest.approx(1 / 8)
    # a run censored at 5000 comes after one that grokked at 400; one censored before the other grokked is unknown
    r = stats.order_test(
        [400, 400, None], [None, None, 900], caps_first=[5000, 5000, 800], caps_second=[5000, 300, 5000]
    )
    assert (r["first"], r["second"], r["n"]) == (1, 0, 1)
    assert stats.logrank_p([100, 110, 120], None, [1000, 1100, None], [None, None, 2000]) < 0.05


def test_a_median_needs_six_runs_for_a_bounded_interval():
    assert stats.km_min_runs() == 6
    assert stats.km_median([1000, 1100, 1200, 1300, 1400]).hi is None
    assert stats.km_median([1000, 1100, 1200, 1300, 1400, 1500]).hi == 1500
    three = stats.km_median([3000, 3400, 3900])
    n = stats.seeds_to_decide(three, stats.Margin(2500.0, 4200.0, 3300.0, "m"))
    assert n is not None and n >= 6
