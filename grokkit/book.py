"""What the chapter notebooks share: scale profiles, sentences with measured numbers, recorded values.

Profiles: every chapter runs at one of three scales, chosen by its papermill parameter `profile`:
  "smoke"   seconds; the small FAST model; what CI executes
  "default" what a 2-core laptop CPU affords in minutes: the papers' model and settings wherever
            that fits, smaller grids (each chapter says where it cut)
  "paper"   the papers' full grids (a GPU: Colab or better)
"""
from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

from grokkit import config as presets

PROFILES = ("smoke", "default", "paper")
_RECORDED: dict = {}
_T0 = time.perf_counter()


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    return profile


GROKKING_OPS = ("add", "sub", "mul", "x2_y2")  # the four the single-task paper saw grok


def seeds_for(S, op: str) -> tuple:
    """Chapter 1's seeds for an operation (fewer for the paper's non-grokking ones at some profiles)."""
    return S.op_seeds if op in GROKKING_OPS else S.control_op_seeds


def chapter1(profile: str) -> SimpleNamespace:
    """Chapter 1 (single-task grokking). `base` is the headline run; every operation gets
    `op_budget` steps and the seeds `seeds_for(S, op)`; the weight-decay x train-fraction grid uses
    `grid_base`."""
    check_profile(profile)
    ops = ("add", "sub", "mul", "x2_y2", "x2_xy_y2", "x3_xy")
    if profile == "smoke":
        return SimpleNamespace(base=presets.FAST, ops=ops, op_seeds=(42,), control_op_seeds=(42,), op_budget=300,
                               control_budget=300,
                               grid_base=presets.FAST.replace(max_steps=1500), weight_decays=[0.3, 1.0],
                               train_fracs=[0.5, 0.7], grid_note="the small test model (p = 31)")
    if profile == "default":
        # 4,000 steps: 1.05x the slowest grok step of the paper's 12 grokking runs (3,800). Three seeds
        # for the four operations the paper saw grok, one for the two it did not (CPU time).
        base = presets.SINGLE_TASK.replace(max_steps=4000)
        return SimpleNamespace(base=base, ops=ops, op_seeds=(42, 137, 2024), control_op_seeds=(42,),
                               op_budget=4000, control_budget=4000,
                               grid_base=presets.FAST.replace(max_steps=3000), weight_decays=[0.3, 1.0, 2.0],
                               train_fracs=[0.3, 0.5, 0.7],
                               grid_note="a smaller model (p = 31, d_model = 64) that groks in seconds")
    return SimpleNamespace(base=presets.SINGLE_TASK, ops=ops, op_seeds=(42, 137, 2024),
                           control_op_seeds=(42, 137, 2024), op_budget=200_000,
                           control_budget=50_000, grid_base=presets.SINGLE_TASK.replace(max_steps=100_000),
                           weight_decays=[0.1, 0.3, 1.0, 3.0], train_fracs=[0.3, 0.5, 0.7],
                           grid_note="the papers' model (p = 97)")


def say(text: str):
    """A sentence of the book whose numbers were measured: rendered as Markdown under the cell."""
    from IPython.display import Markdown
    return Markdown(text)


def record(name: str, value) -> None:
    """Keep a value the chapter measured (tests and the scorecard read them)."""
    _RECORDED[name] = _plain(value)


def _plain(v):
    """JSON-safe: NaN becomes None, tensors and arrays become lists."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def save_records(path: str | None) -> dict:
    """Write everything recorded (plus the elapsed time) as JSON to `path`, if given."""
    _RECORDED["elapsed_s"] = round(time.perf_counter() - _T0, 1)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(_RECORDED, f, indent=1, default=str)
    return dict(_RECORDED)


def fmt_step(step) -> str:
    return "did not grok" if step is None else f"{step:,}"


def chapter2(profile: str) -> SimpleNamespace:
    """Chapter 2 (execution subspace, commutator defect). Reuses Chapter 1's operation runs (same
    configs, so the same cache entries) and adds weight-decay-0 controls, interventions and an LR sweep."""
    ch1 = chapter1(profile)
    grok_ops = ("add", "sub", "mul", "x2_y2")
    if profile == "smoke":
        return SimpleNamespace(ch1=ch1, grok_ops=grok_ops, wd0_seeds=(42,), wd0_budget=300, K=3,
                               strengths=[0.5, 1.0], random_strengths=[1.0], intervention_cap=400,
                               kick_alphas=[100.0], lrs=[1e-3, 3e-3], lr_ops=("add",), lr_seeds=(42,),
                               lr_budget=300, start=100)
    if profile == "default":
        return SimpleNamespace(ch1=ch1, grok_ops=grok_ops, wd0_seeds=(42,), wd0_budget=4000, K=5,
                               strengths=[0.25, 0.5, 0.75, 1.0], random_strengths=[0.5, 1.0],
                               intervention_cap=5000, kick_alphas=[200.0], lrs=[5e-4, 1e-3, 3e-3],
                               lr_ops=("add",), lr_seeds=(42,), lr_budget=15_000, start=500)
    return SimpleNamespace(ch1=ch1, grok_ops=grok_ops, wd0_seeds=(42, 137, 2024), wd0_budget=50_000, K=9,
                           strengths=[0.25, 0.5, 0.75, 1.0], random_strengths=[0.25, 0.5, 0.75, 1.0],
                           intervention_cap=15_000, kick_alphas=[50.0, 100.0, 200.0, 500.0],
                           lrs=[3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2], lr_ops=grok_ops, lr_seeds=(42, 137, 2024),
                           lr_budget=500_000, start=500)
