"""The paper-scale scorecard in one GPU lease: a plan of items, cheapest information first.

    make lease                     # on the GPU machine: benchmarks/gpu_session.py --plan paper-scorecard
    make lease-merge LEASE=DIR     # back here: fold DIR/lease.json (and resume states) into results/gpu/

Items (grokkit.repro.lease_plan) are blocks of a target's paper-scale runs, each measured on the machine
run by run (`Item.per_run`), so only numbers come back (one JSON file). What decides what a lease does:
  * order: estimated seconds (grokkit.repro.lease_estimate) per unit of `value`, smallest first; an item
    whose estimate exceeds the time left is skipped with its estimate;
  * one run cache for the whole lease (a scratch directory unless `root`), so items share runs;
  * members, not items, are the unit kept: a member that finished is stored in OUT/lease.json with its
    measurements (rewritten atomically after every item), and an item cut by the budget (`deadline`) is
    stored as "partial"; the next lease (or a re-run of this one) trains only the members not yet
    finished there or in results/gpu/lease-<plan>.json; the resume state of runs the budget stopped mid-way (a
    stacked chunk's, or a solo run's) comes back as OUT/resume-<item>.tar[.NN] (grokkit.repro.lease_resume:
    pieces of at most 15 MiB, within what the device tool brings back) and resumes in the next lease;
  * a `resumable` item (a run longer than any lease, e.g. target 25's 600k steps) starts whenever MIN_PART_S
    are left, however long its estimate, and goes on lease after lease from its resume state; its estimate
    counts only the steps still to train;
  * `mode`: config overrides every member trains with (the fastest ensemble step that agreed with fp32
    eager, benchmarks/ensemble_step.py); members are matched across leases by their plan key (before the
    overrides). An `exact` item takes only the runtime overrides (grokkit.config.RUNTIME_FIELDS: its runs
    keep the keys the book loads them by);
  * an item with a `bundle` name brings its runs back, metrics only (no weights, no series: their curves
    and configs), as OUT/<bundle>-<sha256>.tar parts of at most BUNDLE_PART_BYTES (the runs this lease
    trained; `merge` checks each against lease.json and keeps it in results/bundles/).
`paper_measure(target, fallback)` is what `reproduce --profile paper` calls: the lease's members of that
target merged and completed (lease_plan.FINISH), with provenance, where any are stored; `fallback(profile)`
otherwise.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import torch

from grokkit.book.times import GPU_ROWS
from grokkit.config import RUNTIME_FIELDS
from grokkit.engines.sweep import run_many
from grokkit.repro import lease_resume
from grokkit.repro.lease_estimate import CPU_RATE, estimate_s, plan_rates, probe, scan_rates
from grokkit.repro.lease_measure import (
    _read,
    chapter_rows,
    finish,
    lease_entries,
    paper_measure,
    resume_store,
    store_path,
)
from grokkit.repro.lease_plan import PLANS, Item
from grokkit.store.bundle import export_bundle
from grokkit.store.provenance import stamp
from grokkit.store.runs import Run, sha256_file
from grokkit.training.cache import run_key
from grokkit.training.resume import replace_atomically

__all__ = ["Item", "PLANS", "run_plan", "merge", "lease_entries", "paper_measure", "store_path"]
BUNDLE_PART_BYTES = 15 * 2**20  # a metrics-only bundle part (Item.bundle), under the tool's 16 MiB per file
MIN_PART_S = 60.0  # a resumable item (Item.resumable) starts when at least this much of the budget is left


def _write(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=1, default=str)))


def environment(device) -> dict:
    d = torch.device(device)
    gpu = torch.cuda.get_device_name(d) if d.type == "cuda" else None
    return stamp() | {"cuda": torch.version.cuda, "gpu": gpu, "torch_device": str(d)}


def _summary(run, plan_key: str, item: Item, dry: bool, needed=()) -> dict:
    return {
        "plan_key": plan_key,
        "key": run.info.get("key"),
        "config": run.config.to_dict(),
        "grok_step_98x3": run.grok_step(),
        "t90": run.grok_step(0.9, 1),
        "final_step": run.info.get("final_step"),
        "final_test_acc": run.final("test_acc"),
        "measured": {str(t): v for t, v in item.per_run(run, dry, needed).items()},
    }


def finished_members(entry: dict) -> dict:
    """{plan key: run summary} of an item entry's finished members (old entries: their run keys)."""
    return {r.get("plan_key") or r.get("key"): r for r in entry.get("runs") or []}


def _engine(n: int, device, dry: bool) -> str:
    """One run: a solo run (CUDA graphs); several: the ensemble engine (a dry run on a CPU: one after another)."""
    return "sequential" if n == 1 or (torch.device(device).type != "cuda" and dry) else "ensemble"


def _train(item, todo, root, device, deadline, dry, on_run=None):
    """Train the members still to do; returns ([(plan key, Run)] finished, engine). on_run(plan key, run):
    as each finishes."""
    members = [m for _, m in todo]
    engine = _engine(len(members), device, dry)
    hook = None if on_run is None else (lambda j, run: on_run(todo[j][0], run))
    runs, engine, _ = run_many(members, root=root, progress=False, engine=engine, deadline=deadline, on_run=hook)
    return [(k, r) for (k, _), r in zip(todo, runs) if r is not None], engine


def run_plan(out, plan="paper-scorecard", budget_s=540.0, dry_run=False, device=None, log=print, root=None, mode=None):
    """Run `plan`'s items that fit in `budget_s` (see the module docstring); returns OUT/lease.json's dict.
    root: the run cache (default: a scratch directory for the lease); mode: config overrides (a dict)."""
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; plans: {sorted(PLANS)}")
    t0 = time.perf_counter()
    out, mode = Path(out), dict(mode or {})
    path = out / "lease.json"
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    state = _read(path) or {"plan": plan, "dry_run": dry_run, "items": {}}
    state["environment"], state["mode"] = environment(device), mode
    stored = _read(store_path(plan)).get("items", {}) if not dry_run else {}
    rates = (plan_rates(stored) if not dry_run else scan_rates()) or CPU_RATE
    factor = probe(device, dry_run, rates)
    state["probe_factor"] = round(factor, 4)
    members_of = {it.key: it.members(dry_run) for it in PLANS[plan]}
    started = lambda it: (lease_resume.describe(_resume_info(it.key, state, stored)) or {}).get("steps")
    cost = lambda it: estimate_s(it, members_of[it.key], rates, factor, started(it)) / it.value
    order = sorted(PLANS[plan], key=cost)
    scratch = None if root else tempfile.mkdtemp(prefix="grokkit-lease-")
    try:
        for item in order:
            _run_item(
                item,
                members_of[item.key],
                state,
                stored,
                rates,
                factor,
                budget_s,
                t0,
                out,
                root or scratch,
                device,
                mode,
                dry_run,
                log,
            )
            _write(path, state)
        made, left_out = export_bundles(PLANS[plan], state, Path(root or scratch), out, log)
        _unkeep(PLANS[plan], state, left_out)
        state["bundles"] = [b for b in state.get("bundles") or [] if b["file"] not in {m["file"] for m in made}] + made
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    state["total_s"] = round(time.perf_counter() - t0, 1)
    _write(path, state)
    return state


def _run_item(item, members, state, stored, rates, factor, budget_s, t0, out, root, device, mode, dry, log):
    """One item: skip it (done, or no time), or train the members not finished yet and store them."""
    mine, earlier = state["items"].get(item.key, {}), stored.get(item.key, {})
    if mine.get("status") == "done" or earlier.get("status") == "done":
        log(f"{item.key}: done in an earlier lease, skipped")
        return
    done = {k: r | {"earlier": True} for k, r in finished_members(earlier).items()} | finished_members(mine)
    over = {k: v for k, v in mode.items() if k in RUNTIME_FIELDS} if item.exact else mode
    on_device = lambda ms: [(c.replace(device=str(device), **over), h) for c, h in ms]
    entry = {"target": item.target, "targets": list(item.targets), "scale": item.scale, "mode": over}

    def skipped(est) -> bool:  # record the item as skipped when `est` seconds (a resumable item: a part) do not fit
        left = budget_s - (time.perf_counter() - t0)
        if (min(est, MIN_PART_S) if item.resumable else est) <= left:
            return False
        reason = f"needs ~{est:.0f} s, {left:.0f} s left"
        state["items"][item.key] = mine | entry | {"status": "skipped", "estimate_s": round(est, 1), "reason": reason}
        log(f"{item.key}: skipped ({reason})")
        return True

    needed = ()
    if item.needs and len(done) < len(members):  # train (or find) the runs its members are built from
        if skipped(estimate_s(item, members, rates, factor)):
            return
        try:
            engine = _engine(len(members), device, dry)
            needed, _, _ = run_many(on_device(item.needs(dry)), root=root, progress=False, engine=engine)
            members = item.build(dry, needed)  # the members' hooks need those runs (a basis)
        except Exception as e:
            state["items"][item.key] = mine | entry | {"status": "error", "error": f"{type(e).__name__}: {e}"}
            log(f"{item.key}: error {e}")
            return
    keyed = list(zip([run_key(c, h) for c, h in members], on_device(members)))
    todo = [(k, m) for k, m in keyed if k not in done]
    resume = lease_resume.describe(_resume_info(item.key, state, stored))
    started = (resume or {}).get("steps") or {}  # a solo run's step in the resume state: what is left to train
    est = estimate_s(item, [m for _, m in todo], rates, factor, started)
    entry |= {"estimate_s": round(est, 1), "members": len(members)}
    if todo and skipped(est):
        return
    log(f"{item.key}: {len(todo)} of {len(members)} runs to train, ~{est:.0f} s")
    t = time.perf_counter()
    try:
        lease_resume.unpack(item.key, resume, [out, resume_store()], Path(root), log)

        def keep(k, run):  # each finished member is in OUT/lease.json before the next trains (a kill loses none)
            done[k] = _summary(run, k, item, dry, needed)
            partial = entry | {"status": "partial", "runs": [done[x] for x, _ in keyed if x in done]}
            state["items"][item.key] = partial | {"reason": "in progress (a lease killed here keeps these)"}
            _write(out / "lease.json", state)

        finished, engine = _train(item, todo, root, device, t0 + budget_s, dry, keep) if todo else ([], "cache")
        for k, run in finished:
            if k not in done:
                done[k] = _summary(run, k, item, dry, needed)
        runs = [done[k] for k, _ in keyed if k in done]
        entry |= {"engine": engine, "runs": runs}
        if len(runs) == len(members):
            entry |= {"status": "done", "measured": {str(t): finish(t, runs, dry) for t in item.targets}}
            lease_resume.clear(item.key, out)
        else:
            left = {run_key(*m) for k, m in todo if k not in done}  # cache keys (the mode's overrides in them)
            packed = lease_resume.pack(Path(root), left, out, item.key, log)
            entry |= {
                "status": "partial",
                "resume": packed,
                "reason": f"{len(runs)} of {len(members)} members by the budget"
                + (
                    f" (resume state at step {', '.join(f'{v:,}' for v in packed['steps'].values() if v)})"
                    if packed and any(packed["steps"].values())
                    else ""
                ),
            }
    except Exception as e:  # one item's failure never costs the others
        entry |= {
            "status": "error",
            "error": f"{type(e).__name__}: {e}",
            "runs": [done[k] for k, _ in keyed if k in done],
        }
    entry["wall_time_s"] = round(time.perf_counter() - t, 1)
    state["items"][item.key] = entry
    log(f"{item.key}: {entry['status']} in {entry['wall_time_s']} s")


def _resume_info(key: str, state: dict, stored: dict):
    """The item's resume state: this lease's (a re-run of it), else the one earlier leases stored."""
    return (state["items"].get(key) or {}).get("resume") or (stored.get(key) or {}).get("resume")


def _unkeep(items, state: dict, keys: set) -> None:
    """Runs whose bundle part did not fit what the lease brings back are not kept: their items become partial,
    so the next lease trains them again."""
    for it in items:
        e = state["items"].get(it.key)
        if not keys or not it.bundle or not e or not any(r.get("key") in keys for r in e.get("runs") or []):
            continue
        e["runs"] = [r for r in e["runs"] if r.get("key") not in keys]
        e.pop("measured", None)
        e |= {"status": "partial", "reason": "its runs' bundle part did not fit what the lease brings back"}


def export_bundles(items, state: dict, root: Path, out: Path, log=print) -> tuple[list, set]:
    """The runs this lease trained for items with a `bundle` name, metrics only (final weights and tensor
    series left out: `Run.trim`), as OUT/<bundle>-<sha256[:16]>.tar parts of at most BUNDLE_PART_BYTES each,
    as many as fit what the device tool brings back beside what OUT holds (lease_resume.OUT_MAX_*); (their
    [{"file", "bundle", "keys", "size", "sha256"}] (added to lease.json's "bundles"), the keys left out)."""
    keys: dict[str, list] = {}
    for it in items:
        runs = (state["items"].get(it.key) or {}).get("runs") or []
        if it.bundle:
            mine = [r["key"] for r in runs if not r.get("earlier") and (root / str(r["key"])).is_dir()]
            keys.setdefault(it.bundle, []).extend(dict.fromkeys(mine))
    made, left_out = [], set()
    room_bytes = lease_resume.OUT_MAX_BYTES - lease_resume.OUT_RESERVE
    for name, ks in keys.items():
        if not ks:
            continue
        with tempfile.TemporaryDirectory(prefix="grokkit-bundle-") as stage:
            parts, size = [[]], 0
            for k in ks:
                d = Run.load(root / k).trim((), weights=False).save(Path(stage) / k)
                n = sum(f.stat().st_size for f in d.iterdir())
                if parts[-1] and size + n > BUNDLE_PART_BYTES:
                    parts.append([])
                    size = 0
                parts[-1].append(d)
                size += n
            for part in parts:
                tmp = export_bundle(part, out / f".{name}-part.tar")
                files, used = lease_resume.out_usage(out)
                if files + 1 > lease_resume.OUT_MAX_FILES or used + tmp.stat().st_size > room_bytes:
                    log(f"bundle {name}: a part of {len(part)} runs does not fit what the lease brings back; left out")
                    tmp.unlink()
                    left_out |= {d.name for d in part}
                    continue
                sha = sha256_file(tmp)
                path = tmp.replace(out / f"{name}-{sha[:16]}.tar")  # named by its content: parts never collide
                made.append({"file": path.name, "bundle": name, "keys": [d.name for d in part]})
                made[-1] |= {"size": path.stat().st_size, "sha256": sha}
                log(f"bundle {path.name}: {len(part)} runs (metrics only), {path.stat().st_size / 2**20:.1f} MiB")
    return made, left_out


def gpu_times_path() -> Path:
    """results/chapters/gpu-lease.json: the chapters' GPU rows of their recorded times (grokkit.book.times)."""
    return store_path("x").parent.parent / GPU_ROWS


def bundles_dir() -> Path:
    """results/bundles/: the runs leases brought back for the book (the papers'-model phase grid)."""
    return store_path("x").parent.parent / "bundles"


def merge(lease_json, plan: str | None = None) -> Path:
    """Fold a lease's OUT/lease.json into results/gpu/lease-<plan>.json: a done item replaces an older
    entry; a partial one adds its finished members to those stored; resume states go to resume_store(); the
    metrics-only bundles it lists go to bundles_dir() once their sha256 is lease.json's (a missing one is said);
    the chapters whose paper-profile items are all done get their GPU row in gpu_times_path()."""
    lease_json = Path(lease_json)
    new = json.loads(lease_json.read_text())
    if new.get("dry_run"):
        raise ValueError(f"{lease_json} is a dry run: nothing to store")
    plan = plan or new["plan"]
    path = store_path(plan)
    store = _read(path) or {"plan": plan, "items": {}}
    for key, entry in new["items"].items():
        old = store["items"].get(key, {})
        if old.get("status") == "done" and entry.get("status") != "done":
            continue
        earlier_s = old.get("wall_time_all_s", old.get("wall_time_s")) or 0 if old.get("status") != "done" else 0
        entry = entry | {"wall_time_all_s": round(earlier_s + (entry.get("wall_time_s") or 0), 1)}  # every lease's
        if entry.get("status") != "done":
            runs = finished_members(old) | finished_members(entry)
            entry = entry | {"runs": list(runs.values())}
            if not entry.get("resume") and old.get("resume"):  # this lease kept none: the older state still holds
                entry["resume"] = old["resume"]
        store["items"][key] = entry | {"environment": new["environment"]}
        if entry.get("status") == "done":
            lease_resume.clear(key, resume_store())
        elif entry.get("resume") and not lease_resume.keep(key, entry["resume"], lease_json.parent, resume_store()):
            print(f"lease-merge: the resume state of {key} is not beside {lease_json.name}; it is not kept")
    _write(path, store)
    rows = chapter_rows(store["items"], PLANS.get(plan, ()))
    if rows or gpu_times_path().exists():
        _write(gpu_times_path(), {"paper": rows})
    for b in new.get("bundles") or []:  # metrics-only runs for the book, kept under their content's hash
        src = lease_json.parent / Path(str(b["file"])).name
        if not src.exists():
            print(f"lease-merge: {src.name} is not beside {lease_json.name}; its runs are not kept")
            continue
        if sha256_file(src) != b["sha256"]:
            raise ValueError(f"{src}: not the bundle lease.json describes (sha256); nothing of it is kept")
        bundles_dir().mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, bundles_dir() / src.name)
    return path
