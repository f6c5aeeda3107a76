"""The cpu-full profile: re-runs that settle a reproduction target on a 2-core CPU, closer to the paper's
coverage than the chapters' default profile. `grokkit.repro.settle` runs them as one ordered plan:

    python -m grokkit reproduce settle --budget-min 120
    python -m grokkit reproduce 5 11 --profile cpu-full      # single targets (their runs train first)

Every run goes through the run cache, so the chapters' default runs are reused (Chapter 1's operation runs,
Chapter 2's kick runs) and nothing is trained twice. The single-task re-runs live here (the multi-task and
LRD ones in `grokkit.repro.cpu_full_mt`):
  5   add at weight decay 0 for 50,000 steps (plain run), beside the GPU session's non-grokking ops
  8   the defect cohort: Chapter 1's 12 grokking runs and the three controls × 3 seeds × 7,500 steps
  11  projection: 4 grokking ops × 3 seeds × s ∈ {0.25, 0.5, 0.75, 1}, own and random basis, 15k cap
  12  kicks α ∈ {50, 100, 200, 500} × {commutator, random} × seeds {42, 137, 2024}, each seed's own basis
  13  exec/random in memorisation, K = 7, all four grokking ops × 3 seeds, with the spread over checkpoints
  23  the lead power law: Chapter 1's grokking runs, Chapter 2's sweep, add × 3 seeds at lr 1e-4 and 3e-4
"""

from __future__ import annotations

from functools import cache

import torch

from grokkit import book
from grokkit import geometry as G
from grokkit.engines.sweep import run_many
from grokkit.hooks.base import GradientProjection, Kick
from grokkit.model import matrix_offsets, n_params
from grokkit.papers import NUMBERS
from grokkit.repro import gpu_runs
from grokkit.training.cache import run_dir

SEEDS = (42, 137, 2024)
KICK_ALPHAS = tuple(float(a) for a in NUMBERS[12]["alphas"])  # the paper's four kick sizes
PROJECTION_CAP = NUMBERS[11]["cap"]  # the paper's
CONTROL_BUDGET = NUMBERS[5]["budgets"][0]  # the paper's shortest control budget


def _ch1():
    return book.chapter1("default")


def _ch2():
    return book.chapter2("default")


def _load(member):
    return run_many([member], progress=False)[0][0]


def _basis(run) -> torch.Tensor:
    """The run's execution basis (M3: K = 16), as Chapter 2 builds it."""
    model = run.model()
    _, attn = run.attention_trajectory()
    return G.execution_basis(attn, matrix_offsets(model), n_params(model))


@cache
def _add_basis(seed: int) -> torch.Tensor:
    """The execution basis of Chapter 1's add run of `seed` (the pool and the measurements share it)."""
    return _basis(_load(book.op_member(_ch1(), "add", seed))).float()


def _cap(max_steps: int, seed: int = 42):
    return _ch1().base.replace(max_steps=max_steps, steps_after_stop=0, seed=seed)


# --- members ----------------------------------------------------------------------------------------


def _m5():
    return [(_ch1().base.replace(weight_decay=0.0, max_steps=CONTROL_BUDGET, steps_after_stop=0), ())]


PROJECTION_OPS = tuple(book.GROKKING_OPS)  # add first: the plan's first row of target 11 trains add only
STRENGTHS = tuple(float(x) for x in NUMBERS[11]["strengths"])


@cache
def _op_basis(op: str, seed: int) -> torch.Tensor:
    """The execution basis of Chapter 1's run of `op` and `seed`."""
    return _add_basis(seed) if op == "add" else _basis(_load(book.op_member(_ch1(), op, seed))).float()


@cache
def _random16(P: int) -> torch.Tensor:
    """The random 16-dim basis every projection run shares (one per parameter count, built once)."""
    return G.random_basis(P, 16, seed=123).float()


def _projection(op: str, seed: int, basis: str, s: float):
    """A projection run (M7): Chapter 1's config of `op` and `seed`, the paper's 15k cap, from step t0 on the
    gradient outside the run's own execution basis ("pca") or a random 16-dim basis ("random") scaled by 1 − s."""
    B = _op_basis(op, seed)
    if basis == "random":
        B = _random16(B.shape[0])
    config = _cap(PROJECTION_CAP, seed).replace(ops=(op,))
    return config, [GradientProjection(B, s, start=_ch2().start, name=f"{basis}16")]


def _m11(ops=PROJECTION_OPS):
    return [_projection(op, seed, b, s) for op in ops for seed in SEEDS for b in ("pca", "random") for s in STRENGTHS]


def _kick(seed, a, d, cap=None):
    S2 = _ch2()
    return _cap(cap or S2.intervention_cap, seed), [Kick(_add_basis(seed), a, d, start=S2.start, K=S2.K)]


def _m12():
    return [_kick(seed, a, d) for seed in SEEDS for a in KICK_ALPHAS for d in ("commutator", "random")]


def _m13():
    return [book.op_member(_ch1(), op, seed) for op in book.GROKKING_OPS for seed in SEEDS]


CONTROL_STEPS = 7_500  # target 8's control runs: past every grokking run's t90 + 1,000 (≤ 5k) by half again


def _m8():
    """Target 8's cohort: Chapter 1's grokking runs (cached) and the three controls × 3 seeds, inline defect."""
    S1 = _ch1()
    grok = [book.op_member(S1, op, s) for op in book.GROKKING_OPS for s in SEEDS]
    controls = [("x2_xy_y2", {}), ("x3_xy", {}), ("add", {"weight_decay": 0.0})]
    return grok + [book.op_member(S1, op, s, max_steps=CONTROL_STEPS, **kw) for op, kw in controls for s in SEEDS]


SLOW_LRS, SLOW_CAP = (1e-4, 3e-4), 80_000  # target 23: slower learning rates stretch the grok times ≥ 10×


def _m23():
    """Chapter 2's learning-rate sweep (cached) and add × 3 seeds at the two slower rates, inline defect."""
    S1, S2 = _ch1(), _ch2()
    sweep = [
        book.op_member(S1, op, s, lr=lr, **({} if lr == S1.base.lr else {"max_steps": S2.lr_budget}))
        for lr in S2.lrs
        for op in S2.lr_ops
        for s in S2.lr_seeds
    ]
    return sweep + [book.op_member(S1, "add", s, lr=lr, max_steps=SLOW_CAP) for lr in SLOW_LRS for s in SEEDS]


MEMBERS = {5: _m5, 8: _m8, 11: _m11, 12: _m12, 13: _m13, 23: _m23}


def _expected_steps(c) -> int:
    """For the pool's order: a weight-decay-0 run never stops early; the others stop by ~15k steps."""
    return c.max_steps if c.weight_decay == 0 or c.stop_threshold is None else min(c.max_steps, 15_000)


# --- measurements -----------------------------------------------------------------------------------


def _prov(runs, scale: str) -> dict:
    return {"configs": [r.config.key() for r in runs], "scale": scale}


def measure_5(profile):
    out = gpu_runs.controls()  # the GPU session's non-grokking operations, 3 seeds, 20k steps
    run = _load(_m5()[0])
    acc = out["measured"]["best_test_acc"] | {"add wd 0 seed 42": max(max(a) for a in run.history["test_acc"])}
    budgets = {k: out["measured"]["budget"] for k in out["measured"]["best_test_acc"]} | {
        "add wd 0 seed 42": CONTROL_BUDGET
    }
    return {
        "measured": {"best_test_acc": acc, "budget": min(budgets.values()), "budgets": budgets},
        "configs": out["configs"] + [run.config.key()],
        "scale": f"add at weight decay 0 for {CONTROL_BUDGET:,} steps (this CPU) and x2_xy_y2, x3_xy × 3 seeds "
        "for 20,000 steps (one H200)",
    }


def measure_11(profile):
    """Every projection run of `_m11` that is in the run cache (a row of the plan may have trained only add),
    each against its own operation and seed's Chapter 1 run."""
    S1, records, runs = _ch1(), [], []
    for op in PROJECTION_OPS:
        for seed in SEEDS:
            done = [
                (b, s) for b in ("pca", "random") for s in STRENGTHS if run_dir(*_projection(op, seed, b, s)).exists()
            ]
            if not done:
                continue
            base = _load(book.op_member(S1, op, seed)).grok_step()[0]
            for b, s in done:
                run = _load(_projection(op, seed, b, s))
                runs.append(run)
                records.append(
                    {
                        "op": op,
                        "seed": seed,
                        "basis": b,
                        "s": s,
                        "grok": run.grok_step()[0],
                        "cap": run.config.max_steps,
                        "baseline": base,
                    }
                )
    ops = sorted({r["op"] for r in records}, key=PROJECTION_OPS.index)
    return {
        "measured": {"projections": records, "cap": PROJECTION_CAP},
        **_prov(
            runs,
            f"{', '.join(ops)} × seeds {list(SEEDS)}, s ∈ {list(STRENGTHS)}, own and random bases, "
            f"cap {PROJECTION_CAP:,} (the paper's); baselines: Chapter 1's runs",
        ),
    }


def measure_12(profile):
    """Every kicked run against its seed's baseline; a kicked run still short of grokking at the chapter's
    cap is re-run to the paper's cap (the run cache trains it here if the pool did not)."""
    S1, S2 = _ch1(), _ch2()
    base = {str(s): _load(book.op_member(S1, "add", s)).grok_step()[0] for s in SEEDS}
    kicks, caps, runs = {}, {}, []
    for seed in SEEDS:
        kicks[str(seed)] = {d: {} for d in ("commutator", "random")}
        caps[str(seed)] = {d: {} for d in ("commutator", "random")}
        for a in KICK_ALPHAS:
            for d in ("commutator", "random"):
                run = _load(_kick(seed, a, d))
                if run.grok_step()[0] is None:
                    run = _load(_kick(seed, a, d, PROJECTION_CAP))
                runs.append(run)
                kicks[str(seed)][d][str(a)] = run.grok_step()[0]
                caps[str(seed)][d][str(a)] = run.config.max_steps
    return {
        "measured": {
            "baselines": base,
            "kicks_by_seed": kicks,
            "caps_by_seed": caps,
            "alphas": list(KICK_ALPHAS),
            "cap": S2.intervention_cap,
        },
        **_prov(
            runs,
            f"add, seeds {list(SEEDS)}, α ∈ {list(KICK_ALPHAS)}, both directions, each seed's own basis "
            f"(cap {S2.intervention_cap:,}; a run short of grokking there re-run to the paper's {PROJECTION_CAP:,})",
        ),
    }


def measure_13(profile):
    S1 = _ch1()
    runs = {
        op if seed == 42 else f"{op} seed {seed}": _load(book.op_member(S1, op, seed))
        for op in book.GROKKING_OPS
        for seed in SEEDS
    }
    P = n_params(next(iter(runs.values())).model())
    randoms = [G.random_basis(P, 24, seed=i) for i in range(5)]
    r = G.exec_random_summary(runs, randoms, K=7, generator=torch.Generator().manual_seed(1))
    return {
        "measured": {
            "exec_random_svd_memorisation": r["mean"]["exact"],
            "exec_random_svd_memorisation_authors": r["mean"]["authors"],
            "exec_random_svd_memorisation_se": r["se"]["exact"],
            "exec_random_svd_memorisation_se_authors": r["se"]["authors"],
            "memorisation_checkpoints": r["n"],
        },
        **_prov(
            list(runs.values()),
            f"Chapter 1's runs (seeds {list(SEEDS)}; the paper's per-op values are seed 42), every θ checkpoint with "
            "train accuracy ≥ 0.99 and test < 0.5, K = 7, weight-SVD basis k = 3 (K = 24) over 5 random "
            "bases",
        ),
    }


def measure_8(profile):
    runs = [_load(m) for m in _m8()]
    return {
        "measured": {"defect_runs": G.defect_cohort(runs)},
        **_prov(
            runs,
            f"Chapter 1's grokking runs (4 ops × seeds {list(SEEDS)}) and the controls x2_xy_y2, x3_xy and add at "
            f"weight decay 0 × seeds {list(SEEDS)}, {CONTROL_STEPS:,} steps; defect inline (both formulas)",
        ),
    }


def measure_23(profile):
    runs = [_load(m) for m in _m8()[: len(book.GROKKING_OPS) * len(SEEDS)] + _m23()]  # Chapter 1's grokking runs
    return {
        "measured": {"lead_power_law_points": G.lead_points(runs)},
        **_prov(runs, f"Chapter 1's grokking runs, Chapter 2's sweep and add × 3 seeds at lr {list(SLOW_LRS)}"),
    }


MEASURES = {5: measure_5, 8: measure_8, 23: measure_23, 11: measure_11, 12: measure_12, 13: measure_13}
