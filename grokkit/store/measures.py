"""Stored measurements: what an expensive measurement of finished runs returned, kept as JSON so that a
chapter opened again (or a reader's copy of a published chapter) reads it instead of recomputing it.

An entry is keyed by everything its value depends on (grokkit.book.memo builds the key: the function,
the content of every run, tensor and generator it was given, its other arguments, and a digest of
grokkit's own source), so a stored value is used only for exactly the inputs it was computed from, by
exactly this grokkit. Two places hold entries:

    <run cache>/.measures/<key>.json      this machine's (written atomically; a read-only cache is fine)
    the published table                   the entries a chapter's build used, served beside the site as
                                          runs/<chapter>-<profile>.measures.json (grokkit.store.published)

Entries are data, never code: JSON of numbers, strings, lists, tuples, dicts and tensors (a dtype from
a fixed list, a shape and base64 bytes whose length must match). A value that does not decode is
refused (`MeasureError`) and the measurement is computed instead. `on_use(fn)` is told the key of every
entry stored or read (a chapter's build publishes those).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from grokkit.store.rootdir import default_root

__all__ = [
    "MeasureError",
    "encode",
    "decode",
    "lookup",
    "store",
    "entry_of",
    "publish_file",
    "load_published",
    "forget_published",
    "on_use",
    "local_dir",
    "FORMAT",
]

FORMAT, VERSION = "grokkit-measures", 1
DIR = ".measures"
MAX_ENTRY_BYTES = 64 << 20  # one stored value larger than this is not kept (it is recomputed)
MAX_FILE_BYTES = 64 << 20  # a published measures file larger than this is refused unread
_DTYPES = {
    str(d): d
    for d in (
        torch.float64,
        torch.float32,
        torch.float16,
        torch.bfloat16,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
    )
}
_NP_DTYPES = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}
_TAGS = ("__tuple__", "__dict__", "__tensor__", "__ndarray__", "__float__")


class MeasureError(ValueError):
    """A stored measurement that does not decode (not one of the types `encode` writes, or inconsistent)."""


def encode(value):
    """`value` as JSON-ready data; MeasureError for a type that is not kept (the measurement is then not
    stored, only computed). Floats are exact (JSON's shortest repr round-trips), NaN and ±inf tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else {"__float__": repr(v)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        if str(t.dtype) not in _DTYPES:
            raise MeasureError(f"a tensor of dtype {t.dtype} is not kept")
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        return {"__tensor__": str(t.dtype), "shape": list(t.shape), "data": base64.b64encode(raw).decode()}
    if isinstance(value, np.ndarray):
        if value.dtype.name not in _NP_DTYPES:
            raise MeasureError(f"an array of dtype {value.dtype} is not kept")
        a = np.ascontiguousarray(value)
        return {"__ndarray__": a.dtype.name, "shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode()}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and k not in _TAGS for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise MeasureError(f"a {type(value).__name__} is not kept")


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    return v


def decode(data):
    """The value `encode` wrote; MeasureError for anything else (untrusted input: nothing is imported or run)."""
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise MeasureError(f"unexpected {type(data).__name__}")
    tags = [t for t in _TAGS if t in data]
    if not tags:
        return {k: decode(v) for k, v in data.items()}
    tag = tags[0]
    try:
        if tag == "__float__":
            s = data[tag]
            if s not in ("nan", "inf", "-inf"):
                raise MeasureError(f"not a non-finite float: {s!r}")
            return float(s)
        if tag == "__tuple__":
            return tuple(decode(v) for v in data[tag])
        if tag == "__dict__":
            return {_hashable(decode(k)): decode(v) for k, v in data[tag]}
        shape = [int(n) for n in data["shape"]]
        if any(n < 0 for n in shape):
            raise MeasureError("a negative dimension")
        raw = base64.b64decode(data["data"], validate=True)
        if tag == "__tensor__":
            dtype = _DTYPES.get(data[tag])
            if dtype is None:
                raise MeasureError(f"dtype {data[tag]!r} is not one that is kept")
            size = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
            if len(raw) != size:
                raise MeasureError(f"{len(raw)} bytes for a {dtype} tensor of shape {shape}")
            if not size:
                return torch.empty(shape, dtype=dtype)
            return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape).clone()
        if data[tag] not in _NP_DTYPES:
            raise MeasureError(f"dtype {data[tag]!r} is not one that is kept")
        dt = np.dtype(data[tag])
        if len(raw) != math.prod(shape) * dt.itemsize:
            raise MeasureError(f"{len(raw)} bytes for a {dt} array of shape {shape}")
        return np.frombuffer(raw, dtype=dt).reshape(shape).copy()
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, MeasureError):
            raise
        raise MeasureError(f"a malformed {tag} entry ({e})") from e


# --- where entries live ----------------------------------------------------------------------------------
_PUBLISHED: dict[str, dict] = {}  # key -> entry, from registered published measures files
_LISTENERS: list = []


def on_use(fn) -> None:
    """Call fn(key) whenever an entry is stored or read."""
    if fn not in _LISTENERS:
        _LISTENERS.append(fn)


def _used(key: str) -> None:
    for fn in _LISTENERS:
        fn(key)


def local_dir(root=None) -> Path:
    return Path(root or default_root()) / DIR


def _valid_key(key: str) -> bool:
    return isinstance(key, str) and len(key) == 64 and all(c in "0123456789abcdef" for c in key)


def _checked(entry, key: str) -> dict:
    """`entry` if it is a well-formed entry of `key` whose value decodes; else MeasureError."""
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        raise MeasureError("not a stored measurement of this key")
    gens = entry.get("generators", [])
    if not isinstance(gens, list) or not all(isinstance(g, str) for g in gens):
        raise MeasureError("malformed generator states")
    decode(entry["value"])
    return entry


def lookup(key: str, root=None) -> dict | None:
    """The stored entry of `key` (this machine's first, then the published table, whose entry is then kept
    here too), or None. A local entry that does not decode is removed (it is recomputed and stored again)."""
    if not _valid_key(key):
        return None
    path = local_dir(root) / f"{key}.json"
    try:
        entry = _checked(json.loads(path.read_text()), key)
        _used(key)
        return entry
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError):  # a corrupt local entry (MeasureError is a ValueError)
        try:
            path.unlink()
        except OSError:
            pass
    published = _PUBLISHED.get(key)
    if published is not None and not store(published, root):  # kept here too: the chapter opens offline later
        _used(key)
    return published


def entry_of(key: str, function: str, value, generators=(), wall_s: float | None = None) -> dict:
    """A stored measurement: the encoded value (MeasureError where it cannot be kept) and the states the
    given generators were left in (bytes, base64)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "key": key,
        "function": function,
        "value": encode(value),
        "generators": [base64.b64encode(bytes(s)).decode() for s in generators],
        "wall_s": None if wall_s is None else round(float(wall_s), 3),
    }


def store(entry: dict, root=None) -> bool:
    """Write `entry` into this machine's store (atomically); False, silently, where it cannot be (a read-only
    run cache, a value over MAX_ENTRY_BYTES): the measurement is then computed again next time."""
    key = entry["key"]
    text = json.dumps(entry, allow_nan=False)
    if len(text) > MAX_ENTRY_BYTES:
        return False
    folder = local_dir(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key[:8]}-", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        return False
    _used(key)
    return True


def publish_file(keys, path, root=None) -> dict | None:
    """Write the local entries of `keys` into one published measures file `path`; its index entry
    ({"file", "sha256", "size", "n", "missing"}), or None where no key has a local entry."""
    entries, missing = {}, []
    for k in dict.fromkeys(keys):
        try:
            entries[k] = _checked(json.loads((local_dir(root) / f"{k}.json").read_text()), k)
        except (OSError, ValueError, KeyError):
            missing.append(k)
    if not entries:
        return None
    path = Path(path)
    blob = (json.dumps({"format": FORMAT + "-published", "version": VERSION, "entries": entries}) + "\n").encode()
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, path)
    return {
        "file": path.name,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
        "n": len(entries),
        "missing": len(missing),
    }


def load_published(blob: bytes) -> int:
    """Add the entries of a published measures file (already checked against its index's sha256) to the
    published table; the number added. MeasureError where the file is not one (nothing is added)."""
    try:
        data = json.loads(blob)
    except ValueError as e:
        raise MeasureError(f"not JSON ({e})") from e
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT + "-published"
        or not isinstance(data.get("entries"), dict)
    ):
        raise MeasureError("not a published measures file")
    entries = {}
    for k, item in data["entries"].items():
        if not _valid_key(k):
            raise MeasureError(f"a malformed key {k!r}")
        entries[k] = _checked(item, k)
    _PUBLISHED.update(entries)
    return len(entries)


def forget_published() -> None:
    _PUBLISHED.clear()
