"""`sweep(base, weight_decay=[...], seed=[...])`: a grid of runs, cached, on the fastest engine here.

Engines: "ensemble" (stacked members in one process; the GPU choice), "processes" (parallel
single-thread worker processes; often best on a multi-core CPU), "sequential" (one run after
another in this process). engine="auto" times a few steps of each candidate on the grid's own model
and picks the highest model-steps/s (kept for the session), so the choice follows the machine.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grokkit.cache import default_root, load_cached, load_or_train, run_dir, run_key
from grokkit.choose import choose_engine, ensemble_chunk
from grokkit.config import Config
from grokkit.ensemble import Ensemble
from grokkit.ensemble_resume import member_keys
from grokkit.hooks import Hook
from grokkit.progress import PoolBar
from grokkit.rootdir import writable_root
from grokkit.runs import Run
from grokkit.stacked import stack_signature

ENGINES = ("auto", "ensemble", "processes", "sequential")
ENSEMBLE_RESUME_EVERY_S = 60.0  # an ensemble chunk's resume state, as often as grokkit.train's


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


def sweep(base: Config, *, hooks=None, root=None, engine: str = "auto", progress: bool = True, **values) -> SweepResult:
    """Train base × the cartesian product of `values` (config fields -> lists); reuse cached runs.

    hooks: None, or a function config -> list of hooks (built per run, e.g. an intervention).
    """
    for name, v in values.items():
        if not hasattr(base, name):
            raise ValueError(f"{name!r} is not a config field")
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            raise ValueError(f"values for {name!r} must be a list, got {v!r}")
    values = {k: list(v) for k, v in values.items()}
    configs = [base.replace(**dict(zip(values, combo))) for combo in itertools.product(*values.values())]
    members = [(c, tuple(hooks(c)) if hooks else ()) for c in configs]
    runs, used, timing = run_many(members, root=root, engine=engine, progress=progress)
    return SweepResult(values, configs, runs, used, timing)


def run_many(members, *, root=None, engine: str = "auto", progress: bool = True):
    """Train [(config, hooks), ...] into the cache (skipping cached ones); returns (runs, engine, timing)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    runs: list = [None] * len(members)
    todo = []
    for j, (c, h) in enumerate(members):
        runs[j] = load_cached(run_dir(c, h, root))  # None: missing, or corrupt (said; retrained)
        if runs[j] is None:
            todo.append(j)
    timing = {"cached": len(members) - len(todo), "trained": len(todo)}
    if not todo:
        return runs, "cache", timing
    writable_root(root)  # a root that cannot take the runs: RunsDirError now, not after training them
    if engine == "auto":
        engine, timing["measured_ms_per_model_step"] = choose_engine([members[j] for j in todo])
    bar = PoolBar(len(todo), f"{len(todo)} runs ({engine})", progress)
    t0 = time.perf_counter()
    if engine == "ensemble":
        _run_ensembles(members, todo, runs, root, bar)
    elif engine == "processes":
        _run_processes(members, todo, runs, root, bar)
    else:
        for j in todo:
            c, h = members[j]
            runs[j] = load_or_train(c, list(h) + [_Progress(bar.steps)], root=root, progress=False)
            bar.done()
    bar.close()
    timing["wall_time_s"] = round(time.perf_counter() - t0, 2)
    return runs, engine, timing


# --- engines --------------------------------------------------------------------------------------


def _run_ensembles(members, todo, runs, root, bar):
    """Stacked chunks of up to `ensemble_chunk` members; each member is cached as soon as it finishes,
    and a chunk keeps resume state in root/ensemble-<digest>.partial (grokkit.ensemble_resume),
    removed when it completes."""
    base = Path(root or default_root())
    groups: dict = {}
    for j in todo:
        groups.setdefault(stack_signature(members[j][0]), []).append(j)
    for group in groups.values():
        for chunk, partial in _ensemble_chunks(members, group, base, ensemble_chunk(members[group[0]][0])):

            def finished(i, r, chunk=chunk):
                j = chunk[i]
                r.save(run_dir(*members[j], root))
                runs[j] = r
                bar.done()

            ens = Ensemble([members[j] for j in chunk])
            ens.run(
                progress=False,
                on_progress=bar.steps,
                resume_dir=partial,
                resume_every_s=ENSEMBLE_RESUME_EVERY_S,
                on_finished=finished,
            )
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


def _run_processes(members, todo, runs, root, bar, workers: int | None = None):
    """Single-thread worker processes (`python -m grokkit.worker`) fed one run at a time.

    Workers are fresh interpreters (not forks of this one, and not re-imports of the caller's
    script), so this works from notebooks and from scripts without a __main__ guard. Tasks travel
    as pickles over the worker's stdin — between our own processes only; results come back
    through the run cache.
    """
    queue = deque(todo)
    lock = threading.Lock()
    errors = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def drive():
        proc = subprocess.Popen(
            [sys.executable, "-m", "grokkit.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            while True:
                with lock:
                    if not queue or errors:
                        break
                    j = queue.popleft()
                task = base64.b64encode(pickle.dumps((*members[j], root))).decode()
                proc.stdin.write(task + "\n")
                proc.stdin.flush()
                for line in proc.stdout:
                    kind, _, rest = line.strip().partition(" ")
                    if kind == "P":
                        with lock:
                            bar.steps(int(rest))
                    elif kind == "D":
                        run = Run.load(rest)
                        with lock:
                            runs[j] = run
                            bar.done()
                        break
                    elif kind == "E":
                        errors.append(base64.b64decode(rest).decode())
                        break
                else:
                    errors.append(f"worker exited with code {proc.wait()}")
                    break
        finally:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
            proc.wait()

    threads = [threading.Thread(target=drive) for _ in range(workers or min(len(todo), os.cpu_count() or 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("a sweep worker failed:\n" + errors[0])
