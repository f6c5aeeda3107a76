"""Chapter 1's phase diagram (weight decay x train fraction) and where its runs come from.

Two sources, in this order:
  (a) the papers' model (PAPER_GRID, seeds PAPER_GRID_SEEDS), trained in GPU leases and stored as run
      bundles in PAPER_GRID_BUNDLES of the checkout (phase-paper-*.tar, metrics only: configs and curves,
      `make lease-merge`): imported into the run cache and loaded, never trained here; used when the
      bundles hold every cell (not at the smoke profile);
  (b) otherwise the profile's own grid (`settings.grid_base`: at the default profile 8 x 5 cells of the
      FAST model, one seed, chosen by benchmarks/phase_scan.py), trained here or loaded from the cache.
`phase_grid(settings)` returns the sweep and a sentence naming the source, which the chapter prints;
`grid_choice(settings)` says how the default grid's learning rate and budget were chosen (SCAN).
"""

from __future__ import annotations

import json
from pathlib import Path

from grokkit.book.settings import PAPER_GRID, PAPER_GRID_BUNDLES, PAPER_GRID_SEEDS
from grokkit.engines.sweep import sweep
from grokkit.geometry.grid import BOUNDARY_ROWS, MAX_UNDECIDED
from grokkit.store.bundle import import_bundle
from grokkit.store.repo import NotACheckout, repo_root
from grokkit.training.cache import run_dir
from grokkit.training.device import resolve_device

SCAN = (
    "results/benchmarks/phase_scan.json"  # benchmarks/phase_scan.py: how the default grid's lr and budget were chosen
)


def grid_choice(settings) -> str:
    """A sentence saying how this grid's learning rate and budget were chosen, from the stored scan (SCAN);
    "" where the grid is not the scan's choice or there is no checkout (Colab)."""
    try:
        scan = json.loads((repo_root() / SCAN).read_text())
    except (NotACheckout, OSError, ValueError):
        return ""
    c, base = scan.get("chosen"), settings.grid_base
    if not c or (base.lr, base.max_steps) != (c["lr"], c["budget"]):
        return ""
    tried = len({(r["lr"], r["budget"]) for r in scan["rows"]})
    lrs = ", ".join(f"{x:g}" for x in sorted({r["lr"] for r in scan["rows"]}))
    return (
        f"Its learning rate ({c['lr']:g}) and budget ({c['budget']:,} steps) were chosen by a scan "
        f"(`benchmarks/phase_scan.py`: {tried} settings, learning rate {lrs}, every budget read off one grid "
        f"trained to the longest): the cheapest in which at least {BOUNDARY_ROWS} of the {c['rows']} rows "
        f"show the boundary and at most {MAX_UNDECIDED:.0%} of the cells are undecided. The scan measured "
        f"{c['rows_with_both']} such rows and {c['undecided']} undecided cells there"
        + "".join(
            f"; at learning rate {lr:g} no budget up to {max(r['budget'] for r in rows):,} steps showed more than "
            f"{max(r['rows_with_both'] for r in rows)}"
            for lr in sorted({r["lr"] for r in scan["rows"]} - {c["lr"]})
            for rows in [[r for r in scan["rows"] if r["lr"] == lr]]
        )
        + "."
    )


def paper_bundles() -> list[Path]:
    """The papers'-model grid bundles of this checkout (PAPER_GRID_BUNDLES: the parts GPU leases brought back,
    `make lease-merge`); [] without a checkout (e.g. Colab) or without any."""
    try:
        folder = repo_root() / PAPER_GRID_BUNDLES
    except NotACheckout:
        return []
    return sorted(folder.glob("phase-paper*.tar"))


def phase_grid(settings, profile: str, bundle=None, base=PAPER_GRID, seeds=PAPER_GRID_SEEDS, progress: bool = True):
    """(sweep over weight_decay x train_frac [x seed], the source's description) for Chapter 1 at
    `profile` (`settings = chapter1(profile)`). `bundle`: a bundle or a list of them (default `paper_bundles()`),
    `base`, `seeds`: source (a), used when they hold every cell."""
    bundles = (
        paper_bundles() if bundle is None else [Path(b) for b in (bundle if isinstance(bundle, list) else [bundle])]
    )
    if bundles and profile != "smoke":
        for b in bundles:
            import_bundle(b)
        cells = [(w, f, s) for w in settings.weight_decays for f in settings.train_fracs for s in seeds]
        if all(run_dir(base.replace(weight_decay=w, train_frac=f, seed=s)).exists() for w, f, s in cells):
            grid = sweep(
                base,
                weight_decay=settings.weight_decays,
                train_frac=settings.train_fracs,
                seed=list(seeds),
                progress=progress,
            )
            seeds_txt = f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} per cell"
            where = bundles[0].name if len(bundles) == 1 else f"{len(bundles)} run bundles ({PAPER_GRID_BUNDLES})"
            return grid, (
                f"Source: the papers' model (p = {base.p}, d_model = {base.d_model}), {seeds_txt}, "
                f"{base.max_steps:,}-step budget, from {where} (trained on "
                f"{grid.runs[0].info.get('device', 'a GPU')}; their curves only)."
            )
    # on a CPU two worker processes: measured on the default grid (results/benchmarks/phase_scan.json, "engines"):
    # 461 s as processes; the ensemble (40 runs stacked) was stopped after 1,042 s with 14 runs done
    cpu = resolve_device(settings.grid_base.device).type == "cpu"
    axes = dict(weight_decay=settings.weight_decays, train_frac=settings.train_fracs)
    grid = sweep(settings.grid_base, progress=progress, engine="processes" if cpu else "auto", **axes)
    return grid, (
        f"Source: {settings.grid_note}, one seed per cell, learning rate {settings.grid_base.lr:g}, "
        f"{settings.grid_base.max_steps:,}-step budget, trained on this machine (the papers'-model grid needs a GPU)."
    )
