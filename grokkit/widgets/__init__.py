"""Sliders that work live in Jupyter/Colab and still move on the static site (precomputed frames).

Explorer(draw, weight_decay=[...], ...)   one slider per keyword over figures drawn by `draw`
StepScrubber(run)                          one slider over a run's saved steps, linked panels
"""

from grokkit.widgets.explorer import Explorer, figure_png
from grokkit.widgets.phase import PhaseExplorer
from grokkit.widgets.scrubber import MAX_STATE_BYTES, PANELS, StepScrubber

__all__ = ["Explorer", "StepScrubber", "PhaseExplorer", "figure_png", "PANELS", "MAX_STATE_BYTES"]
