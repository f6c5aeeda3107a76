"""What the paper modules share: reading a chapter's recorded numbers, the checks of targets that are
not run, and the few check shapes every target uses (grok steps against the paper's seeds, "k of n"
against the paper's, a single run's interval), and the short line of our numbers a target states for the
scorecard's row (`stated`, `our_part`, `median_steps`)."""

from __future__ import annotations

import re

from grokkit import book, stats
from grokkit.papers import RERUN_SPREAD, steps_fmt
from grokkit.repro.verdict import as_check, equivalence, unlike

BOTH = (("exact", ""), ("authors' formula", "_authors"))  # the defect's two formulas: (label, metric-key suffix)
FORMULA_KEYS = (("exact", "exact"), ("authors' formula", "authors"))  # (label, key) in per-run records
TWO_RUNS = RERUN_SPREAD * 2**0.5  # the log-spread of a ratio of two runs' grok steps (each ± the rerun spread)
CH1, CH2, CH3, CH4, CH5 = "01_grokking", "02_execution_subspace", "03_multitask", "04_holographic", "05_low_rank_decay"


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


def grok_check(question, steps, caps, margin, *, spread=None, part=None):
    """Grok steps (None: censored at its cap) against the paper's margin: the Kaplan–Meier median's
    interval (a single run: ± the paper's spread)."""
    steps = list(steps or [])
    iv = stats.km_median(steps, caps, spread=spread) if steps else None
    return equivalence(question, iv, margin, fmt=steps_fmt, part=part)


def ratio_check(question, ratios, caps, margin, *, spread, part=None):
    """Ratios of two runs' grok steps against the paper's margin: their geometric mean's t interval
    where every numerator grokked, else (None: censored at `caps` × the denominator) the Kaplan–Meier
    median; a single run: ± `spread` (log scale)."""
    ratios = list(ratios or [])
    if not ratios:
        iv = None
    elif None in ratios:
        iv = stats.km_median(ratios, caps, spread=spread)
    else:
        iv = stats.mean_interval(ratios, log=True, spread=spread)
    return equivalence(question, iv, margin, fmt=lambda x: f"{x:.2f}×", part=part)


def count_check(question, k, n, margin, *, part=None):
    """ "k of n" against the paper's, by the Clopper–Pearson interval."""
    iv = stats.proportion_interval(k, n) if n else None
    return equivalence(question, iv, margin, fmt=lambda x: f"{x:.2f}", part=part)


def like_dual(m, check):
    """A check on the holographic run: only like with like (the paper's object is the dual-task run)."""
    if m.get("tasks") not in (None, 2) and check.ok is not None:
        return unlike(
            check.question,
            f"measured on a {m['tasks']}-task run, the paper's is dual-task",
            "the dual-task run at weight decay 1.0",
            part=check.part,
            statistic=check.statistic,
        )
    return check


def compressions(m) -> list[dict]:
    """The compression summaries (`grokkit.geometry.compression_summary`) of a measured dict, one per run."""
    if m.get("compressions"):
        return list(m["compressions"])
    return [m["compression"]] if m.get("compression") else []


def dual_steps(m) -> tuple[list, list]:
    """(the paper's grok step per seed: min over tasks of t98×3, the caps) of a measured dict."""
    if "per_task" in m:
        steps = [min([t for t in d.values() if t is not None], default=None) for d in m["per_task"].values()]
        caps = m.get("caps") or [m.get("cap")] * len(steps)
        return steps, caps
    return list(m.get("grok_steps") or []), m.get("caps") or [None] * len(m.get("grok_steps") or [])


# --- our numbers in one short line (a target's `ours`, the scorecard's row) ------------------------------

_STAT_NAMES = (  # a statistic's name, shortened: the label a target gives says what is measured
    ("median (order statistics) ", "median "),
    ("one run ± the paper's spread ", ""),
    ("geometric mean ", ""),
    ("mean ", ""),
    ("slope ", ""),
    ("one run ", ""),
)


def our_part(statistic: str) -> str:
    """Our half of a check's statistic, short: "mean 73.5% [72.4%, 74.7%] (n = 12) vs paper …" ->
    "73.5% [72.4%, 74.7%]"; a share "12/12 1.00 [0.74, 1.00] (n = 12)" -> "12/12"; a single run's
    interval is marked "(one run)"."""
    s = statistic.split(" vs ")[0].strip()
    one = s.startswith("one run")
    s = re.sub(r" \(n = \d+(, \d+ censored)?\)$", "", s)
    share = re.match(r"^(\d+/\d+) \S+ \[", s)
    if share:
        return share.group(1)
    for long, short in _STAT_NAMES:
        if s.startswith(long):
            s = short + s[len(long) :]
            break
    return s + (" (one run)" if one else "")


def stated(checks, *picks, sep: str = "; ") -> str | None:
    """Our numbers in one short line from a target's checks: for each (question prefix, label) of `picks`,
    the first number check whose question starts with the prefix, as "label <our half of its statistic>"
    (`our_part`). Checks without a statistic are left out; None where none is left."""
    checks = [as_check(c) for c in checks]
    out = []
    for prefix, label in picks:
        c = next((c for c in checks if c.kind == "number" and c.question.startswith(prefix) and c.statistic), None)
        if c is not None:
            out.append(f"{label} {our_part(c.statistic)}".strip())
    return sep.join(out) or None


def median_steps(steps, caps) -> str:
    """The Kaplan–Meier median of grok steps (None: censored at its cap) as a step count ("3.2k"), or
    "not reached" (more runs censored than grokked)."""
    iv = stats.km_median(list(steps), caps) if steps else None
    return "—" if iv is None else "not reached" if iv.estimate is None else steps_fmt(iv.estimate)


def deletion_line(m) -> str:
    """A deletion sweep's grok steps in one line: "grok step f = 0 → 8.5k, 0.02 → 10.5k; none by 31.0k at
    f = 0.1, 0.15" (a run that did not grok, by its cap)."""
    d = sorted((float(f), t) for f, t in m["deletion"].items())
    caps = {float(f): c for f, c in (m.get("caps") or {}).items()}
    grokked = [f"{f:g} → {steps_fmt(t)}" for f, t in d if t is not None]
    failed: dict = {}
    for f, t in d:
        if t is None:
            failed.setdefault(caps.get(f, m.get("cap")), []).append(f"{f:g}")
    out = [f"grok step f = {', '.join(grokked)}"] if grokked else []
    out += [f"none by {steps_fmt(c) if c else 'its cap'} at f = {', '.join(fs)}" for c, fs in failed.items()]
    return "; ".join(out)
