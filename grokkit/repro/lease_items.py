"""The runs of the GPU lease's items (grokkit.repro.lease_plan) and what each run measures: per target,
a `members` builder (the chapters' paper-profile configs, caps stated; a tiny `dry` version for the CPU),
a `per_run` function (run, dry, needed runs) -> {target id: that run's part of the target's measured
dict}, and FINISH[target], which completes the merged parts into the keys the target's checks read."""

from __future__ import annotations

import math
import re

import torch

from grokkit import book
from grokkit import config as presets
from grokkit import geometry as G
from grokkit.book.settings import PAPER_GRID, PHASE_TRAIN_FRACS
from grokkit.geometry.sketch import MatrixSketches
from grokkit.hooks.base import AttentionSketch, GradientProjection
from grokkit.hooks.trackers import DefectTracker
from grokkit.model import build_model, n_params
from grokkit.papers import NUMBERS

SEEDS = (42, 137, 2024)
TRI_SEEDS = (42, 137, 2024, 1, 2, 3, 4, 5, 6, 7)
DUAL_T = {1.0: 13_000, 0.5: 16_500, 0.3: 28_000, 0.2: 45_000, 0.1: 98_000}  # the paper's t_grok (target 21)
LEAD_LRS = (1e-2, 3e-3, 3e-4, 1e-4, 3e-5)  # target 23: the paper's six rates but 1e-3 (Chapter 1's runs)
TRI_CAPS = {1.0: 40_000, 0.5: 50_000, 0.3: 80_000, 0.2: 120_000, 0.1: 200_000}  # target 19: ≥ 1.5 × t_grok
_TINY = presets.FAST.replace(max_steps=60, eval_every=20, snapshot_every=20, checkpoint_every=20)


# --- 5 and 6: the controls to 200k steps (one run per item), and the grokking operations --------------------


def ch1(dry):
    return book.chapter1("smoke" if dry else "paper")


def per_run_5_6(run, dry, needed=()):
    settings, label = ch1(dry), G.run_label(run)
    grok_op = run.ops[0] in book.GROKKING_OPS
    part6 = {"pc1_layer0_by_run": G.pc1_layer0_by_run([run], book.GROKKING_OPS), "n_grok_runs": [int(grok_op)]}
    out = {"6": part6 | {"op_budget": settings.op_budget}}
    if grok_op and run.config.weight_decay != 0:
        out["23"] = {"lead_power_law_points": G.lead_points([run])}
    if not grok_op or run.config.weight_decay == 0:
        acc = max(max(a) for a in run.history["test_acc"])
        out["5"] = {"best_test_acc": {label: acc}, "budgets": {label: run.config.max_steps}}
    return out


def _f5(m, dry):
    return m | {"budget": min(m["budgets"].values())}


def _f6(m, dry):
    by = {g: m["pc1_layer0_by_run"].get(g, {}) for g in ("grokking", "nongrokking")}
    ranges = {f"pc1_layer0_range_{k}": v for k, v in G.pc1_ranges(by).items()}
    return {"pc1_layer0_by_run": by, **ranges, "op_budget": m["op_budget"], "n_grok_runs": sum(m["n_grok_runs"])}


def control_members(op, seed):
    def members(dry):
        return [book.op_member(ch1(dry), op, seed)]

    return members


def grok_op_members(dry):
    settings = ch1(dry)
    return [
        book.op_member(settings, op, s)
        for op in book.GROKKING_OPS
        if op in settings.ops
        for s in book.seeds_for(settings, op)
    ]


# --- 18 and 21: multi-task grok steps -----------------------------------------------------------------------


def tri_order_members(dry):
    if dry:
        return [(_TINY.replace(ops=("add", "mul", "x2_y2"), seed=s), ()) for s in TRI_SEEDS[:2]]
    light = dict(max_steps=40_000, snapshot_every=0, checkpoint_every=0)
    return [(presets.tri(seed=s, **light), ()) for s in TRI_SEEDS]


def per_run_18(run, dry, needed=()):
    return {
        "18": {"per_seed": {str(run.config.seed): dict(zip(run.ops, run.grok_step()))}, "caps": [run.config.max_steps]}
    }


def dual_wd_members(dry, keep=lambda w: True):
    if dry:
        return [(_TINY.replace(ops=("add", "mul"), weight_decay=w, seed=42), ()) for w in (1.0, 0.5, 0.3) if keep(w)]
    settings = book.chapter3("paper")  # cap 1.5 x the paper's t_grok; theta every 1/40 of the cap (the lead)
    cap = lambda w: int(1.5 * DUAL_T[w]) // 1000 * 1000
    return [
        (settings.dual.replace(weight_decay=w, seed=s, max_steps=cap(w), checkpoint_every=cap(w) // 4000 * 100), ())
        for w in settings.weight_decays
        if keep(w)
        for s in settings.wd_seeds
    ]


def per_run_21(run, dry, needed=()):
    K = 3 if dry else book.chapter3("paper").K
    return {"21": book.dual_wd_measures([run], [run.config.weight_decay], K)}


def _f21(m, dry):
    pts = [(float(w), t) for w, ts in m["dual_grok_steps"].items() for t in ts if t]
    fit = G.power_law_fit(*zip(*pts)) if len({w for w, _ in pts}) >= 2 else None
    return m | {"lambda_exponent": None if fit is None else fit.exponent}


# --- 19: tri-task k* per cell; 23: the lead power law ---------------------------------------------------------


def tri_kstar_members(wd, seeds):
    """Target 19's tri-task runs at `wd` (100 θ checkpoints); at target 22's weight decays also the inline
    defect of M6 (every 100 steps, K = 5), so one run serves both."""

    def members(dry):
        lead = wd in NUMBERS[22]["lead_fractions"]
        if dry:
            hooks = [DefectTracker(every=20, K=2)] if lead else []
            return [(_TINY.replace(ops=("add", "mul", "x2_y2"), weight_decay=wd, seed=s), hooks) for s in seeds[:1]]
        cap, hooks = TRI_CAPS[wd], [DefectTracker(every=100, K=5)] if lead else []
        return [
            (presets.tri(weight_decay=wd, seed=s, max_steps=cap, checkpoint_every=cap // 100), hooks) for s in seeds
        ]

    return members


def per_run_19_22(run, dry, needed=()):
    summary = G.compression_summary(run, ranks=(), ks=tuple(range(1, 21)), keeps=(), factors=(), energy_rank=0)
    cell = f"{run.config.weight_decay:g} seed {run.config.seed}"
    out = {"19": {"k_star_by_cell": {cell: summary["k_star"]["uncentred"]}}}
    if "defect" in run.records:
        info = {"wd": float(run.config.weight_decay), "seed": run.config.seed, "cap": run.config.max_steps}
        out["22"] = {"leads": [info | r for r in G.task_leads(run)]}
    return out


def lead_members(lr, ops, seeds):
    def members(dry):
        settings = ch1(dry)
        cap = min(
            settings.op_budget, max(20_000, 8 * expected_lr(settings.base.replace(lr=lr)))
        )  # a run that never groks
        return [
            book.op_member(settings, op, s, lr=lr, max_steps=cap)
            for op in ops
            if op in settings.ops
            for s in book.seeds_for(settings, op)
            if s in seeds or dry
        ][: 1 if dry else None]

    return members


def per_run_23(run, dry, needed=()):
    return {"23": {"lead_power_law_points": G.lead_points([run])}}


def expected_lr(c):
    return int(4_000 * 1e-3 / c.lr)  # Chapter 1's grokking runs at lr 1e-3 stop by ≈ 4k steps; t ∝ 1/lr


def projection_configs(op):
    def members(dry):
        return [(c, ()) for c, _ in projection_members(op)(dry, None)]

    return members


def projection_members(op):
    """Target 11's runs of `op`: Chapter 1's config of each seed, the paper's 15k cap, the gradient outside
    the seed's own execution basis (M3, from its Chapter 1 run: `needed`) or a random 16-dim basis scaled
    by 1 − s from Chapter 2's start, s ∈ the paper's four strengths."""

    def members(dry, needed):
        settings, start = ch1(dry), book.chapter2("smoke" if dry else "paper").start
        seeds = SEEDS[:1] if dry else SEEDS
        out = []
        for i, seed in enumerate(seeds):
            own = None if needed is None else G.run_execution_basis(needed[i]).float()
            rand = None if own is None else G.random_basis(own.shape[0], 16, seed=123).float()
            cap = settings.op_budget if dry else NUMBERS[11]["cap"]
            config = settings.base.replace(ops=(op,), seed=seed, max_steps=cap, steps_after_stop=0)
            for name, B in (("pca", own), ("random", rand)):
                for st in NUMBERS[11]["strengths"]:
                    hooks = [] if B is None else [GradientProjection(B, float(st), start=start, name=f"{name}16")]
                    out.append((config, hooks))
        return out

    return members


def per_run_11(run, dry, needed=()):
    basis, s = re.search(r"project\((\w+?)16,K=\d+,s=([\d.]+)", run.info["hooks"][0]).groups()
    base = next(r for r in needed if r.config.seed == run.config.seed)
    record = {"op": run.ops[0], "seed": run.config.seed, "basis": basis, "s": float(s)}
    record |= {"grok": run.grok_step()[0], "cap": run.config.max_steps, "baseline": base.grok_step()[0]}
    return {"11": {"projections": [record]}}


# --- 10: Chapter 5's phase grid on the paper's LRD model ---------------------------------------------------------


def ch5(dry):
    return book.chapter5("smoke" if dry else "paper")


def lrd_phase_members(reg):
    """Chapter 5's phase grid at the paper profile (the paper's model, p = 113: every fraction x strength x seed)
    for one regulariser (`reg`: "l2" or "lrd"), as the chapter trains it."""

    def members(dry):
        grid, cells = book.fair.phase_members(ch5(dry))
        return [m for m, cell in zip(grid, cells) if cell[0] == reg]

    return members


def per_run_10(run, dry, needed=()):
    reg, f, c, _ = book.fair.phase_cell(run, ch5(dry))
    scores = [book.fair.best_test_acc(run), book.fair.best_test_acc(run, True)]
    return {"10": {"phase": {f"{reg} f={f} c={c}": [scores]}}}


def _f10(m, dry):
    """The chapter's keys: its phase table (as it records it), each regulariser's boundary where all its cells
    came back (ordinary and leak-free), and the grid's model."""
    settings = ch5(dry)
    table = {}
    for key, vals in m["phase"].items():
        reg, f, c = key.split(" ")
        table[(reg, float(f[2:]), float(c[2:]))] = [tuple(v) for v in vals]
    boundary = {}
    for reg in book.fair.REGULARISERS:
        if all((reg, f, c) in table for f in settings.fractions for c in settings.strengths):
            for j, split in enumerate(("ordinary", "leak-free")):
                boundary[f"{reg} {split}"] = book.fair.fraction_boundary(settings, table, reg, j)
    return {"phase": m["phase"], "boundary": boundary, "phase_model": settings.grid_note}


# --- 20: the tri-task deletion cliff, per seed ----------------------------------------------------------------

DELETION_DELAY = tuple(f for f in NUMBERS[20]["fractions"] if 0 < f <= NUMBERS[20]["delays_to"])
DELETION_FAIL = tuple(f for f in NUMBERS[20]["fractions"] if f >= NUMBERS[20]["fails_from"])


def ch3(dry):
    return book.chapter3("smoke" if dry else "paper")


def tri_baseline(seed):
    """Target 20's f = 0 run of `seed`: Chapter 3's tri-task config at the paper profile (θ every 200 steps:
    the deletion basis is its uncentred θ-trajectory PCA)."""

    def needs(dry):
        return [(ch3(dry).tri.replace(seed=seed), ())]

    return needs


def deletion_members(seed, f):
    """Target 20's run of `seed` at fraction `f`: the baseline's config capped at the paper's 60k steps, the
    gradient outside its top-k directions (`needed`: the baseline) removed at fraction f from Chapter 3's
    start (book.deletion_members, as Chapter 3 trains its dual-task cliff)."""

    def members(dry, needed):
        settings = ch3(dry)
        cap = settings.tri.max_steps if dry else NUMBERS[20]["cap"]
        if needed is None:  # the config alone (estimates, plan keys): the hook needs the baseline's θ
            return [(settings.tri.replace(seed=seed, max_steps=cap), ())]
        return book.deletion_members(settings, needed[0], (f,), cap)

    return members


def per_run_20(run, dry, needed=()):
    """{seed: {"deletion": {f: every task's t98×3}, "caps": {f: cap}}} with f = 0 the seed's baseline."""
    base = next(r for r in needed if r.config.seed == run.config.seed)
    f = float(re.search(r"project\(uncentred\d+,K=\d+,s=([\d.e-]+),", run.info["hooks"][0]).group(1))
    part = {
        "deletion": {str(f): book.all_tasks_grok_step(run), "0.0": book.all_tasks_grok_step(base)},
        "caps": {str(f): run.config.max_steps, "0.0": base.config.max_steps},
    }
    return {"20": {"per_seed": {str(run.config.seed): part}}}


def _f20(m, dry):
    """Every seed's sweep, and the paper's seed (42) as the target's single-seed keys (its one-line summary)."""
    per = m["per_seed"]
    first = per.get(str(NUMBERS[20]["seed"])) or per[min(per)]
    return {"per_seed": per, "deletion": first["deletion"], "caps": first["caps"]}


# --- 24: the holographic findings at 1.15M and 2.2M parameters ----------------------------------------------------

SCALES = ("1.2M", "2.2M")  # presets.scale: d256/2L/ff512 (1,154,851) and d256/4L/ff512 (2,209,059, the paper's)
SCALE_CAP = 50_000  # ≈ 1.6 × the 315K tri-task model's slowest t98 (30.5k, seed 42): room for a slower, larger one
SCALE_EVERY = 1_000  # θ every 1,000 steps: ≥ 20 checkpoints before a grok at ≥ 20k (k ≤ 20 PCs)
SCALE_THRESHOLD = 0.95  # "3–5 PCs recover 95% of final accuracy": every task ≥ 0.95 (a grokked run's final ≈ 1.0)
RANK_FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 3 / 8, 1 / 2, 5 / 8, 3 / 4, 7 / 8, 1.0)  # of d_model: 5/8 = the paper's 80/128


def scaling_members(scale, seed):
    """Target 24's run: the tri-task model at `scale` (grokkit.config.scale), weight decay 1, the paper's
    recipe otherwise, capped at SCALE_CAP; θ every SCALE_EVERY steps, no attention snapshots."""

    def members(dry):
        if dry:
            width = {"1.2M": 32, "2.2M": 48}[scale]
            return [(_TINY.replace(ops=("add", "mul", "x2_y2"), seed=seed, d_model=width, d_ff=2 * width), ())]
        light = dict(max_steps=SCALE_CAP, snapshot_every=0, checkpoint_every=SCALE_EVERY)
        return [(presets.scale(scale).replace(seed=seed, weight_decay=1.0, **light), ())]

    return members


def step_cost(config) -> float:
    """A member-step's cost relative to the papers' single-task model (the estimator's rates): the ratio of
    parameter counts, an upper bound on a latency-bound GPU (unmeasured for the larger scales)."""
    return max(1.0, n_params(build_model(config)) / n_params(build_model(presets.SINGLE_TASK)))


def per_run_24(run, dry, needed=()):
    """Per run: its scale, parameters and t98 (every task); where it grokked, k* (the fewest uncentred
    trajectory PCs with every task ≥ SCALE_THRESHOLD, ≤ 20) and the per-matrix SVD rank needed for the same."""
    c = run.config
    rec = {
        "scale": f"d{c.d_model}/{c.n_layers}L/ff{c.d_ff}",
        "params": n_params(run.model()),
        "seed": c.seed,
        "weight_decay": c.weight_decay,
        "width": c.d_model,
        "t98": book.all_tasks_grok_step(run),
        "cap": c.max_steps,
    }
    if rec["t98"] is not None:
        checkpoints = len(run.trajectory("theta")[0])
        ranks = sorted({max(1, round(c.d_model * q)) for q in RANK_FRACTIONS})
        ks = range(1, max(1, min(20, checkpoints - 1)) + 1)
        s = G.compression_summary(run, ranks=ranks, ks=ks, keeps=(), factors=(), threshold=SCALE_THRESHOLD)
        rec |= {"k_star": s["k_star"]["uncentred"], "k_max": max(ks), "rank_needed": s["rank_needed"]}
        rec |= {"ranks": ranks, "final_acc": s["final_acc"], "checkpoints": checkpoints}
    return {"24": {"runs": [rec]}}


# --- 25: the slow regime (one run per seed, longer than a lease: resumed lease after lease) -----------------------

SLOW_SEEDS = tuple(NUMBERS[25]["t90_seeds"])  # the paper's two runs, seeds 42 and 137
SLOW_SNAPSHOT_EVERY = 2_000  # the paper's attention snapshots, folded into a sketch (none kept)
SLOW_SKETCH_ROWS = 24  # rows of each matrix's sketch (grokkit.geometry.sketch); its error is reported per run
SLOW_THETA_EVERY = 80_000  # θ checkpoints where ρ is measured (the paper states none)
RHO_SEED = 0  # the generator of ρ's one commutator sample per checkpoint (as the authors' one sample)


def slow_config(seed: int):
    """Target 25's run: the slow regime (presets.SLOW: 3 layers, lr 5e-5, wd 0.1, β2 0.999, add, the paper's 800k
    cap and 1,000-step evaluations), no attention snapshots kept (`slow_hooks` sketches them) and θ every
    SLOW_THETA_EVERY steps: the whole run's state travels between leases in its resume state (`resume_bytes`)."""
    return presets.SLOW.replace(seed=seed, snapshot_every=0, checkpoint_every=SLOW_THETA_EVERY)


def slow_hooks(every: int = SLOW_SNAPSHOT_EVERY, rows: int = SLOW_SKETCH_ROWS) -> tuple:
    """The paper's attention snapshots (every 2,000 steps), folded into a Frequent Directions sketch per matrix."""
    return (AttentionSketch(every, rows),)


def resume_bytes(config, rows: int = SLOW_SKETCH_ROWS) -> int:
    """The bytes of a slow run's resume state at its cap: weights and AdamW's two moments, every θ checkpoint and
    attention snapshot kept (step 0 included; float32), and the attention sketch (float32 rows and step-0
    matrix, float64 sum, per matrix)."""
    P = n_params(build_model(config))
    attn = config.n_layers * 4 * config.d_model**2  # W_Q, W_K, W_V, W_O of every layer
    count = lambda every: config.max_steps // every + 1 if every else 0
    kept = 4 * (3 * P + count(config.snapshot_every) * attn + count(config.checkpoint_every) * P)
    return kept + MatrixSketches.state_bytes(config.n_layers * 4, config.d_model**2, rows)


def slow_members(seed):
    def members(dry):
        if dry:
            tiny = _TINY.replace(n_layers=3, seed=seed, snapshot_every=20, checkpoint_every=20)
            return [(tiny, slow_hooks(20, 4))]  # 4 sketch rows: the dry run lets energy go, as a long run does
        return [(slow_config(seed), slow_hooks())]

    return members


def per_run_25(run, dry, needed=()):
    """Per run: t90 (first evaluation at ≥ 0.9), t98 (×3) and the cap; ρ = ‖δ_⊥‖/‖δ‖ of one commutator sample at
    each θ checkpoint against the run's own execution basis (M3: every attention snapshot, every 2,000 steps, up to
    the stop step, 2 PCs per matrix; from the run's sketch, whose error it states: the largest Davis–Kahan bound on
    the sine of a matrix's angle to the exact directions), its minimum by both formulas, and a random basis's ρ of
    the same dimension."""
    model = run.model()
    B, sketch = G.sketch_execution_basis(run)
    bound = max(v["sin_bound"] for v in sketch.values())
    gen = torch.Generator().manual_seed(RHO_SEED)
    rho = G.rho_by_checkpoint(run, B, generator=gen)
    rec = {
        "seed": run.config.seed,
        "t90": run.grok_step(0.9, 1)[0],
        "t98": run.grok_step()[0],
        "cap": run.config.max_steps,
        "final_step": run.info.get("final_step"),
        "rho_min": {f: min(v) for f, v in rho.items() if f != "steps"},
        "rho_checkpoints": rho["steps"],
        "K": int(B.shape[1]),
        "P": n_params(model),
        "random_rho": G.random_rho(int(B.shape[1]), n_params(model)),
        "snapshots": min(v["snapshots"] for v in sketch.values()),
        "sketch_sin_bound_max": bound if math.isfinite(bound) else None,  # None: the sketch's gap gives no bound
        "sketch_shrink_share_max": max(v["shrink"] / max(v["top"][-1], 1e-300) for v in sketch.values()),
    }
    return {"25": {"runs": [rec]}}


FINISH = {
    5: _f5,
    6: _f6,
    10: _f10,
    20: _f20,
    18: lambda m, dry: {"per_seed": m["per_seed"], "cap": max(m["caps"])},
    11: lambda m, dry: m | {"cap": NUMBERS[11]["cap"]},
    19: lambda m, dry: m | {"k_max": 20},
    21: _f21,
    22: lambda m, dry: m,
    24: lambda m, dry: m,
    23: lambda m, dry: m,
    25: lambda m, dry: m,
}


# --- Chapter 1's phase grid on the papers' model: runs for the book (a bundle), no target -----------------------
def phase_paper_members(wd: float, seed: int):
    """The cells of Chapter 1's papers'-model phase grid at weight decay `wd` and `seed` (PAPER_GRID, every train
    fraction); dry: one fraction of the smoke grid's model, 100 steps."""

    def members(dry):
        if dry:
            base = book.chapter1("smoke").grid_base.replace(max_steps=100)
            return [(base.replace(weight_decay=wd, train_frac=PHASE_TRAIN_FRACS[-1], seed=seed), ())]
        return [(PAPER_GRID.replace(weight_decay=wd, train_frac=f, seed=seed), ()) for f in PHASE_TRAIN_FRACS]

    return members


def per_run_none(run, dry, needed=()):
    """Nothing measured on the machine: the run itself comes back (metrics only, `Item.bundle`)."""
    return {}
