"""The commutator defect (papers-spec M2): how much the order of two SGD steps matters.

At parameters θ, with two independent batches A and B of training pairs (drawn with replacement)
and RAW loss gradients (no AdamW preconditioning, no weight decay, no clipping; model in train mode):
    θ_AB = θ − η g_A(θ) − η g_B(θ − η g_A(θ)),   θ_BA = the same with A and B swapped,
    δ = θ_AB − θ_BA,   D = ‖δ‖ / (‖η g_A‖ ‖η g_B‖ + 1e-12).
To second order δ = η² (H_B g_A − H_A g_B), so D ≈ ‖H_B g_A − H_A g_B‖ / (‖g_A‖ ‖g_B‖), independent
of η. The reported defect is the MEDIAN over K independent (A, B) samples; the K samples are computed
at once with torch.func (vmap of grad), four batched gradient evaluations in all.

Two formulas from the SAME four gradients (one call returns both):
  "exact"   δ = η (g_B + g_A(θ − ηg_B) − g_A − g_B(θ − ηg_A)), formed directly: no parameter-sized
            quantity is subtracted from a nearly equal one (agrees with float64 to float32 precision);
  "authors" as the authors' code: θ_AB and θ_BA formed as parameter vectors in the model's dtype and
            subtracted. Each holds rounding errors of order ε‖θ‖ (ε = 1.19e-7 in float32), which swamp
            δ ~ η²‖g‖² whenever the gradients are small (at initialisation, after grokking).
`Defect.roundoff` estimates that error in units of D: four roundings of θ-sized numbers, each uniform
in ±ulp/2 with a log-uniform mantissa, give ‖error‖ ≈ 0.425 ε ‖θ‖, divided by ‖ηg_A‖‖ηg_B‖ (an
upper estimate: measured on the papers' model the actual error, `Defect.authors_error`, is 1.4–6×
smaller, since the two paths' final roundings are correlated). Where roundoff is comparable to D, the
authors' value is noise-dominated. In float64 the two formulas agree to ~1e-10.
Multi-task: task_a / task_b pick one head's loss for each batch (None = the summed loss): the
"total" mode is (None, None), the "cross" mode (add, mul) is (0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from grokkit.model import unflatten
from grokkit.objective import task_loss

FORMULAS = ("exact", "authors")
ROUNDOFF_FACTOR = 0.425  # ‖rounding error of δ_authors‖ ≈ ROUNDOFF_FACTOR · ε · ‖θ‖ (see the module docstring)


@dataclass
class Defect:
    median: float  # the reported D (of `formula`)
    values: torch.Tensor  # (K,) D of every sample (of `formula`)
    deltas: torch.Tensor  # (K, P) the commutator vectors δ of `formula` (model dtype, theta order)
    step_norm: torch.Tensor  # (K,) ‖η g_A‖ (the kick scale of the intervention experiments)
    formula: str = "exact"
    exact: torch.Tensor | None = None  # (K,) D by the exact formula
    authors: torch.Tensor | None = None  # (K,) D by the authors' formula, same gradients
    roundoff: torch.Tensor | None = None  # (K,) estimated round-off of the authors' D, in units of D
    grad_norm: torch.Tensor | None = None  # (K,) ‖g_A‖ (raw gradient norm; D divides by ‖ηg_A‖‖ηg_B‖)
    authors_error: torch.Tensor | None = None  # (K,) ‖δ_authors − δ_exact‖ in units of D (measured round-off)
    exact_deltas: torch.Tensor | None = None  # (K, P) δ by the exact formula
    authors_deltas: torch.Tensor | None = None  # (K, P) δ by the authors' formula

    @property
    def median_exact(self) -> float:
        return _median(self.exact, "exact")

    @property
    def median_authors(self) -> float:
        return _median(self.authors, "authors")

    @property
    def median_roundoff(self) -> float:
        return _median(self.roundoff, "roundoff")


def _median(values: torch.Tensor | None, field: str) -> float:
    if values is None:  # a Defect built without it (commutator_defect fills every field)
        raise ValueError(f"this Defect has no {field!r} values")
    return float(values.median())


def params_of(model) -> dict:
    return {n: p.detach() for n, p in model.named_parameters()}


def _loss_fn(model, data, task):
    def loss(params, idx):
        logits = functional_call(model, params, (data.inputs[idx],))
        y = data.labels[idx]
        if task is None:
            return task_loss(logits, y)
        out = logits[task]
        return F.cross_entropy(out.float() if out.dtype in (torch.float16, torch.bfloat16) else out, y[:, task])

    return loss


def _flat(d: dict) -> torch.Tensor:
    return torch.cat([v.reshape(v.shape[0], -1) for v in d.values()], 1)


def commutator_defect(
    model,
    data,
    params: dict | None = None,
    *,
    K: int = 5,
    eta: float = 1e-3,
    batch_size: int = 512,
    generator: torch.Generator | None = None,
    task_a: int | None = None,
    task_b: int | None = None,
    batches=None,
    formula: str = "exact",
) -> Defect:
    """The median commutator defect of K sample pairs at `params` (default: the model's own).

    Both formulas are computed from the same four gradient evaluations; `formula` picks which one
    `median`, `values` and `deltas` report ("exact", the default, or "authors").
    batches: optional (idx_a, idx_b), each (K, batch) pair indices, instead of drawing them."""
    if formula not in FORMULAS:
        raise ValueError(f"formula must be one of {FORMULAS}, got {formula!r}")
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
    fa, fb = _flat(g_a), _flat(g_b)
    # exact: δ = θ_AB − θ_BA = η (g_B + g_A(θ − η g_B) − g_A − g_B(θ − η g_A)), formed directly
    delta = eta * (fb + _flat(g_a_after_b) - fa - _flat(g_b_after_a))
    # authors: the two parameter vectors in the model's dtype, then their difference
    theta_ab = _flat(moved_a) - eta * _flat(g_b_after_a)
    theta_ba = _flat(moved_b) - eta * _flat(g_a_after_b)
    delta_authors = theta_ab - theta_ba
    na, nb = eta * fa.norm(dim=1), eta * fb.norm(dim=1)
    scale = na * nb + 1e-12
    exact, authors = delta.norm(dim=1) / scale, delta_authors.norm(dim=1) / scale
    theta_norm = torch.cat([v.reshape(-1) for v in params.values()]).norm()
    roundoff = ROUNDOFF_FACTOR * torch.finfo(delta.dtype).eps * theta_norm / scale
    error = (delta_authors - delta).norm(dim=1) / scale
    chosen = (exact, delta) if formula == "exact" else (authors, delta_authors)
    cpu = lambda t: t.detach().cpu()
    return Defect(
        float(chosen[0].median()),
        cpu(chosen[0]),
        cpu(chosen[1]),
        cpu(na),
        formula,
        cpu(exact),
        cpu(authors),
        cpu(roundoff),
        cpu(na / eta),
        cpu(error),
        cpu(delta),
        cpu(delta_authors),
    )


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


def defect_series(
    run,
    *,
    K: int = 5,
    eta: float = 1e-3,
    every: int = 1,
    seed: int = 0,
    device="cpu",
    task_a=None,
    task_b=None,
    formula: str = "exact",
) -> tuple[list[int], list[float]]:
    """Defect (median of K, `formula`) at the run's saved theta checkpoints (every `every`-th one),
    measured after training. The papers' lead-time protocol measures inline instead (DefectTracker)."""
    model = run.model(device).train()
    data = run.dataset(device)
    gen = torch.Generator(device).manual_seed(seed)
    steps, thetas = run.trajectory("theta")
    out_steps, out = [], []
    for s, theta in list(zip(steps.tolist(), thetas))[::every]:
        params = {k: v.to(device) for k, v in unflatten(theta, model).items()}
        out_steps.append(s)
        out.append(
            commutator_defect(
                model, data, params, K=K, eta=eta, generator=gen, task_a=task_a, task_b=task_b, formula=formula
            ).median
        )
    return out_steps, out
