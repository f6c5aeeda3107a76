"""The registry of the 25 reproduction targets of papers-spec §6.

Each paper module (`single_task`, `execution_subspace`, `interventions`, `dual_task`, `tri_task`,
`holographic`, `lrd`) registers its targets with `@target(...)` on the target's checks function,
next to its measure function:

    @target(4, "single-task-grokking", "Single-task grokking (add, sub, mul, x2_y2)",
            paper="add t90 ≈ 2.5–3.2k, ...", source="2602.16746 §4", chapter="01_grokking", measure=_m_single)
    def _c_single(m): ...

`claim` is the target's title, `paper` the paper's number(s) as papers-spec §6 states them (built
from `grokkit.papers`), `source` the arXiv id and section, `section` the chapter's section that measures
it, `ours` our numbers in one short line (the scorecard's row; `Target.stated`). Importing `grokkit.repro`
imports every paper module, so `TARGETS` (ordered by id), `BY_NAME` and `get` see all 25.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

TARGET_PROFILES = ("smoke", "default", "cpu-full", "paper")
LIVE = ("smoke", "default", "paper")  # the profiles of a target without a cpu-full re-run


@dataclass(frozen=True)
class Target:
    id: int
    slug: str
    claim: str
    paper: str  # the paper's number(s), as papers-spec §6 states them
    source: str  # arXiv id (section)
    chapter: str | None  # the notebook that discusses it
    measure: Callable[[str], dict] | None  # profile -> {"measured": {...}, "scale": str, ...}
    checks: Callable[[dict], list] | None  # measured -> [Check, ...] (grokkit.repro.verdict)
    profiles: tuple[str, ...] = LIVE
    note: Callable[[dict], str | None] | None = None  # measured -> a sentence the scorecard prints under the verdict
    section: str | None = None  # the heading of the chapter's section that measures it (the scorecard links it)
    ours: Callable[[dict], str | None] | None = None  # measured -> our numbers in one short line (the scorecard's row)
    scrub: Callable[[dict, str, int], tuple | None] | None = None  # measured, op, seed -> the steps to scrub to

    @property
    def name(self) -> str:
        return f"{self.id:02d}-{self.slug}"

    def stated(self, measured: dict | None) -> str | None:
        """Our numbers in one short line, as the target states them (`ours`); None where it states none or
        the measured dict lacks what it reads."""
        if self.ours is None or measured is None:
            return None
        try:
            return self.ours(measured) or None
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError):
            return None


TARGETS: list[Target] = []  # ordered by id
BY_NAME: dict[str, Target] = {}  # NN-slug, the id as a string, and the slug


def target(
    id: int,
    slug: str,
    claim: str,
    *,
    paper: str,
    source: str,
    chapter: str | None,
    measure: Callable[[str], dict] | None,
    cpu_full: Callable[[str], dict] | None = None,
    note: Callable[[dict], str | None] | None = None,
    profiles: tuple | None = None,
    section: str | None = None,
    ours: Callable[[dict], str | None] | None = None,
    scrub: Callable[[dict, str, int], tuple | None] | None = None,
):
    """Register the decorated checks function as target `id`. `cpu_full`: the target's re-run at the
    cpu-full profile (`grokkit.repro.cpu_full`); `measure` answers every other profile (None: cpu-full only);
    `profiles`: the profiles it answers where fewer (e.g. ("paper",): measured only by the GPU lease);
    `section`: the heading (as the notebook writes it, without the #s) of the chapter's section that measures
    it; `ours`: measured -> our numbers in one short line (an estimate with its interval, a count); `scrub`:
    measured, op, seed -> (first, last) step of what the claim is about in that run (where the chapter's step
    scrubber shows one of the target's runs, the scorecard points the reader at those steps)."""

    def register(checks):
        add(
            Target(
                id,
                slug,
                claim,
                paper,
                source,
                chapter,
                _dispatch(cpu_full, measure) if cpu_full else measure,
                checks,
                profiles or ((TARGET_PROFILES if measure else ("cpu-full",)) if cpu_full else LIVE),
                note,
                section,
                ours,
                scrub,
            )
        )
        return checks

    return register


def _dispatch(cpu_full, measure):
    def dispatch(profile):
        if profile != "cpu-full" and measure is None:
            raise LookupError(f"only the cpu-full profile is implemented, not {profile!r}")
        return cpu_full(profile) if profile == "cpu-full" else measure(profile)

    return dispatch


def add(t: Target) -> Target:
    if any(x.id == t.id for x in TARGETS):
        raise ValueError(f"target {t.id} registered twice")
    TARGETS.append(t)
    TARGETS.sort(key=lambda x: x.id)
    BY_NAME.update({t.name: t, str(t.id): t, t.slug: t})
    return t


def get(name: str) -> Target:
    key = name.lstrip("0") if name.isdigit() else name
    if key not in BY_NAME:
        raise KeyError(f"unknown target {name!r}; `python -m grokkit reproduce --list` shows the 25")
    return BY_NAME[key]
