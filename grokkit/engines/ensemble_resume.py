"""Resume state of an interrupted ensemble (engines.ensemble), kept as training.resume keeps a solo run's.

An ensemble saves only at an evaluation step, after that step's finished members have left the stack.
Every evaluation starts a sampling block (grokkit.data.block_length), so a member's generator state
there fixes all its later batches and nothing of a block in progress needs saving. A directory holds
    members.json             the cache keys of the members it was started with; a member's id in the
                             directory is its position in this list (grokkit.engines.sweep reads it to find
                             the directory of an interrupted chunk)
    chunk-NNNNN.safetensors  append-only, one per save: the recorded tensors added since the last save
                             ('t<id>/<name>#step', 't<id>/<name>#value') and the final weights of the
                             members finished since then ('w<id>/<parameter>')
    state.pt                 everything else, tensors and plain types only (read with weights_only=True):
                             the stacked parameters and AdamW moments of the members still training, in
                             stack order, AdamW's step count, and per member its history, stop-rule
                             state, records, generator state, hook state_dicts and, once it finished,
                             its run info; and how many chunks it covers. Replaced atomically and last:
                             the commit point (later chunks are ignored and removed).
A state serves an ensemble whose members' keys all name members in it: the same ensemble, or the part
of it still to train (the rest finished and were cached; they are dropped). Any other state, or an
unreadable one, is discarded with a printed line, as grokkit.training.resume discards a stale run's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from grokkit.objective import METRICS
from grokkit.training.resume import discard, drop_uncommitted, replace_atomically
from grokkit.training.stopping import StopRule

__all__ = ["ResumeDir", "member_keys"]

FORMAT = 1
STACKS = ("params", "exp_avg", "exp_avg_sq")


def member_keys(path) -> list[str]:
    """The cache keys of the members a resume directory was started with ([] if none can be read)."""
    try:
        return json.loads((Path(path) / "members.json").read_text())
    except (OSError, ValueError):
        return []


class ResumeDir:
    """One Ensemble.run's resume directory. `ids[n]`: member n's id in the directory."""

    def __init__(self, path, keys, every_s: float):
        self.path, self.every_s = Path(path), every_s
        self.keys, self.ids = list(keys), list(range(len(keys)))
        self.n_chunks = 0
        self.weights_saved: set[int] = set()  # members whose final weights are in a chunk
        self.last, self.cost = time.perf_counter(), 0.0

    def due(self) -> bool:
        """`every_s` since the last save, and at least 9x the last save's duration (saving a large
        stack to a slow disk costs at most a tenth of the time)."""
        return time.perf_counter() - self.last >= max(self.every_s, 9 * self.cost)

    def resume(self, ens, histories, finished: dict) -> tuple[int, float] | None:
        """Restore `ens` (an Ensemble about to run) from the committed state: the stacks of the members
        still training, then every member's history, recordings, generator, stop rule and hooks; fill
        `histories` and `finished` (member -> Run). Returns (step, wall), or None to start afresh."""
        s = self._load()
        if s is None:
            return None
        d = ens.device
        src = torch.tensor([row for row, _ in s["order"]], dtype=torch.long)
        ens.active = [i for _, i in s["order"]]
        for name in STACKS:
            setattr(ens, name, {k: v.index_select(0, src).to(d) for k, v in s[name].items()})
        ens.t = s["t"].to(d)
        rows = torch.tensor(ens.active, dtype=torch.long, device=d)
        ens.labels = ens.labels.index_select(0, rows)
        ens.hp = {k: v.index_select(0, rows) for k, v in ens.hp.items()}
        for i, m in enumerate(s["members"]):
            ctx, histories[i] = ens.ctxs[i], m["history"]
            ctx.step, ctx.records, ctx.tensors = s["step"], m["records"], m["tensors"]
            ctx.flushed = {name: len(r["step"]) for name, r in ctx.tensors.items()}
            ctx.last_eval = {name: histories[i][name][-1] for name in METRICS}
            ens.gens[i].set_state(m["generator"])
            ens.stops[i] = StopRule(ens.configs[i], m["streak"], m["stop_at"], m.get("diverged_at"))
            for h, state in zip(ens.hooks[i], m["hooks"]):
                h.load_state_dict(state)
            if m["info"] is not None:
                finished[i] = ens.member_run(i, histories[i], m["weights"], m["info"])
        return s["step"], s["wall"]

    def _load(self) -> dict | None:
        """The committed state, its members matched to this ensemble's, or None (a stale or unreadable
        directory is cleared): step, wall, t, the stacks, `order` [(row in the saved stack, member)]
        in stack order, and `members` (one dict per member, with its tensors and weights)."""
        path = self.path
        if not path.exists():
            return None
        try:
            state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
            if state.get("format") != FORMAT:
                raise ValueError(f"format {state.get('format')}, not {FORMAT}")
            ids = _match(self.keys, state["keys"], state["members"])
            tensors, weights = _read_chunks(path, state["n_chunks"], set(ids))
        except Exception as e:
            discard(path, e, "ensemble resume state")
            return None
        drop_uncommitted(path, state["n_chunks"])
        self.keys, self.ids, self.n_chunks = state["keys"], ids, state["n_chunks"]
        members = [{**state["members"][i], "tensors": tensors.get(i, {}), "weights": weights.get(i)} for i in ids]
        for m in members:
            m["info"] = None if m["info"] is None else json.loads(m["info"])
        self.weights_saved = {n for n, m in enumerate(members) if m["info"] is not None}
        where = {i: n for n, i in enumerate(ids)}
        order = [(row, where[i]) for row, i in enumerate(state["rows"]) if i in where]
        return {**{k: state[k] for k in ("step", "wall", "t", *STACKS)}, "order": order, "members": members}

    def save(self, ens, step: int, histories, finished: dict, wall: float) -> None:
        """Commit `ens` after `step` (an evaluation step); `finished`: member -> Run."""
        t0, path = time.perf_counter(), self.path
        path.mkdir(parents=True, exist_ok=True)
        if not (path / "members.json").exists():
            replace_atomically(path / "members.json", lambda tmp: Path(tmp).write_text(json.dumps(self.keys)))
        chunk = {}
        for n, i in enumerate(self.ids):
            ctx = ens.ctxs[n]
            for name, r in ctx.tensors.items():
                start = ctx.flushed.get(name, 0)
                if start < len(r["step"]):
                    chunk[f"t{i}/{name}#step"] = torch.tensor(r["step"][start:])
                    chunk[f"t{i}/{name}#value"] = torch.stack(r["value"][start:])
            if n in finished and n not in self.weights_saved:
                chunk.update({f"w{i}/{k}": v.contiguous() for k, v in finished[n].weights.items()})
        if chunk:
            replace_atomically(path / f"chunk-{self.n_chunks:05d}.safetensors", lambda tmp: save_file(chunk, tmp))
            self.n_chunks += 1
        for ctx in ens.ctxs:
            ctx.flushed = {name: len(r["step"]) for name, r in ctx.tensors.items()}
        self.weights_saved |= set(finished)
        members = {}
        for n, i in enumerate(self.ids):
            stop, done = ens.stops[n], finished.get(n)
            members[i] = {
                "history": histories[n],
                "records": ens.ctxs[n].records,
                "generator": ens.gens[n].get_state(),
                "streak": stop.streak,
                "stop_at": stop.stop_at,
                "diverged_at": stop.diverged_at,
                "hooks": [] if done else [h.state_dict() for h in ens.hooks[n]],
                "info": json.dumps(done.info) if done else None,  # JSON: it holds str subclasses
            }
        state = {
            "format": FORMAT,
            "keys": self.keys,
            "step": step,
            "wall": wall,
            "n_chunks": self.n_chunks,
            "t": ens.t.cpu(),
            "rows": [self.ids[n] for n in ens.active],
            "members": members,
            **{s: {k: v.cpu() for k, v in getattr(ens, s).items()} for s in STACKS},
        }
        replace_atomically(path / "state.pt", lambda tmp: torch.save(state, tmp))  # the commit point
        self.last = time.perf_counter()
        self.cost = self.last - t0


def _match(keys, saved_keys, present) -> list[int]:
    """For each key, the id of a not yet matched saved member with that key (present: the saved ids)."""
    free: dict = {}
    for i in present:
        free.setdefault(saved_keys[i], []).append(i)
    ids = []
    for k in keys:
        if not free.get(k):
            raise ValueError(f"it holds no member {k}")
        ids.append(free[k].pop(0))
    return ids


def _read_chunks(path: Path, n_chunks: int, wanted: set) -> tuple[dict, dict]:
    """The committed chunks' tensor series {id: {name: {"step", "value"}}} and weights {id: {name: tensor}}."""
    tensors: dict[int, dict[str, dict[str, list]]] = {}
    weights: dict[int, dict[str, torch.Tensor]] = {}
    for c in range(n_chunks):
        with safe_open(path / f"chunk-{c:05d}.safetensors", "pt") as f:
            for k in f.keys():
                i, name = k[1:].split("/", 1)
                if int(i) not in wanted:
                    continue
                if k[0] == "w":
                    weights.setdefault(int(i), {})[name] = f.get_tensor(k)
                else:
                    name, part = name.rsplit("#", 1)
                    r = tensors.setdefault(int(i), {}).setdefault(name, {"step": [], "value": []})
                    v = f.get_tensor(k)
                    r[part].extend(v.tolist() if part == "step" else list(v))
    return tensors, weights
