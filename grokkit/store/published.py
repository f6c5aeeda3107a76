"""The book's published runs: one run bundle per chapter and profile, served beside the site, so that a
reader's chapter loads the runs the book was built from instead of training them.

    <site>/runs/index.json                 {"format": "grokkit-published-runs", "version": 1,
                                            "bundles": {"<chapter>-<profile>": {"file", "sha256", "size",
                                                        "keys", "train_s", "dropped", "trimmed",
                                                        "budget_bytes"}}}
    <site>/runs/<chapter>-<profile>.tar    a run bundle (grokkit.store.bundle) of the runs that chapter reads
    <site>/runs/<chapter>-<profile>.measures.json
                                           the stored measurements the chapter used (grokkit.store.measures;
                                           the entry's "measures": {"file", "sha256", "size", "n"})

`publish(...)` writes a chapter's bundle and its index entry (`make book`, tools/build_book.py): of the
runs the chapter looked up, those that save the most training time per byte while they fit
`budget_bytes`; the rest are listed as `dropped` with their size and training time (the chapter trains
them). Given what the chapter read of each run (`reads`: the tensor series, recorded by its execution),
a run is published trimmed to those series, the others named in its config.json and in the entry's
`trimmed` ({key: [series left out]}); a chapter that reads more of a run replaces a trimmed copy from
its own bundle (`fuller`, grokkit.training.cache). Series that only memoized measurements read
(grokkit.book.memo) are not counted as read: their values are published instead, in the measures file.

`register(chapter, profile)` (a chapter's start) reads the index from the site (SITE_URL, or
$GROKKIT_SITE: another URL, a local folder, or "off") and remembers the bundle. `fetch(key, root)`
(grokkit.training.cache, when a run is missing) downloads it once (the measures file is read at
`register`, its size and sha256 checked the same way), with a progress bar; refuses it unless its
size and sha256 are the index's and it stays under MAX_DOWNLOAD_BYTES; and imports it with
grokkit.store.bundle.import_bundle (which recomputes every run's key from its config and checks every file).
Whatever goes wrong (offline, no such bundle, tampered, truncated, oversized) is said in one line and
the chapter trains as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokkit.bars import _tqdm
from grokkit.store import measures
from grokkit.store.bundle import BundleError, export_bundle, import_bundle
from grokkit.store.runs import Run

__all__ = [
    "SITE_URL",
    "site_url",
    "publish",
    "write_index",
    "bundles",
    "register",
    "fetch",
    "fuller",
    "registered",
    "forget",
]

SITE_URL = "https://grokkit-book.github.io/grokkit/"  # the Pages site of _config.yml's repository (sync_links)
FORMAT, VERSION = "grokkit-published-runs", 1
MAX_DOWNLOAD_BYTES = 1 << 30  # a published bundle larger than this is refused unread
INDEX_MAX_BYTES = 1 << 22
TIMEOUT_S = 10


def site_url() -> str | None:
    """Where the published runs are: $GROKKIT_SITE (a URL or a folder; "off": nowhere), else SITE_URL."""
    return _base(os.environ.get("GROKKIT_SITE", SITE_URL))


def _base(s: str) -> str | None:
    s = str(s).strip()
    if s.lower() in ("", "off", "none", "0"):
        return None
    if "://" not in s:
        s = Path(s).resolve().as_uri()
    return s if s.endswith("/") else s + "/"


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file())


def _train_s(run_dir: Path) -> float:
    """The training time a run's config.json states (0 where it states none)."""
    try:
        return float(json.loads((run_dir / "config.json").read_text()).get("wall_time_s") or 0)
    except (OSError, ValueError, TypeError):
        return 0.0


def _trimmed_copies(root: Path, keys, reads: dict, stage: Path) -> tuple[dict, dict]:
    """({key: directory to publish}, {key: [series left out]}): each run trimmed to the series `reads` names
    for it (a copy under `stage`), or its own directory where it holds nothing else."""
    dirs, trimmed = {}, {}
    for k in keys:
        run = Run.load(root / k)
        small = run.trim(set(reads.get(k) or ()))
        if len(small.trimmed) > len(run.trimmed):
            dirs[k], trimmed[k] = small.save(stage / k), small.trimmed
        else:
            dirs[k] = root / k
    return dirs, trimmed


def publish(name: str, keys, root, out_dir, budget_bytes: int, reads: dict | None = None, measure_keys=None) -> dict:
    """Write `out_dir/<name>.tar`: the runs `keys` of the cache `root` that fit `budget_bytes`, chosen by the
    training time they save per byte (a run's stated wall time over its size; read order breaks ties), and
    return its index entry: the keys in read order, the training seconds they save (`train_s`), the runs
    left out (`dropped`: over the budget, or not in `root`) with their size and training time, and the
    series left out of each run trimmed to what the chapter read (`trimmed`, where `reads` is given).
    With `measure_keys` (the stored measurements the chapter used), `out_dir/<name>.measures.json` and
    the entry's `measures`."""
    root, out_dir = Path(root), Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="grokkit-publish-") as stage:
        entry = _publish(name, list(dict.fromkeys(keys)), root, out_dir, budget_bytes, reads, Path(stage))
    if measure_keys:
        out_dir.mkdir(parents=True, exist_ok=True)
        made = measures.publish_file(measure_keys, out_dir / f"{name}.measures.json", root)
        if made is not None:
            entry["measures"] = made
    return entry


def _publish(name, order, root, out_dir, budget_bytes, reads, stage) -> dict:
    dropped = [
        {"key": k, "bytes": 0, "train_s": 0.0, "why": "not in the run cache"} for k in order if not (root / k).is_dir()
    ]
    present = [k for k in order if (root / k).is_dir()]
    dirs, trimmed = _trimmed_copies(root, present, reads, stage) if reads is not None else ({}, {})
    dirs = {k: dirs.get(k, root / k) for k in present}
    found = [(k, _dir_bytes(dirs[k]), _train_s(root / k)) for k in present]
    kept, total = set(), 0
    for key, n, t in sorted(found, key=lambda r: -r[2] / max(r[1], 1)):  # stable: read order within ties
        if total + n <= budget_bytes:
            kept.add(key)
            total += n
        else:
            dropped.append({"key": key, "bytes": n, "train_s": round(t, 1), "why": "over the size budget"})
    chosen = [k for k, _, _ in found if k in kept]
    entry: dict[str, Any] = {"file": f"{name}.tar", "sha256": None, "size": 0, "keys": chosen, "dropped": dropped}
    entry |= {"train_s": round(sum(t for k, _, t in found if k in kept), 1), "budget_bytes": int(budget_bytes)}
    entry["trimmed"] = {k: trimmed[k] for k in chosen if k in trimmed}
    if chosen:
        path = export_bundle([dirs[k] for k in chosen], out_dir / entry["file"])
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        entry |= {"sha256": h.hexdigest(), "size": path.stat().st_size}
    return entry


def write_index(out_dir, bundles: dict) -> Path:
    """`out_dir/index.json` of the published bundles ({name: entry}), written atomically."""
    out = Path(out_dir) / "index.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "version": VERSION, "bundles": bundles}, indent=1) + "\n")
    os.replace(tmp, out)
    return out


@dataclass
class Source:
    """A registered published bundle: where it is, what the index says of it, and whether it was used."""

    name: str
    url: str
    sha256: str
    size: int
    keys: frozenset
    trimmed: dict = field(default_factory=dict)  # key -> the series its copy of that run leaves out
    state: str = "registered"  # "imported" | "refused" after the first fetch
    imported: list = field(default_factory=list)


_SOURCES: dict[str, Source] = {}


def registered() -> list[Source]:
    return list(_SOURCES.values())


def forget() -> None:
    """Drop every registration, the indexes and the published measurements read (a chapter's start; tests)."""
    _SOURCES.clear()
    _INDEXES.clear()
    measures.forget_published()


_INDEXES: dict[str, dict | None] = {}


def _read(url: str, limit: int) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
        blob = resp.read(limit + 1)
    if len(blob) > limit:
        raise ValueError(f"larger than {limit:,} bytes")
    return blob


def _index_url(site: str | None) -> str | None:
    base = _base(site) if site else site_url()
    return None if base is None else urllib.parse.urljoin(base, "runs/index.json")


def bundles(site: str | None = None, log=print) -> dict | None:
    """{"<chapter>-<profile>": index entry} of the site's published runs (read once per site until `forget`);
    None, said in one line, where the site is off, unreachable or serves no index."""
    url = _index_url(site)
    if url is None:
        return None
    if url not in _INDEXES:
        try:
            index = json.loads(_read(url, INDEX_MAX_BYTES))
            if not isinstance(index, dict) or index.get("format") != FORMAT or not isinstance(index["bundles"], dict):
                raise ValueError("not an index of published runs")
            _INDEXES[url] = index["bundles"]
        except (OSError, ValueError, KeyError) as e:  # offline (URLError is an OSError), a bad index
            log(f"grokkit: published runs not available ({url}: {e}); the chapter trains its runs")
            _INDEXES[url] = None
    return _INDEXES[url]


def register(chapter: str, profile: str, site: str | None = None, log=print) -> Source | None:
    """Remember `chapter`'s published bundle at `profile` (from the site's runs/index.json) so that a run it
    holds loads from it instead of training; None (said in one line) where there is none or it is unreachable."""
    found = bundles(site, log)
    if found is None:
        return None
    name, url = f"{chapter}-{profile}", _index_url(site)
    entry = found.get(name)
    try:
        if not entry or not entry.get("keys"):
            log(f"grokkit: no published runs for {name} at {url}; the chapter trains its runs")
            return None
        file_url = urllib.parse.urljoin(url, entry["file"])
        trims = {str(k): [str(n) for n in v] for k, v in (entry.get("trimmed") or {}).items()}
        src = Source(name, file_url, str(entry["sha256"]), int(entry["size"]), frozenset(entry["keys"]), trims)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        log(f"grokkit: published runs for {name} not usable (its index entry: {e}); the chapter trains its runs")
        return None
    _SOURCES[name] = src
    if entry.get("measures") and url:
        _register_measures(name, url, entry["measures"], log)
    return src


def _register_measures(name: str, index_url: str, m, log) -> int:
    """Read a chapter's published measurements (size and sha256 as its index entry states); the number
    added, 0 (said in one line) where they are unreachable or refused: the chapter then computes them."""
    try:
        url, size, sha = urllib.parse.urljoin(index_url, str(m["file"])), int(m["size"]), str(m["sha256"])
        if size > measures.MAX_FILE_BYTES:
            raise ValueError(f"the index says {size:,} bytes, over the {measures.MAX_FILE_BYTES:,}-byte limit")
        blob = _read(url, size)
        if len(blob) != size:
            raise ValueError(f"{len(blob):,} bytes, not the {size:,} its index states (truncated)")
        if hashlib.sha256(blob).hexdigest() != sha:
            raise ValueError("its sha256 is not the index's (altered)")
        return measures.load_published(blob)
    except (OSError, ValueError, KeyError, TypeError) as e:  # MeasureError is a ValueError
        log(f"grokkit: published measurements of {name} not used ({e}); the chapter computes them")
        return 0


def _download(src: Source) -> Path:
    if src.size > MAX_DOWNLOAD_BYTES:
        raise BundleError(f"the index says {src.size:,} bytes, over the {MAX_DOWNLOAD_BYTES:,}-byte limit")
    fd, tmp = tempfile.mkstemp(prefix="grokkit-published-", suffix=".tar")
    h, n = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as dst, urllib.request.urlopen(src.url, timeout=TIMEOUT_S) as resp:
            bar = _tqdm(total=src.size, unit="B", unit_scale=True, desc=f"published runs {src.name}")
            try:
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    n += len(chunk)
                    if n > src.size:
                        raise BundleError(f"longer than the {src.size:,} bytes its index states")
                    h.update(chunk)
                    dst.write(chunk)
                    bar.update(len(chunk))
            finally:
                bar.close()
        if n != src.size:
            raise BundleError(f"{n:,} bytes, not the {src.size:,} its index states (truncated)")
        if h.hexdigest() != src.sha256:
            raise BundleError("its sha256 is not the index's (altered)")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _sources(key: str, than=None) -> list[Source]:
    """Registered, not yet used bundles that list `key`, fullest copy first; with `than` (the series a
    local copy leaves out), only those whose copy leaves out strictly less."""
    found = [s for s in _SOURCES.values() if key in s.keys and s.state == "registered"]
    if than is not None:
        found = [s for s in found if set(s.trimmed.get(key, ())) < set(than)]
    return sorted(found, key=lambda s: len(s.trimmed.get(key, ())))


def fuller(key: str, trimmed) -> bool:
    """Whether a registered bundle holds run `key` with less left out than `trimmed` (a local copy's)."""
    return bool(_sources(key, trimmed))


def fetch(key: str, root, than=None) -> bool:
    """Import the registered bundle that lists run `key` (the fullest copy; with `than`, one that leaves out
    less than that) into the cache `root` (once per bundle); True if the run came from it. A refusal is
    said in one line, and the bundle is not tried again."""
    src = next(iter(_sources(key, than)), None)
    if src is None:
        return False
    try:
        path = _download(src)
        try:
            src.imported = import_bundle(path, root=root, max_bytes=MAX_DOWNLOAD_BYTES)
        finally:
            path.unlink(missing_ok=True)
        src.state = "imported"
        print(f"grokkit: {len(src.imported)} published run(s) of {src.name} imported into {root}")
        return True
    except (BundleError, OSError) as e:
        src.state = "refused"
        print(f"grokkit: published runs {src.name} refused ({e}); training instead")
        return False
