"""The stacked arithmetic of the ensemble engine: which configs can share one stack, and AdamW and
gradient clipping per member on parameters with a leading member dimension."""

from __future__ import annotations

import dataclasses

import torch
from torch.func import functional_call, grad_and_value, vmap

from grokkit.config import Config
from grokkit.data import OPERATIONS
from grokkit.objective import autocast

__all__ = [
    "MEMBER_FIELDS",
    "stack_signature",
    "adamw_",
    "clip_",
    "evaluate_stack",
    "capture_trajectories",
    "step_functions",
]

# Fields members may differ in; everything else must agree to share one stacked model.
MEMBER_FIELDS = (
    "ops",
    "seed",
    "data_seed",
    "train_frac",
    "lr",
    "weight_decay",
    "betas",
    "eps",
    "grad_clip",
    "max_steps",
    "stop_threshold",
    "stop_patience",
    "steps_after_stop",
    "snapshot_every",
    "checkpoint_every",
    "device",
    "compile",
)


def stack_signature(cfg: Config) -> tuple:
    """Configs with equal signatures can be trained in one ensemble (same model shape and pair set;
    the operations may differ, one label set per member)."""
    same_pairs = any(OPERATIONS[o].exclude_zero for o in cfg.ops)
    return tuple((f.name, getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if f.name not in MEMBER_FIELDS) + (
        ("n_tasks", cfg.n_tasks),
        ("exclude_zero", same_pairs),
    )


def adamw_(params, grads, exp_avg, exp_avg_sq, step, lr, wd, beta1, beta2, eps, no_decay=()):
    """Decoupled AdamW, written out, with per-member hyperparameters (tensors of shape (N,)).

    Same formula and order as torch.optim.AdamW (foreach): theta *= 1 - lr*wd; m, v updates;
    theta -= lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps).
    """
    for name, p in params.items():
        g, m, v = grads[name], exp_avg[name], exp_avg_sq[name]
        shape = (-1,) + (1,) * (p.dim() - 1)
        b1, b2 = beta1.view(shape), beta2.view(shape)
        if name not in no_decay:
            p.mul_(1 - (lr * wd).view(shape))
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g * (1 - b2))
        step_size = (lr / (1 - beta1**step)).view(shape)
        denom = (v.sqrt() / (1 - beta2**step).sqrt().view(shape)).add_(eps.view(shape))
        p.addcdiv_(m * step_size, denom, value=-1.0)


def clip_(grads: dict, max_norm: torch.Tensor) -> torch.Tensor:
    """Per-member global gradient-norm clip (max_norm (N,), inf = off); returns the norms."""
    norms = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads.values()]).sum(0).sqrt()
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads.values():
        g.mul_(coef.view((-1,) + (1,) * (g.dim() - 1)))
    return norms


@torch.no_grad()
def evaluate_stack(template, params, inputs, labels, train_masks, cfg: Config, device, chunk_members=None):
    """(N, 4, n_tasks): train_acc, test_acc, train_loss, test_loss of every stacked member, as
    grokkit.objective.evaluate computes them for one (all pairs; labels (N, P, T), masks (N, P))."""
    if chunk_members is None:  # GPU: keep a chunk's activations near 4 GB; CPU: one member at a time
        per_member = len(inputs) * cfg.seq_len * max(cfg.d_ff, 3 * cfg.d_model) * 4 * 4
        chunk_members = max(1, int(4e9 // per_member)) if device.type == "cuda" else 1
    out = []
    for s in range(0, len(labels), chunk_members):
        chunk = {k: v[s : s + chunk_members] for k, v in params.items()}
        with autocast(cfg, device):
            logits = vmap(lambda p: functional_call(template, p, (inputs,)))(chunk)
        logits = logits.float()  # (n, T, P, C)
        y = labels[s : s + chunk_members].transpose(1, 2)  # (n, T, P)
        correct = (logits.argmax(-1) == y).float()  # (n, T, P)
        losses = torch.nn.functional.cross_entropy(logits.permute(0, 3, 1, 2), y, reduction="none")
        mask = train_masks[s : s + chunk_members].unsqueeze(1).float()  # (n, 1, P)
        tr = lambda t: (t * mask).sum(-1) / mask.sum(-1)
        te = lambda t: (t * (1 - mask)).sum(-1) / (1 - mask).sum(-1)
        out.append(torch.stack([tr(correct), te(correct), tr(losses), te(losses)], 1))
    return torch.cat(out)


@torch.no_grad()
def capture_trajectories(params: dict, members, step: int, n_layers: int, device) -> None:
    """Attention snapshots and theta checkpoints of the stacked members due at `step`, one device-to-host
    copy per matrix. `members`: [(row in the stack, config, Context)]. Same names and layout as
    grokkit.hooks.AttentionSnapshots / ParameterCheckpoints, so an ensemble member's Run reads like a solo one."""

    def due(every):
        return [(row, ctx) for row, c, ctx in members if every(c) and step % every(c) == 0]

    snap = due(lambda c: c.snapshot_every)
    if snap:
        rows = torch.tensor([r for r, _ in snap], device=device)
        for layer in range(n_layers):
            qkv = params[f"blocks.{layer}.attn.in_proj_weight"].index_select(0, rows).cpu()
            wo = params[f"blocks.{layer}.attn.out_proj.weight"].index_select(0, rows).cpu()
            for j, (_, ctx) in enumerate(snap):
                ctx.step = step
                for name, w in zip(("W_Q", "W_K", "W_V"), qkv[j].chunk(3)):
                    ctx.record_tensor(f"attn/L{layer}.{name}", w.clone())
                ctx.record_tensor(f"attn/L{layer}.W_O", wo[j].clone())
    ckpt = due(lambda c: c.checkpoint_every)
    if ckpt:
        rows = torch.tensor([r for r, _ in ckpt], device=device)
        theta = torch.cat([p.index_select(0, rows).flatten(1) for p in params.values()], 1).float().cpu()
        for j, (_, ctx) in enumerate(ckpt):
            ctx.step = step
            ctx.record_tensor("theta", theta[j].clone())


def step_functions(loss, compile: bool = False):
    """(grad_fn, adamw_fn) of the stacked step. grad_fn(params, x, y) -> (grads, losses) of every member
    (vmap of grad_and_value); adamw_fn = `adamw_`. compile=True wraps both in torch.compile: inductor
    fuses the stacked forward/backward's elementwise work and each tensor's AdamW update into single
    kernels; the step then runs without CUDA graphs, as a compiled solo step does. A shrinking stack
    recompiles once, then with a dynamic member dimension. benchmarks/ensemble_step.py measures it."""
    fn = vmap(grad_and_value(loss), in_dims=(0, 0, 0))
    return (torch.compile(fn), torch.compile(adamw_)) if compile else (fn, adamw_)
