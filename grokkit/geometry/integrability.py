"""Per-checkpoint measurements of the commutator against a subspace (papers-spec M3–M4, §2.3).

Both read a run's saved θ snapshots and compute the defect there (the same four gradients give both
formulas, see `commutator_defect`):
  rho_by_checkpoint         ρ = ‖δ_⊥‖/‖δ‖ of ONE sample per checkpoint (as the authors' code), against
                            a fixed basis B (the run's execution basis); the statistic a target
                            reports is its minimum over checkpoints.
  exec_random_by_checkpoint exec/random = median over K samples of ‖B_exec Bᵀδ‖/‖δ‖, B_exec the local
                            weight-SVD basis of the CURRENT weights (k = 3 per attention matrix, K = 24),
                            over the mean of the same fraction for random bases of the same dimension;
                            `window="memorisation"` keeps checkpoints with train accuracy ≥ 0.99 and test
                            accuracy < 0.5 (all tasks), as the paper's memorisation mean.
"""

from __future__ import annotations

import torch

from grokkit.geometry.commutator import FORMULAS, commutator_defect
from grokkit.geometry.pca import local_svd_basis, projected_fraction
from grokkit.model import attention_from_params, matrix_offsets, n_params, unflatten

WINDOWS = ("all", "memorisation")


def _checkpoints(run, window: str):
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}, got {window!r}")
    steps, thetas = run.trajectory("theta")
    if window == "all":
        return list(zip(steps.tolist(), thetas))
    train = dict(zip(run.steps, zip(*[run.curve("train_acc", t)[1] for t in range(len(run.config.ops))])))
    test = dict(zip(run.steps, zip(*[run.curve("test_acc", t)[1] for t in range(len(run.config.ops))])))
    keep = lambda s: s in train and min(train[s]) >= 0.99 and max(test[s]) < 0.5
    return [(int(s), th) for s, th in zip(steps.tolist(), thetas) if keep(int(s))]


def rho_by_checkpoint(
    run, B: torch.Tensor, *, generator: torch.Generator | None = None, task_a=None, task_b=None, window: str = "all"
) -> dict:
    """{"steps": [...], "exact": [ρ], "authors": [ρ]}: one commutator sample per checkpoint."""
    model, data = run.model().train(), run.dataset()
    out: dict[str, list] = {"steps": []} | {f: [] for f in FORMULAS}
    for s, theta in _checkpoints(run, window):
        d = commutator_defect(
            model, data, unflatten(theta, model), K=1, generator=generator, task_a=task_a, task_b=task_b
        )
        assert d.exact_deltas is not None and d.authors_deltas is not None  # commutator_defect fills both
        out["steps"].append(s)
        for f, delta in (("exact", d.exact_deltas), ("authors", d.authors_deltas)):
            out[f].append(float(torch.sqrt((1 - projected_fraction(delta.double(), B) ** 2).clamp(min=0))[0]))
    return out


def exec_random_by_checkpoint(
    run,
    randoms: list,
    *,
    K: int = 7,
    generator: torch.Generator | None = None,
    window: str = "memorisation",
    k: int = 3,
) -> dict:
    """{"steps": [...], "exact": [ratio], "authors": [ratio]} at every checkpoint of `window`."""
    model, data = run.model().train(), run.dataset()
    offsets, P = matrix_offsets(model), n_params(model)
    out: dict[str, list] = {"steps": []} | {f: [] for f in FORMULAS}
    for s, theta in _checkpoints(run, window):
        params = unflatten(theta, model)
        d = commutator_defect(model, data, params, K=K, generator=generator)
        assert d.exact_deltas is not None and d.authors_deltas is not None  # commutator_defect fills both
        B = local_svd_basis(attention_from_params(params), offsets, P, k=k)
        out["steps"].append(s)
        for f, delta in (("exact", d.exact_deltas.double()), ("authors", d.authors_deltas.double())):
            rand = torch.stack([projected_fraction(delta, R) for R in randoms]).mean()
            out[f].append(float(projected_fraction(delta, B).median() / rand))
    return out
