"""`load_browser_run(path)`: a run trained in the page (`BrowserTrainer`'s download) as a `gk.Run`.

The download is JSON: {"format": "grokkit.browser-run", "version": 1, "config": a Config's fields,
"history": grokkit's (step; per-task train/test accuracy and loss), "records": {"fourier_power": the
embedding's power per evaluation}, "split": {"train_idx", "test_idx"}, "weights": {name: {"shape",
"data"}} in PyTorch's layout and names, "info": engine, backend, outcome, grok step, wall time}.
NaN and inf, which JSON cannot hold, arrive as null and are read as NaN (a diverged run).

The Run carries the hook key "browser-tfjs": its cache key is never a PyTorch run's of the same config
(the browser draws its own initial weights and batches), so `run.save(dir)` and `Run.load` keep it apart.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from grokkit import Config, Run, build_model, make_dataset

FORMAT, VERSION = "grokkit.browser-run", 1
HOOK_KEY = "browser-tfjs"
METRICS = ("train_acc", "test_acc", "train_loss", "test_loss")


class BrowserRunError(ValueError):
    """A file that is not a browser run grokkit can read (the message says what is wrong)."""


def _number(x) -> float:
    return math.nan if x is None else float(x)


def _read(source) -> dict:
    if isinstance(source, dict):
        return source
    is_text = isinstance(source, (str, bytes)) and source.lstrip()[:1] in ("{", b"{")
    text = source if is_text else Path(source).read_text()
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError) as e:
        raise BrowserRunError(f"not a JSON file or text: {e}") from e


def load_browser_run(source) -> Run:
    """`source`: the downloaded file's path, its text, or the parsed dict. Raises BrowserRunError."""
    d = _read(source)
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise BrowserRunError(f"not a browser run: 'format' must be {FORMAT!r}")
    if d.get("version") != VERSION:
        raise BrowserRunError(f"browser run version {d.get('version')!r}; this grokkit reads version {VERSION}")
    missing = [k for k in ("config", "history", "split", "weights", "info") if k not in d]
    if missing:
        raise BrowserRunError(f"the browser run lacks {missing}")
    try:
        config = Config.from_dict(d["config"])
    except (TypeError, ValueError) as e:
        raise BrowserRunError(f"config: {e}") from e
    h = d["history"]
    if not isinstance(h, dict) or not h.get("step") or any(len(h.get(m, ())) != len(h["step"]) for m in METRICS):
        raise BrowserRunError(f"history: 'step' and {', '.join(METRICS)} must be lists of one length")
    history = {"step": [int(s) for s in h["step"]]}
    history |= {m: [[_number(x) for x in row] for row in h[m]] for m in METRICS}
    data = make_dataset(config.ops, config.p, config.train_frac, config.split_seed, config.equals_token)
    split = tuple(torch.tensor(d["split"].get(k, []), dtype=torch.long) for k in ("train_idx", "test_idx"))
    if sorted(torch.cat(split).tolist()) != list(range(len(data.pairs))):
        raise BrowserRunError(f"split: train_idx and test_idx must split the {len(data.pairs)} pairs")
    weights = {}
    for name, w in d["weights"].items():
        values = torch.tensor([_number(x) for x in w["data"]], dtype=torch.float32)
        if values.numel() != math.prod(w["shape"]):
            raise BrowserRunError(f"weights: {name} holds {values.numel()} values for shape {w['shape']}")
        weights[name] = values.reshape(w["shape"])
    try:
        build_model(config).load_state_dict(weights)  # names and shapes: the model of this config
    except RuntimeError as e:
        raise BrowserRunError(f"weights are not this config's model: {e}") from e
    records = {
        name: {"step": [int(s) for s in r["step"]], "value": [[_number(x) for x in row] for row in r["value"]]}
        for name, r in (d.get("records") or {}).items()
    }
    info = {k: v for k, v in d["info"].items() if v is not None}
    info |= {"key": config.key(HOOK_KEY), "hooks": [HOOK_KEY], "final_step": int(d["info"].get("final_step") or 0)}
    info["final_step"] = info["final_step"] or history["step"][-1]
    if d["info"].get("diverged_at") is not None:
        info["diverged_at"] = int(d["info"]["diverged_at"])
    return Run(config, history, records, {}, split, weights, info)
