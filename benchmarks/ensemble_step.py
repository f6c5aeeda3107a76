"""The ensemble engine's step in several modes at several stack sizes: member-steps/s, the ratio to the
eager fp32 step measured in the same run, an agreement check of each mode against fp32, and `pick`:
the config overrides the lease trains with (the fastest mode that agreed).

    python benchmarks/ensemble_step.py --device cuda --paper --out step.json   # H200: N = 16 64 256 1024
    python benchmarks/ensemble_step.py                                         # CPU: N = 2 8, FAST model
    python benchmarks/ensemble_step.py --dry-run --out /tmp/step.json          # every path, CPU, seconds

Modes (config overrides, MODES): eager-fp32 (the baseline: vmap(grad_and_value) op by op, then the
written-out clip and AdamW), graphed-fp32-loop (the same step replayed as CUDA graphs: what earlier leases
trained with), graphed-fp32 (graphed, with clip and AdamW fused over packed stacks: config.fused_step),
graphed-tf32 (and TF32 matmuls), graphed-bf16 (and bf16 autocast of the forward).
A CPU has no graphs and no TF32: eager-fp32 and eager-bf16. Each size builds one stack (seeds 0..N-1,
no stop rule) and times every mode on it in turn, warm-up steps first (graph capture happens there),
on a fixed pool of batches.

Agreement (first, ≈ 25 s on an H200): 4 seeds of the papers' model (add; the FAST preset with
--agree-fast or on a CPU; tiny with --dry-run) trained to grokking with the normal stop rule (capped at
5000 steps) by `train_ensemble` in every mode. A mode agrees when every member's grok step is within one
eval interval of the reference's (both None also agrees). The reference is eager fp32; it trains last,
with the time the other modes (each at most a quarter of it) leave; if it runs out of time, graphed-fp32-loop
(the same kernels, replayed: gpu_session's correctness section checks it) stands in, and the table
names the reference. A mode that runs out of time does not agree.
--budget-s bounds the whole benchmark: the sizes whose estimated cost does not fit are skipped (reported).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import grokkit as gk  # noqa: E402
from grokkit.engines.ensemble import Ensemble, train_ensemble  # noqa: E402
from grokkit.engines.stacked import step_functions  # noqa: E402

MODES = {  # the baseline is the step every earlier lease trained with: the loop's clip and AdamW, not fused
    "eager-fp32": {"precision": "fp32", "cuda_graph": False, "fused_step": False},
    "graphed-fp32-loop": {"precision": "fp32", "cuda_graph": True, "fused_step": False},
    "graphed-fp32": {"precision": "fp32", "cuda_graph": True, "fused_step": True},
    "graphed-tf32": {"precision": "tf32", "cuda_graph": True, "fused_step": True},
    "graphed-bf16": {"precision": "bf16", "cuda_graph": True, "fused_step": True},
    "eager-bf16": {"precision": "bf16", "cuda_graph": False, "fused_step": False},
}
CUDA_MODES = ("eager-fp32", "graphed-fp32-loop", "graphed-fp32", "graphed-tf32", "graphed-bf16")
CPU_MODES = ("eager-fp32", "eager-bf16")
BASELINE = "eager-fp32"


def pick(table: dict) -> dict:
    """The config overrides of the fastest mode that passed the agreement check, at the largest stack size
    where such a mode was measured; {} (fp32, the defaults) when there is none."""
    agreement = (table.get("agreement") or {}).get("modes") or {}
    rows = [
        r for r in table.get("rows") or [] if r.get("member_steps_per_s") and agreement.get(r["mode"], {}).get("agrees")
    ]
    if not rows:
        return {}
    n = max(r["n"] for r in rows)
    best = max((r for r in rows if r["n"] == n), key=lambda r: r["member_steps_per_s"])
    return dict(MODES[best["mode"]])


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


# --- timing ------------------------------------------------------------------------------------------
def batch_pool(e: Ensemble, k: int, seed: int = 0) -> list[torch.Tensor]:
    """k batches (N, B) of train-pair indices, drawn once (sampling is not what is timed)."""
    g = torch.Generator(e.device).manual_seed(seed)
    n_train = min(len(ds.train_idx) for ds in e.datasets)
    train = torch.stack([ds.train_idx[:n_train] for ds in e.datasets])  # (N, n_train)
    B = e.configs[0].batch_size
    return [train.gather(1, torch.randint(n_train, (len(train), B), generator=g, device=e.device)) for _ in range(k)]


def time_mode(e: Ensemble, mode: str, pool, warmup: int, min_s: float, max_steps: int) -> tuple[float, int]:
    """(member-steps/s, steps timed) of `mode` on the stack `e`, switched to it in place."""
    e.configs = [c.replace(**MODES[mode]) for c in e.configs]
    e.fused = MODES[mode]["fused_step"]
    e._grad_fn, e._clip_fn, e._adamw_fn = step_functions(e._loss, False, e.fused)
    e._graphs = e.grads = e.loss = None  # the last mode's graphs and their memory go; graphed: captured anew
    for b in pool[:warmup]:
        e.step(b)
    sync(e.device)
    t, steps = time.perf_counter(), 0
    while True:
        for b in pool:
            e.step(b)
        steps += len(pool)
        sync(e.device)
        if time.perf_counter() - t >= min_s or steps >= max_steps:
            return len(e.active) * steps / (time.perf_counter() - t), steps


def time_sizes(base, sizes, modes, args, deadline, log) -> tuple[list, list]:
    """Rows {n, mode, member_steps_per_s, ratio, steps, s} per size and mode; the sizes skipped (budget)."""
    rows, skipped, last = [], [], None  # last: (n, seconds) of the previous size, for the estimate
    for n in sizes:
        estimate = 0.0 if last is None else last[1] * n / last[0]  # linear in N: pessimistic at small N
        if time.perf_counter() + estimate > deadline:
            skipped.append(n)
            continue
        t_size = time.perf_counter()
        try:
            e = Ensemble([(base.replace(seed=s), ()) for s in range(n)])
            pool = batch_pool(e, args.pool)
        except Exception as err:  # a size that cannot be built is reported, not fatal
            rows.append({"n": n, "mode": "build", "error": f"{type(err).__name__}: {err}"[:300]})
            log(f"N={n}: {rows[-1]['error']}")
            continue
        base_rate = None
        for mode in modes:
            t = time.perf_counter()
            row = {"n": n, "mode": mode}
            try:
                rate, steps = time_mode(e, mode, pool, args.warmup, args.min_s, args.max_steps)
                base_rate = rate if mode == BASELINE else base_rate
                ratio = round(rate / base_rate, 2) if base_rate else None
                row |= {"member_steps_per_s": round(rate, 1), "ratio": ratio, "steps": steps}
            except Exception as err:  # reported (e.g. out of memory at the largest size)
                row["error"] = f"{type(err).__name__}: {err}"[:300]
            row["s"] = round(time.perf_counter() - t, 2)
            rows.append(row)
            rate = row.get("member_steps_per_s")
            log(f"N={n:5d} {mode:13s} " + (f"{rate:10.1f} member-steps/s  x{row['ratio']}" if rate else row["error"]))
        del e, pool
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        last = (n, time.perf_counter() - t_size)
    return rows, skipped


# --- agreement ---------------------------------------------------------------------------------------
class _OutOfTime(Exception):
    pass


class _Deadline(gk.Hook):
    """Stops a training run at its first evaluation past `at` (time.perf_counter())."""

    def __init__(self, at: float):
        self.at = at

    def on_eval(self, ctx):
        if time.perf_counter() > self.at:
            raise _OutOfTime


def agree(ref, got, tolerance: int) -> bool:
    """Every member's grok steps within `tolerance` of the reference's (both None also agree)."""
    close = lambda a, b: (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= tolerance)
    return len(ref) == len(got) and all(close(a, b) for r, g in zip(ref, got) for a, b in zip(r, g))


def agreement(base, seeds, modes, device, seconds: float, log) -> dict:
    """Grok steps of `seeds` trained in every mode, and which modes agree with the reference (eager fp32, or
    graphed fp32 where eager ran out of time). The other modes go first, each with at most a quarter of the
    time; eager fp32, the slow one, gets what they leave."""
    order = [m for m in modes if m != BASELINE] + [BASELINE]
    end, out = time.perf_counter() + seconds, {}
    for mode in order:
        t = time.perf_counter()
        hooks = [_Deadline(end if mode == BASELINE else min(end, t + seconds / 4))]
        members = [(base.replace(seed=s, **MODES[mode]), hooks) for s in seeds]
        try:
            runs = train_ensemble(members, device=device, progress=False)
            out[mode] = {"grok": [list(r.grok_step()) for r in runs], "final": [r.info["final_step"] for r in runs]}
        except _OutOfTime:
            out[mode] = {"grok": None, "out_of_time": True}
        except Exception as err:  # reported: the mode does not agree
            out[mode] = {"grok": None, "error": f"{type(err).__name__}: {err}"[:300]}
        out[mode]["s"] = round(time.perf_counter() - t, 1)
    ref = BASELINE if out[BASELINE]["grok"] is not None else None
    if ref is None and out.get("graphed-fp32-loop", {}).get("grok") is not None:
        ref = "graphed-fp32-loop"  # the same kernels as eager fp32, replayed (gpu_session's correctness checks it)
    for mode, r in out.items():
        r["agrees"] = ref is not None and r["grok"] is not None and agree(out[ref]["grok"], r["grok"], base.eval_every)
        log(f"agreement {mode:13s} grok {r['grok']}  {r['s']} s  {'ok' if r['agrees'] else 'NO'}")
    return {"reference": ref, "eval_every": base.eval_every, "seeds": list(seeds), "modes": out}


# --- the command -------------------------------------------------------------------------------------
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available; cpu with --dry-run)")
    ap.add_argument("--sizes", nargs="*", type=int, help="stack sizes (default: CUDA 16 64 256 1024, CPU 2 8)")
    ap.add_argument("--modes", nargs="*", choices=sorted(MODES), help="default: the device's modes")
    ap.add_argument("--paper", action="store_true", help="time the papers' model (default: the FAST preset)")
    ap.add_argument("--agree-fast", action="store_true", help="agreement on FAST, not the papers' model (CUDA)")
    ap.add_argument("--agree-s", type=float, default=None, help="agreement time (default: min(25, 0.45 budget))")
    ap.add_argument("--budget-s", type=float, default=60.0, help="the whole benchmark's time budget")
    ap.add_argument("--min-s", type=float, default=0.5, help="time each mode for at least this long")
    ap.add_argument("--max-steps", type=int, default=2000, help="... or this many steps")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--pool", type=int, default=4, help="batches in the timing pool")
    ap.add_argument("--dry-run", action="store_true", help="every path at tiny sizes on the CPU, in seconds")
    ap.add_argument("--out", help="write {device, torch, rows, agreement, pick, ...} as JSON here")
    args = ap.parse_args(argv)
    threads = torch.get_num_threads()
    if args.dry_run:  # tiny tensors: one thread (several, on a busy CPU, spin-wait ~50x slower)
        torch.set_num_threads(1)
    try:
        return run(args)
    finally:
        torch.set_num_threads(threads)


def run(args) -> dict:
    t0 = time.perf_counter()
    log = lambda m: print(m, flush=True)
    if args.dry_run:
        device = torch.device("cpu")
        args.min_s, args.max_steps, args.warmup, args.pool = 0.0, 2, 1, 2
    else:
        device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    modes = args.modes or list(CUDA_MODES if cuda else CPU_MODES)
    modes = [BASELINE] + [m for m in modes if m != BASELINE]  # the baseline first: ratios need it
    sizes = args.sizes or ([2, 4] if args.dry_run else [16, 64, 256, 1024] if cuda else [2, 8])
    light = dict(device=device.type, snapshot_every=0, checkpoint_every=0)
    if args.dry_run:
        timed = gk.presets.FAST.replace(p=11, stop_threshold=None, **light)
        smoke, seeds = gk.presets.FAST.replace(p=11, max_steps=40, eval_every=10, **light), (0, 1)
    else:
        timed = (gk.presets.SINGLE_TASK if args.paper else gk.presets.FAST).replace(stop_threshold=None, **light)
        smoke = gk.presets.FAST if args.agree_fast or not cuda else gk.presets.single("add", max_steps=5000)
        smoke, seeds = smoke.replace(**light), (0, 1, 2, 3)
    agree_s = args.agree_s if args.agree_s is not None else min(25.0, 0.45 * args.budget_s)
    table = {"device": torch.cuda.get_device_name() if cuda else "cpu", "torch": torch.__version__}
    table["agreement"] = agreement(smoke, seeds, modes, device, agree_s, log)
    rows, skipped = time_sizes(timed, sizes, modes, args, t0 + args.budget_s, log)
    table |= {"rows": rows, "skipped_sizes": skipped, "model": "papers'" if args.paper else "FAST"}
    table["pick"] = pick(table)
    table["seconds"] = round(time.perf_counter() - t0, 1)
    log(format_table(table))
    if args.out:
        Path(args.out).write_text(json.dumps(table, indent=1))
    return table


def format_table(table: dict) -> str:
    lines = [f"{'N':>6}  {'mode':13s} {'member-steps/s':>15} {'x eager-fp32':>13}"]
    for r in table["rows"]:
        rate = f"{r['member_steps_per_s']:15.1f} {r['ratio']!s:>13}" if "error" not in r else r["error"][:60]
        lines.append(f"{r['n']:6d}  {r['mode']:13s} {rate}")
    a = table["agreement"]
    ok = [m for m, r in a["modes"].items() if r["agrees"]]
    lines.append(f"skipped sizes (budget): {table['skipped_sizes'] or 'none'}")
    lines.append(f"agreement vs {a['reference']} (within {a['eval_every']} steps): {ok or 'none'}")
    lines.append(f"pick: {table['pick'] or '{} (fp32 defaults)'}   ({table['seconds']} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
