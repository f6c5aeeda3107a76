"""Reproduction targets and the scorecard: the cheap targets run live, the page matches results/."""
import json
import re
import subprocess
import sys

import pytest

from grokkit import reproduce, scorecard
from grokkit.chapters import RESULTS
from grokkit.targets import TARGETS, VERDICTS, get, judge


def test_all_25_targets_are_named_and_listed():
    assert [t.id for t in TARGETS] == list(range(1, 26))
    assert len({t.slug for t in TARGETS}) == 25
    assert get("4") is get("04") is get("single-task-grokking") is get("04-single-task-grokking")
    with pytest.raises(KeyError, match="--list"):
        get("no-such-target")
    out = subprocess.run([sys.executable, "-m", "grokkit", "reproduce", "--list"], capture_output=True, text=True,
                         check=True).stdout
    assert sum(t.name in out for t in TARGETS) == 25


def test_the_verdict_rule():
    assert judge([]) == "not yet run"
    assert judge([("a", None)]) == "not yet run"
    assert judge([("a", True), ("b", True)]) == "reproduced"
    assert judge([("a", True), ("b", None)]) == "partly"
    assert judge([("a", True), ("b", False)]) == "partly"
    assert judge([("a", False), ("b", None)]) == "not reproduced"


@pytest.mark.parametrize("name", ["01-parameter-counts", "02-lrd-singular-values", "03-defect-at-init"])
def test_cheap_targets_run_live_and_match_the_stored_results(tmp_path, name):
    t = get(name)
    entry = reproduce.run(t, "default", results=tmp_path)
    assert entry["verdict"] in VERDICTS and entry["grokkit_version"] and entry["device"]
    stored = json.loads((tmp_path / f"{t.name}.json").read_text())["profiles"]["default"]
    assert stored["measured"] == json.loads(json.dumps(entry["measured"]))
    if name != "03-defect-at-init":
        assert entry["verdict"] == "reproduced", entry["checks"]
    committed = reproduce.load(t, RESULTS).get("default")
    if committed:  # the committed result is what this code measures now
        for k, v in entry["measured"].items():
            assert json.dumps(v, sort_keys=True)[:40] == json.dumps(committed["measured"][k], sort_keys=True)[:40] \
                or v == pytest.approx(committed["measured"][k], rel=1e-4, abs=1e-9), k


def test_defect_values_are_finite_and_positive(tmp_path):
    e = reproduce.run("3", "smoke", results=tmp_path)
    assert e["verdict"] == "not yet run"  # smoke results are never judged
    for v in e["measured"]["defect_by_seed"].values():
        assert all(0 < v[k] < 100 for k in ("exact", "authors", "float64"))
        assert v["exact"] == pytest.approx(v["float64"], rel=1e-3) and v["authors"] > v["exact"]


def test_defect_at_init_is_judged_under_both_formulas():
    t = get("3")
    au = {"1": {"exact": 0.22, "authors": 2.3, "float64": 0.22}, "2": {"exact": 0.21, "authors": 1.9, "float64": 0.21}}
    checks = t.checks({"defect_by_seed": au})
    assert [ok for _, ok in checks] == [True, False] and "float32 artefact" in t.note({"defect_by_seed": au})
    same = {"1": {"exact": 2.0, "authors": 2.0, "float64": 2.0}}
    assert [ok for _, ok in t.checks({"defect_by_seed": same})] == [True, True] and t.note({"defect_by_seed": same}) is None


def test_corrupt_result_is_detected(tmp_path):
    t = get("1")
    (tmp_path / f"{t.name}.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        reproduce.load(t, tmp_path)


def test_scorecard_page_is_generated_from_results():
    page = scorecard.render()
    committed = scorecard.PAGE.read_text()
    assert page == committed, "book/scorecard.md is stale: run `make scorecard`"
    assert len(re.findall(r"^\(scorecard-\d\d\)=$", page, re.M)) == 25 and "def judge" in page
    for t in TARGETS:
        e = reproduce.best_entry(t)
        row = next(line for line in page.splitlines() if line.startswith(f"| {{ref}}`{t.id} <"))
        assert re.search(rf"\*\*{e['verdict'] if e else 'not yet run'}\*\*( \(see its note\))? \|$", row), row
