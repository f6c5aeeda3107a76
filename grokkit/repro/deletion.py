"""The multi-task paper (arXiv 2602.18523), orthogonal deletion (§5): deleting the gradient outside the
top-20 trajectory directions delays grokking at small fractions and stops it at larger ones: target 17
(Chapter 3)."""

from __future__ import annotations

from grokkit import book
from grokkit.papers import NUMBERS, X2, grid, k, pct, rerun
from grokkit.repro import cpu_full_mt
from grokkit.repro.helpers import CH3, TWO_RUNS, deletion_line, from_chapter, ratio_check
from grokkit.repro.targets import target
from grokkit.repro.verdict import cov, num, undecided

# --- 17: orthogonal deletion ------------------------------------------------------------------------

_N17 = NUMBERS[17]
_T17, _CAP17 = _N17["t_grok"], _N17["cap"]
_CAP_RATIO = _CAP17 / _T17[0.0]  # the paper's cap in units of its f = 0 grok step


@target(
    17,
    "deletion-cliff-dual",
    "Orthogonal deletion: small deletions delay, larger ones kill grokking",
    paper=f"{k(_T17[0.0])}k → {k(_T17[0.01])}k ({pct(0.01)}) → ~{k(_T17[0.02])}k ({pct(0.02)}) → … → fail at "
    f"{pct(_N17['fails'][0])}–{pct(_N17['fails'][-1])}; {k(_T17[0.5])}k at {pct(0.5)}",
    source=f"{X2} §5",
    chapter=CH3,
    measure=from_chapter(
        CH3,
        ["deletion"],
        lambda p, m: (
            f"chapter 3, dual task, seed 42: f ∈ {sorted(float(f) for f in (m['deletion'] or {}))}, cap {m['cap']:,}"
        ),
        lambda p: {"cap": book.chapter3(p).deletion_cap},
    ),
    cpu_full=cpu_full_mt.measure_17,
    section="3. Transverse fragility: deleting a little of the gradient",
    ours=deletion_line,
)
def _c_deletion(m):
    d = {float(key): v for key, v in (m["deletion"] or {}).items()}
    caps = {float(key): v for key, v in (m.get("caps") or {}).items()}  # cpu-full: each run's own cap
    cap, base = m.get("cap"), d.get(0.0)
    if not d or base is None or cap is None:
        return [num("f = 0 groks", None if 0.0 not in d else base is not None), num("deletion delays", None)]
    out = []
    for f, t in sorted(d.items()):
        if f == 0.0 or f in _N17["fails"] or f not in _T17:
            continue
        paper = _T17[f] / _T17[0.0]
        out.append(
            ratio_check(
                f"f = {f:g}: grokking is delayed {paper:.2f}× (the paper's {k(_T17[f])}k over {k(_T17[0.0])}k; fails "
                "if our interval lies outside the paper's ± its rerun spread)",
                [None if t is None else t / base],
                [caps.get(f, cap) / base],
                rerun(paper, NUMBERS[17]["margins"]["t_grok"], runs=2),
                spread=TWO_RUNS,
            )
        )
    big = {f: t for f, t in d.items() if f in _N17["fails"]}
    cap = min([caps.get(f, cap) for f in big], default=cap)  # the fails' shortest cap
    q = (
        f"f ∈ {grid(_N17['fails'])}: no grokking within {_CAP_RATIO:.1f}× the f = 0 grok step (the paper's "
        f"{_CAP17:,}-step cap; fails if one groks within it)"
    )
    if not big:
        out.append(num(q, None))
    elif any(t is not None and t / base <= _CAP_RATIO for t in big.values()):
        out.append(num(q, False, statistic=f"grok steps {big} against f = 0 at {base:,}"))
    elif cap / base < _CAP_RATIO:
        out.append(
            undecided(
                q,
                f"censored: our cap ({cap:,}) is {cap / base:.1f}× the f = 0 grok step, below the paper's "
                f"{_CAP_RATIO:.1f}×: 'no grok by the cap' cannot tell fails from delayed",
            )
        )
    else:
        out.append(num(q, True, statistic=f"none grokked by {cap:,} = {cap / base:.1f}× the f = 0 grok step"))
    return out + [
        cov(f"the paper's deletion fractions (0–50%, {_N17['fractions']} values)", len(d) >= _N17["fractions"])
    ]
