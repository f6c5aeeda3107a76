"""The stop rule, shared by a solo run and every ensemble member.

Stop once every task's test accuracy is >= `stop_threshold` on `stop_patience` consecutive
evaluations, then train exactly `steps_after_stop` more steps (the lead-time protocol), never past
`max_steps`. The criterion is read at evaluations; the stop itself can fall between two of them
(when `steps_after_stop` is not a multiple of `eval_every`), and both engines stop at that step.
"""

from __future__ import annotations

from grokkit.config import Config


class StopRule:
    def __init__(self, config: Config, streak: int = 0, stop_at: int | None = None):
        self.config, self.streak, self.stop_at = config, streak, stop_at

    def update(self, step: int, test_acc) -> None:
        """Read one evaluation (per-task test accuracies at `step`)."""
        c = self.config
        if self.stop_at is None and c.stop_threshold is not None:
            self.streak = self.streak + 1 if min(test_acc) >= c.stop_threshold else 0
            if self.streak >= c.stop_patience:
                self.stop_at = step + c.steps_after_stop

    @property
    def end(self) -> int:
        """The step training ends at, as far as it is known now (the budget until the criterion is met)."""
        return self.config.max_steps if self.stop_at is None else min(self.stop_at, self.config.max_steps)

    def done(self, step: int) -> bool:
        """Whether training ends after `step` updates (the budget, or the stop step reached)."""
        return step >= self.end

    @property
    def stopped_early(self) -> bool:
        return self.stop_at is not None
