"""Values that cross the grader's sandbox wall: a check's inputs going in, a function's outputs coming out.

A value is stored as two files: `<stem>.json`, a tree of typed nodes, and `<stem>.safetensors`, the
tensors the tree names. Nothing is pickled and nothing is executed on the way back: `load` rebuilds
only plain values (None, bool, int, float, str, list, tuple, dict with str keys, tensors, numpy
arrays and scalars, grokkit Datasets), checks every size against a cap before reading, and raises
`BadValue` for anything else. What a student's function returns that is none of these is stored as
`Opaque` (its type name and a short repr), which equals nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from grokkit.data import Dataset

MAX_JSON_BYTES = 4 * 2**20  # the tree of one value file
MAX_TENSOR_BYTES = 512 * 2**20  # the tensors of one value file
MAX_NODES = 200_000
MAX_DEPTH = 32
_FIELDS = ("pairs", "inputs", "labels", "train_idx", "test_idx")


class BadValue(ValueError):
    """A value file that is missing, too large, malformed or names an unknown kind."""


@dataclass(frozen=True)
class Opaque:
    """What a function returned that cannot cross the wall: its type and a short repr. Equal to nothing."""

    type: str
    repr: str

    def __eq__(self, other):
        return False

    __hash__ = None

    def __repr__(self):
        return f"<{self.type}: {self.repr}>"


class _Encoder:
    def __init__(self, strict: bool):
        self.strict, self.tensors, self.nodes = strict, {}, 0

    def tensor(self, t: torch.Tensor) -> str:
        key = f"t{len(self.tensors)}"
        self.tensors[key] = t.detach().to("cpu").as_subclass(torch.Tensor).contiguous().clone()
        return key

    def __call__(self, x, depth: int = 0):
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            return self.opaque(x, "too deep or too large")
        if x is None or isinstance(x, (bool, str)):
            return {"t": "plain", "v": x}
        if isinstance(x, int):
            return {"t": "int", "v": str(int(x))}
        if isinstance(x, float):
            return {"t": "float", "v": repr(float(x))}
        if isinstance(x, torch.Tensor):
            return {"t": "tensor", "k": self.tensor(x)}
        if isinstance(x, np.ndarray) and x.dtype != object:
            return {"t": "ndarray", "k": self.tensor(torch.from_numpy(np.ascontiguousarray(x)))}
        if isinstance(x, np.generic) and not isinstance(x, np.object_):
            return {"t": "npscalar", "k": self.tensor(torch.from_numpy(np.asarray(x).reshape(1)))}
        if isinstance(x, (list, tuple)):
            return {"t": "tuple" if isinstance(x, tuple) else "list", "v": [self(v, depth + 1) for v in x]}
        if isinstance(x, dict) and all(isinstance(k, str) for k in x):
            return {"t": "dict", "v": {k: self(v, depth + 1) for k, v in x.items()}}
        if isinstance(x, Dataset):
            fields = {f: self.tensor(getattr(x, f)) for f in _FIELDS}
            return {"t": "dataset", "ops": list(x.ops), "p": int(x.p), "v": fields}
        return self.opaque(x, "")

    def opaque(self, x, why: str):
        if self.strict:
            raise BadValue(f"cannot store a {type(x).__name__} {why}".rstrip())
        try:
            text = repr(x)[:200]
        except BaseException:
            text = "(its repr failed)"
        return {"t": "opaque", "type": type(x).__name__[:80], "v": text}


def save(value, folder: str | Path, stem: str, strict: bool = True) -> None:
    """Write value as <stem>.json and <stem>.safetensors (each atomically). strict: refuse what cannot
    cross (the trusted side); else store it as Opaque (the student's outputs)."""
    enc = _Encoder(strict)
    tree = enc(value)
    folder = Path(folder)
    _atomic(folder / f"{stem}.safetensors", lambda p: save_file(enc.tensors, str(p)))
    _atomic(folder / f"{stem}.json", lambda p: p.write_text(json.dumps(tree)))


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def load(folder: str | Path, stem: str):
    """The value stored by `save`; BadValue when a file is missing, over its cap or malformed."""
    folder = Path(folder)
    jpath, tpath = folder / f"{stem}.json", folder / f"{stem}.safetensors"
    for path, cap in ((jpath, MAX_JSON_BYTES), (tpath, MAX_TENSOR_BYTES)):
        if path.is_symlink() or not path.is_file():
            raise BadValue(f"{path.name} is missing or not a plain file")
        if path.stat().st_size > cap:
            raise BadValue(f"{path.name} is larger than the cap of {cap // 2**20} MB")
    try:
        tree = json.loads(jpath.read_text())
        tensors = load_file(str(tpath))
    except Exception as e:  # JSON, recursion, I/O, or safetensors' own error type
        raise BadValue(f"unreadable ({type(e).__name__}: {str(e)[:120]})") from None
    return _Decoder(tensors)(tree)


class _Decoder:
    def __init__(self, tensors: dict):
        self.tensors, self.nodes = tensors, 0

    def tensor(self, key):
        if not isinstance(key, str) or key not in self.tensors:
            raise BadValue(f"names a tensor that is not there ({str(key)[:40]})")
        return self.tensors[key]

    def __call__(self, node, depth: int = 0):
        self.nodes += 1
        if depth > MAX_DEPTH + 1 or self.nodes > MAX_NODES + 1 or not isinstance(node, dict):
            raise BadValue("a malformed or too deep tree")
        kind, v = node.get("t"), node.get("v")
        if kind == "plain" and (v is None or isinstance(v, (bool, str))):
            return v
        if kind == "int" and isinstance(v, str) and len(v) <= 400:
            return int(v)
        if kind == "float" and isinstance(v, str) and len(v) <= 40:
            return float(v)  # repr of a float, nan and ±inf included
        if kind == "tensor":
            return self.tensor(node.get("k"))
        if kind == "ndarray":
            return self.tensor(node.get("k")).numpy()
        if kind == "npscalar":
            return self.tensor(node.get("k")).numpy()[0]
        if kind in ("list", "tuple") and isinstance(v, list):
            items = [self(x, depth + 1) for x in v]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict" and isinstance(v, dict):
            return {str(k): self(x, depth + 1) for k, x in v.items()}
        if kind == "dataset" and isinstance(v, dict) and set(v) == set(_FIELDS):
            ops = node.get("ops")
            if not (isinstance(ops, list) and all(isinstance(o, str) for o in ops) and isinstance(node.get("p"), int)):
                raise BadValue("a malformed dataset")
            return Dataset(ops=tuple(ops), p=node["p"], **{f: self.tensor(v[f]) for f in _FIELDS})
        if kind == "opaque":
            return Opaque(str(node.get("type"))[:80], str(v)[:200])
        raise BadValue(f"an unknown or malformed node ({str(kind)[:20]})")
