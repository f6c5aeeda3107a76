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
from grokkit.repo import NotACheckout, repo_root
from grokkit.repro import verdict as rule
from grokkit.repro.findings import FINDINGS
from grokkit.repro.reproduce import SCALE_ORDER, best_entry, load
from grokkit.repro.targets import TARGETS, get
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
    basis = " *(exact derivation)*" if c.get("basis") == "exact derivation" else ""
    stat = f"<br>{c['statistic']}" if c.get("statistic") else ""
    stat += f" — *margin:* {c['margin']}" if c.get("margin") else ""
    return f"* {MARK[c['passed']]} {c['question']}{basis}{why}{refutes}{stat}"


def _statistic(e) -> str:
    """The statistics that decided an entry (its number checks'), in one cell."""
    if e is None:
        return "—"
    label = lambda q: q.split(":")[0] if 0 < q.find(":") < 48 else q[:48] + "…"
    stats_ = [
        f"{MARK[c['passed']]} {label(c['question'])}: {c['statistic']}"
        for c in e["checks"]
        if c.get("kind") == "number" and c.get("statistic")
    ]
    return "; ".join(stats_) if stats_ else summary(e["measured"], 110)


def claims_table(ids, results: Path | None = None) -> str:
    """A Markdown table of targets `ids` as the scorecard judges them from the stored results: the claim,
    the paper's number, the statistics that decided each, the verdict (a chapter renders its claims this
    way instead of judging them itself)."""
    try:
        results = Path(results) if results is not None else results_dir()
    except NotACheckout:  # an installed grokkit (Colab): the stored results live in the repository
        return "*(The stored verdicts live in the repository's `results/`: see the published scorecard.)*"
    rows = []
    for i in ids:
        t = get(str(i))
        e = best_entry(t, results)
        rows.append(
            f"| {{ref}}`{t.id} <scorecard-{t.id:02d}>` | {_cell(t.claim)} | {_cell(t.paper)} | "
            f"{_cell(_statistic(e))} | {_verdict_cell(e)} |"
        )
    return "\n".join(
        ["| # | claim | paper | ours (the deciding statistics) | verdict |", "|---|---|---|---|---|", *rows]
    )


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
        ours = _statistic(e)
        scale = f"{e['profile']}: {e.get('scale', '')}" if e else "—"
        noted = bool(e and t.note and t.note(e["measured"]))
        out.append(
            f"| {{ref}}`{t.id} <scorecard-{t.id:02d}>` | {_cell(t.claim)} | {_cell(t.paper)} | {_cell(ours)} | "
            f"{_cell(scale)} | {_verdict_cell(e)}{' (see its note)' if noted else ''} |"
        )
    out += _findings(results)
    out += _timings(results)
    out += [
        "",
        "## The verdict rule",
        "",
        "Each target asks yes/no questions of two kinds, listed under it below: **the claim** (number "
        "checks: our confidence interval against the equivalence margin of the paper's number, with the "
        "statistic that decided it and where the margin comes from) and **coverage** (what was run against "
        "what the paper ran). Numbers decide the verdict; coverage only qualifies it. ✓ inside the margin, "
        "✗ outside it, ? cannot decide (with the reason and, where they can be counted, the seeds that would "
        "decide it), – not measured. Smoke-profile results use a tiny model; they check the pipeline and are "
        "never judged. The rule, as the code "
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
            if t.measure is None:
                why = "not implemented at a scale this CPU affords"
            elif t.profiles == ("paper",):  # measured only by the GPU lease (`make lease`, then `make lease-merge`)
                why = f"measured by the GPU lease; then: `python -m grokkit reproduce {t.name} --profile paper`"
            else:
                why = f"no stored result yet; command: `python -m grokkit reproduce {t.name}`"
            out += [f"*Verdict:* **not yet run** ({why}).", ""]
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
        if e.get("parts"):
            out += ["*Parts:* " + "; ".join(f"{p} — **{v}**" for p, v in e["parts"]) + ".", ""]
        note = t.note(e["measured"]) if t.note else None
        if note:
            out += [f"*Note:* {note}", ""]
        numbers = [c for c in e["checks"] if c.get("kind", "number") == "number"]
        coverage = [c for c in e["checks"] if c.get("kind") == "coverage"]
        out += ["The claim (numbers):", ""]
        for part in dict.fromkeys(c.get("part") for c in numbers):
            if part:
                out.append(f"* *{part}*")
            out += [("  " if part else "") + _check_line(c) for c in numbers if c.get("part") == part]
        out += [""]
        if coverage:
            out += ["Coverage (what was run):", ""] + [_check_line(c) for c in coverage] + [""]
        out += ["```text", json.dumps(e["measured"], indent=None, default=str)[:1500], "```", ""]
    return "\n".join(out)


def _findings(results: Path) -> list[str]:
    """Our findings (`grokkit.repro.findings`): numbers the papers do not state, with their evidence."""
    out = [
        "",
        "(scorecard-findings)=",
        "## Our findings",
        "",
        "Numbers the papers do not state, measured on the same runs: not verdicts on a claim, a class of their own. "
        "Each sentence is built from the stored result named after it.",
        "",
    ]
    for f in FINDINGS:
        t = next(x for x in TARGETS if x.id == f.target)
        stored = load(t, results)  # the largest profile whose result holds the evidence
        e = next((stored[p] for p in reversed(SCALE_ORDER) if p in stored and f.text(stored[p]["measured"])), None)
        text = f.text(e["measured"]) if e else None
        where = f"{{ref}}`target {t.id} <scorecard-{t.id:02d}>`, profile `{e['profile']}`" if e else "not stored yet"
        out += [f"* **{f.title}** ({where}; command: `{f.command}`). " + (text or "*Evidence not stored yet.*")]
    return out


def _timings(results: Path) -> list[str]:
    """A table of the chapters' stored execution times (results/chapters/<profile>/*.json)."""
    rows = []
    for profile in ("smoke", "default", "paper"):
        for f in sorted((Path(results) / "chapters" / profile).glob("*.json")):
            b = json.loads(f.read_text())
            # a later execution that reused the run cache keeps the cold-cache time with its own provenance
            device, commit = b.get("wall_time_device", b.get("device")), b.get("wall_time_commit", b.get("git_commit"))
            rows.append(
                f"| {{doc}}`../notebooks/{b['chapter']}` | `{profile}` | {b['wall_time_s'] / 60:.1f} min | "
                f"{_cell(str(device))} | `{str(commit)[:10]}` |"
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
        path.parent.mkdir(parents=True, exist_ok=True)  # `scorecard --out` into a new folder
        path.write_text(text)
    return path
