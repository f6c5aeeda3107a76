"""`sweep(base, weight_decay=[...], seed=[...])`: a grid of runs, cached, on the fastest engine here.

Engines: "ensemble" (stacked members in one process; the GPU choice), "processes" (parallel
single-thread worker processes; often best on a multi-core CPU), "sequential" (one run after
another in this process). engine="auto" times a few steps of each candidate on the grid's own model
and picks the highest model-steps/s (kept for the session), so the choice follows the machine.
`executor=` (any concurrent.futures.Executor: Dask, submitit/Slurm, a process pool) trains the runs as
tasks on its workers, into a run cache they all see (grokkit.engines.distributed).
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from grokkit.bars import PoolBar
from grokkit.config import Config
from grokkit.engines.choose import choose_engine, ensemble_chunk
from grokkit.engines.distributed import train_on
from grokkit.engines.ensemble import Ensemble
from grokkit.engines.ensemble_resume import member_keys
from grokkit.engines.stacked import stack_signature
from grokkit.engines.worker import drive_workers
from grokkit.hooks.base import Hook
from grokkit.store.rootdir import writable_root
from grokkit.store.runs import Run
from grokkit.training.cache import attach_full, default_root, load_cached, load_or_train, run_dir, run_key

ENGINES = ("auto", "ensemble", "processes", "sequential")
ENSEMBLE_RESUME_EVERY_S = 60.0  # an ensemble chunk's resume state, as often as grokkit.training.train's
REMOTE_CHUNK = 64  # members per executor task for a device the caller lacks (ensemble_chunk measures it here)


class _Progress(Hook):
    """Reports finished steps (at each evaluation) to a callback; not part of any cache key."""

    def __init__(self, report):
        self.report, self.last = report, 0

    def on_eval(self, ctx):
        self.report(ctx.step - self.last)
        self.last = ctx.step


@dataclass
class SweepResult:
    """The grid's runs, in row-major order of `values` (the last field varies fastest)."""

    values: dict  # field -> list of values, in grid order
    configs: list
    runs: list
    engine: str = ""
    timing: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.runs)

    def __iter__(self):
        return iter(zip(self.points(), self.runs))

    def points(self) -> list[dict]:
        return [dict(zip(self.values, combo)) for combo in itertools.product(*self.values.values())]

    def select(self, **fixed) -> list[Run]:
        """Runs whose varied fields equal `fixed`, e.g. select(weight_decay=0.3)."""
        return [r for pt, r in self if all(pt[k] == v for k, v in fixed.items())]

    def grid(self, fn=lambda run: run.grok_step()[0]) -> np.ndarray:
        """fn(run) for every run, shaped (len(values[f1]), len(values[f2]), ...); None -> nan."""
        shape = [len(v) for v in self.values.values()]
        out = [fn(r) for r in self.runs]
        return np.array([np.nan if v is None else v for v in out], dtype=float).reshape(shape)

    def rows(self, threshold: float = 0.98, patience: int = 3) -> list[dict]:
        """One dict per run: the varied fields, grok step(s), final accuracies, steps, seconds."""
        out = []
        for pt, r in self:
            out.append(
                {
                    **pt,
                    "grok_step": r.grok_step(threshold, patience),
                    "final_test_acc": r.final("test_acc"),
                    "final_step": r.info.get("final_step"),
                    "wall_time_s": r.info.get("wall_time_s"),
                }
            )
        return out


def sweep(
    base: Config, *, hooks=None, root=None, engine: str = "auto", progress: bool = True, executor=None, **values
) -> SweepResult:
    """Train base × the cartesian product of `values` (config fields -> lists); reuse cached runs.

    hooks: None, or a function config -> list of hooks (built per run, e.g. an intervention).
    executor: train on its workers (see run_many).
    """
    for name, v in values.items():
        if not hasattr(base, name):
            raise ValueError(f"{name!r} is not a config field")
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            raise ValueError(f"values for {name!r} must be a list, got {v!r}")
    values = {k: list(v) for k, v in values.items()}
    configs = [base.replace(**dict(zip(values, combo))) for combo in itertools.product(*values.values())]
    members = [(c, tuple(hooks(c)) if hooks else ()) for c in configs]
    runs, used, timing = run_many(members, root=root, engine=engine, progress=progress, executor=executor)
    return SweepResult(values, configs, runs, used, timing)


def run_many(
    members, *, root=None, engine: str = "auto", progress: bool = True, executor=None, deadline=None, on_run=None
):
    """Train [(config, hooks), ...] into the cache (skipping cached ones); returns (runs, engine, timing).

    deadline: a time.perf_counter() value (ensemble and sequential engines): no run or chunk starts after
    it and a run or chunk stops at its first evaluation past it, keeping its resume state (root/<key>.partial,
    root/ensemble-<digest>.partial); the runs it left unfinished are None (timing["unfinished"]).
    on_run(j, run): called as members[j] finishes training
    (ensemble and sequential engines), e.g. to store it before the next one.

    executor: a concurrent.futures.Executor (Dask's `client.get_executor()`, submitit's AutoExecutor, a
    ProcessPoolExecutor). Each task trains one config, or with engine="ensemble" (or "auto" when every
    member is on CUDA) one stacked block; `root` (default `default_root()`, made absolute here) must be
    a directory every worker sees. Engine reported: "executor:<its class>"."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if executor is not None:
        root = Path(root or default_root()).expanduser().resolve()
    runs: list = [None] * len(members)
    todo = []
    for j, (c, h) in enumerate(members):
        path = run_dir(c, h, root)
        runs[j] = load_cached(path)  # None: missing, or corrupt (said; retrained)
        if runs[j] is None:
            todo.append(j)
        else:  # a trimmed published copy trains in full if a series it lacks is read
            attach_full(runs[j], c, h, path.parent)
    timing: dict[str, object] = {"cached": len(members) - len(todo), "trained": len(todo)}
    if not todo:
        return runs, "cache", timing
    writable_root(root)  # a root that cannot take the runs: RunsDirError now, not after training them
    if executor is not None:
        return _run_on_executor(executor, members, todo, runs, root, engine, progress, timing)
    if engine == "auto":
        engine, timing["measured_ms_per_model_step"] = choose_engine([members[j] for j in todo])
    if deadline is not None and engine == "processes":
        engine = "sequential"  # the worker processes cannot be stopped at a deadline
    bar = PoolBar(len(todo), f"{len(todo)} runs ({engine})", progress)
    t0 = time.perf_counter()
    late = lambda: deadline is not None and time.perf_counter() >= deadline
    if engine == "ensemble":
        _run_ensembles(members, todo, runs, root, bar, deadline, on_run)
    elif engine == "processes":
        drive_workers(members, todo, runs, root, bar)
    else:
        for j in todo:
            if late():
                break
            c, h = members[j]
            runs[j] = load_or_train(c, list(h) + [_Progress(bar.steps)], root=root, progress=False, deadline=deadline)
            if runs[j] is None:  # stopped by the deadline: its resume state is in root/<key>.partial
                break
            bar.done()
            if on_run is not None:
                on_run(j, runs[j])
    bar.close()
    timing.update(wall_time_s=round(time.perf_counter() - t0, 2), unfinished=sum(r is None for r in runs))
    return runs, engine, timing


# --- engines --------------------------------------------------------------------------------------


def _run_on_executor(executor, members, todo, runs, root, engine, progress, timing):
    """One task per config, or per stacked chunk (engine "ensemble"; "auto" when every member is on CUDA)."""
    if engine == "auto":
        on_cuda = lambda c: c.device.startswith("cuda") or (c.device == "auto" and torch.cuda.is_available())
        engine = "ensemble" if all(on_cuda(members[j][0]) for j in todo) else "sequential"
    blocks = _chunks(members, todo, root) if engine == "ensemble" else [([j], None) for j in todo]
    used = f"executor:{type(executor).__name__}"
    bar = PoolBar(len(todo), f"{len(todo)} runs in {len(blocks)} tasks ({used})", progress)
    t0 = time.perf_counter()
    try:
        train_on(executor, members, blocks, runs, root, bar, ENSEMBLE_RESUME_EVERY_S)
    finally:
        bar.close()
    timing.update(tasks=len(blocks), task_engine=engine, wall_time_s=round(time.perf_counter() - t0, 2))
    return runs, used, timing


def _chunks(members, todo, root) -> list[tuple[list, Path]]:
    """(chunk, resume directory) pairs: stacked chunks of up to `ensemble_chunk` members of one signature."""
    base = Path(root or default_root())
    groups: dict[tuple, list[int]] = {}
    for j in todo:
        groups.setdefault(stack_signature(members[j][0]), []).append(j)
    return [pair for g in groups.values() for pair in _ensemble_chunks(members, g, base, _chunk_size(members[g[0]][0]))]


def _chunk_size(cfg: Config) -> int:
    try:
        return ensemble_chunk(cfg)
    except ValueError:  # a device this machine lacks (an executor's GPU workers): a size any GPU takes
        return REMOTE_CHUNK


def _run_ensembles(members, todo, runs, root, bar, deadline=None, on_run=None):
    """Stacked chunks of up to `ensemble_chunk` members; each member is cached as soon as it finishes,
    and a chunk keeps resume state in root/ensemble-<digest>.partial (grokkit.engines.ensemble_resume),
    removed when it completes (kept when the deadline stops it)."""
    for chunk, partial in _chunks(members, todo, root):
        if deadline is not None and time.perf_counter() >= deadline:
            return

        def finished(i, r, chunk=chunk):
            j = chunk[i]
            r.save(run_dir(*members[j], root))
            runs[j] = r
            bar.done()
            if on_run is not None:
                on_run(j, r)

        ens = Ensemble([members[j] for j in chunk])
        ens.run(
            progress=False,
            on_progress=bar.steps,
            resume_dir=partial,
            resume_every_s=ENSEMBLE_RESUME_EVERY_S,
            on_finished=finished,
            deadline=deadline,
        )
        if all(runs[j] is not None for j in chunk):
            shutil.rmtree(partial, ignore_errors=True)


def _ensemble_chunks(members, group, base: Path, size: int) -> list[tuple[list, Path]]:
    """(chunk, resume directory) pairs covering `group`. Members an interrupted chunk left unfinished
    go back into that chunk's directory (its members.json names them; the others finished and are
    cached), so it resumes although the chunk is re-formed; the rest are cut `size` at a time, in
    order, each directory named by the sha256 of its members' sorted cache keys."""
    keys = {j: run_key(*members[j]) for j in group}
    left, out = list(group), []
    for partial in sorted(base.glob("ensemble-*.partial")):
        saved = set(member_keys(partial))
        chunk = [j for j in left if keys[j] in saved]
        if chunk:
            out.append((chunk, partial))
            left = [j for j in left if keys[j] not in saved]
    for s in range(0, len(left), size):
        chunk = left[s : s + size]
        digest = hashlib.sha256("\n".join(sorted(keys[j] for j in chunk)).encode()).hexdigest()[:32]
        out.append((chunk, base / f"ensemble-{digest}.partial"))
    return out
