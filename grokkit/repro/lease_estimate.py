"""How long a lease item takes on the GPU machine: member-steps/s by stack size, and the step staircase.

Rates (member-steps/s of an N-member item, fp32, the papers' model) come from three measured sources,
later ones winning at the same N:
  * the H200 ensemble scan (results/gpu/h200-session1.json `ensemble_scan`, N = 16 … 1024);
  * the same session's solo run with CUDA graphs (`train_speed`, N = 1): 0.47 ms a step;
  * earlier leases' finished items, at their own size (their member-steps over their wall time; the
    slowest per N): a small stack is latency-bound, neither the scan's speed × N/16 nor the solo speed.
Between measured sizes the rate is interpolated log-log; `probe` rescales everything by this machine's
speed on a 16-member stack. An item's estimate walks its members' step counts as a staircase (the stack
shrinks as members stop) at the rate of each stretch's size, times the inline defect's overhead
(`hook_overhead`) and SAFETY.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from grokkit import config as presets
from grokkit.book.execute import results_dir
from grokkit.engines.ensemble import train_ensemble
from grokkit.hooks.trackers import DefectTracker
from grokkit.training.cache import run_key

SAFETY = 1.3
SCAN = "results/gpu/h200-session1.json"  # the ensemble throughput scan (member-steps/s by N, fp32)
CPU_RATE = {1: 40.0, 16: 200.0}  # dry runs without a scan entry: FAST-preset member-steps/s on 2 cores


def scan_rates(path: str | Path | None = None) -> dict:
    """{N: member-steps/s} of the stored fp32 ensemble scan, with the solo graphed run as N = 1 ({} where
    the scan is not at hand)."""
    try:
        full = Path(path) if path else results_dir().parent / SCAN
        stored = json.loads(full.read_text())
        scan = stored["ensemble_scan"]
    except (OSError, KeyError, ValueError, LookupError):
        return {}
    out = {int(k.split()[0][2:]): v["model_steps_per_s"] for k, v in scan.items() if k.endswith("fp32")}
    solo_ms = (stored.get("train_speed") or {}).get("grokkit_ms_per_step")
    return ({1: 1000.0 / solo_ms} if solo_ms else {}) | out


def lease_rates(items: dict) -> dict:
    """{N: member-steps/s} that earlier leases' finished items achieved (N = the runs they trained; their
    steps over the item's wall time; the slowest per N)."""
    out = {}
    for e in items.values():
        runs, wall = [r for r in e.get("runs") or [] if not r.get("earlier")], e.get("wall_time_s") or 0
        steps = [r.get("final_step") for r in runs]
        if e.get("status") not in ("done", "partial") or wall < 30 or not runs or None in steps:
            continue
        n, rate = len(runs), sum(steps) / wall
        out[n] = min(out.get(n, rate), rate)
    return out


def plan_rates(items: dict, path: str | Path | None = None) -> dict:
    """The scan's rates, with earlier leases' measured rates at the sizes they ran."""
    scan = scan_rates(path)
    return scan | lease_rates(items) if scan else {}


def rate_at(n: int, rates: dict, factor: float = 1.0) -> float:
    """Member-steps/s of an n-member item: log-log interpolation in `rates` (flat above its largest size;
    below its smallest, each member at the smallest size's per-member speed)."""
    pts = sorted(rates.items())
    if n <= pts[0][0]:
        r = pts[0][1] * n / pts[0][0]
    elif n >= pts[-1][0]:
        r = pts[-1][1]
    else:
        (n0, r0), (n1, r1) = next((a, b) for a, b in zip(pts, pts[1:]) if a[0] <= n <= b[0])
        r = math.exp(
            math.log(r0) + (math.log(r1) - math.log(r0)) * (math.log(n) - math.log(n0)) / (math.log(n1) - math.log(n0))
        )
    return r * factor


def steps_of(item, config) -> int:
    """The steps a member is expected to train: the item's `expected` (the paper's grok step, where it states
    one), never above the cap; the cap otherwise."""
    return min((item.expected and item.expected(config)) or config.max_steps, config.max_steps)


def hook_overhead(hooks) -> float:
    """Training steps' worth of extra work per step from a member's hooks: the inline defect (M6) costs
    4 gradient evaluations per sample (commutator_defect), K samples every `every` steps, each about one
    training step at the same batch: 1 + 4K/every (1.2 at the papers' K = 5 every 100)."""
    return 1.0 + sum(4 * h.K / h.every for h in hooks if isinstance(h, DefectTracker))


def estimate_s(item, members, rates: dict, factor: float = 1.0, started: dict | None = None) -> float:
    """Seconds the item's members need: the step staircase (a stack shrinks as members stop) x the
    costliest member's hook overhead x its step cost relative to the papers' model (`item.cost`) x SAFETY.
    started: {cache key: step} of runs that resume there (a resumable item's earlier leases)."""
    started = started or {}
    steps = sorted(max(0, steps_of(item, c) - (started.get(run_key(c, h)) or 0)) for c, h in members)
    overhead = max((hook_overhead(h) for _, h in members), default=1.0)
    overhead *= max((item.cost(c) for c, _ in members), default=1.0) if item.cost else 1.0
    total, done = 0.0, 0
    for i, s in enumerate(steps):
        n = len(steps) - i
        total += (s - done) * n / rate_at(n, rates, factor)
        done = s
    return SAFETY * overhead * total


def probe(device, dry: bool, rates: dict) -> float:
    """This machine's speed relative to `rates`: a 16-member ensemble of the papers' model (FAST when dry)."""
    base = (presets.FAST if dry else presets.SINGLE_TASK).replace(
        device=str(device), max_steps=4 if dry else 200, snapshot_every=0, checkpoint_every=0, stop_threshold=None
    )
    n = 2 if dry else 16
    # a first, untimed pass pays the one-off costs (CUDA context, kernels, graph capture) that the timed one must not
    train_ensemble([base.replace(seed=s, max_steps=2 if dry else 20) for s in range(n)], device=device, progress=False)
    t = time.perf_counter()
    train_ensemble([base.replace(seed=s) for s in range(n)], device=device, progress=False)
    measured = n * base.max_steps / (time.perf_counter() - t)
    return measured / rate_at(n, rates)
