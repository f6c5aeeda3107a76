"""The chapters' measured wall times, gathered from results/chapters/<profile>/<chapter>.json.

Standard library only: setup.py loads this file by path to ship the times as package data
(grokkit/book/chapter_times.json in a built wheel), so that an installed grokkit without the
repository's results/ (Colab's `pip install git+...`) still quotes them. In a checkout the
times are read from results/ itself; nothing writes into the package at run time.
"""

from __future__ import annotations

import json
from pathlib import Path

PACKAGED = "chapter_times.json"  # the file a built wheel carries beside this module
GPU_ROWS = "chapters/gpu-lease.json"  # the GPU lease's rows (grokkit.repro.lease.merge), under results/


def chapter_times(results: Path) -> dict:
    """{profile: {chapter: {"wall_time_s", "machine"}}} of the chapters' recorded executions, and where a
    chapter has none at a profile, the GPU lease's row for it (results/chapters/gpu-lease.json: its runs'
    training on the GPU machine, with "lower_bound": true and its "basis")."""
    out: dict = {}
    for path in sorted(Path(results).glob("chapters/*/*.json")):
        blob = json.loads(path.read_text())
        out.setdefault(blob["profile"], {})[blob["chapter"]] = {
            "wall_time_s": blob["wall_time_s"],
            "machine": blob.get("wall_time_device", blob["device"]),  # a warm re-run keeps the cold time's machine
        }
    gpu = Path(results) / GPU_ROWS
    for profile, rows in (json.loads(gpu.read_text()) if gpu.exists() else {}).items():
        for chapter, row in rows.items():
            if chapter not in out.get(profile, {}):  # a chapter's own execution wins
                keep = {k: row[k] for k in ("wall_time_s", "machine", "basis")}
                out.setdefault(profile, {})[chapter] = keep | {"lower_bound": bool(row.get("lower_bound"))}
    return out


def packaged_times() -> dict | None:
    """The times a built wheel shipped, or None (an editable install or a checkout has none)."""
    path = Path(__file__).with_name(PACKAGED)
    return json.loads(path.read_text()) if path.exists() else None
