"""The run cache: `load_or_train(config, hooks)` returns the stored run of (config, hooks) or trains it.

Entries live in `root/<key>` (default `default_root()`: $GROKKIT_RUNS as set at call time, else
~/.cache/grokkit/runs); the key is the config's hash plus the hooks' keys (grokkit.hooks). A corrupt
entry is reported and retrained; an interrupted training resumes from `root/<key>.partial`; a missing
one can come from a run bundle (grokkit.bundle) made on another machine. Code that wants to know
which runs it used (a chapter citing its runs) registers a listener with `on_lookup`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from grokkit.bundle import default_root, import_bundle  # default_root: $GROKKIT_RUNS, read at each call
from grokkit.config import Config
from grokkit.hooks import hooks_key
from grokkit.runs import CorruptRun, Run
from grokkit.train import train

__all__ = ["default_root", "run_key", "run_dir", "load_or_train", "on_lookup"]

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
    return Path(root or default_root()) / key


def load_or_train(
    config: Config, hooks=(), *, root=None, progress: bool = True, verbose: bool = True, bundle=None
) -> Run:
    """Return the cached run of (config, hooks) or train it (resuming an interrupted training).

    root: the cache directory (default `default_root()`). bundle: a run bundle (path or file://,
    http(s):// URL, see grokkit.bundle) to import into the root when the run is not cached; the run
    then loads from it, or is trained if the bundle does not hold it. A bundle that fails its checks
    raises BundleError (nothing is imported from it)."""
    path = run_dir(config, hooks, root)
    if path.exists():
        try:
            return Run.load(path)
        except CorruptRun as e:
            if verbose:
                print(f"grokkit: cached run is corrupt, retraining ({e})")
            shutil.rmtree(path, ignore_errors=True)
    if bundle is not None:
        import_bundle(bundle, root=path.parent)
        if path.exists():
            return Run.load(path)
        if verbose:
            print(f"grokkit: the bundle {bundle} does not hold run {path.name}; training it")
    partial = path.with_name(path.name + ".partial")
    run = train(config, hooks, progress=progress, resume_dir=partial)
    run.save(path)
    shutil.rmtree(partial, ignore_errors=True)
    return run
