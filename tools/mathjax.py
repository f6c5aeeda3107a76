"""MathJax for the site. Local builds serve MathJax from the site itself (math renders offline);
the published site (`make book MATHJAX=cdn`, the deploy workflow) uses the CDN, Sphinx's default.

MathJax 3.2.2 from the npm registry (sha512-checked, tools/npm_fetch.py): the combined
`tex-mml-chtml.js` (the component Sphinx's CDN default also loads), the TeX extensions it may
autoload, and the CHTML fonts; the speech-rule engine and the SVG output are left out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from npm_fetch import fetch

VERSION = "3.2.2"
INTEGRITY = "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
ENTRY = "tex-mml-chtml.js"


def _wanted(path: str) -> bool:
    return path in (f"es5/{ENTRY}", "LICENSE") or path.startswith(
        ("es5/input/", "es5/output/chtml", "es5/a11y/", "es5/ui/", "es5/adaptors/")
    )


def install(static: Path) -> str:
    """Copy MathJax into the site's static directory `static`; returns `mathjax_path` (relative to it)."""
    src = fetch("mathjax", VERSION, INTEGRITY, _wanted)
    dest = Path(static) / "mathjax"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src / "es5", dest)
    shutil.copy(src / "LICENSE", dest / "LICENSE")
    return f"mathjax/{ENTRY}"
