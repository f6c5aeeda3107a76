"""Saved runs: the Run object and its directory format (the cache keyed by config: grokkit.training.cache).

A run directory holds
    config.json         the config, hook keys, cache key, library/torch versions, git commit, device
    metrics.json        every evaluation (per-task train/test accuracy and loss) and scalar records
    split.safetensors   train/test pair indices
    weights.safetensors final parameters
    trajectory.safetensors   recorded tensors (attention snapshots, theta checkpoints, ...) + steps
    manifest.json       sha256 of every file above; written last
A run published with a chapter may come trimmed: tensor series no cell of that chapter reads are left
out and named in config.json's "trimmed" (grokkit.store.published). Reading one trains the run here in
full where the run cache said how (`restore_full`: a copy loaded by `load_or_train` or `run_many`, which
know its hooks), and raises TrimmedRecord otherwise. Every read of a tensor series is told to the
`on_tensor_read` callbacks (a chapter records which series it reads, so that the book publishes exactly
those), except reads inside `reads_quiet()` (a measurement whose value is published: grokkit.book.memo).

Loading never unpickles code (JSON + safetensors only). Writes go to a temporary directory that is
renamed into place, so a run killed mid-write leaves no directory that looks finished; a directory
whose files do not match its manifest, or do not hold a run of the config they store (unknown fields,
no history, weights of another shape, another cache key: grokkit.store.run_check), is reported as corrupt
(CorruptRun) and retrained by `load_or_train`; a loader never sees an internal parse error.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from grokkit.config import Config
from grokkit.data import make_dataset
from grokkit.geometry.onset import grok_step
from grokkit.model import build_model
from grokkit.store.run_check import check_run

FILES = ("config.json", "metrics.json", "split.safetensors", "weights.safetensors", "trajectory.safetensors")


class CorruptRun(RuntimeError):
    """A run directory whose files are missing or do not match their manifest."""


class TrimmedRecord(KeyError):
    """A tensor series this run was published without (the chapter it was published for does not read it)."""

    def __str__(self) -> str:
        return str(self.args[0])


_ON_READ: list = []
_QUIET = contextvars.ContextVar("grokkit_quiet_reads", default=False)
_RESTORES = [0]  # how many trimmed runs have been trained in full in this process (grokkit.book.memo reads it)


def on_tensor_read(fn) -> None:
    """Call fn(run_key, series_name) whenever a run's tensor series is read (grokkit.book.prose records them)."""
    _ON_READ.append(fn)


@contextlib.contextmanager
def reads_quiet():
    """Reads of tensor series inside are not told to `on_tensor_read` (a published measurement's reads:
    the chapter publishes its value, so the runs it read need not carry those series)."""
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


def restores() -> int:
    """How many trimmed runs this process has trained in full (`Run.restore_full`)."""
    return _RESTORES[0]


class _Tensors(dict):
    """A run's tensor series ({name: {"step", "value"}}) that tells `on_tensor_read` what is read, and names
    a series the run was published without instead of a bare KeyError."""

    def __init__(self, data, owner: Run):
        super().__init__(dict.items(data))
        self._owner = owner

    def _read(self, name):
        if _QUIET.get():
            return
        for fn in _ON_READ:
            fn(self._owner.info.get("key"), name)

    def __getitem__(self, name):
        if name in self._owner.trimmed and not dict.__contains__(self, name):
            if self._owner.restore_full(name):
                return self._owner.tensors[name]
            key = self._owner.info.get("key")
            raise TrimmedRecord(
                f"run {key} was published without its {name!r} series (the chapter it came with does not "
                "read it): a chapter that reads it replaces it from its own published runs; or delete the "
                f"run's directory (gk.run_dir) and load it again to train it here in full"
            )
        self._read(name)
        return dict.__getitem__(self, name)

    def get(self, name, default=None):
        return self[name] if name in self or name in self._owner.trimmed else default

    def values(self):
        return [self[n] for n in self]

    def items(self):
        return [(n, self[n]) for n in self]


WEIGHTS = "weights"  # in a run's "trimmed" list: published without its final weights (metrics only)


class _Weights(dict):
    """A run's final weights ({name: tensor}); for a run published without them (WEIGHTS in its "trimmed"),
    reading them trains the run in full where the run cache said how, else raises TrimmedRecord."""

    def __init__(self, data, owner: Run):
        super().__init__(dict.items(data))
        self._owner = owner

    def _need(self):
        if WEIGHTS in self._owner.trimmed and not dict.__len__(self):
            if not self._owner.restore_full(WEIGHTS):
                raise TrimmedRecord(
                    f"run {self._owner.info.get('key')} was published without its final weights (metrics only: "
                    "its curves); delete the run's directory (gk.run_dir) and load it again to train it here"
                )
            return self._owner.weights
        return self

    def __getitem__(self, name):
        w = self._need()
        return dict.__getitem__(w, name)

    def __iter__(self):
        return dict.__iter__(self._need())

    def keys(self):
        return dict.keys(self._need())

    def values(self):
        return dict.values(self._need())

    def items(self):
        return dict.items(self._need())


@dataclass
class Run:
    """Everything one training run produced. Build with `train` or `Run.load`."""

    config: Config
    history: dict  # "step": [..], "train_acc"/"test_acc"/"train_loss"/"test_loss": [[per task] per eval]
    records: dict  # scalar series: name -> {"step": [...], "value": [...]}
    tensors: dict  # tensor series: name -> {"step": LongTensor (n,), "value": Tensor (n, ...)}
    split: tuple  # (train_idx, test_idx) LongTensors
    weights: dict  # final parameters, name -> tensor
    info: dict = field(default_factory=dict)  # key, hooks, versions, device, wall_time_s, final_step, diverged_at

    def __post_init__(self):
        self.tensors = _Tensors(self.tensors, self)
        self.weights = _Weights(self.weights, self)

    @property
    def trimmed(self) -> list[str]:
        """The tensor series this run was published without (grokkit.store.published), else []."""
        return list(self.info.get("trimmed", []))

    def restore_full(self, wanted: str | None = None) -> bool:
        """Make a trimmed copy whole: train the run here in full (the run cache's callback, set where it
        loaded the copy and knew its hooks) and take its data in place. False where this run is not
        trimmed or no callback was set (then reading a trimmed series raises TrimmedRecord)."""
        full = getattr(self, "_full", None)
        if not self.trimmed or full is None:
            return False
        print(
            f"grokkit: run {self.info.get('key')} was published without "
            + ("its final weights" if wanted == WEIGHTS else f"its {wanted or 'trimmed'!r} series")
            + ", which are read here (a cell changed, or a measurement whose published value is not for your "
            "grokkit or inputs); training the run here in full"
        )
        run = full()
        for f in ("config", "history", "records", "split", "info"):
            setattr(self, f, getattr(run, f))
        self.tensors = _Tensors(dict(dict.items(run.tensors)), self)
        self.weights = _Weights(dict(dict.items(run.weights)), self)
        self.__dict__.pop("_full", None)
        self.__dict__.pop("_digest", None)
        _RESTORES[0] += 1
        return True

    def digest(self) -> str:
        """sha256 of the run's key and final weights: two runs with one digest hold the same trained bits
        (a run retrained elsewhere under the same key may differ in its last bits, and so in its digest)."""
        if "_digest" not in self.__dict__:
            h = hashlib.sha256(str(self.info.get("key")).encode())
            weights = dict(dict.items(self.weights))  # none, for a run published without them
            h.update(b"weights trimmed" if WEIGHTS in self.trimmed else b"")
            for name in sorted(weights):
                t = weights[name].detach().cpu().contiguous()
                h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
                h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
            self.__dict__["_digest"] = h.hexdigest()
        return self.__dict__["_digest"]

    def trim(self, keep, weights: bool = True) -> Run:
        """A copy holding only the tensor series in `keep` (what a chapter reads), the rest named as trimmed;
        `weights=False`: without the final weights too (metrics only: WEIGHTS named as trimmed)."""
        kept = {n: t for n, t in dict.items(self.tensors) if n in keep}
        gone = set(self.trimmed) | (set(dict.keys(self.tensors)) - set(kept)) | (set() if weights else {WEIGHTS})
        info = {k: v for k, v in self.info.items() if k != "trimmed"} | ({"trimmed": sorted(gone)} if gone else {})
        final = dict(dict.items(self.weights)) if weights else {}
        return Run(self.config, self.history, self.records, kept, self.split, final, info)

    # --- what a notebook asks of a run ---
    @property
    def ops(self) -> tuple[str, ...]:
        return self.config.ops

    @property
    def steps(self) -> list[int]:
        return self.history["step"]

    def curve(self, metric: str = "test_acc", task: int | str = 0) -> tuple[list[int], list[float]]:
        """(steps, values) of one metric for one task (index or operation name)."""
        t = self.ops.index(task) if isinstance(task, str) else task
        return self.history["step"], [row[t] for row in self.history[metric]]

    def grok_step(self, threshold: float = 0.98, patience: int = 3, task: int | str | None = None):
        """Step at which test accuracy first reached `threshold` on `patience` consecutive evals.

        Returns the step of the last of those evaluations (the papers' t98 with 0.98/3; t90 is
        threshold=0.9, patience=1), None if never. `task=None` returns one value per task; for the
        multi-task "all tasks" time take the max over them.
        """
        if task is None:
            return [self.grok_step(threshold, patience, t) for t in range(len(self.ops))]
        steps, acc = self.curve("test_acc", task)
        return grok_step(steps, acc, threshold, patience)

    @property
    def diverged_at(self) -> int | None:
        """The step at which a loss became NaN or inf and training stopped (grokkit.training.stopping), else None."""
        return self.info.get("diverged_at")

    @property
    def grokked(self) -> bool:
        c = self.config
        return c.stop_threshold is not None and all(
            s is not None for s in self.grok_step(c.stop_threshold, c.stop_patience)
        )

    def final(self, metric: str = "test_acc") -> list[float]:
        return self.history[metric][-1]

    def series(self, name: str) -> tuple[list[int], list]:
        r = self.records[name]
        return r["step"], r["value"]

    def trajectory(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(steps, stacked values) of a recorded tensor series, e.g. 'theta' or 'attn/L0.W_Q'."""
        t = self.tensors[name]
        return t["step"], t["value"]

    @property
    def stop_step(self) -> int | None:
        """The step at which the stop criterion was met (None if never): a run with
        `steps_after_stop` trains past it (the lead-time protocol)."""
        c = self.config
        if c.stop_threshold is None:
            return None
        steps = self.grok_step(c.stop_threshold, c.stop_patience)
        return None if any(s is None for s in steps) else max(steps)

    def attention_trajectory(self, until: int | str | None = "stop") -> tuple[torch.Tensor, dict]:
        """(steps, {(layer, "W_Q"...): (S, d, d)}) from the attention snapshots.

        until: "stop" (default) keeps the snapshots up to the stop criterion's step, as the papers'
        trajectory PCA (M1: "from init to the early-stop step"), so the 1,000 steps a lead-time run
        trains past it do not enter; an int keeps steps <= it; None keeps all."""
        names = [n for n in self.tensors if n.startswith("attn/")]
        if not names and any(n.startswith("attn/") for n in self.trimmed):
            self.tensors[next(n for n in self.trimmed if n.startswith("attn/"))]  # trains it in full, or raises
            names = [n for n in self.tensors if n.startswith("attn/")]
        if not names:
            raise KeyError("this run recorded no attention snapshots (snapshot_every=0)")
        steps = self.tensors[names[0]]["step"]
        last = self.stop_step if until == "stop" else until
        keep = slice(None) if last is None else slice(0, int((steps <= last).sum()))
        out = {}
        for n in names:
            layer, mat = n[len("attn/L") :].split(".")
            out[(int(layer), mat)] = self.tensors[n]["value"][keep]
        return steps[keep], out

    def model(self, device="cpu"):
        """The final model, rebuilt from the stored config and weights."""
        m = build_model(self.config)
        m.load_state_dict(dict(self.weights.items()))  # a run published without them trains here first
        return m.to(device)

    def dataset(self, device="cpu"):
        """The run's dataset with its stored split."""
        c = self.config
        return make_dataset(c.ops, c.p, c.train_frac, c.split_seed, c.equals_token, split=self.split).to(device)

    def summary(self) -> str:
        g = self.grok_step(self.config.stop_threshold or 0.98, self.config.stop_patience)
        parts = [f"{op}: grok step {s if s is not None else 'not reached'}" for op, s in zip(self.ops, g)]
        t, d = self.info.get("wall_time_s"), self.diverged_at
        if d is not None:
            parts.append(f"diverged at step {d} (a loss became NaN or inf; training stopped there)")
        return "; ".join(parts) + (f" (final step {self.steps[-1]}, {t:.1f} s)" if t else "")

    # --- persistence ---
    def save(self, path) -> Path:
        """Write atomically: a temporary sibling directory renamed into place."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=path.name + ".tmp-", dir=path.parent))
        try:
            _write_json(tmp / "config.json", {"config": self.config.to_dict(), **self.info})
            _write_json(tmp / "metrics.json", {"history": self.history, "records": self.records})
            save_file(
                {"train_idx": self.split[0].contiguous(), "test_idx": self.split[1].contiguous()},
                tmp / "split.safetensors",
            )
            final = dict.items(self.weights)  # none, for a run published without them (not a read)
            save_file({k: v.detach().cpu().contiguous() for k, v in final}, tmp / "weights.safetensors")
            flat = {}
            for name, t in dict.items(self.tensors):  # writing is not reading (on_tensor_read)
                flat[f"{name}#step"] = t["step"].contiguous()
                flat[f"{name}#value"] = t["value"].contiguous()
            save_file(flat, tmp / "trajectory.safetensors")
            _write_json(tmp / "manifest.json", {f: sha256_file(tmp / f) for f in FILES})
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    @classmethod
    def load(cls, path, verify: bool = True) -> Run:
        """Load a run directory; raise CorruptRun if a file is missing, fails its checksum, or does not hold a
        run of its config (grokkit.store.run_check: fields, history, split, weight shapes, the cache key)."""
        path = Path(path)
        manifest_path = path / "manifest.json"
        if not manifest_path.exists():
            raise CorruptRun(f"{path}: no manifest.json (unfinished or not a run directory)")
        try:
            manifest = json.loads(manifest_path.read_text())
            if verify:
                for f in FILES:
                    if sha256_file(path / f) != manifest.get(f):
                        raise CorruptRun(f"{path / f}: checksum does not match the manifest")
            info = json.loads((path / "config.json").read_text())
            metrics = json.loads((path / "metrics.json").read_text())
            split = load_file(path / "split.safetensors")
            weights = load_file(path / "weights.safetensors")
            flat = load_file(path / "trajectory.safetensors")
            tensors: dict[str, dict[str, torch.Tensor]] = {}
            for k, v in flat.items():
                name, part = k.rsplit("#", 1)
                tensors.setdefault(name, {})[part] = v
            config = Config.from_dict(info.pop("config"))
            check_run(config, info, metrics, split, weights, tensors)
        except CorruptRun:
            raise
        except (OSError, ValueError, TypeError, KeyError, AttributeError, SafetensorError) as e:
            raise CorruptRun(f"{path}: {e}") from e  # unreadable JSON or safetensors, or not a run of its config
        return cls(
            config,
            metrics["history"],
            metrics["records"],
            tensors,
            (split["train_idx"], split["test_idx"]),
            weights,
            info,
        )


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1, default=_jsonable))


def _jsonable(x):
    if isinstance(x, torch.Tensor):
        return x.tolist()
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"cannot write {type(x)} to JSON")


def sha256_file(path: Path) -> str | None:
    """sha256 of a file's bytes (read in 1 MiB chunks), None where it does not exist."""
    if not path.exists():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
