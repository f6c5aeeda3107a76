"""Chapter 1's phase grid, chosen by measurement (issue: a phase diagram that shows its boundary).

    python benchmarks/phase_scan.py                    # writes results/benchmarks/phase_scan.json
    python benchmarks/phase_scan.py --lrs 3e-3 1e-2 --cap 6000 --budgets 1500 2000 3000 4000 6000

Trains the weight-decay x train-fraction grid of the default profile's model (FAST: p = 31, d_model = 64,
no trajectories, evaluated every 100 steps; one seed) once per learning rate, at the longest budget `--cap`
(a run stops when it groks), then reads every shorter budget off the same runs
(`grokkit.geometry.at_budget`). For each (learning rate, budget) it stores the grid's boundary counts
(`grokkit.geometry.boundary_counts`: rows holding both a grokked and a non-grokking cell, undecided cells)
and the grid's training time at that budget, from each run's measured wall time (two worker processes:
the sum over runs / 2). The choice: the cheapest setting with >= 3 boundary rows and <= 1/4 undecided.

    python benchmarks/phase_scan.py --engines        # adds "engines" to results/benchmarks/phase_scan.json

--engines trains the chosen grid (Chapter 1's default) with each engine, "processes" (two single-thread
workers) and "ensemble" (the runs stacked in one process), into fresh caches, and stores both wall times.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grokkit as gk  # noqa: E402
from grokkit.book.settings import PHASE_TRAIN_FRACS, PHASE_WEIGHT_DECAYS  # noqa: E402
from grokkit.store.provenance import stamp  # noqa: E402


def scan(lrs, cap: int, budgets, weight_decays, train_fracs, workers: int = 2) -> dict:
    base = gk.presets.FAST.replace(max_steps=cap, eval_every=100, snapshot_every=0, checkpoint_every=0)
    out = {"base": base.to_dict(), "weight_decays": list(weight_decays), "train_fracs": list(train_fracs)}
    rows = []
    for lr in lrs:
        grid = gk.sweep(
            base.replace(lr=lr), weight_decay=list(weight_decays), train_frac=list(train_fracs), engine="processes"
        )
        for budget in budgets:
            view = gk.SweepResult(grid.values, grid.configs, [gk.geometry.at_budget(r, budget) for r in grid.runs])
            train_s = sum(
                r.info["wall_time_s"] * min(gk.geometry.run_cap(v), budget) / gk.geometry.run_cap(r)
                for r, v in zip(grid.runs, view.runs)
            )
            states = gk.geometry.cell_states(view)
            rows.append(
                {
                    "lr": lr,
                    "budget": budget,
                    **gk.geometry.boundary_counts(view),
                    "train_s_per_worker": round(train_s / workers, 1),
                    "states": {f"{w:g},{f:g}": s for (w, f), s in sorted(states.items())},
                    "grok_table": gk.geometry.grok_table(view),
                }
            )
            r = rows[-1]
            print(
                f"lr {lr:g} budget {budget:>5}: boundary rows {r['rows_with_both']}/{r['rows']}, undecided "
                f"{r['undecided']}/{r['cells']}, grokked {r['grok']}, ≈ {r['train_s_per_worker']:.0f} s",
                flush=True,
            )
    ok = [r for r in rows if gk.geometry.shows_boundary(r)]
    out["rows"] = rows
    out["chosen"] = min(ok, key=lambda r: r["train_s_per_worker"], default=None)
    g = gk.geometry.grid
    out["rule"] = f"cheapest with rows_with_both >= {g.BOUNDARY_ROWS} and undecided_share <= {g.MAX_UNDECIDED}"
    return out


def compare_engines(scan_result: dict) -> dict:
    """{engine: wall seconds} for the chosen grid trained from scratch by each engine (fresh caches)."""
    c = scan_result["chosen"]
    base = gk.Config.from_dict(scan_result["base"]).replace(lr=c["lr"], max_steps=c["budget"])
    out = {}
    for engine in ("processes", "ensemble"):
        with tempfile.TemporaryDirectory() as root:
            t = time.perf_counter()
            gk.sweep(
                base,
                weight_decay=scan_result["weight_decays"],
                train_frac=scan_result["train_fracs"],
                engine=engine,
                root=root,
            )
            out[engine] = round(time.perf_counter() - t, 1)
        print(f"{engine}: {out[engine]:.0f} s", flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lrs", type=float, nargs="+", default=[3e-3, 1e-2])
    ap.add_argument("--cap", type=int, default=6000)
    ap.add_argument("--budgets", type=int, nargs="+", default=[1500, 2000, 3000, 4000, 6000])
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "results" / "benchmarks" / "phase_scan.json"
    )
    ap.add_argument("--engines", action="store_true", help="time the chosen grid with each engine (stored result)")
    args = ap.parse_args(argv)
    if args.engines:
        result = json.loads(args.out.read_text())
        result["engines"] = {**compare_engines(result), "device": stamp()["device"]}
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        return
    if max(args.budgets) > args.cap:
        ap.error(f"every budget must be at most --cap ({args.cap})")
    result = {**scan(args.lrs, args.cap, sorted(args.budgets), PHASE_WEIGHT_DECAYS, PHASE_TRAIN_FRACS), **stamp()}
    pick = lambda r: r["chosen"] and (r["chosen"]["lr"], r["chosen"]["budget"])  # noqa: E731
    earlier = json.loads(args.out.read_text()) if args.out.exists() else {}
    if "engines" in earlier and pick(earlier) == pick(result):  # the engines' times of the same choice stand
        result["engines"] = earlier["engines"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    c = result["chosen"]
    print("chosen:", "none meets the bar" if c is None else f"lr {c['lr']:g}, budget {c['budget']}", "->", args.out)


if __name__ == "__main__":
    main()
