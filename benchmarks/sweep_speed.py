"""Sweep speed: weight decay {0.1, 0.2, 0.3, 0.5, 1.0} x seeds {42, 137, 2024}, three ways.

    python benchmarks/sweep_speed.py                      # CPU, 200 steps per run
    python benchmarks/sweep_speed.py --device cuda --steps 1000 --scan --to-grok

(1) the papers' plain loop, one run after another; (2) grokkit.training.train, one after another;
(3) grokkit.engines.sweep (engine chosen by measurement). Each run trains a fixed budget of --steps
(no early stop), evaluations and trajectory capture included. Throughput is model-steps/s.
FLOP/s counts the plain computation's matmuls, 6 * MACs per step (forward 1x, backward 2x):
MACs = batch * seq * n_layers * (4 d^2 + 2 d d_ff) + batch * d * p  (1.65 GFLOP/step at the
default scale); grokkit's exact shortcuts do fewer, so its FLOP/s is "useful work" per second.
Peak = a large fp32 (CPU) or bf16 (GPU) matmul timed here.
--scan: ensemble throughput for N = 16 ... 1024 members, fp32 and bf16 (GPU).
--to-grok: the 15-run grid trained to grokking with grokkit.engines.sweep (wall time and grok steps).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain import plain_train  # noqa: E402

import grokkit as gk  # noqa: E402
from grokkit.engines.ensemble import Ensemble  # noqa: E402

# Denormal floats slow the plain loop's AdamW by ~1.5x after a few thousand steps on this CPU;
# flushing them to zero keeps the baseline fair (grokkit's train does the same on a CPU).
torch.set_flush_denormal(True)

WDS, SEEDS = (0.1, 0.2, 0.3, 0.5, 1.0), (42, 137, 2024)


def flops_per_step(c) -> float:
    macs = c.batch_size * c.seq_len * c.n_layers * (4 * c.d_model**2 + 2 * c.d_model * c.d_ff)
    return 6 * (macs + c.batch_size * c.d_model * c.p * c.n_tasks)


def peak_flops(device: str) -> tuple[float, str]:
    n, dtype = (8192, torch.bfloat16) if device.startswith("cuda") else (2048, torch.float32)
    a = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ a
    sync(device)
    t = time.perf_counter()
    for _ in range(10):
        a @ a
    sync(device)
    return 2 * n**3 * 10 / (time.perf_counter() - t), str(dtype).replace("torch.", "")


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def ensemble_rate(base, n, steps, precision="fp32") -> float:
    members = [
        (
            base.replace(
                seed=i,
                precision=precision,
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
    Ensemble(members[:n]).run(progress=False) if steps <= 50 else None
    ens = Ensemble(members)
    t = time.perf_counter()
    ens.run(progress=False)
    sync(base.device)
    return n * steps / (time.perf_counter() - t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--scan", action="store_true")
    ap.add_argument("--to-grok", action="store_true")
    ap.add_argument("--skip-plain", action="store_true")
    args = ap.parse_args(argv)
    base = gk.presets.single("add", device=args.device)
    grid = [base.replace(weight_decay=w, seed=s, max_steps=args.steps, stop_threshold=None) for w in WDS for s in SEEDS]
    n_steps = len(grid) * args.steps
    peak, peak_dtype = peak_flops(args.device)
    fl = flops_per_step(base)
    print(
        f"device {args.device}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}; "
        f"{len(grid)} runs x {args.steps} steps; peak {peak / 1e9:.0f} GFLOP/s ({peak_dtype} matmul)"
    )
    rows = []
    if not args.skip_plain:
        t = time.perf_counter()
        for c in grid:
            plain_train(weight_decay=c.weight_decay, seed=c.seed, max_steps=args.steps, stop=False, device=args.device)
        rows.append(("plain loop, sequential", time.perf_counter() - t))
    t = time.perf_counter()
    for c in grid:
        gk.train(c, progress=False)
    sync(args.device)
    rows.append(("grokkit.training.train, sequential", time.perf_counter() - t))
    with tempfile.TemporaryDirectory() as root:
        t = time.perf_counter()
        res = gk.sweep(
            base.replace(max_steps=args.steps, stop_threshold=None),
            weight_decay=list(WDS),
            seed=list(SEEDS),
            root=root,
            progress=False,
        )
        sync(args.device)
        rows.append((f"grokkit.engines.sweep ({res.engine})", time.perf_counter() - t))
        print(f"engine measurements (ms per model-step): {res.timing.get('measured_ms_per_model_step')}")
    print(f"{'':28s} {'seconds':>8s} {'model-steps/s':>14s} {'vs plain':>9s} {'GFLOP/s':>8s} {'% peak':>7s}")
    for name, secs in rows:
        rate = n_steps / secs
        print(
            f"{name:28s} {secs:8.1f} {rate:14.1f} {rows[0][1] / secs:8.2f}x {rate * fl / 1e9:8.1f} "
            f"{100 * rate * fl / peak:6.1f}%"
        )
    if args.scan:
        print(f"\nensemble throughput (model-steps/s), {args.steps} steps per member")
        for n in (16, 64, 256, 1024):
            for prec in ("fp32", "bf16"):
                rate = ensemble_rate(base, n, args.steps, prec)
                print(f"N={n:5d} {prec}: {rate:10.0f} model-steps/s  ({rate * fl / 1e12:.1f} TFLOP/s)")
    if args.to_grok:
        with tempfile.TemporaryDirectory() as root:
            t = time.perf_counter()
            res = gk.sweep(
                base.replace(snapshot_every=0, checkpoint_every=0),
                weight_decay=list(WDS),
                seed=list(SEEDS),
                root=root,
                progress=False,
            )
            sync(args.device)
            print(f"\n15-run sweep trained to grokking: {time.perf_counter() - t:.1f} s ({res.engine})")
            for pt, run in res:
                print(f"  wd {pt['weight_decay']:.1f} seed {pt['seed']:4d}: grok step {run.grok_step()[0]}")


if __name__ == "__main__":
    main()
