"""The rules every `Config` field obeys, checked whenever a Config is made or `.replace()`d.

A value of the wrong type raises TypeError, one out of range ValueError; either way one line that
names the field and what it allows. Normalising is limited to what leaves every valid config's cache
key as it was: lists become tuples (as they always did) and integer numpy scalars become ints.
"""

from __future__ import annotations

import math
import numbers

from grokkit.data import OPERATIONS, validate_task

SEED_LIMIT = 2**32  # seeds live in [0, 2**32): what numpy's seeding accepts
# int fields: (smallest allowed value, what the smallest means or "")
INTS = {
    "p": (2, ""),
    "d_model": (1, ""),
    "n_heads": (1, ""),
    "d_ff": (1, ""),
    "n_layers": (1, ""),
    "batch_size": (1, ""),
    "max_steps": (1, ""),
    "eval_every": (1, ""),
    "stop_patience": (1, ""),
    "steps_after_stop": (0, ""),
    "snapshot_every": (0, " (0 = off)"),
    "checkpoint_every": (0, " (0 = off)"),
}
# float fields: (the range as a predicate, the range in words, may it be None)
FLOATS = {
    "lr": (lambda v: v > 0, "be > 0", False),
    "eps": (lambda v: v > 0, "be > 0", False),
    "weight_decay": (lambda v: v >= 0, "be >= 0 (0 = no decay)", False),
    "pos_std": (lambda v: v >= 0, "be >= 0 (0 = N(0, 1)/sqrt(d_model))", False),
    "train_frac": (lambda v: 0 < v < 1, "lie in the open interval (0, 1)", False),
    "grad_clip": (lambda v: v > 0, "be > 0 or None (off)", True),
    "stop_threshold": (lambda v: 0 < v <= 1, "lie in (0, 1] or be None (never stop)", True),
}
BOOLS = ("equals_token", "tied_init", "bias", "compile", "cuda_graph")
CHOICES = {
    "norm": ("layernorm", "rmsnorm"),
    "qk_norm": ("none", "l2", "rms"),
    "mlp": ("gelu", "silu", "swiglu"),
    "precision": ("fp32", "tf32", "bf16"),  # tf32: TF32 matmuls on CUDA, plain fp32 on a CPU
}


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _set(c, name: str, value) -> None:
    object.__setattr__(c, name, value)  # the dataclass is frozen; this runs in its __post_init__


def _int(c, name: str, lo: int, note: str = "", hi: int | None = None, optional: bool = False) -> None:
    v = getattr(c, name)
    if optional and v is None:
        return
    words = f"an integer >= {lo}{note}" if hi is None else f"an integer in [{lo}, 2**32)"
    words += " or None" if optional else ""
    if not _is_int(v):
        raise TypeError(f"{name} must be {words}, got {v!r} ({type(v).__name__})")
    _set(c, name, int(v))
    if v < lo or (hi is not None and v >= hi):
        raise ValueError(f"{name} must be {words}, got {v}")


def _float(c, name: str) -> None:
    ok, words, optional = FLOATS[name]
    v = getattr(c, name)
    if optional and v is None:
        return
    if not _is_real(v):
        raise TypeError(f"{name} must be a number and {words}, got {v!r} ({type(v).__name__})")
    if not math.isfinite(v):
        raise ValueError(f"{name} must {words}, and be finite; got {v}")
    if not ok(v):
        raise ValueError(f"{name} must {words}, got {v}")


def _names(c, name: str, what: str, example: str) -> None:
    """A tuple (or list) of strings; a bare string is refused, not split into characters."""
    v = getattr(c, name)
    if isinstance(v, str) or not isinstance(v, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of {what}, e.g. {example}, got {v!r} ({type(v).__name__})")
    if not all(isinstance(s, str) for s in v):
        raise TypeError(f"{name} must be a tuple of strings ({what}), got {tuple(v)!r}")
    if not all(v):
        raise ValueError(f"{name} must not contain an empty name ({what}), got {tuple(v)!r}")
    _set(c, name, tuple(v))


def _betas(c) -> None:
    v, words = c.betas, "two finite numbers in [0, 1), e.g. (0.9, 0.98)"
    if isinstance(v, str) or not isinstance(v, (tuple, list)) or not all(_is_real(b) for b in v):
        raise TypeError(f"betas must be {words}, got {v!r}")
    _set(c, "betas", tuple(v))
    if len(v) != 2 or not all(math.isfinite(b) and 0 <= b < 1 for b in v):
        raise ValueError(f"betas must be {words}, got {tuple(v)}")


def _choices(c) -> None:
    for name, allowed in CHOICES.items():
        v = getattr(c, name)
        if v not in allowed:
            error = ValueError if isinstance(v, str) else TypeError
            raise error(f"{name} must be one of {allowed}, got {v!r}")
    d = c.device
    if not isinstance(d, str):
        raise TypeError(f"device must be a string ('auto', 'cpu', 'cuda[:i]' or 'mps'), got {d!r}")
    if d not in ("auto", "cpu", "cuda", "mps") and not (d.startswith("cuda:") and d[5:].isdigit()):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda[:i]' or 'mps', got {d!r}")


def check(c) -> None:
    """Check (and normalise) every field of the Config `c`; the first bad field raises."""
    _names(c, "ops", f"operation names from {sorted(OPERATIONS)}", "('add',) or ('add', 'mul')")
    _names(c, "decay_exclude", "parameter-name fragments", "('in_proj',)")
    _betas(c)
    for name, (lo, note) in INTS.items():
        _int(c, name, lo, note)
    _int(c, "seed", 0, hi=SEED_LIMIT)
    _int(c, "data_seed", 0, hi=SEED_LIMIT, optional=True)
    for name in FLOATS:
        _float(c, name)
    for name in BOOLS:
        if not isinstance(getattr(c, name), bool):
            raise TypeError(f"{name} must be True or False, got {getattr(c, name)!r}")
    _choices(c)
    validate_task(c.ops, c.p, c.train_frac)  # known, distinct operations; a prime p where needed; a split
    if c.d_model % c.n_heads:
        raise ValueError(f"d_model={c.d_model} must be divisible by n_heads={c.n_heads}")
    seq = 3 if c.equals_token else 2
    if not _is_int(c.readout):
        raise TypeError(f"readout must be an integer position in [{-seq}, {seq}), got {c.readout!r}")
    _set(c, "readout", int(c.readout))
    if not -seq <= c.readout < seq:
        raise ValueError(f"readout must index one of the {seq} positions, in [{-seq}, {seq}), got {c.readout}")
    if c.checkpoint_every % c.eval_every:
        raise ValueError(
            f"checkpoint_every must be a multiple of eval_every={c.eval_every} or 0 "
            f"(resume happens at evaluations), got {c.checkpoint_every}"
        )
