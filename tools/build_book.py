"""Execute every chapter with papermill, then build the site with Jupyter Book 1.

    python tools/build_book.py [--profile default|smoke|paper] [--only 01_grokking] [--out _build]

The notebooks in notebooks/ are stored without outputs and are never modified: executed copies go to
<out>/stage/ together with the book's sources, and the HTML to <out>/html. Warnings fail the build.
Each chapter's measured numbers are written to <out>/metrics/<chapter>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]


def execute(nb: Path, out: Path, profile: str, metrics: Path) -> float:
    t = time.perf_counter()
    pm.execute_notebook(str(nb), str(out), parameters={"profile": profile, "metrics_path": str(metrics)},
                        kernel_name="python3", cwd=str(nb.parent), progress_bar=False)
    clean = nbformat.read(out, as_version=4)
    clean.metadata.pop("widgets", None)  # the site shows the Explorer's static HTML, not widget views
    clean.metadata.pop("papermill", None)
    nbformat.write(clean, out)
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default", choices=["smoke", "default", "paper"])
    ap.add_argument("--only", nargs="*", help="chapter stems to execute (others are staged unexecuted)")
    ap.add_argument("--out", default=str(ROOT / "_build"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    stage = out / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "notebooks").mkdir(parents=True)
    (out / "metrics").mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, stage / name)
    shutil.copytree(ROOT / "book", stage / "book")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    timings = {}
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if args.only and nb.stem not in args.only:
            shutil.copy(nb, stage / "notebooks" / nb.name)
            continue
        print(f"executing {nb.name} (profile {args.profile}) ...", flush=True)
        timings[nb.stem] = round(execute(nb, stage / "notebooks" / nb.name, args.profile,
                                         out / "metrics" / f"{nb.stem}.json"), 1)
        print(f"  {timings[nb.stem]:.0f} s", flush=True)
    (out / "metrics" / "timings.json").write_text(json.dumps({"profile": args.profile, **timings}, indent=1))
    t = time.perf_counter()
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(stage), "--path-output", str(out / "jb"),
           "-W", "-n", "--keep-going"]
    done = subprocess.run(cmd)
    if done.returncode:
        return done.returncode
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.move(str(out / "jb" / "_build" / "html"), html)
    print(f"site built in {time.perf_counter() - t:.0f} s: {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
