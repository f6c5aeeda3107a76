"""Every figure the chapters show. Each function takes runs or measurements, draws on new axes and
returns the figure; nothing is shown or saved here (notebooks display what they get back).
Compute lives elsewhere: this module only draws.
"""

from grokkit.plots.geometry import (
    auc_by_step,
    defect_formulas,
    defect_overlay,
    fourier_spectrum,
    fractions_over_training,
    pc1_table,
)
from grokkit.plots.progress_measures import ANSWER_COLORS, ANSWER_LABELS, answer_image, circuit_frame, progress_measures
from grokkit.plots.style import TASK_COLORS, use_style
from grokkit.plots.training import (
    accuracy_and_energy,
    curves,
    dose_response,
    grok_steps_by_group,
    heatmap,
    power_law,
    spectra,
    test_accuracy_grid,
    xy_lines,
)

__all__ = [
    "TASK_COLORS",
    "use_style",
    "curves",
    "test_accuracy_grid",
    "grok_steps_by_group",
    "heatmap",
    "xy_lines",
    "spectra",
    "accuracy_and_energy",
    "dose_response",
    "power_law",
    "fourier_spectrum",
    "pc1_table",
    "defect_overlay",
    "defect_formulas",
    "auc_by_step",
    "fractions_over_training",
    "progress_measures",
    "circuit_frame",
    "answer_image",
    "ANSWER_COLORS",
    "ANSWER_LABELS",
]
