"""Progress bars that do not promise a false total.

A run with a stop rule usually ends long before its step budget (add mod 97 groks at ~3,300 of a
200,000-step budget), so a bar against the budget shows an ETA of hours. These bars count steps with
no total while the stop criterion is unmet, and switch to the true total (the stop step) once it is;
a run without a stop rule, or a pool of runs, counts against its budget (a pool: against the runs).
"""

from __future__ import annotations

from grokkit.config import Config


def _tqdm(**kw):
    from tqdm.auto import tqdm  # tqdm.auto picks the notebook widget or the terminal bar at call time

    return tqdm(mininterval=0.5, **kw)


class RunBar:
    """One run's steps (`update(n)`), with the grok status in the postfix."""

    def __init__(
        self,
        config: Config,
        desc: str,
        start: int = 0,
        enabled: bool = True,
        status: bool = True,
        total: int | None | str = "budget",
    ):
        """total: "budget" (the config's max_steps without a stop rule, else none until it is met), or a
        number, or None (count only; the ensemble's member-steps)."""
        self.config, self.status = config, status and config.stop_threshold is not None
        if total == "budget":
            total = config.max_steps if config.stop_threshold is None else None
        self.bar = _tqdm(total=total, initial=start, desc=desc, unit="step", leave=False) if enabled else None

    def update(self, n: int, postfix: str = "", stop_at: int | None = None) -> None:
        if self.bar is None:
            return
        if stop_at is not None and self.bar.total is None:  # the run's criterion is met: its end is known
            self.bar.total = min(stop_at, self.config.max_steps)
        status = (
            ""
            if not self.status
            else (
                "  waiting for the stop criterion" if stop_at is None else f"  stop criterion met, ends at {stop_at:,}"
            )
        )
        self.bar.update(n)
        self.bar.set_postfix_str(postfix + status, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class PoolBar:
    """A pool of runs: finished runs against the number of runs, the steps trained in the postfix.
    `steps(n)` reports n more steps (thread-safe callers hold their own lock); `done()` one run."""

    def __init__(self, n_runs: int, desc: str, enabled: bool = True):
        self.n_steps = 0
        self.bar = _tqdm(total=n_runs, desc=desc, unit="run") if enabled else None

    def steps(self, n: int) -> None:
        self.n_steps += n
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.n_steps:,} steps", refresh=self.bar.n == 0)  # before a run ends

    def done(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
