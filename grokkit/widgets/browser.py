"""`BrowserTrainer(grid)`: Chapter 1's experiment run in the reader's browser, not looked up.

The page trains grokkit's FAST model (p = 31, d_model 64, 2 heads, d_ff 128, 2 layers: the two-token
input [a, b], pre-LayerNorm blocks, exact GELU, read-out at `a`) by FAST's rule, starting from the
config of Chapter 1's grid when that grid trained this model (`start_config`): batches of 128 drawn
with replacement, the mean cross-entropy, the global gradient norm clipped to 1, AdamW with decoupled
weight decay on every parameter, train and test accuracy over all p² pairs every 20 steps, and the
papers' stop rule (test accuracy ≥ 0.98 on 3 consecutive evaluations; a NaN or inf loss: "diverged").
The split is grokkit's (Python's `random.Random(seed).shuffle`, re-implemented), so a seed's split is
the one `gk.make_dataset` makes; the initial weights and the batches come from the browser's own
generator (PyTorch's distributions, not its numbers).

Controls: weight decay, train fraction, learning rate and seed sliders (bounded to the lists below),
an operation menu, a backend menu, start / stop, and a download of the run (config, curves, the
embedding's Fourier power at each evaluation, final weights) as JSON that `load_browser_run` reads
into a `gk.Run`. Panels: live train and test accuracy, the embedding's Fourier power with its key
frequencies (the fewest holding half of it), and Chapter 1's precomputed phase diagram (`grid`) with
the sliders' cell outlined and every finished run landing on it as a point.

Why TensorFlow.js: a maintained library (Google, Apache-2.0, 4.x) with reverse-mode autodiff over every
op used here and WebGPU, WebGL, WebAssembly and CPU backends that run in a Web Worker, so the page stays
responsive. jax-js (`@jax-js/jax`, JAX's API on WebGPU and Wasm) is at 0.1: promising, not yet stable.
The worker (browser_worker.js) trains on the backend the reader picks; "auto" times a few steps on each
one the browser has (WebGPU, WebGL, Wasm) and keeps the fastest (a model this small may train faster on
Wasm than on a GPU: each step is ~800 tiny kernels). Headless Chromium with `--disable-gpu` has Wasm only.
Where the library comes from: on the built site, its own `_static/tfjs/` (tools/tfjs.py vendors the
npm packages, sha512-checked, at build time; no CDN at read time); in Jupyter or Colab, the same
version from jsDelivr's npm mirror, or `lib_url` (a folder written by `python tools/tfjs.py DIR`). A
browser without WebAssembly or Web Workers gets a message; the phase diagram still shows.
"""

from __future__ import annotations

import html
import json
import uuid
from pathlib import Path

from grokkit import OPERATIONS, Config, presets
from grokkit.widgets.explorer import inline_js
from grokkit.widgets.phase_explorer import PhaseExplorer

TFJS_VERSION = "4.22.0"
TFJS_FILES = {  # npm package -> the files of its dist/ that the worker loads
    "@tensorflow/tfjs": ("tf.min.js",),
    "@tensorflow/tfjs-backend-wasm": (
        "tf-backend-wasm.min.js",
        "tfjs-backend-wasm.wasm",
        "tfjs-backend-wasm-simd.wasm",
        "tfjs-backend-wasm-threaded-simd.wasm",
    ),
    "@tensorflow/tfjs-backend-webgpu": ("tf-backend-webgpu.min.js",),
}
STATIC_DIR = "tfjs"  # the site's _static/tfjs/
CDN = "https://cdn.jsdelivr.net/npm/{package}@" + TFJS_VERSION + "/dist/"
# the sliders' values (bounded: a range input moves over these lists only)
WEIGHT_DECAYS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)
TRAIN_FRACS = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))  # 0.2 .. 0.8
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2)
SEEDS = tuple(range(100))
BACKENDS = ("auto", "wasm", "webgl", "webgpu", "cpu")
# what the worker implements: the Xu model (papers-spec §1.2) and one task
_FIXED = {
    "equals_token": False,
    "readout": 0,
    "norm": "layernorm",
    "qk_norm": "none",
    "mlp": "gelu",
    "bias": True,
    "pos_std": 0.0,
}
_MODEL = ("p", "d_model", "n_heads", "d_ff", "n_layers", "ops")  # a grid of FAST's model (and task)
_JS = inline_js("browser.js")
_WORKER = (Path(__file__).parent / "browser_worker.js").read_text()


def browser_config(base: Config = presets.FAST) -> Config:
    """`base` as the browser trains it (no trajectories recorded), or ValueError naming what it cannot train."""
    wrong = [f"{k}={getattr(base, k)!r}" for k, v in _FIXED.items() if getattr(base, k) != v]
    if base.n_tasks != 1:
        wrong.append(f"ops={base.ops!r} (one task)")
    if wrong:
        raise ValueError(f"the browser trainer implements the papers' single-task model; it cannot train {wrong}")
    return base.replace(snapshot_every=0, checkpoint_every=0)


def _options(values, current) -> list:
    return sorted({*values, current})


def _cdn() -> dict:
    url = lambda package, name: CDN.format(package=package) + name
    wasm = "@tensorflow/tfjs-backend-wasm"
    return {
        "tf": url("@tensorflow/tfjs", "tf.min.js"),
        "wasm": url(wasm, "tf-backend-wasm.min.js"),
        "wasmDir": CDN.format(package=wasm),
        "webgpu": url("@tensorflow/tfjs-backend-webgpu", "tf-backend-webgpu.min.js"),
        "where": "cdn.jsdelivr.net",
    }


class BrowserTrainer:
    """Train in the page: `gk.widgets.BrowserTrainer(grid, source=...)` as a notebook cell's value.

    grid: Chapter 1's weight-decay x train-fraction sweep (`gk.book.phase_grid`), drawn as the phase
    diagram runs land on; None: no diagram. base: the config the sliders start from (default:
    `start_config(grid)`, the grid's fastest cell when the grid trained FAST's model, else FAST).
    lib_url: where TensorFlow.js's files are (default: the site's _static/tfjs/, else jsDelivr).
    """

    def __init__(self, grid=None, base: Config | None = None, source: str = "", title: str = "", lib_url=None):
        self.phase = None if grid is None else _phase(grid)
        self.config = browser_config(base if base is not None else start_config(grid, self.phase))
        self.title, self.source, self.lib_url = title, source, lib_url
        c = self.config
        self.options = {
            "weight_decay": _options(WEIGHT_DECAYS, c.weight_decay),
            "train_frac": _options(TRAIN_FRACS, c.train_frac),
            "lr": _options(LEARNING_RATES, c.lr),
            "seed": _options(SEEDS, c.seed),
        }
        self.state = {
            "config": c.to_dict(),
            "options": self.options,
            "ops": {name: op.formula for name, op in OPERATIONS.items()},
            "phase": self.phase,
            "lib_url": lib_url,
            "static_dir": STATIC_DIR,
            "cdn": _cdn(),
            "version": TFJS_VERSION,
            "worker": _WORKER,
        }

    def html(self) -> str:
        uid = "gk" + uuid.uuid4().hex[:8]
        c = self.config

        def slider(name, field, fmt):
            values = self.options[field]
            labels = [fmt(v) for v in values]
            return (
                f'<label style="display:block;margin:2px 0"><span style="display:inline-block;width:110px">'
                f'{html.escape(name)}</span><input type="range" data-field="{field}" min="0" max="{len(values) - 1}" '
                f'step="1" value="{values.index(getattr(c, field))}" aria-label="{html.escape(name)}" '
                f"style=\"vertical-align:middle;width:240px\"> <output data-labels='{html.escape(json.dumps(labels))}'>"
                f"{html.escape(labels[values.index(getattr(c, field))])}</output></label>"
            )

        chosen = lambda name: " selected" if name == c.ops[0] else ""
        ops = "".join(
            f'<option value="{n}"{chosen(n)}>{html.escape(op.formula)} mod {c.p}</option>'
            for n, op in OPERATIONS.items()
        )
        backends = "".join(f'<option value="{b}">{b}</option>' for b in BACKENDS)
        title = f"<div><strong>{html.escape(self.title)}</strong></div>" if self.title else ""
        box = "flex:1 1 300px;max-width:420px;height:auto"
        panels = ["curves", "spectrum"] + (["phase"] if self.phase else [])
        return (
            f'<div class="gk-train" id="{uid}" data-state="idle" style="font-family:sans-serif;font-size:13px">{title}'
            + slider("weight decay", "weight_decay", lambda v: f"{v:g}")
            + slider("train fraction", "train_frac", lambda v: f"{v:g}")
            + slider("learning rate", "lr", lambda v: f"{v:g}")
            + slider("seed", "seed", str)
            + '<div style="margin:4px 0">operation <select class="gk-train-op" aria-label="operation">'
            f'{ops}</select> backend <select class="gk-train-backend" aria-label="backend">{backends}</select> '
            '<button class="gk-train-start" type="button">start</button> '
            '<button class="gk-train-stop" type="button" disabled>stop</button> '
            '<button class="gk-train-download" type="button" disabled>download run (JSON)</button></div>'
            '<div class="gk-train-status" role="status" style="min-height:1.4em;color:#333"></div>'
            '<div style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start">'
            + "".join(
                f'<svg class="gk-panel" data-panel="{p}" viewBox="0 0 360 230" style="{box}"></svg>' for p in panels
            )
            + "</div>"
            + (f'<div style="color:#555">{html.escape(self.source)}</div>' if self.source else "")
            + f"<script>({_JS})(document.getElementById({json.dumps(uid)}), {json.dumps(self.state)});</script></div>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        c = self.config
        text = f"BrowserTrainer(p={c.p}, d_model={c.d_model}; TensorFlow.js {TFJS_VERSION}: display as HTML to train)"
        return {"text/html": self.html(), "text/plain": text}


def start_config(grid=None, phase: dict | None = None) -> Config:
    """Where the sliders start. A grid of FAST's model (Chapter 1's at the default and smoke profiles): its
    config (learning rate, budget) at its fastest-grokking cell, evaluated every FAST.eval_every steps for
    the live curves, so a default run lands beside a cell that grokked under the same rule. Otherwise
    (no grid, or the papers' model, too slow for a page) FAST itself."""
    if grid is None or any(getattr(grid.configs[0], f) != getattr(presets.FAST, f) for f in _MODEL):
        return presets.FAST
    phase = phase or _phase(grid)
    grokked = [(c["t"], key) for key, c in phase["cells"].items() if c["t"]]
    live = dict(eval_every=presets.FAST.eval_every, snapshot_every=0, checkpoint_every=0)
    base = grid.configs[0].replace(seed=presets.FAST.seed, **live)
    if not grokked:
        return base
    i, j = map(int, min(grokked)[1].split(","))
    return base.replace(weight_decay=phase["wds"][i], train_frac=phase["fracs"][j])


def _phase(grid) -> dict:
    """The phase diagram's cells (grok step colour and label per weight decay x train fraction)."""
    s = PhaseExplorer(grid, points=2).state
    return {"wds": s["wds"], "fracs": s["fracs"], "budget": s["budget"], "cells": s["phase"]}
