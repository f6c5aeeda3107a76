"""Settle on a 2-core CPU every target one can: the cpu-full re-runs as one ordered plan with a time budget.

    python -m grokkit reproduce settle --budget-min 120     # the rows in order, until the budget is spent
    python -m grokkit reproduce settle --list               # the rows, their cost and what is stored

Each row trains its runs in one pool (`run_many`: both cores busy, the longest first, every run through the
run cache, so an interrupted row resumes from its cached and partial runs), then measures and stores its
targets at the cpu-full profile (`grokkit.repro.reproduce.run`, with provenance) before the next row starts.
A row is skipped when every one of its targets already stores a cpu-full entry that includes the row
(`row_id`: its targets and its description), so a second call continues where the first stopped. A row whose
estimate exceeds the time left stops the plan (the order is the order of what settles most per minute); a row
marked `gpu` is left to the GPU lease, with the reason.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from grokkit.engines.sweep import run_many
from grokkit.repro import cpu_full, cpu_full_mt, reproduce
from grokkit.repro.targets import get

MEMBERS = cpu_full.MEMBERS | cpu_full_mt.MEMBERS


@dataclass(frozen=True)
class Row:
    """One step of the plan: `targets` measured at cpu-full after their runs train; `minutes` the estimate on
    two cores (from the measured costs of issue 29); `gpu`: why the row is left to the GPU lease instead;
    `runs`: a part of the targets' runs (a long target split so that its first part lands first)."""

    targets: tuple
    minutes: float
    what: str
    gpu: str | None = None
    runs: Callable[[], list] | None = None  # the row's runs when not all of its targets' (a first part)


PLAN = (
    Row((13,), 2, "exec/random on Chapter 1's runs, seeds 137 and 2024 added (cached runs)"),
    Row(
        (15, 16),
        7,
        "two more dual-task seeds (137, 2024); k* at every task ≥ 0.90",
        runs=lambda: cpu_full_mt._m15()[:3],
    ),
    Row((12,), 12, "α = 100 added (all four kick sizes) × 3 seeds; a kicked run short at 4.5k re-run to 15k"),
    Row((9,), 15, "the LRD mechanism pair × 3 seeds, 4,000 steps, p = 113"),
    Row((14,), 40, "four more dual-task seeds beside the GPU session's three (7 runs: a bounded KM interval)"),
    Row((15, 16), 5, "k* and the compressions over the seven dual-task seeds (rows 2 and 5)"),
    Row((17,), 35, "deletion f ∈ {0.10, 0.15, 0.25} capped at 3.6 × the f = 0 grok step (the paper's ratio)"),
    Row((8,), 25, "the three controls (x2_xy_y2, x3_xy, add at wd 0) × 3 seeds × 7,500 steps, inline defect"),
    Row(
        (18,),
        0,
        "the tri-task order",
        gpu="settled by the GPU lease at paper scale (10 seeds, results/gpu/lease-paper-scorecard.json)",
    ),
    Row(
        (21,),
        0,
        "λ ∈ {1, 0.5, 0.3, 0.2, 0.1} × 3 seeds",
        gpu="run by the GPU lease at paper scale (15 runs); more seeds per λ are GPU work (≥ 6 runs per λ)",
    ),
    Row((20,), 40, "tri-task deletion, seed 42, f ∈ {0, 0.02, 0.07, 0.10, 0.25}, the paper's 60k cap"),
    Row(
        (11,),
        30,
        "projection, add × 3 seeds × s ∈ {0.25, 0.5, 0.75, 1}, own and random basis, the paper's 15k cap",
        runs=lambda: cpu_full._m11(("add",)),
    ),
    Row((11,), 70, "projection, the same for sub, mul and x2_y2"),
    Row(
        (23,), 50, "learning rates 1e-4 and 3e-4 added to the sweep (add × 3 seeds, 80k cap): grok times with leverage"
    ),
)


def members(ids) -> list:
    """The union of the runs the cpu-full targets `ids` train, longest budget first (the pool's order)."""
    seen, out = set(), []
    for i in ids:
        for c, h in MEMBERS.get(i, list)():
            key = (c.key(), tuple(x.key for x in h))
            if key not in seen:
                seen.add(key)
                out.append((c, h))
    return sorted(out, key=lambda m: -cpu_full._expected_steps(m[0]))


def row_id(row: Row) -> str:
    """The row's identity: a hash of its targets and its description (which names its seeds, sizes and caps), so
    a changed row counts as not stored. Cheap: it builds no run (listing the plan never trains)."""
    return hashlib.sha256(f"{row.targets}|{row.what}".encode()).hexdigest()[:12]


def _rows_of(tid: int, results=None) -> list:
    return (reproduce.load(get(str(tid)), results).get("cpu-full") or {}).get("settle", {}).get("rows", [])


def stored(row: Row, results=None) -> bool:
    """Every target of the row has a cpu-full entry that includes this row's runs."""
    return all(row_id(row) in _rows_of(t, results) for t in row.targets)


def listing(results=None) -> str:
    lines = [f"{'targets':10s} {'≈ min':>6s}  {'state':9s} what"]
    for r in PLAN:
        state = "gpu" if r.gpu else ("stored" if stored(r, results) else "to run")
        lines.append(f"{','.join(map(str, r.targets)):10s} {r.minutes:6.0f}  {state:9s} {r.gpu or r.what}")
    return "\n".join(lines)


def run_plan(budget_min: float, log=print, results=None, progress: bool = True) -> list:
    """Run the plan's rows in order within `budget_min` minutes; returns [(targets, status)]."""
    if budget_min <= 0:
        raise ValueError(f"--budget-min must be positive, got {budget_min}")
    t0, done = time.perf_counter(), []
    for row in PLAN:
        name = ",".join(map(str, row.targets))
        if row.gpu:
            log(f"settle {name}: left to the GPU lease ({row.gpu})")
            done.append((row.targets, "gpu"))
            continue
        if stored(row, results):
            log(f"settle {name}: stored, skipped")
            done.append((row.targets, "stored"))
            continue
        left = budget_min - (time.perf_counter() - t0) / 60
        if row.minutes > left:
            log(f"settle {name}: needs ~{row.minutes:.0f} min, {left:.0f} min left: stopping (run again to go on)")
            done.append((row.targets, "budget"))
            break
        log(f"settle {name}: {row.what} (~{row.minutes:.0f} min)")
        t = time.perf_counter()
        pool = row.runs() if row.runs else members(row.targets)
        _, engine, timing = run_many(pool, progress=progress) if pool else (None, "none", {})
        pool_s = time.perf_counter() - t
        for tid in row.targets:
            e = reproduce.run(
                get(str(tid)),
                "cpu-full",
                results,
                extra={
                    "settle": {
                        "rows": sorted(set(_rows_of(tid, results)) | {row_id(row)}),
                        "runs": len(pool),
                        "trained": timing.get("trained", 0),
                        "pool_s": round(pool_s, 1),  # training; the entry's wall_time_s is its measurement
                    }
                },
            )
            log(f"settle {name}: {e['target']} → {e['verdict']}")
        done.append((row.targets, "done"))
    return done
