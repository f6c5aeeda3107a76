"""The cpu-full profile: re-runs that settle a reproduction target on a 2-core CPU, closer to the
paper's coverage than the chapters' default profile.

    python -m grokkit reproduce 5 11 12 13 14 15 16 --profile cpu-full

`members(ids)` lists the runs the chosen targets train; the command trains their union in one
`run_many` pool (both cores busy, the longest runs first) before each target measures, and every
run goes through the run cache, so the chapters' default runs are reused (Chapter 1's operation
runs, Chapter 2's kick runs, Chapter 3's dual-task run) and nothing is trained twice.

What each target re-runs (measured costs on 2 cores are in the closing notes of the issue):
  5   add at weight decay 0 for 50,000 steps (plain run), beside the GPU session's non-grokking ops
  11  add seed 42: s ∈ {0.75, 1.0} (execution basis) and s = 0.75 (random basis) to a 15,000-step cap
  12  kicks α ∈ {50, 200, 500} × {commutator, random} × seeds {42, 137, 2024}, each seed's own basis
  13  exec/random in memorisation, K = 7, all four grokking ops (seed 42), with the spread over checkpoints
  14  ρ per checkpoint on the dual-task wd 1.0 run (the paper's object), beside the GPU dual-task runs
  15, 16  reconstruction variants and static compressions on that dual-task run
"""

from __future__ import annotations

from functools import cache, lru_cache

import torch

from grokkit import book
from grokkit import geometry as G
from grokkit.hooks import GradientProjection, Kick
from grokkit.model import matrix_offsets, n_params
from grokkit.papers import NUMBERS
from grokkit.repro import gpu_runs
from grokkit.sweep import run_many

SEEDS = (42, 137, 2024)
KICK_ALPHAS = (50.0, 200.0, 500.0)  # three of the paper's four kick sizes (NUMBERS[12]["alphas"])
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


def _m11():
    S2, B = _ch2(), _add_basis(42)
    R = G.random_basis(B.shape[0], 16, seed=123).float()
    cap = _cap(PROJECTION_CAP)
    return [(cap, [GradientProjection(B, s, start=S2.start, name="pca16")]) for s in (1.0, 0.75)] + [
        (cap, [GradientProjection(R, 0.75, start=S2.start, name="random16")])
    ]


def _m12():
    S2, out = _ch2(), []
    for seed in SEEDS:
        B = _add_basis(seed)
        out += [
            (_cap(S2.intervention_cap, seed), [Kick(B, a, d, start=S2.start, K=S2.K)])
            for a in KICK_ALPHAS
            for d in ("commutator", "random")
        ]
    return out


def _dual_member():
    return book.chapter3("default").dual.replace(weight_decay=1.0, seed=42), ()


MEMBERS = {
    5: _m5,
    11: _m11,
    12: _m12,
    14: lambda: [_dual_member()],
    15: lambda: [_dual_member()],
    16: lambda: [_dual_member()],
}


def members(ids) -> list:
    """The union of the runs the cpu-full targets `ids` train, longest budget first (the pool's order)."""
    seen, out = set(), []
    for i in ids:
        for c, h in MEMBERS.get(i, list)():
            key = (c.key(), tuple(x.key for x in h))
            if key not in seen:
                seen.add(key)
                out.append((c, h))
    return sorted(out, key=lambda m: -_expected_steps(m[0]))


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
    S1 = _ch1()
    base = _load(book.op_member(S1, "add", 42)).grok_step()[0]
    pca1, pca075, rnd075 = [_load(m) for m in _m11()]
    return {
        "measured": {
            "intervention_baseline": base,
            "suppression_pca": {"1.0": pca1.grok_step()[0], "0.75": pca075.grok_step()[0]},
            "suppression_random": {"0.75": rnd075.grok_step()[0]},
            "cap": PROJECTION_CAP,
            "seeds": 1,
            "n_ops": 1,
        },
        **_prov(
            [pca1, pca075, rnd075],
            f"add, seed 42, cap {PROJECTION_CAP:,} (the paper's), s ∈ {{0.75, 1.0}}; baseline: Chapter 1's add run",
        ),
    }


def measure_12(profile):
    S1, runs = _ch1(), [_load(m) for m in _m12()]
    base = {str(s): _load(book.op_member(S1, "add", s)).grok_step()[0] for s in SEEDS}
    kicks, it = {}, iter(runs)  # in _m12's order: seed, then α, then direction
    for seed in SEEDS:
        kicks[str(seed)] = {d: {} for d in ("commutator", "random")}
        for a in KICK_ALPHAS:
            for d in ("commutator", "random"):
                kicks[str(seed)][d][str(a)] = next(it).grok_step()[0]
    return {
        "measured": {
            "baselines": base,
            "kicks_by_seed": kicks,
            "alphas": list(KICK_ALPHAS),
            "cap": _ch2().intervention_cap,
        },
        **_prov(
            runs,
            f"add, seeds {list(SEEDS)}, α ∈ {list(KICK_ALPHAS)}, both directions, each seed's own basis "
            f"(cap {_ch2().intervention_cap:,})",
        ),
    }


def measure_13(profile):
    S1 = _ch1()
    runs = {op: _load(book.op_member(S1, op, 42)) for op in book.GROKKING_OPS}
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
            "Chapter 1's runs (seed 42, the paper's per-op values are seed 42), every θ checkpoint with "
            "train accuracy ≥ 0.99 and test < 0.5, K = 7, weight-SVD basis k = 3 (K = 24) over 5 random "
            "bases",
        ),
    }


def measure_14(profile):
    run = _load(_dual_member())
    rho = G.rho_by_checkpoint(run, _basis(run), generator=torch.Generator().manual_seed(1))
    gpu = gpu_runs.dual()
    per_task = gpu["measured"]["per_task"]
    return {
        "measured": {
            "per_task": per_task,
            "caps": gpu["measured"]["caps"],
            "per_task_here": dict(zip(run.config.ops, run.grok_step())),
            "rho_min": min(rho["exact"]),
            "rho_min_authors": min(rho["authors"]),
            "rho_checkpoints": len(rho["steps"]),
        },
        "configs": gpu["configs"] + [run.config.key()],
        "scale": "t98: the GPU session's dual-task runs (3 seeds); ρ: the dual-task wd 1.0 run, seed 42, this CPU "
        f"({len(rho['steps'])} checkpoints, one sample each, summed loss)",
    }


@lru_cache(maxsize=1)
def _holo_summary() -> tuple:
    """The compression summary (`grokkit.geometry.compression_summary`) of the dual-task run, computed
    once for targets 15 and 16."""
    S4, run = book.chapter4("default"), _load(_dual_member())
    out = G.compression_summary(run, ranks=S4.ranks, ks=S4.ks, keeps=S4.keeps, factors=S4.factors)
    return out, run.config.key()


def _holo(profile):
    summary, key = _holo_summary()
    return {
        "measured": {"compressions": [summary], "tasks": len(summary["ops"]), "seeds": 1},
        "configs": [key],
        "scale": "the dual-task wd 1.0 run (the paper's object), seed 42, Chapter 3's default config",
    }


MEASURES = {5: measure_5, 11: measure_11, 12: measure_12, 13: measure_13, 14: measure_14, 15: _holo, 16: _holo}
