"""The single-task paper (arXiv 2602.16746), what Chapter 2 trains beyond Chapter 1's runs: the
interventions on the execution directions (§5; the projection and the kicks) and the lead-time power
law over the learning-rate sweep (§4.4): targets 11, 12, 23. The measurements on Chapter 1's runs
(targets 6, 7, 8, 13) are in `grokkit.repro.execution_subspace`.
"""

from __future__ import annotations

from grokkit import book, stats
from grokkit.papers import NUMBERS, X1, grid, margin, pct_range, rerun
from grokkit.repro import cpu_full, lease
from grokkit.repro.helpers import CH2, TWO_RUNS, count_check, from_chapter, ratio_check, stated
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, equivalence, num, undecided, unlike

OPS, SEEDS = len(NUMBERS[4]["ops"]), NUMBERS[4]["seeds"]  # the paper's grid: 4 grokking ops × 3 seeds
RUNS = OPS * SEEDS

# --- 11-12: interventions along the execution directions (§5) -------------------------------------

_N11 = NUMBERS[11]
_S1, _S75, _DELAY = _N11["s_full"], _N11["s_partial"], _N11["delay"]
_SAME = rerun(1.0, f"no delay: {NUMBERS[12]['margins']['ratio']}", runs=2)


def projection_records(m) -> list[dict]:
    """The projection runs of a measured dict as records {op, seed, basis, s, grok, cap, baseline} (cpu-full
    stores them so; a chapter's one add run is converted)."""
    if "projections" in m:
        return list(m["projections"])
    base, cap = m.get("intervention_baseline"), m.get("cap")
    one = {"op": "add", "seed": 42, "cap": cap, "baseline": base}
    return [
        one | {"basis": b, "s": float(s), "grok": v}
        for b, key in (("pca", "suppression_pca"), ("random", "suppression_random"))
        for s, v in (m.get(key) or {}).items()
    ]


@target(
    11,
    "projection-kills-grokking",
    "Projecting out the execution directions kills grokking",
    paper=f"s = {_S1:g}: 0/{RUNS} grok; s = {_S75} delays +{pct_range(*_DELAY)}; random basis ≈ no delay at s ≤ {_S75}",
    source=f"{X1} §5",
    chapter=CH2,
    measure=from_chapter(
        CH2,
        ["intervention_baseline", "suppression_pca", "suppression_random"],
        f"add, seed 42 (paper: {OPS} ops × {SEEDS} seeds)",
        lambda p: {"cap": book.chapter2(p).intervention_cap, "seeds": 1, "n_ops": 1},
    ),
    cpu_full=cpu_full.measure_11,
    section="5. Causal tests: suppressing and pushing",
    ours=lambda m: stated(
        _c_projection(m), (f"s = {_S1:g}:", f"s = {_S1:g}: grokked"), (f"s = {_S75}:", f"s = {_S75}: delay")
    ),
)
def _c_projection(m):
    recs = projection_records(m)
    paper_cap = _N11["cap"]
    pick = lambda b, ok: [r for r in recs if r["basis"] == b and ok(r["s"])]  # noqa: E731
    full = pick("pca", lambda s: s == _S1)
    cap = min((r["cap"] for r in full if r["cap"]), default=None)
    q = f"s = {_S1:g}: no run groks within {paper_cap:,} steps (fails if our share that does lies outside the paper's)"
    grokked = sum(r["grok"] is not None for r in full)
    if not full:
        c_full = num(q, None)
    elif grokked == 0 and (cap or 0) < paper_cap:
        c_full = unlike(q, f"capped at {cap:,} steps, the paper's at {paper_cap:,}", f"a {paper_cap:,}-step cap")
    else:
        c_full = count_check(q, grokked, len(full), margin(11, "full_grokked"))
    if any(r["baseline"] is None for r in recs) or not recs:
        return [c_full, num("s = 0.75 delays", None), num("random basis", None)]
    ratio = lambda rs: [r["grok"] / r["baseline"] if r["grok"] is not None else None for r in rs]  # noqa: E731
    caps = lambda rs: [r["cap"] / r["baseline"] for r in rs]  # noqa: E731
    delays, random = pick("pca", lambda s: s == _S75), pick("random", lambda s: s <= _S75)
    runs_per_s = len({(r["op"], r["seed"]) for r in full})
    return [
        c_full,
        ratio_check(
            f"s = {_S75}: grokking is delayed by the paper's +{pct_range(*_DELAY)} (grok step over the baseline's; "
            "fails if our interval lies outside the margin)",
            ratio(delays),
            caps(delays),
            margin(11, "delay_by_op"),
            spread=TWO_RUNS,
        ),
        ratio_check(
            f"random basis at s ≤ {_S75}: no delay (fails if our interval lies outside the rerun spread)",
            ratio(random),
            caps(random),
            _SAME,
            spread=TWO_RUNS,
        ),
        cov(f"a cap of at least the paper's {paper_cap:,} steps", (cap or 0) >= paper_cap),
        cov(f"{OPS} ops × {SEEDS} seeds (paper: {RUNS} runs per strength)", runs_per_s >= RUNS),
        cov(
            f"random basis at every strength the paper ran ({_N11['strengths'][0]}–{_N11['strengths'][-1]})",
            len({r["s"] for r in recs if r["basis"] == "random"}) >= len(_N11["strengths"]),
        ),
    ]


_N12 = NUMBERS[12]


def _kick_pairs(m) -> list:
    """[(baseline, kicked grok step or None, the kicked run's cap or None)] of a measured dict (cpu-full: every
    seed against its own baseline, each run's own cap)."""
    if "kicks_by_seed" in m:
        caps = m.get("caps_by_seed") or {}
        return [
            (m["baselines"].get(seed), t, ((caps.get(seed) or {}).get(d) or {}).get(a, m.get("cap")))
            for seed, by_d in m["kicks_by_seed"].items()
            for d, v in by_d.items()
            for a, t in v.items()
        ]
    return [(m["intervention_baseline"], t, m.get("cap")) for v in (m["kicks"] or {}).values() for t in v]


@target(
    12,
    "kicks-do-not-help",
    "Sustained kicks along the commutator do not speed grokking",
    paper=f"all grok ≈ {_N12['grok']} ± seed noise",
    source=f"{X1} §5",
    chapter=CH2,
    measure=from_chapter(
        CH2,
        ["intervention_baseline", "kicks"],
        lambda p, m: f"add, seed 42, α ∈ {m['alphas']} (paper: α ∈ {grid(_N12['alphas'])})",
        lambda p: {"alphas": book.chapter2(p).kick_alphas, "cap": book.chapter2(p).intervention_cap},
    ),
    cpu_full=cpu_full.measure_12,
    section="5. Causal tests: suppressing and pushing",
    ours=lambda m: stated(_c_kicks(m), ("a kicked run groks", "kicked / baseline grok step")),
)
def _c_kicks(m):
    pairs = _kick_pairs(m)
    q = (
        "a kicked run groks when its baseline does (grok step over the baseline's; fails if our interval lies outside "
        "the rerun spread, either way: sooner or later)"
    )
    if not pairs or any(b is None for b, _, _ in pairs) or any(t is None and c is None for _, t, c in pairs):
        check = num(q, None) if not pairs else undecided(q, "a baseline did not grok, or a kicked run's cap is unknown")
    else:
        check = ratio_check(
            q,
            [t / b if t is not None else None for b, t, _ in pairs],
            [c / b if c else None for b, _, c in pairs],
            _SAME,
            spread=TWO_RUNS,
        )
    seeds = len(m.get("kicks_by_seed") or {"42": 1})
    return [
        check,
        cov(f"at least 3 of the paper's kick sizes α ∈ {grid(_N12['alphas'])}", len(m.get("alphas") or [1]) >= 3),
        cov(f"{SEEDS} seeds (paper)", seeds >= SEEDS),
    ]


# --- 23: the lead-time power law (§4.4) -----------------------------------------------------------

_N23 = NUMBERS[23]


def power_law_interval(points) -> tuple:
    """(slope interval, span of the grok times) of [t_grok, lead, ...] points (log–log least squares)."""
    pts = [p for p in points or [] if p[0] and p[1] and p[0] > 0 and p[1] > 0]
    return stats.slope_interval([p[0] for p in pts], [p[1] for p in pts]), stats.span([p[0] for p in pts])


@target(
    23,
    "lead-power-law",
    "Lead time scales as a power of the grok time",
    paper=f"α = {_N23['alpha']} ± {_N23['alpha_se']}, R² {_N23['r2']} (n = {_N23['n']})",
    source=f"{X1} §4.4",
    chapter=CH2,
    measure=lease.paper_measure(
        23,
        from_chapter(
            CH2,
            ["lead_power_law_points"],
            lambda p, m: (
                f"chapter 2: {len((m['lead_power_law_points'] or {}).get('exact') or [])} runs with a positive lead "
                "(learning-rate sweep plus the chapter-1 runs)"
            ),
        ),
    ),
    cpu_full=cpu_full.measure_23,
    section="6. Lead time against grok time across learning rates",
    ours=lambda m: stated(_c_power(m), ("exact: the exponent", "exponent α")),
)
def _c_power(m):
    pts = m.get("lead_power_law_points") or {}
    out = []
    for name, key in (("exact", "exact"), ("authors' formula", "authors")):
        iv, spread_ = power_law_interval(pts.get(key))
        q = (
            f"{name}: the exponent α is the paper's {_N23['alpha']} (fails if our slope's interval lies outside "
            f"{_N23['alpha']} ± t·{_N23['alpha_se']})"
        )
        if iv is not None and spread_ < _N23["min_span"]:
            out.append(
                undecided(
                    q,
                    f"a design without leverage: the grok times span {spread_:.1f}×, the rule needs at least "
                    f"{_N23['min_span']:g}× (more learning rates)",
                    statistic=iv.text(lambda x: f"{x:.2f}"),
                )
            )
        else:
            out.append(equivalence(q, iv, margin(23, "alpha"), fmt=lambda x: f"{x:.2f}"))
    n = len(pts.get("exact") or [])
    return out + [cov(f"{_N23['n']} runs over {_N23['learning_rates']} learning rates (paper)", n >= _N23["n"])]
