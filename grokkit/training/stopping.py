"""The stop rule, shared by a solo run and every ensemble member.

Stop once every task's test accuracy is >= `stop_threshold` on `stop_patience` consecutive
evaluations, then train exactly `steps_after_stop` more steps (the lead-time protocol), never past
`max_steps`. The criterion is read at evaluations; the stop itself can fall between two of them
(when `steps_after_stop` is not a multiple of `eval_every`), and both engines stop at that step.

A run diverges when an evaluation's train or test loss is NaN or inf: it stops at that evaluation's
step (`diverged_at`), whatever the criterion, instead of stepping on to `max_steps` with NaN weights.
Parameters that are not finite when training ends (a divergence after the last evaluation) count too.
The run stores the step in its info (`diverged_at`, only when it diverged: a normal run's history,
info and cache key are those it always had), and `Run.diverged_at` reads it back.
"""

from __future__ import annotations

import math

import torch

from grokkit.config import Config


class StopRule:
    def __init__(self, config: Config, streak: int = 0, stop_at: int | None = None, diverged_at: int | None = None):
        self.config, self.streak, self.stop_at, self.diverged_at = config, streak, stop_at, diverged_at

    def update(self, step: int, test_acc, losses=()) -> None:
        """Read one evaluation (per-task test accuracies at `step`, and its losses: any NaN or inf diverges)."""
        c = self.config
        if self.diverged_at is None and not all(math.isfinite(x) for x in losses):
            self.diverged_at = step
        if self.stop_at is None and c.stop_threshold is not None:
            self.streak = self.streak + 1 if min(test_acc) >= c.stop_threshold else 0
            if self.streak >= c.stop_patience:
                self.stop_at = step + c.steps_after_stop

    def check_weights(self, step: int, params) -> None:
        """At the end of training: a non-finite parameter means the run diverged (by `step`)."""
        if self.diverged_at is None and not all(bool(torch.isfinite(p).all()) for p in params):
            self.diverged_at = step

    @property
    def end(self) -> int:
        """The step training ends at, as far as it is known now (the budget until the criterion is met)."""
        end = self.config.max_steps if self.stop_at is None else min(self.stop_at, self.config.max_steps)
        return end if self.diverged_at is None else min(end, self.diverged_at)

    def done(self, step: int) -> bool:
        """Whether training ends after `step` updates (the budget, the stop step, or a divergence reached)."""
        return step >= self.end

    @property
    def stopped_early(self) -> bool:
        """Whether the stop criterion was met (a diverged run may have met it before it diverged)."""
        return self.stop_at is not None

    def info(self) -> dict:
        """What a run's info adds for this rule: {"diverged_at": step} when it diverged, else nothing."""
        return {} if self.diverged_at is None else {"diverged_at": self.diverged_at}
