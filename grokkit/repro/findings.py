"""Our own findings: numbers the papers do not state, each with its evidence and the command that
measures it. They are not verdicts on a claim; the scorecard lists them in a class of their own.

A finding reads the stored result of the target whose runs measure it (`results/<NN-slug>.json`,
the largest profile stored) and returns a sentence built from those numbers, or None where the
evidence is not stored (then the page says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grokkit.papers import NUMBERS


@dataclass(frozen=True)
class Finding:
    slug: str
    title: str
    target: int  # the target whose stored result holds the evidence
    evidence: Callable[[dict], str | None]  # measured -> the sentence, from the numbers
    command: str

    def text(self, measured: dict | None) -> str | None:
        try:
            return None if measured is None else self.evidence(measured)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None


def _artefact(m):
    v = list(m["defect_by_seed"].values())
    au, ex, f64 = ([x[k] for x in v] for k in ("authors", "exact", "float64"))
    lo, hi = NUMBERS[3]["defect"]
    return (
        f"At initialisation the authors' float32 formula gives D = {min(au):.2f}–{max(au):.2f} (the paper's "
        f"{lo}–{hi}); "
        f"the same batches give {min(ex):.3f}–{max(ex):.3f} with the direct float32 formula and "
        f"{min(f64):.3f}–{max(f64):.3f} in float64. The paper's value is round-off of θ, {min(au) / max(ex):.0f}× "
        "the exact one."
    )


def _nongrok_rise(m):
    runs = m["defect_runs"].values()
    non = [r["growth"]["exact"] for r in runs if not r["grokked"]]
    pre = [r["growth_pre_grok"]["exact"] for r in runs if r["grokked"] and r["weight_decay"] > 0]
    if not non or not pre:
        return None
    return (
        f"With the exact defect, runs that never grok grow it {min(non):.0f}–{max(non):.0f}× over their baseline "
        f"(the paper: ≤ {NUMBERS[8]['growth_nongrok']}×, authors' formula), while grokking runs grow it "
        f"{min(pre):.0f}–{max(pre):.0f}× before t90: before grokking the two overlap, so the defect's rise "
        "does not by itself announce grokking."
    )


def _pc1_length(m):
    by = m["pc1_layer0_by_run"]
    g = [x for v in by["grokking"].values() for x in v]
    n = [x for v in by["nongrokking"].values() for x in v]
    if not g or not n:
        return None
    lo, hi = NUMBERS[6]["nongrokking"]
    return (
        f"On trajectories of the same length ({m['op_budget']:,} steps), the non-grokking operations' layer-0 PC1 "
        f"shares are {min(n):.1f}–{max(n):.1f}% against {min(g):.1f}–{max(g):.1f}% for the grokking ones: the "
        f"paper's {lo}–{hi}% for non-grokking runs comes from {NUMBERS[6]['steps']:,}-step trajectories, and PC1 "
        "depends on how long one looks."
    )


_ER = NUMBERS[13]["exec_random"]


def _pca_basis(m):
    v = m.get("exec_random_pca_whole_run")
    if v is None:
        return None
    return (
        f"With the trajectory-PCA execution basis the text describes (K = 16), the commutator's projected fraction "
        f"is {v:.2f}× that of random 16-dimensional subspaces over the whole run (add, seed 42): the paper's "
        f"{min(_ER.values()):.1f}–{max(_ER.values()):.1f}× rests on the local weight-SVD basis its code used."
    )


_CMD = "python -m grokkit reproduce"
FINDINGS = (
    Finding("float32-artefact", "The defect at initialisation is float32 round-off", 3, _artefact, f"{_CMD} 3"),
    Finding("nongrokking-rise", "The defect rises in runs that never grok", 8, _nongrok_rise, f"{_CMD} 8"),
    Finding("pc1-length", "PC1 at matched trajectory length", 6, _pc1_length, f"{_CMD} 6"),
    Finding("pca-exec-random", "Exec/random for the trajectory-PCA basis", 13, _pca_basis, f"{_CMD} 13"),
)
