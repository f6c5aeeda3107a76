"""Measurements made once: `memoized(fn)` returns `fn` that keeps its value (grokkit.store.measures) and
reads it back for the same inputs, so that a chapter opened again, or a reader's copy of a published
chapter, does not recompute its expensive measurements (minutes on a CPU for Chapters 2 to 4).

The key of a call is the sha256 of
  * the function's module and name, and a digest of grokkit's source (`source_digest`: every .py file
    of the installed package), so a value is used only by the code that computed it;
  * every argument: a run by its key and the digest of its final weights (`Run.digest`: a run retrained
    elsewhere, whose last bits may differ, computes its own values), a tensor or array by its dtype,
    shape and bytes, a generator by its state, numbers and strings as they are, lists, tuples and dicts
    element by element. An argument of any other type makes the call an ordinary one (nothing stored).
A generator the function draws from is left in the state the computation left it (stored with the
value), so later draws from it are the same either way. The value returned is the stored one decoded
(tuples, dicts with tuple keys, tensors and arrays kept), on the first call as on every later one.

Reads of run series inside a memoized call are not counted as the chapter's reads (grokkit.store.runs
`reads_quiet`): the build publishes the value, and the runs are published without the series only it
read. Where a reader's value is not the published one (another grokkit, a changed argument) and a
run lacks a series, the run trains here in full (`Run.restore_full`) and the measurement starts again
on the whole run. GROKKIT_MEMO=off computes every call.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from grokkit.config import Config
from grokkit.store import measures
from grokkit.store.runs import Run, reads_quiet, restores

__all__ = ["memoized", "source_digest", "enabled", "call_key"]

_PACKAGE = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """sha256 over every .py file of the installed grokkit package (relative path and bytes)."""
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(_PACKAGE)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def enabled() -> bool:
    return os.environ.get("GROKKIT_MEMO", "on").strip().lower() not in ("off", "0", "no", "false")


class _Unkeyable(TypeError):
    pass


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _fingerprint(x, gens: list):
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (int, np.integer)):
        return ["int", int(x)]
    if isinstance(x, (float, np.floating)):
        return ["float", repr(float(x))]
    if isinstance(x, Run):
        return ["run", x.info.get("key"), x.digest()]
    if isinstance(x, torch.Generator):
        gens.append(x)
        return ["generator", str(x.device), _sha(x.get_state().numpy().tobytes())]
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu().contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        return ["tensor", str(t.dtype), list(t.shape), _sha(raw)]
    if isinstance(x, np.ndarray):
        a = np.ascontiguousarray(x)
        return ["ndarray", a.dtype.str, list(a.shape), _sha(a.tobytes())]
    if isinstance(x, Config):
        return ["config", x.key("")]
    if isinstance(x, (list, tuple)):
        return [type(x).__name__, [_fingerprint(v, gens) for v in x]]
    if isinstance(x, dict):
        return ["dict", [[_fingerprint(k, gens), _fingerprint(v, gens)] for k, v in x.items()]]
    raise _Unkeyable(type(x).__name__)


def call_key(name: str, args: tuple, kwargs: dict, gens: list | None = None) -> str:
    """The stored-measurement key of calling `name` with these arguments (generators met are appended to
    `gens`); TypeError for an argument of a type that is not keyed."""
    gens = [] if gens is None else gens
    desc = [measures.FORMAT, measures.VERSION, source_digest(), name, _fingerprint(args, gens)]
    desc.append(_fingerprint(dict(sorted(kwargs.items())), gens))
    return _sha(json.dumps(desc, separators=(",", ":")).encode())


def _state(b64: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(b64, validate=True)), dtype=torch.uint8).clone()


def memoized(fn):
    """`fn`, its values kept and read back for the same inputs (module docstring)."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not enabled():
            return fn(*args, **kwargs)
        gens: list = []
        try:
            key = call_key(name, args, kwargs, gens)
        except _Unkeyable:
            return fn(*args, **kwargs)
        entry = measures.lookup(key)
        if entry is not None and len(entry["generators"]) == len(gens):
            try:
                value, states = measures.decode(entry["value"]), [_state(s) for s in entry["generators"]]
                for g, s in zip(gens, states):
                    g.set_state(s)
                return value
            except (measures.MeasureError, ValueError, RuntimeError):
                pass  # a value that does not decode, a state of another generator type: computed below
        start = [g.get_state() for g in gens]
        t0, before = time.perf_counter(), restores()
        with reads_quiet():
            value = fn(*args, **kwargs)
            if restores() != before:  # a trimmed run became whole meanwhile: measure it again from the start
                for g, s in zip(gens, start):
                    g.set_state(s)
                gens = []
                key = call_key(name, args, kwargs, gens)
                value = fn(*args, **kwargs)
        try:
            entry = measures.entry_of(
                key, name, value, [g.get_state().numpy().tobytes() for g in gens], time.perf_counter() - t0
            )
        except measures.MeasureError:
            return value  # a value of a type that is not kept: returned as computed
        measures.store(entry)
        return measures.decode(entry["value"])  # what a later call (or a reader) gets, from the first call on

    wrapper.__wrapped__ = fn
    wrapper.memoized = True
    return wrapper
