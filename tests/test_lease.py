"""The GPU lease plan (grokkit.repro.lease), dry: every item at smoke sizes on this CPU, resumable member
by member, sized by its estimate, its measured numbers judged by the targets' own checks."""

import json
import sys
import tarfile

import pytest
import torch
from test_train import PassedAfter

from grokkit.repro import lease, lease_estimate, lease_measure, lease_plan, lease_resume, reproduce, targets

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dry(tmp_path_factory, smoke_runs):
    out = tmp_path_factory.mktemp("lease")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_session

    argv = ["--out", str(out), "--plan", "paper-scorecard", "--budget-s", "1800", "--dry-run"]
    gpu_session.main([*argv, "--runs-root", str(smoke_runs)])  # Chapter 1's items = its smoke runs
    return out


def test_dry_run_measures_every_item_in_the_targets_terms(dry):
    state = json.loads((dry / "lease.json").read_text())
    assert state["dry_run"] and state["environment"]["torch_device"] == "cpu"
    assert set(state["items"]) == {it.key for it in lease.PLANS["paper-scorecard"]}
    for item in lease.PLANS["paper-scorecard"]:
        e = state["items"][item.key]
        assert e["status"] == "done", e
        assert e["members"] == len(e["runs"]) and e["estimate_s"] >= 0 and e["wall_time_s"] >= 0  # 0.0: all cached
        for tid in item.targets:
            t = targets.get(str(tid))
            checks, verdict = reproduce.evaluate(t, e["measured"][str(tid)], "paper")  # the keys the checks read
            assert checks and verdict["verdict"]
            assert all(str(tid) in r["measured"] for r in e["runs"] if tid not in (5, 23))  # 5, 23: some runs only


def test_the_benchmark_ran_first_and_chose_the_training_mode(dry):
    state = json.loads((dry / "lease.json").read_text())
    bench = json.loads((dry / "ensemble_step.json").read_text())
    assert state["mode"] == (bench.get("pick") or {})


def test_a_second_lease_skips_what_is_done(dry):
    lines = []
    state = lease.run_plan(dry, budget_s=600, dry_run=True, log=lines.append)
    assert all(line.endswith("skipped") for line in lines) and len(lines) == len(state["items"])


def test_items_that_do_not_fit_are_skipped_with_their_estimate(tmp_path):
    state = lease.run_plan(tmp_path, budget_s=0.0, dry_run=True, log=lambda m: None)  # nothing fits, however fast
    assert all(e["status"] == "skipped" and "needs ~" in e["reason"] for e in state["items"].values())
    assert json.loads((tmp_path / "lease.json").read_text())["items"] == state["items"]  # written as it went


def test_a_cut_item_keeps_its_finished_members_and_the_next_lease_trains_only_the_rest(tmp_path, monkeypatch):
    item = next(it for it in lease.PLANS["paper-scorecard"] if it.key == "18-tri-order")  # 2 members when dry
    monkeypatch.setattr(lease, "PLANS", {"p": (item,)})
    monkeypatch.setattr(lease, "store_path", lambda plan: tmp_path / "store" / f"lease-{plan}.json")
    real, asked = lease.run_many, []

    def cut(members, **kw):  # the budget runs out after the first member
        asked.append(len(members))
        runs, engine, timing = real(members[:1], **kw)
        return runs + [None] * (len(members) - 1), engine, timing

    monkeypatch.setattr(lease, "run_many", cut)
    out = tmp_path / "out"
    state = lease.run_plan(out, "p", budget_s=600, dry_run=True, log=lambda m: None, root=tmp_path / "runs")
    e = state["items"]["18-tri-order"]
    assert e["status"] == "partial" and len(e["runs"]) == 1 and "measured" not in e
    monkeypatch.setattr(lease, "run_many", real)
    state = lease.run_plan(out, "p", budget_s=600, dry_run=True, log=lambda m: None, root=tmp_path / "runs2")
    e = state["items"]["18-tri-order"]
    assert asked == [2] and e["status"] == "done" and len(e["runs"]) == 2  # the kept member was not retrained
    assert set(e["measured"]["18"]["per_seed"]) == {"42", "137"}


def test_merge_adds_partial_members_and_keeps_resume_states(tmp_path, monkeypatch):
    monkeypatch.setattr(lease, "store_path", lambda plan: tmp_path / "results" / "gpu" / f"lease-{plan}.json")
    monkeypatch.setattr(lease, "resume_store", lambda: tmp_path / "results" / "gpu" / "resume")
    run = lambda k, acc: {"plan_key": k, "key": k, "config": {"max_steps": 10}, "measured": {"5": {"x": {k: acc}}}}
    env = {"gpu": "NVIDIA H200"}
    for i, (runs, status) in enumerate((([run("a", 0.1)], "partial"), ([run("b", 0.2)], "partial"))):
        d = tmp_path / f"lease{i}"
        d.mkdir()
        (d / "resume-i.tar").write_bytes(b"state")
        entry = {"status": status, "targets": [5], "runs": runs, "resume": "resume-i.tar"}
        (d / "lease.json").write_text(json.dumps({"plan": "p", "environment": env, "items": {"i": entry}}))
        stored = lease.merge(d / "lease.json")
    items = json.loads(stored.read_text())["items"]
    assert [r["plan_key"] for r in items["i"]["runs"]] == ["a", "b"]  # both leases' members
    assert (tmp_path / "results" / "gpu" / "resume" / "resume-i.tar").read_bytes() == b"state"


def test_paper_measure_merges_every_members_part_across_items(tmp_path, monkeypatch):
    monkeypatch.setattr(lease_measure, "store_path", lambda plan: tmp_path / f"lease-{plan}.json")
    part = lambda label, acc, steps: {"5": {"best_test_acc": {label: acc}, "budgets": {label: steps}}}
    r = lambda k, label, acc, steps: {
        "plan_key": k,
        "key": k,
        "config": {"max_steps": steps},
        "measured": part(label, acc, steps),
    }
    env = {"gpu": "NVIDIA H200", "torch": "2.13"}
    items = {
        "a": {
            "status": "done",
            "targets": [5, 6],
            "scale": "A",
            "runs": [r("1", "x seed 1", 0.3, 200_000)],
            "environment": env,
        },
        "b": {
            "status": "partial",
            "targets": [5],
            "scale": "B",
            "runs": [r("2", "add wd 0 seed 1", 0.5, 50_000)],
            "environment": env,
        },
        "c": {"status": "skipped", "targets": [5], "scale": "C", "runs": [], "environment": env},
    }
    (tmp_path / "lease-paper-scorecard.json").write_text(json.dumps({"items": items}))
    got = lease_measure.paper_measure(5, lambda p: pytest.fail("no fallback"))("paper")
    assert got["measured"]["best_test_acc"] == {"x seed 1": 0.3, "add wd 0 seed 1": 0.5}
    assert got["measured"]["budget"] == 50_000 and "1 item(s) partly run" in got["scale"]
    assert lease_measure.paper_measure(5, lambda p: "fallback")("default") == "fallback"


def test_merge_parts_concatenates_and_refuses_disagreement():
    a, b = {"k": {"x": [1]}, "n": 3}, {"k": {"x": [2], "y": [3]}, "n": 3}
    assert lease_plan.merge_parts([a, b]) == {"k": {"x": [1, 2], "y": [3]}, "n": 3}
    with pytest.raises(ValueError, match="disagree"):
        lease_plan.merge_parts([{"n": 1}, {"n": 2}])


def test_every_item_fits_about_240_seconds_at_the_stored_rates():
    stored = lease_measure._read(lease_measure.store_path("paper-scorecard")).get("items", {})
    rates = lease_estimate.plan_rates(stored)
    for item in lease.PLANS["paper-scorecard"]:
        if stored.get(item.key, {}).get("status") != "done" and not item.resumable:  # resumable: in parts
            assert lease_estimate.estimate_s(item, item.members(False), rates) <= 260, item.key


def test_estimate_walks_the_staircase():
    item = lease.Item("x", (18,), 1.0, None, None, "")
    cfg = lease_estimate.presets.FAST
    members = [(cfg.replace(max_steps=100), ()), (cfg.replace(max_steps=200), ())]
    rates = {16: 1600.0, 64: 3200.0}  # member-steps/s; below 16 members each runs at 100 steps/s
    assert lease_estimate.rate_at(2, rates) == pytest.approx(200.0)
    assert lease_estimate.rate_at(32, rates) == pytest.approx(2262.7, 0.01)
    # 100 steps with both members, then 100 with one: 1 s + 1 s
    assert lease_estimate.estimate_s(item, members, rates) == pytest.approx(2 * lease_estimate.SAFETY)
    assert lease_estimate.estimate_s(item, members, rates, factor=2.0) == pytest.approx(lease_estimate.SAFETY)


def test_merged_lease_is_what_reproduce_judges_at_the_paper_profile(dry, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="dry run"):
        lease.merge(dry / "lease.json")
    state = json.loads((dry / "lease.json").read_text())
    state["dry_run"], state["environment"]["gpu"] = False, "NVIDIA H200"  # as a real lease writes it
    real = tmp_path / "lease.json"
    real.write_text(json.dumps(state))
    store = lambda plan: tmp_path / "results" / "gpu" / f"lease-{plan}.json"
    monkeypatch.setattr(lease, "store_path", store)
    monkeypatch.setattr(lease_measure, "store_path", store)
    stored = lease.merge(real)
    assert set(json.loads(stored.read_text())["items"]) == set(state["items"])
    entry = reproduce.run("18", "paper", results=tmp_path / "results")
    assert entry["scale"].startswith("paper, one NVIDIA H200") and entry["lease"]["gpu"] == "NVIDIA H200"
    assert entry["measured"]["per_seed"] == state["items"]["18-tri-order"]["measured"]["18"]["per_seed"]
    assert entry["measured"]["cap"] and entry["checks"] and entry["verdict"]  # censored runs are judged at their cap
    entry5 = reproduce.run("5", "paper", results=tmp_path / "results")
    assert len(entry5["measured"]["best_test_acc"]) >= 2 and entry5["verdict"]  # every control item's runs


def test_earlier_leases_set_the_rates_at_their_own_size(tmp_path):
    scan = tmp_path / "scan.json"
    scan.write_text(
        json.dumps(
            {"ensemble_scan": {"N=16 fp32": {"model_steps_per_s": 1600.0}}, "train_speed": {"grokkit_ms_per_step": 0.5}}
        )
    )
    runs = [{"final_step": 30_000}, {"final_step": 60_000}]
    items = {
        "a": {"status": "done", "wall_time_s": 60.0, "runs": runs},  # 1500 member-steps/s with 2 runs
        "b": {"status": "done", "wall_time_s": 90.0, "runs": runs},  # slower: the slowest item sets the rate
        "c": {"status": "skipped", "runs": runs},
        "d": {"status": "done", "wall_time_s": 5.0, "runs": runs},  # too short to time (all cached)
        "e": {"status": "done", "wall_time_s": 90.0, "runs": [r | {"earlier": True} for r in runs]},  # not trained here
    }
    assert lease_estimate.lease_rates(items) == {2: pytest.approx(1000.0)}
    rates = lease_estimate.plan_rates(items, scan)
    assert rates == {1: pytest.approx(2000.0), 2: pytest.approx(1000.0), 16: 1600.0}  # the solo run is N = 1
    assert lease_estimate.plan_rates(items, tmp_path / "missing.json") == {}


def test_a_resume_state_comes_back_in_pieces_within_what_the_device_tool_brings_back(tmp_path, monkeypatch):
    part = tmp_path / "runs" / "ensemble-x.partial"
    part.mkdir(parents=True)
    (part / "members.json").write_text(json.dumps(["k1"]))
    (part / "state.pt").write_bytes(b"0" * 100)
    out = tmp_path / "out"
    got = lease_resume.pack(tmp_path / "runs", {"k1"}, out, "item", print)
    assert got["files"] == ["resume-item.tar"] and got["steps"] == {}
    with tarfile.open(out / "resume-item.tar") as tar:
        assert "ensemble-x.partial/state.pt" in tar.getnames()
    monkeypatch.setattr(lease_resume, "PART_BYTES", 4096)
    (part / "state.pt").write_bytes(bytes(range(256)) * 40)  # 10 kB, and the tar's blocks: several pieces
    got = lease_resume.pack(tmp_path / "runs", {"k1"}, out, "item", print)
    n = len(got["files"])
    assert n > 1 and got["files"] == [f"resume-item.tar.{i:02d}" for i in range(n)]
    assert not (out / "resume-item.tar").exists()  # the single-file state of the first pack is replaced
    assert all((out / f).stat().st_size <= 4096 for f in got["files"])
    home = tmp_path / "home"
    assert lease_resume.keep("item", got, out, home) and sorted(p.name for p in home.iterdir()) == got["files"]
    assert lease_resume.unpack("item", got, [home], tmp_path / "again", print)
    assert (tmp_path / "again" / "ensemble-x.partial" / "state.pt").read_bytes() == (part / "state.pt").read_bytes()
    (home / got["files"][1]).write_bytes(b"x" * 4096)  # a piece altered on the way
    lines = []
    assert not lease_resume.unpack("item", got, [home], tmp_path / "third", lines.append)
    assert "not usable" in lines[0] and not (tmp_path / "third").exists()
    with pytest.raises(ValueError, match="sha256"):
        lease_resume.keep("item", got, home, tmp_path / "home2")
    assert lease_resume.pack(tmp_path / "runs", {"k1"}, out, "item", print, max_bytes=5_000) is None  # too large
    assert not lease_resume.files_of("item", out)  # nothing half-kept
    assert lease_resume.pack(tmp_path / "runs", {"other"}, out, "item", print) is None


def test_a_resumable_item_runs_in_parts_lease_after_lease_to_the_uninterrupted_run(tmp_path, monkeypatch):
    import grokkit as gk
    from grokkit.store.runs import Run

    item = next(it for it in lease.PLANS["paper-scorecard"] if it.key == "25-slow-42")
    assert item.resumable and item.exact  # every lease trains the same run, whatever its mode
    monkeypatch.setattr(lease, "PLANS", {"p": (item,)})
    monkeypatch.setattr(lease, "store_path", lambda plan: tmp_path / "results" / "gpu" / f"lease-{plan}.json")
    monkeypatch.setattr(lease, "resume_store", lambda: tmp_path / "results" / "gpu" / "resume")
    monkeypatch.setattr(lease_resume, "PART_BYTES", 2**20)  # the state (≈ 4 MiB when dry) in several pieces
    real = lease.run_many
    cut = lambda members, deadline=None, **kw: real(members, deadline=PassedAfter(1), **kw)
    monkeypatch.setattr(lease, "run_many", cut)  # the budget runs out during the run: it stops at its first evaluation
    out, lines = tmp_path / "out", []
    mode = {"precision": "bf16"}  # not applied to an exact item
    state = lease.run_plan(out, "p", budget_s=600, dry_run=True, log=lines.append, root=tmp_path / "runs1", mode=mode)
    e = state["items"]["25-slow-42"]
    ((config, hooks),) = item.members(True)
    key = gk.run_dir(config, hooks).name
    assert e["status"] == "partial" and e["runs"] == [] and e["resume"]["steps"] == {key: config.eval_every}
    assert len(e["resume"]["files"]) > 1 and all((out / f).stat().st_size <= 2**20 for f in e["resume"]["files"])
    # the next lease, on a fresh machine (another run cache), goes on from there
    monkeypatch.setattr(lease, "run_many", real)
    state = lease.run_plan(out, "p", budget_s=600, dry_run=True, log=lines.append, root=tmp_path / "runs2", mode=mode)
    e = state["items"]["25-slow-42"]
    assert e["status"] == "done" and any("resuming from" in line for line in lines)
    assert not lease_resume.files_of("25-slow-42", out)  # a finished item's state does not come back
    resumed, whole = Run.load(tmp_path / "runs2" / key), gk.train(config, hooks, progress=False)
    assert resumed.history == whole.history and resumed.info["final_step"] == config.max_steps
    assert all(torch.equal(resumed.weights[n], w) for n, w in whole.weights.items())
    (r,) = e["measured"]["25"]["runs"]
    assert r["seed"] == 42 and r["K"] == 3 * 4 * 2 and len(r["rho_checkpoints"]) == config.max_steps // 20 + 1
    assert 0 < r["rho_min"]["exact"] <= 1 and r["random_rho"] < 1
    checks, verdict = reproduce.evaluate(targets.get("25"), e["measured"]["25"], "paper")
    assert len(checks) == 4 and verdict["verdict"]


def test_a_lease_merge_keeps_a_cut_items_resume_pieces_and_drops_them_when_it_is_done(tmp_path, monkeypatch):
    monkeypatch.setattr(lease, "store_path", lambda plan: tmp_path / "results" / "gpu" / f"lease-{plan}.json")
    monkeypatch.setattr(lease, "resume_store", lambda: tmp_path / "results" / "gpu" / "resume")
    monkeypatch.setattr(lease_resume, "PART_BYTES", 4096)
    part = tmp_path / "runs" / "k1.partial"
    part.mkdir(parents=True)
    torch.save({"step": 300_000}, part / "state.pt")
    (part / "chunk-00000.safetensors").write_bytes(bytes(range(256)) * 40)
    d = tmp_path / "lease1"
    info = lease_resume.pack(tmp_path / "runs", {"k1"}, d, "25-slow-42", print)
    assert info["steps"] == {"k1": 300_000} and len(info["files"]) > 1
    entry = {"status": "partial", "targets": [25], "runs": [], "resume": info}
    blob = {"plan": "p", "environment": {"gpu": "H200"}, "items": {"25-slow-42": entry}}
    (d / "lease.json").write_text(json.dumps(blob))
    lease.merge(d / "lease.json")
    store = tmp_path / "results" / "gpu" / "resume"
    assert sorted(p.name for p in store.iterdir()) == info["files"]
    # a later lease that kept no state (it did not fit) leaves the stored one, and its description, in place
    blob["items"]["25-slow-42"] = entry | {"resume": None}
    (d / "lease.json").write_text(json.dumps(blob))
    stored = json.loads(lease.merge(d / "lease.json").read_text())["items"]["25-slow-42"]
    assert stored["resume"] == info and sorted(p.name for p in store.iterdir()) == info["files"]
    blob["items"]["25-slow-42"] = entry | {"status": "done", "resume": None}
    (d / "lease.json").write_text(json.dumps(blob))
    lease.merge(d / "lease.json")
    assert not list(store.iterdir())


def test_the_slow_regimes_series_fit_what_a_lease_brings_back():
    """Target 25's whole run (at its cap) travels between leases in its resume state."""
    from grokkit.repro import lease_items

    for s in lease_items.SLOW_SEEDS:
        config = lease_items.slow_config(s)
        assert config.max_steps == 800_000 and config.n_layers == 3 and config.lr == 5e-5
        assert lease_items.resume_bytes(config) + 2**20 <= lease_resume.MAX_BYTES  # 1 MiB for the tar and history
    # a whole resume state, a bundle part and lease.json's room fit what the device tool brings back
    assert lease_resume.MAX_BYTES + lease.BUNDLE_PART_BYTES + lease_resume.OUT_RESERVE <= lease_resume.OUT_MAX_BYTES
    assert lease_resume.PART_BYTES < 16 * 2**20 and lease_resume.MAX_BYTES / lease_resume.PART_BYTES <= 4


def test_a_lease_killed_mid_item_keeps_the_members_that_finished(tmp_path, monkeypatch):
    item = next(it for it in lease.PLANS["paper-scorecard"] if it.key == "18-tri-order")  # 2 members when dry
    monkeypatch.setattr(lease, "PLANS", {"p": (item,)})
    monkeypatch.setattr(lease, "store_path", lambda plan: tmp_path / "store" / f"lease-{plan}.json")
    real = lease.run_many

    def killed(members, on_run=None, **kw):  # the first member finishes, then the machine is gone
        runs, _, _ = real(members[:1], **kw)
        on_run(0, runs[0])
        raise KeyboardInterrupt

    monkeypatch.setattr(lease, "run_many", killed)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        lease.run_plan(out, "p", budget_s=600, dry_run=True, log=lambda m: None, root=tmp_path / "runs")
    e = json.loads((out / "lease.json").read_text())["items"]["18-tri-order"]
    assert e["status"] == "partial" and len(e["runs"]) == 1 and e["runs"][0]["measured"]["18"]
    asked = []
    monkeypatch.setattr(lease, "run_many", lambda members, **kw: asked.append(len(members)) or real(members, **kw))
    state = lease.run_plan(out, "p", budget_s=600, dry_run=True, log=lambda m: None, root=tmp_path / "runs2")
    assert asked == [1] and state["items"]["18-tri-order"]["status"] == "done"


def test_target_10s_runs_are_placed_in_their_own_phase_cells():
    """Target 10's items train Chapter 5's paper-profile grid (216 runs); each run's cell is read back from the run
    itself (its LRD hook's strength or L2's weight decay), since the lease's mode changes its cache key."""
    from types import SimpleNamespace

    from grokkit import book

    settings = book.chapter5("paper")
    grid, cells = book.fair.phase_members(settings)
    assert len(grid) == 2 * 6 * 6 * 3
    for (config, hooks), cell in zip(grid, cells):
        run = SimpleNamespace(config=config, info={"key": "k", "hooks": [h.key for h in hooks if h.key]})
        assert book.fair.phase_cell(run, settings) == cell
    config, hooks = grid[0]
    stray = SimpleNamespace(config=config.replace(weight_decay=0.123), info={"key": "k", "hooks": []})
    with pytest.raises(ValueError, match="not in the phase grid"):
        book.fair.phase_cell(stray, settings)
    members = {it.key: it.members(False) for it in lease.PLANS["paper-scorecard"] if it.target == 10}
    assert sorted(members) == ["10-lrd-phase-l2", "10-lrd-phase-lrd"] and sum(map(len, members.values())) == len(grid)


def test_the_phase_grid_items_bring_their_runs_back_as_metrics_only_bundles(tmp_path, monkeypatch):
    import dataclasses

    from grokkit import book
    from grokkit.book.settings import PAPER_GRID_SEEDS, PHASE_TRAIN_FRACS
    from grokkit.store.bundle import import_bundle
    from grokkit.store.runs import WEIGHTS, Run

    items = [it for it in lease.PLANS["paper-scorecard"] if it.bundle == "phase-paper"]
    assert len(items) == 24 and all(it.exact and not it.targets for it in items)
    assert {len(it.members(False)) for it in items} == {len(PHASE_TRAIN_FRACS)}
    mine = [it for it in items if it.key.startswith(("01-phase-paper-0-", "01-phase-paper-1-"))]  # 2 wd x 3 seeds
    monkeypatch.setattr(lease, "PLANS", {"p": tuple(mine)})
    monkeypatch.setattr(lease, "store_path", lambda plan: tmp_path / "results" / "gpu" / f"lease-{plan}.json")
    out = tmp_path / "out"
    mode = {"precision": "bf16", "cuda_graph": True}  # an exact item keeps only the runtime override
    state = lease.run_plan(out, "p", budget_s=600, dry_run=True, log=lambda m: None, root=tmp_path / "runs", mode=mode)
    assert all(e["status"] == "done" and e["mode"] == {"cuda_graph": True} for e in state["items"].values())
    (b,) = state["bundles"]
    assert b["file"] == f"phase-paper-{b['sha256'][:16]}.tar" and len(b["keys"]) == 6 and b["size"] < 2**24
    keys = import_bundle(out / b["file"], root=tmp_path / "reader")
    assert sorted(keys) == sorted(b["keys"])
    for k in keys:
        run = Run.load(tmp_path / "reader" / k)
        assert WEIGHTS in run.trimmed and run.history == Run.load(tmp_path / "runs" / k).history
    # back home: merge checks each part against lease.json and keeps it in results/bundles/
    blob = json.loads((out / "lease.json").read_text()) | {"dry_run": False}
    (out / "lease.json").write_text(json.dumps(blob))
    lease.merge(out / "lease.json")
    assert (tmp_path / "results" / "bundles" / b["file"]).read_bytes() == (out / b["file"]).read_bytes()
    # Chapter 1 reads the grid from the parts when they hold every cell
    settings = dataclasses.replace(
        book.chapter1("smoke"), weight_decays=[0.0, 1.0], train_fracs=[PHASE_TRAIN_FRACS[-1]]
    )
    base = book.chapter1("smoke").grid_base.replace(max_steps=100)
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path / "chapter"))
    grid, source = book.phase_grid(
        settings,
        "default",
        bundle=[tmp_path / "results" / "bundles" / b["file"]],
        base=base,
        seeds=PAPER_GRID_SEEDS,
        progress=False,
    )
    assert len(grid.runs) == 6 and "their curves only" in source and all(WEIGHTS in r.trimmed for r in grid.runs)
    blob["bundles"][0]["sha256"] = "0" * 64  # a part that is not the one lease.json describes
    (out / "lease.json").write_text(json.dumps(blob))
    with pytest.raises(ValueError, match="sha256"):
        lease.merge(out / "lease.json")


def test_the_chapter_1_items_train_every_run_chapter_1_loads_at_the_paper_profile():
    """Item.chapter names the chapter whose paper-profile runs an item trains: Chapter 1's items hold every run
    its notebook loads at the paper profile (the runs the GPU row of its chapter times stands for)."""
    from grokkit import book
    from grokkit.book.settings import PAPER_GRID, PAPER_GRID_SEEDS
    from grokkit.training.cache import run_key

    s = book.chapter1("paper")
    items = [it for it in lease.PLANS["paper-scorecard"] if it.chapter == "01_grokking"]
    have = {run_key(c, h) for it in items for c, h in it.members(False)}
    loads = [book.op_member(s, op, seed) for op in s.ops for seed in book.seeds_for(s, op)]
    loads += [(s.base, book.defect_hooks(s)), book.op_member(s, "add", s.base.seed, weight_decay=0.0)]
    cells = [(w, f, seed) for w in s.weight_decays for f in s.train_fracs for seed in PAPER_GRID_SEEDS]
    loads += [(PAPER_GRID.replace(weight_decay=w, train_frac=f, seed=seed), ()) for w, f, seed in cells]
    assert {run_key(c, h) for c, h in loads} == have  # every run it loads, and no other
    assert all(
        it.chapter is None for it in lease.PLANS["paper-scorecard"] if it.key in ("05-add-wd0-137", "25-slow-42")
    )


def test_a_chapter_whose_items_are_all_done_gets_a_gpu_row_in_its_times(tmp_path, monkeypatch, capsys):
    from grokkit.book import colab, times

    monkeypatch.setattr(lease, "store_path", lambda plan: tmp_path / "results" / "gpu" / f"lease-{plan}.json")
    monkeypatch.setattr(lease_measure, "store_path", lambda plan: tmp_path / "results" / "gpu" / f"lease-{plan}.json")
    ch1 = [it for it in lease.PLANS["paper-scorecard"] if it.chapter == "01_grokking"]
    first, rest = ch1[0], ch1[1:]
    entry = lambda status, wall: {"status": status, "targets": [], "runs": [], "wall_time_s": wall, "mode": {}}
    env = {"gpu": "NVIDIA H200"}

    def merge(items):
        d = tmp_path / f"lease{len(list(tmp_path.glob('lease*')))}"
        d.mkdir()
        (d / "lease.json").write_text(json.dumps({"plan": "paper-scorecard", "environment": env, "items": items}))
        lease.merge(d / "lease.json")
        return json.loads(lease.gpu_times_path().read_text())["paper"] if lease.gpu_times_path().exists() else {}

    assert merge({it.key: entry("done", 10.0) for it in rest} | {first.key: entry("partial", 100.0)}) == {}
    row = merge({first.key: entry("done", 50.0)})["01_grokking"]  # its two leases' times add up
    assert row["wall_time_s"] == 10.0 * len(rest) + 150.0 and row["lower_bound"] and len(row["items"]) == len(ch1)
    assert row["machine"].startswith("NVIDIA H200") and "measurements are not included" in row["basis"]
    recorded = times.chapter_times(tmp_path / "results")
    assert recorded["paper"]["01_grokking"]["wall_time_s"] == row["wall_time_s"]
    (tmp_path / "results" / "chapters" / "paper").mkdir()
    own = {"profile": "paper", "chapter": "01_grokking", "wall_time_s": 9.0, "device": "NVIDIA A100"}
    (tmp_path / "results" / "chapters" / "paper" / "01_grokking.json").write_text(json.dumps(own))
    assert times.chapter_times(tmp_path / "results")["paper"]["01_grokking"]["wall_time_s"] == 9.0  # its own wins
    # a reader on a GPU is told what the row covers; `auto` does not choose a profile by a lower bound
    monkeypatch.setattr(colab, "recorded_times", lambda: recorded)
    assert colab.estimate_s("01_grokking", "paper", True) is None
    colab.start("01_grokking", "smoke", cuda=True)
    colab.start("01_grokking", "paper", cuda=True)
    out = capsys.readouterr().out
    assert "its runs' training took" in out and "measurements are not included" in out


def test_the_resume_state_a_slow_run_leaves_is_what_resume_bytes_counts(tmp_path):
    """The state of the slow regime's model (3 layers, 422,881 parameters) stopped by a deadline: weights, AdamW,
    θ checkpoints and the attention sketch, in the bytes `resume_bytes` counts for them."""
    import grokkit as gk
    from grokkit.repro import lease_items
    from grokkit.training.train import Interrupted

    config = lease_items.slow_config(42).replace(max_steps=300, eval_every=100, checkpoint_every=100, device="cpu")
    hooks = lease_items.slow_hooks(every=100)
    with pytest.raises(Interrupted) as stopped:  # at the run's 2nd evaluation
        gk.train(config, hooks, progress=False, resume_dir=tmp_path / "r", deadline=PassedAfter(1))
    assert stopped.value.step == 200  # θ at 0, 100, 200: one checkpoint fewer than at the cap
    size = sum(p.stat().st_size for p in (tmp_path / "r").iterdir())
    P = gk.n_params(gk.build_model(config))
    assert P == 422_881 and 0 <= lease_items.resume_bytes(config) - size <= 4 * P + 2**16


def test_a_resumed_runs_estimate_counts_only_the_steps_left():
    from grokkit.training.cache import run_key

    item = next(it for it in lease.PLANS["paper-scorecard"] if it.key == "25-slow-42")
    ((config, hooks),) = members = item.members(False)
    rates = {1: 2000.0, 16: 4000.0}
    whole = lease_estimate.estimate_s(item, members, rates)
    steps = lease_estimate.steps_of(item, config)
    assert steps == 614_000  # the paper's t98 for seed 42 and the stop rule's two more evaluations
    half = lease_estimate.estimate_s(item, members, rates, started={run_key(config, hooks): steps // 2})
    assert half == pytest.approx(whole / 2)
    assert lease_estimate.estimate_s(item, members, rates, started={run_key(config, hooks): 10**7}) == 0.0
