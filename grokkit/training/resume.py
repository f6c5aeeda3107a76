"""Resume state of an interrupted run.

A resume directory holds state.pt (model, optimiser, generator, counters, records: tensors and
plain types only, read back with weights_only=True) and the recorded tensor series in append-only
chunk files; state.pt is replaced atomically and names how many chunks it covers, so a run killed
mid-write resumes from the last committed state and never from a half-written one. Every write goes
through a temporary file of its own (`replace_atomically`): two writers never share one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

__all__ = ["save_state", "load_state", "discard", "drop_uncommitted", "replace_atomically"]


def replace_atomically(target: Path, write) -> None:
    """`write(tmp)` to a fresh temporary file beside `target`, then rename it over `target`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_state(path, key, model, opt, gen, ctx, history, stop, wall, hooks) -> None:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    chunk = {}
    for name, r in ctx.tensors.items():
        start = ctx.flushed.get(name, 0)
        if start < len(r["step"]):
            chunk[f"{name}#step"] = torch.tensor(r["step"][start:])
            chunk[f"{name}#value"] = torch.stack(r["value"][start:])
    if chunk:
        replace_atomically(path / f"chunk-{ctx.n_chunks:05d}.safetensors", lambda tmp: save_file(chunk, tmp))
        ctx.n_chunks += 1
    ctx.flushed = {name: len(r["step"]) for name, r in ctx.tensors.items()}
    state = {
        "key": key,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "generator": gen.get_state(),
        "step": ctx.step,
        "history": history,
        "streak": stop.streak,
        "stop_at": stop.stop_at,
        "diverged_at": stop.diverged_at,
        "wall": wall,
        "records": ctx.records,
        "hooks": [h.state_dict() for h in hooks],
        "n_chunks": ctx.n_chunks,
    }
    # the commit point: chunks beyond n_chunks are ignored
    replace_atomically(path / "state.pt", lambda tmp: torch.save(state, tmp))


def load_state(path, key):
    """The saved state in `path`, or None (a stale or unreadable directory is cleared)."""
    if path is None or not Path(path).exists():
        return None
    path = Path(path)
    try:
        state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
        if state["key"] != key:
            raise ValueError(f"it belongs to run {state['key']}, not {key}")
        tensors = {}
        for i in range(state["n_chunks"]):
            for k, v in load_file(path / f"chunk-{i:05d}.safetensors").items():
                name, part = k.rsplit("#", 1)
                r = tensors.setdefault(name, {"step": [], "value": []})
                r[part].extend(v.tolist() if part == "step" else list(v))
    except Exception as e:
        discard(path, e)
        return None
    drop_uncommitted(path, state["n_chunks"])
    state["tensors"] = tensors
    return state


def discard(path: Path, error: Exception, what: str = "resume state") -> None:
    """Clear an unusable resume directory, saying why when it held a state."""
    if (path / "state.pt").exists():
        print(f"grokkit: discarding unusable {what} in {path} ({error})")
    shutil.rmtree(path, ignore_errors=True)


def drop_uncommitted(path: Path, n_chunks: int) -> None:
    """Delete the chunks written after the last state.pt (the commit point names how many it covers)."""
    for extra in path.glob("chunk-*.safetensors"):
        if int(extra.stem.split("-")[1]) >= n_chunks:
            extra.unlink(missing_ok=True)
