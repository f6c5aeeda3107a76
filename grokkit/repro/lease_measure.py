"""What the stored leases measured, as the scorecard reads it: results/gpu/lease-<plan>.json's items of a
target merged into that target's `measured` dict (`paper_measure`), with the lease's provenance."""

from __future__ import annotations

import json
from pathlib import Path

from grokkit.book.execute import results_dir
from grokkit.repro.lease_items import FINISH
from grokkit.repro.lease_plan import merge_parts


def store_path(plan: str) -> Path:
    """results/gpu/lease-<plan>.json of the checkout: what earlier leases finished (`lease.merge`)."""
    return results_dir() / "gpu" / f"lease-{plan}.json"


def resume_store() -> Path:
    """results/gpu/resume/: resume states of items a lease cut short, brought back by `lease.merge`
    (git-ignored; `make lease` carries them to the machine)."""
    return results_dir() / "gpu" / "resume"


def chapter_rows(items: dict, plan_items) -> dict:
    """{chapter: row} for the chapters whose paper-profile runs the plan's items train (`Item.chapter`), where
    every such item is done in the stored `items`: the items' wall time on the GPU machine, summed over the leases
    that trained them ("wall_time_all_s"), with the machine and what the time covers (its runs' training, in the
    lease's mode; the chapter's measurements not included: a lower bound of executing it there)."""
    by: dict = {}
    for it in plan_items:
        if it.chapter:
            by.setdefault(it.chapter, []).append(it.key)
    rows = {}
    for chapter, keys in sorted(by.items()):
        entries = [items.get(k) or {} for k in keys]
        if not all(e.get("status") == "done" for e in entries):
            continue
        gpus = sorted({(e.get("environment") or {}).get("gpu") or "GPU" for e in entries})
        modes = sorted({json.dumps(e.get("mode") or {}, sort_keys=True) for e in entries})
        wall = sum(e.get("wall_time_all_s", e.get("wall_time_s")) or 0 for e in entries)
        rows[chapter] = {
            "wall_time_s": round(wall, 1),
            "machine": f"{' and '.join(gpus)} (the GPU lease)",
            "lower_bound": True,
            "basis": f"the training of its paper-profile runs by {len(keys)} GPU lease items (mode "
            f"{' / '.join(modes)}); its measurements are not included",
            "items": keys,
        }
    return rows


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def lease_entries(target: int, plan: str = "paper-scorecard") -> list[dict]:
    """The stored lease items that measured `target` (finished, or partial with finished members)."""
    try:
        items = _read(store_path(plan)).get("items", {})
    except (LookupError, OSError):
        return []
    return [
        e
        for e in items.values()
        if target in (e.get("targets") or [e.get("target")])
        and e.get("status") in ("done", "partial")
        and e.get("runs")
    ]


def lease_entry(target: int, plan: str = "paper-scorecard") -> dict | None:
    """The first stored lease item that measured `target`, or None."""
    found = lease_entries(target, plan)
    return found[0] if found else None


def _dual_wd(entries) -> dict:
    """Target 21's measured dict from items stored before members carried their own measurements (split by
    weight decay): the paper's grok step (min over tasks of t98×3) and cap of every run, and its lead
    against that step. Items stored before the rule took the min recorded leads against the max over
    tasks: the onset is the same, so their lead against the min is the stored lead minus (max − min)."""
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


def _legacy(target: int, found: list) -> dict:
    """Entries stored before per-member measurements: target 21 rebuilt from its runs, others as stored."""
    if target == 21:
        return _dual_wd(found)
    e = found[0]
    return dict(e["measured"].get(str(target), e["measured"]) if "targets" in e else e["measured"])


def finish(target: int, runs, dry: bool = False) -> dict:
    """The target's measured dict from its members' per-run parts (lease_plan.merge_parts + FINISH); {} if none."""
    parts = [r["measured"][str(target)] for r in runs if str(target) in (r.get("measured") or {})]
    return FINISH[target](merge_parts(parts), dry) if parts else {}


def measured_from(target: int, found: list) -> dict:
    """The target's measured dict from stored entries: every member's part merged (each member once, by its
    plan key) and completed (lease_plan.FINISH); entries without per-member parts as they were stored."""
    runs = {}
    for e in found:
        for r in e["runs"]:
            runs.setdefault(r.get("plan_key") or r.get("key"), r)
    if any("measured" not in r for r in runs.values()):
        return _legacy(target, found)
    return finish(target, runs.values()) or _legacy(target, found)


def paper_measure(target: int, fallback):
    """A target's measure: at the paper profile the stored lease entries where there are any (every item of
    the target combined), `fallback(profile)` otherwise."""

    def measure(profile):
        found = lease_entries(target) if profile == "paper" else []
        if not found:
            return fallback(profile)
        env = found[0]["environment"]
        runs = [r for x in found for r in x["runs"]]
        measured = measured_from(target, found)
        caps = {r["config"]["max_steps"] for r in runs}
        if len(caps) == 1:
            measured.setdefault("cap", caps.pop())
        partial = [x for x in found if x.get("status") != "done"]
        scale = "; ".join(x["scale"] for x in found) + (f" ({len(partial)} item(s) partly run)" if partial else "")
        return {
            "measured": measured,
            "scale": f"paper, one {env.get('gpu') or env.get('device')}: " + scale,
            "configs": [r["key"] for r in runs],
            "wall_time_s": round(sum(x.get("wall_time_s") or 0 for x in found), 1),
            "lease": {k: env.get(k) for k in ("gpu", "torch", "cuda", "git_commit", "grokkit_version", "created")},
        }

    return measure
