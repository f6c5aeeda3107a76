"""Measurements that a chapter and the GPU lease (grokkit.repro.lease) both make on finished runs,
written once: the layer-0 PC1 ranges of Chapter 2 and the dual-task grok times and defect leads of
Chapter 3."""

from __future__ import annotations

from grokkit import geometry as G


def pc1_layer0_ranges(runs, grok_ops) -> dict:
    """Layer-0 PC1 shares (%) of every attention matrix (M1, centred, up to the stop criterion): the
    [min, max] over the GROKKED runs of `grok_ops`, and over the runs of the other operations."""
    grok, non = [], []
    for r in runs:
        if r.ops[0] in grok_ops and not r.grokked:
            continue
        shares = [100 * v for (layer, _), v in G.pc1_shares(r.attention_trajectory()[1]).items() if layer == 0]
        (grok if r.ops[0] in grok_ops else non).extend(shares)
    span = lambda xs: [min(xs), max(xs)] if xs else None
    return {"pc1_layer0_range_grokking": span(grok), "pc1_layer0_range_nongrokking": span(non)}


def all_tasks_grok_step(run):
    """The step at which every task has grokked (max over tasks of t98×3), None if one never does."""
    steps = run.grok_step()
    return max(steps) if all(s is not None for s in steps) else None


def dual_lead(run, K: int, points: int = 40):
    """Defect lead of a dual-task run (§3.2 rule): the defect (exact formula, median of K) at ~`points`
    of its theta checkpoints, onset = first of 3 consecutive > 3 x the median of the first 30%."""
    n = len(run.trajectory("theta")[0])
    ds, D = G.defect_series(run, K=K, every=max(1, n // points))
    onset = G.defect_onset(ds, D, factor=3, floor=0, first=0.3, sustain=3)
    return G.lead_time(onset, all_tasks_grok_step(run)).lead


def dual_wd_measures(runs, weight_decays, K: int) -> dict:
    """Target 21's numbers from dual-task runs: grok step and lead per run, grouped by weight decay,
    and the exponent of t ∝ λ^a fitted to every run that grokked (None with fewer than two λ)."""
    t_grok = {str(w): [all_tasks_grok_step(r) for r in runs if r.config.weight_decay == w] for w in weight_decays}
    leads = {str(w): [dual_lead(r, K) for r in runs if r.config.weight_decay == w] for w in weight_decays}
    pts = [(float(w), t) for w, ts in t_grok.items() for t in ts if t]
    fit = G.power_law_fit(*zip(*pts)) if len({w for w, _ in pts}) >= 2 else None
    return {"dual_grok_steps": t_grok, "dual_leads": leads, "lambda_exponent": None if fit is None else fit.exponent}
