"""`grokkit.geometry` as the chapters use it: `from grokkit.book import measured as G`.

Every geometry function is here under its own name. Those that measure finished runs for minutes on a
CPU, or read a run's large series (its θ checkpoints, its attention snapshots), are memoized
(grokkit.book.memo): their values are kept, read back for the same inputs, and published with the
chapter, so that a reader's copy opens without recomputing them and the chapter's runs are published
without the series only these functions read. `MEMOIZED` names them; everything else is
grokkit.geometry's function itself.
"""

from __future__ import annotations

from grokkit import geometry as _geometry
from grokkit.book.memo import memoized

MEMOIZED = (
    "compression_summary",
    "curvature_depth",
    "exec_random_summary",
    "head_cosines",
    "pc1_layer0_by_run",
    "rho_min_by_run",
    "run_pc1_null_z",
    "run_pc1_shares",
    "subspace_fractions",
    "weight_norms",
)

compression_summary = memoized(_geometry.compression_summary)
curvature_depth = memoized(_geometry.curvature_depth)
exec_random_summary = memoized(_geometry.exec_random_summary)
head_cosines = memoized(_geometry.head_cosines)
pc1_layer0_by_run = memoized(_geometry.pc1_layer0_by_run)
rho_min_by_run = memoized(_geometry.rho_min_by_run)
run_pc1_null_z = memoized(_geometry.run_pc1_null_z)
run_pc1_shares = memoized(_geometry.run_pc1_shares)
subspace_fractions = memoized(_geometry.subspace_fractions)
weight_norms = memoized(_geometry.weight_norms)


def __getattr__(name: str):
    return getattr(_geometry, name)


def __dir__():
    return sorted(set(globals()) | set(_geometry.__all__))
