"""The stacked arithmetic of the ensemble engine: which configs can share one stack, and AdamW and
gradient clipping per member on parameters with a leading member dimension.

Two forms of the clip and AdamW, the same formulas in the same order:
  clip_, adamw_              a loop over the ~30 parameter tensors, several small kernels each (CPU:
                             the ensemble matches solo runs bit for bit with these)
  clip_fused_, adamw_fused_  one (N, P) buffer per stack (`pack_`: the dict's tensors become views of
                             it), so a step's clip and AdamW are a handful of kernels whatever the
                             model (CUDA, where each small kernel costs a launch). Per-member
                             hyperparameters broadcast as (N, 1) columns, which multi-tensor
                             (torch._foreach_*) kernels cannot do without materialising them.
"""

from __future__ import annotations

import dataclasses

import torch
from torch.func import functional_call, grad_and_value, vmap

from grokkit.config import Config
from grokkit.data import OPERATIONS
from grokkit.objective import autocast, tf32

__all__ = [
    "MEMBER_FIELDS",
    "stack_signature",
    "member_hyperparameters",
    "adamw_",
    "clip_",
    "pack_",
    "adamw_fused_",
    "clip_fused_",
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


def member_hyperparameters(configs, device) -> dict:
    """Per-member lr, wd, eps, clip (inf = off), beta1, beta2 as (N,) device tensors: the step never indexes
    them with Python lists, which a CUDA graph could not capture."""
    f = lambda get: torch.tensor([get(c) for c in configs], dtype=torch.float32, device=device)
    return {
        "lr": f(lambda c: c.lr),
        "wd": f(lambda c: c.weight_decay),
        "eps": f(lambda c: c.eps),
        "clip": f(lambda c: float("inf") if c.grad_clip is None else c.grad_clip),
        "beta1": f(lambda c: c.betas[0]),
        "beta2": f(lambda c: c.betas[1]),
    }


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


def _views(flat: torch.Tensor, like: dict) -> dict:
    """Views of the (N, P) buffer `flat` shaped like `like`'s (N, ...) tensors, in order."""
    out, at = {}, 0
    for k, v in like.items():
        n = v[0].numel()
        out[k] = flat[:, at : at + n].view(v.shape)
        at += n
    return out


def pack_(*stores: dict) -> bool:
    """Lay each dict's stacked (N, ...) tensors out in one contiguous (N, P) buffer, the dict's values
    becoming views of it in order (in place; `flat_of` finds it). Returns whether any dict was not yet."""
    changed = False
    for store in stores:
        if flat_of(store) is None:
            flat = torch.cat([v.detach().flatten(1) for v in store.values()], 1)
            store.update(_views(flat, store))
            changed = True
    return changed


def flat_of(store: dict) -> torch.Tensor | None:
    """The (N, P) buffer the dict's tensors are views of, laid out in order (see `pack_`), else None."""
    values = list(store.values())
    flat = values[0]._base
    if flat is None or flat.dim() != 2 or not flat.is_contiguous():
        return None
    at, n = flat.storage_offset(), flat.shape[0]
    for v in values:  # (cheap checks: a step makes this call five times; one member's view has any stride)
        if (
            v._base is not flat
            or v.storage_offset() != at
            or v.shape[0] != n
            or (n > 1 and v.stride(0) != flat.stride(0))
        ):
            return None
        at += v.numel() // n
    return flat if at == flat.storage_offset() + flat.shape[1] else None


def clip_fused_(grads: dict, max_norm: torch.Tensor) -> torch.Tensor:
    """`clip_` on one (N, P) buffer: the gradients are packed (the dict's values become views of it,
    where gradient hooks edit them: one copy), then clipped: one norm, one multiply. Returns the norms."""
    pack_(grads)
    flat = flat_of(grads)
    if flat is None:  # (not expected: pack_ lays out what flat_of finds)
        return clip_(grads, max_norm)
    norms = torch.linalg.vector_norm(flat, dim=1)
    flat.mul_((max_norm / (norms + 1e-6)).clamp(max=1.0)[:, None])
    return norms


def _decayed_columns(params: dict, no_decay) -> list[list[int]]:
    """[start, end) column ranges of the packed buffer that weight decay applies to, merged."""
    spans: list[list[int]] = []
    at = 0
    for name, t in params.items():
        n = t.numel() // t.shape[0]
        if name not in no_decay:
            if spans and spans[-1][1] == at:
                spans[-1][1] = at + n
            else:
                spans.append([at, at + n])
        at += n
    return spans


def adamw_fused_(params, grads, exp_avg, exp_avg_sq, step, lr, wd, beta1, beta2, eps, no_decay=()):
    """`adamw_` (same formula, same order) on (N, P) buffers: ten kernels over the buffers for the whole
    stack (plus a few on (N,) values), not several per parameter tensor. The four dicts must be packed
    (`pack_`; grads by `clip_fused_`); if one is not, this is `adamw_`."""
    flats = [flat_of(d) for d in (params, grads, exp_avg, exp_avg_sq)]
    if any(f is None for f in flats):
        return adamw_(params, grads, exp_avg, exp_avg_sq, step, lr, wd, beta1, beta2, eps, no_decay)
    p, g, m, v = flats
    col = lambda t: t[:, None]  # per-member values as an (N, 1) column
    decay = col(1 - lr * wd)
    for a, b in _decayed_columns(params, no_decay):
        p[:, a:b].mul_(decay)
    m.lerp_(g, col(1 - beta1))
    v.mul_(col(beta2)).addcmul_(g, g * col(1 - beta2))
    step_size = col(lr / (1 - beta1**step))
    denom = v.sqrt().div_(col((1 - beta2**step).sqrt())).add_(col(eps))
    p.addcdiv_(m * step_size, denom, value=-1.0)


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
        with autocast(cfg, device), tf32(cfg, device):
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


def step_functions(loss, compile: bool = False, fused: bool = False):
    """(grad_fn, clip_fn, adamw_fn) of the stacked step. grad_fn(params, x, y) -> (grads, losses) of every
    member (vmap of grad_and_value); clip_fn, adamw_fn = `clip_`, `adamw_` (fused: `clip_fused_`,
    `adamw_fused_`, for packed stacks). compile=True wraps grad_fn and `adamw_` in torch.compile: inductor
    fuses the stacked forward/backward's elementwise work and each tensor's AdamW update into single
    kernels; the step then runs without CUDA graphs, as a compiled solo step does. A shrinking stack
    recompiles once, then with a dynamic member dimension. benchmarks/ensemble_step.py measures it."""
    fn = vmap(grad_and_value(loss), in_dims=(0, 0, 0))
    if compile:
        return torch.compile(fn), clip_, torch.compile(adamw_)
    return (fn, clip_fused_, adamw_fused_) if fused else (fn, clip_, adamw_)
