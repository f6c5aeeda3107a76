"""Trackers: hooks that only record (training computes exactly what it would without them).

Each sets `key` (a recorded series is part of what a cached run holds) and records at evaluations:
    RankTracker       stable / effective rank and norms of W_Q, W_K; the gradient norm
    LeakFreeTest      test accuracy on the pairs whose swap is not a training pair
    ProgressMeasureTracker   Nanda et al.'s progress measures (grokkit.geometry.progress_measures)
    DefectTracker     the inline commutator defect of the lead-time protocol (M6), both formulas, every
                      `every` steps (its own batch stream: training is unchanged)
"""

from __future__ import annotations

import torch

from grokkit.geometry.commutator import commutator_defect
from grokkit.geometry.progress_measures import progress_measures
from grokkit.geometry.spectra import effective_rank, stable_rank
from grokkit.hooks.base import Hook, OwnGenerator
from grokkit.model import attention_weights


class RankTracker(Hook):
    """At every evaluation: mean stable rank and entropy effective rank of all W_Q and W_K, their
    Frobenius norms, and the gradient norm of the last step ('srank_qk', 'erank_qk', 'norm_qk',
    'grad_norm'); with `spectra=True` also the singular values of layer 0's W_Q ('sv_q0')."""

    def __init__(self, spectra: bool = False):
        self.spectra = spectra
        self.key = "ranks(spectra)" if spectra else "ranks"

    def on_eval(self, ctx):
        mats = [w for (_, n), w in attention_weights(ctx.model).items() if n in ("W_Q", "W_K")]
        ctx.record("srank_qk", sum(map(stable_rank, mats)) / len(mats))
        ctx.record("erank_qk", sum(map(effective_rank, mats)) / len(mats))
        ctx.record("norm_qk", sum(float(w.detach().norm()) for w in mats) / len(mats))
        grads = [p.grad for p in ctx.model.parameters() if p.grad is not None]
        ctx.record("grad_norm", float(torch.cat([g.reshape(-1) for g in grads]).norm()) if grads else 0.0)
        if self.spectra:
            ctx.record("sv_q0", torch.linalg.svdvals(attention_weights(ctx.model)[(0, "W_Q")].detach().double()))


class LeakFreeTest(Hook):
    """Test accuracy on the test pairs (a, b) whose swap (b, a) is NOT a training pair (open question
    Q19): for a commutative operation the others are answered by memory, not by generalisation.
    Recorded as 'test_acc_leak_free' (one value per task) at every evaluation."""

    key = "leak_free_test"

    def on_eval(self, ctx):
        d = ctx.data
        if not hasattr(self, "_idx"):
            lo = int(d.pairs.min())
            n = int(d.pairs.max()) - lo + 1
            swap = (d.pairs[:, 1] - lo) * n + (d.pairs[:, 0] - lo)  # index of (b, a) in the pair list
            self._idx = d.test_idx[~d.train_mask[swap[d.test_idx]]]
        with torch.no_grad():
            was = ctx.model.training
            ctx.model.eval()
            logits = ctx.model(d.inputs[self._idx])
            ctx.model.train(was)
        acc = (logits.argmax(-1) == d.labels[self._idx].T).float().mean(1)
        ctx.record("test_acc_leak_free", acc)


class ProgressMeasureTracker(Hook):
    """Nanda et al.'s progress measures at every `every`-th evaluation (every one by default), recorded
    as 'progress/<measure>' (train_loss, restricted_loss, excluded_loss, fourier_concentration,
    weight_norm) and 'progress/key_freqs'.

    key_freqs: the fixed key set (e.g. a finished run's, `geometry.model_key_frequencies(run.model())`:
    Nanda et al.'s choice, comparable across steps), or None for each evaluation's own embedding key
    frequencies (no foresight needed, but the set changes while the circuit forms). Add / sub only."""

    def __init__(self, key_freqs=None, every: int = 1, task: int = 0):
        if every < 1:
            raise ValueError(f"every must be >= 1 (evaluations), got {every}")
        self.key_freqs = None if key_freqs is None else tuple(int(k) for k in key_freqs)
        self.every, self.task, self._n = every, task, 0
        keys = "own" if self.key_freqs is None else ",".join(map(str, self.key_freqs))
        self.key = f"progress(keys={keys},every={every},task={task})"

    def on_eval(self, ctx):
        self._n += 1
        if (self._n - 1) % self.every:
            return
        m = progress_measures(ctx.model, ctx.data, self.key_freqs, self.task)
        for name in ("train_loss", "restricted_loss", "excluded_loss", "fourier_concentration", "weight_norm"):
            ctx.record(f"progress/{name}", getattr(m, name))
        ctx.record("progress/key_freqs", list(m.key_freqs))

    def state_dict(self) -> dict:
        return {"n": self._n}

    def load_state_dict(self, state: dict) -> None:
        self._n = int(state.get("n", 0))


class DefectTracker(OwnGenerator, Hook):
    """Inline commutator defect (M2, the papers' lead-time protocol M6: every 100 steps, K = 5): the
    median of K samples every `every` steps and at step 0. Both formulas come from one set of gradients
    and are recorded: 'defect' (exact), 'defect_authors' (the authors' float32 formula),
    'defect_roundoff' (median estimated round-off of the authors' value, units of D) and
    'defect_grad_norm' (median raw ‖g_A‖). Batches come from the hook's own generator, so training is
    unchanged."""

    def __init__(
        self,
        every: int = 100,
        K: int = 5,
        eta: float = 1e-3,
        seed: int = 0,
        task_a: int | None = None,
        task_b: int | None = None,
        name: str = "defect",
    ):
        self.every, self.K, self.eta, self.seed, self.task_a, self.task_b, self.name = (
            every,
            K,
            eta,
            seed,
            task_a,
            task_b,
            name,
        )
        self.key = f"defect(every={every},K={K},eta={eta},seed={seed},tasks={task_a},{task_b},formulas=both)"

    def _measure(self, ctx):
        was = ctx.model.training
        ctx.model.train()
        d = commutator_defect(
            ctx.model,
            ctx.data,
            K=self.K,
            eta=self.eta,
            generator=self.generator(ctx.device),
            task_a=self.task_a,
            task_b=self.task_b,
        )
        ctx.model.train(was)
        ctx.record(self.name, d.median_exact)
        ctx.record(f"{self.name}_authors", d.median_authors)
        ctx.record(f"{self.name}_roundoff", d.median_roundoff)
        ctx.record(f"{self.name}_grad_norm", float(d.grad_norm.median()))
        return d

    def on_start(self, ctx):
        self._measure(ctx)

    def on_step(self, ctx):
        if ctx.step % self.every == 0:
            self._measure(ctx)
