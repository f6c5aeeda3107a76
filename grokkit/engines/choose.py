"""Which engine trains a pool of runs fastest here: measured, not guessed (`choose_engine`)."""

from __future__ import annotations

import os
import time

import torch

from grokkit.config import Config
from grokkit.data import dataset_for
from grokkit.engines.ensemble import Ensemble
from grokkit.engines.stacked import stack_signature
from grokkit.hooks.base import Hook
from grokkit.model import build_model, n_params
from grokkit.objective import evaluate
from grokkit.training.device import resolve_device
from grokkit.training.train import train

__all__ = ["choose_engine", "ensemble_chunk"]

_CHOICES: dict = {}  # (signature, device, n) -> (engine, measurements), kept for the session


WORKER_START_S = 4.0  # starting a worker interpreter and importing torch, on a 2-core CPU


def choose_engine(members) -> tuple[str, dict]:
    """Time the step of each candidate engine on this grid's model; return the fastest.

    Step costs are measured (difference of a short and a longer run, so set-up and evaluation
    cancel); the total adds fixed start costs against the grid's step budget (early stopping is
    unknown in advance, so each run's step budget `max_steps` is what is priced). On a CPU the
    ensemble is not a candidate for runs with per-step hooks: it calls them member by member, which
    the hook-free probe does not time and which removes its margin there.
    """
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
    ms = {
        "sequential": _step_ms(lambda s: train(probe.replace(max_steps=s), progress=False))
        + _call_ms(solo_eval) / cfg.eval_every
    }
    per_step_hooks = any(
        type(h).on_step is not Hook.on_step or type(h).on_grad is not Hook.on_grad for _, hs in members for h in hs
    )
    if largest > 1 and not (device.type == "cpu" and per_step_hooks):  # stackable configs train together
        k = min(largest, ensemble_chunk(cfg))
        group = lambda s: Ensemble([(probe.replace(seed=probe.seed + i, max_steps=s), ()) for i in range(k)])
        ms["ensemble"] = (
            _step_ms(lambda s: group(s).run(progress=False)) + _call_ms(group(1).evaluate) / cfg.eval_every
        ) / k
    cores = os.cpu_count() or 1
    # worker processes must be able to import every hook (not so for classes defined in __main__)
    importable = all(type(h).__module__ != "__main__" for _, hs in members for h in hs)
    if device.type == "cpu" and cores > 1 and importable:
        # one single-thread worker per core; a CPU run trains on one thread wherever it runs
        # (grokkit.training.device.one_cpu_thread), so the sequential probe is a worker's step too
        ms["processes"] = ms["sequential"] / min(cores, n)
    steps = sum(c.max_steps for c, _ in members)
    total = {e: v * steps / 1000 + (WORKER_START_S if e == "processes" else 0.0) for e, v in ms.items()}
    best = min(total, key=total.__getitem__)
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


def ensemble_chunk(cfg: Config) -> int:
    """Members per ensemble: bounded by device memory (GPU) or a small number (CPU)."""
    if resolve_device(cfg.device).type != "cuda":
        return 8
    per_member = n_params(build_model(cfg)) * 4 * 8 + cfg.batch_size * cfg.seq_len * cfg.d_ff * 4 * 24
    free, _ = torch.cuda.mem_get_info()
    return int(max(1, min(1024, 0.5 * free // per_member)))
