"""What a stored run must hold beyond matching checksums: `check_run`, called by every `Run.load`.

A manifest proves that a run directory's files were written together, not that they are a run: files
edited and re-checksummed, or made by hand, may name an unknown config field, lack the history, hold
weights of another model, or carry another config's cache key. `check_run` refuses each of these
(ValueError, which `Run.load` reports as CorruptRun), so the cache retrains such an entry and a bundle
import refuses it. The cache key is recomputed from the stored config and hook keys (`stored_key`),
never read from the run. Values are not judged: a diverged run's NaN losses and weights load.
"""

from __future__ import annotations

import numbers

import torch

from grokkit.config import Config
from grokkit.data import OPERATIONS
from grokkit.model import build_model
from grokkit.objective import METRICS

__all__ = ["stored_key", "check_run"]


def stored_key(config: Config, hook_keys) -> str:
    """The cache key of a run of `config` with hooks of these keys (joined as grokkit.hooks.hooks_key joins them)."""
    if not isinstance(hook_keys, list) or not all(isinstance(k, str) and k for k in hook_keys):
        raise ValueError(f"config.json: 'hooks' must be a list of hook keys, got {hook_keys!r}")
    return config.key("|".join(hook_keys))


def _series(where: str, steps, values, width: int | None = None) -> None:
    if not isinstance(steps, list) or not isinstance(values, list) or len(steps) != len(values):
        raise ValueError(f"{where}: steps and values must be two lists of one length")
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in steps):
        raise ValueError(f"{where}: steps must be integers")
    if width is not None:  # one row of `width` numbers per evaluation (NaN allowed: a diverged run)
        ok = lambda row: isinstance(row, list) and len(row) == width and all(isinstance(x, numbers.Real) for x in row)
        if not all(ok(row) for row in values):
            raise ValueError(f"{where}: every evaluation must hold {width} number(s), one per task")


def _history(config: Config, history) -> None:
    if not isinstance(history, dict) or not all(m in history for m in ("step", *METRICS)):
        raise ValueError(f"metrics.json: 'history' must hold 'step' and {', '.join(METRICS)}")
    steps = history["step"]
    if not steps or any(b <= a for a, b in zip(steps, steps[1:])):
        raise ValueError("metrics.json: the history's steps must be a non-empty increasing list")
    for m in METRICS:
        _series(f"metrics.json: history {m!r}", steps, history[m], config.n_tasks)


def _split(config: Config, split) -> None:
    n_pairs = (config.p - 1) ** 2 if any(OPERATIONS[op].exclude_zero for op in config.ops) else config.p**2
    parts = [split.get("train_idx"), split.get("test_idx")]
    ok = len(split) == 2 and all(t is not None and t.dim() == 1 and t.dtype == torch.long for t in parts)
    idx = torch.cat(parts) if ok else None
    if idx is None or len(idx) != n_pairs or not 0 <= int(idx.min()) <= int(idx.max()) < n_pairs:
        raise ValueError(f"split.safetensors: train_idx and test_idx must split the {n_pairs} pairs (int64 indices)")


def check_run(config: Config, info: dict, metrics: dict, split: dict, weights: dict, tensors: dict) -> None:
    """Raise ValueError naming the first part of a loaded run that does not fit its config."""
    key = stored_key(config, info.get("hooks"))
    if info.get("key") != key:
        raise ValueError(f"config.json: its config and hooks give cache key {key}, it says {info.get('key')!r}")
    if not isinstance(metrics, dict) or not isinstance(metrics.get("records"), dict):
        raise ValueError("metrics.json: must hold 'history' and 'records'")
    _history(config, metrics.get("history"))
    for name, r in metrics["records"].items():
        if not isinstance(r, dict):
            raise ValueError(f"metrics.json: record {name!r} must hold 'step' and 'value'")
        _series(f"metrics.json: record {name!r}", r.get("step"), r.get("value"))
    _split(config, split)
    with torch.device("meta"):  # the shapes only: nothing is allocated or initialised
        want = {n: tuple(p.shape) for n, p in build_model(config).named_parameters()}
    got = {n: tuple(w.shape) for n, w in weights.items()}
    trimmed = info.get("trimmed", [])
    if isinstance(trimmed, list) and "weights" in trimmed:  # published without its final weights (metrics only)
        if got:
            raise ValueError("weights.safetensors: a run published without its weights must hold none")
    elif got != want or not all(w.is_floating_point() for w in weights.values()):
        wrong = sorted(n for n in want.keys() | got.keys() if want.get(n) != got.get(n))
        raise ValueError(f"weights.safetensors: not the parameters of this config's model (differ: {wrong[:3]})")
    if (
        not isinstance(trimmed, list)
        or not all(isinstance(n, str) and n for n in trimmed)
        or set(trimmed) & set(tensors)
    ):
        raise ValueError("config.json: 'trimmed' must list the names of series the run does not hold")
    for name, t in tensors.items():
        if set(t) != {"step", "value"} or t["step"].dim() != 1 or t["value"].dim() < 1:
            raise ValueError(f"trajectory.safetensors: {name!r} must be a 1-D step tensor and a value tensor")
        if len(t["step"]) != len(t["value"]):
            raise ValueError(f"trajectory.safetensors: {name!r} has {len(t['step'])} steps, {len(t['value'])} values")
