"""The reproduction layer: the papers' claims as 25 targets (papers-spec §6), measured, judged and
shown on the scorecard page (`gk.repro`).

  (grokkit.papers      the papers' numbers, in one table with their sources and margins: each
                      target's claim line and its checks are built from it, so no number is typed twice)
  targets             the registry: `Target`, the `@target(...)` registration, `TARGETS` (ordered by
                      id), `BY_NAME`, `get`
  single_task         arXiv 2602.16746, grokking itself (§2–§4, appendix): targets 1, 3, 4, 5, 25
  execution_subspace  arXiv 2602.16746, its execution subspace on Chapter 1's runs (§4.1–§4.4):
                      6, 7, 8, 13
  interventions       arXiv 2602.16746, what Chapter 2 trains itself: the interventions (§5) and the
                      lead-time power law (§4.4): 11, 12, 23
  dual_task           arXiv 2602.18523, the dual-task model (grokking, weight decay, centring,
                      deletion): 14, 15, 17, 21
  tri_task            arXiv 2602.18523, the tri-task model (order, k*; lead and deletion not run):
                      18, 19, 20, 22
  holographic         arXiv 2602.18649 (static compressions): 16, 24
  lrd                 arXiv 2606.04405 (low-rank decay): 2, 9, 10
  verdict             the rule: intervals against the papers' margins (censored grok times, like with
                      like); number checks decide the verdict, coverage checks its qualifier (`judge`)
  findings            our own findings: numbers the papers do not state, with their evidence
  reproduce           measure a target at a profile and store results/<NN-slug>.json (`run`, `evaluate`)
  scorecard           book/scorecard.md, generated from results/ (`write_page`): a summary figure
                      (`summary`: claims by paper × verdict class), the main table (verdict, claim, a short
                      "ours" each target states, the paper's), a section per target with its evidence
                      (`evidence`: the chapter section, the command, the runs, the scrubber's steps)
  cpu_full            the cpu-full profile: re-runs a 2-core CPU can settle at the paper's coverage
  gpu_runs, helpers   the GPU session's stored runs; what the paper modules share

Each target has a `measure(profile)` that returns the measured numbers (training through
`grokkit.engines.sweep.run_many`, so cached runs are reused; or reading the numbers a chapter recorded at
that profile, see `grokkit.book.execute.chapter_metrics`; or, for the paper profile, runs stored by the
GPU session script), and `checks(measured)`: the paper's claim as number checks, and what was run
as coverage checks (numbers decide the verdict, coverage its qualifier; a run stopped at its cap
answers "does not grok by N", never "does not grok").

Profiles: smoke (the tiny test model: checks the pipeline, never judged), default (what the chapters
run on a 2-core CPU), cpu-full (the targets a 2-core CPU can settle at the paper's coverage, run by
`python -m grokkit reproduce T --profile cpu-full`, never by CI), paper (GPU runs, stored).

A number stated to one significant figure ("≈ 0.5", "by ~400 steps") is matched by what rounds to it.
"""

from grokkit.repro import (  # noqa: F401 (register the targets)
    deletion,
    dual_task,
    execution_subspace,
    holographic,
    interventions,
    lrd,
    single_task,
    tri_task,
)
from grokkit.repro.findings import FINDINGS, Finding
from grokkit.repro.reproduce import best_entry, evaluate, list_targets, load, run
from grokkit.repro.scorecard import claims_table, render, write_page
from grokkit.repro.targets import BY_NAME, TARGET_PROFILES, TARGETS, Target, get, target
from grokkit.repro.verdict import (
    UNDECIDED,
    VERDICTS,
    Check,
    Verdict,
    cov,
    equivalence,
    exact,
    judge,
    num,
    order,
    undecided,
    unlike,
)

if [t.id for t in TARGETS] != list(range(1, 26)):
    raise ImportError(f"grokkit.repro registers targets {[t.id for t in TARGETS]}, not 1–25")

__all__ = [
    "BY_NAME",
    "TARGET_PROFILES",
    "TARGETS",
    "Target",
    "get",
    "target",
    "Check",
    "Verdict",
    "UNDECIDED",
    "VERDICTS",
    "cov",
    "judge",
    "num",
    "undecided",
    "unlike",
    "equivalence",
    "exact",
    "order",
    "FINDINGS",
    "Finding",
    "claims_table",
    "best_entry",
    "evaluate",
    "list_targets",
    "load",
    "run",
    "render",
    "write_page",
]
