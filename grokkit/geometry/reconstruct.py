"""Compressing a grokked model (2602.18649, 2602.18523 §3.2): build θ_rec from θ_0 and θ_final, then test it.

Every method here keeps θ_0 and replaces Δ = θ_final − θ_0 by an approximation:
  * per-matrix SVD:  W_0 + (rank-r truncation of ΔW) for every 2-D parameter; 1-D parameters final;
  * joint SVD:       the ΔW of several matrices stacked row-wise (they share their input width) and
                     truncated to rank r together, then split back; two stackings, named:
                     "input_width" (all matrices with the same number of columns in one stack) and
                     "per_layer" (the same, within each block; embeddings and heads form their own
                     groups); rank is counted per stack;
  * trajectory PCA:  θ_0 + B_k B_kᵀ Δ with B_k from `parameter_pca` (variant required);
  * magnitude pruning: keep the largest `keep` fraction of |Δ_i| over all parameters, reset the rest;
  * rescaling:       θ_0 + s Δ.
`spectral_energy` is the share Σ_{i≤r} σ_i² / Σ σ_i² that a rank-r truncation keeps.
"""

from __future__ import annotations

import re

import torch

from grokkit.geometry.pca import PCA_VARIANTS, parameter_pca
from grokkit.model import flatten, unflatten
from grokkit.objective import evaluate

STACKINGS = ("input_width", "per_layer")


def _truncate(M: torch.Tensor, r: int) -> torch.Tensor:
    U, S, Vh = torch.linalg.svd(M.double(), full_matrices=False)
    r = min(r, len(S))
    return (U[:, :r] * S[:r]) @ Vh[:r]


def spectral_energy(M: torch.Tensor, r: int) -> float:
    s2 = torch.linalg.svdvals(M.double()) ** 2
    return float(s2[:r].sum() / s2.sum()) if s2.sum() > 0 else 1.0


def per_matrix_svd(theta0: dict, final: dict, r: int) -> tuple[dict, float]:
    """θ_rec and the mean spectral energy kept over the 2-D parameters."""
    out, energies = {}, []
    for name, w in final.items():
        if w.dim() == 2:
            d = (w - theta0[name]).double()
            out[name] = (theta0[name].double() + _truncate(d, r)).to(w.dtype)
            energies.append(spectral_energy(d, r))
        else:
            out[name] = w
    return out, sum(energies) / len(energies)


def _group(name: str, w: torch.Tensor, stacking: str) -> tuple:
    if stacking == "input_width":
        return (w.shape[1],)
    layer = re.match(r"blocks\.(\d+)\.", name)
    return (layer.group(1) if layer else name.split(".")[0], w.shape[1])


def joint_svd(theta0: dict, final: dict, r: int, stacking: str) -> tuple[dict, float]:
    """θ_rec with the ΔW of each stack truncated jointly to rank r; and the mean energy kept per stack."""
    if stacking not in STACKINGS:
        raise ValueError(f"stacking must be one of {STACKINGS}, got {stacking!r}")
    groups: dict = {}
    for name, w in final.items():
        if w.dim() == 2:
            groups.setdefault(_group(name, w, stacking), []).append(name)
    out = dict(final)
    energies = []
    for names in groups.values():
        D = torch.cat([(final[n] - theta0[n]).double() for n in names], 0)  # rows stacked, shared columns
        T = _truncate(D, r)
        energies.append(spectral_energy(D, r))
        row = 0
        for n in names:
            k = final[n].shape[0]
            out[n] = (theta0[n].double() + T[row : row + k]).to(final[n].dtype)
            row += k
    return out, sum(energies) / len(energies)


def pca_reconstruction(thetas: torch.Tensor, k: int, variant: str, max_rows: int = 100) -> tuple[torch.Tensor, float]:
    """θ_0 + B_k B_kᵀ (θ_final − θ_0), B_k the top-k PCs of the trajectory (variant as in parameter_pca);
    and the share of ‖Δ‖² it keeps. thetas: (T, P), θ_0 first, θ_final last."""
    res = parameter_pca(thetas, variant, max_rows)
    B = res.components[:k].T  # (P, k)
    delta = (thetas[-1] - thetas[0]).double()
    proj = B @ (B.T @ delta)
    return (thetas[0].double() + proj).float(), float(proj.norm() ** 2 / delta.norm() ** 2)


def pca_energies(thetas: torch.Tensor, ks, variant: str, max_rows: int = 100) -> list[float]:
    """`pca_reconstruction(thetas, k, variant)[1]` for every k of `ks`, from one PCA (the same numbers)."""
    res = parameter_pca(thetas, variant, max_rows)
    delta = (thetas[-1] - thetas[0]).double()
    out = []
    for k in ks:
        B = res.components[:k].T
        proj = B @ (B.T @ delta)
        out.append(float(proj.norm() ** 2 / delta.norm() ** 2))
    return out


def magnitude_prune(theta0: torch.Tensor, final: torch.Tensor, keep: float) -> torch.Tensor:
    """Keep the `keep` fraction of coordinates with the largest |Δ|; the rest go back to θ_0."""
    delta = final - theta0
    n = int(round(keep * delta.numel()))
    out = theta0.clone()
    if n > 0:
        idx = delta.abs().topk(n).indices
        out[idx] = final[idx]
    return out


def rescale(theta0: torch.Tensor, final: torch.Tensor, s: float) -> torch.Tensor:
    return theta0 + s * (final - theta0)


@torch.no_grad()
def test_accuracy(model, data, params) -> list[float]:
    """Per-task test accuracy of `model`'s architecture at `params` (a theta vector or a name->tensor dict)."""
    if isinstance(params, torch.Tensor):
        params = unflatten(params, model)
    saved = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.load_state_dict({n: v.to(saved[n].dtype) for n, v in params.items()})
    try:
        return evaluate(model, data)[1].tolist()
    finally:
        model.load_state_dict(saved)


K_STAR_THRESHOLD = 0.90  # 2602.18523 §3.2: k* = the smallest k with EVERY task's test accuracy >= 0.90 (absolute)


def first_reaching(xs, accs, threshold: float = K_STAR_THRESHOLD):
    """The first x whose per-task accuracies are ALL at or above `threshold` (None: none in the grid)."""
    return next((x for x, acc in zip(xs, accs) if min(acc) >= threshold), None)


def compression_summary(
    run, *, ranks, ks, keeps, factors, threshold: float = K_STAR_THRESHOLD, k_max: int = 20, energy_rank: int = 8
) -> dict:
    """The static compressions of one grokked run (2602.18523 §3.2, 2602.18649), every score a per-task
    test accuracy (absolute, in the run's task order):
      svd_acc        per-matrix SVD of ΔW at each rank r;
      pca_acc        trajectory-PCA reconstruction with k PCs under each centring (PCA_VARIANTS);
      pruning_acc    magnitude pruning of Δ = θ_final − θ_0 keeping a fraction;
      rescaling_acc  θ_0 + sΔ;
      k_star         the paper's k*: the smallest k <= `k_max` (1..20 in the paper) with every task at or
                     above `threshold`; for "centred_without_init" the whole grid is searched (the paper
                     reports chance for every k <= 30); None: not within it;
      rank_needed    the first rank with every task at or above `threshold`;
      energy_at_rank the mean share of ΔW's spectral energy that rank `energy_rank` keeps;
      final_acc      the final model's per-task accuracy."""
    model, data = run.model(), run.dataset()
    _, thetas = run.trajectory("theta")
    theta0, final = unflatten(thetas[0], model), dict(run.weights)
    acc = lambda params: test_accuracy(model, data, params)
    svd_out = {r: per_matrix_svd(theta0, final, r) for r in ranks}
    svd = {r: acc(p) for r, (p, _) in svd_out.items()}
    pcs = {v: {k: acc(pca_reconstruction(thetas, k, v)[0]) for k in ks} for v in PCA_VARIANTS}
    t1 = flatten(model)
    limit = lambda v: ks if v == "centred_without_init" else [k for k in ks if k <= k_max]
    energy = per_matrix_svd(theta0, final, energy_rank)[1] if energy_rank else None
    return {
        "ops": list(run.ops),
        "final_acc": acc(final),
        "k_star": {v: first_reaching(limit(v), [pcs[v][k] for k in limit(v)], threshold) for v in PCA_VARIANTS},
        "k_star_threshold": threshold,
        "rank_needed": first_reaching(list(ranks), [svd[r] for r in ranks], threshold),
        "svd_acc": {str(r): a for r, a in svd.items()},
        "pca_acc": {v: {str(k): a for k, a in by_k.items()} for v, by_k in pcs.items()},
        "pruning_acc": {str(q): acc(magnitude_prune(thetas[0], t1, q)) for q in keeps},
        "rescaling_acc": {str(s): acc(rescale(thetas[0], t1, s)) for s in factors},
        "energy_at_rank": {"rank": energy_rank, "share": energy},
        "svd_energy": {str(r): e for r, (_, e) in svd_out.items()},
    }
