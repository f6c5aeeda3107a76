"""Resume states that travel between GPU leases (grokkit.repro.lease).

A lease cut by its budget leaves its unfinished runs' resume directories in the run cache: a stacked chunk's
root/ensemble-<digest>.partial (members.json names its keys) and a solo run's root/<key>.partial. They come
back as one tar stream, split into files the device tool brings back (at most 16 MiB each, 8 files and 64 MiB
in all with lease.json and the bundles beside them):

    OUT/resume-<item>.tar                      the whole stream, where it fits one file
    OUT/resume-<item>.tar.00, .01, ...         its consecutive pieces otherwise

described in the item's lease.json entry as {"files", "size", "sha256", "steps"} (`steps`: each solo run's
step). Home (`lease.merge`) keeps the files in results/gpu/resume/ once they are the stream lease.json
describes, and the next lease (`make lease` carries that folder) joins them, checks size and sha256 again and
unpacks plain files and folders only into its run cache; a state that fails a check is said and skipped (its
runs start again). Older entries name one tar file as a string.
"""

from __future__ import annotations

import math
import shutil
import tarfile
import tempfile
from pathlib import Path

import torch

from grokkit.engines.ensemble_resume import member_keys
from grokkit.store.runs import sha256_file
from grokkit.training.resume import replace_atomically

PART_BYTES = 15 * 2**20  # one file the device tool brings back (≤ 16 MiB), with room to spare
MAX_BYTES = 46 * 2**20  # one item's resume state: the tool brings back 64 MiB in all (a bundle part beside it)
OUT_MAX_FILES = 8  # what the device tool brings back from $OUT
OUT_MAX_BYTES = 64 * 2**20
OUT_RESERVE = 2 * 2**20  # lease.json's growth after the state is packed


def out_usage(out: Path) -> tuple[int, int]:
    """(files, bytes) already in OUT (the files the device tool would bring back; dot-files are scratch)."""
    files = [p for p in Path(out).iterdir() if p.is_file() and not p.name.startswith(".")] if Path(out).exists() else []
    return len(files), sum(p.stat().st_size for p in files)


def files_of(item_key: str, out: Path) -> list[Path]:
    """The resume files of `item_key` in `out` (its single tar, or its pieces)."""
    return sorted(Path(out).glob(f"resume-{item_key}.tar")) + sorted(Path(out).glob(f"resume-{item_key}.tar.[0-9]*"))


def clear(item_key: str, out: Path) -> None:
    for p in files_of(item_key, out):
        p.unlink()


def _dirs(root: Path, keys: set) -> list[Path]:
    """The resume directories holding any of the run keys: stacked chunks, then solo runs."""
    chunks = [p for p in sorted(Path(root).glob("ensemble-*.partial")) if set(member_keys(p)) & keys]
    solo = [Path(root) / f"{k}.partial" for k in sorted(keys) if (Path(root) / f"{k}.partial" / "state.pt").exists()]
    return chunks + solo


def _step(d: Path) -> int | None:
    try:
        return int(torch.load(d / "state.pt", map_location="cpu", weights_only=True)["step"])
    except Exception:  # an ensemble's state or an unreadable one: its step is not needed
        return None


def pack(root: Path, keys: set, out: Path, item_key: str, log=print, max_bytes: int = MAX_BYTES) -> dict | None:
    """The resume state of `keys` (cache keys) in `root` as OUT/resume-<item>.tar[.NN]; its description, or None
    (nothing to keep, or it does not fit what the device tool brings back: said)."""
    out = Path(out)
    clear(item_key, out)
    dirs = _dirs(root, keys)
    if not dirs:
        return None
    steps = {d.name[: -len(".partial")]: _step(d) for d in dirs if not d.name.startswith("ensemble-")}
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".resume-{item_key}.tar"
    with tarfile.open(tmp, "w") as tar:
        for d in dirs:
            tar.add(d, arcname=d.name)
    size, n = tmp.stat().st_size, max(1, math.ceil(tmp.stat().st_size / PART_BYTES))
    files, used = out_usage(out)
    room = min(max_bytes, OUT_MAX_BYTES - used - OUT_RESERVE)
    room_files = OUT_MAX_FILES - files - (0 if (out / "lease.json").exists() else 1)
    if size > room or n > room_files:
        log(
            f"{item_key}: resume state {size / 2**20:.1f} MiB in {n} file(s) does not fit what the lease brings back "
            f"({max(room, 0) / 2**20:.1f} MiB, {max(room_files, 0)} files left): not kept (its runs start again)"
        )
        tmp.unlink()
        return None
    sha = sha256_file(tmp)
    if n == 1:
        names = [tmp.replace(out / f"resume-{item_key}.tar").name]
    else:
        names = []
        with open(tmp, "rb") as f:
            for i in range(n):
                piece = f.read(PART_BYTES)
                target = out / f"resume-{item_key}.tar.{i:02d}"
                replace_atomically(target, lambda t, piece=piece: Path(t).write_bytes(piece))
                names.append(target.name)
        tmp.unlink()
    log(f"{item_key}: resume state {size / 2**20:.1f} MiB kept in {n} file(s)")
    return {"files": names, "size": size, "sha256": sha, "steps": steps}


def describe(info) -> dict | None:
    """An entry's "resume" as {"files", ...} (older entries: one file name)."""
    if not info:
        return None
    return {"files": [info]} if isinstance(info, str) else info


def _joined(info: dict, folder: Path, stage: Path) -> Path | None:
    """The stream of `info`'s files in `folder`, joined in `stage`, or None (a file missing)."""
    paths = [Path(folder) / Path(str(f)).name for f in info["files"]]
    if not paths or not all(p.exists() for p in paths):
        return None
    if len(paths) == 1:
        return paths[0]
    joined = Path(stage) / "resume.tar"
    with open(joined, "wb") as w:
        for p in paths:
            with open(p, "rb") as r:
                shutil.copyfileobj(r, w)
    return joined


def check(info: dict, path: Path) -> str | None:
    """Why the joined stream at `path` is not the one `info` describes (None: it is, or `info` names no hash)."""
    if "size" in info and path.stat().st_size != info["size"]:
        return f"{path.stat().st_size} bytes, not {info['size']}"
    if "sha256" in info and sha256_file(path) != info["sha256"]:
        return "its sha256 is not the one lease.json states"
    return None


def unpack(item_key: str, info, folders, root: Path, log=print) -> bool:
    """Restore an earlier lease's resume state of the item (described by `info`) from the first of `folders`
    holding all its files into the run cache `root`; whether one was restored."""
    info = describe(info)
    if info is None:
        return False
    for folder in folders:
        with tempfile.TemporaryDirectory(prefix="grokkit-resume-") as stage:
            path = _joined(info, Path(folder), Path(stage))
            if path is None:
                continue
            why = check(info, path)
            if why:
                log(f"{item_key}: the resume state in {folder} is not usable ({why}); its runs start again")
                return False
            with tarfile.open(path) as tar:
                tar.extractall(root, filter="data")  # plain files and folders only, inside root
            log(f"{item_key}: resuming from {folder} ({len(info['files'])} file(s))")
            return True
    return False


def keep(item_key: str, info, src: Path, dest: Path) -> bool:
    """Copy the item's resume files described by `info` from `src` to `dest` (its older files there removed),
    once they join into the stream `info` describes; whether they were kept. Raises ValueError when they do not."""
    info = describe(info)
    with tempfile.TemporaryDirectory(prefix="grokkit-resume-") as stage:
        path = _joined(info, Path(src), Path(stage)) if info else None
        if path is None:
            return False
        why = check(info, path)
        if why:
            raise ValueError(f"resume state of {item_key} in {src}: {why}; nothing of it is kept")
    Path(dest).mkdir(parents=True, exist_ok=True)
    clear(item_key, dest)
    for f in info["files"]:
        shutil.copyfile(Path(src) / Path(str(f)).name, Path(dest) / Path(str(f)).name)
    return True
