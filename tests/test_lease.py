"""The GPU lease plan (grokkit.repro.lease), dry: every item at smoke sizes on this CPU, resumable,
sized by its estimate, its measured numbers judged by the targets' own checks."""

import json
import sys

import pytest

from grokkit.repro import lease, reproduce, targets

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dry(tmp_path_factory, smoke_runs):
    out = tmp_path_factory.mktemp("lease")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_session

    argv = ["--out", str(out), "--plan", "paper-scorecard", "--budget-s", "600", "--dry-run"]
    gpu_session.main([*argv, "--runs-root", str(smoke_runs)])  # item 06 = Chapter 1's smoke runs
    return out


def test_dry_run_measures_every_item_in_the_targets_terms(dry):
    state = json.loads((dry / "lease.json").read_text())
    assert state["dry_run"] and state["environment"]["torch_device"] == "cpu"
    assert set(state["items"]) == {it.key for it in lease.PLANS["paper-scorecard"]}
    for item in lease.PLANS["paper-scorecard"]:
        e = state["items"][item.key]
        assert e["status"] == "done", e
        assert e["members"] == len(e["runs"]) and e["estimate_s"] > 0 and e["wall_time_s"] >= 0  # 0.0: all cached
        t = targets.get(str(item.target))
        checks, verdict = reproduce.evaluate(t, e["measured"], "paper")  # the keys the checks read
        assert checks and verdict["verdict"]


def test_a_second_lease_skips_what_is_done(dry):
    lines = []
    state = lease.run_plan(dry, budget_s=600, dry_run=True, log=lines.append)
    assert all(line.endswith("skipped") for line in lines) and len(lines) == len(state["items"])


def test_items_that_do_not_fit_are_skipped_with_their_estimate(tmp_path):
    state = lease.run_plan(tmp_path, budget_s=1.0, dry_run=True, log=lambda m: None)
    assert all(e["status"] == "skipped" and "needs ~" in e["reason"] for e in state["items"].values())
    assert json.loads((tmp_path / "lease.json").read_text())["items"] == state["items"]  # written as it went


def test_estimate_walks_the_staircase():
    item = lease.Item("x", 18, 1.0, None, None, "")
    cfg = lease.presets.FAST
    members = [(cfg.replace(max_steps=100), ()), (cfg.replace(max_steps=200), ())]
    rates = {16: 1600.0, 64: 3200.0}  # member-steps/s; below 16 members each runs at 100 steps/s
    assert lease.rate_at(2, rates) == pytest.approx(200.0) and lease.rate_at(32, rates) == pytest.approx(2262.7, 0.01)
    # 100 steps with both members, then 100 with one: 1 s + 1 s
    assert lease.estimate_s(item, members, rates) == pytest.approx(2 * lease.SAFETY)
    assert lease.estimate_s(item, members, rates, factor=2.0) == pytest.approx(lease.SAFETY)


def test_merged_lease_is_what_reproduce_judges_at_the_paper_profile(dry, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="dry run"):
        lease.merge(dry / "lease.json")
    state = json.loads((dry / "lease.json").read_text())
    state["dry_run"], state["environment"]["gpu"] = False, "NVIDIA H200"  # as a real lease writes it
    real = tmp_path / "lease.json"
    real.write_text(json.dumps(state))
    monkeypatch.setattr(lease, "store_path", lambda plan: tmp_path / "results" / "gpu" / f"lease-{plan}.json")
    stored = lease.merge(real)
    assert set(json.loads(stored.read_text())["items"]) == set(state["items"])
    entry = reproduce.run("18", "paper", results=tmp_path / "results")
    assert entry["scale"].startswith("paper, one NVIDIA H200") and entry["lease"]["gpu"] == "NVIDIA H200"
    assert entry["measured"] == state["items"]["18-tri-order"]["measured"] and entry["verdict"]
    assert entry["measured"]["cap"] and entry["checks"]  # censored runs are judged at their cap
    assert entry["wall_time_s"] == state["items"]["18-tri-order"]["wall_time_s"]


def test_earlier_leases_set_the_small_stack_rates(tmp_path):
    scan = tmp_path / "scan.json"
    scan.write_text(json.dumps({"ensemble_scan": {"N=16 fp32": {"model_steps_per_s": 1600.0}}}))
    runs = [{"final_step": 30_000}, {"final_step": 60_000}]
    items = {
        "a": {"status": "done", "wall_time_s": 60.0, "runs": runs},  # 1500 member-steps/s with 2 runs
        "b": {"status": "done", "wall_time_s": 90.0, "runs": runs},  # slower: the slowest item sets the rate
        "c": {"status": "skipped", "runs": runs},
        "d": {"status": "done", "wall_time_s": 5.0, "runs": runs},  # too short to time (all cached)
    }
    assert lease.lease_rates(items) == {2: pytest.approx(1000.0)}
    rates = lease.plan_rates(items, scan)
    assert rates == {2: pytest.approx(1000.0), 16: 1600.0}
    assert lease.rate_at(2, rates) > lease.rate_at(2, lease.scan_rates(scan))  # the latency-bound stack is faster
    assert lease.plan_rates(items, tmp_path / "missing.json") == {}
