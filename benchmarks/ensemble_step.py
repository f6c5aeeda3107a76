"""The ensemble engine's step, three ways, at several stack sizes: member-steps/s and the ratio to the
eager stacked step measured in the same run.

    python benchmarks/ensemble_step.py                                   # CPU: N = 2, 8; FAST model
    python benchmarks/ensemble_step.py --device cuda --sizes 16 64 256 1024 --paper --precision fp32 bf16

  eager     vmap(grad_and_value) and the written-out AdamW, op by op (the baseline)
  compiled  the same functions under torch.compile (config.compile; grokkit.stacked.step_functions)
  graphed   the eager step replayed as CUDA graphs (the default on CUDA; not on a CPU)
Each way trains the same members (seeds 0..N-1, no early stop, no evaluation inside the timed window)
for --warmup steps (compilation and graph capture happen there), then --steps timed steps.
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
from grokkit.ensemble import Ensemble  # noqa: E402
from grokkit.stacked import step_functions  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_way(base, n, way, steps, warmup):
    """member-steps/s of `way` for an n-member stack of `base`."""
    cfg = base.replace(compile=way == "compiled", cuda_graph=way == "graphed")
    e = Ensemble([(cfg.replace(seed=s), ()) for s in range(n)])
    e._grad_fn, e._adamw_fn = step_functions(e._loss, cfg.compile)
    e._graphs = None
    g = torch.Generator(e.device).manual_seed(0)
    n_train = min(len(ds.train_idx) for ds in e.datasets)
    batch = lambda: torch.stack(
        [ds.train_idx[torch.randint(n_train, (cfg.batch_size,), generator=g, device=e.device)] for ds in e.datasets]
    )
    for _ in range(warmup):
        e.step(batch())
    sync(e.device)
    idx = [batch() for _ in range(steps)]
    t = time.perf_counter()
    for b in idx:
        e.step(b)
    sync(e.device)
    return n * steps / (time.perf_counter() - t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--sizes", nargs="*", type=int, default=[2, 8])
    ap.add_argument("--precision", nargs="*", default=["fp32"], choices=["fp32", "bf16"])
    ap.add_argument("--paper", action="store_true", help="the papers' model (default: the FAST preset)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--out", help="write the table as JSON here")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    model = gk.presets.SINGLE_TASK if args.paper else gk.presets.FAST
    ways = ["eager", "compiled"] + (["graphed"] if device.type == "cuda" else [])
    rows = {}
    for prec in args.precision:
        for n in args.sizes:
            base = model.replace(device=args.device, precision=prec, stop_threshold=None)
            rate = {w: time_way(base, n, w, args.steps, args.warmup) for w in ways}
            rows[f"N={n} {prec}"] = {f"{w} member-steps/s": round(r, 1) for w, r in rate.items()} | {
                f"{w} / eager": round(r / rate["eager"], 2) for w, r in rate.items() if w != "eager"
            }
            print(f"N={n:5d} {prec}: " + "  ".join(f"{k} {v}" for k, v in rows[f"N={n} {prec}"].items()), flush=True)
    if args.out:
        Path(args.out).write_text(
            json.dumps({"device": str(device), "torch": torch.__version__, "rows": rows}, indent=1)
        )
    return rows


if __name__ == "__main__":
    main()
