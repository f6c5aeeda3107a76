"""What a modular-arithmetic network computes at one step: its embedding "clock" and its answer table.

* clock: for a frequency k, each token's embedding W_E[a] projected on the two directions of the
  embedding's own k-th Fourier coefficient F_k = Σ_a W_E[a] e^{-2πika/p} (real and imaginary parts,
  orthonormalised). A network that uses frequency k puts token a at angle ≈ 2πka/p on a circle;
  a random embedding gives a cloud. Coordinates are scaled so the largest radius is 1.
* answer table: (p, p) booleans, right or wrong per pair (a, b), task `task`, every pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from grokkit.data import Dataset
from grokkit.geometry.fourier import fourier_power, key_frequencies
from grokkit.geometry.progress_measures import all_logits
from grokkit.model import flatten, unflatten


def embedding_clock(W_E: torch.Tensor, k: int, p: int | None = None) -> torch.Tensor:
    """(p, 2) float64: tokens 0..p-1 on the plane of frequency k (1 <= k <= p // 2)."""
    p = W_E.shape[0] if p is None else p
    if not 1 <= k <= p // 2:
        raise ValueError(f"frequency k must lie in 1..{p // 2}, got {k}")
    W = W_E[:p].double()
    phase = torch.exp(-2j * torch.pi * k * torch.arange(p, dtype=torch.float64) / p)
    F_k = (W.to(torch.complex128) * phase[:, None]).sum(0)
    basis, _ = torch.linalg.qr(torch.stack([F_k.real, F_k.imag], dim=1))  # (d, 2) orthonormal
    xy = (W - W.mean(0)) @ basis
    r = xy.norm(dim=1).max()
    return xy / r if r > 0 else xy


@torch.no_grad()
def answer_table(model, data: Dataset, task: int = 0) -> torch.Tensor:
    """(p, p) bool, row a, column b: does the model answer the pair right? (pairs absent: False)."""
    pred = all_logits(model, data, task).argmax(-1)
    table = torch.zeros(data.p, data.p, dtype=torch.bool)
    a, b = data.pairs[:, 0].cpu(), data.pairs[:, 1].cpu()
    table[a, b] = pred == data.labels[:, task].cpu()
    return table


def train_table(data: Dataset) -> torch.Tensor:
    """(p, p) bool: which pairs (a, b) are training pairs."""
    table = torch.zeros(data.p, data.p, dtype=torch.bool)
    idx = data.train_idx.cpu()
    table[data.pairs[idx, 0].cpu(), data.pairs[idx, 1].cpu()] = True
    return table


@dataclass(frozen=True)
class Frames:
    """What the step scrubber shows at each saved step of a run (all from its theta checkpoints).

    steps (S,); spectrum (S, p//2): share of the embedding's Fourier power per frequency k = 1..p//2;
    clock (S, 2, p, 2): tokens on the planes of `clock_freqs` (the final model's two strongest
    frequencies; each step's own Fourier directions); answers (S, p, p) bool; train (p, p) bool;
    key_freqs: the final embedding's key frequencies (share 0.8)."""

    p: int
    steps: list
    spectrum: torch.Tensor
    clock: torch.Tensor
    answers: torch.Tensor
    train: torch.Tensor
    key_freqs: tuple
    clock_freqs: tuple


def circuit_frames(run, max_frames: int = 60, task: int = 0) -> Frames:
    """Frames at up to `max_frames` of the run's theta checkpoints and its final weights (evenly spaced,
    first and last kept)."""
    if max_frames < 2:
        raise ValueError(f"max_frames must be >= 2, got {max_frames}")
    if "theta" not in run.tensors:
        raise KeyError("this run stored no theta checkpoints (checkpoint_every=0): nothing to scrub through")
    c = run.config
    data, model = run.dataset(), run.model()  # the model starts as the final one
    steps, thetas = run.trajectory("theta")
    if run.steps[-1] > int(steps[-1]):  # the final weights, when the run stopped between checkpoints
        steps, thetas = torch.cat([steps, torch.tensor([run.steps[-1]])]), torch.cat([thetas, flatten(model)[None]])
    keep = torch.linspace(0, len(steps) - 1, min(max_frames, len(steps))).round().long().unique()
    final = fourier_power(run.weights["embed.weight"], c.p)
    clock_freqs = tuple(int(k) + 1 for k in torch.argsort(final, descending=True)[:2])
    spectrum, clock, answers = [], [], []
    for i in keep.tolist():
        model.load_state_dict(unflatten(thetas[i], model))
        W_E = model.embed.weight.detach()
        power = fourier_power(W_E, c.p)
        spectrum.append(power / power.sum())
        clock.append(torch.stack([embedding_clock(W_E, k, c.p) for k in clock_freqs]))
        answers.append(answer_table(model, data, task))
    return Frames(
        p=c.p,
        steps=[int(steps[i]) for i in keep],
        spectrum=torch.stack(spectrum),
        clock=torch.stack(clock),
        answers=torch.stack(answers),
        train=train_table(data),
        key_freqs=tuple(key_frequencies(final, 0.8)),
        clock_freqs=clock_freqs,
    )
