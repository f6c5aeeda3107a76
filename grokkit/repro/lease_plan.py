"""The items of the GPU lease plans (grokkit.repro.lease): each a target's paper-scale runs, built as
the chapters build them at the paper profile (caps stated), and the function that turns the finished
runs into that target's `measured` dict (the keys its checks read), computed on the GPU machine."""

from __future__ import annotations

from dataclasses import dataclass, field

from grokkit import book
from grokkit import config as presets
from grokkit import geometry as G


@dataclass(frozen=True)
class Item:
    key: str
    target: int
    value: float
    members: object  # (dry: bool) -> [(Config, hooks), ...]
    measure: object  # (runs, dry) -> the target's measured dict
    scale: str
    expected: object = None  # (config) -> expected steps (else the cap)
    notes: tuple = field(default_factory=tuple)


TRI_SEEDS = (42, 137, 2024, 1, 2, 3, 4, 5, 6, 7)
DUAL_T = {1.0: 13_000, 0.5: 16_500, 0.3: 28_000, 0.2: 45_000, 0.1: 98_000}  # the paper's t_grok (target 21)
_TINY = presets.FAST.replace(max_steps=60, eval_every=20, snapshot_every=20, checkpoint_every=20)


def _m18(dry):
    if dry:
        return [(_TINY.replace(ops=("add", "mul", "x2_y2"), seed=s), ()) for s in TRI_SEEDS[:2]]
    light = dict(max_steps=40_000, snapshot_every=0, checkpoint_every=0)
    return [(presets.tri(seed=s, **light), ()) for s in TRI_SEEDS]


def _x18(runs, dry):
    return {
        "per_seed": {str(r.config.seed): dict(zip(r.ops, r.grok_step())) for r in runs},
        "cap": max(r.config.max_steps for r in runs),
    }


def _m21(dry, keep=lambda w: True):
    if dry:
        return [(_TINY.replace(ops=("add", "mul"), weight_decay=w, seed=42), ()) for w in (1.0, 0.5, 0.3) if keep(w)]
    S = book.chapter3("paper")  # cap 1.5 x the paper's t_grok; theta every 1/40 of the cap (the lead)
    cap = lambda w: int(1.5 * DUAL_T[w]) // 1000 * 1000
    return [
        (S.dual.replace(weight_decay=w, seed=s, max_steps=cap(w), checkpoint_every=cap(w) // 4000 * 100), ())
        for w in S.weight_decays
        if keep(w)
        for s in S.wd_seeds
    ]


def _x21(runs, dry):
    wds = sorted({r.config.weight_decay for r in runs}, reverse=True)
    return book.dual_wd_measures(runs, wds, K=3 if dry else book.chapter3("paper").K)


def _m06(dry):
    S = book.chapter1("smoke" if dry else "paper")  # Chapter 1's runs: the non-grokking ops get 200k steps
    return [book.op_member(S, op, s) for op in S.ops for s in book.seeds_for(S, op)]


def _x06(runs, dry):
    S = book.chapter1("smoke" if dry else "paper")
    n_grok = sum(1 for r in runs if r.ops[0] in book.GROKKING_OPS)
    by_run = G.pc1_layer0_by_run(runs, book.GROKKING_OPS)
    ranges = {f"pc1_layer0_range_{k}": v for k, v in G.pc1_ranges(by_run).items()}
    return {"pc1_layer0_by_run": by_run, **ranges, "op_budget": S.op_budget, "n_grok_runs": n_grok}


def _i21(name, value, keep, what):
    """Target 21's runs split by weight decay (`keep(λ, dry)`), so that each item fits a lease."""
    return Item(
        f"21-dual-wd-{name}",
        21,
        value,
        lambda dry: _m21(dry, lambda w: keep(w, dry)),
        _x21,
        f"the papers' dual-task model, {what} 1.5 × the paper's t",
        expected=lambda c: DUAL_T.get(c.weight_decay),
    )


PLANS = {
    "paper-scorecard": (
        Item("18-tri-order", 18, 1.0, _m18, _x18, "the papers' tri-task model, wd 1.0, 10 seeds, 40k cap"),
        _i21("hi", 1.0, lambda w, dry: w >= 0.3, "λ ∈ {1, 0.5, 0.3} × 3 seeds, caps"),
        _i21("0.2", 0.5, lambda w, dry: w == 0.2 or (dry and w == 0.5), "λ = 0.2 × 3 seeds, cap"),
        _i21("0.1", 0.5, lambda w, dry: w == 0.1 or (dry and w == 0.3), "λ = 0.1 × 3 seeds, cap"),
        Item(
            "06-pc1-200k",
            6,
            1.0,
            _m06,
            _x06,
            "Chapter 1 at the paper profile: 6 ops × 3 seeds, 200k-step budget, snapshots every 100",
            expected=lambda c: 4_000 if c.ops[0] in book.GROKKING_OPS else None,
        ),
    )
}
