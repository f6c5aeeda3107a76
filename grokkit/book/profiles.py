"""The chapters' scale profiles (Chapters 1 and 2 here; 3 and 4 in book.multitask, 5 in book.lrd) and
the runs they share (members, seeds, budgets).

Profiles: every chapter runs at one of three scales, chosen by its papermill parameter `profile`:
  "smoke"   seconds; the small FAST model; what CI executes
  "default" what a 2-core laptop CPU affords in minutes: the papers' model and settings wherever
            that fits, smaller grids (each chapter says where it cut)
  "paper"   the papers' full grids (a GPU: Colab or better)
"""

from __future__ import annotations

from dataclasses import dataclass

from grokkit import config as presets
from grokkit.config import Config
from grokkit.trackers import DefectTracker

PROFILES = ("smoke", "default", "paper")


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    return profile


GROKKING_OPS = ("add", "sub", "mul", "x2_y2")  # the four the single-task paper saw grok
# Chapter 1's phase diagram: weight decay 0 and seven log-spaced values up to 3, five train fractions
PHASE_WEIGHT_DECAYS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0)
PHASE_TRAIN_FRACS = (0.2, 0.35, 0.5, 0.65, 0.8)
PAPER_GRID = presets.SINGLE_TASK.replace(max_steps=30_000, snapshot_every=0, checkpoint_every=0)
PAPER_GRID_SEEDS = (42, 137, 2024)
PAPER_GRID_BUNDLE = "results/bundles/phase-paper.tar"  # the papers' model's grid, trained on a GPU


def seeds_for(S, op: str) -> tuple:
    """Chapter 1's seeds for an operation (fewer for the paper's non-grokking ones at some profiles)."""
    return S.op_seeds if op in GROKKING_OPS else S.control_op_seeds


@dataclass(frozen=True)
class Chapter1:
    """Chapter 1's scale: what `chapter1(profile)` returns (see its docstring for the fields)."""

    base: Config
    ops: tuple
    op_seeds: tuple
    control_op_seeds: tuple
    op_budget: int
    control_budget: int
    defect_every: int
    defect_K: int
    grid_base: Config
    weight_decays: list
    train_fracs: list
    grid_note: str


def chapter1(profile: str) -> Chapter1:
    """Chapter 1 (single-task grokking). `base` is the headline run; every operation gets
    `op_budget` steps and the seeds `seeds_for(S, op)`; the weight-decay x train-fraction grid uses
    `grid_base`. The operation runs follow the papers' lead-time protocol (M6) so that Chapter 2 reads
    their commutator defect from the same runs: `defect_hooks(S)` measures it inline (every
    `defect_every` steps, K = `defect_K`; training is unchanged) and each run trains 1,000 steps past
    the stop criterion (`base.steps_after_stop`)."""
    check_profile(profile)
    ops = ("add", "sub", "mul", "x2_y2", "x2_xy_y2", "x3_xy")
    if profile == "smoke":
        base = presets.FAST.replace(steps_after_stop=100)  # the headline run; operation runs: op_budget
        return Chapter1(
            base=base,
            ops=ops,
            op_seeds=(42,),
            control_op_seeds=(42,),
            op_budget=300,
            control_budget=300,
            defect_every=100,
            defect_K=3,
            grid_base=presets.FAST.replace(max_steps=1500),
            weight_decays=[0.3, 1.0],
            train_fracs=[0.5, 0.7],
            grid_note="the small test model (p = 31)",
        )
    if profile == "default":
        # 5,000 steps: the slowest grok step of the paper's 12 grokking runs (3,800) plus the protocol's
        # 1,000 steps after the stop criterion; the non-grokking runs get the same 5,000 steps. Three seeds
        # for the four operations the paper saw grok, one for the two it did not (CPU time).
        base = presets.SINGLE_TASK.replace(max_steps=5000, steps_after_stop=1000)
        return Chapter1(
            base=base,
            ops=ops,
            op_seeds=(42, 137, 2024),
            control_op_seeds=(42,),
            op_budget=5000,
            control_budget=5000,
            defect_every=100,
            defect_K=5,
            # 8 x 5 cells of the FAST model, one seed, no trajectories, evaluated every 100 steps: under
            # 5 minutes on 2 cores (the unstable and memorising cells run the whole budget)
            grid_base=presets.FAST.replace(max_steps=2000, eval_every=100, snapshot_every=0, checkpoint_every=0),
            weight_decays=list(PHASE_WEIGHT_DECAYS),
            train_fracs=list(PHASE_TRAIN_FRACS),
            grid_note="a smaller model (p = 31, d_model = 64) that groks in seconds",
        )
    return Chapter1(
        base=presets.SINGLE_TASK.replace(steps_after_stop=1000),
        ops=ops,
        op_seeds=(42, 137, 2024),
        control_op_seeds=(42, 137, 2024),
        op_budget=200_000,
        defect_every=100,
        defect_K=5,
        control_budget=50_000,
        grid_base=PAPER_GRID,
        weight_decays=list(PHASE_WEIGHT_DECAYS),
        train_fracs=list(PHASE_TRAIN_FRACS),
        grid_note="the papers' model (p = 97)",
    )


def defect_hooks(S) -> list:
    """The inline commutator-defect tracker of the lead-time protocol (papers-spec M6), both formulas."""
    return [DefectTracker(every=S.defect_every, K=S.defect_K)]


def op_member(S, op: str, seed: int, **changes) -> tuple:
    """(config, hooks) of Chapter 1's run of `op` (Chapter 2 reuses the same cache entries)."""
    budget = S.op_budget if changes.get("weight_decay", 1.0) != 0.0 else S.control_budget
    return S.base.replace(**({"ops": (op,), "seed": seed, "max_steps": budget} | changes)), defect_hooks(S)


@dataclass(frozen=True)
class Chapter2:
    """Chapter 2's scale: what `chapter2(profile)` returns (see its docstring for the fields)."""

    ch1: Chapter1
    grok_ops: tuple
    wd0_ops: tuple
    wd0_seeds: tuple
    K: int
    auc_every: int
    strengths: list
    random_strengths: list
    intervention_cap: int
    kick_alphas: list
    kick_directions: tuple
    lrs: list
    lr_ops: tuple
    lr_seeds: tuple
    lr_budget: int
    start: int


def chapter2(profile: str) -> Chapter2:
    """Chapter 2 (execution subspace, commutator defect). Reuses Chapter 1's operation runs (same
    configs and hooks, so the same cache entries; their defect was measured inline by the lead-time
    protocol) and adds weight-decay-0 controls (`wd0_ops`, Chapter 1's control budget), interventions
    and an LR sweep. The interventions' baseline is Chapter 1's add run (same config; the inline tracker
    does not change training). `K`: commutator samples per post-hoc defect measurement (ρ, exec/random, kicks);
    `auc_every`: spacing of the steps at which the defect is scored as a predictor."""
    ch1 = chapter1(profile)
    grok_ops = ("add", "sub", "mul", "x2_y2")
    if profile == "smoke":
        return Chapter2(
            ch1=ch1,
            grok_ops=grok_ops,
            wd0_ops=("add",),
            wd0_seeds=(42,),
            K=3,
            auc_every=40,
            strengths=[0.5, 1.0],
            random_strengths=[1.0],
            intervention_cap=ch1.op_budget,
            kick_alphas=[100.0],
            kick_directions=("commutator", "random"),
            lrs=[1e-3, 3e-3],
            lr_ops=("add",),
            lr_seeds=(42,),
            lr_budget=300,
            start=100,
        )
    if profile == "default":
        # Cut to fit 15 minutes on 2 cores (measured: see results/chapters/default): the weight-decay-0 control
        # of add only (Chapter 1 trained it; the matched non-grokking set), K = 3 post-hoc defect
        # samples, s ∈ {0.5, 0.75, 1.0} and one random-basis strength (0.75: the paper's "no effect up to
        # 0.75"), a 4,500-step cap, one kick (α = 200 along the commutator; the cpu-full re-run of target 12
        # adds the random direction, three sizes and seeds) and learning rates 7e-4..3e-3 (the 7e-4 run is the
        # longest, ~5.7k steps; 5e-4 would add ~3 minutes).
        return Chapter2(
            ch1=ch1,
            grok_ops=grok_ops,
            wd0_ops=("add",),
            wd0_seeds=(42,),
            K=3,
            auc_every=500,
            strengths=[0.5, 0.75, 1.0],
            random_strengths=[0.75],
            intervention_cap=4500,
            kick_alphas=[200.0],
            kick_directions=("commutator",),
            lrs=[7e-4, 1e-3, 2e-3, 3e-3],
            lr_ops=("add",),
            lr_seeds=(42,),
            lr_budget=15_000,
            start=500,
        )
    return Chapter2(
        ch1=ch1,
        grok_ops=grok_ops,
        wd0_ops=grok_ops,
        wd0_seeds=(42, 137, 2024),
        K=9,
        auc_every=500,
        strengths=[0.25, 0.5, 0.75, 1.0],
        random_strengths=[0.25, 0.5, 0.75, 1.0],
        intervention_cap=15_000,
        kick_alphas=[50.0, 100.0, 200.0, 500.0],
        kick_directions=("commutator", "random"),
        lrs=[3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
        lr_ops=grok_ops,
        lr_seeds=(42, 137, 2024),
        lr_budget=500_000,
        start=500,
    )
