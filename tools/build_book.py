"""Execute every chapter with papermill, then build the site with Jupyter Book 1.

    python tools/build_book.py [--profile default|smoke|paper] [--only 01_grokking] [--out _build]
                               [--mathjax local|cdn]

The notebooks in notebooks/ are stored without outputs and are never modified: executed copies go to
<out>/stage/ together with the book's sources, and the HTML to <out>/html. Warnings fail the build.
Each chapter's measured numbers are written to <out>/metrics/<chapter>.json. `--mathjax local` (the
default) serves MathJax from the site itself, so math renders offline; `cdn` is for the published site.
TensorFlow.js (Chapter 1's in-page trainer) is always served from the site's `_static/tfjs/` (tools/tfjs.py).
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

import mathjax
import tfjs
import yaml

from grokkit.book.execute import (
    PUBLISH_BUDGET_MB,
    chapter_measures,
    chapter_runs,
    chapter_stems,
    execute,
    publish_runs,
    results_dir,
    store_metrics,
)
from grokkit.repro.scorecard import page_path, write_page

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default", choices=["smoke", "default", "paper"])
    ap.add_argument(
        "--only", nargs="*", help="chapter stems to execute, others staged unexecuted (`--only` alone: none)"
    )
    ap.add_argument("--out", default=str(ROOT / "_build"))
    ap.add_argument("--mathjax", default="local", choices=["local", "cdn"], help="where pages load MathJax from")
    ap.add_argument(
        "--no-record",
        action="store_true",
        help="do not store the chapters' numbers in results/chapters/<profile>/ (tests)",
    )
    ap.add_argument(
        "--runs-budget-mb",
        type=float,
        default=PUBLISH_BUDGET_MB,
        help="size budget of each chapter's published run bundle (html/runs/<chapter>-<profile>.tar); 0: none",
    )
    args = ap.parse_args(argv)
    out = Path(args.out)
    stage = out / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "notebooks").mkdir(parents=True)
    (out / "metrics").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "_toc.yml", stage / "_toc.yml")
    # book/scorecard.md from the stored results/ (deterministic: unchanged results, same bytes)
    write_page(page_path(ROOT), results_dir(ROOT))
    shutil.copytree(ROOT / "book", stage / "book")
    tfjs.install(stage / "book" / "_static")  # Chapter 1's in-page trainer loads TensorFlow.js from the site
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    if args.mathjax == "local":
        config["sphinx"]["config"]["mathjax_path"] = mathjax.install(stage / "book" / "_static")
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    timings = {}
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if args.only is not None and nb.stem not in args.only:
            shutil.copy(nb, stage / "notebooks" / nb.name)
            continue
        print(f"executing {nb.name} (profile {args.profile}) ...", flush=True)
        timings[nb.stem] = round(
            execute(nb, stage / "notebooks" / nb.name, args.profile, out / "metrics" / f"{nb.stem}.json"), 1
        )
        print(f"  {timings[nb.stem]:.0f} s", flush=True)
        if not args.no_record:
            store_metrics(
                nb.stem, args.profile, out / "metrics" / f"{nb.stem}.json", timings[nb.stem], results_dir(ROOT)
            )
    (out / "metrics" / "timings.json").write_text(json.dumps({"profile": args.profile, **timings}, indent=1))
    t = time.perf_counter()
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(stage),
        "--path-output",
        str(out / "jb"),
        "-W",
        "-n",
        "--keep-going",
    ]
    done = subprocess.run(cmd)
    if done.returncode:
        return done.returncode
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.move(str(out / "jb" / "_build" / "html"), html)
    if args.runs_budget_mb > 0:  # the runs each chapter read, beside the site (grokkit.store.published)
        stems = chapter_stems(ROOT)
        found = {
            s: chapter_runs(s, args.profile, out / "metrics" / f"{s}.json" if s in timings else None) for s in stems
        }
        made = publish_runs(
            html / "runs",
            args.profile,
            {s: k for s, (k, _) in found.items() if k},
            budget_mb=args.runs_budget_mb,
            reads_by_chapter={s: r for s, (_, r) in found.items() if r is not None},
            measures_by_chapter={
                s: chapter_measures(s, args.profile, out / "metrics" / f"{s}.json" if s in timings else None)
                for s in stems
            },
        )
        for name, e in made.items():
            gone = sum(d["bytes"] for d in e["dropped"])
            left = f"; {len(e['dropped'])} left out ({gone / 1e6:.0f} MB, trained on first use)" * bool(e["dropped"])
            size = f"{len(e['keys'])} runs, {e['size'] / 1e6:.1f} MB, {e['train_s']:.0f} s of training"
            size += f", {len(e['trimmed'])} trimmed to what the chapter reads" * bool(e.get("trimmed"))
            if e.get("measures"):
                size += f", {e['measures']['n']} published measurements ({e['measures']['size'] / 1e3:.0f} kB)"
            print(f"  runs/{e['file']}: {size}{left}")
    print(f"site built in {time.perf_counter() - t:.0f} s: {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
