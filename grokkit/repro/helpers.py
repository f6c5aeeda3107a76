"""What the paper modules share: tolerant comparisons, reading a chapter's recorded numbers, and the
checks of targets that are not run."""

from __future__ import annotations

from grokkit import book
from grokkit.repro.verdict import num, undecided

BOTH = (("exact", ""), ("authors' formula", "_authors"))  # the defect's two formulas: (label, metric-key suffix)
CH1, CH2, CH3, CH4, CH5 = "01_grokking", "02_execution_subspace", "03_multitask", "04_holographic", "05_low_rank_decay"


def within(x, lo, hi):
    return None if x is None else bool(lo <= x <= hi)


def all_within(xs, lo, hi):
    xs = [x for x in (xs or []) if x is not None] if xs is not None else None
    return None if not xs else all(lo <= x <= hi for x in xs)


def model_name(profile):
    return "the tiny test model" if profile == "smoke" else "the papers' model"


def chapter(stem: str, profile: str) -> tuple[dict, dict]:
    """Chapter `stem`'s recorded numbers at `profile` (executing it if none are stored), and their provenance."""
    blob = book.chapter_metrics(stem, profile)
    prov = {
        k: blob.get(k)
        for k in ("chapter", "profile", "git_commit", "grokkit_version", "device", "wall_time_s", "created")
    }
    return blob["metrics"], {"from_chapter": prov, "configs": blob.get("run_keys", [])}


def from_chapter(stem, keys, scale, extra=None):
    """Measure by reading chapter `stem`'s recorded numbers; `extra(profile)`: what the chapter ran (for coverage)."""

    def measure(profile):
        metrics, prov = chapter(stem, profile)
        measured = {k: metrics.get(k) for k in keys} | (extra(profile) if extra else {})
        return {"measured": measured, **prov, "scale": scale(profile, measured) if callable(scale) else scale}

    return measure


def ch4_coverage(profile):
    return {"tasks": 3, "seeds": 1}  # chapter 4 analyses chapter 3's tri-task wd 1.0 run, seed 42


def like_dual(m, question, ok):
    """A number check on the holographic run: only like with like (the paper's object is the dual-task run)."""
    if m.get("tasks") not in (None, 2) and ok is not None:
        return undecided(question, f"not like with like: measured on a {m['tasks']}-task run, the paper's is dual-task")
    return num(question, ok)


def not_run(*questions):
    """The checks of a target not implemented: its questions, unanswered."""
    return lambda m: [num(q, None) for q in questions]
