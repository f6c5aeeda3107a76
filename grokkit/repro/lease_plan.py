"""The items of the GPU lease plans (grokkit.repro.lease). An item is a block of a target's paper-scale runs
(built as the chapters build them at the paper profile, caps stated) small enough for one lease (≈ 240 s
estimated) and a `per_run` function that measures each finished run on the GPU machine, so that only
numbers come back and a lease cut short keeps every member that finished.

    per_run(run, dry, needed) -> {target id: that run's part of the target's `measured` dict}

Parts of one target (from every member of every item that measured it) are merged by `merge_parts` (dicts
key by key, lists concatenated in member order) and completed by FINISH[target] (the aggregates: ranges,
counts, caps), which gives the keys the target's checks read. Items are ordered by value per second.

Target 22 (the tri-task lead) rides on target 19's runs at its three weight decays (the inline defect
added). Target 10's items train Chapter 5's whole paper-profile phase grid (one item per regulariser).
Target 20's items train the tri-task deletion sweep per seed (the paper's
seed 42 and two more), one fraction per item, the seed's f = 0 run first (`needs`: the deletion basis is its
θ-trajectory PCA). Target 24's items train the tri-task model at 1.15M and 2.2M parameters (wd 1, 3 seeds, one
run per item, its estimate scaled by `cost`: the parameter ratio). The `01-phase-paper-*` items serve no
target: they train Chapter 1's phase grid on the papers' model (grokkit.book.settings.PAPER_GRID, one weight
decay and seed per item, its five train fractions), exactly (no precision override: the book loads these runs
by their configs), and come back as metrics-only run bundles that `make lease-merge` keeps in
results/bundles/ (Chapter 1's explorer then shows the papers' model). Target 25's items train the slow regime,
one seed each (≈ 600k steps, longer than a lease): `resumable`, they run in parts lease after lease, their resume
state (the run's whole series so far) travelling through results/gpu/resume/; `exact`, so every lease trains
the same run whatever its mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grokkit import book
from grokkit.book.settings import PAPER_GRID, PAPER_GRID_SEEDS, PHASE_TRAIN_FRACS, PHASE_WEIGHT_DECAYS
from grokkit.papers import NUMBERS
from grokkit.repro.helpers import CH1
from grokkit.repro.lease_items import (
    DELETION_DELAY,
    DELETION_FAIL,
    DUAL_T,
    LEAD_LRS,
    SCALES,
    SEEDS,
    SLOW_SEEDS,
    TRI_CAPS,
    ch1,
    control_members,
    deletion_members,
    dual_wd_members,
    expected_lr,
    grok_op_members,
    lead_members,
    lrd_phase_members,
    per_run_5_6,
    per_run_10,
    per_run_11,
    per_run_18,
    per_run_19_22,
    per_run_20,
    per_run_21,
    per_run_23,
    per_run_24,
    per_run_25,
    per_run_none,
    phase_paper_members,
    projection_configs,
    projection_members,
    scaling_members,
    slow_members,
    step_cost,
    tri_baseline,
    tri_kstar_members,
    tri_order_members,
)


@dataclass(frozen=True)
class Item:
    key: str
    targets: tuple
    value: float  # the information the item settles (its share of the targets it serves)
    members: object  # (dry: bool) -> [(Config, hooks), ...]
    per_run: object  # (run, dry, needed runs) -> {target id: dict}
    scale: str
    expected: object = None  # (config) -> the steps a member is expected to train (else its cap)
    needs: object = None  # (dry) -> [(Config, hooks)]: runs trained (or found in the lease's cache) first
    build: object = None  # (dry, needed runs) -> the members with their hooks (`members` gives the configs)
    cost: object = None  # (config) -> a member-step's cost relative to the papers' model (the rates'); None: 1
    notes: tuple = field(default_factory=tuple)
    exact: bool = False  # train with the configs as given (only runtime overrides of the lease's mode): runs
    #                      that the book loads by their config, such as the phase grid's
    bundle: str | None = None  # its runs come back as metrics-only run bundles OUT/<bundle>-<sha256>.tar (lease.py)
    resumable: bool = False  # longer than a lease: runs in parts, lease after lease, from its resume state (lease.py)
    chapter: str | None = None  # the chapter whose paper-profile runs it trains (the GPU row of its chapter times)

    @property
    def target(self) -> int | None:
        return self.targets[0] if self.targets else None


def merge_parts(parts) -> dict:
    """One dict from per-run parts: dicts merged key by key, lists concatenated, equal values kept."""
    out: dict = {}
    for part in parts:
        for k, v in part.items():
            if k not in out:
                out[k] = merge_parts([v]) if isinstance(v, dict) else (list(v) if isinstance(v, list) else v)
            elif isinstance(v, dict) and isinstance(out[k], dict):
                out[k] = merge_parts([out[k], v])
            elif isinstance(v, list) and isinstance(out[k], list):
                out[k] = out[k] + list(v)
            elif out[k] != v:
                raise ValueError(f"runs disagree on {k!r}: {out[k]!r} vs {v!r}")
    return out


def _i21(name, value, keep, what):
    """Target 21's runs split by weight decay (`keep(λ, dry)`), so that each item fits a lease."""
    return Item(
        f"21-dual-wd-{name}",
        (21,),
        value,
        lambda dry: dual_wd_members(dry, lambda w: keep(w, dry)),
        per_run_21,
        f"the papers' dual-task model, {what} 1.5 × the paper's t",
        expected=lambda c: DUAL_T.get(c.weight_decay),
    )


def _plan() -> tuple:
    items = [
        Item(
            "18-tri-order",
            (18,),
            1.0,
            tri_order_members,
            per_run_18,
            "the papers' tri-task model, wd 1.0, 10 seeds, 40k cap",
        ),
        _i21("hi", 1.0, lambda w, dry: w >= 0.3, "λ ∈ {1, 0.5, 0.3} × 3 seeds, caps"),
        _i21("0.2", 0.5, lambda w, dry: w == 0.2 or (dry and w == 0.5), "λ = 0.2 × 3 seeds, cap"),
        _i21("0.1", 0.5, lambda w, dry: w == 0.1 or (dry and w == 0.3), "λ = 0.1 × 3 seeds, cap"),
        Item(
            "06-grok-ops",
            (6, 23),
            0.5,
            grok_op_members,
            per_run_5_6,
            "Chapter 1 at the paper profile: the 4 grokking ops × 3 seeds (snapshots every 100, inline defect)",
            expected=lambda c: 4_000,
            chapter=CH1,
        ),
    ]
    for op in ("x2_xy_y2", "x3_xy"):
        for s in SEEDS:
            items.append(
                Item(
                    f"05-06-{op}-{s}",
                    (5, 6),
                    0.5,
                    control_members(op, s),
                    per_run_5_6,
                    f"Chapter 1 at the paper profile: {op}, seed {s}, 200k steps (snapshots every 100, inline defect)",
                    chapter=CH1,
                )
            )
    for s in SEEDS:
        items.append(
            Item(
                f"05-add-wd0-{s}",
                (5,),
                0.1,
                lambda dry, s=s: [book.op_member(ch1(dry), "add", s, weight_decay=0.0)],
                per_run_5_6,
                f"Chapter 1 at the paper profile: add at weight decay 0, seed {s}, 50k steps",
                chapter=CH1 if s == ch1(False).base.seed else None,  # the chapter loads the one seed's control
            )
        )
    for op in book.GROKKING_OPS:
        items.append(
            Item(
                f"11-projection-{op}",
                (11,),
                0.25,
                projection_configs(op),
                per_run_11,
                f"{op} × 3 seeds × s ∈ {{0.25, 0.5, 0.75, 1}}, own and random basis, the paper's 15k cap "
                "(basis and baseline: Chapter 1's paper-profile runs)",
                expected=lambda c: 5_000,
                needs=lambda dry, op=op: [book.op_member(ch1(dry), op, s) for s in (SEEDS[:1] if dry else SEEDS)],
                build=lambda dry, needed, op=op: projection_members(op)(dry, needed),
            )
        )
    for wd in TRI_CAPS:  # one seed per item: a solo run is faster per member-step than a 3-run stack
        lead = wd in NUMBERS[22]["lead_fractions"]  # these runs also carry M6's inline defect (target 22)
        for s in SEEDS:
            name = f"19{'-22' if lead else ''}-tri-kstar-{wd:g}-{s}"
            scale = f"the papers' tri-task model, wd {wd:g}, seed {s}, cap {TRI_CAPS[wd]:,}, 100 θ checkpoints"
            scale += ", inline defect (M6)" if lead else ""
            targets = (19, 22) if lead else (19,)
            value = 0.2 + 0.15 * lead
            items.append(Item(name, targets, value, tri_kstar_members(wd, (s,)), per_run_19_22, scale))
    t0 = NUMBERS[18]["seeds_t98"]  # the paper's tri-task t98 per task, seeds 42, 137, 2024
    for i, s in enumerate(SEEDS):  # target 20 per seed, one run per item (a solo run is the fastest per step)
        t98 = max(v[i] for v in t0.values())
        for f in DELETION_DELAY + DELETION_FAIL:
            items.append(
                Item(
                    f"20-tri-deletion-{f:g}-{s}",
                    (20,),
                    0.05,
                    lambda dry, s=s, f=f: [(c, ()) for c, _ in deletion_members(s, f)(dry, None)],
                    per_run_20,
                    f"the papers' tri-task model, seed {s}, wd 1.0: orthogonal deletion at f = {f:g} of the top 20 "
                    f"θ-PCA directions from step 500, cap {NUMBERS[20]['cap']:,}",
                    expected=(lambda c, t=t98: min(c.max_steps, 2 * t)) if f in DELETION_DELAY else None,
                    needs=tri_baseline(s),
                    build=lambda dry, needed, s=s, f=f: deletion_members(s, f)(dry, needed),
                )
            )
    for scale in SCALES:  # target 24: one run per item (a solo run is the fastest per step)
        for s in SEEDS:
            items.append(
                Item(
                    f"24-scaling-{scale}-{s}",
                    (24,),
                    0.15,
                    scaling_members(scale, s),
                    per_run_24,
                    f"the tri-task model at {scale} parameters (grokkit.config.scale), wd 1.0, seed {s}, cap 50k, "
                    "θ every 1,000 steps: uncentred-PCA k* and per-matrix SVD rank for every task ≥ 0.95",
                    cost=step_cost,
                )
            )
    for reg, name in (("l2", "L2"), ("lrd", "LRD")):  # target 10: Chapter 5's grid on the paper's LRD model
        items.append(
            Item(
                f"10-lrd-phase-{reg}",
                (10,),
                0.5,
                lrd_phase_members(reg),
                per_run_10,
                f"Chapter 5's phase grid at the paper profile, {name}: the paper's model (p = 113), 6 fractions × "
                "6 strengths × 3 seeds, 2,500 steps",
            )
        )
    for wd in PHASE_WEIGHT_DECAYS:  # Chapter 1's papers'-model phase grid: a bundle for the book, no target
        for s in PAPER_GRID_SEEDS:
            items.append(
                Item(
                    f"01-phase-paper-{wd:g}-{s}",
                    (),
                    0.02,
                    phase_paper_members(wd, s),
                    per_run_none,
                    f"Chapter 1's phase grid on the papers' model (p = {PAPER_GRID.p}), weight decay {wd:g}, seed {s}: "
                    f"{len(PHASE_TRAIN_FRACS)} train fractions, {PAPER_GRID.max_steps:,}-step cap, fp32 "
                    "(metrics-only runs come back as a bundle)",
                    exact=True,
                    bundle="phase-paper",
                    chapter=CH1,
                )
            )
    slow_t98 = NUMBERS[25]["t98_seeds"]
    for s in SLOW_SEEDS:  # target 25: one run per seed, resumed across leases (exact: every lease trains one run)
        items.append(
            Item(
                f"25-slow-{s}",
                (25,),
                0.5,
                slow_members(s),
                per_run_25,
                f"the slow regime (3 layers, lr 5e-5, wd 0.1, β2 0.999, add), seed {s}, the paper's 800k cap, "
                "resumed across leases; the paper's attention snapshots (every 2k steps) folded into a 24-row sketch "
                "per matrix for the execution basis, θ every 80k steps for ρ",
                expected=lambda c, s=s: slow_t98[s] + 2 * c.eval_every,
                cost=step_cost,
                exact=True,
                resumable=True,
            )
        )
    for lr in LEAD_LRS:  # one item per rate; per operation at 1e-4; per operation and seed at 3e-5
        ops_blocks = [(op,) for op in book.GROKKING_OPS] if lr <= 1e-4 else [book.GROKKING_OPS]
        for ops in ops_blocks:
            for seeds in [(s,) for s in SEEDS] if lr < 1e-4 else [SEEDS]:
                name = (
                    f"23-lead-lr{lr:g}"
                    + (f"-{ops[0]}" if len(ops) == 1 else "")
                    + (f"-{seeds[0]}" if len(seeds) == 1 else "")
                )
                scale = f"Chapter 1's runs at lr {lr:g}: {', '.join(ops)} × seeds {list(seeds)}, inline defect"
                value = 0.04 * len(ops) * len(seeds)
                items.append(
                    Item(name, (23,), value, lead_members(lr, ops, seeds), per_run_23, scale, expected=expected_lr)
                )
    return tuple(items)


PLANS = {"paper-scorecard": _plan()}
