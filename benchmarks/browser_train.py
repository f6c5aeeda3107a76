"""Time to grok in the page: Chapter 1's in-page trainer (`gk.widgets.BrowserTrainer`) at its default
sliders in headless Chromium: with Chapter 1's default-profile grid, the grid's config at its fastest cell
(`gk.widgets.browser.start_config`); with --no-grid, FAST itself (add, weight decay 1, train fraction 0.7,
learning rate 3e-3, seed 42).

    python benchmarks/browser_train.py                     # Wasm backend, Chapter 1's default grid
    python benchmarks/browser_train.py --backend auto --no-grid

The page is laid out as the built site's chapters are (TensorFlow.js vendored into _static/tfjs by
tools/tfjs.py), served from 127.0.0.1 to Debian's Chromium (`--disable-gpu`, as the site check runs it).
Reported: seconds from the start click to the "grokked" message (loading the library and choosing the
backend included) and the worker's own training time, steps per second, the grok step, the load
average. Screenshots of the widget mid-run (test accuracy first >= 0.3) and after grokking go to
--shots (default /tmp/browser-train-mid.png and -done.png). `--no-grid` leaves out the phase diagram
(else Chapter 1's default-profile grid is loaded from the run cache, or trained: ~5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tools")]
import tfjs  # noqa: E402
from browser_check import CHROMIUM_ARGS, serve  # noqa: E402

import grokkit as gk  # noqa: E402

_STATE = "() => document.querySelector('.gk-train').dataset.state"


def page_with_trainer(folder: Path, trainer) -> str:
    tfjs.install(folder / "_static")
    (folder / "_static" / "documentation_options.js").write_text("")
    (folder / "notebooks").mkdir(exist_ok=True)
    head = '<head><meta charset="utf-8"><script src="../_static/documentation_options.js"></script></head>'
    body = f'<body style="max-width:1300px;margin:8px">{trainer.html()}</body>'
    (folder / "notebooks" / "trainer.html").write_text(f"<html>{head}{body}</html>")
    return "notebooks/trainer.html"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="wasm", choices=["auto", "wasm", "webgl", "webgpu", "cpu"])
    ap.add_argument("--no-grid", action="store_true", help="leave out Chapter 1's phase diagram")
    ap.add_argument("--shots", default="/tmp/browser-train", help="screenshot prefix: <prefix>-mid.png, -done.png")
    ap.add_argument("--out", default=None, help="write the numbers as JSON here")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    grid = source = None
    if not args.no_grid:
        grid, source = gk.book.phase_grid(gk.book.chapter1("default"), "default")
    trainer = gk.widgets.BrowserTrainer(grid, source=source or "", title="Chapter 1's trainer, default sliders")
    folder = Path(tempfile.mkdtemp(prefix="browser-train-"))
    server, base = serve(folder)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1320, "height": 900})
            page.goto(base + page_with_trainer(folder, trainer), wait_until="load")
            page.select_option("select.gk-train-backend", args.backend)
            t0 = time.perf_counter()
            page.click(".gk-train-start")
            page.wait_for_function(
                "() => { const r = document.querySelector('.gk-train'); return r.dataset.state !== 'running' ||"
                " /test (3\\d|[4-9]\\d|100)/.test(r.querySelector('.gk-train-status').textContent); }",
                timeout=600_000,
                polling=100,
            )
            widget = page.locator(".gk-train")
            widget.screenshot(path=f"{args.shots}-mid.png")
            page.wait_for_function(f"() => ({_STATE})() !== 'running'", timeout=600_000, polling=100)
            click_to_done = time.perf_counter() - t0
            widget.screenshot(path=f"{args.shots}-done.png")
            run = page.evaluate(
                "() => { const r = document.querySelector('.gk-train').gkTrain.runs[0];"
                " return {outcome: r.outcome, grok: r.grok, wall: r.wall, step: r.final_step, backend: r.backend,"
                " keys: r.keys}; }"
            )
            status = page.inner_text(".gk-train-status")
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    c = trainer.config
    out = {
        "sliders": {k: getattr(c, k) for k in ("ops", "weight_decay", "train_frac", "lr", "seed", "max_steps")},
        "outcome": run["outcome"],
        "grok_step": run["grok"],
        "backend": run["backend"],
        "click_to_grok_s": round(click_to_done, 1),
        "training_s": round(run["wall"], 1),
        "steps_per_s": round(run["step"] / run["wall"], 1),
        "key_frequencies": run["keys"],
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "status": status,
        "screenshots": [f"{args.shots}-mid.png", f"{args.shots}-done.png"],
    }
    print(json.dumps(out, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
