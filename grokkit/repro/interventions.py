"""The single-task paper (arXiv 2602.16746), what Chapter 2 trains beyond Chapter 1's runs: the
interventions on the execution directions (§5; the projection and the kicks) and the lead-time power
law over the learning-rate sweep (§4.4): targets 11, 12, 23. The measurements on Chapter 1's runs
(targets 6, 7, 8, 13) are in `grokkit.repro.execution_subspace`.
"""

from __future__ import annotations

import math

from grokkit import book
from grokkit.repro import cpu_full
from grokkit.repro.helpers import BOTH, CH2, from_chapter
from grokkit.repro.paper_numbers import ADD_SEED_SPREAD, NUMBERS, X1, grid, krange, pct, pct_range
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, num, undecided

OPS, SEEDS = NUMBERS[4]["ops"], NUMBERS[4]["seeds"]  # the paper's grid: 4 grokking ops × 3 seeds
RUNS = OPS * SEEDS
_ADD = krange(*NUMBERS[4]["add_t98x3"], "k–")  # add's seed range, whence ADD_SEED_SPREAD


# --- 11-12: interventions along the execution directions (§5) -------------------------------------

_N11 = NUMBERS[11]
_S1, _S75, _DELAY = _N11["s_full"], _N11["s_partial"], _N11["delay"]
_DELAY_Q = f"s = {_S75} delays grokking by {pct_range(*_DELAY)}"


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
)
def _c_projection(m):
    base, pca, rnd = m["intervention_baseline"], m["suppression_pca"] or {}, m["suppression_random"] or {}
    cap = m.get("cap")
    lo, hi = _DELAY
    s075 = pca.get(str(_S75), "absent")
    if s075 == "absent" or base is None:
        delay_check = num(_DELAY_Q, None)
    elif s075 is None:  # censored at the cap: the delay is at least cap / base − 1
        low = (cap / base - 1) if cap else None
        delay_check = (
            num(f"{_DELAY_Q} (no grok by the cap: delay ≥ {100 * low:.0f}%)", False)
            if low is not None and low > hi
            else undecided(_DELAY_Q, "no grok by the cap, and the cap is within the range")
        )
    else:
        spread = _N11["delay_spread"]
        delay_check = num(
            f"{_DELAY_Q} (ours {100 * (s075 / base - 1):+.0f}%; ±{100 * spread:.0f} points: the "
            "baseline's seed spread)",
            round(lo - spread, 2) <= s075 / base - 1 <= round(hi + spread, 2),
        )
    r_ok = [
        v is not None and base is not None and v <= (1 + ADD_SEED_SPREAD) * base
        for s, v in rnd.items()
        if float(s) <= _S75
    ]
    seeds = m.get("seeds", 1)
    strengths = _N11["strengths"]
    return [
        num(
            f"s = {_S1:g} (full projection): no run groks by the cap ({cap or '?'} steps)",
            None if str(_S1) not in pca else pca[str(_S1)] is None,
        ),
        delay_check,
        num(
            f"random basis at s ≤ {_S75}: no delay beyond {pct(ADD_SEED_SPREAD)} (the baseline's seed spread, "
            f"add {_ADD})",
            all(r_ok) if r_ok else None,
        ),
        cov(f"a cap of at least the paper's {_N11['cap']:,} steps", (cap or 0) >= _N11["cap"]),
        cov(f"{OPS} ops × {SEEDS} seeds (paper: {RUNS} runs per strength)", seeds * m.get("n_ops", 1) >= RUNS),
        cov(
            f"random basis at every strength the paper ran ({strengths[0]}–{strengths[-1]})", len(rnd) >= len(strengths)
        ),
    ]


_N12 = NUMBERS[12]


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
        lambda p: {"alphas": book.chapter2(p).kick_alphas},
    ),
    cpu_full=cpu_full.measure_12,
)
def _c_kicks(m):
    if "kicks_by_seed" in m:  # cpu-full: {seed: {direction: {alpha: step}}}, each against its seed's baseline
        pairs = [
            (m["baselines"].get(seed), t)
            for seed, by_d in m["kicks_by_seed"].items()
            for v in by_d.values()
            for t in v.values()
        ]
    else:
        pairs = [(m["intervention_baseline"], t) for v in (m["kicks"] or {}).values() for t in v]
    steps = [t for _, t in pairs]
    undecidable = not pairs or any(b is None for b, _ in pairs)
    return [  # the claim has two parts: no acceleration (the target's name) and no change at all (27/27 at ~3,200)
        num(
            f"no kicked run groks more than {pct(ADD_SEED_SPREAD)} sooner than its baseline (kicks do not speed "
            "grokking; a run that has not grokked by the cap is not sooner)",
            None if undecidable else all(t is None or t / b - 1 >= -ADD_SEED_SPREAD for b, t in pairs),
        ),
        num(
            f"every kicked run groks within ±{pct(ADD_SEED_SPREAD)} of its baseline (the paper's seed spread of "
            f"add, {_ADD})",
            None if undecidable else all(t is not None and abs(t / b - 1) <= ADD_SEED_SPREAD for b, t in pairs),
        ),
        cov(f"at least 3 of the paper's kick sizes α ∈ {grid(_N12['alphas'])}", len(m.get("alphas") or [1]) >= 3),
        cov(f"{_N12['runs']} kicked runs (paper: sizes × directions × {SEEDS} seeds)", len(steps) >= _N12["runs"]),
    ]


# --- 23: the lead-time power law (§4.4) -----------------------------------------------------------

_N23 = NUMBERS[23]


@target(
    23,
    "lead-power-law",
    "Lead time scales as a power of the grok time",
    paper=f"α = {_N23['alpha']} ± {_N23['alpha_se']}, R² {_N23['r2']} (n = {_N23['n']})",
    source=f"{X1} §4.4",
    chapter=CH2,
    measure=from_chapter(
        CH2,
        ["lead_power_law", "lead_power_law_authors"],
        lambda p, m: (
            f"chapter 2: {(m['lead_power_law'] or {}).get('n', 0)} runs (learning-rate sweep plus the chapter-1 runs)"
        ),
    ),
)
def _c_power(m):
    out, alpha, r2 = [], _N23["alpha"], _N23["r2_min"]
    for name, sfx in BOTH:
        f = m.get(f"lead_power_law{sfx}")
        q = f"{name}: α consistent with {alpha} (within 2 combined s.e.)"
        if not f:
            out += [num(q, None), num(f"{name}: R² ≥ {r2}", None)]
            continue
        se = math.hypot(f["se"] or 0.0, _N23["alpha_se"])
        close = abs(f["alpha"] - alpha) <= 2 * se
        if close and abs(f["alpha"] - 1.0) <= 2 * se:  # the fit cannot tell the paper's exponent from linear scaling
            out.append(
                undecided(
                    q,
                    f"α = {f['alpha']:.2f} ± {f['se']:.2f}: within 2 s.e. of 1 as well (cannot tell "
                    f"{alpha} from linear)",
                )
            )
        else:
            out.append(num(q, close))
        out.append(num(f"{name}: R² ≥ {r2} (paper {_N23['r2']})", f["r2"] >= r2))
    f = m.get("lead_power_law") or {}
    return out + [
        cov(f"{_N23['n']} runs over {_N23['learning_rates']} learning rates (paper)", (f.get("n") or 0) >= _N23["n"])
    ]
