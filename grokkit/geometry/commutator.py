"""The commutator defect (papers-spec M2): how much the order of two SGD steps matters.

At parameters θ, with two independent batches A and B of training pairs (drawn with replacement)
and RAW loss gradients (no AdamW preconditioning, no weight decay, no clipping; model in train mode):
    θ_AB = θ − η g_A(θ) − η g_B(θ − η g_A(θ)),   θ_BA = the same with A and B swapped,
    δ = θ_AB − θ_BA,   D = ‖δ‖ / (‖η g_A‖ ‖η g_B‖ + 1e-12).
To second order δ = η² (H_B g_A − H_A g_B), so D ≈ ‖H_B g_A − H_A g_B‖ / (‖g_A‖ ‖g_B‖), independent
of η. The reported defect is the MEDIAN over K independent (A, B) samples; the K samples are computed
at once with torch.func (vmap of grad), four batched gradient evaluations in all.
Multi-task: task_a / task_b pick one head's loss for each batch (None = the summed loss): the
"total" mode is (None, None), the "cross" mode (add, mul) is (0, 1).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from grokkit.train import task_loss


@dataclass
class Defect:
    median: float  # the reported D
    values: torch.Tensor  # (K,) D of every sample
    deltas: torch.Tensor  # (K, P) the commutator vectors δ (float32, theta order)
    step_norm: torch.Tensor  # (K,) ‖η g_A‖ (the kick scale of the intervention experiments)


def params_of(model) -> dict:
    return {n: p.detach() for n, p in model.named_parameters()}


def _loss_fn(model, data, task):
    def loss(params, idx):
        logits = functional_call(model, params, (data.inputs[idx],))
        y = data.labels[idx]
        if task is None:
            return task_loss(logits, y)
        return F.cross_entropy(logits[task].float(), y[:, task])
    return loss


def _flat(d: dict) -> torch.Tensor:
    return torch.cat([v.reshape(v.shape[0], -1) for v in d.values()], 1)


def commutator_defect(model, data, params: dict | None = None, *, K: int = 5, eta: float = 1e-3,
                      batch_size: int = 512, generator: torch.Generator | None = None,
                      task_a: int | None = None, task_b: int | None = None, batches=None) -> Defect:
    """The median commutator defect of K sample pairs at `params` (default: the model's own).

    batches: optional (idx_a, idx_b), each (K, batch) pair indices, instead of drawing them."""
    params = params_of(model) if params is None else params
    dev = data.inputs.device
    if batches is None:
        gen = generator if generator is not None else torch.Generator(dev).manual_seed(0)
        n = len(data.train_idx)
        pick = lambda: data.train_idx[torch.randint(n, (K, batch_size), generator=gen, device=gen.device).to(dev)]
        idx_a, idx_b = pick(), pick()
    else:
        idx_a, idx_b = batches
    loss_a, loss_b = _loss_fn(model, data, task_a), _loss_fn(model, data, task_b)
    at_theta = lambda loss, idx: vmap(grad(loss), in_dims=(None, 0))(params, idx)
    at_moved = lambda loss, p, idx: vmap(grad(loss), in_dims=(0, 0))(p, idx)
    g_a, g_b = at_theta(loss_a, idx_a), at_theta(loss_b, idx_b)  # {name: (K, ...)}
    moved_a = {k: params[k] - eta * g_a[k] for k in params}  # θ − η g_A, per sample
    moved_b = {k: params[k] - eta * g_b[k] for k in params}
    g_b_after_a, g_a_after_b = at_moved(loss_b, moved_a, idx_b), at_moved(loss_a, moved_b, idx_a)
    # δ = θ_AB − θ_BA = η (g_B + g_A(θ − η g_B) − g_A − g_B(θ − η g_A))
    delta = eta * (_flat(g_b) + _flat(g_a_after_b) - _flat(g_a) - _flat(g_b_after_a))
    na, nb = eta * _flat(g_a).norm(dim=1), eta * _flat(g_b).norm(dim=1)
    values = delta.norm(dim=1) / (na * nb + 1e-12)
    return Defect(float(values.median()), values.detach().cpu(), delta.detach().cpu(), na.detach().cpu())


def second_order_commutator(model, data, idx_a, idx_b, params: dict | None = None) -> torch.Tensor:
    """H_B g_A − H_A g_B at `params` by Hessian-vector products (the test's independent oracle)."""
    params = params_of(model) if params is None else params
    loss = _loss_fn(model, data, None)
    names = list(params)

    def hvp(idx, v: dict) -> dict:
        return torch.func.jvp(lambda p: grad(loss)(p, idx), (params,), (v,))[1]
    g_a, g_b = grad(loss)(params, idx_a), grad(loss)(params, idx_b)
    hb_ga, ha_gb = hvp(idx_b, g_a), hvp(idx_a, g_b)
    return torch.cat([(hb_ga[k] - ha_gb[k]).reshape(-1) for k in names])


def defect_series(run, *, K: int = 5, eta: float = 1e-3, every: int = 1, seed: int = 0, device="cpu",
                  task_a=None, task_b=None) -> tuple[list[int], list[float]]:
    """Defect at the run's saved theta checkpoints (every `every`-th one), measured after training."""
    from grokkit.model import unflatten
    model = run.model(device).train()
    data = run.dataset(device)
    gen = torch.Generator(device).manual_seed(seed)
    steps, thetas = run.trajectory("theta")
    out_steps, out = [], []
    for s, theta in list(zip(steps.tolist(), thetas))[::every]:
        params = {k: v.to(device) for k, v in unflatten(theta, model).items()}
        out_steps.append(s)
        out.append(commutator_defect(model, data, params, K=K, eta=eta, generator=gen,
                                     task_a=task_a, task_b=task_b).median)
    return out_steps, out
