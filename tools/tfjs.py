"""TensorFlow.js for the site: Chapter 1's in-page trainer (grokkit/widgets/browser.py) loads it from
the site's own `_static/tfjs/`, never from a CDN, so the published page trains offline.

    python tools/tfjs.py DIR     # write the files into DIR/tfjs (a notebook without internet: lib_url="DIR/tfjs/")

Three npm packages at the version the widget names (`TFJS_VERSION`), each sha512-checked against the
registry (tools/npm_fetch.py): the union bundle (`tf.min.js`: core, autodiff, the WebGL and CPU
backends), the WebAssembly backend (its loader and its three binaries: plain, SIMD, threaded SIMD)
and the WebGPU backend. About 3.1 MB; Apache-2.0 (the licence heads every file).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from npm_fetch import fetch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grokkit.widgets.browser import STATIC_DIR, TFJS_FILES, TFJS_VERSION  # noqa: E402

# `npm view <package>@4.22.0 dist.integrity`
INTEGRITY = {
    "@tensorflow/tfjs": "sha512-0TrIrXs6/b7FLhLVNmfh8Sah6JgjBPH4mZ8JGb7NU6WW+cx00qK5B"
    "cAZxw7NCzxj6N8MRAIfHq+oNbPUNG5VAg==",
    "@tensorflow/tfjs-backend-wasm": "sha512-/IYhReRIp4jg/wYW0OwbbJZG8ON87mbz0PgkiP3CdcACRSvUN0h8r"
    "vC0O3YcDtkTQtFWF/tcXq/KlVDyV49wmA==",
    "@tensorflow/tfjs-backend-webgpu": "sha512-lvIc7Af4Tl2BCdYp43iQmSCRq3asaKT0q2xaErphXiUZ+jqeB0bQa"
    "0ZvQys1Xatvto0U4/c90DVsHPfvkn5ftg==",
}
if TFJS_VERSION != "4.22.0":
    raise RuntimeError(f"tools/tfjs.py pins the integrity of 4.22.0, the widget asks for {TFJS_VERSION}")


def _wanted(path: str) -> bool:
    return path == "package.json" or (
        path.startswith("dist/") and path.count("/") == 1 and path.endswith((".min.js", ".wasm"))
    )


def install(static: Path) -> Path:
    """Copy TensorFlow.js into `static`/tfjs (the site's `_static`); returns that folder."""
    dest = Path(static) / STATIC_DIR
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for package, files in TFJS_FILES.items():
        src = fetch(package, TFJS_VERSION, INTEGRITY[package], _wanted) / "dist"
        for name in files:
            shutil.copy(src / name, dest / name)
    (dest / "README.txt").write_text(
        f"TensorFlow.js {TFJS_VERSION} ({', '.join(TFJS_FILES)}) from the npm registry, sha512-checked at build "
        "time by tools/tfjs.py. Apache License 2.0: https://www.apache.org/licenses/LICENSE-2.0\n"
    )
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(install(Path(sys.argv[1])))
