"""The book layer: what the chapter notebooks share (`gk.book`).

profiles  scale profiles and shared runs. Every chapter runs at one of three scales, chosen by
          its papermill parameter `profile`:
            "smoke"   seconds; the small FAST model; what CI executes
            "default" what a 2-core laptop CPU affords in minutes: the papers' model and settings
                      wherever that fits, smaller grids (each chapter says where it cut)
            "paper"   the papers' full grids (a GPU: Colab or better)
prose     sentences with measured numbers (`say`, templates `fill`), recorded values (`record`, `save_records`)
execute   executing a chapter with papermill and storing its numbers with provenance
measured  grokkit.geometry as the chapters use it (`from grokkit.book import measured as G`): its costly
          run measurements memoized (memo: kept, read back, published with the chapter)
colab     a chapter's start: the profile from the device ("auto"), its measured time, Google Drive
"""

from grokkit.book import fair, measured, memo  # noqa: F401  (gk.book.measured, gk.book.memo)
from grokkit.book.colab import chapter_time, keep_runs_on_drive, resolve_profile, start
from grokkit.book.execute import chapter_metrics, chapter_stems, execute, notebooks_dir, results_dir, store_metrics
from grokkit.book.measures import (
    all_tasks_grok_step,
    cap_of,
    deletion_members,
    dual_lead,
    dual_wd_measures,
    first_task_grok_step,
    pc1_layer0_ranges,
)
from grokkit.book.phase_grid import grid_choice, paper_bundles, phase_grid
from grokkit.book.prose import USED_KEYS, fill, fmt_step, md_table, record, save_records, say
from grokkit.book.settings import (
    CHAPTER_PROFILES,
    GROKKING_OPS,
    Chapter1,
    Chapter2,
    Chapter3,
    Chapter4,
    Chapter5,
    chapter1,
    chapter2,
    chapter3,
    chapter4,
    chapter5,
    check_profile,
    defect_hooks,
    lrd_member,
    mechanism_members,
    mechanism_record,
    op_member,
    seeds_for,
    stored_runs,
)

__all__ = [
    "Chapter1",
    "Chapter2",
    "Chapter3",
    "Chapter4",
    "Chapter5",
    "fair",
    "GROKKING_OPS",
    "CHAPTER_PROFILES",
    "USED_KEYS",
    "chapter1",
    "chapter2",
    "chapter3",
    "chapter4",
    "chapter5",
    "chapter_metrics",
    "chapter_time",
    "keep_runs_on_drive",
    "resolve_profile",
    "start",
    "chapter_stems",
    "check_profile",
    "defect_hooks",
    "execute",
    "fmt_step",
    "lrd_member",
    "mechanism_members",
    "mechanism_record",
    "md_table",
    "notebooks_dir",
    "op_member",
    "record",
    "results_dir",
    "save_records",
    "say",
    "fill",
    "seeds_for",
    "store_metrics",
    "stored_runs",
    "all_tasks_grok_step",
    "deletion_members",
    "cap_of",
    "first_task_grok_step",
    "dual_lead",
    "dual_wd_measures",
    "pc1_layer0_ranges",
    "paper_bundles",
    "phase_grid",
    "grid_choice",
]
