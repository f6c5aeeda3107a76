"""A chapter's stored time is the time with its training: a warm re-execution (every run from the cache)
keeps the stored time of an execution that trained more of its runs (with that execution's commit and device) and
stores its own beside it."""

import json

from grokkit.book.execute import store_metrics
from grokkit.book.times import chapter_times


def _metrics(tmp_path, trained, keys=("a", "b")):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"x": 1.5, "run_keys": list(keys), "runs_trained": trained}))
    return path


def test_a_warm_execution_keeps_the_time_that_trained(tmp_path):
    results = tmp_path / "results"
    out = store_metrics("01_x", "default", _metrics(tmp_path, 2), 1800.0, results, device="slow box")
    cold = json.loads(out.read_text())
    assert cold["wall_time_s"] == 1800.0 and cold["runs_trained"] == 2 and "warm_wall_time_s" not in cold
    store_metrics("01_x", "default", _metrics(tmp_path, 0), 12.0, results, device="fast box")
    warm = json.loads(out.read_text())
    assert warm["wall_time_s"] == 1800.0 and warm["warm_wall_time_s"] == 12.0
    assert warm["wall_time_device"] == "slow box" and warm["device"] == "fast box"
    assert warm["wall_time_commit"] == cold["git_commit"] and warm["metrics"] == {"x": 1.5}
    assert chapter_times(results)["default"]["01_x"] == {"wall_time_s": 1800.0, "machine": "slow box"}
    store_metrics("01_x", "default", _metrics(tmp_path, 0), 11.0, results)  # warm again: still the cold time
    assert json.loads(out.read_text())["wall_time_s"] == 1800.0


def test_only_an_execution_that_trained_as_many_runs_replaces_the_time(tmp_path):
    results = tmp_path / "results"
    store_metrics("01_x", "default", _metrics(tmp_path, 2), 1800.0, results)
    out = store_metrics("01_x", "default", _metrics(tmp_path, 1), 700.0, results)  # one changed run retrained
    blob = json.loads(out.read_text())
    assert blob["wall_time_s"] == 1800.0 and blob["runs_trained"] == 2 and "warm_wall_time_s" not in blob  # not warm
    store_metrics("01_x", "default", _metrics(tmp_path, 0), 20.0, results)
    out = store_metrics("01_x", "default", _metrics(tmp_path, 1), 650.0, results)  # trained one: the warm time stays
    assert json.loads(out.read_text())["warm_wall_time_s"] == 20.0
    out = store_metrics("01_x", "default", _metrics(tmp_path, 2), 1500.0, results)  # cold again (faster code)
    blob = json.loads(out.read_text())
    assert blob["wall_time_s"] == 1500.0 and blob["runs_trained"] == 2 and "warm_wall_time_s" not in blob
    first = store_metrics("02_y", "default", _metrics(tmp_path, 0), 9.0, results)  # nothing stored before: its own
    assert json.loads(first.read_text())["wall_time_s"] == 9.0
