"""The run cache's root directory: where it is (`default_root`) and whether runs can be written there.

`default_root()` is $GROKKIT_RUNS as set at the call, else ~/.cache/grokkit/runs. `writable_root(root)`
makes the root if missing and proves it takes files, so that a root that is a file, lies under one, or
is read-only is refused with one line (RunsDirError) before any training or import starts, not when
the finished run is saved. Reading runs needs neither: a read-only cache of stored runs still loads.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["default_root", "RunsDirError", "writable_root", "LOCKS"]

LOCKS = ".locks"  # root/.locks/<key>.lock: the per-key training locks (grokkit.training.cache)


def default_root() -> Path:
    """The run cache's root: $GROKKIT_RUNS as set at this call, else ~/.cache/grokkit/runs."""
    return Path(os.environ.get("GROKKIT_RUNS") or Path.home() / ".cache" / "grokkit" / "runs")


class RunsDirError(OSError):
    """The run cache's root is not a writable directory (a file, under a file, read-only, ...)."""


def writable_root(root=None) -> Path:
    """`root` (default `default_root()`), made if missing, once it is a directory that takes files."""
    root = Path(root or default_root())
    try:
        root.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=root).close()  # a probe: a read-only directory or mount fails here
    except OSError as e:
        raise RunsDirError(
            f"the runs directory {root} is not a writable directory ({e.strerror or e}); "
            "point GROKKIT_RUNS (or --runs-dir / --root) at one"
        ) from e
    return root
