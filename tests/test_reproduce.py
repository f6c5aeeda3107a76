"""Reproduction targets and the scorecard: the cheap targets run live, the page matches results/."""

import json
import re
import subprocess
import sys

import pytest

from grokkit.book.execute import results_dir
from grokkit.repro import cpu_full, paper_numbers, reproduce, scorecard
from grokkit.repro.targets import TARGETS, get
from grokkit.repro.verdict import UNDECIDED, VERDICTS, Check, cov, judge, num, undecided


def test_all_25_targets_are_named_and_listed():
    assert [t.id for t in TARGETS] == list(range(1, 26))
    assert len({t.slug for t in TARGETS}) == 25
    assert get("4") is get("04") is get("single-task-grokking") is get("04-single-task-grokking")
    with pytest.raises(KeyError, match="--list"):
        get("no-such-target")
    out = subprocess.run(
        [sys.executable, "-m", "grokkit", "reproduce", "--list"], capture_output=True, text=True, check=True
    ).stdout
    assert sum(t.name in out for t in TARGETS) == 25


def test_the_verdict_rule_on_hand_made_checks():
    v = lambda *checks: judge(list(checks)).verdict
    assert v() == "not yet run" and v(num("a", None), cov("seeds", False)) == "not yet run"
    assert v(num("a", True), num("b", True), cov("3 seeds", True)) == "reproduced"
    # a coverage-only shortfall: the numbers hold, the qualifier says what was not run
    short = judge([num("a", True), cov("3 seeds (paper)", False)])
    assert short.verdict == "reproduced at reduced scale" and short.reasons == ("3 seeds (paper)",)
    assert v(num("a", True), num("b", None)) == "reproduced at reduced scale"  # a number not measured
    # a censored run (no grok by the cap) cannot decide "fails": inconclusive, never "reproduced"
    assert v(num("f = 0 groks", True), undecided("f = 10% fails", "censored at the cap")) == "inconclusive"
    assert v(num("a", True), num("b", False), cov("c", True)) == "partly"
    assert v(num("a", False), undecided("b", "censored")) == "not reproduced"
    # an artefact: exact arithmetic contradicts the number, whatever else passed
    art = judge([num("authors' formula", True), num("exact arithmetic", False, refutes=True)])
    assert art.verdict == "refuted" and art.reasons == ("exact arithmetic",)
    # tuples are number checks (the old form), coverage never decides
    assert v(("a", True), cov("b", False), cov("c", None)) == "reproduced at reduced scale"
    with pytest.raises(ValueError):
        Check("q", "maybe")
    assert set(VERDICTS) >= {judge(c).verdict for c in ([], [num("a", True)], [num("a", UNDECIDED)])}


def test_cpu_full_targets_are_wired():
    assert {t.id for t in TARGETS if "cpu-full" in t.profiles} == set(cpu_full.MEASURES)
    assert cpu_full.members([]) == [] and cpu_full.members([13]) == []  # 13 re-measures cached runs only


def test_each_target_sits_in_its_papers_module():
    home = {
        paper_numbers.X1: ("single_task", "execution_subspace", "interventions"),
        paper_numbers.X2: ("dual_task", "tri_task"),
        paper_numbers.X3: ("holographic",),
        paper_numbers.LI: ("lrd",),
    }
    for t in TARGETS:
        if t.measure is None:  # not run: its checks are helpers.not_run's
            continue
        paper = t.source.split()[0].rstrip(",")  # the first paper a target cites is its home
        assert t.checks.__module__.rsplit(".", 1)[1] in home[paper], (t.name, t.checks.__module__)
    assert paper_numbers.one_sig_fig_max(3000) == 3499 and paper_numbers.krange(2500, 3200) == "2.5–3.2k"
    assert paper_numbers.sci(5e-3) == "5e-3" and paper_numbers.pct_range(0.1, 0.25) == "10–25%"


def test_results_and_the_page_follow_the_checkout(tmp_path, monkeypatch):
    # an empty results directory: nothing stored, every target "not yet run"; the page names the rule's file
    assert reproduce.best_entry(get("1"), tmp_path) is None
    assert "not yet run" in reproduce.list_targets(tmp_path).splitlines()[1]
    page = scorecard.render(tmp_path)
    assert "| not yet run | 25 |" in page and "`grokkit/repro/verdict.py`" in page
    out = scorecard.write_page(tmp_path / "scorecard.md", tmp_path)
    assert out.read_text() == page
    (tmp_path / "_toc.yml").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setenv("GROKKIT_REPO", str(tmp_path))  # the checkout, where the working directory is not one
    assert reproduce.result_path(get("1")) == tmp_path.resolve() / "results" / "01-parameter-counts.json"
    assert scorecard.page_path() == tmp_path.resolve() / "book" / "scorecard.md"


def _verdict(target, measured):
    return judge(get(target).checks(measured)).verdict


def test_targets_treat_censored_runs_and_weak_fits_as_undecided():
    # 17: 'no grok by a cap under 3x the baseline' cannot tell fails from delayed
    short = {"deletion": {"0.0": 8000, "0.02": 9000, "0.1": None}, "cap": 12_000}
    assert _verdict("17", short) == "inconclusive"
    assert _verdict("17", short | {"cap": 50_000}) == "reproduced at reduced scale"  # 3 fractions of the paper's 10
    assert _verdict("17", short | {"deletion": {"0.0": 8000, "0.02": 9000, "0.1": 11_000}}) == "partly"
    # 23: an exponent whose 2-s.e. interval holds both 1.27 and 1 cannot decide
    wide = {"alpha": 1.2, "se": 0.3, "r2": 0.95, "n": 14}
    assert _verdict("23", {"lead_power_law": wide, "lead_power_law_authors": wide}) == "inconclusive"
    sharp = wide | {"alpha": 1.27, "se": 0.05}
    assert _verdict("23", {"lead_power_law": sharp, "lead_power_law_authors": sharp}) == "reproduced at reduced scale"
    # 21: an exponent through two λ values decides nothing
    two = {"dual_grok_steps": {"1.0": [13000], "0.5": [16000]}, "lambda_exponent": -0.3, "dual_leads": {"1.0": [500]}}
    assert _verdict("21", two) == "inconclusive"
    # 11: s = 0.75 censored at a cap beyond the claimed delay is decided (a longer delay than claimed)
    proj = {
        "intervention_baseline": 3300,
        "suppression_pca": {"1.0": None, "0.75": None},
        "suppression_random": {"0.75": 3300},
        "cap": 4500,
        "seeds": 1,
        "n_ops": 1,
    }
    assert _verdict("11", proj) == "partly"
    assert _verdict("11", proj | {"cap": 4000}) == "inconclusive"
    # 15: the paper's object is the dual-task run; a tri-task k* is not compared
    kstar = {"k_star_95": {"uncentred": 6, "centred_with_init": 9, "centred_without_init": None}}
    assert _verdict("15", kstar | {"tasks": 3}) == "inconclusive"
    assert _verdict("15", kstar | {"tasks": 2, "seeds": 1}) == "reproduced at reduced scale"


@pytest.mark.parametrize("name", ["01-parameter-counts", "02-lrd-singular-values", "03-defect-at-init"])
def test_cheap_targets_run_live_and_match_the_stored_results(tmp_path, name):
    t = get(name)
    entry = reproduce.run(t, "default", results=tmp_path)
    assert entry["verdict"] in VERDICTS and entry["grokkit_version"] and entry["device"]
    stored = json.loads((tmp_path / f"{t.name}.json").read_text())["profiles"]["default"]
    assert stored["measured"] == json.loads(json.dumps(entry["measured"]))
    if name != "03-defect-at-init":
        assert entry["verdict"] == "reproduced", entry["checks"]
    committed = reproduce.load(t, results_dir()).get("default")
    if committed:  # the committed result is what this code measures now
        for k, v in entry["measured"].items():
            assert json.dumps(v, sort_keys=True)[:40] == json.dumps(committed["measured"][k], sort_keys=True)[
                :40
            ] or v == pytest.approx(committed["measured"][k], rel=1e-4, abs=1e-9), k


def test_defect_values_are_finite_and_positive(tmp_path):
    e = reproduce.run("3", "smoke", results=tmp_path)
    assert e["verdict"] == "not yet run"  # smoke results are never judged
    for v in e["measured"]["defect_by_seed"].values():
        assert all(0 < v[k] < 100 for k in ("exact", "authors", "float64"))
        assert v["exact"] == pytest.approx(v["float64"], rel=1e-3) and v["authors"] > v["exact"]


def test_defect_at_init_is_judged_under_both_formulas():
    t = get("3")
    au = {"1": {"exact": 0.22, "authors": 2.3, "float64": 0.22}, "2": {"exact": 0.21, "authors": 1.9, "float64": 0.21}}
    checks = [c for c in t.checks({"defect_by_seed": au}) if c.kind == "number"]
    assert [c.ok for c in checks] == [True, False] and "float32 artefact" in t.note({"defect_by_seed": au})
    assert judge(t.checks({"defect_by_seed": au})).verdict == "refuted"
    same = {"1": {"exact": 2.0, "authors": 2.0, "float64": 2.0}}
    assert [c.ok for c in t.checks({"defect_by_seed": same}) if c.kind == "number"] == [True, True]
    assert t.note({"defect_by_seed": same}) is None


def test_corrupt_result_is_detected(tmp_path):
    t = get("1")
    (tmp_path / f"{t.name}.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        reproduce.load(t, tmp_path)


def test_scorecard_page_is_generated_from_results():
    page = scorecard.render()
    committed = scorecard.page_path().read_text()
    assert page == committed, "book/scorecard.md is stale: run `make scorecard`"
    assert len(re.findall(r"^\(scorecard-\d\d\)=$", page, re.M)) == 25 and "def judge" in page
    verdicts = [(reproduce.best_entry(t) or {}).get("verdict", "not yet run") for t in TARGETS]
    tally = {v: verdicts.count(v) for v in VERDICTS}
    for v, n in tally.items():
        assert f"| {v} | {n} |" in page
    for t in TARGETS:
        e = reproduce.best_entry(t)
        row = next(line for line in page.splitlines() if line.startswith(f"| {{ref}}`{t.id} <"))
        verdict = e["verdict"] if e else "not yet run"
        assert re.search(rf"\*\*{verdict}\*\*( \(\d+ coverage gaps?\))?( \(see its note\))? \|$", row), row
        if e and e["checks"]:  # the page shows the two groups of checks
            section = page.split(f"(scorecard-{t.id:02d})=")[1].split("(scorecard-")[0]
            assert "The claim (numbers):" in section
            assert ("Coverage (what was run):" in section) == any(c["kind"] == "coverage" for c in e["checks"])
