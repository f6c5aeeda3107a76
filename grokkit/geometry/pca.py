"""Trajectory PCA, subspace bases and projections (papers-spec M1, M3, M4).

All PCA here is Gram-based: for S snapshots of a D-dimensional object (S << D) the S x S Gram matrix
is eigendecomposed instead of the S x D data matrix, so a 1,000-snapshot trajectory of 300K
parameters costs a 1,000 x 1,000 eigenproblem, never a full SVD of the data.
Every function states whether it centres; that choice changes the numbers (papers-spec Q4, Q5).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from grokkit.model import MATRIX_NAMES


@dataclass
class PCA:
    explained: torch.Tensor  # (r,) variance ratio of each component, descending, sums to 1
    components: torch.Tensor  # (r, D) orthonormal rows (principal directions)
    singular_values: torch.Tensor  # (r,) of the (centred or not) data matrix
    mean: torch.Tensor  # (D,) the subtracted mean (zeros when uncentred)

    @property
    def pc1(self) -> float:
        return float(self.explained[0])

    def n_for(self, threshold: float) -> int:
        """Fewest components whose explained ratios sum to >= threshold."""
        return int((torch.cumsum(self.explained, 0) < threshold - 1e-12).sum()) + 1


def pca(X: torch.Tensor, centred: bool, k: int | None = None) -> PCA:
    """PCA of the rows of X (S, D) through the Gram matrix, in float64.

    centred=True subtracts the column mean first (what M1 does); centred=False keeps the origin
    (the uncentred trajectory PCA of the multi-task papers' reconstruction code).
    """
    X = X.reshape(len(X), -1).double()
    mean = X.mean(0) if centred else torch.zeros(X.shape[1], dtype=X.dtype)
    Xc = X - mean
    G = Xc @ Xc.T  # (S, S)
    evals, evecs = torch.linalg.eigh(G)
    order = torch.argsort(evals, descending=True)
    evals, evecs = evals[order].clamp(min=0), evecs[:, order]
    keep = evals > evals[0] * 1e-12 if evals[0] > 0 else torch.zeros_like(evals, dtype=torch.bool)
    keep[0] = True
    if k is not None:
        keep &= torch.arange(len(evals)) < k
    s = evals[keep].sqrt()
    comps = (Xc.T @ evecs[:, keep] / s.clamp(min=1e-300)).T  # (r, D): V = Xᵀ U Σ⁻¹
    total = evals.sum()
    explained = evals[keep] / total if total > 0 else torch.zeros_like(evals[keep])
    return PCA(explained, comps, s, mean)


def trajectory_pca(snapshots: torch.Tensor, centred: bool = True) -> PCA:
    """(M1) PCA of one matrix's trajectory: rows vec(W_t − W_0) for every snapshot t, t = 0 included.

    Default centred (the single-task paper's definition). snapshots: (S, d, d) or (S, D).
    """
    flat = snapshots.reshape(len(snapshots), -1).double()
    return pca(flat - flat[0], centred=centred)


def pc1_shares(attn: dict, centred: bool = True) -> dict:
    """{(layer, W_*): PC1 share} for every attention matrix of a run's snapshots (M1)."""
    return {key: trajectory_pca(s, centred).pc1 for key, s in attn.items()}


def expanding_window_pc1(snapshots: torch.Tensor, n_windows: int = 15, centred: bool = True):
    """(M1, expanding window) PC1 share on rows [0, t) for n growing t (smallest max(5, S/15))."""
    S = len(snapshots)
    lo = max(5, S // 15)
    ends = sorted({int(round(x)) for x in torch.linspace(lo, S, n_windows).tolist() if x >= 2})
    return ends, [trajectory_pca(snapshots[:t], centred).pc1 for t in ends]


def random_walk_null(snapshots: torch.Tensor, trials: int = 10, seed: int = 0) -> torch.Tensor:
    """(M1 null) PC1 shares of random walks with the trajectory's own step lengths, (trials,).

    Keeps ‖W_{t+1} − W_t‖, replaces each step's direction by a uniform random unit vector, sums,
    centres, and takes PC1 from the Gram eigenvalues.
    """
    flat = snapshots.reshape(len(snapshots), -1).double()
    norms = (flat[1:] - flat[:-1]).norm(dim=1)
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(trials):
        steps = torch.randn(len(norms), flat.shape[1], generator=g, dtype=torch.float64)
        steps = steps / steps.norm(dim=1, keepdim=True) * norms[:, None]
        walk = torch.cat([torch.zeros(1, flat.shape[1], dtype=torch.float64), steps.cumsum(0)])
        out.append(pca(walk, centred=True).pc1)
    return torch.tensor(out)


def null_z(pc1: float, null: torch.Tensor) -> float:
    """z = (PC1_real − mean(null)) / std(null)."""
    return float((pc1 - null.mean()) / null.std().clamp(min=1e-12))


# --- subspaces in theta coordinates -----------------------------------------------------------------


def _embed(vectors: dict, offsets: dict, P: int) -> torch.Tensor:
    """Zero-pad per-matrix directions {(layer, W): (k, d*d)} into theta space, (P, total k)."""
    cols = []
    for key, v in vectors.items():
        off, shape = offsets[key]
        n = shape[0] * shape[1]
        block = torch.zeros(P, v.shape[0], dtype=torch.float64)
        block[off : off + n] = v.T.double()
        cols.append(block)
    return torch.cat(cols, 1)


def orthonormal(B: torch.Tensor) -> torch.Tensor:
    """Orthonormal columns spanning B's columns (reduced QR)."""
    return torch.linalg.qr(B)[0]


def execution_basis(
    attn: dict, offsets: dict, P: int, per_matrix: int = 2, centred: bool = True, upto: int | None = None
) -> torch.Tensor:
    """(M3) B (P, K): the top `per_matrix` trajectory-PCA directions of every attention matrix
    (centred, rows W_t − W_0 of snapshots [0, upto)), zero-padded at its place in theta, QR'd.
    K = n_layers x 4 x per_matrix (16 for the papers' model)."""
    vecs = {}
    for key in sorted(attn):
        snaps = attn[key] if upto is None else attn[key][:upto]
        vecs[key] = trajectory_pca(snaps, centred).components[:per_matrix]
    return orthonormal(_embed(vecs, offsets, P))


def local_svd_basis(weights: dict, offsets: dict, P: int, k: int = 3) -> torch.Tensor:
    """(M4, the authors' code) B (P, 8k): for every attention matrix W of the CURRENT weights, its
    top-k rank-one components σ_i u_i v_iᵀ, flattened and normalised, zero-padded, QR'd."""
    vecs = {}
    for key in sorted(weights):
        U, S, Vh = torch.linalg.svd(weights[key].double())
        rank1 = torch.stack([torch.outer(U[:, i], Vh[i]).reshape(-1) for i in range(k)])
        vecs[key] = rank1 / rank1.norm(dim=1, keepdim=True)
    return orthonormal(_embed(vecs, offsets, P))


def largest_principal_angle(A: torch.Tensor, B: torch.Tensor) -> float:
    """The largest principal angle (degrees) between the spans of two orthonormal bases (P, K) of one
    dimension: 0 for the same subspace, 90 where one holds a direction orthogonal to the other (float64)."""
    if A.shape != B.shape:
        raise ValueError(f"bases of one shape needed, got {tuple(A.shape)} and {tuple(B.shape)}")
    s = torch.linalg.svdvals(A.double().T @ B.double()).clamp(max=1.0)
    return float(torch.rad2deg(torch.arccos(s.min())))


def random_basis(P: int, K: int, seed: int = 0) -> torch.Tensor:
    """A uniformly random K-dimensional subspace of R^P: QR of a Gaussian (P, K)."""
    g = torch.Generator().manual_seed(seed)
    return orthonormal(torch.randn(P, K, generator=g, dtype=torch.float64))


def projected_fraction(delta: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """‖B Bᵀ δ‖ / ‖δ‖ for δ (P,) or (n, P); ρ = sqrt(1 − this²) is the residual fraction ‖δ_⊥‖/‖δ‖."""
    d = delta.double()
    return (d @ B).norm(dim=-1) / d.norm(dim=-1)


__all__ = [
    "PCA",
    "pca",
    "trajectory_pca",
    "pc1_shares",
    "expanding_window_pc1",
    "random_walk_null",
    "null_z",
    "execution_basis",
    "local_svd_basis",
    "largest_principal_angle",
    "random_basis",
    "projected_fraction",
    "orthonormal",
    "MATRIX_NAMES",
]


# --- full-parameter trajectory PCA (2602.18523 §3.2; three variants, papers-spec Q5) -----------------

PCA_VARIANTS = ("uncentred", "centred_with_init", "centred_without_init")


def subsample(n: int, max_rows: int) -> list[int]:
    """Evenly spaced indices 0 .. n-1 (first and last kept), at most max_rows of them."""
    if n <= max_rows:
        return list(range(n))
    return sorted({round(i * (n - 1) / (max_rows - 1)) for i in range(max_rows)})


def parameter_pca(thetas: torch.Tensor, variant: str, max_rows: int = 100) -> PCA:
    """PCA of a full-parameter trajectory (rows θ_t, t = 0 first), over <= max_rows evenly spaced
    checkpoints. The variant is required, because it decides what "k PCs reconstruct the model" means:
      "uncentred":            rows θ_t − θ_0 for t >= 1, no centring (the reconstruction code);
      "centred_with_init":    rows θ_t for t >= 0, centred (θ_final − θ_0 lies in their span);
      "centred_without_init": rows θ_t − θ_0 for t >= 1, centred (θ_final − θ_0 does not).
    """
    if variant not in PCA_VARIANTS:
        raise ValueError(f"variant must be one of {PCA_VARIANTS}, got {variant!r}")
    X = thetas[subsample(len(thetas), max_rows)].double()
    if variant == "centred_with_init":
        return pca(X, centred=True)
    return pca(X[1:] - X[0], centred=(variant == "centred_without_init"))
