"""The reproduction scorecard page (book/scorecard.md), generated from results/*.json.

    python -m grokkit scorecard [--out book/scorecard.md]

At the top, a one-figure summary (claims by paper × verdict class, `grokkit.repro.summary`, written beside
the page as `SUMMARY_FILE`). Then the main table, one row per target of papers-spec §6: the verdict of
`grokkit.repro.verdict.judge` with what it rests on, the claim with its paper and the chapter section that
measures it, our numbers in one short line (`Target.stated`), the paper's; raw HTML whose rows carry their
verdict class and paper, which book/_static/scorecard.js filters and groups (the table is whole without it).
Then a section per target: its checks with the statistics that decided them, its evidence
(`grokkit.repro.evidence`: the section, the command that re-measures it, its runs, the steps to scrub to)
and the full measured numbers (the rule's source is printed on the page). Chapters link to a target's
section with {ref}`scorecard-NN`. The page is deterministic: the same results give the same bytes. Paths are
the checkout's (`grokkit.store.repo.repo_root`).
"""

from __future__ import annotations

import html
import inspect
import json
import re
from pathlib import Path

from grokkit.book.execute import results_dir
from grokkit.papers import steps_fmt
from grokkit.repro import verdict as rule
from grokkit.repro.evidence import evidence
from grokkit.repro.findings import FINDINGS
from grokkit.repro.reproduce import SCALE_ORDER, best_entry, load
from grokkit.repro.summary import COLOURS, PAPERS, paper_of, svg, tally
from grokkit.repro.targets import TARGETS, get
from grokkit.repro.verdict import UNDECIDED, VERDICTS, judge
from grokkit.store.repo import NotACheckout, repo_root

MARK = {True: "✓", False: "✗", None: "–", UNDECIDED: "?"}


def page_path(root=None) -> Path:
    """book/scorecard.md of the checkout (`grokkit.store.repo.repo_root`)."""
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


SUMMARY_FILE = "scorecard-summary.svg"  # the one-figure summary, written next to the page


def _ours(t, e) -> str:
    """Our numbers in one short line: as the target states them (`Target.stated`), else the deciding statistics."""
    if e is None:
        return "—"
    return t.stated(e["measured"]) or _statistic(e)


def _qualifier(t, e) -> str:
    """What the verdict rests on, under it in the row: the profile, coverage gaps, a note."""
    if e is None:
        return "measured by the GPU lease" if t.profiles == ("paper",) else "" if t.measure else "not implemented"
    out = [f"{e['profile']} profile"]
    if e["verdict"] == "reproduced at reduced scale" and e["reasons"]:
        out.append(f"{len(e['reasons'])} coverage gap{'s' if len(e['reasons']) > 1 else ''}")
    if t.note and t.note(e["measured"]):
        out.append("see its note")
    return " · ".join(out)


def _short_label(ev) -> str:
    """The chapter section in a few words: "Ch. 2 §3" where the heading is numbered, else "Ch. 1 · Six operations"."""
    ch = f"Ch. {int(ev.chapter[:2])}"
    if not ev.section:
        return ch
    n = re.match(r"^(\d+)\.", ev.section)
    return f"{ch} §{n.group(1)}" if n else f"{ch} · {ev.section}"


def _row(t, e, ev) -> str:
    esc = lambda s: html.escape(str(s), quote=True)
    v = e["verdict"] if e else "not yet run"
    fill, ink = COLOURS[v]
    paper = paper_of(t)
    where = f' · <a href="{esc(ev.href)}" title="{esc(ev.label)}">{esc(_short_label(ev))}</a>' if ev.href else ""
    qual = _qualifier(t, e)
    return (
        f'<tr id="row-{t.id:02d}" data-verdict="{esc(v)}" data-paper="{esc(paper)}" '
        f'data-paper-name="{esc(PAPERS.get(paper, paper))}">'
        f'<td class="gk-sc-id"><a href="#scorecard-{t.id:02d}" title="target {t.id}: its checks, numbers and '
        f'evidence">{t.id}</a></td>'
        f'<td class="gk-sc-verdict"><span class="gk-badge" style="background:{fill};color:{ink}">{esc(v)}</span>'
        + (f'<span class="gk-sc-qual">{esc(qual)}</span>' if qual else "")
        + "</td>"
        f'<td class="gk-sc-claim">{esc(t.claim)}<span class="gk-sc-src">{esc(PAPERS.get(paper, paper))}, '
        f"{esc(t.source)}{where}</span></td>"
        f'<td class="gk-sc-ours" data-label="ours">{esc(_ours(t, e))}</td>'
        f'<td class="gk-sc-paper" data-label="paper">{esc(t.paper)}</td>'
        "</tr>"
    )


def table(rows) -> str:
    """The main table (raw HTML: its rows carry their verdict class and paper, for the page's filters)."""
    return "\n".join(
        [
            f'<table class="gk-scorecard" data-verdicts="{"|".join(VERDICTS)}" data-papers="{"|".join(PAPERS)}">',
            '<colgroup><col class="gk-c-id"><col class="gk-c-verdict"><col class="gk-c-claim"><col class="gk-c-ours">'
            '<col class="gk-c-paper"></colgroup>',
            '<thead><tr><th scope="col">#</th><th scope="col">verdict</th><th scope="col">claim</th>'
            '<th scope="col">ours</th><th scope="col">paper</th></tr></thead>',
            "<tbody>",
            *rows,
            "</tbody>",
            "</table>",
        ]
    )


def _evidence_html(t, e, ev) -> list[str]:
    """A target's evidence, as a list under its verdict: the section, the command, the runs, the bundles, the
    scrubber's steps."""
    esc = lambda s: html.escape(str(s), quote=True)
    items = []
    if ev.href:
        items.append(f'<li><b>Measured in</b> <a href="{esc(ev.href)}">{esc(ev.label)}</a></li>')
    elif e is not None:
        items.append("<li><b>Measured by</b> the target itself (no chapter runs it)</li>")
    if ev.command:
        how = {
            "paper": " (reads the GPU session's stored runs, results/gpu/; <code>make lease</code> trains them)",
            "cpu-full": " (trains its runs on this CPU first, the run cache keeping them)",
        }.get(e["profile"] if e else "", "")
        items.append(f"<li><b>Re-measure:</b> <code>{esc(ev.command)}</code>{how}</li>")
    if ev.runs:
        parts = []
        for i, (p, keys) in enumerate(ev.runs):
            note = " (decides the verdict)" if i == 0 and e is not None and p == e["profile"] else ""
            parts.append(
                f"<details><summary>{esc(p)}: {len(keys)} run{'s' if len(keys) != 1 else ''}{note}</summary>"
                f'<code class="gk-keys">{esc(" ".join(keys))}</code></details>'
            )
        items.append("<li><b>Runs</b> (run-cache keys, <code>$GROKKIT_RUNS/&lt;key&gt;</code>):" + "".join(parts))
        items.append(
            f'<li><b>Published runs:</b> <span class="gk-published" data-keys="{esc(" ".join(ev.keys))}">'
            "the page's script lists the site's run bundles (runs/index.json) that hold them</span></li>"
        )
    if ev.scrub:
        s = ev.scrub
        items.append(
            f'<li><b>Scrub to</b> steps {steps_fmt(s.first)}–{steps_fmt(s.last)} in <a href="{esc(s.href)}">'
            f"Chapter {int(s.chapter[:2])}'s step scrubber</a> ({esc(s.run)}, {esc(s.profile)} profile)</li>"
        )
    return ["*Evidence:*", "", "```{raw} html", '<ul class="gk-evidence">', *items, "</ul>", "```", ""] if items else []


def render(results: Path | None = None) -> str:
    """The page's text, from `results` (default: the checkout's results/)."""
    results = Path(results) if results is not None else results_dir()
    entries = [(t, best_entry(t, results), load(t, results)) for t in TARGETS]
    evidences = {t.id: evidence(t, stored, e["profile"] if e else None) for t, e, stored in entries}
    verdict = {t.id: (e["verdict"] if e else "not yet run") for t, e, _ in entries}
    counts = {v: sum(1 for x in verdict.values() if x == v) for v in VERDICTS}
    out = [
        "(scorecard)=",
        "# Reproduction scorecard",
        "",
        "Every target of the implementation spec's reproduction list (§6), claim by claim: the verdict, the "
        "paper's number and ours. **This page is generated** by "
        "`python -m grokkit scorecard` from the JSON files in `results/`, which "
        "`python -m grokkit reproduce TARGET --profile {smoke,default,cpu-full,paper}` writes (measured numbers, "
        "config hashes, grokkit version, git commit, device, wall time). Nothing here is typed by hand.",
        "",
        f"![{_alt(entries)}]({SUMMARY_FILE})",
        "",
        "**Tally by class:** " + "; ".join(f"{v} {n}" for v, n in counts.items()) + ".",
        "",
        "A row's number leads to the target's own section below: its checks with the statistics that decided "
        "them, the scale it was measured at, the full measured numbers, and its evidence (the chapter section "
        "that measures it, the command that re-measures it, the runs behind it). The buttons above the table "
        "filter and group the rows by verdict class and by paper.",
        "",
        "```{raw} html",
        table([_row(t, e, evidences[t.id]) for t, e, _ in entries]),
        "```",
    ]
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
    for t, e, _ in entries:
        ev = evidences[t.id]
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
            f"*Ours, in short:* {_ours(t, e)}.",
            "",
        ]
        out += _evidence_html(t, e, ev)
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
        out += [
            "```{raw} html",
            f'<details class="gk-measured"><summary>The measured numbers (<code>results/{t.name}.json</code>, '
            f"profile <code>{html.escape(e['profile'])}</code>)</summary>",
            f"<pre>{html.escape(json.dumps(e['measured'], indent=None, default=str), quote=False)}</pre>",
            "</details>",
            "```",
            "",
        ]
    return "\n".join(out)


def _alt(entries) -> str:
    """The summary figure's alternative text: the claims of each paper by verdict class."""
    counts = tally({t: (e["verdict"] if e else "not yet run") for t, e, _ in entries})
    return "Claims by paper and verdict: " + "; ".join(
        f"{PAPERS.get(p, p)}: " + ", ".join(f"{k} {v}" for v, k in c.items() if k) for p, c in counts.items()
    )


def summary_svg(results: Path | None = None) -> str:
    """The one-figure summary (claims by paper × verdict class) of `results`, as SVG text."""
    results = Path(results) if results is not None else results_dir()
    return svg(tally({t: (e["verdict"] if e else "not yet run") for t in TARGETS for e in [best_entry(t, results)]}))


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
    """Write the page to `path` (default: the checkout's book/scorecard.md) and its summary figure beside it
    (`SUMMARY_FILE`), each where its text changed."""
    path = Path(path) if path is not None else page_path()
    for out, text in ((path, render(results)), (path.with_name(SUMMARY_FILE), summary_svg(results))):
        if not out.exists() or out.read_text() != text:
            out.parent.mkdir(parents=True, exist_ok=True)  # `scorecard --out` into a new folder
            out.write_text(text)
    return path
