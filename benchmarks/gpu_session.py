"""Every GPU measurement of the project in one script, for a short lease on a GPU machine.

    python benchmarks/gpu_session.py --out DIR            # on the GPU machine
    python benchmarks/gpu_session.py --out DIR --dry-run  # the same code paths, tiny sizes, on a CPU
    python benchmarks/gpu_session.py --out DIR --plan paper-scorecard --budget-s 540  # the lease plan
    python benchmarks/gpu_session.py --merge DIR/lease.json   # back here: store what the lease measured

Sections run in order, each guarded, each appending to DIR/gpu_session.json as soon as it finishes
(so a timeout keeps what was done): correctness of the CUDA-graph and ensemble engines against eager
single runs, single-run speed, sweep speed and ensemble scaling, bf16 vs fp32 grok steps, and
paper-scale runs whose results are stored with provenance (results/ reads them).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import ensemble_step  # noqa: E402  (benchmarks/, on the path above)

import grokkit as gk  # noqa: E402
from grokkit.engines.ensemble import Ensemble, train_ensemble  # noqa: E402
from grokkit.repro import lease, reproduce, scorecard  # noqa: E402

OUT: Path
RESULTS: dict = {}
SCRATCH = tempfile.mkdtemp(prefix="grokkit-gpu-runs-")  # runs stay on the machine; only JSON comes back


def save():
    (OUT / "gpu_session.json").write_text(json.dumps(RESULTS, indent=1, default=str))


def section(name):
    def wrap(fn):
        def run(*a, **k):
            t = time.perf_counter()
            print(f"== {name}", flush=True)
            try:
                RESULTS[name] = fn(*a, **k)
            except Exception:
                RESULTS[name] = {"error": traceback.format_exc()}
                print(RESULTS[name]["error"], flush=True)
            RESULTS.setdefault("_seconds", {})[name] = round(time.perf_counter() - t, 1)
            print(
                f"   {name}: {RESULTS['_seconds'][name]} s -> {json.dumps(RESULTS[name], default=str)[:600]}",
                flush=True,
            )
            save()

        return run

    return wrap


def rel_diff(a, b, d_model):
    worst = 0.0
    for k in b:
        x, y = a[k].clone().float(), b[k].clone().float()
        if k.endswith("in_proj_bias"):
            x[d_model : 2 * d_model] = y[d_model : 2 * d_model] = 0
        worst = max(worst, float((x - y).abs().max() / y.abs().max()))
    return worst


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


@section("env")
def env(dev):
    info = {"device": dev, "torch": torch.__version__, "python": platform.python_version(), "grokkit": gk.__version__}
    if dev == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
        info["capability"] = torch.cuda.get_device_capability()
    return info


@section("correctness")
def correctness(dev, steps):
    c = gk.presets.FAST.replace(max_steps=steps, stop_threshold=None, device=dev)
    eager = gk.train(c.replace(cuda_graph=False), progress=False)
    graphed = gk.train(c, progress=False)
    ens = train_ensemble([c, c.replace(seed=7), c.replace(ops=("sub",), lr=1e-3)], progress=False)
    solo_sub = gk.train(c.replace(ops=("sub",), lr=1e-3), progress=False)
    loss = lambda r: [h[0] for h in r.history["train_loss"]]
    return {
        "steps": steps,
        "graph_vs_eager_rel_diff": rel_diff(graphed.weights, eager.weights, c.d_model),
        "ensemble_vs_solo_rel_diff": rel_diff(ens[0].weights, graphed.weights, c.d_model),
        "ensemble_mixed_ops_vs_solo_rel_diff": rel_diff(ens[2].weights, solo_sub.weights, c.d_model),
        "train_loss_max_abs_diff_graph_vs_eager": max(abs(a - b) for a, b in zip(loss(graphed), loss(eager))),
    }


@section("train_speed")
def train_speed(dev, to_grok):
    from plain import plain_train
    from train_speed import grokkit_step_ms, plain_step_ms

    cfg = gk.presets.single("add", seed=42, device=dev)
    out = {
        "plain_ms_per_step": plain_step_ms(dev),
        "grokkit_ms_per_step": grokkit_step_ms(cfg),
        "grokkit_eager_ms_per_step": grokkit_step_ms(cfg.replace(cuda_graph=False)),
    }
    if to_grok:
        step_p, _, secs_p = plain_train(device=dev)
        run = gk.train(cfg, progress=False)
        out.update(
            plain_grok_step=step_p,
            plain_seconds=round(secs_p, 2),
            grokkit_grok_step=run.grok_step()[0],
            grokkit_seconds=run.info["wall_time_s"],
            speedup_to_grok=round(secs_p / run.info["wall_time_s"], 2),
        )
    return out


@section("sweep_speed")
def sweep_speed(dev, steps):
    import tempfile

    from plain import plain_train
    from sweep_speed import SEEDS, WDS, flops_per_step, peak_flops

    base = gk.presets.single("add", device=dev)
    grid = [base.replace(weight_decay=w, seed=s, max_steps=steps, stop_threshold=None) for w in WDS for s in SEEDS]
    peak, dtype = peak_flops(dev)
    out = {
        "runs": len(grid),
        "steps_per_run": steps,
        "peak_flops": peak,
        "peak_dtype": dtype,
        "flops_per_step": flops_per_step(base),
    }
    t = time.perf_counter()
    for c in grid:
        plain_train(weight_decay=c.weight_decay, seed=c.seed, max_steps=steps, stop=False, device=dev)
    sync()
    out["plain_sequential_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for c in grid:
        gk.train(c, progress=False)
    sync()
    out["grokkit_sequential_s"] = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as root:
        t = time.perf_counter()
        res = gk.sweep(
            base.replace(max_steps=steps, stop_threshold=None),
            weight_decay=list(WDS),
            seed=list(SEEDS),
            root=root,
            progress=False,
        )
        sync()
        out["sweep_s"] = time.perf_counter() - t
        out["sweep_engine"] = res.engine
        out["engine_measurements"] = res.timing.get("measured_ms_per_model_step")
    n = len(grid) * steps
    for k in ("plain_sequential_s", "grokkit_sequential_s", "sweep_s"):
        out[k[:-2] + "_model_steps_per_s"] = n / out[k]
    return out


@section("ensemble_scan")
def ensemble_scan(dev, sizes, steps):
    from sweep_speed import flops_per_step

    base = gk.presets.single("add", device=dev)
    out = {}
    for n in sizes:
        for prec in ("fp32", "bf16"):
            members = [
                (
                    base.replace(
                        seed=i,
                        precision=prec,
                        max_steps=steps,
                        stop_threshold=None,
                        snapshot_every=0,
                        checkpoint_every=0,
                        eval_every=steps,
                    ),
                    (),
                )
                for i in range(n)
            ]
            ens = Ensemble(members)
            t = time.perf_counter()
            ens.run(progress=False)
            sync()
            rate = n * steps / (time.perf_counter() - t)
            out[f"N={n} {prec}"] = {
                "model_steps_per_s": round(rate, 1),
                "tflops": round(rate * flops_per_step(base) / 1e12, 2),
            }
            print(f"   N={n} {prec}: {rate:.0f} model-steps/s", flush=True)
            del ens
            if dev == "cuda":
                torch.cuda.empty_cache()
    return out


@section("sweep_to_grok")
def sweep_to_grok(dev):
    import tempfile

    from sweep_speed import SEEDS, WDS

    base = gk.presets.single("add", device=dev, snapshot_every=0, checkpoint_every=0, max_steps=100_000)
    with tempfile.TemporaryDirectory() as root:
        t = time.perf_counter()
        res = gk.sweep(base, weight_decay=list(WDS), seed=list(SEEDS), root=root, progress=False)
        sync()
        return {
            "seconds": round(time.perf_counter() - t, 1),
            "engine": res.engine,
            "grok_steps": {f"wd {pt['weight_decay']} seed {pt['seed']}": r.grok_step()[0] for pt, r in res},
        }


@section("bf16_vs_fp32")
def bf16_vs_fp32(dev, seeds, budget):
    base = gk.presets.single("add", device=dev, snapshot_every=0, checkpoint_every=0, max_steps=budget)
    out = {}
    for prec in ("fp32", "bf16"):
        runs = train_ensemble([base.replace(seed=s, precision=prec) for s in seeds], progress=False)
        out[prec] = {str(s): r.grok_step()[0] for s, r in zip(seeds, runs)}
    return out


def provenance(cfgs, runs, seconds, dev):
    return [
        {
            "config": c.to_dict(),
            "key": r.info["key"],
            "grok_step_98x3": r.grok_step(),
            "t90": r.grok_step(0.9, 1),
            "final_step": r.info["final_step"],
            "final_test_acc": r.final("test_acc"),
            "max_test_acc": [max(r.curve("test_acc", t)[1]) for t in range(len(r.ops))],
            "device": r.info["device"],
            "git_commit": r.info["git_commit"],
            "grokkit_version": r.info["grokkit_version"],
            "wall_time_s": seconds,
        }
        for c, r in zip(cfgs, runs)
    ]


@section("paper_single_task")
def paper_single_task(dev, seeds, control_budget):
    light = dict(snapshot_every=0, checkpoint_every=0, device=dev)
    cfgs = [
        gk.presets.single(op, seed=s, max_steps=control_budget, **light)
        for op in ("add", "sub", "mul", "x2_y2", "x2_xy_y2", "x3_xy")
        for s in seeds
    ]
    t = time.perf_counter()
    runs, engine, _ = gk.run_many(
        [(c, ()) for c in cfgs], root=SCRATCH, progress=False, engine="ensemble" if dev == "cuda" else "auto"
    )
    return {"engine": engine, "runs": provenance(cfgs, runs, round(time.perf_counter() - t, 1), dev)}


@section("paper_multitask")
def paper_multitask(dev, seeds, wds, budget):
    light = dict(snapshot_every=0, checkpoint_every=0, device=dev, max_steps=budget)
    cfgs = [gk.presets.tri(seed=s, **light) for s in seeds]
    cfgs += [gk.presets.dual(weight_decay=w, seed=s, **light) for w in wds for s in seeds]
    t = time.perf_counter()
    runs, engine, _ = gk.run_many(
        [(c, ()) for c in cfgs], root=SCRATCH, progress=False, engine="ensemble" if dev == "cuda" else "auto"
    )
    return {"engine": engine, "runs": provenance(cfgs, runs, round(time.perf_counter() - t, 1), dev)}


def step_mode(out: Path, dry: bool, say) -> dict:
    """The ensemble step the lease trains with: benchmarks/ensemble_step.py (≤ 60 s) times eager, graphed,
    TF32 and bf16 steps and checks each against fp32 eager on a smoke set; its `pick` is the fastest that
    agreed ({}: fp32 eager, the defaults). A failure of the benchmark costs nothing but its time."""
    try:
        args = ["--out", str(out / "ensemble_step.json"), "--budget-s", "60"]
        args += ["--dry-run"] if dry else ["--device", "cuda", "--paper"]
        mode = ensemble_step.main(args).get("pick") or {}
    except (Exception, SystemExit) as e:  # the lease goes on in fp32
        say(f"ensemble_step: {type(e).__name__}: {e}; training in fp32")
        return {}
    say(f"ensemble step mode: {mode or 'fp32 eager defaults'}")
    return mode


def main(argv=None):
    global OUT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="where the results go (required except with --merge)")
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on whatever device is here")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--wds", nargs="*", type=float, default=[1.0, 0.5, 0.3, 0.2, 0.1], help="dual-task weight decays")
    ap.add_argument("--mt-budget", type=int, default=120_000, help="multi-task step budget")
    ap.add_argument("--plan", choices=sorted(lease.PLANS), help="run a lease plan instead (grokkit.repro.lease)")
    ap.add_argument("--budget-s", type=float, default=540.0, help="the plan's time budget (seconds)")
    ap.add_argument("--runs-root", help="the plan's run cache (default: scratch, deleted after each item)")
    ap.add_argument(
        "--merge", metavar="LEASE_JSON", help="fold a finished lease into results/gpu/, re-judge its targets, and exit"
    )
    args = ap.parse_args(argv)
    if args.merge:
        print(f"merged into {lease.merge(args.merge)}")
        new = json.loads(Path(args.merge).read_text())["items"]
        touched = sorted({t for e in new.values() if e.get("runs") for t in e.get("targets") or [e.get("target")]})
        for t in touched:  # re-judged at the paper profile from what is now stored
            print(f"target {t} [paper]: {reproduce.run(str(t), 'paper')['verdict']}")
        print(f"scorecard: {scorecard.write_page()}")
        return
    if not args.out:
        ap.error("--out is required")
    OUT = Path(args.out)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.plan:
        say = lambda m: print(m, flush=True)
        t0 = time.perf_counter()
        mode = step_mode(OUT, args.dry_run, say)
        budget = args.budget_s - (time.perf_counter() - t0)
        state = lease.run_plan(OUT, args.plan, budget, dry_run=args.dry_run, log=say, root=args.runs_root, mode=mode)
        print(json.dumps({k: v.get("status") for k, v in state["items"].items()}), f"{state['total_s']} s", flush=True)
        return
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    dry = args.dry_run
    plan = [
        ("env", lambda: env(dev)),
        ("correctness", lambda: correctness(dev, 20 if dry else 300)),
        ("train_speed", lambda: train_speed(dev, not dry)),
        ("sweep_speed", lambda: sweep_speed(dev, 10 if dry else 300)),
        ("ensemble_scan", lambda: ensemble_scan(dev, [2] if dry else [16, 64, 256, 1024], 10 if dry else 100)),
        ("bf16_vs_fp32", lambda: bf16_vs_fp32(dev, (42,) if dry else (42, 137, 2024), 20 if dry else 20_000)),
        (
            "paper_multitask",
            lambda: paper_multitask(
                dev, (42,) if dry else (42, 137, 2024), [1.0] if dry else args.wds, 30 if dry else args.mt_budget
            ),
        ),
        ("paper_single_task", lambda: paper_single_task(dev, (42,) if dry else (42, 137, 2024), 30 if dry else 20_000)),
        ("sweep_to_grok", lambda: None if dry else sweep_to_grok(dev)),
    ]
    t0 = time.perf_counter()
    for name, fn in plan:
        if args.only and name not in args.only:
            continue
        fn()
    RESULTS["_total_s"] = round(time.perf_counter() - t0, 1)
    save()
    print(f"done in {RESULTS['_total_s']} s", flush=True)


if __name__ == "__main__":
    main()
