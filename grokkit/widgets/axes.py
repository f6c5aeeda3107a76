"""The step axis the widgets draw their curves on (the scrubber's and the phase explorer's): matplotlib's
symlog (linear below `linthresh`, logarithmic above) mapped to 0..1, and its labelled ticks."""

from __future__ import annotations

import math

__all__ = ["symlog", "step_ticks"]

TICKS = (0, 100, 1000, 10_000, 100_000)


def symlog(x, top: float, linthresh: float = 100.0) -> float:
    """Step `x` on an axis running to `top`: linear below `linthresh`, log10 above, as a fraction of the axis."""
    f = lambda v: v / linthresh if v <= linthresh else 1 + math.log10(v / linthresh)
    return f(x) / f(top)


def step_ticks(top: float) -> list:
    """[[position, label], ...] of the round steps that fit below `top` (with room for their labels)."""
    return [[symlog(t, top), f"{t:,}"] for t in TICKS if t <= top / 1.05]
