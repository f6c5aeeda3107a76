"""The run cache: `load_or_train(config, hooks)` returns the stored run of (config, hooks) or trains it.

Entries live in `root/<key>` (default `default_root()`: $GROKKIT_RUNS as set at call time, else
~/.cache/grokkit/runs); the key is the config's hash plus the hooks' keys (grokkit.hooks). An entry is
used only if it loads (grokkit.store.runs: checksums, and a run of its own config, grokkit.store.run_check) and its
key, recomputed from its stored config, is the key asked for; any other entry is reported as corrupt
and retrained. An interrupted training resumes from `root/<key>.partial`; a missing run can come from
a run bundle (grokkit.store.bundle) made on another machine, or from the book's published runs
(grokkit.store.published: a chapter registers its bundle, and a missing run it lists is imported from it).
Code that wants to know which runs it used (a chapter citing its runs) registers a listener with `on_lookup`.

Processes share a root safely: "look up, else train and store" holds a per-key file lock
(`root/.locks/<key>.lock`, filelock), so two processes asking for one run train it once; the second
waits, then loads what the first stored. A stored run loads without the lock (a read-only cache of
stored runs works); training needs a writable root, checked before the first step (RunsDirError).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import overload

from filelock import FileLock, Timeout

from grokkit.config import Config
from grokkit.hooks.base import hooks_key
from grokkit.store import published
from grokkit.store.bundle import import_bundle
from grokkit.store.rootdir import LOCKS, RunsDirError, default_root, writable_root
from grokkit.store.runs import CorruptRun, Run
from grokkit.training.train import Interrupted, train

__all__ = [
    "default_root",
    "run_key",
    "run_dir",
    "load_or_train",
    "load_cached",
    "attach_full",
    "on_lookup",
    "RunsDirError",
]

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


def load_cached(path, verbose: bool = True) -> Run | None:
    """The run stored at the cache entry `path` (root/<key>), or None: missing, or corrupt (said if verbose).
    Corrupt: it does not load (grokkit.store.runs), or it is the run of another key than the entry's name."""
    path = Path(path)
    if not path.exists() and not published.fetch(path.name, path.parent):  # a registered published bundle?
        return None
    try:
        run = Run.load(path)
        if run.info["key"] != path.name:
            raise CorruptRun(f"{path}: it holds run {run.info['key']}, not {path.name}")
        if run.trimmed and published.fetch(path.name, path.parent, than=run.trimmed):
            run = Run.load(path)  # a registered bundle held more of it (a trimmed copy came with another chapter)
        return run
    except CorruptRun as e:
        if verbose:
            print(f"grokkit: cached run is corrupt, retraining ({e})")
        return None


@overload
def load_or_train(
    config: Config,
    hooks=(),
    *,
    root=None,
    progress: bool = True,
    verbose: bool = True,
    bundle=None,
    deadline: None = None,
) -> Run: ...


@overload
def load_or_train(
    config: Config, hooks=(), *, root=None, progress: bool = True, verbose: bool = True, bundle=None, deadline: float
) -> Run | None: ...


def load_or_train(
    config: Config, hooks=(), *, root=None, progress: bool = True, verbose: bool = True, bundle=None, deadline=None
) -> Run | None:
    """Return the cached run of (config, hooks) or train it (resuming an interrupted training).

    root: the cache directory (default `default_root()`). bundle: a run bundle (path or file://,
    http(s):// URL, see grokkit.store.bundle) to import into the root when the run is not cached; the run
    then loads from it, or is trained if the bundle does not hold it. A bundle that fails its checks
    raises BundleError (nothing is imported from it). A root that cannot take the run raises
    RunsDirError before training starts. Another process training the same run is waited for. A run
    published trimmed (grokkit.store.published) trains here in full when a series it lacks is read.
    deadline (a time.perf_counter() value): a training still running at its first evaluation past it stops
    there and returns None, its resume state kept in root/<key>.partial (the next call resumes it)."""
    path = run_dir(config, hooks, root)
    run = load_cached(path, verbose=False)  # without the lock: a corrupt entry is said and replaced below
    if run is not None:
        return attach_full(run, config, hooks, path.parent, progress)
    if bundle is not None:
        import_bundle(bundle, root=path.parent)
        run = load_cached(path, verbose=False)
        if run is not None:
            return attach_full(run, config, hooks, path.parent, progress)
        if verbose:
            print(f"grokkit: the bundle {bundle} does not hold run {path.name}; training it")
    try:
        run = _train_locked(path, config, hooks, progress, verbose, deadline=deadline)
    except Interrupted:
        return None
    return attach_full(run, config, hooks, path.parent, progress)


def _train_locked(
    path: Path, config: Config, hooks, progress: bool, verbose: bool, replace_trimmed=False, deadline=None
) -> Run:
    """Under the run's file lock: the run stored meanwhile (a whole one, with `replace_trimmed`), else trained."""
    (writable_root(path.parent) / LOCKS).mkdir(exist_ok=True)
    lock = FileLock(path.parent / LOCKS / f"{path.name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if verbose:
            print(f"grokkit: another process is training run {path.name}; waiting for it")
        lock.acquire()
    try:
        run = load_cached(path, verbose)  # stored meanwhile by the process we waited for?
        if run is not None and not (replace_trimmed and run.trimmed):
            return run
        shutil.rmtree(path, ignore_errors=True)  # a corrupt entry (said above), or a trimmed copy to replace
        partial = path.with_name(path.name + ".partial")
        run = train(config, hooks, progress=progress, resume_dir=partial, deadline=deadline)
        run.save(path)
        shutil.rmtree(partial, ignore_errors=True)
        return run
    finally:
        lock.release()


def attach_full(run: Run, config: Config, hooks, root, progress: bool = True) -> Run:
    """Tell a trimmed copy of a published run how to become whole (`Run.restore_full`): train (config,
    hooks) here in full, replacing the copy in the cache `root`. Returns `run`."""
    if run.trimmed:
        path = Path(root) / run.info["key"]
        hooks = tuple(hooks)
        run.__dict__["_full"] = lambda: _train_locked(path, config, hooks, progress, True, replace_trimmed=True)
    return run
