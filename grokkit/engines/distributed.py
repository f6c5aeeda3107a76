"""Sweeps on any `concurrent.futures.Executor`: `gk.sweep(..., executor=client.get_executor())`.

Dask's `Client.get_executor()`, submitit's `AutoExecutor` (Slurm, or local processes), a
`ProcessPoolExecutor`: grokkit.engines.sweep cuts the runs still to train into tasks (one config, or one
ensemble block of members sharing a stack signature) and `train_on` submits `train_one` /
`train_block`, top-level functions here, so a worker needs only grokkit installed. A task trains into
the shared run cache `root` (an absolute path every worker sees) with one torch thread and returns
run directory paths, nothing else; the caller then loads every run from the cache itself
(grokkit.training.cache.load_cached recomputes its key), so what a worker returns is never trusted beyond a
path. The cache is the idempotent store: a config takes grokkit.training.cache's per-key lock, a block its
members' locks in key order, so two workers (or a retried task) never train one run twice.

A task that raises comes back as TaskFailed carrying the worker's traceback text, raised in the
caller once the other tasks finished or were cancelled. Dask and submitit are optional
(`pip install grokkit[cluster]`); nothing here imports them.
"""

from __future__ import annotations

import concurrent.futures as cf
import shutil
import socket
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path

from filelock import FileLock

from grokkit.engines.ensemble import Ensemble
from grokkit.store.rootdir import LOCKS, writable_root
from grokkit.training.cache import load_cached, load_or_train, run_dir
from grokkit.training.device import one_cpu_thread

__all__ = ["TaskFailed", "train_one", "train_block", "train_on"]

POLL_S = 1.0  # how often futures that are not concurrent.futures ones (submitit's jobs) are asked


class TaskFailed(RuntimeError):
    """A sweep task raised on its worker; the message holds the worker's traceback."""


# --- on a worker ----------------------------------------------------------------------------------


@contextmanager
def _reported(what: str):
    """Any exception leaves as TaskFailed with this worker's traceback text (plain data: it pickles)."""
    try:
        yield
    except Exception:
        raise TaskFailed(f"{what} failed on {socket.gethostname()}:\n{traceback.format_exc()}") from None


def train_one(config, hooks, root: str) -> str:
    """Train (config, hooks) into the run cache `root` unless it is there; its run directory."""
    with one_cpu_thread(), _reported(f"the run of {config.describe()}"):
        load_or_train(config, list(hooks), root=root, progress=False)
        return str(run_dir(config, hooks, root))


def train_block(members, root: str, partial: str, resume_every_s: float = 60.0) -> list[str]:
    """Train the members [(config, hooks), ...] (one stack signature) as one ensemble into `root`,
    holding their per-key locks (taken in key order: no deadlock between blocks, or with load_or_train),
    and skipping those cached meanwhile; resume state in `partial`. Their run directories, in order."""
    with one_cpu_thread(), _reported(f"the ensemble block of {len(members)} from {members[0][0].describe()}"):
        paths = [run_dir(c, h, root) for c, h in members]
        (writable_root(root) / LOCKS).mkdir(exist_ok=True)
        with ExitStack() as locks:
            for key in sorted({p.name for p in paths}):  # one lock per key: a lock is not taken twice
                locks.enter_context(FileLock(Path(root) / LOCKS / f"{key}.lock"))
            left, seen = [], set()
            for i, p in enumerate(paths):
                if p not in seen and load_cached(p) is None:
                    left.append(i)
                seen.add(p)
            if left:
                Ensemble([members[i] for i in left]).run(
                    progress=False,
                    resume_dir=partial,
                    resume_every_s=resume_every_s,
                    on_finished=lambda n, run: run.save(paths[left[n]]),
                )
            shutil.rmtree(partial, ignore_errors=True)
        return [str(p) for p in paths]


# --- in the caller --------------------------------------------------------------------------------


def train_on(executor, members, blocks, runs, root: Path, bar, resume_every_s: float = 60.0) -> None:
    """Train `blocks` [(member indexes, ensemble resume dir or None), ...] of `members` on `executor`, one
    task per block (None: one config, `train_one`), then load each run from `root` into `runs`.

    A failed task cancels those not started, waits for the rest, and raises TaskFailed with the
    worker's traceback. A run missing from the cache after its task finished raises RuntimeError
    naming its config (workers that do not see `root`)."""
    tasks: list[tuple[Callable[..., object], tuple, str]] = []  # (fn, args, label)
    for idx, partial in blocks:
        if partial is None:
            (j,) = idx
            c, h = members[j]
            tasks.append((train_one, (c, tuple(h), str(root)), c.describe()))
        else:
            block = [(members[j][0], tuple(members[j][1])) for j in idx]
            args = (block, str(root), str(partial), resume_every_s)
            tasks.append((train_block, args, f"ensemble block of {len(idx)} from {block[0][0].describe()}"))
    _run_tasks(executor, tasks, [len(idx) for idx, _ in blocks], bar)
    for idx, _ in blocks:
        for j in idx:
            c, h = members[j]
            runs[j] = load_cached(run_dir(c, h, root))
            if runs[j] is None:
                raise RuntimeError(
                    f"the run of {c.describe()} is not in {root} (key {run_dir(c, h, root).name}) although its "
                    "task finished: do the workers see that directory (a shared file system)?"
                )


def _run_tasks(executor, tasks, sizes, bar) -> list:
    """Submit tasks [(fn, args, label), ...]; their results, in order. `bar` counts `sizes[i]` runs done
    as task i finishes. submitit's executors get one job array, not one job per task."""
    batch = type(executor).__module__.split(".")[0] == "submitit" and hasattr(executor, "batch")
    futures = []
    try:
        with executor.batch() if batch else nullcontext():
            for fn, args, _ in tasks:
                futures.append(executor.submit(fn, *args))
        results: list = [None] * len(tasks)
        failed: list[tuple[int, Exception]] = []
        pending = set(range(len(tasks)))
        while pending:
            for i in _wait_some(futures, pending):
                pending.discard(i)
                try:
                    results[i] = futures[i].result()
                except cf.CancelledError:
                    continue
                except Exception as e:
                    if not failed:
                        _cancel(futures[k] for k in pending)
                    failed.append((i, e))
                    continue
                for _ in range(sizes[i]):
                    bar.done()
    except BaseException:  # interrupted here (Ctrl-C): nothing left running on the cluster for nothing
        _cancel(futures)
        raise
    if failed:
        i, err = failed[0]
        more = f" ({len(failed)} of {len(tasks)} tasks failed)" if len(failed) > 1 else ""
        if isinstance(err, TaskFailed):  # raised by the task: it names its runs and holds the worker's traceback
            raise TaskFailed(f"a sweep task failed{more}: {err}") from err
        text = "".join(traceback.format_exception(type(err), err, err.__traceback__))  # the executor's (a lost worker)
        raise TaskFailed(f"a sweep task failed{more}: {tasks[i][2]}\n{text}") from err
    return results


def _wait_some(futures, pending) -> list[int]:
    """Indexes in `pending` whose futures are done, once at least one is."""
    if all(isinstance(futures[i], cf.Future) for i in pending):
        done = cf.wait([futures[i] for i in pending], return_when=cf.FIRST_COMPLETED).done
        return [i for i in pending if futures[i] in done]
    while True:  # e.g. submitit's Job: done() asks the scheduler
        ready = [i for i in pending if futures[i].done()]
        if ready:
            return ready
        time.sleep(POLL_S)


def _cancel(futures) -> None:
    for f in futures:
        try:
            f.cancel()
        except Exception:  # already finished, or the scheduler refused: it ends on its own
            pass
