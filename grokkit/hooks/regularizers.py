"""Weight-decay rules as optimiser-step hooks (2606.04405, papers-spec §5): never copies of the loop.

After the base optimiser's step (AdamW, usually with weight_decay=0 for the targeted matrices):
  decoupled L2:      W <- (1 − η λ) W                      (every singular value scaled by 1 − ηλ)
  Low-Rank Decay:    W <- W − η λ polar(W),  polar(W) = U Vᵀ for W = U Σ Vᵀ
                     (exact: every singular value reduced by ηλ; a singular value below ηλ comes out
                     as ηλ − σ with the direction flipped, it is not clipped at 0)
η is the learning rate when scale_by_lr=True (the author's code base) or 1 (the original experiment).
polar(W) is exact (an SVD) or K Newton–Schulz iterations X <- ½ X (3I − XᵀX) from X_0 = W / ‖W‖_F,
run on the smaller side of W. Short Newton–Schulz maps small singular values only part of the way to
1 (each iteration multiplies them by ~1.5), so it decays them LESS than large ones.
Targets are matrices by name: "W_Q", "W_K", "W_V", "W_O" (every layer) and "mlp" (every MLP matrix).
"""

from __future__ import annotations

import torch

from grokkit.hooks.base import Hook
from grokkit.model import attention_from_params, attention_weights
from grokkit.objective import task_loss

TARGETS = ("W_Q", "W_K", "W_V", "W_O", "mlp")


def polar_exact(W: torch.Tensor) -> torch.Tensor:
    U, _, Vh = torch.linalg.svd(W.double(), full_matrices=False)
    return (U @ Vh).to(W.dtype)


def newton_schulz(W: torch.Tensor, iters: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """K Newton–Schulz iterations towards polar(W), on the smaller side of W."""
    wide = W.shape[0] < W.shape[1]
    X = (W.T if wide else W).double()
    X = X / (X.norm() + eps)
    eye = torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    for _ in range(iters):
        X = 0.5 * X @ (3 * eye - X.T @ X)
    return (X.T if wide else X).to(W.dtype)


def target_matrices(model, targets) -> list[torch.Tensor]:
    """Views of the named matrices (W_Q etc. are slices of the fused projection)."""
    bad = set(targets) - set(TARGETS)
    if bad:
        raise ValueError(f"unknown targets {sorted(bad)}; choose from {TARGETS}")
    out = [w for (_, name), w in attention_weights(model).items() if name in targets]
    if "mlp" in targets:
        out += [p for n, p in model.named_parameters() if ".mlp." in n and p.dim() == 2]
    return out


class _Decay(Hook):
    def __init__(self, strength: float, targets=("W_Q", "W_K"), scale_by_lr: bool = True):
        if strength < 0:
            raise ValueError(f"strength must be >= 0, got {strength}")
        self.strength, self.targets, self.scale_by_lr = strength, tuple(targets), scale_by_lr
        target_matrices_names = set(self.targets) - set(TARGETS)
        if target_matrices_names:
            raise ValueError(f"unknown targets {sorted(target_matrices_names)}; choose from {TARGETS}")

    def step_size(self, ctx) -> float:
        return self.strength * (ctx.config.lr if self.scale_by_lr else 1.0)


class DecoupledDecay(_Decay):
    """W <- (1 − ηλ) W on the target matrices, after every optimiser step."""

    def __init__(self, strength, targets=("W_Q", "W_K"), scale_by_lr=True):
        super().__init__(strength, targets, scale_by_lr)
        self.key = f"l2(λ={strength},{'+'.join(self.targets)},lr_scaled={scale_by_lr})"

    @torch.no_grad()
    def on_step(self, ctx):
        c = 1 - self.step_size(ctx)
        for W in target_matrices(ctx.model, self.targets):
            W.mul_(c)


class LowRankDecay(_Decay):
    """W <- W − ηλ polar(W) on the target matrices, after every optimiser step."""

    def __init__(self, strength, targets=("W_Q", "W_K"), scale_by_lr=True, method: str = "exact", ns_iters: int = 5):
        super().__init__(strength, targets, scale_by_lr)
        if method not in ("exact", "newton_schulz"):
            raise ValueError(f"method must be 'exact' or 'newton_schulz', got {method!r}")
        self.method, self.ns_iters = method, ns_iters
        tag = "exact" if method == "exact" else f"NS{ns_iters}"
        self.key = f"lrd(λ={strength},{'+'.join(self.targets)},lr_scaled={scale_by_lr},{tag})"

    @torch.no_grad()
    def on_step(self, ctx):
        c = self.step_size(ctx)
        polar = polar_exact if self.method == "exact" else (lambda W: newton_schulz(W, self.ns_iters))
        for W in target_matrices(ctx.model, self.targets):
            W.sub_(c * polar(W))


def scale_invariance(model, data, key: tuple[int, str] = (0, "W_Q"), factor: float = 5.0, n_pairs: int = 512) -> dict:
    """Check that the model is scale-invariant in one matrix (QK-norm, no biases): the largest change
    of the logits on `n_pairs` pairs when that matrix is scaled by `factor`, and the cosine between
    the loss gradient and the matrix (Euler's identity says 0). The model is left unchanged."""

    x, y = data.inputs[:n_pairs], data.labels[:n_pairs]
    W = attention_weights(model)[key]
    with torch.no_grad():
        before = model(x)
        W.mul_(factor)
        change = float((model(x) - before).abs().max())
        W.div_(factor)
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(task_loss(model(x), y), list(params.values()))
    g = attention_from_params(dict(zip(params, grads)))[key]
    cosine = float((g * W).sum() / (g.norm() * W.norm()))
    return {"max_logit_change": change, "grad_weight_cosine": cosine}
