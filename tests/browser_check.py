"""Open the built site in a real browser (Debian's Chromium, headless, driven by Playwright).

    python tests/browser_check.py _build/html [screenshot_dir]

For every page: the title (h1) is there, every figure is a loaded image, internal links resolve
(page and #anchor), and no math is left as raw TeX (a `.math` element MathJax did not typeset, or a
TeX delimiter in text outside code). For chapter pages: the "Open in Colab" link points at this
notebook in the repository set in _config.yml, every slider (the Explorer's static HTML) really
changes its figure when moved, and every in-page trainer trains. For the scorecard
(`check_scorecard`): at 1,000 px and at 400 px every row's verdict is in view without scrolling
sideways, its filters show the rows they name, and every evidence link resolves.
Nothing outside 127.0.0.1 is fetched.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from sync_links import repository  # noqa: E402  (the repository URL is set once, in _config.yml)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root: Path):
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def pages(root: Path) -> list[str]:
    """Every content page of the site (generated index/search pages left out)."""
    skip = {"genindex.html", "search.html", "index.html"}
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.html")
        if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts
    )


def check_site(root, shots: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    root = Path(root)
    server, base = serve(root)
    problems, report = [], {}
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_() if urlparse(route.request.url).hostname == "127.0.0.1" else route.abort()
                ),
            )
            page.goto(base, wait_until="load")  # index.html redirects to the first page
            page.wait_for_load_state("load")
            report["index_redirect"] = page.url
            link_targets = set()
            for rel in pages(root):
                url = urljoin(base, rel)
                page.goto(url, wait_until="load")
                info = {"title": page.locator("main h1").first.inner_text().strip(" #¶\n")}
                if not info["title"]:
                    problems.append(f"{rel}: no title")
                info["math"], raw = page.evaluate(_MATH)
                problems += [f"{rel}: math shown as raw TeX: {t!r}" for t in raw[:5]]
                imgs = page.eval_on_selector_all(  # this site's own images (the Colab badge lives on the web)
                    "main img",
                    "els => els.filter(e => !/^https?:/.test(e.getAttribute('src')) || "
                    "e.src.startsWith(location.origin))"
                    ".map(e => [e.getAttribute('src'), e.complete && e.naturalWidth > 0])",
                )
                info["images"] = len(imgs)
                problems += [f"{rel}: image not loaded: {src[:80]}" for src, ok in imgs if not ok]
                for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                    if urlparse(href).hostname == "127.0.0.1":
                        link_targets.add((href, rel))
                if rel.startswith("notebooks/"):
                    colab = page.eval_on_selector_all(
                        "a[href*='colab.research.google.com/github']", "els => els.map(e => e.href)"
                    )
                    want = repository().colab(Path(rel).with_suffix(".ipynb").name)
                    info["colab"] = sorted(set(colab))
                    if want not in colab:
                        problems.append(f"{rel}: no Colab link to {want} (found {info['colab']})")
                    info["sliders"] = _move_sliders(page, rel, problems)
                    info["scrubbers"] = _scrub(page, rel, problems)
                    info["phases"] = _phase(page, rel, problems)
                    info["trainers"] = _train(page, rel, problems)
                if rel == SCORECARD:
                    info["scorecard"] = check_scorecard(page, url, problems, shots)
                    page.set_viewport_size({"width": 1280, "height": 900})
                if shots is not None:
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / (rel.replace("/", "_") + ".png")), full_page=False)
                report[rel] = info
            for href, source in sorted(link_targets):
                target, frag = urldefrag(href)
                resp = page.request.get(target)
                if resp.status != 200:
                    problems.append(f"{source}: broken link {href} ({resp.status})")
                elif frag and target.endswith(".html") and not re.search(rf'id="{re.escape(frag)}"', resp.text()):
                    problems.append(f"{source}: link to a missing anchor {href}")
            report["internal_links"] = len(link_targets)
            browser.close()
    finally:
        server.shutdown()
    report["problems"] = problems
    return report


# (typeset math elements, raw TeX snippets) once MathJax has finished (it never starts if it did not load)
_MATH = r"""async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    await Promise.race([mj.startup.promise, new Promise((ok) => setTimeout(ok, 15000))]);
  }
  const raw = [];
  let typeset = 0;
  for (const el of document.querySelectorAll(".math")) {
    if (el.querySelector("mjx-container")) typeset += 1;
    else raw.push(el.textContent.trim().slice(0, 60));
  }
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const n = walk.currentNode;
    if (n.parentElement.closest("pre, code, script, style, .math, mjx-container")) continue;
    if (/\\\(|\\\[|\$\$|\\begin\{/.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 60));
  }
  return [typeset, raw];
}"""


def _train(page, rel, problems, timeout_ms: int = 90_000) -> int:
    """Every in-page trainer (gk.widgets.BrowserTrainer) starts, its worker reports training steps (the
    site's own TensorFlow.js loaded, a backend chosen), and it stops."""
    roots = page.locator(".gk-train")
    for i in range(roots.count()):
        root = roots.nth(i)
        status = root.locator(".gk-train-status")
        root.locator(".gk-train-start").click()
        try:
            page.wait_for_function(
                "el => /step [1-9]/.test(el.textContent)", arg=status.element_handle(), timeout=timeout_ms
            )
        except Exception:  # Playwright's TimeoutError
            problems.append(f"{rel}: trainer {i} reported no training step: {status.text_content()!r}")
        stop = root.locator(".gk-train-stop")
        if stop.is_enabled():
            stop.click()
    return roots.count()


def _move_sliders(page, rel, problems) -> int:
    sliders = page.locator("input.gk-slider[type=range]")
    n = sliders.count()
    for i in range(n):
        s = sliders.nth(i)
        img = s.locator("xpath=ancestor::div[contains(@class,'gk-explorer')]//img[contains(@class,'gk-frame')]")
        before = img.get_attribute("src")
        s.evaluate("(el) => { el.value = el.max; el.dispatchEvent(new Event('input')); }")
        after = img.get_attribute("src")
        loaded = img.evaluate("e => e.complete && e.naturalWidth > 0")
        if before == after or not loaded:
            problems.append(f"{rel}: slider {i} did not change its figure")
    return n


# every panel's drawn content: SVG markup, or the canvas pixels
_PANELS = """(root) => Array.from(root.querySelectorAll('.gk-panel')).map(
  (e) => [e.dataset.panel, e.tagName === 'CANVAS' ? e.toDataURL() : e.innerHTML])"""


def _scrub(page, rel, problems) -> int:
    """Every step scrubber: moving its slider from the first to the last step changes every panel."""
    scrubbers = page.locator("div.gk-scrubber")
    for i in range(scrubbers.count()):
        root = scrubbers.nth(i)
        step = root.locator("input.gk-step")
        step.evaluate("(el) => { el.value = 0; el.dispatchEvent(new Event('input')); }")
        before = dict(root.evaluate(_PANELS))
        step.evaluate("(el) => { el.value = el.max; el.dispatchEvent(new Event('input')); }")
        after = dict(root.evaluate(_PANELS))
        if not before:
            problems.append(f"{rel}: scrubber {i} has no panels")
        for name in before:
            if before[name] == after.get(name):
                problems.append(f"{rel}: scrubber {i}: moving the step did not change its {name} panel")
    return scrubbers.count()


_PHASE = """(root) => [
  Array.from(root.querySelectorAll('[data-panel="curves"] polyline')).map((e) => e.getAttribute('points')).join('|'),
  ['x', 'y'].map((a) => root.querySelector('rect[stroke-width="3"]').getAttribute(a)).join(',')]"""


def _phase(page, rel, problems) -> int:
    """Every phase explorer: each slider, moved, changes the curves and moves the outlined cell."""
    explorers = page.locator("div.gk-phase")
    for i in range(explorers.count()):
        root = explorers.nth(i)
        for axis in ("wd", "frac"):
            s = root.locator(f"input.gk-phase-{axis}")
            before = root.evaluate(_PHASE)
            s.evaluate("(el) => { el.value = el.value == el.max ? 0 : el.max; el.dispatchEvent(new Event('input')); }")
            after = root.evaluate(_PHASE)
            if before[0] == after[0] or before[1] == after[1]:
                what = "curves" if before[0] == after[0] else "outlined cell"
                problems.append(f"{rel}: phase explorer {i}: the {axis} slider did not change the {what}")
    return explorers.count()


SCORECARD = "book/scorecard.html"
WIDTHS = (1000, 400)  # a laptop's content column and a phone

# every row of the scorecard's main table: its verdict cell's box, whether it is shown, and the widths that
# would scroll sideways (the page's, and any ancestor that clips or scrolls)
_ROWS = """() => {
  const out = [];
  for (const tr of document.querySelectorAll('table.gk-scorecard tbody tr[data-verdict]')) {
    const b = tr.querySelector('.gk-sc-verdict .gk-badge').getBoundingClientRect();
    out.push({id: tr.id, verdict: tr.dataset.verdict, paper: tr.dataset.paper, shown: !tr.hidden && b.height > 0,
              text: tr.querySelector('.gk-sc-verdict .gk-badge').textContent, left: b.left, right: b.right});
  }
  const clipped = [];
  let e = document.querySelector('table.gk-scorecard');
  for (; e && e !== document.documentElement; e = e.parentElement) {
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      clipped.push(e.tagName + '.' + e.className);
  }
  return {rows: out, clipped, page: document.documentElement.scrollWidth, view: window.innerWidth};
}"""


def check_scorecard(page, url: str, problems: list, shots: Path | None = None) -> dict:
    """The scorecard page at each of `WIDTHS`: every row's verdict lies inside the viewport with nothing
    scrolling sideways; the verdict and paper filters show exactly the rows they name and grouping adds a header
    per group; every link of the table and of the targets' evidence (sections, bundles) resolves. Screenshots
    to `shots`/scorecard-<width>.png."""
    from playwright.sync_api import Error as BrowserError

    rel, info = SCORECARD, {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url, wait_until="load")
        try:
            page.wait_for_function(
                "document.querySelector('table.gk-scorecard')?.dataset.controls === 'ready'", timeout=15_000
            )
        except BrowserError:
            problems.append(f"{rel}: no scorecard table, or its filters did not start")
            return info
        got = page.evaluate(_ROWS)
        if not got["rows"]:
            problems.append(f"{rel}: no scorecard rows")
        if got["page"] > got["view"] or got["clipped"]:
            problems.append(f"{rel} at {width} px: scrolls sideways (page {got['page']} px, {got['clipped']})")
        for r in got["rows"]:
            if not r["shown"] or r["left"] < 0 or r["right"] > got["view"] or r["text"] != r["verdict"]:
                problems.append(f"{rel} at {width} px: the verdict of {r['id']} is not in view ({r})")
        info[width] = len(got["rows"])
        if shots is not None:  # the filters and the first rows
            shots.mkdir(parents=True, exist_ok=True)
            page.evaluate("document.querySelector('.gk-sc-controls').scrollIntoView()")
            page.screenshot(path=str(shots / f"scorecard-{width}.png"), full_page=False)
    rows = got["rows"]
    for key, value in (("verdict", rows[0]["verdict"]), ("paper", rows[-1]["paper"])) if rows else ():
        page.click(f".gk-sc-filter[data-key={key}] button[data-value='{value}']")
        shown = [r for r in page.evaluate(_ROWS)["rows"] if r["shown"]]
        if not shown or any(r[key] != value for r in shown) or len(shown) != sum(r[key] == value for r in rows):
            problems.append(f"{rel}: the {key} filter {value!r} shows {[r['id'] for r in shown]}")
        page.click(f".gk-sc-filter[data-key={key}] button[data-value='']")
    page.click(".gk-sc-filter[data-key=group] button[data-value='paper']")
    heads = page.locator("table.gk-scorecard tr.gk-sc-group").count()
    if heads != len({r["paper"] for r in rows}):
        problems.append(f"{rel}: grouping by paper shows {heads} group headers")
    info["groups"] = heads
    try:
        page.wait_for_function(
            "Array.from(document.querySelectorAll('.gk-published')).every(s => s.dataset.state)", timeout=15_000
        )
    except BrowserError:
        problems.append(f"{rel}: the published-runs lookup did not finish")
    links = page.eval_on_selector_all(
        "table.gk-scorecard a[href], ul.gk-evidence a[href]", "els => els.map(e => e.href)"
    )
    info["evidence_links"], info["bundle_links"] = len(links), sum(h.endswith(".tar") for h in links)
    for href in sorted(set(links)):
        target, frag = urldefrag(href)
        resp = page.request.get(target) if target.endswith(".html") else page.request.head(target)  # a bundle: HEAD
        if resp.status != 200:
            problems.append(f"{rel}: evidence link {href} is broken ({resp.status})")
        elif frag and not re.search(rf'id="{re.escape(frag)}"', resp.text()):
            problems.append(f"{rel}: evidence link to a missing anchor {href}")
    return info


if __name__ == "__main__":
    out = check_site(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    for k, v in out.items():
        print(k, v)
    sys.exit(1 if out["problems"] else 0)
