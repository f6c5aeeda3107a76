import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import grokkit as gk
from grokkit.widgets import Explorer


def _draw(weight_decay, seed):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [weight_decay, seed])
    return fig


def test_explorer_precomputes_every_frame_and_renders_both_ways():
    ex = Explorer(_draw, weight_decay=[0.1, 1.0, 3.0], seed=[1, 2], title="demo")
    assert len(ex.frames) == 6 and len(set(ex.frames.values())) == 6
    html = ex.html()
    assert html.count('type="range"') == 2 and html.count("data:image/png;base64,") == 7  # 6 frames + shown
    bundle = ex._repr_mimebundle_()
    assert "text/html" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
    box = ex.widget()
    before = box.image.value
    box.sliders["weight_decay"].value = 3.0  # the live widget redraws through `draw`
    assert box.image.value != before and box.image.value == ex.frame(weight_decay=3.0, seed=1)


def test_single_valued_axes_are_shown_as_text():
    html = Explorer(_draw, weight_decay=[0.1, 1.0], seed=[5]).html()
    assert html.count('type="range"') == 1 and "seed: 5" in html


def test_explorer_rejects_bad_axes():
    with pytest.raises(ValueError, match="at least one slider"):
        Explorer(_draw)
    with pytest.raises(ValueError, match="non-empty list"):
        Explorer(_draw, weight_decay=0.1)


def test_figure_functions_return_figures(fast_run):
    figs = [
        gk.plots.curves(fast_run),
        gk.plots.test_accuracy_grid([fast_run] * 2, ["a", "b"]),
        gk.plots.grok_steps_by_group({"a": [100, None]}, {"a": 300}),
        gk.plots.heatmap(np.array([[1.0, np.nan]]), [1, 2], [3], "x", "y"),
        gk.plots.fourier_spectrum(np.ones(5), np.arange(5.0) + 1),
    ]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)
    plt.close("all")
