"""Sentences with measured numbers, and the values a chapter records for tests and the scorecard.

Every number in a chapter's prose comes from code: `say(f"... {value} ...")` renders Markdown under
the cell (a long reading is a template: `say(TEMPLATE, name=value)` fills `{name:.2f}`), `record(name,
value)` keeps the value, and `save_records(metrics_path)` writes them with the run-cache keys the
chapter looked up (its runs' provenance), per run the tensor series it read (what the book publishes of
that run: grokkit.store.published), and the keys of the stored measurements it used (grokkit.book.memo:
what the book publishes beside its runs).
"""

from __future__ import annotations

import json
import os
import time

from grokkit.store.measures import on_use
from grokkit.store.runs import on_tensor_read
from grokkit.training.cache import on_lookup

_RECORDED: dict = {}
_T0 = time.perf_counter()
USED_KEYS: list[str] = []  # cache keys this process looked up, in order (provenance of chapter numbers)
READ_TENSORS: dict[str, set] = {}  # run key -> the tensor series this process read of it
USED_MEASURES: list[str] = []  # keys of the stored measurements this process used (grokkit.book.memo)


def _used(key: str) -> None:
    if key not in USED_KEYS:
        USED_KEYS.append(key)


def _read(key: str | None, name: str) -> None:
    if key:
        READ_TENSORS.setdefault(key, set()).add(name)


def _measured(key: str) -> None:
    if key not in USED_MEASURES:
        USED_MEASURES.append(key)


on_lookup(_used)
on_tensor_read(_read)
on_use(_measured)


def fill(template: str, /, **fields) -> str:
    """A prose template filled in: its lines joined into one paragraph (a blank line keeps a paragraph
    break), then `{name:spec}` fields filled from `fields` (str.format). A missing field is an error."""
    paragraphs = [" ".join(line.strip() for line in p.splitlines() if line.strip()) for p in template.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p).format(**fields)


def say(text: str, /, **fields):
    """A sentence of the book whose numbers were measured: rendered as Markdown under the cell. With
    `fields`, `text` is a template (`fill`): the reading stays readable as prose, its numbers named."""
    from IPython.display import (
        Markdown,
    )  # only a chapter renders prose (a GPU lease imports this module without IPython)

    return Markdown(fill(text, **fields) if fields else text)


def record(name: str, value) -> None:
    """Keep a value the chapter measured (tests and the scorecard read them)."""
    _RECORDED[name] = _plain(value)


def _plain(v):
    """JSON-safe: NaN becomes None, tensors and arrays become lists."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def save_records(path: str | None) -> dict:
    """Write everything recorded (plus the elapsed time) as JSON to `path`, if given."""
    _RECORDED["elapsed_s"] = round(time.perf_counter() - _T0, 1)
    _RECORDED["run_keys"] = list(USED_KEYS)
    _RECORDED["run_tensors"] = {k: sorted(READ_TENSORS.get(k, ())) for k in USED_KEYS}
    _RECORDED["measure_keys"] = list(USED_MEASURES)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(_RECORDED, f, indent=1, default=str)
    return dict(_RECORDED)


def fmt_step(step) -> str:
    return "did not grok" if step is None else f"{step:,}"


def md_table(header, rows) -> str:
    """A Markdown table (pass the result to `say`); cells are used as given (format them first)."""
    line = lambda cells: "| " + " | ".join(str(c) for c in cells) + " |"
    return "\n".join([line(header), line(["---"] * len(header))] + [line(r) for r in rows])
