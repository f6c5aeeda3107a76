import sys

import pytest

import grokkit as gk
from grokkit.engines.sweep import choose_engine, run_many, sweep

BASE = gk.presets.FAST.replace(max_steps=60, stop_threshold=None, snapshot_every=0)


def test_mixed_sweep_saves_loadable_runs_that_the_cache_reuses(runs_root, monkeypatch):
    res = sweep(BASE, weight_decay=[1.0, 0.3], seed=[1, 2], root=runs_root, progress=False)
    assert len(res) == 4 and res.timing["trained"] == 4
    assert [pt for pt in res.points()] == [{"weight_decay": w, "seed": s} for w in (1.0, 0.3) for s in (1, 2)]
    for pt, run in res:
        assert run.config.weight_decay == pt["weight_decay"] and run.config.seed == pt["seed"]
        assert gk.Run.load(gk.run_dir(run.config, root=runs_root)).history == run.history
    assert res.grid(lambda r: r.final("test_acc")[0]).shape == (2, 2)
    assert [r.config.seed for r in res.select(weight_decay=0.3)] == [1, 2]

    def no_training(*a, **k):
        raise AssertionError("should have come from the cache")

    monkeypatch.setattr(sys.modules["grokkit.training.cache"], "train", no_training)
    monkeypatch.setattr(sys.modules["grokkit.engines.choose"], "train", no_training)
    again = sweep(BASE, weight_decay=[1.0, 0.3], seed=[1, 2], root=runs_root, progress=False)
    assert again.engine == "cache" and [r.history for r in again.runs] == [r.history for r in res.runs]


@pytest.mark.parametrize("engine", ["sequential", "processes", "ensemble"])
def test_every_engine_trains_the_same_runs(engine, runs_root):
    runs, used, _ = run_many(
        [(BASE.replace(seed=s), ()) for s in (1, 2)], root=runs_root, engine=engine, progress=False
    )
    assert used == engine
    for run, s in zip(runs, (1, 2)):
        solo = gk.train(BASE.replace(seed=s), progress=False)
        for got, want in zip(run.history["train_loss"], solo.history["train_loss"]):
            assert abs(got[0] - want[0]) < 1e-3


def test_engine_choice_is_measured():
    engine, ms = choose_engine([(BASE.replace(seed=s), ()) for s in (1, 2, 3)])
    assert engine in ("sequential", "processes", "ensemble") and "sequential" in ms
    assert all(v > 0 for v in ms.values())
    if engine != "sequential":
        assert ms[engine] <= 0.9 * ms["sequential"]


def test_bad_sweeps_are_clear_errors():
    with pytest.raises(ValueError, match="not a config field"):
        sweep(BASE, wd=[1.0])
    with pytest.raises(ValueError, match="must be a list"):
        sweep(BASE, weight_decay=1.0)
    with pytest.raises(ValueError, match="engine must be one of"):
        run_many([(BASE, ())], engine="magic")


class _EveryStep(gk.Hook):
    key = "every-step"

    def on_step(self, ctx):
        pass


def test_engine_choice_prices_budgets_and_leaves_hooked_runs_off_the_cpu_ensemble(monkeypatch):
    """The choice budgets each member's max_steps (no fixed guess), and on a CPU the ensemble is not a
    candidate for runs with per-step hooks (it calls them member by member; the probe cannot time that)."""
    sw = sys.modules["grokkit.engines.choose"]
    sw._CHOICES.clear()
    base = BASE.replace(device="cpu", max_steps=40)
    hooked = [(base.replace(seed=s), (_EveryStep(),)) for s in (1, 2, 3)]
    _, ms = choose_engine(hooked)
    assert "ensemble" not in ms
    sw._CHOICES.clear()
    _, ms = choose_engine([(base.replace(seed=s), ()) for s in (1, 2, 3)])
    assert "ensemble" in ms
    sw._CHOICES.clear()


def test_a_deadline_stops_an_ensemble_sweep_keeping_finished_members_and_resume_state(tmp_path):
    import time

    from grokkit.engines.ensemble_resume import member_keys

    short, long = BASE.replace(max_steps=20, eval_every=10), BASE.replace(max_steps=100_000, eval_every=10, seed=1)
    members = [(short, ()), (long, ())]
    runs, engine, timing = run_many(
        members, root=tmp_path, engine="ensemble", progress=False, deadline=time.perf_counter() + 3
    )
    assert engine == "ensemble" and runs[0] is not None and runs[1] is None and timing["unfinished"] == 1
    (partial,) = tmp_path.glob("ensemble-*.partial")  # the cut chunk's resume state, kept for the next call
    assert gk.run_dir(long, root=tmp_path).name in member_keys(partial)
    runs, _, timing = run_many(members, root=tmp_path, engine="ensemble", progress=False, deadline=time.perf_counter())
    assert timing["cached"] == 1 and runs[0] is not None and runs[1] is None  # a past deadline starts nothing
    runs, _, timing = run_many(members, root=tmp_path, engine="sequential", progress=False, deadline=0.0)
    assert runs[1] is None and timing["unfinished"] == 1
