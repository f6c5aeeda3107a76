"""Chapter 1's phase diagram (weight decay x train fraction) and where its runs come from.

Two sources, in this order:
  (a) the papers' model (PAPER_GRID, seeds PAPER_GRID_SEEDS), trained on a GPU and stored as a run
      bundle at PAPER_GRID_BUNDLE in the checkout (metrics only: the grid records no trajectories):
      imported into the run cache and loaded, never trained here; used when the bundle exists and
      holds every cell (not at the smoke profile);
  (b) otherwise the profile's own grid (`S.grid_base`: at the default profile 8 x 5 cells of the FAST
      model, one seed, ~3-4 minutes on 2 cores), trained here or loaded from the cache.
`phase_grid(S)` returns the sweep and a sentence naming the source, which the chapter prints.
"""

from __future__ import annotations

from pathlib import Path

from grokkit.book.profiles import PAPER_GRID, PAPER_GRID_BUNDLE, PAPER_GRID_SEEDS
from grokkit.bundle import import_bundle
from grokkit.cache import run_dir
from grokkit.device import resolve_device
from grokkit.repo import NotACheckout, repo_root
from grokkit.sweep import sweep


def paper_bundle() -> Path | None:
    """The papers'-model grid bundle of this checkout, or None (no checkout, e.g. Colab; or no bundle)."""
    try:
        path = repo_root() / PAPER_GRID_BUNDLE
    except NotACheckout:
        return None
    return path if path.exists() else None


def phase_grid(S, profile: str, bundle=None, base=PAPER_GRID, seeds=PAPER_GRID_SEEDS, progress: bool = True):
    """(sweep over weight_decay x train_frac [x seed], the source's description) for Chapter 1 at
    `profile` (`S = chapter1(profile)`). `bundle` (default `paper_bundle()`), `base`, `seeds`: source (a)."""
    bundle = paper_bundle() if bundle is None else Path(bundle)
    if bundle is not None and profile != "smoke":
        import_bundle(bundle)
        cells = [(w, f, s) for w in S.weight_decays for f in S.train_fracs for s in seeds]
        if all(run_dir(base.replace(weight_decay=w, train_frac=f, seed=s)).exists() for w, f, s in cells):
            grid = sweep(
                base, weight_decay=S.weight_decays, train_frac=S.train_fracs, seed=list(seeds), progress=progress
            )
            seeds_txt = f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} per cell"
            return grid, (
                f"Source: the papers' model (p = {base.p}, d_model = {base.d_model}), {seeds_txt}, "
                f"{base.max_steps:,}-step budget, from the run bundle {bundle.name} (trained on "
                f"{grid.runs[0].info.get('device', 'a GPU')})."
            )
    # on a CPU two worker processes (measured: 8 x 5 FAST cells, 2,500 steps, took 396 s as the
    # ensemble that the engine chooser picked from its first steps)
    cpu = resolve_device(S.grid_base.device).type == "cpu"
    axes = dict(weight_decay=S.weight_decays, train_frac=S.train_fracs)
    grid = sweep(S.grid_base, progress=progress, engine="processes" if cpu else "auto", **axes)
    return grid, (
        f"Source: {S.grid_note}, one seed per cell, {S.grid_base.max_steps:,}-step budget, trained on this "
        "machine (the papers'-model grid needs a GPU)."
    )
