"""The multi-task paper (arXiv 2602.18523), the dual-task model: dual-task grokking and the
weight-decay phase structure (§3), trajectory-PCA reconstruction by centring (§4), orthogonal
deletion (§5): targets 14, 15, 17, 21 (Chapters 3 and 4). The tri-task targets (18, 19, 20, 22) are
in `grokkit.repro.tri_task`.
"""

from __future__ import annotations

import numpy as np

from grokkit import book
from grokkit.repro import cpu_full, gpu_runs, lease
from grokkit.repro.helpers import CH3, CH4, all_within, ch4_coverage, chapter, from_chapter, like_dual, within
from grokkit.repro.paper_numbers import NUMBERS, X2, grid, k, krange, minus, pct, pct_range
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, num, undecided

RHO_BOUND = NUMBERS[7]["rho_lowest"]  # the single-task paper's, per checkpoint (papers-spec §2.3)


# --- 14: dual-task grokking --------------------------------------------------------------------------


def _m_dual(profile):
    if profile == "paper":
        return gpu_runs.dual()
    metrics, prov = chapter(CH3, profile)
    t = (metrics.get("dual_grok_steps") or {}).get("1.0") or []
    return {
        "measured": {"all_tasks_t98": t, "rho_min": None},
        **prov,
        "scale": "chapter 3's dual-task runs at wd 1.0 (seed 42)",
    }


_N14 = NUMBERS[14]
_T98 = _N14["t98"]


@target(
    14,
    "dual-task-grokking",
    "Dual-task grokking",
    paper=f"t98 ≈ {krange(*_T98)} (add ≈ mul); ρ ≈ 1.000",
    source=f"{X2} §3",
    chapter=CH3,
    measure=_m_dual,
    cpu_full=cpu_full.measure_14,
)
def _c_dual(m):
    rho = num(
        f"ρ ≥ {RHO_BOUND} at every checkpoint (per-checkpoint minimum, one sample)",
        within(m.get("rho_min"), RHO_BOUND, 1.0001),
    )
    lo, hi, same, seeds = *_T98, _N14["same"], _N14["seeds"]
    if "per_task" in m:
        vals = [t for d in m["per_task"].values() for t in d.values()]
        close = [
            abs(d["add"] - d["mul"]) / max(d["add"], d["mul"]) <= same
            for d in m["per_task"].values()
            if d.get("add") and d.get("mul")
        ]
        return [
            num(
                f"t98 of both tasks in {krange(lo, hi, 'k–')}",
                None if not vals else all(v is not None and lo <= v <= hi for v in vals),
            ),
            num(f"add ≈ mul (within {pct(same)}) in every seed", all(close) if close else None),
            rho,
            cov(f"{seeds} seeds (paper)", len(m["per_task"]) >= seeds),
        ]
    t = m["all_tasks_t98"] or []
    return [
        num(f"t98 (both tasks) in {krange(lo, hi, 'k–')}", all_within(t, lo, hi) if t else None),
        num(f"add ≈ mul (within {pct(same)})", None if len(t) < 2 or None in t else abs(t[0] - t[1]) / max(t) <= same),
        rho,
        cov(f"{seeds} seeds (paper)", False),
    ]


# --- 15: reconstruction variants -----------------------------------------------------------------------

_N15 = NUMBERS[15]
_UNC, _WITH, _MAXK = _N15["uncentred"], _N15["centred_with_init"], _N15["max_k"]


@target(
    15,
    "reconstruction-variants",
    "Trajectory-PCA reconstruction depends on the centring",
    paper=f"uncentred k* = {_UNC[0]}–{_UNC[1]}; centred with θ_0 k ≥ {_WITH} ≈ 1.0; centred without θ_0: chance "
    f"for all k ≤ {_MAXK}",
    source=f"{X2} §4",
    chapter=CH4,
    measure=from_chapter(CH4, ["k_star_95"], "chapter 4: the tri-task wd 1.0 run (paper: dual task)", ch4_coverage),
    cpu_full=cpu_full.MEASURES[15],
)
def _c_variants(m):
    ks = m["k_star_95"] or {}
    share = pct(_N15["share"])
    return [
        like_dual(
            m,
            f"uncentred: k* ({share} of final accuracy) in {_UNC[0]}–{_UNC[1]} (the paper's seed range)",
            within(ks.get("uncentred"), *_UNC) if ks else None,
        ),
        like_dual(
            m,
            f"centred with θ_0: k* ≤ {_WITH}",
            None if not ks else (ks.get("centred_with_init") is not None and ks["centred_with_init"] <= _WITH),
        ),
        like_dual(
            m,
            f"centred without θ_0: never reaches {share} for k ≤ {_MAXK}",
            None if not ks else ks.get("centred_without_init") is None,
        ),
        cov(f"{_N15['seeds']} seeds (paper)", (m.get("seeds") or 1) >= _N15["seeds"]),
    ]


# --- 17, 20: orthogonal deletion ------------------------------------------------------------------------

_N17 = NUMBERS[17]
_FAIL, _BACK, (_SLOW_F, _SLOW_X) = _N17["fails"][0], _N17["groks_again"], _N17["slow"]
_T17 = _N17["t_grok"]
_BIG = f"{pct(_FAIL)} ≤ f < {pct(_BACK)}"


@target(
    17,
    "deletion-cliff-dual",
    "Orthogonal deletion: small deletions delay, larger ones kill grokking",
    paper=f"{k(_T17[0.0])}k → {k(_T17[0.01])}k ({pct(0.01)}) → ~{k(_T17[0.02])}k ({pct(0.02)}) → … → fail at "
    f"{pct_range(*_N17['fails'])}; {k(_T17[0.5])}k at {pct(0.5)}",
    source=f"{X2} §5",
    chapter=CH3,
    measure=from_chapter(
        CH3,
        ["deletion"],
        lambda p, m: (
            f"chapter 3, dual task, seed 42: f ∈ {sorted(float(f) for f in (m['deletion'] or {}))}, cap {m['cap']:,}"
        ),
        lambda p: {"cap": book.chapter3(p).deletion_cap},
    ),
)
def _c_deletion(m):
    d = {float(key): v for key, v in (m["deletion"] or {}).items()}
    if not d:
        return [num("f = 0 groks", None), num("small f delays grokking", None), num(f"f ≥ {pct(_FAIL)} fails", None)]
    small = [v for f, v in sorted(d.items()) if 0 < f < _FAIL]
    big = [v for f, v in d.items() if _FAIL <= f < _BACK]
    cap, base = m.get("cap"), d.get(0.0)
    fails = num(f"{_BIG}: no grokking within the cap", None)
    if big:
        if any(v is not None for v in big):
            fails = num(f"{_BIG}: no grokking within the cap", False)
        elif cap is None or base is None or cap < _SLOW_X * base:
            fails = undecided(
                f"{_BIG}: no grokking (fails, not delayed)",
                f"censored: the cap ({cap or '?'}) is under {_SLOW_X}× the f = 0 grok step "
                f"({base or '?'}), and the paper's {pct(_SLOW_F)} run grokked at ~{_SLOW_X}×: 'no grok "
                "by the cap' cannot tell fails from delayed",
            )
        else:
            fails = num(f"{_BIG}: no grokking by the cap ({cap:,} ≥ {_SLOW_X}× the f = 0 grok step)", True)
    return [
        num("f = 0 groks", base is not None if 0.0 in d else None),
        num(
            f"0 < f < {pct(_FAIL)}: grokking delayed (later than f = 0, or not by the cap)",
            None if not small or base is None else all(v is None or v > base for v in small),
        ),
        fails,
        cov(
            f"the paper's deletion fractions (0–{pct(_BACK)}, {_N17['fractions']} values)", len(d) >= _N17["fractions"]
        ),
    ]


# --- 21: the dual-task weight-decay phase structure -----------------------------------------------------


def _mean_steps(d):
    v = [x for x in d if x is not None]
    return float(np.mean(v)) if v else None


_N21 = NUMBERS[21]
_TG, _EXP, _EXP_W = _N21["t_grok"], _N21["exponent"], _N21["exponent_within"]
_LAMS = list(_TG)


@target(
    21,
    "wd-phase-structure",
    "Dual-task weight-decay phase structure",
    paper=f"t ≈ {'/'.join(k(t) + 'k' for t in _TG.values())} at λ = {_LAMS[0]}…{_LAMS[-1]}; t ∝ λ^{minus(_EXP)}; "
    f"onset precedes grok {len(_TG) * _N21['seeds']}/{len(_TG) * _N21['seeds']}",
    source=f"{X2} §3",
    chapter=CH3,
    measure=lease.paper_measure(
        21,
        from_chapter(
            CH3,
            ["dual_grok_steps", "lambda_exponent", "dual_leads"],
            lambda p, m: f"chapter 3: λ ∈ {sorted(m['dual_grok_steps'] or {})}, seed 42",
        ),
    ),
)
def _c_wd_phase(m):
    t = m["dual_grok_steps"] or {}
    mean = {w: _mean_steps(v) for w, v in t.items()}
    leads = [x for v in (m["dual_leads"] or {}).values() for x in v]
    ex = m["lambda_exponent"]
    lams = [w for w, v in mean.items() if v is not None]
    q = f"exponent within {minus(_EXP)} ± {_EXP_W}"
    expo = (
        num(q, within(ex, round(_EXP - _EXP_W, 2), round(_EXP + _EXP_W, 2)))
        if len(lams) >= 3 or ex is None
        else undecided(q, f"fitted to {len(lams)} λ values: a line through two points has no spread")
    )
    seeds = max((len(v) for v in t.values()), default=0)
    tol = _N21["within"]

    def t_grok(lam):
        return num(
            f"t_grok(λ = {lam}) within {pct(tol)} of {k(_TG[lam])}k",
            None if mean.get(lam) is None else abs(mean[lam] / _TG[lam] - 1) <= tol,
        )

    return [
        t_grok("1.0"),
        t_grok("0.5"),
        expo,
        num(
            "defect onset precedes grokking in every run",
            None if not leads else all(x is not None and x > 0 for x in leads),
        ),
        cov(f"all five λ ∈ {grid(_LAMS)}", bool(t) and set(_TG) <= set(t)),
        cov(f"{_N21['seeds']} seeds per λ (paper)", seeds >= _N21["seeds"]),
    ]
