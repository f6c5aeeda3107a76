"""Run bundles: saved runs in one file, to take them to another machine (`python -m grokkit bundle`).

A bundle is an uncompressed tar (a gzipped copy reads too) of exactly
    bundle.json     {"format": "grokkit-bundle", "version": 1, "grokkit": <version>,
                     "members": {"<key>/<file>": {"sha256": <hex>, "size": <bytes>}, ...}}
    <key>/<file>    per run: its directory's files (grokkit.runs.FILES) and manifest.json
and no other names, directories, links or devices. Import reads member by member (never `extractall`),
checks each name, size and sha256 against bundle.json, stages each run in `root/<key>.tmp-*`, loads it
(`Run.load`: its manifest) and renames it into place; a valid entry already there is left alone."""

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
from pathlib import Path

from grokkit._version import __version__
from grokkit.runs import FILES, CorruptRun, Run

__all__ = ["BundleError", "export_bundle", "export", "import_bundle"]

FORMAT, VERSION = "grokkit-bundle", 1
RUN_FILES = (*FILES, "manifest.json")
_KEY = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,127}")


def default_root() -> Path:
    """The run cache's root: $GROKKIT_RUNS as set at this call, else ~/.cache/grokkit/runs (cache imports it)."""
    return Path(os.environ.get("GROKKIT_RUNS") or Path.home() / ".cache" / "grokkit" / "runs")


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
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, (path, _, size) in [("bundle.json", (None, "", len(blob))), *members.items()]:
                info = tarfile.TarInfo(name)  # mtime 0, owner root: the same runs give the same bytes
                info.size, info.mode = size, 0o644
                with open(path, "rb") if path else io.BytesIO(blob) as src:
                    tar.addfile(info, src)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


export = export_bundle


def _check_members(tar: tarfile.TarFile) -> tuple[dict, dict]:
    """(bundle.json's listing, name -> TarInfo), once every member has the allowed shape and is listed."""
    found, index = {}, None
    for m in tar.getmembers():
        if m.name == "bundle.json" and index is None and m.isfile() and m.size <= 1 << 24:
            index = m
        elif _member_key(m.name) is None:
            raise BundleError(f"refusing member {m.name!r}: not one bundle.json or <key>/<{'|'.join(RUN_FILES)}>")
        elif not m.isfile() or m.name in found:
            raise BundleError(f"refusing member {m.name!r}: a link, device or directory, or a second copy")
        else:
            found[m.name] = m
    try:
        meta = json.loads(tar.extractfile(index).read()) if index else {}
        listed = meta["members"] if (meta["format"], meta["version"]) == (FORMAT, VERSION) else None
        ok = all(isinstance(v["sha256"], str) and type(v["size"]) is int for v in listed.values())
    except (ValueError, TypeError, KeyError, AttributeError):
        ok = False
    if not ok:
        raise BundleError(f"no bundle.json that is a {FORMAT} version {VERSION} index (members' sha256 and size)")
    whole = {f"{_member_key(n)}/{f}" for n in found for f in RUN_FILES}  # every file of every run
    for name in sorted((found.keys() ^ listed.keys()) | (whole - found.keys())):
        why = "is not listed in bundle.json" if name in found else "is missing (listed, or its run is incomplete)"
        raise BundleError(f"member {name!r} {why}")
    return listed, found


def _stage(tar: tarfile.TarFile, key: str, listed: dict, found: dict, root: Path) -> Path:
    """Write one run to `root/<key>.tmp-*`, checking every file and the run's own manifest; return it."""
    tmp = Path(tempfile.mkdtemp(prefix=key + ".tmp-", dir=root))
    try:
        for f in RUN_FILES:
            name, m, want = f"{key}/{f}", found[f"{key}/{f}"], listed[f"{key}/{f}"]
            if m.size != want["size"]:
                raise BundleError(f"member {name!r}: size {m.size}, bundle.json says {want['size']}")
            with tar.extractfile(m) as src, open(tmp / f, "wb") as dst:
                if _copy(src, dst)[0] != want["sha256"]:
                    raise BundleError(f"member {name!r}: sha256 does not match bundle.json")
        try:  # the files match bundle.json: a checksum failure here is the run's own manifest disagreeing
            Run.load(tmp)
        except CorruptRun as e:
            raise BundleError(f"member '{key}/manifest.json' disagrees with its run, or it does not load: {e}") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _valid(path: Path) -> bool:
    try:
        return path.is_dir() and Run.load(path) is not None
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


def import_bundle(src, root=None) -> list[str]:
    """Import the runs of the bundle at `src` (a path or a URL) into `root` (default: the run cache's).

    All or nothing: every run is checked and staged before any is moved into place. Returns the keys
    written; runs already valid in the root are left alone and not listed. Raises BundleError."""
    root, (path, downloaded), staged = Path(root or default_root()), _local(src), {}
    try:
        try:
            tar = tarfile.open(path, mode="r:*")
        except (OSError, tarfile.TarError) as e:
            raise BundleError(f"{src}: not a readable tar archive ({e})") from e
        with tar:
            listed, found = _check_members(tar)
            root.mkdir(parents=True, exist_ok=True)
            for key in sorted({_member_key(n) for n in found}):
                if not _valid(root / key):
                    staged[key] = _stage(tar, key, listed, found, root)
        for key, tmp in staged.items():
            if (root / key).is_dir() and not _valid(root / key):  # a corrupt entry is replaced
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
