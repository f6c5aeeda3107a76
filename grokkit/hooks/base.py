"""Hooks: how an experiment reaches inside training without copying the loop.

A hook is an object with any of these methods, called by `grokkit.training.train` in this order each step:
    on_start(ctx)   once, before step 1 (and NOT again when a run resumes)
    on_grad(ctx)    after backward and clipping, before the optimiser step; may edit ctx.grads()
    on_step(ctx)    after the optimiser step (ctx.step is the number of updates done)
    on_eval(ctx)    after each evaluation (ctx.last_eval holds its numbers)
    on_end(ctx)     once, when training has finished (before the Run is built): a summary to record
A hook that changes what training computes, or records something, must set `key`: a string naming
it and its settings. The key enters the run's cache key, so a run with an intervention is never
confused with a plain one. Hooks with internal state implement state_dict()/load_state_dict() so that
an interrupted run resumes exactly.

`ctx.record(name, value)` stores a scalar or a list of floats per step (saved as JSON);
`ctx.record_tensor(name, tensor)` stores a tensor per step (saved as safetensors).
"""

from __future__ import annotations

import hashlib

import torch

from grokkit.geometry.commutator import commutator_defect
from grokkit.geometry.sketch import MatrixSketches
from grokkit.model import attention_weights, flatten, unflatten


class Hook:
    key: str | None = None

    def on_start(self, ctx): ...
    def on_grad(self, ctx): ...
    def on_step(self, ctx): ...
    def on_eval(self, ctx): ...
    def on_end(self, ctx): ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class Every(Hook):
    """Base for hooks that act at step 0 and then every `every` steps."""

    def __init__(self, every: int):
        self.every = every

    def on_start(self, ctx):
        self.act(ctx)

    def on_step(self, ctx):
        if ctx.step % self.every == 0:
            self.act(ctx)

    def act(self, ctx): ...


class AttentionSnapshots(Every):
    """W_Q, W_K, W_V, W_O of every layer (papers-spec §1.4), stored as 'attn/L{i}.W_*'."""

    def act(self, ctx):
        for (layer, name), w in attention_weights(ctx.model).items():
            ctx.record_tensor(f"attn/L{layer}.{name}", w.detach().float().cpu().clone())


class AttentionSketch(Every):
    """The attention trajectory of a run too long to keep its snapshots (target 25): W_Q, W_K, W_V, W_O of every
    layer at step 0 and every `every` steps, as AttentionSnapshots sees them, folded into a Frequent Directions
    sketch of `rows` rows per matrix (grokkit.geometry.sketch: deviations from step 0, their exact sum, the energy
    let go). Its state (float32 rows) travels with the run's resume state; at the end it is stored as tensors
    'attn_sketch/L{i}.W_*.{rows,sum,meta}' (meta: rows filled, snapshots seen, energy let go), from which
    grokkit.geometry.sketch_execution_basis builds the execution basis (M3)."""

    def __init__(self, every: int, rows: int = 24):
        super().__init__(every)
        self.rows = rows
        self.key = f"attn_sketch(every={every},rows={rows})"
        self.sketches = MatrixSketches(rows)

    def on_start(self, ctx):  # a fresh training starts a fresh sketch (a resumed one loads its state instead)
        self.sketches = MatrixSketches(self.rows)
        self.act(ctx)

    def act(self, ctx):
        for (layer, name), w in attention_weights(ctx.model).items():
            self.sketches.add(f"L{layer}.{name}", w)

    def on_end(self, ctx):
        for key, fd in self.sketches.fd.items():
            ctx.record_tensor(f"attn_sketch/{key}.rows", fd.B.clone())
            ctx.record_tensor(f"attn_sketch/{key}.sum", fd.sum.clone())
            meta = torch.tensor([fd.filled, fd.n, fd.shrink], dtype=torch.float64)  # rows in use, snapshots, Δ
            ctx.record_tensor(f"attn_sketch/{key}.meta", meta)

    def state_dict(self) -> dict:
        return self.sketches.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.sketches.load_state_dict(state)


class ParameterCheckpoints(Every):
    """The full flattened parameter vector theta, stored as 'theta'."""

    def act(self, ctx):
        ctx.record_tensor("theta", flatten(ctx.model).float().cpu())


def builtin_hooks(config) -> list[Hook]:
    """Trajectory capture every run gets from its config (not part of the cache key: the config is)."""
    hooks: list[Hook] = []
    if config.snapshot_every:
        hooks.append(AttentionSnapshots(config.snapshot_every))
    if config.checkpoint_every:
        hooks.append(ParameterCheckpoints(config.checkpoint_every))
    return hooks


def basis_digest(basis: torch.Tensor) -> str:
    """sha256 of a basis's shape and float64 bytes (first 20 hex digits): a sign flip or a permutation of
    its entries gives another key. Exact bytes: a basis rebuilt on another machine (other BLAS, other
    thread count) may differ in its last bits and then misses the cache (a retrain, never a wrong load)."""
    b = basis.detach().to("cpu", torch.float64).contiguous()
    h = hashlib.sha256(repr(tuple(b.shape)).encode())
    h.update(b.numpy().tobytes())
    return h.hexdigest()[:20]


def hooks_key(hooks) -> str:
    """The part of a run's cache key that its hooks contribute."""
    return "|".join(h.key for h in hooks if getattr(h, "key", None))


class GradientProjection(Hook):
    """g <- g - s (g - B Bᵀ g) from step `start` on (papers-spec M7 / §3.2 deletion).

    `basis`: (P, K) with orthonormal columns in theta coordinates. s = 1 keeps only the in-span part,
    s = 0 is a no-op. Decoupled weight decay is NOT projected (as in the authors' code, Q14).
    """

    def __init__(self, basis: torch.Tensor, strength: float, start: int = 500, name: str = "basis"):
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must lie in [0, 1], got {strength}")
        self.basis, self.strength, self.start = basis, strength, start
        self.key = f"project({name},K={basis.shape[1]},s={strength},start={start},sha256={basis_digest(basis)})"
        self._B = None

    def on_grad(self, ctx):
        if ctx.step < self.start or self.strength == 0.0:
            return
        if self._B is None or self._B.device != ctx.device:
            self._B = self.basis.to(ctx.device, torch.float32)
        grads = ctx.grads()
        g = torch.cat([x.reshape(-1) for x in grads])
        g_perp = g - self._B @ (self._B.T @ g)
        g -= self.strength * g_perp
        offset = 0
        for x in grads:
            x.copy_(g[offset : offset + x.numel()].view_as(x))
            offset += x.numel()


class OwnGenerator:
    """A hook's private random stream on the run's device, saved and restored with the run."""

    seed = 0
    _gen = None
    _pending = None

    def generator(self, device) -> torch.Generator:
        if self._gen is None:
            self._gen = torch.Generator(device).manual_seed(self.seed)
            if self._pending is not None:
                self._gen.set_state(self._pending)
        return self._gen

    def state_dict(self):
        return {"gen": self._gen.get_state()} if self._gen is not None else {}

    def load_state_dict(self, state):
        self._pending = state.get("gen")


class Kick(OwnGenerator, Hook):
    """Sustained kicks (2602.16746 §2.2): from `start`, every `every` steps, add
    alpha * scale * u to theta, u a unit vector orthogonal to span(B):
      direction="commutator": u ∝ the median-sample commutator δ (K samples) with its span(B) part
                              removed; scale = ‖η g_A‖ of that sample (the paper's choice);
      direction="random":     u ∝ a Gaussian vector with its span(B) part removed; scale = 1.5e-3
                              (the fixed value of the authors' code).
    """

    def __init__(
        self,
        basis: torch.Tensor,
        alpha: float,
        direction: str = "commutator",
        every: int = 50,
        start: int = 500,
        K: int = 5,
        eta: float = 1e-3,
        seed: int = 0,
    ):
        if direction not in ("commutator", "random"):
            raise ValueError(f"direction must be 'commutator' or 'random', got {direction!r}")
        self.basis, self.alpha, self.direction = basis, alpha, direction
        self.every, self.start, self.K, self.eta, self.seed = every, start, K, eta, seed
        self.key = (
            f"kick({direction},alpha={alpha},every={every},start={start},K={K},seed={seed},B={basis_digest(basis)})"
        )

    def on_step(self, ctx):
        if ctx.step < self.start or ctx.step % self.every:
            return
        B = self.basis.to(torch.float64)
        if self.direction == "commutator":
            d = commutator_defect(ctx.model, ctx.data, K=self.K, eta=self.eta, generator=self.generator(ctx.device))
            i = int(torch.argsort(d.values)[len(d.values) // 2])
            v, scale = d.deltas[i].double(), float(d.step_norm[i])
        else:
            v = torch.randn(
                B.shape[0], generator=torch.Generator().manual_seed(self.seed * 100003 + ctx.step), dtype=torch.float64
            )
            scale = 1.5e-3
        v = v - B @ (B.T @ v)
        v = v / v.norm()
        theta = flatten(ctx.model) + (self.alpha * scale * v).to(torch.float32).to(ctx.device)
        with torch.no_grad():
            for (name, p), new in zip(ctx.model.named_parameters(), unflatten(theta, ctx.model).values()):
                p.copy_(new)
        ctx.record("kick_norm", self.alpha * scale)
