"""The scorecard's one-figure summary: the claims of each paper by verdict class, as an SVG written next to
book/scorecard.md (`grokkit.repro.scorecard.write_page`), and the colours its table's verdicts share.

    counts = tally({target: verdict, ...})      {paper id: {verdict: n}}, every paper and class present
    svg(counts)                                 the figure: one stacked bar per paper, a legend with totals

The SVG is written by hand, so the same counts give the same bytes (no date, no random ids).
"""

from __future__ import annotations

import html
import re

from grokkit.papers import LI, X1, X2, X3
from grokkit.repro.targets import Target
from grokkit.repro.verdict import VERDICTS

PAPERS = {X1: "Xu · single task", X2: "Xu · multi-task", X3: "Xu · holographic", LI: "Li · low-rank decay"}

# verdict class -> (fill, text on it): green holds, amber partly, red fails, grey open; text contrast ≥ 4.5:1
COLOURS = {
    "reproduced": ("#1a7f37", "#ffffff"),
    "reproduced at reduced scale": ("#8fd19e", "#0b2e13"),
    "partly": ("#e3b341", "#3b2300"),
    "not reproduced": ("#cf222e", "#ffffff"),
    "refuted": ("#82071e", "#ffffff"),
    "inconclusive": ("#6e7781", "#ffffff"),
    "not yet run": ("#eaeef2", "#24292f"),
}
SHORT = {"reproduced at reduced scale": "reduced scale"}  # a class's name where space is short (chips)


def paper_of(t: Target) -> str:
    """The arXiv id of the paper a target's claim is from (the first its source names)."""
    m = re.search(r"\d{4}\.\d{4,5}", t.source)
    return m.group(0) if m else t.source


def tally(verdicts: dict) -> dict:
    """{paper id: {verdict class: number of targets}} of {Target: verdict}, papers in `PAPERS` order (then any
    other), every class of `VERDICTS` present (0 where none)."""
    papers = list(PAPERS) + sorted({paper_of(t) for t in verdicts} - set(PAPERS))
    out = {p: dict.fromkeys(VERDICTS, 0) for p in papers}
    for t, v in verdicts.items():
        out[paper_of(t)][v] += 1
    return {p: c for p, c in out.items() if sum(c.values()) or p in PAPERS}


# layout, in px of the SVG's own coordinates (it scales to the column's width)
_W, _LABEL, _BAR, _ROW, _GAP, _TOP, _FONT = 480, 140, 310, 30, 14, 34, 14


def svg(counts: dict) -> str:
    """The figure's SVG text for `tally`'s counts."""
    esc = lambda s: html.escape(str(s), quote=True)
    most = max((sum(c.values()) for c in counts.values()), default=1) or 1
    unit = _BAR / most
    total = {v: sum(c[v] for c in counts.values()) for v in VERDICTS}
    n = sum(total.values())
    desc = "; ".join(
        f"{PAPERS.get(p, p)}: " + ", ".join(f"{k} {v}" for v, k in c.items() if k) for p, c in counts.items()
    )
    body = [
        f'<text x="0" y="{_FONT + 4}" font-size="{_FONT + 2}" font-weight="600">{n} claims by paper and verdict</text>'
    ]
    y = _TOP
    for p, c in counts.items():
        body.append(f'<text x="0" y="{y + 13}" font-size="{_FONT}">{esc(PAPERS.get(p, p))}</text>')
        body.append(f'<text x="0" y="{y + 27}" font-size="{_FONT - 3}" fill="#57606a">arXiv {esc(p)}</text>')
        x = float(_LABEL)
        for v in VERDICTS:
            if not c[v]:
                continue
            fill, ink = COLOURS[v]
            w = c[v] * unit
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{_ROW}" fill="{fill}" stroke="#ffffff">'
                f"<title>{esc(PAPERS.get(p, p))}: {c[v]} {esc(v)}</title></rect>"
            )
            body.append(
                f'<text x="{x + w / 2:.1f}" y="{y + _ROW / 2 + 5:.1f}" font-size="{_FONT}" fill="{ink}" '
                f'text-anchor="middle">{c[v]}</text>'
            )
            x += w
        body.append(
            f'<text x="{x + 6:.1f}" y="{y + _ROW / 2 + 5:.1f}" font-size="{_FONT - 1}" fill="#57606a">'
            f"{sum(c.values())}</text>"
        )
        y += _ROW + _GAP
    y += 4
    cols = 2
    for i, v in enumerate(VERDICTS):
        fill, _ = COLOURS[v]
        lx, ly = (i % cols) * (_W // cols), y + (i // cols) * 22
        body.append(f'<rect x="{lx}" y="{ly}" width="14" height="14" fill="{fill}" stroke="#8c959f"/>')
        body.append(f'<text x="{lx + 20}" y="{ly + 12}" font-size="{_FONT - 1}">{esc(v)} ({total[v]})</text>')
    height = y + ((len(VERDICTS) + cols - 1) // cols) * 22
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" width="{_W}" height="{height}" '
            'role="img" aria-labelledby="gk-summary-title gk-summary-desc" '
            'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" fill="#24292f">',
            f'<title id="gk-summary-title">{n} claims by paper and verdict</title>',
            f'<desc id="gk-summary-desc">{esc(desc)}</desc>',
            '<rect width="100%" height="100%" fill="#ffffff"/>',
            *body,
            "</svg>",
            "",
        ]
    )
