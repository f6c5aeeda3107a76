"""The paper-scale scorecard in one GPU lease: a plan of measurements, cheapest information first.

    python benchmarks/gpu_session.py --plan paper-scorecard --budget-s 540 --out $OUT [--dry-run]

An item is one reproduction target's paper-scale runs (configs and hooks as the chapters build them at
the paper profile, caps stated) and the function that turns the finished runs into that target's
`measured` dict, the keys its checks read. The choices that decide what a lease does:
  * order: estimated seconds per unit of `value` (the information an item settles), smallest first;
  * estimate: the members' step caps walked as a staircase (the stack shrinks as members stop), each
    stretch at the ensemble throughput for its size, interpolated (log-log) in the H200 scan of
    results/gpu/h200-session1.json (below its 16 members: earlier leases' measured speeds, `plan_rates`),
    rescaled by a 16-member probe on this machine, times SAFETY;
    `expected` step counts (the paper's, where it states them; never above the cap) replace the caps;
  * an item whose estimate exceeds the time left is skipped with its estimate (a later lease runs it);
  * after every item OUT/lease.json is rewritten atomically, so a killed lease keeps what finished;
    items already done there or in results/gpu/lease-<plan>.json (earlier leases, `merge`) are skipped;
  * the geometry is measured on the machine with grokkit's own functions and only numbers come back
    (one JSON file): 100 fp16 parameter checkpoints of ONE tri-task run are 63 MB, four times the
    device tool's 16 MiB per-file limit.
`paper_measure(target, fallback)` is what `reproduce --profile paper` calls: the lease's entry, with
its provenance, where one is stored; `fallback(profile)` otherwise.

Not in the plan yet: 10 (LRD 6 × 6 × 2 grid), 11 and 20 (need a basis from a first run), 19, 22, 24 (1.15M /
2.2M models), 25 (600k steps): each needs its measure factored out of its chapter first.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path

import torch

from grokkit import config as presets
from grokkit.book.execute import results_dir
from grokkit.ensemble import train_ensemble
from grokkit.provenance import stamp
from grokkit.repro.lease_plan import PLANS, Item
from grokkit.sweep import run_many

SAFETY = 1.3
SCAN = "results/gpu/h200-session1.json"  # the ensemble throughput scan (member-steps/s by N, fp32)
_CPU_RATE = {1: 40.0, 16: 200.0}  # dry runs without a scan entry: FAST-preset member-steps/s on 2 cores


# --- estimates ---------------------------------------------------------------------------------------


def scan_rates(path: str | Path | None = None) -> dict:
    """{N: member-steps/s} of the stored fp32 ensemble scan ({} where it is not at hand)."""
    try:
        full = Path(path) if path else results_dir().parent / SCAN
        scan = json.loads(full.read_text())["ensemble_scan"]
    except (OSError, KeyError, ValueError, LookupError):
        return {}
    return {int(k.split()[0][2:]): v["model_steps_per_s"] for k, v in scan.items() if k.endswith("fp32")}


def lease_rates(items: dict) -> dict:
    """{N: member-steps/s} that earlier leases' finished items achieved (N = the item's runs; their steps over
    its wall time; the slowest per N): a latency-bound small stack beats the scan's 16-member speed × N/16."""
    out = {}
    for e in items.values():
        runs, wall = e.get("runs") or [], e.get("wall_time_s") or 0
        steps = [r.get("final_step") for r in runs]
        if e.get("status") != "done" or wall < 30 or not runs or None in steps:
            continue
        n, rate = len(runs), sum(steps) / wall
        out[n] = min(out.get(n, rate), rate)
    return out


def plan_rates(items: dict, path: str | Path | None = None) -> dict:
    """The scan's rates, with earlier leases' measured rates below the scan's smallest stack."""
    scan = scan_rates(path)
    if not scan:
        return {}
    low = min(scan)
    return {n: r for n, r in lease_rates(items).items() if n < low} | scan


def rate_at(n: int, rates: dict, factor: float = 1.0) -> float:
    """Member-steps/s of an n-member ensemble: log-log interpolation in `rates` (flat beyond its ends)."""
    pts = sorted(rates.items())
    if n <= pts[0][0]:
        r = pts[0][1] * n / pts[0][0]  # below the scan: each member at the smallest size's speed
    elif n >= pts[-1][0]:
        r = pts[-1][1]
    else:
        (n0, r0), (n1, r1) = next((a, b) for a, b in zip(pts, pts[1:]) if a[0] <= n <= b[0])
        r = math.exp(
            math.log(r0) + (math.log(r1) - math.log(r0)) * (math.log(n) - math.log(n0)) / (math.log(n1) - math.log(n0))
        )
    return r * factor


def estimate_s(item: Item, members, rates: dict, factor: float = 1.0) -> float:
    """Seconds the item's members need: the step staircase (a stack shrinks as members stop) x SAFETY."""
    steps = sorted(min((item.expected and item.expected(c)) or c.max_steps, c.max_steps) for c, _ in members)
    total, done = 0.0, 0
    for i, s in enumerate(steps):
        n = len(steps) - i
        total += (s - done) * n / rate_at(n, rates, factor)
        done = s
    return SAFETY * total


def probe(device, dry: bool, rates: dict) -> float:
    """This machine's speed relative to `rates`: a 16-member ensemble of the papers' model (FAST when dry)."""
    base = (presets.FAST if dry else presets.SINGLE_TASK).replace(
        device=str(device), max_steps=20 if dry else 200, snapshot_every=0, checkpoint_every=0, stop_threshold=None
    )
    n = 2 if dry else 16
    # a first, untimed pass pays the one-off costs (CUDA context, kernels, graph capture) that the timed one must not
    train_ensemble([base.replace(seed=s, max_steps=20) for s in range(n)], device=device, progress=False)
    t = time.perf_counter()
    train_ensemble([base.replace(seed=s) for s in range(n)], device=device, progress=False)
    measured = n * base.max_steps / (time.perf_counter() - t)
    return measured / rate_at(n, rates)


# --- the lease ---------------------------------------------------------------------------------------


def store_path(plan: str) -> Path:
    """results/gpu/lease-<plan>.json of the checkout: what earlier leases finished (`merge`)."""
    return results_dir() / "gpu" / f"lease-{plan}.json"


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _write(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1, default=str)
    os.replace(tmp, path)


def environment(device) -> dict:
    d = torch.device(device)
    gpu = torch.cuda.get_device_name(d) if d.type == "cuda" else None
    return stamp() | {"cuda": torch.version.cuda, "gpu": gpu, "torch_device": str(d)}


def _summary(run) -> dict:
    return {
        "key": run.info.get("key"),
        "config": run.config.to_dict(),
        "grok_step_98x3": run.grok_step(),
        "t90": run.grok_step(0.9, 1),
        "final_step": run.info.get("final_step"),
        "final_test_acc": run.final("test_acc"),
    }


def run_plan(
    out,
    plan: str = "paper-scorecard",
    budget_s: float = 540.0,
    dry_run: bool = False,
    device=None,
    log=print,
    root=None,
):
    """Run `plan`'s items that fit in `budget_s` (see the module docstring); returns OUT/lease.json's dict.
    root: the run cache to train into (default: a scratch directory, deleted after each item)."""
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; plans: {sorted(PLANS)}")
    t0 = time.perf_counter()
    out = Path(out)
    path = out / "lease.json"
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    state = _read(path) or {"plan": plan, "dry_run": dry_run, "items": {}}
    state["environment"] = environment(device)
    earlier = _read(store_path(plan)).get("items", {}) if not dry_run else {}
    rates = (plan_rates(_read(store_path(plan)).get("items", {})) if not dry_run else scan_rates()) or _CPU_RATE
    factor = probe(device, dry_run, rates)
    state["probe_factor"] = round(factor, 4)
    members_of = {it.key: it.members(dry_run) for it in PLANS[plan]}
    order = sorted(PLANS[plan], key=lambda it: estimate_s(it, members_of[it.key], rates, factor) / it.value)
    for item in order:
        if (
            state["items"].get(item.key, {}).get("status") == "done"
            or earlier.get(item.key, {}).get("status") == "done"
        ):
            log(f"{item.key}: done in an earlier lease, skipped")
            continue
        members = members_of[item.key]
        est = estimate_s(item, members, rates, factor)
        left = budget_s - (time.perf_counter() - t0)
        entry = {"target": item.target, "scale": item.scale, "estimate_s": round(est, 1), "members": len(members)}
        if est > left:
            state["items"][item.key] = entry | {"status": "skipped", "reason": f"needs ~{est:.0f} s, {left:.0f} s left"}
            log(f"{item.key}: skipped (needs ~{est:.0f} s, {left:.0f} s left)")
            _write(path, state)
            continue
        log(f"{item.key}: {len(members)} runs, ~{est:.0f} s")
        t = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="grokkit-lease-") as scratch:
                engine = "ensemble" if torch.device(device).type == "cuda" else "auto"
                members = [(c.replace(device=str(device)), h) for c, h in members]
                runs, engine, _ = run_many(members, root=root or scratch, progress=False, engine=engine)
                measured = item.measure(runs, dry_run)
            entry |= {"status": "done", "engine": engine, "measured": measured, "runs": [_summary(r) for r in runs]}
        except Exception as e:  # one item's failure never costs the others
            entry |= {"status": "error", "error": f"{type(e).__name__}: {e}"}
        entry["wall_time_s"] = round(time.perf_counter() - t, 1)
        state["items"][item.key] = entry
        _write(path, state)
        log(f"{item.key}: {entry['status']} in {entry['wall_time_s']} s")
    state["total_s"] = round(time.perf_counter() - t0, 1)
    _write(path, state)
    return state


def merge(lease_json, plan: str | None = None) -> Path:
    """Fold a lease's OUT/lease.json into results/gpu/lease-<plan>.json (done items replace older ones)."""
    new = json.loads(Path(lease_json).read_text())
    if new.get("dry_run"):
        raise ValueError(f"{lease_json} is a dry run: nothing to store")
    plan = plan or new["plan"]
    path = store_path(plan)
    store = _read(path) or {"plan": plan, "items": {}}
    for key, entry in new["items"].items():
        if entry.get("status") == "done" or store["items"].get(key, {}).get("status") != "done":
            store["items"][key] = entry | {"environment": new["environment"]}
    _write(path, store)
    return path


def lease_entries(target: int, plan: str = "paper-scorecard") -> list[dict]:
    """The stored lease items that measured `target` (finished ones), in the plan's order."""
    try:
        items = _read(store_path(plan)).get("items", {})
    except (LookupError, OSError):
        return []
    return [e for e in items.values() if e.get("target") == target and e.get("status") == "done"]


def lease_entry(target: int, plan: str = "paper-scorecard") -> dict | None:
    """The first stored lease item that measured `target`, or None."""
    found = lease_entries(target, plan)
    return found[0] if found else None


def _dual_wd(entries) -> dict:
    """Target 21's measured dict from its items (split by weight decay): the paper's grok step (min over
    tasks of t98×3) and cap of every run, and its lead against that step. Items stored before the rule
    took the min recorded leads against the max over tasks: the onset is the same, so their lead against
    the min is the stored lead minus (max − min)."""
    t, caps, leads = {}, {}, {}
    for e in entries:
        by_lam = {}
        for r in e["runs"]:
            by_lam.setdefault(str(r["config"]["weight_decay"]), []).append(r)
        for lam, runs in by_lam.items():
            stored = (e["measured"].get("dual_leads") or {}).get(lam) or [None] * len(runs)
            for r, lead in zip(runs, stored):
                steps = [x for x in r["grok_step_98x3"] if x is not None]
                first = min(steps) if steps else None
                if lead is not None and "grok_rule" not in e["measured"] and len(steps) == len(r["grok_step_98x3"]):
                    lead -= max(steps) - first
                t.setdefault(lam, []).append(first)
                caps.setdefault(lam, []).append(r["config"]["max_steps"])
                leads.setdefault(lam, []).append(lead)
    return {"dual_grok_steps": t, "dual_caps": caps, "dual_leads": leads, "grok_rule": "min over tasks of t98x3"}


def paper_measure(target: int, fallback):
    """A target's measure: at the paper profile the stored lease entries where there are any (several
    items of one target are combined), `fallback(profile)` otherwise."""

    def measure(profile):
        found = lease_entries(target) if profile == "paper" else []
        if not found:
            return fallback(profile)
        e = found[0]
        env = e["environment"]
        runs = [r for x in found for r in x["runs"]]
        measured = _dual_wd(found) if target == 21 else dict(e["measured"])
        caps = {r["config"]["max_steps"] for r in runs}
        if len(caps) == 1:
            measured.setdefault("cap", caps.pop())
        return {
            "measured": measured,
            "scale": f"paper, one {env.get('gpu') or env.get('device')}: " + "; ".join(x["scale"] for x in found),
            "configs": [r["key"] for r in runs],
            "wall_time_s": round(sum(x["wall_time_s"] for x in found), 1),
            "lease": {k: env.get(k) for k in ("gpu", "torch", "cuda", "git_commit", "grokkit_version", "created")},
        }

    return measure
