"""Measurements that a chapter and the GPU lease (grokkit.repro.lease) both make on finished runs,
written once: the layer-0 PC1 ranges of Chapter 2 and the dual-task grok times and defect leads of
Chapter 3."""

from __future__ import annotations

from grokkit import geometry as G
from grokkit.book.memo import memoized
from grokkit.hooks.base import GradientProjection


def pc1_layer0_ranges(runs, grok_ops) -> dict:
    """Layer-0 PC1 shares (%) of every attention matrix (M1, centred, up to the stop criterion): the
    [min, max] over the GROKKED runs of `grok_ops`, and over the runs of the other operations
    (`G.pc1_ranges` of `G.pc1_layer0_by_run`; None for an empty group)."""
    span = G.pc1_ranges(G.pc1_layer0_by_run(runs, grok_ops))
    return {"pc1_layer0_range_grokking": span["grokking"], "pc1_layer0_range_nongrokking": span["nongrokking"]}


def all_tasks_grok_step(run):
    """The step at which every task has grokked (max over tasks of t98×3), None if one never does."""
    steps = run.grok_step()
    return max(steps) if all(s is not None for s in steps) else None


def first_task_grok_step(run):
    """The dual-task papers' grok step (2602.18523 §3.2): min over tasks of t98×3; None if no task groks."""
    steps = [s for s in run.grok_step() if s is not None]
    return min(steps) if steps else None


cap_of = G.run_cap  # the step a run was stopped at when it did not grok: where its grok step is censored


def dual_lead(run, K: int, points: int = 40):
    """Defect lead of a dual-task run (§3.2 rule): the defect (exact formula, median of K) at ~`points`
    of its theta checkpoints, onset = first of 3 consecutive > 3 x the median of the first 30%, against
    the paper's grok step (min over tasks)."""
    n = len(run.trajectory("theta")[0])
    ds, D = G.defect_series(run, K=K, every=max(1, n // points))
    onset = G.defect_onset(ds, D, factor=3, floor=0, first=0.3, sustain=3)
    return G.lead_time(onset, first_task_grok_step(run)).lead


@memoized
def dual_wd_measures(runs, weight_decays, K: int) -> dict:
    """Target 21's numbers from dual-task runs, grouped by weight decay: the paper's grok step (min over
    tasks of t98×3; None: not by the cap), each run's cap (where a None is censored), the defect lead
    against that step, and the exponent of t ∝ λ^a fitted to every run that grokked (None with fewer
    than two λ; the scorecard judges the slope's interval, `grokkit.stats.slope_interval`). Memoized
    (grokkit.book.memo): the leads read every run's θ checkpoints."""
    by = lambda w: [r for r in runs if r.config.weight_decay == w]
    t_grok = {str(w): [first_task_grok_step(r) for r in by(w)] for w in weight_decays}
    caps = {str(w): [cap_of(r) for r in by(w)] for w in weight_decays}
    leads = {str(w): [dual_lead(r, K) for r in by(w)] for w in weight_decays}
    pts = [(float(w), t) for w, ts in t_grok.items() for t in ts if t]
    fit = G.power_law_fit(*zip(*pts)) if len({w for w, _ in pts}) >= 2 else None
    return {
        "dual_grok_steps": t_grok,
        "dual_caps": caps,
        "dual_leads": leads,
        "lambda_exponent": None if fit is None else fit.exponent,
        "grok_rule": "min over tasks of t98x3",
    }


def deletion_members(settings, baseline, fractions, cap: int) -> list:
    """(config, hooks) of Chapter 3's orthogonal-deletion runs (2602.18523 §5): the baseline's config with
    `cap` steps, the gradient outside the top-`settings.deletion_k` directions of the baseline's uncentred
    θ-trajectory PCA removed at fraction f from step `settings.start`; one run per nonzero f of `fractions`."""
    _, thetas = baseline.trajectory("theta")
    B = G.parameter_pca(thetas, "uncentred").components[: settings.deletion_k].T.float()  # (P, k)
    config = baseline.config.replace(max_steps=cap)
    name = f"uncentred{settings.deletion_k}"
    return [(config, [GradientProjection(B, f, start=settings.start, name=name)]) for f in fractions if f]
