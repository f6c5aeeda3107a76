"""The checkout the book, the scorecard and the course kit work in.

Chapter notebooks, stored results and the scorecard page live in the repository, not in the
installed package, so the code that reads them takes the repository root from an argument, else
$GROKKIT_REPO, else the working directory or one of its parents — never from the package's own
location (after `pip install` that is site-packages).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["NotACheckout", "repo_root"]

MARKERS = ("_toc.yml", "notebooks")


class NotACheckout(FileNotFoundError):
    """Raised when no Grokking Book checkout is found."""


def repo_root(root: str | Path | None = None) -> Path:
    """The repository root: `root` if given, else $GROKKIT_REPO, else the nearest directory at or
    above the working directory that holds `_toc.yml` and `notebooks/`."""
    if root is None:
        root = os.environ.get("GROKKIT_REPO") or None  # an empty variable counts as unset
    candidates = [Path(root)] if root is not None else [Path.cwd(), *Path.cwd().parents]
    for c in candidates:
        c = c.resolve()
        if all((c / m).exists() for m in MARKERS):
            return c
    where = str(candidates[0]) if root is not None else f"{Path.cwd()} or any parent"
    raise NotACheckout(
        f"no Grokking Book checkout at {where} (looked for {' and '.join(MARKERS)}). Run this "
        "from a clone of the repository, or set GROKKIT_REPO to its path."
    )
