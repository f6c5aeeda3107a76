"""The cpu-full profile's multi-task and LRD re-runs (the single-task ones are in `grokkit.repro.cpu_full`):

9       the LRD mechanism pair (L2 and LRD, p = 113, the paper's 4,000 steps) × 3 seeds
14      the GPU session's three dual-task seeds plus four more here (seeds the GPU did not run), and ρ per
        checkpoint on the seed-42 run
15, 16  reconstruction variants and static compressions of the dual-task wd 1.0 run × 3 seeds
17      gradient deletion on the dual-task run at f ∈ {0.10, 0.15, 0.25} with a cap of 3.6 × the f = 0 step
"""

from __future__ import annotations

from functools import lru_cache

import torch

from grokkit import book
from grokkit import geometry as G
from grokkit.papers import NUMBERS
from grokkit.repro import gpu_runs
from grokkit.repro.cpu_full import SEEDS, _basis, _load, _prov
from grokkit.training.cache import run_dir

DUAL_SEEDS_HERE = (1, 2, 3, 4)  # target 14: seeds the GPU session did not run (its are SEEDS)


def _dual(seed: int = 42):
    return book.chapter3("default").dual.replace(weight_decay=1.0, seed=seed), ()


def _m9():
    settings = book.chapter5("paper")  # the paper's mechanism setting: 4,000 steps
    return [m for seed in SEEDS for m in book.mechanism_members(settings, seed)]


def _m14():
    return [_dual(s) for s in (42, *DUAL_SEEDS_HERE)]


def _m15():
    return [_dual(s) for s in (*SEEDS, *DUAL_SEEDS_HERE)]  # the seeds target 14 trains too


def _deletion():
    """(chapter 3's profile, the f = 0 baseline run, its grok step, the cap for the failing fractions: the
    paper's cap in units of its f = 0 grok step, times our f = 0 grok step, rounded up to 1,000)."""
    settings, baseline = book.chapter3("default"), _load(_dual(42))
    base = book.all_tasks_grok_step(baseline)
    ratio = NUMBERS[17]["cap"] / NUMBERS[17]["t_grok"][0.0]
    return settings, baseline, base, -(-int(ratio * base) // 1000) * 1000


def _small17(settings) -> list:
    """Target 17's delaying fractions: the chapter's own runs, at its cap."""
    return [f for f in settings.deletion if 0 < f < min(NUMBERS[17]["fails"])]


def _m17():
    settings, baseline, _, cap = _deletion()
    return book.deletion_members(settings, baseline, _small17(settings), settings.deletion_cap) + book.deletion_members(
        settings, baseline, NUMBERS[17]["fails"], cap
    )


def _by_fraction(baseline, fractions, runs) -> dict:
    """{"deletion": {f: every task's t98×3}, "caps": {f: the run's cap}} with f = 0 the baseline itself."""
    pairs = [(0.0, baseline), *zip([f for f in fractions if f], runs)]
    return {
        "deletion": {str(f): book.all_tasks_grok_step(r) for f, r in pairs},
        "caps": {str(f): r.config.max_steps for f, r in pairs},
    }


TRI_FRACTIONS = (0.0, 0.02, 0.07, 0.10, 0.25)  # target 20: two that delay, two that fail in the paper's scan


def _tri_deletion():
    """(chapter 3's profile, the tri-task seed-42 baseline, the deleted runs' members at the paper's cap)."""
    settings = book.chapter3("default")
    baseline = _load((settings.tri.replace(seed=NUMBERS[20]["seed"]), ()))
    return settings, baseline, book.deletion_members(settings, baseline, TRI_FRACTIONS, NUMBERS[20]["cap"])


MEMBERS = {9: _m9, 14: _m14, 15: _m15, 16: _m15, 17: _m17, 20: lambda: _tri_deletion()[2]}


def measure_9(profile):
    members = _m9()
    pairs = [(_load(members[i]), _load(members[i + 1])) for i in range(0, len(members), 2)]
    runs = [r for p in pairs for r in p]
    settings = book.chapter5("paper")
    return {
        "measured": {"mechanisms": [book.mechanism_record(l2, lrd) for l2, lrd in pairs]},
        **_prov(
            runs, f"the mechanism pair (p = {settings.base.p}, {settings.mechanism_steps:,} steps), seeds {list(SEEDS)}"
        ),
    }


def measure_14(profile):
    gpu = gpu_runs.dual()
    here = [_load(m) for m in _m14()]
    rho_run = here[0]
    rho = G.rho_by_checkpoint(rho_run, _basis(rho_run), generator=torch.Generator().manual_seed(1))
    added = here[1:]
    per_task = gpu["measured"]["per_task"] | {
        f"{r.config.seed} (cpu)": dict(zip(r.config.ops, r.grok_step())) for r in added
    }
    return {
        "measured": {
            "per_task": per_task,
            "caps": gpu["measured"]["caps"] + [r.config.max_steps for r in added],
            "per_task_here": dict(zip(rho_run.config.ops, rho_run.grok_step())),
            "rho_min": min(rho["exact"]),
            "rho_min_authors": min(rho["authors"]),
            "rho_checkpoints": len(rho["steps"]),
        },
        "configs": gpu["configs"] + [r.config.key() for r in here],
        "scale": f"t98: the GPU session's dual-task runs (seeds {list(SEEDS)}) and seeds {list(DUAL_SEEDS_HERE)} on "
        f"this CPU (the same config); ρ: the seed-42 run here ({len(rho['steps'])} checkpoints, one sample each, "
        "summed loss)",
    }


@lru_cache(maxsize=1)
def _holo_summary() -> tuple:
    """The compression summaries (`grokkit.geometry.compression_summary`) of the dual-task runs, computed
    once for targets 15 and 16."""
    S4 = book.chapter4("default")
    runs = [_load(m) for m in _m15() if run_dir(*m).exists()]  # a first row of the plan trains three
    out = [G.compression_summary(r, ranks=S4.ranks, ks=S4.ks, keeps=S4.keeps, factors=S4.factors) for r in runs]
    return out, [r.config.key() for r in runs]


def _holo(profile):
    summaries, keys = _holo_summary()
    return {
        "measured": {"compressions": summaries, "tasks": len(summaries[0]["ops"]), "seeds": len(summaries)},
        "configs": keys,
        "scale": f"the dual-task wd 1.0 runs (the paper's object), {len(keys)} seeds, Chapter 3's default config",
    }


def measure_17(profile):
    settings, baseline, _, cap = _deletion()
    runs = [_load(m) for m in _m17()]
    fractions = _small17(settings) + list(NUMBERS[17]["fails"])
    return {
        "measured": _by_fraction(baseline, fractions, runs) | {"cap": cap},
        **_prov(
            [baseline, *runs],
            f"dual task, seed 42, k = {settings.deletion_k}: f = 0 and {fractions}; the failing fractions capped at "
            f"{cap:,} (the paper's cap / its f = 0 step, times ours)",
        ),
    }


def measure_20(profile):
    settings, baseline, members = _tri_deletion()
    runs = [_load(m) for m in members]
    return {
        "measured": _by_fraction(baseline, TRI_FRACTIONS, runs),
        **_prov(
            [baseline, *runs],
            f"tri task, seed {NUMBERS[20]['seed']}, wd 1.0, k = {settings.deletion_k} from step {settings.start}: f ∈ "
            f"{list(TRI_FRACTIONS)}, cap {NUMBERS[20]['cap']:,} (the paper's); grok = every task's t98×3",
        ),
    }


MEASURES = {9: measure_9, 14: measure_14, 15: _holo, 16: _holo, 17: measure_17, 20: measure_20}
