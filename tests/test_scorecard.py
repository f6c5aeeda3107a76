"""The scorecard page reads at a glance: a short "ours" per target, a summary figure from results/, a main table
with the verdict second, evidence links per target; and, in a real browser at 1,000 px and 400 px, every row's
verdict in view, the filters working, every evidence link resolving."""

import hashlib
import html
import json
import re
import shutil
import tarfile
import xml.etree.ElementTree as ET

import nbformat
import pytest
from conftest import ROOT

from grokkit import papers, stats
from grokkit.repro import evidence, reproduce, scorecard, summary
from grokkit.repro.helpers import deletion_line, our_part, stated
from grokkit.repro.targets import TARGETS, get
from grokkit.repro.verdict import VERDICTS, equivalence

CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _headings(nb_path) -> list[str]:
    """The section headings (##, ###) of a chapter's Markdown cells, as written."""
    nb = nbformat.read(nb_path, as_version=4)
    return [
        line.lstrip("#").strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if re.match(r"^#{2,3} ", line)
    ]


def test_our_part_keeps_our_half_of_a_statistic_short():
    assert (
        our_part("mean 73.5% [72.4%, 74.7%] (n = 12) vs paper 73.4%, margin [70.8%, 76.1%]") == "73.5% [72.4%, 74.7%]"
    )
    assert (
        our_part("KM median 11.2k [9.6k, 13.4k] (n = 7, 2 censored) vs paper 12.8k") == "KM median 11.2k [9.6k, 13.4k]"
    )
    assert our_part("median (order statistics) 8.8k [6.6k, 13.3k] (n = 7) vs paper") == "median 8.8k [6.6k, 13.3k]"
    assert our_part("12/12 1.00 [0.74, 1.00] (n = 12) vs paper 1.00, margin [0.74, 1.00]") == "12/12"
    assert (
        our_part("one run ± the paper's spread 1.24× [0.94×, 1.63×] (n = 1) vs paper")
        == "1.24× [0.94×, 1.63×] (one run)"
    )
    assert our_part("slope −0.945 [−1.042, −0.848] (n = 15) vs paper −0.913") == "−0.945 [−1.042, −0.848]"
    check = equivalence("q: a share", stats.mean_interval([0.5, 0.6, 0.7]), stats.Margin(0.4, 0.8, 0.6, "test"))
    assert stated([check], ("q:", "share"), ("absent", "never")) == "share 0.6 [0.352, 0.848]"
    assert stated([check], ("absent", "never")) is None


def test_targets_state_ours_from_hand_made_numbers():
    steps = {"42": {"t98x3": 3000, "t90": 2800}, "137": {"t98x3": 3400, "t90": 3000}, "2024": {"t98x3": None}}
    m4 = {"steps": {"add": steps}, "budget": 20000}  # one run censored at the cap: the KM median is the 2nd of 3
    assert get("4").stated(m4) == "median t98×3: add 3.4k"
    assert get("4").scrub(m4, "add", 42) == (2800, 3000)
    m17 = {"deletion": {"0.0": 8500, "0.02": 10500, "0.1": None, "0.25": None}, "cap": 12000}
    assert (
        get("17").stated(m17)
        == deletion_line(m17)
        == "grok step f = 0 → 8.5k, 0.02 → 10.5k; none by 12.0k at f = 0.1, 0.25"
    )
    counts = {"one task": 1, "two tasks": 2, "three tasks": 3, "2.2M scale": 4000}
    assert get("1").stated(counts) == "1 / 2 / 3 / 4,000"
    acc = {"best_test_acc": {"x2_xy_y2 seed 42": 0.06, "add wd 0 seed 42": 0.95}, "budget": 5000}
    assert get("5").stated(acc) == "1 of 2 control runs reach 90% (best 95%)"
    assert get("5").stated({}) is None and get("25").stated({"anything": 1}) is None  # lacks what it reads; states none


def test_the_tri_deletion_cliff_is_judged_over_every_seed():
    """Target 20 per seed (the GPU lease's per_seed): each run over its own seed's f = 0 step; one seed that
    groks within the paper's 2× at a killing fraction fails that check, a seed censored short of it leaves it
    undecided; the paper's single seed (the cpu-full sweep) is judged as before."""
    from grokkit.repro.verdict import UNDECIDED

    def sweep(base, delayed, killed, cap=60_000):
        d = {"0.0": base, "0.02": delayed, "0.1": killed}
        return {"deletion": d, "caps": {f: cap for f in d}}

    def ok(m):
        return {c.question.split(":")[0]: c.ok for c in get("20").checks(m) if c.question.startswith("f = 0.")}

    seeds = {"42": sweep(30_000, 50_000, None), "137": sweep(19_000, 25_000, None), "2024": sweep(14_000, 20_000, None)}
    assert ok({"per_seed": seeds}) == {"f = 0.02": True, "f = 0.1": True}
    early = seeds | {"2024": sweep(14_000, 20_000, 20_000)}  # 1.4× its own f = 0 step
    assert ok({"per_seed": early})["f = 0.1"] is False
    short = seeds | {"137": sweep(19_000, 25_000, None, cap=30_000)}  # censored at 1.6× its f = 0 step
    assert ok({"per_seed": short})["f = 0.1"] == UNDECIDED
    assert ok(seeds["42"]) == {"f = 0.02": True, "f = 0.1": True}  # one seed (1.7×), as the cpu-full sweep stores it
    assert ok(sweep(30_000, 36_000, None))["f = 0.02"] == UNDECIDED  # one run at 1.2×: within the rerun spread
    no_base = seeds | {"137": sweep(None, None, None)}
    assert [c.ok for c in get("20").checks({"per_seed": no_base})][0] is False  # seed 137's f = 0 never grokked


def test_the_scaling_target_judges_each_scale_over_its_grokked_runs():
    """Target 24 (the GPU lease's 24-scaling-* runs): per scale, k* against the paper's 3–5 and the SVD rank
    share against 80/128; a run past 20 PCs fails k*; a scale with no grokked run is undecided."""
    from grokkit.repro.verdict import UNDECIDED

    def run(scale, params, seed, k, rank, t98=30_000):
        return {
            "scale": scale,
            "params": params,
            "seed": seed,
            "weight_decay": 1.0,
            "width": 256,
            "t98": t98,
            "cap": 50_000,
            "k_star": k,
            "k_max": 20,
            "rank_needed": rank,
        }

    mid = [run("d256/2L/ff512", 1_154_851, s, 4, 224) for s in (42, 137, 2024)]
    big = [run("d256/4L/ff512", 2_209_059, s, 4, 224, t98=None) for s in (42, 137, 2024)]
    checks = get("24").checks({"runs": mid + big})
    assert [c.ok for c in checks[:2]] == [True, True]  # k* = 4 each (inside 3–5); 224/256 = 0.875 ≥ 0.625
    assert [c.ok for c in checks[2:4]] == [UNDECIDED, UNDECIDED] and "none of its 3 runs grokked" in checks[2].why
    far = [run("d256/2L/ff512", 1_154_851, 42, None, 256)] + mid[1:]
    assert get("24").checks({"runs": far})[0].ok is False  # one run needs more than 20 PCs
    low = [run("d256/2L/ff512", 1_154_851, s, 4, 32) for s in (42, 137, 2024)]
    assert get("24").checks({"runs": low})[1].ok is False  # rank 32 of 256 suffices: the claim fails
    assert [c.ok for c in checks if c.kind == "coverage"] == [True, True, False]  # one weight decay of five


def test_every_stored_target_states_ours_in_one_short_line():
    for t in TARGETS:
        e = reproduce.best_entry(t)
        if e is None:
            continue
        line = t.stated(e["measured"])
        assert line and len(line) <= 110, (t.name, line)
        assert not re.search(r"[{}]|_by_(seed|run)|: \{", line), (t.name, line)  # never a dump of the measured dict


def test_summary_counts_each_target_once_by_paper_and_verdict():
    verdicts = {t: (reproduce.best_entry(t) or {}).get("verdict", "not yet run") for t in TARGETS}
    counts = summary.tally(verdicts)
    assert list(counts) == list(summary.PAPERS)
    assert sum(sum(c.values()) for c in counts.values()) == len(TARGETS)
    for v in VERDICTS:
        assert sum(c[v] for c in counts.values()) == list(verdicts.values()).count(v)
    assert summary.paper_of(get("1")) == papers.X1 and summary.paper_of(get("9")) == papers.LI
    small = summary.tally({get("1"): "reproduced", get("2"): "partly", get("4"): "reproduced"})
    assert (
        small[papers.X1]["reproduced"] == 2 and small[papers.LI]["partly"] == 1 and sum(small[papers.X3].values()) == 0
    )
    fig = summary.svg(counts)
    assert fig == summary.svg(counts)  # deterministic bytes
    root = ET.fromstring(fig)
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r.find(f"{ns}title").text for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    want = [f"{summary.PAPERS[p]}: {n} {v}" for p, c in counts.items() for v, n in c.items() if n]
    assert bars == want  # one bar segment per (paper, class) present, in the figure's order
    assert set(summary.COLOURS) == set(VERDICTS)


def test_main_table_puts_the_verdict_second_with_a_short_ours_and_links():
    page = scorecard.render()
    table = page.split('<table class="gk-scorecard"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="col">(.*?)</th>', table) == ["#", "verdict", "claim", "ours", "paper"]
    rows = re.findall(r'<tr id="row-(\d\d)".*?</tr>', table)
    assert [int(r) for r in rows] == [t.id for t in TARGETS]
    for t in TARGETS:
        row = re.search(rf'<tr id="row-{t.id:02d}".*?</tr>', table).group(0)
        e = reproduce.best_entry(t)
        cells = re.findall(r"<td class=\"gk-sc-(\w+)\"[^>]*>(.*?)</td>", row)
        assert [c for c, _ in cells] == ["id", "verdict", "claim", "ours", "paper"]
        assert f'data-verdict="{e["verdict"] if e else "not yet run"}"' in row
        assert f'data-paper="{summary.paper_of(t)}"' in row and f'href="#scorecard-{t.id:02d}"' in row
        ours = html.unescape(dict(cells)["ours"])
        assert ours == (t.stated(e["measured"]) if e else "—"), t.name
        if t.chapter:
            assert f'href="{evidence.chapter_href(t.chapter, t.section)}"' in row
    assert "](" + scorecard.SUMMARY_FILE + ")" in page.split("```{raw} html")[0]  # the figure above the table


def test_every_section_link_is_a_heading_sphinx_anchors():
    docutils = pytest.importorskip("docutils.nodes")
    headings = {nb.stem: _headings(nb) for nb in CHAPTERS}
    for stem, hs in headings.items():
        for h in hs:  # Sphinx's id of a section is docutils' make_id of its text (MyST drops $ and `)
            assert evidence.anchor(h) == docutils.make_id(re.sub(r"[$`*]", "", h)), (stem, h)
    for t in TARGETS:
        if t.section is not None:
            assert t.chapter and t.section in headings[t.chapter], (t.name, t.section)
    for stem, (section, _) in evidence.SCRUBBERS.items():
        assert section in headings[stem]
    assert evidence.anchor("2. Weight decay sets the clock (dual task: $a+b$ and $ab$)") == (
        "weight-decay-sets-the-clock-dual-task-a-b-and-ab"
    )


def test_evidence_names_the_command_the_runs_and_the_steps_to_scrub():
    t = get("4")
    stored = reproduce.load(t)
    e = reproduce.best_entry(t)
    ev = evidence.evidence(t, stored, e["profile"])
    assert ev.command == f"python -m grokkit reproduce {t.name} --profile {e['profile']}"
    assert ev.runs[0] == (e["profile"], tuple(e["configs"]))  # the deciding profile first
    assert set(ev.keys) == {k for x in stored.values() for k in x.get("configs") or ()}
    assert ev.href == "../notebooks/01_grokking.html#six-operations" and ev.label == "Chapter 1, § Six operations"
    s = ev.scrub  # the chapter's scrubber shows the default profile's add, seed 42 run, one of the target's runs
    run = stored[s.profile]["measured"]["steps"]["add"]["42"]
    assert (s.run, s.first, s.last) == ("add, seed 42", run["t90"], run["t98x3"])
    assert s.href.endswith("#inside-the-plateau-scrub-through-training")
    nothing = evidence.evidence(get("25"), {}, None)
    assert nothing.command is None and nothing.runs == () and nothing.scrub is None and nothing.href is None


@pytest.mark.site
@pytest.mark.browser
def test_scorecard_in_a_real_browser_at_1000_and_400_px(tmp_path):
    """The book built without executing its chapters (seconds), one published bundle added that holds two of
    target 4's runs: the browser check of the scorecard finds no problem, and the bundle is linked."""
    import build_book
    from browser_check import CHROMIUM_ARGS, SCORECARD, check_scorecard, serve
    from playwright.sync_api import sync_playwright

    out = tmp_path / "book"
    assert build_book.main(["--only", "--out", str(out), "--no-record", "--runs-budget-mb", "0"]) == 0
    site = out / "html"
    keys = list(reproduce.load(get("4"))["default"]["configs"][:2])
    (site / "runs").mkdir()
    tar = site / "runs" / "01_grokking-default.tar"
    with tarfile.open(tar, "w") as tf:
        tf.addfile(tarfile.TarInfo("empty"))
    entry = {"file": tar.name, "sha256": hashlib.sha256(tar.read_bytes()).hexdigest(), "size": tar.stat().st_size}
    index = {
        "format": "grokkit-published-runs",
        "version": 1,
        "bundles": {"01_grokking-default": entry | {"keys": keys}},
    }
    (site / "runs" / "index.json").write_text(json.dumps(index))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    server, base = serve(site)
    problems = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page()
            info = check_scorecard(page, base + SCORECARD, problems, tmp_path / "shots")
            bundle = page.locator(".gk-published a").first.get_attribute("href")
            browser.close()
    finally:
        server.shutdown()
    assert problems == []
    assert info[1000] == info[400] == len(TARGETS) and info["groups"] == len(summary.PAPERS)
    assert info["bundle_links"] >= 1 and bundle.endswith("runs/01_grokking-default.tar")
    assert info["evidence_links"] > 2 * len(TARGETS)
    for width in (1000, 400):
        assert (tmp_path / "shots" / f"scorecard-{width}.png").stat().st_size > 10_000


WIDE = """<!DOCTYPE html><html><head><meta charset="utf-8"><script src="../_static/scorecard.js"></script></head>
<body><main><h1>Scorecard</h1><table class="gk-scorecard" style="min-width: {width}px"><thead><tr><th>#</th>
<th>claim</th><th>verdict</th></tr></thead><tbody><tr id="row-01" data-verdict="partly" data-paper="x">
<td><a href="#row-01">1</a></td><td style="width: {claim}px">claim</td>
<td class="gk-sc-verdict"><span class="gk-badge">partly</span></td></tr>
</tbody></table></main></body></html>"""


@pytest.mark.browser
def test_the_scorecard_check_catches_a_verdict_off_screen(tmp_path):
    """A table wider than a phone (the issue: the verdict column off-screen until the reader scrolls sideways)
    fails the check at 400 px; the same table at 300 px passes."""
    from browser_check import CHROMIUM_ARGS, SCORECARD, check_scorecard, serve
    from playwright.sync_api import sync_playwright

    # Each width gets its own site and server: rewriting one file within the same second lets the server answer
    # "304 Not Modified" (its Last-Modified has one-second resolution) and the browser shows the old table.
    found = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for width in (900, 300):
            site = tmp_path / f"site-{width}"
            (site / "_static").mkdir(parents=True)
            shutil.copy(ROOT / "book" / "_static" / "scorecard.js", site / "_static")
            (site / "book").mkdir()
            page_html = WIDE.replace("{width}", str(width)).replace("{claim}", str(width - 200))
            (site / SCORECARD).write_text(page_html)
            server, base = serve(site)
            try:
                page = browser.new_page()
                found[width] = []
                check_scorecard(page, base + SCORECARD, found[width])
                page.close()
            finally:
                server.shutdown()
        browser.close()
    assert found[300] == []
    assert any("400 px: scrolls sideways" in p for p in found[900]), found[900]
    assert any("400 px: the verdict of row-01 is not in view" in p for p in found[900]), found[900]
