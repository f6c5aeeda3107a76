"""How much the execution basis (M3) and ρ depend on how the attention trajectory is kept.

Target 25's runs (grokkit.repro.lease_items) are longer than a lease, and the paper's ≈ 300 attention snapshots
(one every 2k steps) do not fit what a lease carries on to the next. Two ways to keep less, measured here on runs
that kept every snapshot, Chapter 2's grokking runs at the default profile (snapshots every 100 steps):
  * thinning: the basis from every k-th snapshot (`--strides`);
  * sketching: every snapshot folded into a Frequent Directions sketch of r rows per matrix (`--rows`; what the
    lease's AttentionSketch keeps: 24 rows for ≈ 300 snapshots, so r ≈ snapshots / 12 is the lease's ratio),
    with the bound the sketch states (Davis–Kahan: the sine of each matrix's angle, at most).
Each against the basis from every snapshot:
  * the largest principal angle between the two 16-dim subspaces (degrees; grokkit.geometry);
  * ρ_min, the smallest per-checkpoint ρ over the run's θ checkpoints (one commutator sample each, the same
    generator seed every time, so the same δ: only the basis differs), both formulas;
  * the relative change of 1 − ρ_min (what separates ρ from 1).

    python benchmarks/basis_cadence.py [--strides 1 2 3 4 5] [--rows 24 8 4] [--out FILE]

Reads the runs from the run cache (GROKKIT_RUNS; Chapter 2 at the default profile trains them); writes FILE
(default results/benchmarks/basis_cadence.json).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from grokkit import geometry as G
from grokkit.book.execute import results_dir
from grokkit.store.provenance import stamp
from grokkit.store.runs import Run
from grokkit.training.cache import default_root

CHAPTER = "02_execution_subspace"
MIN_SNAPSHOTS = 8  # fewer rows than this and a stride is not measured (a centred PCA of n rows has rank n - 1)


def grokking_runs(profile: str = "default") -> list[Run]:
    """The chapter's recorded runs (its record's run keys) that grokked, from the run cache."""
    record = json.loads((results_dir() / "chapters" / profile / f"{CHAPTER}.json").read_text())
    runs = [Run.load(Path(default_root()) / k) for k in record["run_keys"]]
    return [r for r in runs if r.grokked and r.config.weight_decay > 0 and "theta" in r.tensors]


def _compare(run, full, B, ref) -> dict:
    rho = G.rho_by_checkpoint(run, B, generator=torch.Generator().manual_seed(0))
    mins = {f: min(rho[f]) for f in G.FORMULAS}
    ref = ref or mins
    return {
        "angle_deg": G.largest_principal_angle(full, B),
        "rho_min": mins,
        "gap_change": {f: (1 - mins[f]) / (1 - ref[f]) - 1 for f in G.FORMULAS},
    }


def measure(run: Run, strides, rows) -> dict:
    full = G.run_execution_basis(run)
    snapshots = len(run.attention_trajectory()[0])
    out = {"run": G.run_label(run), "key": run.info["key"], "snapshots": snapshots, "by_stride": {}, "by_rows": {}}
    ref = _compare(run, full, full, None)["rho_min"]  # every snapshot: the reference
    for k in strides:
        if len(range(0, snapshots, k)) < MIN_SNAPSHOTS:  # too few rows for a 2-PC basis of every matrix
            continue
        row = _compare(run, full, G.run_execution_basis(run, every=k), ref)
        out["by_stride"][str(k)] = {"snapshots": len(range(0, snapshots, k))} | row
    for r in rows:
        B, info = G.sketch_execution_basis(run, rows=r)
        bound = max(v["sin_bound"] for v in info.values())
        out["by_rows"][str(r)] = {"snapshots": snapshots, "sin_bound_max": bound} | _compare(run, full, B, ref)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strides", nargs="*", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--rows", nargs="*", type=int, default=[24, 8, 4])
    ap.add_argument("--out", default=str(results_dir() / "benchmarks" / "basis_cadence.json"))
    args = ap.parse_args(argv)
    if args.strides[0] != 1:
        ap.error("the first stride must be 1 (the reference: every snapshot)")
    t0 = time.perf_counter()
    rows = [measure(r, args.strides, args.rows) for r in grokking_runs()]
    worst = {}
    for kind, values in (("by_stride", args.strides), ("by_rows", args.rows)):
        for k in values:
            at = [r[kind][str(k)] for r in rows if str(k) in r[kind]]
            if at:
                worst[f"{kind} {k}"] = {
                    "runs": len(at),
                    "snapshots": [min(a["snapshots"] for a in at), max(a["snapshots"] for a in at)],
                    "angle_deg_max": max(a["angle_deg"] for a in at),
                    "gap_change_max": max(abs(v) for a in at for v in a["gap_change"].values()),
                    "rho_min_min": {f: min(a["rho_min"][f] for a in at) for f in G.FORMULAS},
                } | ({"sin_bound_max": max(a["sin_bound_max"] for a in at)} if kind == "by_rows" else {})
    blob = stamp() | {"chapter": CHAPTER, "runs": rows, "worst": worst, "wall_time_s": time.perf_counter() - t0}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(blob, indent=1) + "\n")
    for k, w in worst.items():
        bound = f", stated sin bound ≤ {w['sin_bound_max']:.3g}" if "sin_bound_max" in w else ""
        print(
            f"{k:>12} ({w['snapshots'][0]}-{w['snapshots'][1]} snapshots, {w['runs']} runs): largest angle "
            f"{w['angle_deg_max']:5.1f} deg, 1 - rho_min changes by at most {100 * w['gap_change_max']:.1f}%, "
            f"smallest rho_min {w['rho_min_min']['exact']:.6f}{bound}"
        )
    return blob


if __name__ == "__main__":
    main()
