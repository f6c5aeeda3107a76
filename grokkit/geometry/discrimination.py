"""Is a quantity measured during training a PREDICTOR of grokking? ROC AUC across runs.

For runs labelled "groks within the budget" (t90 reached) or not, the score of a run at step t is
the last value measured at or before t (a series recorded every 100 steps, say). The AUC is
P(score of a grokking run > score of a non-grokking run) (ties count one half), computed with
scikit-learn's `roc_auc_score`: 0.5 is chance, 1.0 perfect separation with grokking runs higher,
0.0 perfect separation the other way. Only steps before the earliest grok make it a prediction.
A run that did not grok by its cap is censored: the label says "no grok by N steps", not "never".
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np


@dataclass
class AUC:
    step: int
    auc: float  # nan when a class is empty or a score is missing
    n_pos: int  # runs that grok within the budget
    n_neg: int  # runs that do not (censored at their cap)


def value_at(steps, values, t):
    """The last value measured at or before step t (None if nothing was measured by then)."""
    i = bisect.bisect_right(list(steps), t)
    return None if i == 0 else values[i - 1]


def auc_by_step(series, labels, at) -> list[AUC]:
    """AUC of the score "value at step t" for each t in `at`.

    series: one (steps, values) per run; labels: True where the run groks within its budget."""
    from sklearn.metrics import roc_auc_score

    if len(series) != len(labels):
        raise ValueError(f"{len(series)} series but {len(labels)} labels")
    y = np.array([bool(x) for x in labels])
    out = []
    for t in at:
        scores = [value_at(s, v, t) for s, v in series]
        ok = [i for i, x in enumerate(scores) if x is not None and np.isfinite(float(x))]
        yy, ss = y[ok], np.array([float(scores[i]) for i in ok])
        n_pos, n_neg = int(yy.sum()), int((~yy).sum())
        auc = float(roc_auc_score(yy, ss)) if n_pos and n_neg else float("nan")
        out.append(AUC(int(t), auc, n_pos, n_neg))
    return out


def steps_before(first_grok: int, every: int = 500, start: int = 500) -> list[int]:
    """Prediction steps: multiples of `every` from `start` strictly before the earliest grok."""
    return list(range(start, int(first_grok), every))


def weight_norms(run) -> tuple[list[int], list[float]]:
    """(steps, ‖θ‖) at the run's saved theta checkpoints: the cheapest baseline predictor."""
    steps, thetas = run.trajectory("theta")
    return steps.tolist(), thetas.double().norm(dim=1).tolist()


def onset_indicator(steps, onset) -> tuple[list[int], list[float]]:
    """(steps, 1.0 where the onset rule has fired by that step, else 0.0): the onset rule as a score."""
    steps = list(steps)
    return steps, [float(onset is not None and s >= onset) for s in steps]
