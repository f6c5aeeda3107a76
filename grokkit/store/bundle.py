"""Run bundles: saved runs in one file, to take them to another machine (`python -m grokkit bundle`).

A bundle is an uncompressed tar (a gzipped copy reads too) of exactly
    bundle.json     {"format": "grokkit-bundle", "version": 1, "grokkit": <version>,
                     "members": {"<key>/<file>": {"sha256": <hex>, "size": <bytes>}, ...}}
    <key>/<file>    per run: its directory's files (grokkit.store.runs.FILES) and manifest.json
and no other names, links or devices (a directory entry `<key>/` is allowed, and ignored).

Import never believes a bundle, and never calls `extractall`. It reads the member headers as they
stream and stops at the first one that breaks a rule or a cap, before anything is written: more than
MAX_MEMBERS members, a file over MAX_MEMBER_BYTES, or more than `max_bytes` in all (default
MAX_UNPACKED_BYTES; nor more than the root's free space). It then checks each member's size and sha256
against bundle.json while staging each run in `root/<key>.tmp-*`, loads the staged run (`Run.load`: its
manifest, and a run of its own config, grokkit.store.run_check), recomputes its cache key from its config.json
and refuses it under any other key, and only then renames it into place; a valid entry already there is
left alone, unless it is a trimmed copy (grokkit.store.published) and the bundle's leaves out less.
Every refusal (a tampered, truncated or oversized bundle, a pickle or a lying safetensors header posing
as a run file, an unwritable root) is one BundleError naming the member, and leaves the root as it was."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

from grokkit._version import __version__
from grokkit.store.rootdir import default_root, writable_root
from grokkit.store.runs import FILES, CorruptRun, Run

__all__ = ["BundleError", "export_bundle", "export", "import_bundle", "default_root", "MAX_UNPACKED_BYTES"]

FORMAT, VERSION = "grokkit-bundle", 1
RUN_FILES = (*FILES, "manifest.json")
_KEY = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,127}")
MAX_MEMBERS = 60_000  # files in one bundle: 10,000 runs
MAX_MEMBER_BYTES = 1 << 32  # 4 GiB per file (a 300k-step run's full trajectory is ~0.6 GB)
MAX_UNPACKED_BYTES = 1 << 36  # 64 GiB in all: import_bundle's default `max_bytes`
INDEX_BYTES = 1 << 24  # bundle.json


class BundleError(ValueError):
    """A bundle that cannot be written, or is refused on import (the message names the member)."""


def _member_key(name: str) -> str | None:
    """The run key of a well-formed member name `<key>/<run file>`, else None."""
    parts = name.split("/")
    return parts[0] if len(parts) == 2 and _KEY.fullmatch(parts[0]) and parts[1] in RUN_FILES else None


def _copy(src, dst=None) -> tuple[str, int]:  # (sha256, size) of `src`, copied to `dst` if given
    h, n = hashlib.sha256(), 0
    for chunk in iter(lambda: src.read(1 << 20), b""):
        h.update(chunk)
        n += len(chunk)
        if dst is not None:
            dst.write(chunk)
    return h.hexdigest(), n


def export_bundle(run_dirs, out) -> Path:
    """Write the run directories `run_dirs` (each verified with `Run.load` first) to the tar `out`, atomically."""
    members = {}
    for d in map(Path, run_dirs):
        if not _KEY.fullmatch(d.name) or f"{d.name}/manifest.json" in members:
            raise BundleError(f"{d}: {d.name!r} is not a run key, or that run is given twice")
        try:
            Run.load(d)
        except CorruptRun as e:
            raise BundleError(f"{d}: refusing to export a corrupt run ({e})") from e
        for f in RUN_FILES:
            with open(d / f, "rb") as fh:
                members[f"{d.name}/{f}"] = (d / f, *_copy(fh))
    if not members:
        raise BundleError("no runs to export")
    listing = {name: {"sha256": sha, "size": size} for name, (_, sha, size) in members.items()}
    index = {"format": FORMAT, "version": VERSION, "grokkit": __version__, "members": listing}
    blob = json.dumps(index, indent=1).encode()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".tmp-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as dst, tarfile.open(fileobj=dst, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, (path, _, size) in [("bundle.json", (None, "", len(blob))), *members.items()]:
                info = tarfile.TarInfo(name)  # mtime 0, owner root: the same runs give the same bytes
                info.size, info.mode = size, 0o644
                with open(path, "rb") if path else io.BytesIO(blob) as src:
                    tar.addfile(info, src)
        umask = os.umask(0)  # a plain file's mode: mkstemp's 0600 would hide a published bundle from a web server
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


export = export_bundle


def _scan(tar: tarfile.TarFile, max_bytes: int) -> dict:
    """name -> TarInfo of every file member, read header by header as the tar streams; the first member
    that breaks a rule or a cap is refused at once, before any member's data is read or written."""
    found, total = {}, 0
    for n, m in enumerate(tar, 1):
        if n > MAX_MEMBERS:
            raise BundleError(f"more than {MAX_MEMBERS:,} members (the cap, grokkit.store.bundle.MAX_MEMBERS)")
        if m.isdir() and _KEY.fullmatch(m.name.rstrip("/")):
            continue  # a run's directory entry, as `tar cf` writes one: nothing to stage
        if m.name != "bundle.json" and _member_key(m.name) is None:
            raise BundleError(f"refusing member {m.name!r}: not one bundle.json or <key>/<{'|'.join(RUN_FILES)}>")
        if not m.isfile() or m.name in found:
            raise BundleError(f"refusing member {m.name!r}: a link, device or directory, or a second copy")
        cap = INDEX_BYTES if m.name == "bundle.json" else MAX_MEMBER_BYTES
        if m.size > cap:
            raise BundleError(f"refusing member {m.name!r}: {m.size:,} bytes, over the cap of {cap:,} per file")
        total += m.size
        if total > max_bytes:
            raise BundleError(
                f"refusing member {m.name!r}: the bundle unpacks to more than {max_bytes:,} bytes "
                "(the cap: import_bundle's max_bytes, default grokkit.store.bundle.MAX_UNPACKED_BYTES)"
            )
        found[m.name] = m
    return found


def _index(tar: tarfile.TarFile, found: dict) -> dict:
    """bundle.json's listing (it leaves `found`), once it is an index that lists exactly the run files found."""
    index = found.pop("bundle.json", None)
    try:
        src = tar.extractfile(index) if index else None  # a file: _scan admits regular files only
        meta = json.loads(src.read()) if src is not None else {}
        listed = meta["members"] if (meta["format"], meta["version"]) == (FORMAT, VERSION) else None
        ok = listed is not None and all(
            isinstance(v["sha256"], str) and type(v["size"]) is int for v in listed.values()
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        ok = False
    if not ok or listed is None:
        raise BundleError(f"no bundle.json that is a {FORMAT} version {VERSION} index (members' sha256 and size)")
    whole = {f"{_member_key(n)}/{f}" for n in found for f in RUN_FILES}  # every file of every run
    for name in sorted((found.keys() ^ listed.keys()) | (whole - found.keys())):
        why = "is not listed in bundle.json" if name in found else "is missing (listed, or its run is incomplete)"
        raise BundleError(f"member {name!r} {why}")
    for name, m in found.items():
        if m.size != listed[name]["size"]:
            raise BundleError(f"member {name!r}: size {m.size}, bundle.json says {listed[name]['size']}")
    return listed


def _stage(tar: tarfile.TarFile, key: str, listed: dict, found: dict, root: Path) -> Path:
    """Write one run to `root/<key>.tmp-*`, checking every file, the run itself and its key; return it."""
    tmp = Path(tempfile.mkdtemp(prefix=key + ".tmp-", dir=root))
    try:
        for f in RUN_FILES:
            name = f"{key}/{f}"
            src = tar.extractfile(found[name])
            assert src is not None  # _scan admits regular files only
            with src, open(tmp / f, "wb") as dst:
                if _copy(src, dst)[0] != listed[name]["sha256"]:
                    raise BundleError(f"member {name!r}: sha256 does not match bundle.json")
        try:  # the files match bundle.json: a checksum failure here is the run's own manifest disagreeing
            run = Run.load(tmp)
        except CorruptRun as e:
            raise BundleError(f"member '{key}/manifest.json' disagrees with its run, or it does not load: {e}") from e
        if (
            run.info["key"] != key
        ):  # recomputed from its config.json and hook keys by Run.load (grokkit.store.run_check)
            raise BundleError(f"run {key!r}: its config.json is the run of key {run.info['key']}, not {key}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _left_out(path: Path) -> set:
    """The tensor series a stored run was published without (config.json's "trimmed"; checked by Run.load)."""
    try:
        return set(json.loads((path / "config.json").read_text()).get("trimmed", []))
    except (OSError, ValueError, AttributeError, TypeError):
        return set()


def _valid(path: Path) -> bool:
    try:
        return path.is_dir() and Run.load(path).info["key"] == path.name
    except CorruptRun:
        return False


def _local(src) -> tuple[Path, bool]:  # (local path, whether a temporary download) of a path or a URL
    s = str(src)
    scheme = urllib.parse.urlsplit(s).scheme if "://" in s else ""
    if not scheme:
        return Path(s), False
    if scheme not in ("file", "http", "https"):
        raise BundleError(f"{s}: only local paths and file://, http://, https:// URLs are read")
    fd, tmp = tempfile.mkstemp(prefix="grokkit-bundle-", suffix=".tar")
    try:
        with os.fdopen(fd, "wb") as dst, urllib.request.urlopen(s, timeout=60) as resp:
            shutil.copyfileobj(resp, dst, 1 << 20)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        raise BundleError(f"{s}: download failed ({e})") if isinstance(e, OSError) else e  # URLError is one
    return Path(tmp), True


def import_bundle(src, root=None, max_bytes: int | None = None) -> list[str]:
    """Import the runs of the bundle at `src` (a path or a URL) into `root` (default: the run cache's).

    All or nothing: every run is checked and staged before any is moved into place. Returns the keys
    written; runs already valid in the root are left alone and not listed. `max_bytes` caps what the
    bundle may unpack to (default MAX_UNPACKED_BYTES, read at the call; checked on the member headers, before
    anything is written). Raises BundleError."""
    max_bytes = MAX_UNPACKED_BYTES if max_bytes is None else max_bytes
    root, (path, downloaded) = Path(root or default_root()), _local(src)
    staged: dict[str, Path] = {}
    try:
        try:
            tar = tarfile.open(path, mode="r:*")
        except (OSError, tarfile.TarError, EOFError, zlib.error) as e:
            raise BundleError(f"{src}: not a readable tar archive ({e})") from e
        try:
            with tar:
                found = _scan(tar, max_bytes)
                listed = _index(tar, found)
                keys = {k for n in found if (k := _member_key(n)) is not None}  # all of them: _scan checked
                held: dict[str, set | None] = {k: _left_out(root / k) if _valid(root / k) else None for k in keys}
                todo = sorted(k for k in keys if held[k] is None or held[k])  # missing, corrupt or trimmed
                need = sum(found[f"{k}/{f}"].size for k in todo for f in RUN_FILES)
                if todo and need > shutil.disk_usage(writable_root(root)).free:
                    raise BundleError(f"its runs need {need:,} bytes, more than {root} has free")
                for key in todo:
                    staged[key] = _stage(tar, key, listed, found, root)
        except (tarfile.TarError, EOFError, zlib.error) as e:
            raise BundleError(f"{src}: a damaged or truncated tar archive ({type(e).__name__}: {e})") from e
        except OSError as e:  # an unwritable root (grokkit.store.rootdir), a full disk, an unreadable gzip stream
            raise BundleError(f"{src}: could not be read or staged into {root} ({e})") from e
        for key, tmp in list(staged.items()):  # a trimmed copy in the root gives way to a fuller one only
            local = held[key]
            if local is not None and not _left_out(tmp) < local:
                shutil.rmtree(staged.pop(key))
        for key, tmp in staged.items():
            if (root / key).is_dir():  # a corrupt entry, or a trimmed copy of the run, is replaced
                shutil.rmtree(root / key)
            try:
                os.replace(tmp, root / key)
            except OSError:  # unless another process imported the same run meanwhile: keep theirs
                if not _valid(root / key):
                    raise
        return list(staged)
    finally:
        for tmp in staged.values():
            shutil.rmtree(tmp, ignore_errors=True)
        if downloaded:
            path.unlink(missing_ok=True)
