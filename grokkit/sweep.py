"""`sweep(base, weight_decay=[...], seed=[...])`: a grid of runs, cached, on the fastest engine here.

Engines: "ensemble" (stacked members in one process; the GPU choice), "processes" (parallel
single-thread worker processes; often best on a multi-core CPU), "sequential" (one run after
another in this process). engine="auto" times a few steps of each candidate on the grid's own model
and picks the highest model-steps/s (kept for the session), so the choice follows the machine.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from grokkit.config import Config
from grokkit.hooks import Hook
from grokkit.runs import CorruptRun, Run, load_or_train, run_dir
from grokkit.data import dataset_for
from grokkit.model import build_model
from grokkit.train import evaluate, resolve_device, train

ENGINES = ("auto", "ensemble", "processes", "sequential")
_CHOICES: dict = {}  # (signature, device) -> (engine, measurements)


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
            out.append({**pt, "grok_step": r.grok_step(threshold, patience), "final_test_acc": r.final("test_acc"),
                        "final_step": r.info.get("final_step"), "wall_time_s": r.info.get("wall_time_s")})
        return out


def sweep(base: Config, *, hooks=None, root=None, engine: str = "auto", progress: bool = True,
          **values) -> SweepResult:
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
        path = run_dir(c, h, root)
        if path.exists():
            try:
                runs[j] = Run.load(path)
                continue
            except CorruptRun as e:
                print(f"grokkit: retraining corrupt cached run ({e})")
        todo.append(j)
    timing = {"cached": len(members) - len(todo), "trained": len(todo)}
    if not todo:
        return runs, "cache", timing
    if engine == "auto":
        engine, timing["measured_ms_per_model_step"] = choose_engine([members[j] for j in todo])
    bar = _bar(progress, sum(members[j][0].max_steps for j in todo), len(todo))
    t0 = time.perf_counter()
    if engine == "ensemble":
        _run_ensembles(members, todo, runs, root, bar)
    elif engine == "processes":
        _run_processes(members, todo, runs, root, bar)
    else:
        for j in todo:
            c, h = members[j]
            runs[j] = load_or_train(c, list(h) + [_Progress(bar.update)] if bar else h, root=root,
                                    progress=False)
            _shrink(bar, c, runs[j])
    if bar is not None:
        bar.close()
    timing["wall_time_s"] = round(time.perf_counter() - t0, 2)
    return runs, engine, timing


def long_runs_engine(config: Config) -> str:
    """The engine for a few long runs of unequal length: "processes" on a multi-core CPU (whole runs in
    parallel, one per core), else "auto". The auto choice budgets 5,000 steps per early-stopping run,
    so for runs of 10k-25k steps its 10% margin can fall either way on noisy step timings."""
    if resolve_device(config.device).type == "cpu" and (os.cpu_count() or 1) > 1:
        return "processes"
    return "auto"


# --- engines --------------------------------------------------------------------------------------

def _run_ensembles(members, todo, runs, root, bar):
    from grokkit.ensemble import Ensemble, stack_signature
    groups: dict = {}
    for j in todo:
        groups.setdefault(stack_signature(members[j][0]), []).append(j)
    for group in groups.values():
        size = _ensemble_chunk(members[group[0]][0])
        for s in range(0, len(group), size):
            chunk = group[s:s + size]
            ens = Ensemble([members[j] for j in chunk])
            out = ens.run(progress=False, on_progress=bar.update if bar else None)
            for j, r in zip(chunk, out):
                r.save(run_dir(*members[j], root))
                runs[j] = r
                _shrink(bar, members[j][0], r)


def _ensemble_chunk(cfg: Config) -> int:
    """Members per ensemble: bounded by device memory (GPU) or a small number (CPU)."""
    if resolve_device(cfg.device).type != "cuda":
        return 8
    from grokkit.model import build_model, n_params
    per_member = n_params(build_model(cfg)) * 4 * 8 + cfg.batch_size * cfg.seq_len * cfg.d_ff * 4 * 24
    free, _ = torch.cuda.mem_get_info()
    return int(max(1, min(1024, 0.5 * free // per_member)))


def _run_processes(members, todo, runs, root, bar, workers: int | None = None):
    """Single-thread worker processes (`python -m grokkit.worker`) fed one run at a time.

    Workers are fresh interpreters (not forks of this one, and not re-imports of the caller's
    script), so this works from notebooks and from scripts without a __main__ guard. Tasks travel
    as pickles over the worker's stdin — between our own processes only; results come back
    through the run cache.
    """
    import base64
    import pickle
    import subprocess
    import sys
    from collections import deque

    queue = deque(todo)
    lock = threading.Lock()
    errors = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def drive():
        proc = subprocess.Popen([sys.executable, "-m", "grokkit.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env)
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
                    if kind == "P" and bar is not None:
                        with lock:
                            bar.update(int(rest))
                    elif kind == "D":
                        run = Run.load(rest)
                        with lock:
                            runs[j] = run
                            _shrink(bar, members[j][0], run)
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


# --- choosing ---------------------------------------------------------------------------------------

WORKER_START_S = 4.0  # starting a worker interpreter and importing torch, on a 2-core CPU


def choose_engine(members) -> tuple[str, dict]:
    """Time the step of each candidate engine on this grid's model; return the fastest.

    Step costs are measured (difference of a short and a longer run, so set-up and evaluation
    cancel); the total adds fixed start costs against the grid's step budget (early stopping is
    unknown in advance: at most 5,000 steps a run are assumed for runs that stop on accuracy).
    """
    from grokkit.ensemble import stack_signature
    cfg = members[0][0]
    device = resolve_device(cfg.device)
    n = len(members)
    if n == 1:
        return "sequential", {}
    key = (stack_signature(cfg), device.type, n)
    if key in _CHOICES:
        return _CHOICES[key]
    groups: dict = {}
    for c, _ in members:
        groups.setdefault(stack_signature(c), []).append(c)
    largest = max(len(g) for g in groups.values())
    probe = cfg.replace(stop_threshold=None, snapshot_every=0, checkpoint_every=0, eval_every=10**6)
    solo_eval = lambda: evaluate(build_model(cfg).to(device), dataset_for(cfg).to(device), cfg)
    ms = {"sequential": _step_ms(lambda s: train(probe.replace(max_steps=s), progress=False))
          + _call_ms(solo_eval) / cfg.eval_every}
    if largest > 1:  # the ensemble trains each group of stackable configs together
        from grokkit.ensemble import Ensemble
        k = min(largest, _ensemble_chunk(cfg))
        group = lambda s: Ensemble([(probe.replace(seed=probe.seed + i, max_steps=s), ()) for i in range(k)])
        ms["ensemble"] = (_step_ms(lambda s: group(s).run(progress=False))
                          + _call_ms(group(1).evaluate) / cfg.eval_every) / k
    cores = os.cpu_count() or 1
    # worker processes must be able to import every hook (not so for classes defined in __main__)
    importable = all(type(h).__module__ != "__main__" for _, hs in members for h in hs)
    if device.type == "cpu" and cores > 1 and importable:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            one = (_step_ms(lambda s: train(probe.replace(max_steps=s), progress=False))
                   + _call_ms(solo_eval) / cfg.eval_every)
        finally:
            torch.set_num_threads(threads)
        ms["processes"] = one / min(cores, n)  # one single-thread worker per core
    steps = sum(min(c.max_steps, 5000) if c.stop_threshold is not None else c.max_steps for c, _ in members)
    total = {e: v * steps / 1000 + (WORKER_START_S if e == "processes" else 0.0) for e, v in ms.items()}
    best = min(total, key=total.get)
    if total[best] > 0.9 * total["sequential"]:
        best = "sequential"  # not worth the machinery for under 10%
    _CHOICES[key] = (best, {k: round(v, 3) for k, v in ms.items()})
    return _CHOICES[key]


def _step_ms(run_for, short: int = 3, long: int = 13) -> float:
    """ms per step from the difference of a short and a long run (best of two each)."""
    run_for(short)  # warm-up
    timed = lambda s: min(_timed(run_for, s) for _ in range(2))
    return max(1e-3, (timed(long) - timed(short)) / (long - short) * 1000)


def _call_ms(fn) -> float:
    fn()
    return min(_timed(lambda _: fn(), None) for _ in range(2)) * 1000


def _timed(fn, s) -> float:
    t = time.perf_counter()
    fn(s)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t


def _bar(progress, total, n_runs):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, unit="step", desc=f"sweep of {n_runs} runs", mininterval=0.5)


def _shrink(bar, config, run):
    """A run that stopped early owes the bar fewer steps than its budget."""
    if bar is not None:
        bar.total -= config.max_steps - run.info.get("final_step", config.max_steps)
        bar.refresh()
