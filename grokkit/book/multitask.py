"""Profiles of Chapters 3 (multi-task staggered generalisation) and 4 (holographic incompressibility),
and the GPU session's stored runs they cite."""

from __future__ import annotations

import json
from dataclasses import dataclass

from grokkit import config as presets
from grokkit.book.profiles import check_profile
from grokkit.config import Config
from grokkit.repo import NotACheckout, repo_root


@dataclass(frozen=True)
class Chapter3:
    """Chapter 3's scale: what `chapter3(profile)` returns (see its docstring for the fields)."""

    tri: Config
    dual: Config
    tri_seeds: tuple
    weight_decays: list
    wd_seeds: tuple
    deletion: list
    deletion_cap: int
    deletion_k: int
    start: int
    wd0_budget: int
    hessian_checkpoints: int
    lanczos: int
    K: int
    scale_note: str


def chapter3(profile: str) -> Chapter3:
    """Chapter 3 (multi-task). The papers' λ = 0.1 runs need ~100k steps: the default profile trains a
    reduced grid at the papers' scale and says so; `paper` runs the full grids (GPU). `wd0_budget`:
    the steps given to the λ = 0 dual-task control (the failure mode)."""
    check_profile(profile)
    if profile == "smoke":
        small = presets.FAST.replace(p=31, max_steps=300)
        return Chapter3(
            tri=small.replace(ops=("add", "mul", "x2_y2")),
            dual=small.replace(ops=("add", "mul")),
            tri_seeds=(42,),
            weight_decays=[1.0, 0.5],
            wd_seeds=(42,),
            deletion=[0.0, 0.1],
            deletion_cap=300,
            deletion_k=4,
            start=50,
            wd0_budget=300,
            hessian_checkpoints=3,
            lanczos=10,
            K=3,
            scale_note="the tiny test model",
        )
    light = dict(max_steps=40_000)
    if profile == "default":
        # Sized to execute in under 20 minutes on 2 cores (the scorecard's run-time table): the λ = 0
        # control runs a little past the λ = 1 run's grok step, and trains on its own (queued into
        # stage 1's two single-thread workers it would lengthen the longer queue).
        return Chapter3(
            tri=presets.TRI_TASK.replace(**light),
            dual=presets.DUAL_TASK.replace(**light),
            tri_seeds=(42,),
            weight_decays=[1.0, 0.5],
            wd_seeds=(42,),
            deletion=[0.0, 0.02, 0.1],
            deletion_cap=12_000,
            deletion_k=20,
            start=500,
            wd0_budget=9_000,
            hessian_checkpoints=6,
            lanczos=30,
            K=3,
            scale_note="the papers' model; a reduced grid (seed 42; λ ∈ {1.0, 0.5})",
        )
    return Chapter3(
        tri=presets.TRI_TASK,
        dual=presets.DUAL_TASK,
        tri_seeds=(42, 137, 2024),
        weight_decays=[1.0, 0.5, 0.3, 0.2, 0.1],
        wd_seeds=(42, 137, 2024),
        deletion=[0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.10, 0.15, 0.25, 0.5],
        deletion_cap=50_000,
        deletion_k=20,
        start=500,
        wd0_budget=100_000,
        hessian_checkpoints=30,
        lanczos=60,
        K=9,
        scale_note="the papers' model and grids",
    )


def stored_runs(section: str, path: str = "results/gpu/h200-session2.json") -> list[dict] | None:
    """Runs measured elsewhere (e.g. on a GPU by benchmarks/gpu_session.py), with their provenance:
    the list stored under `section`, or None where the repository's results/ is not at hand (Colab)."""
    try:
        full = repo_root() / path
    except NotACheckout:
        return None
    if not full.exists():
        return None
    data = json.loads(full.read_text())
    out = data.get(section)
    return out.get("runs") if isinstance(out, dict) else None


@dataclass(frozen=True)
class Chapter4:
    """Chapter 4's scale: what `chapter4(profile)` returns (see its docstring for the fields)."""

    ch3: Chapter3
    scales: list
    weight_decays: list
    ranks: list
    ks: list
    keeps: list
    factors: list
    post_steps: int


def chapter4(profile: str) -> Chapter4:
    """Chapter 4 (holographic incompressibility). Reuses Chapter 3's grokked runs; the paper profile
    adds the two larger model scales and five weight decays (GPU)."""
    ch3 = chapter3(profile)
    ranks = [1, 2, 4, 8, 16, 32, 64, 96, 128]
    if profile == "smoke":
        return Chapter4(
            ch3=ch3,
            scales=[],
            weight_decays=[1.0],
            ranks=[1, 4, 16, 64],
            ks=[1, 2, 4, 8],
            keeps=[0.1, 0.5, 0.9, 1.0],
            factors=[0.9, 0.95, 1.0, 1.05, 1.1],
            post_steps=100,
        )
    if profile == "default":
        return Chapter4(
            ch3=ch3,
            scales=[],
            weight_decays=[1.0],
            ranks=ranks,
            ks=list(range(1, 21)) + [30],
            keeps=[0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 0.9, 1.0],
            factors=[0.9, 0.95, 1.0, 1.05, 1.1],
            post_steps=3000,
        )
    return Chapter4(
        ch3=ch3,
        scales=["1.2M", "2.2M"],
        weight_decays=[0.1, 0.2, 0.3, 0.5, 1.0],
        ranks=ranks + [256],
        ks=list(range(1, 21)) + [30],
        keeps=[0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 0.9, 1.0],
        factors=[0.9, 0.95, 1.0, 1.05, 1.1],
        post_steps=20_000,
    )
