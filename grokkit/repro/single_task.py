"""The single-task paper (arXiv 2602.16746), grokking itself: parameter counts (§2), the defect at
initialisation (§3), which operations grok and when (§4), the slow regime (appendix): targets 1, 3, 4,
5, 25. Its execution-subspace claims (§4.1–§5) are in `grokkit.repro.execution_subspace` and
`grokkit.repro.interventions`.
"""

from __future__ import annotations

import math

import torch

from grokkit import book, stats
from grokkit import config as presets
from grokkit.data import dataset_for
from grokkit.engines.sweep import run_many
from grokkit.geometry.commutator import commutator_defect
from grokkit.model import build_model, n_params
from grokkit.papers import NUMBERS, X1, X2, X3, k, krange, margin
from grokkit.repro import cpu_full, gpu_runs, lease
from grokkit.repro.helpers import CH1, CH2, FORMULA_KEYS, count_check, grok_check, median_steps, model_name, stated
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, equivalence, exact, unlike

OPS, SEEDS = len(NUMBERS[4]["ops"]), NUMBERS[4]["seeds"]  # the paper's grid: 4 grokking ops × 3 seeds
RUNS = OPS * SEEDS


# --- 1, 3: cheap, always live ----------------------------------------------------------------------


def _m_params(profile):
    cfgs = {
        "one task": presets.SINGLE_TASK,
        "two tasks": presets.DUAL_TASK,
        "three tasks": presets.TRI_TASK,
        "2.2M scale": presets.TRI_TASK.replace(d_model=256, n_layers=4, d_ff=512),
    }
    return {
        "measured": {k: n_params(build_model(c)) for k, c in cfgs.items()},
        "scale": "exact (model construction)",
        "configs": [c.key() for c in cfgs.values()],
    }


_N1 = NUMBERS[1]["params"]


@target(
    1,
    "parameter-counts",
    "Parameter counts of the four model sizes",
    paper=f"{_N1['one task']:,} / {_N1['two tasks']:,} / {_N1['three tasks']:,}; 2.2M scale → {_N1['2.2M scale']:,}",
    source=f"{X1} §2, {X2}, {X3}",
    chapter=CH1,
    measure=_m_params,
    ours=lambda m: " / ".join(f"{m[size]:,}" for size in _N1),
)
def _c_params(m):
    return [exact(f"{size} = {v:,} (fails on any other count)", m.get(size) == v) for size, v in _N1.items()]


def _m_defect_init(profile):
    base = presets.FAST if profile == "smoke" else presets.SINGLE_TASK
    vals = {}
    for seed in (42, 137, 2024):
        cfg = base.replace(seed=seed)
        torch.manual_seed(seed)
        model = build_model(cfg).train()
        data = dataset_for(cfg)
        d = commutator_defect(model, data, K=9, eta=1e-3, generator=torch.Generator().manual_seed(seed))
        d64 = commutator_defect(
            model.double(), data, K=9, eta=1e-3, generator=torch.Generator().manual_seed(seed)
        )  # same batches, float64
        vals[str(seed)] = {
            "exact": d.median_exact,
            "authors": d.median_authors,
            "float64": d64.median_exact,
            "roundoff_estimate": d.median_roundoff,
        }
    return {
        "measured": {"defect_by_seed": vals},
        "configs": [base.replace(seed=s).key() for s in (42, 137, 2024)],
        "scale": "the papers' model at initialisation, add, K = 9, η = 1e-3, 3 seeds, both formulas (float32) "
        "and float64",
    }


_D_LO, _D_HI = NUMBERS[3]["defect"]
_D_MARGIN = stats.Margin(_D_LO - 0.05, _D_HI + 0.05, None, NUMBERS[3]["margins"]["defect"])


def _n_defect_init(m):
    v = list(m["defect_by_seed"].values())
    au, ex, f64 = ([x[k] for x in v] for k in ("authors", "exact", "float64"))
    if not (all(_D_LO <= round(a, 1) <= _D_HI for a in au) and max(ex) < _D_LO / 3):
        return None
    return (
        f"The paper's number is a float32 artefact: the authors' formula reproduces it "
        f"({min(au):.2f}–{max(au):.2f}), exact arithmetic refutes it ({min(ex):.3f}–{max(ex):.3f} in float32 "
        "with the direct formula, "
        f"{min(f64):.3f}–{max(f64):.3f} in float64, same batches)."
    )


@target(
    3,
    "defect-at-init",
    "Commutator defect at initialisation",
    paper=f"D ≈ {_D_LO}–{_D_HI}",
    source=f"{X1} §3",
    chapter=CH2,
    measure=_m_defect_init,
    note=_n_defect_init,
    section="4. Is the defect real?",
    ours=lambda m: stated(
        _c_defect_init(m), ("exact arithmetic (float64)", "exact"), ("authors' formula", "authors' float32")
    ),
)
def _c_defect_init(m):
    v = list(m["defect_by_seed"].values())
    q = f"the median defect at initialisation is {_D_LO}–{_D_HI} (fails if the seeds' interval lies outside it)"
    fmt = lambda x: f"{x:.3f}"
    formulas = (
        ("authors' formula (float32)", "authors", False),
        ("exact arithmetic (float32, direct formula)", "exact", True),  # a failure: exact arithmetic refutes it
        ("exact arithmetic (float64)", "float64", True),
    )
    return [
        *(
            equivalence(f"{name}: {q}", stats.mean_interval([x[key] for x in v]), _D_MARGIN, fmt=fmt, refutes=r)
            for name, key, r in formulas
        ),
        cov("3 seeds at initialisation (paper: every condition)", len(m["defect_by_seed"]) >= 3),
    ]


# --- 4-5: single-task grokking, trained here (or stored GPU runs at the paper profile) ------------


def _single_runs(profile, ops, seeds_of):
    settings = book.chapter1(profile)
    members = [book.op_member(settings, op, s) for op in ops for s in seeds_of(settings, op)]
    runs, _, _ = run_many(members, progress=True)
    return settings, members, runs


def _m_single(profile):
    if profile == "paper":
        runs = [r for r in gpu_runs.stored("paper_single_task") if r["config"]["ops"][0] in book.GROKKING_OPS]
        steps = {}
        for r in runs:
            steps.setdefault(r["config"]["ops"][0], {})[str(r["config"]["seed"])] = {
                "t98x3": r["grok_step_98x3"][0],
                "t90": r["t90"][0],
            }
        return {
            "measured": {"steps": steps, "budget": runs[0]["config"]["max_steps"]},
            **gpu_runs.gpu_prov(runs),
            "scale": "the papers' model, 4 ops × 3 seeds, 20k-step cap, one H200 (ensemble trainer)",
        }
    settings, members, runs = _single_runs(profile, book.GROKKING_OPS, lambda settings, op: settings.op_seeds)
    steps = {}
    for (c, _), r in zip(members, runs):
        steps.setdefault(c.ops[0], {})[str(c.seed)] = {"t98x3": r.grok_step()[0], "t90": r.grok_step(0.9, 1)[0]}
    return {
        "measured": {"steps": steps, "budget": settings.op_budget},
        "configs": [c.key() for c, _ in members],
        "scale": (
            f"{model_name(profile)}, 4 ops × {len(settings.op_seeds)} seeds, {settings.op_budget:,}-step cap, this CPU"
        ),
    }


_N4 = NUMBERS[4]


@target(
    4,
    "single-task-grokking",
    "Single-task grokking (add, sub, mul, x2_y2)",
    paper=f"add t90 ≈ {krange(*_N4['add_t90'])}, t98×3 ≈ {krange(*_N4['add_t98x3'])}; "
    f"all four within {krange(*_N4['grok'])}",
    source=f"{X1} §4",
    chapter=CH1,
    measure=_m_single,
    section="Six operations",
    scrub=lambda m, op, seed: (m["steps"][op][str(seed)]["t90"], m["steps"][op][str(seed)]["t98x3"]),
    ours=lambda m: (
        "median t98×3: "
        + ", ".join(
            f"{op} {median_steps([v['t98x3'] for v in m['steps'][op].values()], m['budget'])}" for op in m["steps"]
        )
    ),
)
def _c_single(m):
    st, cap = m["steps"], m["budget"]
    out = []
    for stat, ops in (("t90", ("add",)), ("t98x3", _N4["ops"])):
        for op in ops:
            seeds = list((st.get(op) or {}).values())
            paper = "/".join(k(x) + "k" for x in _N4[stat][op])
            out.append(
                grok_check(
                    f"{op}: the median {stat.replace('x3', '×3')} is the paper's (its seeds {paper}; fails if our "
                    "interval lies outside their margin)",
                    [v[stat] for v in seeds],
                    cap,
                    margin(4, stat, op),
                    spread=_spread(_N4[stat][op]),
                )
            )
    every = [v["t98x3"] for op in st.values() for v in op.values()]
    lo, hi = _N4["grok"]
    return out + [
        cov(f"{OPS} ops × {SEEDS} seeds (paper: {RUNS} runs)", len(every) >= RUNS),
        cov(f"a step cap above the paper's slowest grok ({k(hi)}k)", cap > hi),
    ]


def _spread(values):
    return stats.mean_interval(values, log=True).spread


_N5 = NUMBERS[5]


def _m_controls(profile):
    if profile == "paper":
        return gpu_runs.controls()
    settings = book.chapter1(profile)
    members = [book.op_member(settings, op, s) for op in _N5["ops"] for s in book.seeds_for(settings, op)]
    members += [book.op_member(settings, "add", settings.op_seeds[0], weight_decay=0.0)]
    runs, _, _ = run_many(members, progress=True)
    best = {
        f"{c.ops[0]}{' wd 0' if c.weight_decay == 0 else ''} seed {c.seed}": max(max(a) for a in r.history["test_acc"])
        for (c, _), r in zip(members, runs)
    }
    return {
        "measured": {"best_test_acc": best, "budget": settings.op_budget},
        "configs": [c.key() for c, _ in members],
        "scale": f"{settings.op_budget:,} steps per control, this CPU (paper: {krange(*_N5['budgets'], 'k–')})",
    }


@target(
    5,
    "controls-do-not-grok",
    f"Controls do not grok (wd 0; {', '.join(_N5['ops'])})",
    paper=f"test accuracy far below {_N5['acc']} (≤ {_N5['best']:.0%} in {k(_N5['budgets'][1])}k steps)",
    source=f"{X1} §4",
    chapter=CH1,
    measure=lease.paper_measure(5, _m_controls),  # the lease's 200k-step controls where stored
    cpu_full=cpu_full.measure_5,
    section="The control: no weight decay, no grokking",
    ours=lambda m: (
        f"{sum(a >= _N5['acc'] for a in m['best_test_acc'].values())} of {len(m['best_test_acc'])} "
        f"control runs reach {_N5['acc']:.0%} (best {max(m['best_test_acc'].values()):.0%})"
    ),
)
def _c_controls(m):
    acc, b = m["best_test_acc"], m["budget"]
    budgets = m.get("budgets") or {key: b for key in acc}
    wd0_budget, op_budget = _N5["budgets"]
    out = []
    for name, keep, paper, need, (pk, pn) in (
        ("the non-grokking operations", lambda key: "wd 0" not in key, "grokked", op_budget, _N5["grokked"]),
        ("weight decay 0", lambda key: "wd 0" in key, "wd0_grokked", wd0_budget, _N5["wd0_grokked"]),
    ):
        keys = [key for key in acc if keep(key)]
        if not keys:
            continue
        grokked = sum(acc[key] >= _N5["acc"] for key in keys)
        shortest = min(budgets[key] for key in keys)
        q = (
            f"{name}: no run reaches {_N5['acc']:.0%} test accuracy within {need:,} steps (paper {pk}/{pn}; fails "
            "if our share of runs that do lies outside the paper's interval)"
        )
        if grokked == 0 and shortest < need:
            out.append(
                unlike(
                    q,
                    f"{len(keys)} runs stopped at {shortest:,} steps against the paper's {need:,}: 'does not grok by "
                    f"{shortest:,}' cannot say 'by {need:,}'",
                    f"runs to {need:,} steps",
                )
            )
        else:
            out.append(count_check(q, grokked, len(keys), margin(5, paper)))
    keys = list(acc)
    return out + [
        cov(
            "both kinds of control: weight decay 0 and the non-grokking operations",
            any("wd 0" in key for key in keys) and any("wd 0" not in key for key in keys),
        ),
        cov(
            f"{_N5['seeds']} seeds per non-grokking operation (paper)",
            min([sum(key.startswith(op + " seed") for key in keys) for op in _N5["ops"]]) >= _N5["seeds"],
        ),
    ]


# --- 25: the slow regime (the GPU lease, resumed across leases) -------------------------------

_N25 = NUMBERS[25]
_SLOW = (f"t90 ≈ {krange(*_N25['t90'])}", f"ρ ≈ {_N25['rho']}")
_SLOW_RHO = stats.Margin(
    _N25["rho_lowest"], math.inf, None, f"{_N25['source'].split(';')[0]}: {_N25['margins']['rho_lowest']}"
)


def _m_slow(profile):
    raise LookupError(
        "measured at the paper profile only, by the GPU lease's items 25-slow-* (≈ 600k steps per seed, resumed "
        "across leases); none stored yet"
    )


@target(
    25,
    "slow-regime",
    "The slow regime (3 layers, lr 5e-5, wd 0.1)",
    paper="; ".join(_SLOW),
    source=f"{X1} App.",
    chapter=None,
    measure=lease.paper_measure(25, _m_slow),
    profiles=("paper",),
)
def _c_slow(m):
    """t90 per seed (censored at the cap) against the paper's two seeds; each run's smallest per-checkpoint ρ against
    its own execution basis against the authors' saved minimum; the paper's two seeds as coverage."""
    runs = m.get("runs") or []
    paper = "/".join(f"{k(v)}k" for v in _N25["t90_seeds"].values())
    t90 = grok_check(
        f"the median t90 (first evaluation at ≥ 0.9 test accuracy) is the paper's (its seeds {paper}; fails if our "
        "interval lies outside their margin)",
        [r["t90"] for r in runs],
        [r["cap"] for r in runs],
        margin(25, "t90_seeds"),
        spread=_spread(list(_N25["t90_seeds"].values())),
        part="t90",
    )
    rho = [
        equivalence(
            f"{name}: every run's smallest per-checkpoint ρ is at least the authors' {_N25['rho_lowest']} (fails if "
            "our interval of the per-run minima lies below it)",
            stats.mean_interval(
                [r["rho_min"][key] for r in runs if r["rho_min"].get(key) is not None], spread=_N25["rho_spread"]
            )
            if runs
            else None,
            _SLOW_RHO,
            fmt=lambda x: f"{x:.6f}",
            part="ρ",
        )
        for name, key in FORMULA_KEYS
    ]
    seeds = len(_N25["t90_seeds"])
    return [t90, *rho, cov(f"{seeds} seeds to the paper's {k(_N25['cap'])}k-step cap (paper)", len(runs) >= seeds)]
