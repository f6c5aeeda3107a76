"""The verdict rule of the reproduction scorecard: what a target's checks say about the paper's claim.

Every check of a target is one of two kinds:
  number    a question about the claim itself (the paper's number, within a tolerance that comes from
            spread: the paper's own seed range or rerun spread, or ours over >= 3 seeds; compared like
            with like: same ops, same task count, same statistic);
  coverage  a question about what was run (seeds, operations, budget, scale) against the paper's.
Numbers decide the verdict; coverage decides its qualifier. A number check answers
  True / False   decided;
  None           not measured (at this profile, or not at all);
  UNDECIDED      measured, but it cannot decide: a run stopped at its cap without grokking answers
                 "does not grok by N", never "does not grok"; too few runs or λ values for a fit;
                 a standard error too large to tell the paper's value from the obvious alternative;
                 a comparison that is not like with like.
A number check may be marked `refutes`: its failure means exact arithmetic or the paper's own data
contradict the paper's number (not merely that our runs differ).

The classes, in the order the rule tests them (`judge`):
  not yet run                   no number check answered
  refuted                       a refuting number check failed
  partly                        some number checks passed, some failed
  not reproduced                number checks failed, none passed
  inconclusive                  none failed, but some could not decide
  reproduced at reduced scale   every answered number passed; a coverage check failed or a number
                                was not measured (the qualifier says which)
  reproduced                    every number passed and the coverage matches the paper's
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNDECIDED = "undecided"
KINDS = ("number", "coverage")
VERDICTS = (
    "reproduced",
    "reproduced at reduced scale",
    "partly",
    "not reproduced",
    "refuted",
    "inconclusive",
    "not yet run",
)


@dataclass(frozen=True)
class Check:
    question: str
    ok: bool | str | None  # True, False, None (not measured) or UNDECIDED
    kind: str = "number"
    refutes: bool = False  # a failure refutes the paper's number (exact arithmetic, the paper's own data)
    why: str | None = None  # for UNDECIDED: why it cannot decide

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"check kind must be one of {KINDS}, got {self.kind!r}")
        if self.ok not in (True, False, None, UNDECIDED):
            raise ValueError(f"check answer must be True, False, None or {UNDECIDED!r}, got {self.ok!r}")

    def as_dict(self) -> dict:
        return {
            "question": self.question,
            "passed": self.ok,
            "kind": self.kind,
            "refutes": self.refutes,
            "why": self.why,
        }


def num(question: str, ok, *, refutes: bool = False, why: str | None = None) -> Check:
    """A number check (the claim). `ok` may be a bool-like, None or UNDECIDED."""
    return Check(question, _norm(ok), "number", refutes, why)


def cov(question: str, ok) -> Check:
    """A coverage check (what was run, against the paper's)."""
    return Check(question, _norm(ok), "coverage")


def undecided(question: str, why: str) -> Check:
    return Check(question, UNDECIDED, "number", why=why)


def _norm(ok):
    return ok if ok is None or ok == UNDECIDED else bool(ok)


def as_check(c) -> Check:
    """A Check from a Check or a (question, ok) pair (a number check)."""
    if isinstance(c, Check):
        return c
    q, ok = c
    return num(q, ok)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: tuple = field(default=())  # what decided it, or what the coverage lacks (the qualifier)


def judge(checks) -> Verdict:
    checks = [as_check(c) for c in checks]
    numbers = [c for c in checks if c.kind == "number"]
    answered = [c for c in numbers if c.ok is not None]
    if not answered:
        return Verdict("not yet run")
    refuted = [c for c in answered if c.ok is False and c.refutes]
    if refuted:
        return Verdict("refuted", tuple(c.question for c in refuted))
    failed = [c for c in answered if c.ok is False]
    passed = [c for c in answered if c.ok is True]
    if failed:
        return Verdict("partly" if passed else "not reproduced", tuple(c.question for c in failed))
    open_ = [c for c in answered if c.ok == UNDECIDED]
    if open_:
        return Verdict("inconclusive", tuple(f"{c.question}: {c.why}" if c.why else c.question for c in open_))
    short = [c.question for c in checks if c.kind == "coverage" and c.ok is not True]
    short += [f"not measured: {c.question}" for c in numbers if c.ok is None]
    return Verdict("reproduced at reduced scale", tuple(short)) if short else Verdict("reproduced")
