"""`StepScrubber(run)`: one slider over a run's saved steps, four linked panels.

The panels (any subset, in any order, via `panels=`):
  "curves"    train/test accuracy against step, a cursor at the selected step
  "spectrum"  the embedding's Fourier power per frequency (key frequencies in red)
  "clock"     the embedding on the planes of the final model's two strongest frequencies
  "answers"   the p x p answer table: right / wrong per pair (a, b), train pairs in lighter shades
Every frame is computed once from the run's theta checkpoints (`geometry.circuit_frames`), so the
page needs no kernel. Displayed, the object offers
  * `text/html`: a range input and ~90 lines of JavaScript that draw the panels as SVG and a canvas
    from a JSON state (the static site, Colab, a trusted notebook). Budget: the state stays under
    MAX_STATE_BYTES (2 MB; a 5,000-step run of the papers' model at 22 frames is ~0.1 MB), else
    ValueError: lower `max_frames`;
  * `application/vnd.jupyter.widget-view+json`: an ipywidgets slider over the same frames, drawn by
    `gk.plots.circuit_frame` (a live kernel).
"""

from __future__ import annotations

import base64
import html
import json
import uuid

import numpy as np

from grokkit.geometry.circuit import circuit_frames
from grokkit.plots.progress_measures import ANSWER_COLORS, ANSWER_LABELS, circuit_frame
from grokkit.widgets.axes import step_ticks, symlog
from grokkit.widgets.explorer import both_renderings, figure_png, inline_js

PANELS = ("curves", "spectrum", "clock", "answers")
MAX_STATE_BYTES = 2_000_000
_BOX = "flex:1 1 300px;max-width:420px;height:auto"  # two panels a row in the book's text column
_JS = inline_js("scrubber.js")


def _bits(table) -> str:
    return base64.b64encode(np.packbits(np.asarray(table, bool).reshape(-1)).tobytes()).decode()


class StepScrubber:
    """Scrub through a run's training: `gk.widgets.StepScrubber(run)` as a notebook cell's value."""

    def __init__(self, run, panels=PANELS, max_frames: int = 60, title: str = ""):
        panels = tuple(panels)
        bad = [p for p in panels if p not in PANELS]
        if bad or not panels:
            raise ValueError(f"panels must be a non-empty subset of {PANELS}, got {panels}")
        self.run, self.panels, self.title = run, panels, title
        self.frames = circuit_frames(run, max_frames=max_frames)
        self.state = self._state()
        size = len(json.dumps(self.state))
        if size > MAX_STATE_BYTES:
            raise ValueError(f"the scrubber's state is {size:,} bytes (budget {MAX_STATE_BYTES:,}): lower max_frames")
        self.state_bytes = size

    def _state(self) -> dict:
        f, run = self.frames, self.run
        top = max(run.steps) * 1.05
        r = lambda xs, n=4: [round(float(x), n) for x in xs]
        acc = {m: run.curve(m)[1] for m in ("train_acc", "test_acc")}
        at = {s: i for i, s in enumerate(run.steps)}
        return {
            "p": f.p,
            "steps": f.steps,
            "x": r([symlog(s, top) for s in run.steps]),
            "train": r(acc["train_acc"], 3),
            "test": r(acc["test_acc"], 3),
            "cursor": r([symlog(s, top) for s in f.steps]),
            "acc": [[acc["train_acc"][at[s]], acc["test_acc"][at[s]]] if s in at else None for s in f.steps],
            "ticks": step_ticks(top),
            "spectrum": [r(row) for row in f.spectrum.tolist()],
            "spec_max": round(float(f.spectrum.max()), 4),
            "keys": list(f.key_freqs),
            "clock_freqs": list(f.clock_freqs),
            "clock": [[r(xy.reshape(-1), 3) for xy in frame] for frame in f.clock.numpy()],
            "answers": [_bits(a) for a in f.answers.numpy()],
            "train_pairs": _bits(f.train.numpy()),
            "colors": {f"{int(k[0])}{int(k[1])}": v for k, v in ANSWER_COLORS.items()},
        }

    # --- static rendering ---------------------------------------------------------------------------
    def html(self) -> str:
        uid = "gk" + uuid.uuid4().hex[:8]
        n = len(self.frames.steps)
        legend = " · ".join(
            f'<span style="color:{ANSWER_COLORS[k]}">■</span> {html.escape(v)}' for k, v in ANSWER_LABELS.items()
        )
        boxes = {
            "curves": f'<svg class="gk-panel" data-panel="curves" viewBox="0 0 360 220" style="{_BOX}"></svg>',
            "spectrum": f'<svg class="gk-panel" data-panel="spectrum" viewBox="0 0 360 220" style="{_BOX}"></svg>',
            "clock": f'<svg class="gk-panel" data-panel="clock" viewBox="0 0 360 200" style="{_BOX}"></svg>',
            "answers": f'<div style="{_BOX};font-size:12px"><div class="gk-answers-title"></div>'
            f'<canvas class="gk-panel" data-panel="answers"'
            f' width="{self.frames.p}" height="{self.frames.p}" style="width:194px;height:194px;'
            f'image-rendering:pixelated;border:1px solid #ccc"></canvas><div>{legend}</div></div>',
        }
        title = f"<div><strong>{html.escape(self.title)}</strong></div>" if self.title else ""
        return (
            f'<div class="gk-scrubber" id="{uid}" style="font-family:sans-serif;font-size:13px">{title}'
            f'<label>step <input type="range" class="gk-step" min="0" max="{n - 1}" step="1" value="0" '
            'aria-label="training step" style="vertical-align:middle;width:320px"> <output></output></label>'
            '<div style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start">'
            + "".join(boxes[p] for p in self.panels)
            + f"</div><script>({_JS})(document.getElementById({json.dumps(uid)}), {json.dumps(self.state)});"
            "</script></div>"
        )

    # --- live rendering -------------------------------------------------------------------------------
    def frame_png(self, i: int) -> bytes:
        return figure_png(circuit_frame(self.frames, i, self.run))

    def widget(self):
        """An ipywidgets slider over the saved steps and the frame drawn by gk.plots.circuit_frame."""
        import ipywidgets as w

        slider = w.SelectionSlider(
            options=[(f"{s:,}", i) for i, s in enumerate(self.frames.steps)],
            value=0,
            description="step",
            layout=w.Layout(width="520px"),
        )
        image = w.Image(value=self.frame_png(0), format="png")
        slider.observe(lambda change: setattr(image, "value", self.frame_png(change["new"])), names="value")
        box = w.VBox(([w.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []) + [slider, image])
        box.slider, box.image = slider, image
        return box

    def _repr_mimebundle_(self, include=None, exclude=None):
        return both_renderings(self, f"StepScrubber({len(self.frames.steps)} steps)")
