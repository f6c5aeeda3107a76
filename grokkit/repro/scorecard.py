"""The reproduction scorecard page (book/scorecard.md), generated from results/*.json.

    python -m grokkit scorecard [--out book/scorecard.md]

One row per target of papers-spec §6: the paper's number, ours, the scale we measured at, and the
verdict of `grokkit.repro.verdict.judge` with its qualifier (the rule's source is printed on the
page). Chapters link to a target's section with {ref}`scorecard-NN`. The page is deterministic: the
same results give the same bytes. Paths are the checkout's (`grokkit.repo.repo_root`).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from grokkit.book.execute import results_dir
from grokkit.repo import repo_root
from grokkit.repro import verdict as rule
from grokkit.repro.reproduce import best_entry
from grokkit.repro.targets import TARGETS
from grokkit.repro.verdict import UNDECIDED, VERDICTS, judge

MARK = {True: "✓", False: "✗", None: "–", UNDECIDED: "?"}


def page_path(root=None) -> Path:
    """book/scorecard.md of the checkout (`grokkit.repo.repo_root`)."""
    return repo_root(root) / "book" / "scorecard.md"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return "—" if v is None else str(v)


def summary(measured: dict, limit: int = 160) -> str:
    """The measured numbers in one line (long values are cut)."""
    s = "; ".join(f"{k}: {_fmt(v)}" for k, v in measured.items())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _verdict_cell(e) -> str:
    if e is None:
        return "**not yet run**"
    if e["verdict"] == "reproduced at reduced scale" and e["reasons"]:
        return f"**{e['verdict']}** ({len(e['reasons'])} coverage gap{'s' if len(e['reasons']) > 1 else ''})"
    return f"**{e['verdict']}**"


def _check_line(c: dict) -> str:
    why = f" — {c['why']}" if c.get("why") else ""
    refutes = " *(a failure refutes the number)*" if c.get("refutes") else ""
    return f"* {MARK[c['passed']]} {c['question']}{why}{refutes}"


def render(results: Path | None = None) -> str:
    """The page's text, from `results` (default: the checkout's results/)."""
    results = Path(results) if results is not None else results_dir()
    entries = [(t, best_entry(t, results)) for t in TARGETS]
    verdict = {t.id: (e["verdict"] if e else "not yet run") for t, e in entries}
    counts = {v: sum(1 for x in verdict.values() if x == v) for v in VERDICTS}
    out = [
        "(scorecard)=",
        "# Reproduction scorecard",
        "",
        "Every target of the implementation spec's reproduction list (§6), claim by claim: the paper's "
        "number, ours, the scale we measured at, and a verdict. **This page is generated** by "
        "`python -m grokkit scorecard` from the JSON files in `results/`, which "
        "`python -m grokkit reproduce TARGET --profile {smoke,default,cpu-full,paper}` writes (measured numbers, "
        "config hashes, grokkit version, git commit, device, wall time). Nothing here is typed by hand.",
        "",
        "**Tally by class:**",
        "",
        "| verdict | targets |",
        "|---|---|",
        *[f"| {v} | {n} |" for v, n in counts.items()],
        "",
        "| # | claim | paper | ours | scale | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for t, e in entries:
        ours = summary(e["measured"], 110) if e else "—"
        scale = f"{e['profile']}: {e.get('scale', '')}" if e else "—"
        noted = bool(e and t.note and t.note(e["measured"]))
        out.append(
            f"| {{ref}}`{t.id} <scorecard-{t.id:02d}>` | {_cell(t.claim)} | {_cell(t.paper)} | {_cell(ours)} | "
            f"{_cell(scale)} | {_verdict_cell(e)}{' (see its note)' if noted else ''} |"
        )
    out += _timings(results)
    out += [
        "",
        "## The verdict rule",
        "",
        "Each target asks yes/no questions of two kinds, listed under it below: **the claim** (number "
        "checks: the paper's numbers, with tolerances from spread, like with like) and **coverage** (what "
        "was run against what the paper ran). Numbers decide the verdict; coverage only qualifies it. "
        "✓ passed, ✗ failed, – not measured, ? measured but cannot decide (with the reason). Smoke-profile "
        "results use a tiny model; they check the pipeline and are never judged. The rule, as the code "
        f"states it (`{rule.__name__.replace('.', '/')}.py`):",
        "",
        "```text",
        (rule.__doc__ or "").strip(),
        "```",
        "",
        "```python",
        inspect.getsource(judge).rstrip(),
        "```",
        "",
    ]
    for t, e in entries:
        out += [f"(scorecard-{t.id:02d})=", f"## {t.id}. {t.claim}", "", f"*Paper* ({t.source}): {t.paper}.  "]
        if t.chapter:
            out.append(f"*Discussed in* {{doc}}`../notebooks/{t.chapter}`.  ")
        if e is None:
            why = "not implemented at a scale this CPU affords" if t.measure is None else "no stored result yet"
            out += [f"*Verdict:* **not yet run** ({why}; command: `python -m grokkit reproduce {t.name}`).", ""]
            if t.checks is not None and t.measure is None:
                out += [f"* – {q.question}" for q in t.checks({})]
            out.append("")
            continue
        prov = e.get("from_chapter") or {}
        where = e.get("device") if not prov else prov.get("device")
        commit = (prov.get("git_commit") if prov else e.get("git_commit")) or "unknown"
        out += [
            f"*Verdict:* **{e['verdict']}** — profile `{e['profile']}`, {e.get('scale', '')}; measured on "
            f"{where}, grokkit {e.get('grokkit_version')}, commit `{str(commit)[:10]}`"
            + (f", {e['wall_time_s']:.0f} s" if isinstance(e.get("wall_time_s"), (int, float)) else "")
            + ".",
            "",
        ]
        if e["reasons"]:
            label = {
                "reproduced at reduced scale": "Coverage short of the paper's",
                "inconclusive": "Cannot decide",
            }.get(e["verdict"], "Decided by")
            out += [f"*{label}:* " + "; ".join(e["reasons"]) + ".", ""]
        note = t.note(e["measured"]) if t.note else None
        if note:
            out += [f"*Note:* {note}", ""]
        numbers = [c for c in e["checks"] if c.get("kind", "number") == "number"]
        coverage = [c for c in e["checks"] if c.get("kind") == "coverage"]
        out += ["The claim (numbers):", ""] + [_check_line(c) for c in numbers] + [""]
        if coverage:
            out += ["Coverage (what was run):", ""] + [_check_line(c) for c in coverage] + [""]
        out += ["```text", json.dumps(e["measured"], indent=None, default=str)[:1500], "```", ""]
    return "\n".join(out)


def _timings(results: Path) -> list[str]:
    """A table of the chapters' stored execution times (results/chapters/<profile>/*.json)."""
    rows = []
    for profile in ("smoke", "default", "paper"):
        for f in sorted((Path(results) / "chapters" / profile).glob("*.json")):
            b = json.loads(f.read_text())
            rows.append(
                f"| {{doc}}`../notebooks/{b['chapter']}` | `{profile}` | {b['wall_time_s'] / 60:.1f} min | "
                f"{_cell(str(b.get('device')))} | `{str(b.get('git_commit'))[:10]}` |"
            )
    if not rows:
        return []
    return [
        "",
        "(scorecard-timings)=",
        "## Chapter run times",
        "",
        "How long each chapter took to execute (papermill, run cache empty at the start of the build "
        "unless the chapter reuses an earlier chapter's runs), as stored with its numbers:",
        "",
        "| chapter | profile | time | device | commit |",
        "|---|---|---|---|---|",
        *rows,
    ]


def write_page(path: Path | None = None, results: Path | None = None) -> Path:
    """Write the page to `path` (default: the checkout's book/scorecard.md) where its text changed."""
    path = Path(path) if path is not None else page_path()
    text = render(results)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path
