"""The course kit: student and instructor copies of the chapters (`make assignments`).

    python -m grokkit assignments [--out _build/assignments]

writes `student/<chapter>.ipynb` (solution cells removed; stubs, checks and hints kept),
`instructor/<chapter>.ipynb` (everything) and a README listing the exercises. All outputs are cleared;
the sources in notebooks/ are only read. `exercises(nb)` is shared with the grader.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grokkit.store.repo import repo_root

_DEF = re.compile(r"^[ \t]*def[ \t]+(\w+)[ \t]*\(", re.M)
_ID = re.compile(r"\*\*Exercise\s+(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter: its id ("4.1"), function name and cell indices."""

    id: str
    function: str
    stub: int
    solution: int | None
    checker: int | None


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def defines(source: str, name: str) -> bool:
    """Whether a code cell's source contains `def name(`."""
    return re.search(rf"\bdef\s+{re.escape(name)}\s*\(", source) is not None


def exercises(nb) -> list[Exercise]:
    """The chapter's exercises, from the cells tagged exercise / solution / checker."""
    cells, found, prev = nb.cells, [], -1
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or "exercise" not in tags(cell) or not _DEF.search(cell.source):
            continue
        name = _DEF.search(cell.source).group(1)
        md = next((c for c in reversed(cells[prev + 1 : i]) if c.cell_type == "markdown"), None)
        m = _ID.search(md.source) if md is not None else None
        end = next((j for j in range(i + 1, len(cells)) if "exercise" in tags(cells[j])), len(cells))
        sol = next(
            (j for j in range(i + 1, end) if "solution" in tags(cells[j]) and defines(cells[j].source, name)), None
        )
        chk = next((j for j in range(i + 1, end) if "checker" in tags(cells[j])), None)
        found.append(Exercise(m.group(1) if m else name, name, i, sol, chk))
        prev = i
    return found


def title(nb) -> str:
    """The first markdown heading line ("# 4. Global low rank, ..."), or ""."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            if line.startswith("# "):
                return line
    return ""


def cleared(nb, drop_solutions: bool = False):
    """A copy without outputs, execution counts and execution metadata (optionally without solutions)."""
    nb = copy.deepcopy(nb)
    if drop_solutions:
        nb.cells = [c for c in nb.cells if "solution" not in tags(c)]
    for cell in nb.cells:
        for key in ("papermill", "execution"):
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)
    return nb


def build(out: str | Path | None = None, notebooks: Path | None = None) -> dict:
    """Write the student and instructor copies and the README; return {chapter: [Exercise, ...]}.
    Defaults: the checkout's notebooks/ (grokkit.store.repo) into its _build/assignments/."""
    out = Path(out or repo_root() / "_build" / "assignments")
    notebooks = Path(notebooks or repo_root() / "notebooks")
    (out / "student").mkdir(parents=True, exist_ok=True)
    (out / "instructor").mkdir(parents=True, exist_ok=True)
    listing, lines = (
        {},
        [
            "# Assignments",
            "",
            "Generated from `notebooks/` by `make assignments`. `student/` holds the chapters without",
            "the solution cells (stubs, checks and hints kept), `instructor/` the complete chapters;",
            "all outputs are cleared. Grade a submission with",
            "`python -m grokkit grade SUBMISSION.ipynb` (see the book's page For instructors).",
            "",
        ],
    )
    for path in sorted(Path(notebooks).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.write(cleared(nb, drop_solutions=True), out / "student" / path.name)
        nbformat.write(cleared(nb), out / "instructor" / path.name)
        listing[path.stem] = exs = exercises(nb)
        lines += [f"## {path.stem}: {title(nb).lstrip('# ')}", "", "| Exercise | Function |", "|---|---|"]
        lines += [f"| {e.id} | `{e.function}` |" for e in exs] + [""]
    (out / "README.md").write_text("\n".join(lines))
    return listing
