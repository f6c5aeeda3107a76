"""The verdict rule of the reproduction scorecard: what a target's checks say about the paper's claim.

Grok steps are time-to-event data. A run stopped at its cap without grokking is right-censored: it has
not grokked *yet*. Grok steps are summarised by Kaplan–Meier medians with their confidence intervals
and compared by the logrank or sign test (scipy.stats, `grokkit.stats`); no mean drops or caps a
censored run.

A number claim is judged by an interval against an equivalence margin. Each of the papers' numbers
(`grokkit.papers`) states its margin and where the margin comes from: the t interval of the mean of
the paper's own seeds or runs (its seed range is data for the margin, never an acceptance region), its
rerun spread, the precision it was stated to, or the Clopper–Pearson interval of its "k of n".
  our interval inside the margin   reproduced (the check passes)
  our interval outside the margin  not reproduced (the check fails)
  our interval straddles an edge   inconclusive, with the number of seeds that would decide it
A single run has an interval only where the paper reports the spread of the same quantity.
Orders (mul < sq < add) are judged by a one-sided sign test over seeds; fitted exponents by the slope's
interval, and only where the design has leverage (the stated minimum span of x; else undecided).

Like with like, the same way everywhere: a different model, task count, statistic, formula or step
budget makes a check undecided, and the check says what would make it like with like.

Every check names the outcome that fails it. Exact derivations (no sampling: arithmetic on a fixed
input) are labelled as such. A check may be marked `refutes`: its failure means exact arithmetic or
the paper's own data contradict the paper's number, not merely that our runs differ. A compound claim
is split into parts, each judged on its own; a target whose parts disagree is "partly".

The classes, in the order the rule tests them (`judge`), per part:
  not yet run                   no number check answered
  refuted                       a refuting number check failed
  partly                        some number checks passed, some failed
  not reproduced                number checks failed, none passed
  inconclusive                  none failed, but some could not decide
  reproduced at reduced scale   every answered number passed; a coverage check failed or a number
                                was not measured (the qualifier says which)
  reproduced                    every number passed and the coverage matches the paper's
Our own findings, numbers the papers do not state, are not verdicts: they are listed apart
(`grokkit.repro.findings`), each with its evidence and the command that measures it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grokkit import stats

UNDECIDED = "undecided"
KINDS = ("number", "coverage")
BASES = ("measured", "exact derivation")
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
    statistic: str | None = None  # what decided it: our interval against the paper's margin
    seeds: int | None = None  # for UNDECIDED: about how many seeds (runs) would decide it
    part: str | None = None  # the part of a compound claim it belongs to
    basis: str = "measured"  # or "exact derivation"
    margin: str | None = None  # where the margin the statistic was held to comes from

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"check kind must be one of {KINDS}, got {self.kind!r}")
        if self.basis not in BASES:
            raise ValueError(f"check basis must be one of {BASES}, got {self.basis!r}")
        if self.ok not in (True, False, None, UNDECIDED):
            raise ValueError(f"check answer must be True, False, None or {UNDECIDED!r}, got {self.ok!r}")

    def as_dict(self) -> dict:
        return {
            "question": self.question,
            "passed": self.ok,
            "kind": self.kind,
            "refutes": self.refutes,
            "why": self.why,
            "statistic": self.statistic,
            "seeds": self.seeds,
            "part": self.part,
            "basis": self.basis,
            "margin": self.margin,
        }


def num(question: str, ok, *, refutes: bool = False, why=None, statistic=None, part=None, seeds=None) -> Check:
    """A number check (the claim). `ok` may be a bool-like, None or UNDECIDED."""
    return Check(question, _norm(ok), "number", refutes, why, statistic, seeds, part)


def exact(question: str, ok, *, statistic=None, part=None, refutes: bool = False) -> Check:
    """A number check on an exact derivation (arithmetic on a fixed input, no sampling)."""
    return Check(question, _norm(ok), "number", refutes, None, statistic, None, part, "exact derivation")


def cov(question: str, ok) -> Check:
    """A coverage check (what was run, against the paper's)."""
    return Check(question, _norm(ok), "coverage")


def undecided(question: str, why: str, *, part=None, statistic=None, seeds=None) -> Check:
    return Check(question, UNDECIDED, "number", why=why, part=part, statistic=statistic, seeds=seeds)


def unlike(question: str, why: str, fix: str, *, part=None, statistic=None) -> Check:
    """A comparison that is not like with like: undecided, saying what differs and what would fix it."""
    return undecided(question, f"not like with like: {why}; like with like: {fix}", part=part, statistic=statistic)


def equivalence(
    question: str,
    ours: stats.Interval | None,
    margin: stats.Margin,
    *,
    fmt=stats.fmt_number,
    refutes: bool = False,
    part: str | None = None,
) -> Check:
    """Our interval against the paper's margin: inside passes, outside fails, straddling is undecided
    with the seeds that would decide it. `question` names the outcome that fails it."""
    if ours is None:
        return num(question, None, part=part)
    where = stats.compare(ours, margin)
    stat = f"{ours.text(fmt)} vs {margin.text(fmt, source=False)}"
    if where in ("inside", "outside"):
        return Check(question, where == "inside", "number", refutes, None, stat, None, part, margin=margin.source)
    n = stats.seeds_to_decide(ours, margin)
    if ours.lo is None and ours.hi is None:
        why = "one run has no interval (the paper states no spread for this quantity)"
    elif ours.estimate is None:
        why = "the median is not reached: more runs grok after their cap than before it"
    else:
        why = "our interval straddles the margin"
    why += f"; about {n} runs decide it" if n else ""
    return Check(question, UNDECIDED, "number", refutes, why, stat, n, part, margin=margin.source)


def order(question: str, test: dict, *, alpha: float = 0.05, part: str | None = None) -> Check:
    """An order claim ("a before b") by a one-sided sign test over paired seeds (`grokkit.stats.order_test`):
    passes at p < alpha, fails where the reverse order is significant, undecided otherwise."""
    if not test or not test["n"]:
        return num(question, None, part=part)
    stat = f"{test['first']} of {test['n']} seeds in order (sign test p = {test['p']:.2g})"
    if test["p"] < alpha:
        return num(question, True, statistic=stat, part=part)
    if test["p_reverse"] < alpha:
        return num(question, False, statistic=stat, part=part)
    n = next((m for m in range(test["n"] + 1, 200) if 0.5**m < alpha), None) if test["first"] == test["n"] else None
    why = "the sign test cannot decide at this many seeds" + (f"; {n} seeds all in order decide it" if n else "")
    return undecided(question, why, part=part, statistic=stat, seeds=n)


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
    parts: tuple = field(default=())  # ((part, verdict), ...) of a compound claim


def _one(checks) -> Verdict:
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


def judge(checks) -> Verdict:
    checks = [as_check(c) for c in checks]
    names = list(dict.fromkeys(c.part for c in checks if c.kind == "number" and c.part))
    if len(names) < 2:
        return _one(checks)
    coverage = [c for c in checks if c.kind == "coverage"]
    parts = tuple((p, _one([c for c in checks if c.part == p] + coverage).verdict) for p in names)
    run = [v for _, v in parts if v != "not yet run"]
    if len(set(run)) > 1 and "refuted" in run:  # a refuted part does not refute the others
        return Verdict("partly", tuple(f"{p}: {v}" for p, v in parts), parts)
    whole = _one(checks)
    return Verdict(whole.verdict, whole.reasons, parts)
