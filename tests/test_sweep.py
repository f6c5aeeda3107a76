import sys

import numpy as np
import pytest

import grokkit as gk
from grokkit.sweep import choose_engine, run_many, sweep

BASE = gk.presets.FAST.replace(max_steps=60, stop_threshold=None, snapshot_every=0)


def test_mixed_sweep_saves_loadable_runs_that_the_cache_reuses(runs_root, monkeypatch):
    res = sweep(BASE, weight_decay=[1.0, 0.3], seed=[1, 2], root=runs_root, progress=False)
    assert len(res) == 4 and res.timing["trained"] == 4
    assert [pt for pt in res.points()] == [{"weight_decay": w, "seed": s} for w in (1.0, 0.3) for s in (1, 2)]
    for pt, run in res:
        assert run.config.weight_decay == pt["weight_decay"] and run.config.seed == pt["seed"]
        assert gk.Run.load(gk.runs.run_dir(run.config, root=runs_root)).history == run.history
    assert res.grid(lambda r: r.final("test_acc")[0]).shape == (2, 2)
    assert [r.config.seed for r in res.select(weight_decay=0.3)] == [1, 2]

    def no_training(*a, **k):
        raise AssertionError("should have come from the cache")
    monkeypatch.setattr(sys.modules["grokkit.train"], "train", no_training)
    again = sweep(BASE, weight_decay=[1.0, 0.3], seed=[1, 2], root=runs_root, progress=False)
    assert again.engine == "cache" and [r.history for r in again.runs] == [r.history for r in res.runs]


@pytest.mark.parametrize("engine", ["sequential", "processes", "ensemble"])
def test_every_engine_trains_the_same_runs(engine, runs_root):
    runs, used, _ = run_many([(BASE.replace(seed=s), ()) for s in (1, 2)], root=runs_root, engine=engine,
                             progress=False)
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


def test_long_runs_engine_runs_whole_runs_in_parallel_on_a_multicore_cpu(monkeypatch):
    sw = sys.modules["grokkit.sweep"]  # the module (gk.sweep is the function)
    cfg = gk.presets.FAST.replace(device="cpu")
    monkeypatch.setattr(sw.os, "cpu_count", lambda: 2)
    assert gk.long_runs_engine(cfg) == "processes"
    monkeypatch.setattr(sw.os, "cpu_count", lambda: 1)
    assert gk.long_runs_engine(cfg) == "auto"
