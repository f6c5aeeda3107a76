"""Sliders over results a chapter already computed: live in Jupyter/Colab, still alive on the static site.

`Explorer(draw, weight_decay=[...], train_frac=[...])` calls `draw(**values)` (which must return a
matplotlib figure) for every combination once, keeping each as a PNG frame. Displayed, it offers two
renderings of the same object:
  * `application/vnd.jupyter.widget-view+json`: ipywidgets sliders that redraw with `draw` (live kernel);
  * `text/html`: range inputs and a few lines of JavaScript that swap the precomputed frames, so the
    published book (no kernel) really moves the curves. The book's _config.yml ranks text/html first.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import uuid
from pathlib import Path

import matplotlib.pyplot as plt


def inline_js(name: str) -> str:
    """A widget's drawing code (grokkit/widgets/<name>), with the shared SVG helper (svg.js) inlined."""
    here = Path(__file__).parent
    return (here / name).read_text().replace("/* svg.js */", (here / "svg.js").read_text())


def figure_png(fig, dpi: int = 80) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


class Explorer:
    """One slider per keyword (name -> list of values) over figures drawn by `draw(**values)`."""

    def __init__(self, draw, *, title: str = "", dpi: int = 80, **axes):
        if not axes:
            raise ValueError("give at least one slider, e.g. weight_decay=[0.1, 0.3, 1.0]")
        for name, values in axes.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise ValueError(f"slider {name!r} needs a non-empty list of values, got {values!r}")
        self.draw, self.title, self.dpi = draw, title, dpi
        self.axes = {k: list(v) for k, v in axes.items()}
        self.frames = {
            combo: figure_png(draw(**dict(zip(self.axes, combo))), dpi)
            for combo in itertools.product(*self.axes.values())
        }

    def frame(self, **values) -> bytes:
        return self.frames[tuple(values[k] for k in self.axes)]

    # --- static rendering ---------------------------------------------------------------------------
    def html(self) -> str:
        uid = "gk" + uuid.uuid4().hex[:8]
        sizes = [len(v) for v in self.axes.values()]
        frames = ["data:image/png;base64," + base64.b64encode(png).decode() for png in self.frames.values()]
        rows = []
        for j, (name, values) in enumerate(self.axes.items()):
            labels = [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in values]
            if len(values) == 1:  # nothing to choose: a fixed value, shown as text
                rows.append(
                    f'<div class="gk-fixed" style="margin:2px 0">{html.escape(name)}: '
                    f'{html.escape(labels[0])}</div><input type="hidden" class="gk-slider" value="0">'
                )
                continue
            rows.append(
                f'<label style="display:block;margin:2px 0">{html.escape(name)} '
                f'<input type="range" class="gk-slider" data-axis="{j}" min="0" max="{len(values) - 1}" step="1" '
                f'value="0" aria-label="{html.escape(name)}" style="vertical-align:middle;width:220px"> '
                f"<output data-labels='{html.escape(json.dumps(labels))}'>{html.escape(labels[0])}</output></label>"
            )
        title = f"<div><strong>{html.escape(self.title)}</strong></div>" if self.title else ""
        return (
            f'<div class="gk-explorer" id="{uid}">{title}{"".join(rows)}'
            f'<img class="gk-frame" src="{frames[0]}" alt="{html.escape(self.title or "figure")}" '
            'style="max-width:100%">'
            f'<script>(function(){{var root=document.getElementById("{uid}");var frames={json.dumps(frames)};'
            f'var sizes={json.dumps(sizes)};var sl=root.querySelectorAll("input.gk-slider");'
            f"function show(){{var idx=0;for(var j=0;j<sl.length;j++){{idx=idx*sizes[j]+parseInt(sl[j].value);"
            "var out=sl[j].nextElementSibling;"
            "if(out&&out.dataset.labels)out.textContent=JSON.parse(out.dataset.labels)[sl[j].value];}"
            f'root.querySelector("img.gk-frame").src=frames[idx];}}'
            f'sl.forEach(function(s){{s.addEventListener("input",show);}});show();}})();</script></div>'
        )

    # --- live rendering -------------------------------------------------------------------------------
    def widget(self):
        """ipywidgets sliders + an Image that `draw` re-renders on every change."""
        import ipywidgets as w

        sliders = {
            name: w.SelectionSlider(
                options=values,
                value=values[0],
                description=name,
                style={"description_width": "initial"},
                layout=w.Layout(width="420px"),
                disabled=len(values) == 1,
            )
            for name, values in self.axes.items()
        }
        image = w.Image(value=self.frame(**{k: s.value for k, s in sliders.items()}), format="png")

        def redraw(_=None):
            image.value = figure_png(self.draw(**{k: s.value for k, s in sliders.items()}), self.dpi)

        for s in sliders.values():
            s.observe(redraw, names="value")
        children = ([w.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []) + [*sliders.values(), image]
        box = w.VBox(children)
        box.sliders, box.image = sliders, image
        return box

    def _repr_mimebundle_(self, include=None, exclude=None):
        return both_renderings(self, f"Explorer({', '.join(self.axes)})")


def both_renderings(obj, text: str) -> dict:
    """A widget's mime bundle: its static `html()` (the site) and, where ipywidgets and a frontend are
    there, its live `widget()` view (a kernel)."""
    bundle = {"text/html": obj.html(), "text/plain": text}
    try:
        view = obj.widget()._repr_mimebundle_()
    except Exception:  # no ipywidgets / no frontend: the static rendering still works
        view = None
    if view:
        bundle.update({k: v for k, v in view.items() if k != "text/plain"})
    return bundle
