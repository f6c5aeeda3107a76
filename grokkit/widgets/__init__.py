"""Sliders that work live in Jupyter/Colab and still move on the static site (precomputed frames).

Explorer(draw, weight_decay=[...], ...)   one slider per keyword over figures drawn by `draw`
StepScrubber(run)                          one slider over a run's saved steps, linked panels
BrowserTrainer(grid)                       trains Chapter 1's model in the reader's browser (TensorFlow.js)
load_browser_run(path)                     its downloaded run as a gk.Run
"""

from grokkit.widgets.browser import BrowserTrainer
from grokkit.widgets.browser_run import BrowserRunError, load_browser_run
from grokkit.widgets.explorer import Explorer, figure_png
from grokkit.widgets.phase_explorer import PhaseExplorer
from grokkit.widgets.scrubber import MAX_STATE_BYTES, PANELS, StepScrubber

__all__ = [
    "Explorer",
    "StepScrubber",
    "PhaseExplorer",
    "BrowserTrainer",
    "load_browser_run",
    "BrowserRunError",
    "figure_png",
    "PANELS",
    "MAX_STATE_BYTES",
]
