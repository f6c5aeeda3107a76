"""A streaming sketch of a trajectory's covariance: Frequent Directions (Liberty 2013; Ghashami, Liberty, Phillips
and Woodruff 2016), for runs too long to keep their snapshots.

A run of target 25 trains ≈ 600k steps across several GPU leases; the paper's execution basis (M3) takes the top 2
centred PCA directions of every attention matrix's snapshots, one every 2,000 steps: ≈ 300 snapshots, 240 MB, more
than a lease can carry on. The sketch keeps, per matrix, `rows` rows B (float32) whose Gram matrix BᵀB approximates
DᵀD for the deviations d_t = W_t − W_0 seen so far, and their exact sum and count. Its guarantee (Ghashami et al.,
Theorem 1.1): for every unit vector v, 0 ≤ ‖Dv‖² − ‖Bv‖² ≤ Δ, where Δ (`shrink`) is the total energy the sketch
let go, itself at most ‖D − D_k‖²_F / (rows − k) for every k < rows. Centring is exact (the mean is kept), so the
centred covariance C = DᵀD − n·d̄d̄ᵀ is approximated by C̃ = BᵀB − n·d̄d̄ᵀ with 0 ≼ C − C̃ ≼ Δ·I, and by Davis–Kahan
the sine of the largest angle between C's and C̃'s top-k subspaces is at most Δ / (λ_k − λ_{k+1}) (C̃'s gap less
Δ; `top` reports it). With rows ≥ the number of snapshots nothing is let go (Δ = 0): the PCA is exact.

Why not sklearn's IncrementalPCA: it keeps the top components of each batch and gives no bound on what it drops;
this sketch states its error, which the target reports beside ρ.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Top:
    components: torch.Tensor  # (k, dim) orthonormal rows, float64: the top-k directions of the centred covariance
    eigenvalues: torch.Tensor  # (k,) of the sketched centred covariance C̃
    shrink: float  # Δ: the energy the sketch let go (0: exact)
    sin_bound: float  # Davis–Kahan: sin(largest angle to the exact top-k subspace) ≤ this (inf: no gap)


class FrequentDirections:
    """Frequent Directions over rows x (dim,), kept in float32 (so that a state saved and restored goes on
    exactly as one that never stopped), each shrink computed in float64."""

    def __init__(self, dim: int, rows: int):
        if rows < 2:
            raise ValueError(f"a sketch needs at least 2 rows, got {rows}")
        self.B = torch.zeros(rows, dim, dtype=torch.float32)
        self.filled = 0  # rows of B in use
        self.n = 0  # rows seen
        self.sum = torch.zeros(dim, dtype=torch.float64)  # exact: the mean for centring
        self.shrink = 0.0  # Δ

    def update(self, x: torch.Tensor) -> None:
        x = x.detach().reshape(-1).to("cpu", torch.float64)
        if self.filled == self.B.shape[0]:  # full: shrink every direction by the smallest squared singular value
            B = self.B.double()
            s2, U = torch.linalg.eigh(B @ B.T)  # σ² ascending, through the (rows × rows) Gram matrix: 7× an SVD's speed
            s2, U = s2.flip(0).clamp(min=0), U.flip(1)
            delta = float(s2[-1])
            keep = s2 > delta
            scale = torch.where(keep, ((s2 - delta) / s2.clamp(min=1e-300)).sqrt(), torch.zeros_like(s2))
            self.B = (scale[:, None] * (U.T @ B)).float()  # rows σ_i v_iᵀ shrunk to √(σ_i² − δ) v_iᵀ
            self.shrink += delta
            self.filled = int(keep.sum())
            self.B[self.filled :] = 0
        self.B[self.filled] = x.float()
        self.filled += 1
        self.n += 1
        self.sum += x

    def state_dict(self) -> dict:
        return {"B": self.B, "filled": self.filled, "n": self.n, "sum": self.sum, "shrink": self.shrink}

    @classmethod
    def from_state(cls, state: dict) -> FrequentDirections:
        fd = cls(state["B"].shape[1], state["B"].shape[0])
        fd.B, fd.sum = state["B"].float().clone(), state["sum"].double().clone()
        fd.filled, fd.n, fd.shrink = int(state["filled"]), int(state["n"]), float(state["shrink"])
        return fd

    def top(self, k: int) -> Top:
        """The top-k directions of the sketched centred covariance, with the sketch's error and angle bound."""
        if self.n < 2:
            raise ValueError("a centred covariance needs at least 2 rows")
        B = self.B[: self.filled].double()
        mean = self.sum / self.n
        Q = torch.linalg.qr(torch.cat([B.T, mean[:, None]], 1))[0]  # C̃ lives in the span of B's rows and the mean
        BQ, mQ = B @ Q, mean @ Q
        M = BQ.T @ BQ - self.n * torch.outer(mQ, mQ)
        vals, vecs = torch.linalg.eigh((M + M.T) / 2)
        order = torch.argsort(vals, descending=True)
        vals, vecs = vals[order], vecs[:, order]
        if k >= len(vals):
            raise ValueError(f"k = {k} needs more than the sketch's {len(vals)} directions")
        nxt = float(vals[k]) if Q.shape[1] >= B.shape[1] else max(float(vals[k]), 0.0)  # C̃ is 0 outside the span
        gap = float(vals[k - 1]) - nxt - self.shrink  # Weyl: C's (k+1)-th eigenvalue ≤ C̃'s + Δ
        bound = 0.0 if self.shrink == 0 else (self.shrink / gap if gap > 0 else float("inf"))
        return Top((Q @ vecs[:, :k]).T.contiguous(), vals[:k].clone(), self.shrink, bound)


class MatrixSketches:
    """One sketch per named matrix of a trajectory: each matrix's first value is kept (float32) and every value
    folded in as its deviation from it (float64), as `trajectory_pca` centres rows W_t − W_0."""

    def __init__(self, rows: int):
        self.rows = rows
        self.first: dict = {}
        self.fd: dict = {}

    def add(self, key: str, w: torch.Tensor) -> None:
        w = w.detach().float().cpu()
        if key not in self.first:
            self.first[key] = w.clone()
            self.fd[key] = FrequentDirections(w.numel(), self.rows)
        self.fd[key].update(w.double() - self.first[key].double())

    def state_dict(self) -> dict:
        return {"first": dict(self.first), "fd": {k: fd.state_dict() for k, fd in self.fd.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.first = {k: v.float().clone() for k, v in state["first"].items()}
        self.fd = {k: FrequentDirections.from_state(s) for k, s in state["fd"].items()}

    @staticmethod
    def state_bytes(n_matrices: int, numel: int, rows: int) -> int:
        """The bytes of the state of `n_matrices` sketches of `numel`-entry matrices: float32 rows and first
        value, float64 sum."""
        return n_matrices * numel * (4 * (rows + 1) + 8)


__all__ = ["FrequentDirections", "MatrixSketches", "Top"]
