"""What one torch thread per CPU run costs, and what it buys (grokkit.training.device.one_cpu_thread).

    python benchmarks/cpu_threads.py            # writes results/benchmarks/cpu_threads.json

On this machine, in one process: the default model's training step (the difference of a long and a short run,
best of 3, no evaluation) as `gk.train` trains it on a CPU (one thread) against the same loop on 2 threads (the
behaviour before: a lone run in a notebook used torch's default); then whether the two give the same run
(the largest |Δw| after `--steps` steps: 0 means bit for bit). A pool of runs is not slowed: its workers
always trained on one thread each, one per core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grokkit as gk  # noqa: E402
from grokkit.store.provenance import stamp  # noqa: E402
from grokkit.training.device import resolve_device  # noqa: E402
from grokkit.training.train import _train  # noqa: E402  (the loop without the one-thread rule)


def run_on(cfg, threads: int | None):
    """A run of `cfg`: `gk.train` (threads None), or the same loop on `threads` torch threads."""
    if threads is None:
        return gk.train(cfg, progress=False)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(cfg, (), resolve_device("cpu"), False, None, 60.0)
    finally:
        torch.set_num_threads(before)


def step_ms(cfg, threads, steps=200, repeats=3) -> float:
    probe = cfg.replace(stop_threshold=None, eval_every=10**6, snapshot_every=0, checkpoint_every=0)
    timed = lambda n: run_on(probe.replace(max_steps=n), threads).info["wall_time_s"]
    timed(20)
    short = min(timed(20) for _ in range(repeats))
    long = min(timed(20 + steps) for _ in range(repeats))
    return (long - short) / steps * 1000


def max_dw(a, b) -> float:
    return max(float((a.weights[k].double() - v.double()).abs().max()) for k, v in b.weights.items())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=200, help="steps of the bit-for-bit comparison")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "cpu_threads.json")
    args = ap.parse_args(argv)
    cfg = gk.presets.single("add", seed=42, device="cpu")
    t0 = time.perf_counter()
    ms = {"gk.train (1 thread)": step_ms(cfg, None), "2 threads (before)": step_ms(cfg, 2)}
    same = cfg.replace(max_steps=args.steps, stop_threshold=None, snapshot_every=0, checkpoint_every=0)
    one, two, again = run_on(same, None), run_on(same, 2), run_on(same, 1)
    result = {
        "step_ms": {k: round(v, 2) for k, v in ms.items()},
        "slowdown_lone_run": round(ms["gk.train (1 thread)"] / ms["2 threads (before)"], 2),
        "steps_compared": args.steps,
        "max_abs_dw_1_vs_2_threads": max_dw(one, two),
        "max_abs_dw_train_vs_1_thread": max_dw(one, again),
        "seconds": round(time.perf_counter() - t0, 1),
        **stamp(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
