"""Sweeps on a concurrent.futures.Executor (grokkit.engines.distributed): a Dask cluster trains into a shared
cache once; a failed task, a run that never reached the cache and a stacked block on a thread pool."""

import concurrent.futures as cf
import pickle
import sys

import pytest
import torch

import grokkit as gk
from grokkit.engines.distributed import TaskFailed
from grokkit.engines.sweep import run_many, sweep

BASE = gk.presets.FAST.replace(max_steps=40, stop_threshold=None, snapshot_every=0, checkpoint_every=0)


class _Refuses(cf.Executor):
    def submit(self, fn, *args, **kwargs):
        raise AssertionError("nothing should be submitted: every run is cached")


def test_a_dask_cluster_trains_a_sweep_into_the_shared_cache_once(runs_root, monkeypatch):
    distributed = pytest.importorskip("distributed")

    def not_here(*a, **k):
        raise AssertionError("the workers train, not the caller")

    monkeypatch.setattr(sys.modules["grokkit.training.cache"], "train", not_here)  # this process only
    grid = dict(weight_decay=[1.0, 0.3], seed=[1, 2])
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = sweep(BASE, root=runs_root, progress=False, executor=client.get_executor(), **grid)
    assert res.engine == "executor:ClientExecutor"
    assert len(res) == 4 and res.timing["trained"] == 4 and res.timing["cached"] == 0 and res.timing["tasks"] == 4
    for pt, run in res:
        assert run.config.weight_decay == pt["weight_decay"] and run.config.seed == pt["seed"]
        assert len(run.history["step"]) > 1
    again = sweep(BASE, root=runs_root, progress=False, executor=_Refuses(), **grid)
    assert again.engine == "cache" and again.timing == {"cached": 4, "trained": 0}
    assert [r.history for r in again.runs] == [r.history for r in res.runs]


class _Boom(gk.Hook):
    key = "boom"

    def on_start(self, ctx):
        raise ValueError("boom at the start")


def test_a_failed_task_is_a_clear_error_with_the_workers_traceback(runs_root):
    members = [(BASE.replace(seed=1), ()), (BASE.replace(seed=2), (_Boom(),))]
    with cf.ThreadPoolExecutor(2) as ex, pytest.raises(TaskFailed) as err:
        run_many(members, root=runs_root, engine="sequential", progress=False, executor=ex)
    text = str(err.value)
    assert "a sweep task failed: " in text and "seed=2" in text
    assert "Traceback" in text and "ValueError: boom at the start" in text and "on_start" in text
    assert pickle.loads(pickle.dumps(err.value)).args == err.value.args  # it crosses process boundaries
    assert gk.run_dir(BASE.replace(seed=1), root=runs_root).exists()  # the other task finished and is cached


class _Elsewhere(cf.ThreadPoolExecutor):
    """Workers that see another file system: their tasks 'succeed' and nothing reaches our cache."""

    def submit(self, fn, *args, **kwargs):
        return super().submit(lambda: "/elsewhere/run")


def test_a_run_missing_after_its_task_names_its_config(runs_root):
    with _Elsewhere(1) as ex, pytest.raises(RuntimeError, match=r"run of .*seed=3.* is not in .*shared file system"):
        run_many([(BASE.replace(seed=3), ())], root=runs_root, progress=False, executor=ex)


def test_a_stacked_block_per_task_trains_the_solo_runs(runs_root):
    members = [(BASE.replace(seed=s), ()) for s in (1, 2)]
    with cf.ThreadPoolExecutor(1) as ex:
        runs, used, timing = run_many(members, root=runs_root, engine="ensemble", progress=False, executor=ex)
    assert used == "executor:ThreadPoolExecutor" and timing["tasks"] == 1 and timing["task_engine"] == "ensemble"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as a task trains (and several times faster on a loaded 2-core machine)
    try:
        for run, (c, _) in zip(runs, members):
            solo = gk.train(c, progress=False)
            for got, want in zip(run.history["train_loss"], solo.history["train_loss"]):
                assert abs(got[0] - want[0]) < 1e-3
    finally:
        torch.set_num_threads(threads)
    assert not list(runs_root.glob("ensemble-*.partial"))
