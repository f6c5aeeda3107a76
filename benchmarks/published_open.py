"""Every chapter opens in a minute: each chapter executed as a reader's first run would, through its published runs.

    python benchmarks/published_open.py --site _build/html          # writes results/benchmarks/published_open.json
    python benchmarks/published_open.py --site _build/html --chapters 01_grokking

Serves the built site (`make book`: the HTML and, beside it, runs/<chapter>-<profile>.tar with runs/index.json)
with `python -m http.server` on 127.0.0.1, then executes each chapter at `--profile` with papermill in a fresh,
empty run cache ($GROKKIT_RUNS) and $GROKKIT_SITE naming the local server: the chapter registers its bundle,
downloads it (its sha256 checked) and imports its runs instead of training them. Stored per chapter:

- `with_bundle_s`: the wall time of that execution; `runs_trained`: how many of its runs it still trained
  (runs the bundle left out: over the size budget);
- `without_bundle_s`: the chapter's stored time with its training (results/chapters/<profile>/<chapter>.json,
  `wall_time_s`, measured by the execution that trained its runs, commit and device named);
- `same_numbers`: every number it records equals the build's stored one to RTOL (1e-9) relative: float64
  round-off, which moves with memory alignment, is not a difference; ints, strings and None exactly (the
  differing names listed, both values under `differences`; `max_rel_diff`: the largest difference within RTOL;
  the execution's own elapsed time excluded);
- `measures_used`: how many stored measurements it read (grokkit.book.memo), and `measures_as_built`: whether
  they are the ones the build used;
- `bundle_mb` and the bundle's run count (runs/index.json); `measures_kb` and `measures_n`: the size of the
  published measurements file beside it and how many values it holds (grokkit.book.memo).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grokkit.book.execute import chapter_stems, execute, notebooks_dir, results_dir  # noqa: E402
from grokkit.store.provenance import stamp  # noqa: E402

NOT_COMPARED = {"elapsed_s"}  # the execution's own time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(site: Path) -> tuple[subprocess.Popen, str]:
    """`python -m http.server` over `site` on 127.0.0.1; (the process, its base URL) once it answers."""
    port = _free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"http.server did not start on port {port}")


RTOL = 1e-9  # float64 round-off: LAPACK's results move in the last bits with the arrays' memory alignment


def rel_diff(a, b) -> float:
    """The largest relative difference between two recorded values (0 where equal; inf where their shapes,
    types or non-float values differ)."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or isinstance(a, str):
        return 0.0 if a == b else math.inf
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if a == b:
            return 0.0
        if isinstance(a, int) and isinstance(b, int) or not (math.isfinite(a) and math.isfinite(b)):
            return math.inf
        return abs(a - b) / max(abs(a), abs(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return max((rel_diff(a.get(k), b.get(k)) for k in a.keys() | b.keys()), default=0.0)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return max((rel_diff(x, y) for x, y in zip(a, b)), default=0.0)
    return 0.0 if a == b else math.inf


def differing(ours: dict, stored: dict, rtol: float = RTOL) -> list[str]:
    """The recorded names whose values differ from the stored build's by more than `rtol` relative (or that only
    one of them has)."""
    names = (set(ours) | set(stored)) - NOT_COMPARED
    return sorted(n for n in names if n not in ours or n not in stored or rel_diff(ours[n], stored[n]) > rtol)


def open_chapter(stem: str, profile: str, base: str, bundled=()) -> dict:
    """Execute chapter `stem` in a fresh run cache with $GROKKIT_SITE = `base`; `bundled`: the keys its bundle
    holds (a run it used that is not among them was trained)."""
    stored = json.loads((results_dir() / "chapters" / profile / f"{stem}.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "runs").mkdir()
        os.environ["GROKKIT_RUNS"], os.environ["GROKKIT_SITE"] = str(tmp / "runs"), base
        wall = execute(notebooks_dir() / f"{stem}.ipynb", tmp / f"{stem}.ipynb", profile, tmp / "metrics.json")
        ours = json.loads((tmp / "metrics.json").read_text())
    keys = ours.pop("run_keys", [])
    ours.pop("run_tensors", None), ours.pop("runs_trained", None)
    used = ours.pop("measure_keys", [])
    diff = differing(ours, stored["metrics"])
    return {
        "measures_used": len(used),  # stored measurements read (published ones, on a reader's first open)
        "measures_as_built": used == stored.get("measure_keys", []),  # the very values the build used
        "with_bundle_s": round(wall, 1),
        "runs_trained": len(set(keys) - set(bundled)),
        "runs": len(keys),
        "without_bundle_s": stored["wall_time_s"],
        "without_bundle_commit": stored.get("wall_time_commit", stored.get("git_commit")),
        "without_bundle_device": stored.get("wall_time_device", stored.get("device")),
        "same_numbers": not diff,
        "differing": diff,
        "differences": {n: {"build": stored["metrics"].get(n), "here": ours.get(n)} for n in diff},
        "max_rel_diff": max(
            (
                rel_diff(ours[n], stored["metrics"][n])
                for n in set(ours) & set(stored["metrics"])
                if n not in NOT_COMPARED and n not in diff
            ),
            default=0.0,
        ),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", type=Path, default=ROOT / "_build" / "html", help="the built site (make book)")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--chapters", nargs="*", help="chapter stems (default: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "published_open.json")
    args = ap.parse_args(argv)
    index_path = args.site / "runs" / "index.json"
    if not index_path.exists():
        ap.error(f"{index_path} is missing: build the site first (make book)")
    index = json.loads(index_path.read_text())["bundles"]
    proc, base = serve(args.site)
    chapters = {}
    try:
        for stem in args.chapters or chapter_stems():
            entry = index.get(f"{stem}-{args.profile}")
            print(f"{stem}: executing in a fresh run cache through {base} ...", flush=True)
            row = open_chapter(stem, args.profile, base, (entry or {}).get("keys", ()))
            if entry:
                row |= {"bundle_mb": round(entry["size"] / 1e6, 1), "bundle_runs": len(entry["keys"])}
                row["bundle_trimmed"] = len(entry.get("trimmed") or {})
                if entry.get("measures"):
                    row |= {
                        "measures_kb": round(entry["measures"]["size"] / 1e3, 1),
                        "measures_n": entry["measures"]["n"],
                    }
            chapters[stem] = row
            _store(args.out, args.profile, args.site, chapters, partial=bool(args.chapters))
            print(
                f"  {row['with_bundle_s']:.0f} s with the bundle ({row.get('bundle_mb', 0):.0f} MB, "
                f"{row['runs_trained']} runs trained) vs {row['without_bundle_s']:.0f} s without; "
                f"same numbers: {row['same_numbers']} {row['differing'] or ''}",
                flush=True,
            )
    finally:
        proc.kill()
    print("->", args.out)
    return 0


def _store(out: Path, profile: str, site: Path, chapters: dict, partial: bool) -> None:
    """Write the chapters measured so far (atomically, after each one: a killed run keeps them); a partial
    re-run (`--chapters`) keeps the other chapters stored at the same profile."""
    result = {"profile": profile, "site": str(site), "chapters": chapters, **stamp()}
    earlier = json.loads(out.read_text()) if out.exists() else {}
    if earlier.get("profile") == profile and partial:
        result["chapters"] = {**earlier.get("chapters", {}), **chapters}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)


if __name__ == "__main__":
    sys.exit(main())
