"""The runs the GPU session stored (results/gpu/h200-session2.json, written by benchmarks/gpu_session.py),
as the paper profile reads them.

The paper-profile measures of targets 5 (controls) and 14 (dual task) live here because the cpu-full
re-runs of those targets (`grokkit.repro.cpu_full`) build on them too.
"""

from __future__ import annotations

from grokkit import book

STORE = "results/gpu/h200-session2.json"


def stored(section: str) -> list[dict]:
    runs = book.stored_runs(section)
    if not runs:
        raise LookupError(f"no stored GPU runs under {section!r} ({STORE})")
    return runs


def per_seed(runs) -> dict:
    """{seed: {op: t98×3}} of stored multi-task runs."""
    return {str(r["config"]["seed"]): dict(zip(r["config"]["ops"], r["grok_step_98x3"])) for r in runs}


def gpu_prov(runs) -> dict:
    r = runs[0]
    return {
        "configs": [x["key"] for x in runs],
        "device": r["device"],
        "stored": STORE,
        "wall_time_s": r.get("wall_time_s"),
        "grokkit_version": r.get("grokkit_version"),
    }


def controls() -> dict:
    """Target 5 at the paper profile: the best test accuracy of the stored non-grokking operations."""
    runs = [r for r in stored("paper_single_task") if r["config"]["ops"][0] not in book.GROKKING_OPS]
    best = {f"{r['config']['ops'][0]} seed {r['config']['seed']}": r["max_test_acc"][0] for r in runs}
    return {
        "measured": {"best_test_acc": best, "budget": runs[0]["config"]["max_steps"]},
        **gpu_prov(runs),
        "scale": "x2_xy_y2 and x3_xy, 3 seeds, 20k steps, one H200 (add at weight decay 0 not run there)",
    }


def dual() -> dict:
    """Target 14 at the paper profile: t98 per task of the stored dual-task runs."""
    runs = [r for r in stored("paper_multitask") if len(r["config"]["ops"]) == 2]
    return {
        "measured": {"per_task": per_seed(runs), "caps": [r["config"]["max_steps"] for r in runs], "rho_min": None},
        **gpu_prov(runs),
        "scale": "the papers' dual-task model, wd 1.0, 3 seeds, one H200 (ρ not measured there)",
    }
