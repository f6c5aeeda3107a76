"""The run cache: `load_or_train(config, hooks)` returns the stored run of (config, hooks) or trains it.

Entries live in `root/<key>` (default $GROKKIT_RUNS, else ~/.cache/grokkit/runs); the key is the
config's hash plus the hooks' keys (grokkit.hooks). A corrupt entry is reported and retrained; an
interrupted training resumes from `root/<key>.partial`. Code that wants to know which runs it used
(a chapter citing its runs) registers a listener with `on_lookup`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from grokkit.config import Config
from grokkit.hooks import hooks_key
from grokkit.runs import CorruptRun, Run
from grokkit.train import train

__all__ = ["DEFAULT_ROOT", "run_key", "run_dir", "load_or_train", "on_lookup"]

DEFAULT_ROOT = Path(os.environ.get("GROKKIT_RUNS", Path.home() / ".cache" / "grokkit" / "runs"))
_LISTENERS: list[Callable[[str], None]] = []


def on_lookup(listener: Callable[[str], None]) -> None:
    """Call `listener(key)` whenever a run's cache entry is looked up (trained or loaded)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def run_key(config: Config, hooks=()) -> str:
    return config.key(hooks_key(hooks))


def run_dir(config: Config, hooks=(), root=None) -> Path:
    key = run_key(config, hooks)
    for listener in _LISTENERS:
        listener(key)
    return Path(root or DEFAULT_ROOT) / key


def load_or_train(config: Config, hooks=(), *, root=None, progress: bool = True, verbose: bool = True) -> Run:
    """Return the cached run of (config, hooks) or train it (resuming an interrupted training)."""
    path = run_dir(config, hooks, root)
    if path.exists():
        try:
            return Run.load(path)
        except CorruptRun as e:
            if verbose:
                print(f"grokkit: cached run is corrupt, retraining ({e})")
            shutil.rmtree(path, ignore_errors=True)
    partial = path.with_name(path.name + ".partial")
    run = train(config, hooks, progress=progress, resume_dir=partial)
    run.save(path)
    shutil.rmtree(partial, ignore_errors=True)
    return run
