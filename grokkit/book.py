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


def chapter1(profile: str) -> SimpleNamespace:
    """Chapter 1 (single-task grokking). `base` is the headline run; every operation gets
    `op_budget` steps and the seeds `op_seeds`; the weight-decay x train-fraction grid uses `grid_base`."""
    check_profile(profile)
    ops = ("add", "sub", "mul", "x2_y2", "x2_xy_y2", "x3_xy")
    if profile == "smoke":
        return SimpleNamespace(base=presets.FAST, ops=ops, op_seeds=(42,), op_budget=300, control_budget=300,
                               grid_base=presets.FAST.replace(max_steps=1500), weight_decays=[0.3, 1.0],
                               train_fracs=[0.5, 0.7], grid_note="the small test model (p = 31)")
    if profile == "default":
        # 4,000 steps: 1.05x the slowest grok step of the paper's 12 grokking runs (3,800)
        base = presets.SINGLE_TASK.replace(max_steps=4000)
        return SimpleNamespace(base=base, ops=ops, op_seeds=(42, 137, 2024), op_budget=4000, control_budget=4000,
                               grid_base=presets.FAST.replace(max_steps=6000), weight_decays=[0.3, 1.0, 3.0],
                               train_fracs=[0.3, 0.5, 0.7],
                               grid_note="a smaller model (p = 31, d_model = 64) that groks in seconds")
    return SimpleNamespace(base=presets.SINGLE_TASK, ops=ops, op_seeds=(42, 137, 2024), op_budget=200_000,
                           control_budget=50_000, grid_base=presets.SINGLE_TASK.replace(max_steps=100_000),
                           weight_decays=[0.1, 0.3, 1.0, 3.0], train_fracs=[0.3, 0.5, 0.7],
                           grid_note="the papers' model (p = 97)")


def say(text: str):
    """A sentence of the book whose numbers were measured: rendered as Markdown under the cell."""
    from IPython.display import Markdown
    return Markdown(text)


def record(name: str, value):
    """Keep a value the chapter measured (tests and the scorecard read them); returns the value."""
    _RECORDED[name] = _plain(value)
    return value


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
