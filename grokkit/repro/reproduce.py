"""Run reproduction targets and store their results: `python -m grokkit reproduce TARGET --profile P`.

`results/<NN-slug>.json` of the checkout (`grokkit.book.execute.results_dir`) holds one entry per
profile measured: the measured numbers, the paper's, the checks (number / coverage) and the verdict
with its qualifier (`grokkit.repro.verdict.judge`), config hashes (run-cache keys), grokkit version,
git commit, device, wall time (`grokkit.store.provenance.stamp`). Writes are atomic. Nothing in results/
is typed by hand.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from grokkit.book.execute import results_dir
from grokkit.repro.targets import TARGETS, Target, get
from grokkit.repro.verdict import as_check, judge
from grokkit.store.provenance import stamp

# later profiles take precedence on the scorecard: cpu-full re-runs a target at the paper's coverage
# (including what the GPU session stored for it, where it has any)
SCALE_ORDER = ("smoke", "default", "paper", "cpu-full")


class CorruptResult(ValueError):
    """A results/<target>.json that does not parse (the message names the file and the fix)."""


def result_path(t: Target, results: Path | None = None) -> Path:
    """results/<NN-slug>.json of the checkout (`results`: another results directory)."""
    return (Path(results) if results is not None else results_dir()) / f"{t.name}.json"


def load(t: Target, results: Path | None = None) -> dict:
    path = result_path(t, results)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text()).get("profiles", {})
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as e:
        raise CorruptResult(f"{path} is corrupt ({e}); delete it and rerun the target") from e


def evaluate(t: Target, measured: dict | None, profile: str) -> tuple[list, dict]:
    """The checks (as dicts) and the verdict {"verdict", "reasons"} for `measured` (smoke is never judged)."""
    if measured is None or t.checks is None:
        return [], {"verdict": "not yet run", "reasons": [], "parts": []}
    checks = [as_check(c) for c in t.checks(measured)]
    if profile == "smoke":
        return [c.as_dict() for c in checks], {
            "verdict": "not yet run",
            "reasons": ["smoke profile: never judged"],
            "parts": [],
        }
    v = judge(checks)
    return [c.as_dict() for c in checks], {
        "verdict": v.verdict,
        "reasons": list(v.reasons),
        "parts": [list(p) for p in v.parts],
    }


KEPT = ("settle",)  # provenance a re-measurement of the same profile keeps (the runs it reads are the same)


def run(target: str | Target, profile: str = "default", results: Path | None = None, extra: dict | None = None) -> dict:
    """Measure one target at `profile` and store it; returns the stored entry (`extra`: more fields to store,
    e.g. the settle plan's row)."""
    t = target if isinstance(target, Target) else get(target)
    if profile not in t.profiles:
        raise ValueError(f"target {t.name} has no {profile!r} profile (it has {t.profiles})")
    if t.measure is None:
        raise LookupError(f"target {t.name} is not implemented at any profile yet (cost: see papers-spec §6)")
    t0 = time.perf_counter()
    out = t.measure(profile)
    checks, verdict = evaluate(t, out["measured"], profile)
    entry = {
        "target": t.name,
        "claim": t.claim,
        "paper": t.paper,
        "source": t.source,
        "profile": profile,
        **stamp(),
        "wall_time_s": round(time.perf_counter() - t0, 1),
        **{k: v for k, v in out.items() if k != "measured"},
        "measured": out["measured"],
        "checks": checks,
        **verdict,
        **(extra or {}),
    }
    timed_elsewhere = out.get("wall_time_s") or (out.get("from_chapter") or {}).get("wall_time_s")
    if timed_elsewhere:  # the training was timed elsewhere (a GPU session, the chapter's execution)
        entry["wall_time_s"] = timed_elsewhere
    profiles = load(t, results)
    kept = {k: profiles.get(profile, {})[k] for k in KEPT if k in profiles.get(profile, {}) and k not in entry}
    profiles[profile] = entry | kept  # a re-measurement keeps which settle rows the entry's runs include
    path = result_path(t, results)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"target": t.name, "profiles": profiles}, indent=1, default=str))
    os.replace(tmp, path)
    return entry


def best_entry(t: Target, results: Path | None = None) -> dict | None:
    """The largest-scale stored entry of a target (paper > default > smoke), re-judged by today's rule."""
    profiles = load(t, results)
    for p in reversed(SCALE_ORDER):
        if p in profiles:
            e = dict(profiles[p])
            e["checks"], verdict = evaluate(t, e["measured"], p)
            return e | verdict
    return None


def list_targets(results: Path | None = None) -> str:
    """Every target with its verdict under today's rule, the profile it rests on, and the qualifier."""
    lines = [f"{'target':32s} {'verdict':28s} {'profile':9s} why / qualifier"]
    for t in TARGETS:
        e = best_entry(t, results)
        if e is None:
            if t.measure is None:
                why = "not implemented: too costly here"
            elif t.profiles == ("paper",):
                why = "measured by the GPU lease (make lease, then make lease-merge)"
            else:
                why = f"command: python -m grokkit reproduce {t.name}"
            lines.append(f"{t.name:32s} {'not yet run':28s} {'—':9s} {why}")
            continue
        lines.append(f"{t.name:32s} {e['verdict']:28s} {e['profile']:9s} {'; '.join(e['reasons'])[:150]}")
    return "\n".join(lines)
