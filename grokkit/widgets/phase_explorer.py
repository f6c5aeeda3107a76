"""`PhaseExplorer(grid)`: weight decay × train fraction, the grokking phase diagram beside the curves.

`grid` is a `grokkit.engines.sweep` over `weight_decay` and `train_frac` (and optionally `seed`). Two sliders
(or a click on a cell) pick a cell; the page shows that cell's train/test accuracy curves (one pair per
seed) and the phase diagram:
  * each cell coloured by its grok step (t98×3; the Kaplan–Meier median over the seeds, a seed that
    did not grok censored at its cap: `grokkit.geometry.cell_medians`; log scale);
  * a cell whose median is not reached (no grok, or more than half the seeds censored) is marked by how
    its runs that did not grok ended (`grokkit.geometry.outcome`): grey × memorised only, blue … test
    accuracy rising but not held, orange ~ train accuracy not kept, red ! diverged (all censored: no grok
    by the budget, drawn apart from grokked cells);
  * "k/n" where only some seeds grokked, and the seed spread (min–max) when there are several seeds;
  * the selected cell outlined.
About 80 lines of JavaScript draw it as SVG from a JSON state computed once, so the static site, Colab
and a trusted notebook all show it live without a kernel. Budget: the state stays under
MAX_STATE_BYTES (1 MB; Chapter 1's 8 × 5 grid of one seed is 0.03 MB), else ValueError: lower `points`.
"""

from __future__ import annotations

import html
import json
import math
import uuid

from matplotlib import colormaps
from matplotlib.colors import to_hex

from grokkit.geometry.grid import cell_medians, grok_cells, outcome
from grokkit.widgets.axes import step_ticks, symlog
from grokkit.widgets.explorer import inline_js

MAX_STATE_BYTES = 1_000_000
_JS = inline_js("phase_explorer.js")


def _thin(xs, n):
    """At most n evenly spaced indices of a sequence, first and last kept."""
    if len(xs) <= n:
        return list(range(len(xs)))
    return sorted({round(i * (len(xs) - 1) / (n - 1)) for i in range(n)})


MARKS = {
    "memorise": ("×", "#d9d9d9"),
    "late": ("…", "#c6dbef"),
    "unstable": ("~", "#fdd0a2"),
    "diverged": ("!", "#fcbba1"),
}


class PhaseExplorer:
    """Sliders over a weight-decay x train-fraction sweep: `gk.widgets.PhaseExplorer(grid)`."""

    def __init__(self, grid, title: str = "", points: int = 150, source: str = ""):
        missing = {"weight_decay", "train_frac"} - set(grid.values)
        if missing:
            raise ValueError(f"the sweep must vary weight_decay and train_frac (missing: {sorted(missing)})")
        extra = set(grid.values) - {"weight_decay", "train_frac", "seed"}
        if extra:
            raise ValueError(f"the sweep may vary only weight_decay, train_frac and seed, not {sorted(extra)}")
        self.grid, self.title, self.source = grid, title, source
        self.state = self._state(points)
        size = len(json.dumps(self.state))
        if size > MAX_STATE_BYTES:
            raise ValueError(f"the explorer's state is {size:,} bytes (budget {MAX_STATE_BYTES:,}): lower points")
        self.state_bytes = size

    def _state(self, points: int) -> dict:
        g = self.grid
        wds, fracs = list(g.values["weight_decay"]), list(g.values["train_frac"])
        top = max(r.steps[-1] for r in g.runs) * 1.05
        budget = max(r.config.max_steps for r in g.runs)
        cells = grok_cells(g)
        grokked = [t for ts in cells.values() for t in ts if t is not None]
        lo, hi = (min(grokked), max(grokked)) if grokked else (1, 2)
        cmap = colormaps["viridis_r"]
        shade = lambda t: to_hex(
            cmap(0.5 if hi == lo else (math.log(t) - math.log(lo)) / (math.log(hi) - math.log(lo)))
        )
        curves, phase = {}, {}
        for pt, run in g:
            key = f"{wds.index(pt['weight_decay'])},{fracs.index(pt['train_frac'])}"
            idx = _thin(run.steps, points)
            curves.setdefault(key, []).append(
                {
                    "seed": run.config.seed,
                    "x": [round(symlog(run.steps[i], top), 4) for i in idx],
                    "train": [round(run.curve("train_acc")[1][i], 3) for i in idx],
                    "test": [round(run.curve("test_acc")[1][i], 3) for i in idx],
                }
            )
        kinds: dict = {}
        for pt, run in g:
            kinds.setdefault((pt["weight_decay"], pt["train_frac"]), []).append(outcome(run))
        medians = cell_medians(g)
        for (w, f), ts in cells.items():
            done = [t for t in ts if t is not None]
            med = medians[(w, f)]
            censored = [k for k in kinds[(w, f)] if k != "grok"]
            empty = None if med else MARKS[max(censored, key=list(MARKS).index)]  # the worst outcome
            phase[f"{wds.index(w)},{fracs.index(f)}"] = {
                "t": med,
                "steps": ts,
                "outcomes": kinds[(w, f)],
                "color": shade(med) if med else empty[1],
                "label": (f"{med / 1000:.1f}k" if med else empty[0])
                + ("" if len(done) in (0, len(ts)) else f" {len(done)}/{len(ts)}"),
                "spread": f"{min(done):,}–{max(done):,}" if len(done) > 1 else "",
            }
        ticks = step_ticks(top)
        return {"wds": wds, "fracs": fracs, "curves": curves, "phase": phase, "ticks": ticks, "budget": budget}

    def html(self) -> str:
        uid = "gk" + uuid.uuid4().hex[:8]
        s = self.state

        def slider(name, axis, values):
            labels = [f"{v:g}" for v in values]
            return (
                f'<label style="display:block;margin:2px 0">{html.escape(name)} <input type="range" '
                f'class="gk-phase-{axis}" min="0" max="{len(values) - 1}" step="1" value="{len(values) // 2}" '
                f'aria-label="{html.escape(name)}" style="vertical-align:middle;width:260px"> '
                f"<output data-labels='{html.escape(json.dumps(labels))}'></output></label>"
            )

        title = f"<div><strong>{html.escape(self.title)}</strong></div>" if self.title else ""
        source = f'<div style="color:#555">{html.escape(self.source)}</div>' if self.source else ""
        box = "flex:1 1 300px;max-width:420px;height:auto"
        return (
            f'<div class="gk-phase" id="{uid}" style="font-family:sans-serif;font-size:13px">{title}{source}'
            + slider("weight decay", "wd", s["wds"])
            + slider("train fraction", "frac", s["fracs"])
            + '<div style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start">'
            f'<svg class="gk-panel" data-panel="curves" viewBox="0 0 360 230" style="{box}"></svg>'
            f'<svg class="gk-panel" data-panel="phase" viewBox="0 0 360 230" style="{box}"></svg></div>'
            f"<script>({_JS})(document.getElementById({json.dumps(uid)}), {json.dumps(s)});</script></div>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        n = len(self.state["wds"]) * len(self.state["fracs"])
        return {"text/html": self.html(), "text/plain": f"PhaseExplorer({n} cells)"}
