"""Per-run measurements of a cohort of single-task runs (Chapter 2; the scorecard's targets 6, 7, 8, 13
and 23 judge what these return, run by run).

Every function takes finished runs (or one run and its bases) and returns plain lists and dicts keyed by
`run_label`, so a chapter can record them as JSON:
  defect_cohort         the inline defect of each run read the papers' way (M6), both formulas
  defect_cohort_stats   the cohort's leads, sign test and growth ratios, per formula
  defect_table          a dozen rows of one run's defect by both formulas, its gradient norm and round-off
  pc1_layer0_by_run     layer-0 PC1 shares (M1) of the grokked runs and of the non-grokking operations
  pc1_ranges            their [min, max]
  rho_min_by_run        each grokked run's smallest per-checkpoint ρ against its own execution basis (M3)
  run_execution_basis   a run's own execution basis (M3, K = 16)
  sketch_execution_basis  the same from a run's attention sketch (a run too long to keep its snapshots)
  subspace_fractions    the commutator's projected fraction onto the execution, local weight-SVD and random
                        bases at every checkpoint of one run, and its ρ against the execution basis (M3, M4)
  exec_random_summary   exec/random in the memorisation window, mean and standard error per operation (M4)
  lead_points           (t90, lead, learning rate) of the runs with a positive lead, for the power law
  lead_power_laws       the power-law fit of those points, per formula
  run_label, t90_step   a run's name in the recorded dicts; its t90
  random_fraction       √(K/P), the share of a vector a random K-dimensional subspace captures
  random_rho            √(1 − K/P), the ρ such a subspace leaves
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from grokkit.geometry.commutator import FORMULAS, commutator_defect
from grokkit.geometry.grid import run_cap
from grokkit.geometry.integrability import exec_random_by_checkpoint, rho_by_checkpoint
from grokkit.geometry.onset import defect_summary, power_law_fit, sign_test
from grokkit.geometry.pca import (
    _embed,
    execution_basis,
    local_svd_basis,
    null_z,
    orthonormal,
    pc1_shares,
    projected_fraction,
    random_walk_null,
    trajectory_pca,
)
from grokkit.geometry.sketch import FrequentDirections, MatrixSketches
from grokkit.model import attention_from_params, matrix_offsets, n_params, unflatten

SERIES = {"exact": "defect", "authors": "defect_authors"}  # the inline tracker's series, per formula
MATRICES = ("W_Q", "W_K", "W_V", "W_O")


def run_label(run) -> str:
    """'<op> seed <seed>' ('<op> wd 0 seed <seed>' for weight decay 0): a run's name in recorded dicts."""
    wd = "" if run.config.weight_decay != 0 else " wd 0"
    return f"{run.ops[0]}{wd} seed {run.config.seed}"


def t90_step(run) -> int | None:
    """The first evaluation with test accuracy ≥ 0.90 (M6's grok step), None if never."""
    return run.grok_step(0.9, 1)[0]


def _labelled(runs) -> dict:
    out = {}
    for r in runs:
        name = run_label(r)
        if name in out:
            raise ValueError(f"two runs share the label {name!r}: pass each run once")
        out[name] = r
    return out


def _num(x):
    return None if x is None else (int(x) if isinstance(x, (int, np.integer)) else float(x))


def defect_cohort(runs) -> dict:
    """{run_label: {"op", "weight_decay", "seed", "t90", "cap", "grokked", and per formula f ("exact",
    "authors"): "onset": {f}, "lead": {f}, "growth": {f}, "growth_pre_grok": {f}, "d0": {f}}}.

    Each run's inline defect series ("defect", "defect_authors") read by `defect_summary` against its
    t90 (first evaluation ≥ 90%, None if not reached): onset (M6 rule), lead = t90 − onset, growth =
    whole-run maximum / baseline, growth before t90, and the first value d0. `cap` is the step the run
    stopped at; `grokked` is whether t90 was reached within it; "peak": {f} the whole-run maximum;
    "peak_roundoff": {"authors": the round-off estimate at the authors' peak over that peak} (above 1: the
    peak is float32 rounding, papers-spec M2)."""
    out = {}
    for name, r in _labelled(runs).items():
        t = t90_step(r)
        row = {
            "op": r.ops[0],
            "weight_decay": float(r.config.weight_decay),
            "seed": int(r.config.seed),
            "t90": _num(t),
            "cap": run_cap(r),
            "grokked": t is not None,
        }
        summ = {}
        for f, s in SERIES.items():
            steps, d = r.series(s)
            summ[f] = defect_summary(steps, d, t)
        for key in ("onset", "lead", "growth", "growth_pre_grok", "d0", "peak"):  # DefectSummary's fields
            row[key] = {f: _num(getattr(s, key)) for f, s in summ.items()}
        row["peak_roundoff"] = {"authors": _peak_roundoff(r)}
        out[name] = row
    return out


def _peak_roundoff(run) -> float | None:
    """The tracker's round-off estimate of the authors' formula (`Defect.roundoff`, an upper estimate) at the
    authors' peak, over that peak: above 1 the peak is float32 rounding of θ, not curvature (None: not
    recorded)."""
    try:
        steps, d = run.series("defect_authors")
        r_steps, r = run.series("defect_roundoff")
    except (KeyError, LookupError):
        return None
    i = int(np.argmax(d))
    at = dict(zip(r_steps, r)).get(steps[i])
    return None if at is None or not d[i] else float(at) / float(d[i])


def defect_cohort_stats(cohort: dict) -> dict:
    """Per formula, what Chapter 2 reads off a `defect_cohort`: {f: {"leads": the defined leads of the
    grokked runs, "sign_test": (positive, n, one-sided p) of those leads, "d0": every run's first value,
    "growth_grok" / "growth_pre_grok": whole-run growth and growth before t90 of the grokked runs,
    "growth_nongrok": whole-run growth of the others, and "d0_range", "growth_grok_min",
    "growth_nongrok_max", "growth_pregrok_max" (None when the group is empty)}}. In cohort order."""
    pos = [r for r in cohort.values() if r["grokked"]]
    neg = [r for r in cohort.values() if not r["grokked"]]
    out = {}
    for f in SERIES:
        leads = [r["lead"][f] for r in pos if r["lead"][f] is not None]
        st: dict[str, Any] = {
            "leads": leads,
            "sign_test": sign_test(leads),
            "d0": [r["d0"][f] for r in cohort.values()],
            "growth_grok": [r["growth"][f] for r in pos],
            "growth_pre_grok": [r["growth_pre_grok"][f] for r in pos],
            "growth_nongrok": [r["growth"][f] for r in neg],
        }
        st["d0_range"] = [min(st["d0"]), max(st["d0"])] if st["d0"] else None
        st["growth_grok_min"] = min(st["growth_grok"], default=None)
        st["growth_nongrok_max"] = max(st["growth_nongrok"], default=None)
        st["growth_pregrok_max"] = max(st["growth_pre_grok"], default=None)
        out[f] = st
    return out


def defect_table(run, rows: int = 12) -> list:
    """About `rows` evenly spaced measurements of a run's inline defect (and the last one): [{"step",
    "exact", "authors", "grad_norm", "roundoff"}] from the tracker's series of the same gradients."""
    steps, exact = run.series("defect")
    other = {k: run.series(n)[1] for k, n in (("authors", "defect_authors"), ("grad_norm", "defect_grad_norm"))}
    other["roundoff"] = run.series("defect_roundoff")[1]
    pick = sorted(set(range(0, len(steps), max(1, len(steps) // rows))) | {len(steps) - 1})
    return [
        {"step": int(steps[i]), "exact": float(exact[i])} | {k: float(v[i]) for k, v in other.items()} for i in pick
    ]


def pc1_layer0_by_run(runs, grok_ops) -> dict:
    """{"grokking": {run_label: [Q, K, V, O]}, "nongrokking": {...}}: the PC1 share (%) of the centred
    trajectory PCA (M1, snapshots up to the stop criterion) of each layer-0 attention matrix. "grokking":
    the runs of `grok_ops` that met their stop criterion (`run.grokked`; the others are left out);
    "nongrokking": every run of the other operations."""
    out: dict[str, dict[str, list[float]]] = {"grokking": {}, "nongrokking": {}}
    for name, r in _labelled(runs).items():
        grok_op = r.ops[0] in grok_ops
        if grok_op and not r.grokked:
            continue
        shares = pc1_shares(r.attention_trajectory()[1])
        out["grokking" if grok_op else "nongrokking"][name] = [100 * float(shares[(0, m)]) for m in MATRICES]
    return out


def pc1_ranges(by_run: dict) -> dict:
    """{group: [min, max] over every run and matrix, None if the group is empty} of `pc1_layer0_by_run`."""
    out = {}
    for group, runs in by_run.items():
        vals = [v for shares in runs.values() for v in shares]
        out[group] = [min(vals), max(vals)] if vals else None
    return out


def run_pc1_shares(run) -> dict:
    """PC1 share of every attention matrix of one run ({(layer, "W_Q"...): share}): `pc1_shares` of its
    attention snapshots up to the stop criterion (M1)."""
    return pc1_shares(run.attention_trajectory()[1])


def run_pc1_null_z(run, layer: int = 0, matrix: str = "W_Q", trials: int = 10, seed: int = 0) -> float:
    """How far one attention matrix's PC1 share lies above a random walk's with the same step sizes
    (`null_z` of `trajectory_pca` against `random_walk_null`, snapshots up to the stop criterion)."""
    snaps = run.attention_trajectory()[1][(layer, matrix)]
    return null_z(trajectory_pca(snaps).pc1, random_walk_null(snaps, trials, seed))


def run_execution_basis(run, every: int = 1) -> torch.Tensor:
    """(M3) A run's own execution basis B (P, 16): its attention trajectory (up to the stop criterion); `every`:
    from every `every`-th snapshot only (step 0 kept), as a run with sparser snapshots would have it."""
    if every < 1:
        raise ValueError(f"every must be a positive stride, got {every}")
    model = run.model()
    attn = {key: snaps[::every] for key, snaps in run.attention_trajectory()[1].items()}
    return execution_basis(attn, matrix_offsets(model), n_params(model))


def _sketches(run, rows: int | None) -> dict:
    """{"L{i}.W_*": FrequentDirections}: the run's own sketch (AttentionSketch), or with `rows` its attention
    snapshots (up to the stop step) folded into sketches of that many rows, as the hook would have."""
    if rows is not None:
        sketches = MatrixSketches(rows)
        for (layer, mat), snaps in run.attention_trajectory()[1].items():
            for s in snaps:
                sketches.add(f"L{layer}.{mat}", s)
        return sketches.fd
    names = sorted({n.split("/", 1)[1].rsplit(".", 1)[0] for n in run.tensors if n.startswith("attn_sketch/")})
    if not names:
        raise KeyError("this run has no attention sketch (grokkit.hooks.base.AttentionSketch)")
    out = {}
    for key in names:
        part = lambda p: run.tensors[f"attn_sketch/{key}.{p}"]["value"][-1]
        filled, n, shrink = part("meta").tolist()
        state = {"B": part("rows"), "filled": int(filled), "n": int(n), "sum": part("sum"), "shrink": shrink}
        out[key] = FrequentDirections.from_state(state)
    return out


def sketch_execution_basis(run, per_matrix: int = 2, rows: int | None = None) -> tuple[torch.Tensor, dict]:
    """(M3) A run's execution basis from its attention sketch (grokkit.hooks.base.AttentionSketch: every
    snapshot of the run folded in, none kept): per matrix the top `per_matrix` centred directions of the
    sketched covariance, zero-padded and QR'd as `execution_basis`. `rows`: instead, the run's snapshots folded
    into sketches of that many rows (what a sketch of that size gives, for a run that kept its snapshots).
    Returns (B, {matrix: {"snapshots", "shrink" (the energy the sketch let go; 0: exact), "sin_bound"
    (Davis–Kahan: sine of the largest angle to the exact directions, at most), "top" (the sketched eigenvalues)}})."""
    model = run.model()
    vecs, info = {}, {}
    for key, fd in _sketches(run, rows).items():
        top = fd.top(per_matrix)
        layer, mat = key[1:].split(".")
        vecs[(int(layer), mat)] = top.components
        info[key] = {
            "snapshots": fd.n,
            "shrink": fd.shrink,
            "sin_bound": top.sin_bound,
            "top": top.eigenvalues.tolist(),
        }
    return orthonormal(_embed(vecs, matrix_offsets(model), n_params(model))), info


def rho_min_by_run(runs, generator: torch.Generator | None = None) -> dict:
    """{run_label: {"exact": min ρ, "authors": min ρ, "checkpoints": n}} for the runs that grokked
    (`run.grokked`; the others are skipped): ρ = ‖δ_⊥‖/‖δ‖ of one commutator sample at each of the run's
    n θ checkpoints (`rho_by_checkpoint`), against the run's own execution basis (M3), minimum over the
    checkpoints, by both formulas."""
    out = {}
    for name, r in _labelled(runs).items():
        if not r.grokked:
            continue
        rho = rho_by_checkpoint(r, run_execution_basis(r), generator=generator)
        out[name] = {f: min(rho[f]) for f in FORMULAS} | {"checkpoints": len(rho["steps"])}
    return out


def subspace_fractions(run, B: torch.Tensor, randoms: dict, K: int, generator: torch.Generator | None) -> dict:
    """The commutator's projected fraction ‖B Bᵀδ‖/‖δ‖ (exact δ, K samples) at every θ checkpoint:
    {"steps": [...], "exec": median over samples for B (the execution basis), "local_svd": the same for the
    local weight-SVD basis of the current weights (k = 3 per matrix), "random": {dim: mean over the
    `randoms[dim]` bases of the mean over samples}, "exec_over_random": mean over checkpoints of exec /
    random of B's own dimension (None if `randoms` has no basis of that dimension), "rho": {formula:
    ρ = ‖δ_⊥‖/‖δ‖ against B of the first sample, as the authors' one sample per checkpoint (M3)},
    "rho_min": {formula: its minimum over the checkpoints}}."""
    model, data = run.model().train(), run.dataset()
    offsets, P = matrix_offsets(model), n_params(model)
    steps, thetas = run.trajectory("theta")
    out = {"steps": steps.tolist(), "exec": [], "local_svd": [], "random": {dim: [] for dim in randoms}}
    out["rho"] = {f: [] for f in FORMULAS}
    for theta in thetas:
        params = unflatten(theta, model)
        d = commutator_defect(model, data, params, K=K, generator=generator)
        assert d.exact_deltas is not None and d.authors_deltas is not None  # commutator_defect fills both
        delta = d.exact_deltas.double()
        for f, first in (("exact", delta[:1]), ("authors", d.authors_deltas[:1].double())):
            out["rho"][f].append(float(torch.sqrt((1 - projected_fraction(first, B) ** 2).clamp(min=0))[0]))
        out["exec"].append(float(projected_fraction(delta, B).median()))
        local = local_svd_basis(attention_from_params(params), offsets, P, k=3)
        out["local_svd"].append(float(projected_fraction(delta, local).median()))
        for dim, bases in randoms.items():
            out["random"][dim].append(float(torch.stack([projected_fraction(delta, R) for R in bases]).mean()))
    rand = out["random"].get(B.shape[1])
    out["exec_over_random"] = float(np.mean([a / b for a, b in zip(out["exec"], rand)])) if rand else None
    out["rho_min"] = {f: min(v, default=None) for f, v in out["rho"].items()}
    return out


def exec_random_summary(runs_by_op: dict, randoms: list, K: int, generator: torch.Generator | None) -> dict:
    """exec/random of the local weight-SVD basis in the memorisation window (M4; train ≥ 0.99, test < 0.5;
    `exec_random_by_checkpoint`, K commutator samples, the `randoms` bases), per operation: {"mean": {f:
    {op: mean over the window's checkpoints}}, "se": {f: {op: its standard error (scipy.stats.sem)}},
    "n": {op: checkpoints in the window}}; None where the window has no checkpoint (se: fewer than two)."""
    from scipy.stats import sem  # scipy loads on first use, as in grokkit.stats

    out: dict[str, dict[str, Any]] = {"mean": {f: {} for f in FORMULAS}, "se": {f: {} for f in FORMULAS}, "n": {}}
    for op, run in runs_by_op.items():
        r = exec_random_by_checkpoint(run, randoms, K=K, generator=generator)
        out["n"][op] = len(r["steps"])
        for f in FORMULAS:
            v = r[f]
            out["mean"][f][op] = float(np.mean(v)) if v else None
            out["se"][f][op] = float(sem(v)) if len(v) > 1 else None
    return out


def lead_points(runs) -> dict:
    """{"exact": [[t90, lead, lr], ...], "authors": [...]}: every run with a positive lead (t90 − onset,
    `defect_summary` of its inline defect, per formula), for the lead-time power law. A run passed twice
    (the same cache key) counts once."""
    seen: set[str] = set()
    out: dict[str, list[list[float]]] = {f: [] for f in SERIES}
    for r in runs:
        key = r.info.get("key") or r.config.key()
        if key in seen:
            continue
        seen.add(key)
        t = t90_step(r)
        for f, s in SERIES.items():
            steps, d = r.series(s)
            lead = defect_summary(steps, d, t).lead
            if t is not None and lead is not None and lead > 0:  # (a lead implies a t90)
                out[f].append([int(t), int(lead), float(r.config.lr)])
    return out


def lead_power_laws(points: dict) -> dict:
    """{formula: the fit lead ∝ t90^α of `lead_points`' points, None with fewer than two}."""
    fit = lambda pts: power_law_fit([p[0] for p in pts], [p[1] for p in pts]) if len(pts) >= 2 else None
    return {f: fit(pts) for f, pts in points.items()}


def random_fraction(K: int, P: int) -> float:
    """√(K/P): the expected share ‖B Bᵀδ‖/‖δ‖ of a vector in R^P that a random K-dim subspace captures
    (M4)."""
    return math.sqrt(K / P)


def random_rho(K: int, P: int) -> float:
    """√(1 − K/P): the ρ = ‖δ_⊥‖/‖δ‖ a random K-dim subspace of R^P leaves (M3's dimension argument)."""
    return math.sqrt(1 - K / P)


__all__ = [
    "MATRICES",
    "SERIES",
    "defect_cohort",
    "defect_cohort_stats",
    "defect_table",
    "exec_random_summary",
    "lead_points",
    "lead_power_laws",
    "pc1_layer0_by_run",
    "pc1_ranges",
    "random_fraction",
    "rho_min_by_run",
    "run_execution_basis",
    "sketch_execution_basis",
    "run_label",
    "subspace_fractions",
    "random_rho",
    "t90_step",
]
