"""Nanda et al.'s progress measures (2023, §4-5) for modular addition and subtraction.

A network that has grokked a + b mod p computes logits of the form Σ_k α_k cos(w_k(a + b − c)), w_k =
2πk/p, for a few key frequencies k. For each output class c that logit is, as a function of the input
pair, a combination of the two directions cos(w_k s) and sin(w_k s), s = a + b (a − b for "sub"). The
measures project the logits (all p² pairs × p classes, float64) onto those directions:

  * key frequencies: `key_frequencies(fourier_power(W_E), share)` of the embedding, the fewest that
    hold `share` (default 0.8) of its Fourier power; Nanda et al. fix them from the FINAL model and
    evaluate every checkpoint with that set (`progress_over(run)` does the same);
  * restricted loss: cross-entropy ON THE TRAIN PAIRS of the logits projected onto span{constant,
    cos(w_k s), sin(w_k s) : k key}. The constant (each class's mean logit over all pairs, the output
    bias) is kept, as in Nanda et al.; low restricted loss = the Fourier circuit alone does the task;
  * excluded loss: train cross-entropy of the logits with the key directions removed (the constant
    stays); high excluded loss = the train set is no longer fit without the circuit (memorisation gone);
  * Fourier concentration: the share of the logits' variance over pairs (each class centred) that
    lies in the key directions; 0 for a lookup table, 1 for the pure algorithm;
  * weight norm: ‖θ‖₂ over every parameter (Nanda et al. plot the sum of squares, ‖θ‖₂²).
The directions are orthogonal over the full p × p grid, so the projections need every pair: operations
that exclude 0 or are not a ± b are refused.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from grokkit.data import Dataset
from grokkit.geometry.fourier import fourier_power, key_frequencies
from grokkit.model import flatten, unflatten

SUM_SIGN = {"add": 1, "sub": -1}  # the operations whose logits live on cos/sin of w(a ± b)
KEY_SHARE = 0.8  # embedding Fourier power the key frequencies hold


@dataclass(frozen=True)
class Progress:
    """The progress measures of one model (losses in nats, on the train pairs)."""

    key_freqs: tuple
    train_loss: float
    restricted_loss: float
    excluded_loss: float
    fourier_concentration: float
    weight_norm: float


def _check(data: Dataset, task: int) -> int:
    op = data.ops[task]
    if op not in SUM_SIGN:
        raise ValueError(f"progress measures are defined for {sorted(SUM_SIGN)} (a ± b), not {op!r}")
    if len(data.pairs) != data.p**2:
        raise ValueError("progress measures need every pair of the p x p grid")
    return SUM_SIGN[op]


def key_directions(data: Dataset, keys, task: int = 0) -> torch.Tensor:
    """(p², 2·len(keys)) orthonormal float64 columns cos(w_k s), sin(w_k s) over the dataset's pairs."""
    sign = _check(data, task)
    if not keys:
        raise ValueError("give at least one key frequency")
    p = data.p
    bad = [k for k in keys if not 1 <= int(k) <= p // 2]
    if bad:
        raise ValueError(f"key frequencies must lie in 1..{p // 2}, got {bad}")
    s = (data.pairs[:, 0] + sign * data.pairs[:, 1]).double().cpu()
    w = 2 * math.pi * torch.tensor([float(k) for k in keys], dtype=torch.float64) / p
    cols = torch.cat([torch.cos(s[:, None] * w), torch.sin(s[:, None] * w)], dim=1)
    return cols / cols.norm(dim=0)  # orthogonal on the full grid; unit length here


@torch.no_grad()
def all_logits(model, data: Dataset, task: int = 0, chunk: int = 16384) -> torch.Tensor:
    """(p², p) float64 logits of task `task` on every pair, in the dataset's (lexicographic) order."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    out = torch.cat(
        [model(data.inputs[i : i + chunk].to(dev))[task].double().cpu() for i in range(0, len(data.inputs), chunk)]
    )
    model.train(was)
    return out


def split_logits(logits: torch.Tensor, data: Dataset, keys, task: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(restricted, excluded) logits: onto constant + key directions, and with the key directions removed."""
    Q = key_directions(data, keys, task)
    L = logits.double()
    mean = L.mean(0, keepdim=True)
    key_part = Q @ (Q.T @ (L - mean))  # the constant is orthogonal to every key direction
    return mean + key_part, L - key_part


def _train_ce(logits: torch.Tensor, data: Dataset, task: int) -> float:
    idx = data.train_idx.cpu()
    return float(F.cross_entropy(logits[idx], data.labels[idx, task].cpu()))


def restricted_loss(logits: torch.Tensor, data: Dataset, keys, task: int = 0) -> float:
    """Train cross-entropy of the logits restricted to the constant and the key directions."""
    return _train_ce(split_logits(logits, data, keys, task)[0], data, task)


def excluded_loss(logits: torch.Tensor, data: Dataset, keys, task: int = 0) -> float:
    """Train cross-entropy of the logits with the key directions removed."""
    return _train_ce(split_logits(logits, data, keys, task)[1], data, task)


def fourier_concentration(logits: torch.Tensor, data: Dataset, keys, task: int = 0) -> float:
    """Share of the class-centred logits' squared norm in the key directions (0..1)."""
    L = logits.double() - logits.double().mean(0, keepdim=True)
    Q = key_directions(data, keys, task)
    total = float((L**2).sum())
    return float(((Q.T @ L) ** 2).sum()) / total if total > 0 else 0.0


def model_key_frequencies(model, share: float = KEY_SHARE, p: int | None = None) -> tuple:
    """The embedding's key frequencies (strongest first)."""
    return tuple(key_frequencies(fourier_power(model.embed.weight.detach().cpu(), p), share))


def progress_measures(model, data: Dataset, key_freqs=None, task: int = 0) -> Progress:
    """All measures of one model; key_freqs=None takes this model's own (`model_key_frequencies`)."""
    _check(data, task)
    keys = tuple(key_freqs) if key_freqs is not None else model_key_frequencies(model, p=data.p)
    L = all_logits(model, data, task)
    restricted, excluded = split_logits(L, data, keys, task)
    return Progress(
        key_freqs=keys,
        train_loss=_train_ce(L, data, task),
        restricted_loss=_train_ce(restricted, data, task),
        excluded_loss=_train_ce(excluded, data, task),
        fourier_concentration=fourier_concentration(L, data, keys, task),
        weight_norm=float(flatten(model).double().norm()),
    )


def progress_over(run, key_freqs=None, task: int = 0) -> dict:
    """The measures at every stored theta checkpoint of `run`, with ONE key set: `key_freqs`, or the
    final model's (Nanda et al.'s procedure). Returns {"step": [...], "key_freqs": (...), measure: [...]}."""
    data, model = run.dataset(), run.model()
    keys = tuple(key_freqs) if key_freqs is not None else model_key_frequencies(model, p=data.p)
    steps, thetas = run.trajectory("theta")
    out: dict[str, Any] = {"step": [int(s) for s in steps], "key_freqs": keys}
    for theta in thetas:
        model.load_state_dict(unflatten(theta, model))
        m = progress_measures(model, data, keys, task)
        for name in ("train_loss", "restricted_loss", "excluded_loss", "fourier_concentration", "weight_norm"):
            out.setdefault(name, []).append(getattr(m, name))
    return out


def departure_step(steps, values, start: int, direction: str, rel: float = 0.2, n_base: int = 3, until=None):
    """The step at which a measure leaves its plateau level, or None.

    Plateau level: the median of the first `n_base` values at steps >= `start` (Chapter 1: the
    memorisation step, train accuracy >= 99%). Departure: the first later step from which the value
    stays beyond (1 - rel) x level ("down", restricted loss) or (1 + rel) x level ("up", excluded loss)
    at every measurement up to `until` (default: the last one)."""
    if direction not in ("down", "up"):
        raise ValueError(f"direction must be 'down' or 'up', got {direction!r}")
    pts = [(int(s), float(v)) for s, v in zip(steps, values) if s >= start]
    if len(pts) <= n_base:
        return None
    level = statistics.median(v for _, v in pts[:n_base])
    beyond = (lambda v: v < (1 - rel) * level) if direction == "down" else (lambda v: v > (1 + rel) * level)
    window = [(s, v) for s, v in pts[n_base:] if until is None or s <= until]
    for i, (s, _) in enumerate(window):
        if all(beyond(v) for _, v in window[i:]):
            return s
    return None
