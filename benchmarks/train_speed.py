"""Single-run speed: grokkit vs the papers' plain loop, on this machine, in one process.

    python benchmarks/train_speed.py            # step time and time to grok (add, seed 42)
    python benchmarks/train_speed.py --quick    # step time only
    python benchmarks/train_speed.py --device cuda

Step time: steady state, from the difference between a long and a short run (best of 3 each), so
set-up and CUDA-graph capture cancel; no evaluation.
Time to grok: the whole default run (evaluations, snapshots and checkpoints included) until test
accuracy >= 0.98 on 3 consecutive evaluations. The plain reference is benchmarks/plain.py. On a CPU both loops
run on one torch thread, as `gk.train` trains every CPU run (grokkit.training.device.one_cpu_thread).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain import plain_train  # noqa: E402

import grokkit as gk  # noqa: E402
from grokkit.training.device import one_cpu_thread  # noqa: E402

# Denormal floats slow the plain loop's AdamW by ~1.5x after a few thousand steps on this CPU;
# flushing them to zero keeps the baseline fair (grokkit's train does the same on a CPU).
torch.set_flush_denormal(True)


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def grokkit_step_ms(cfg, steps=300, repeats=3) -> float:
    """Steady-state ms/step: (time of a long run − time of a short one) / extra steps, best of
    `repeats`, so set-up (model, data, CUDA-graph capture) and the step-0 evaluation cancel."""
    probe = cfg.replace(stop_threshold=None, eval_every=10**6, snapshot_every=0, checkpoint_every=0)
    timed = lambda n: gk.train(probe.replace(max_steps=n), progress=False).info["wall_time_s"]
    timed(20)  # warm-up
    short, long = min(timed(20) for _ in range(repeats)), min(timed(20 + steps) for _ in range(repeats))
    return (long - short) / steps * 1000


def plain_step_ms(device, steps=100, repeats=3) -> float:
    """The same difference method for the plain loop (evaluation switched off)."""
    timed = lambda n: plain_train(max_steps=n, stop=False, device=device, eval_every=10**9)[2]
    timed(10)
    short, long = min(timed(10) for _ in range(repeats)), min(timed(10 + steps) for _ in range(repeats))
    return (long - short) / steps * 1000


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true", help="step time only")
    ap.add_argument("--compile", action="store_true", help="also time grokkit with torch.compile")
    args = ap.parse_args(argv)
    with one_cpu_thread(gk.resolve_device(args.device)):  # like with like: gk.train's threads for both loops
        _main(args)


def _main(args):
    cfg = gk.presets.single("add", seed=42, device=args.device)
    rows = [("plain reference loop", plain_step_ms(args.device)), ("grokkit", grokkit_step_ms(cfg))]
    if args.compile:
        rows.append(("grokkit, compile=True", grokkit_step_ms(cfg.replace(compile=True))))
    print(f"device: {args.device} ({torch.get_num_threads()} torch threads), torch {torch.__version__}")
    print(f"{'training step (no evaluation)':32s} {'ms/step':>8s}")
    for name, ms in rows:
        print(f"{name:32s} {ms:8.2f}   {rows[0][1] / ms:4.2f}x")
    if args.quick:
        return
    t0 = time.perf_counter()
    step_p, _, secs_p = plain_train(device=args.device)
    run = gk.train(cfg, progress=False)
    step_g, secs_g = run.grok_step()[0], run.info["wall_time_s"]
    print(f"\n{'time to grok (add, seed 42)':32s} {'grok step':>9s} {'seconds':>8s} {'ms/step':>8s}")
    print(f"{'plain reference loop':32s} {step_p!s:>9s} {secs_p:8.1f} {secs_p / (step_p or 1) * 1000:8.2f}")
    print(f"{'grokkit':32s} {step_g!s:>9s} {secs_g:8.1f} {secs_g / (step_g or 1) * 1000:8.2f}")
    print(f"grokkit {secs_p / secs_g:.2f}x faster to grok ({time.perf_counter() - t0:.0f} s for both)")


if __name__ == "__main__":
    main()
