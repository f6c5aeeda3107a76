import json
import os
import sys

import pytest
import torch

import grokkit as gk
from grokkit.store import runs
from grokkit.store.runs import CorruptRun, Run
from grokkit.training.cache import run_dir

SMALL = gk.presets.FAST.replace(max_steps=120, stop_threshold=None)


def test_save_and_load_round_trip(tmp_path, fast_run):
    path = fast_run.save(tmp_path / "r")
    assert sorted(os.listdir(path)) == sorted(runs.FILES + ("manifest.json",))
    back = Run.load(path)
    assert back.config == fast_run.config and back.history == fast_run.history
    assert back.grok_step() == fast_run.grok_step()
    assert all(torch.equal(back.weights[k], v) for k, v in fast_run.weights.items())
    assert torch.equal(back.split[0], fast_run.split[0])
    assert torch.equal(back.trajectory("theta")[1], fast_run.trajectory("theta")[1])
    # the rebuilt model reproduces the stored final accuracy on the stored split
    acc = gk.evaluate(back.model(), back.dataset(), back.config)[1, 0]
    assert abs(float(acc) - back.final("test_acc")[0]) < 1e-6
    # metrics are readable JSON, weights are safetensors: nothing is unpickled
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["history"]["step"][0] == 0
    assert (path / "weights.safetensors").read_bytes()[8:9] == b"{"


def test_a_corrupted_file_is_detected(tmp_path, fast_run):
    path = fast_run.save(tmp_path / "r")
    data = bytearray((path / "weights.safetensors").read_bytes())
    data[-10] ^= 0xFF
    (path / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(CorruptRun, match="checksum"):
        Run.load(path)
    (path / "manifest.json").unlink()
    with pytest.raises(CorruptRun, match="manifest"):
        Run.load(path)


def test_a_failed_write_leaves_nothing_that_looks_finished(tmp_path, fast_run, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(runs, "save_file", boom)
    with pytest.raises(OSError):
        fast_run.save(tmp_path / "r")
    assert list(tmp_path.iterdir()) == []


def test_load_or_train_caches_and_retrains_corrupt_entries(runs_root, monkeypatch, capsys):
    first = gk.load_or_train(SMALL, root=runs_root, progress=False)
    path = run_dir(SMALL, root=runs_root)
    assert path.exists() and not path.with_name(path.name + ".partial").exists()

    def no_training(*a, **k):
        raise AssertionError("should have come from the cache")

    monkeypatch.setattr(sys.modules["grokkit.training.cache"], "train", no_training)
    again = gk.load_or_train(SMALL, root=runs_root, progress=False)
    assert again.history == first.history and again.info == first.info
    monkeypatch.undo()

    (path / "metrics.json").write_text("{ truncated")
    retrained = gk.load_or_train(SMALL, root=runs_root, progress=False)
    assert "corrupt" in capsys.readouterr().out
    assert retrained.history == first.history and Run.load(path).history == first.history


def test_hooks_get_their_own_cache_entry(runs_root):
    basis = torch.eye(gk.n_params(gk.build_model(SMALL)), 2)
    hook = gk.GradientProjection(basis, 0.5)
    assert run_dir(SMALL, [hook], root=runs_root) != run_dir(SMALL, root=runs_root)


def test_a_run_published_without_its_weights_keeps_its_curves_and_trains_when_they_are_read(tmp_path, monkeypatch):
    import hashlib

    import grokkit.training.cache as cache
    from grokkit.store.runs import WEIGHTS, TrimmedRecord

    config = gk.presets.FAST.replace(max_steps=40, stop_threshold=None)
    whole = gk.load_or_train(config, root=tmp_path / "a", progress=False)
    key = whole.info["key"]
    small = whole.trim((), weights=False).save(tmp_path / "b" / key)  # metrics only: curves, config, split
    assert (small / "weights.safetensors").stat().st_size < 200 and not Run.load(small).tensors
    copy = Run.load(small)
    assert copy.trimmed[-1:] == [WEIGHTS] or WEIGHTS in copy.trimmed
    assert copy.history == whole.history and copy.grok_step() == whole.grok_step()
    with pytest.raises(TrimmedRecord, match="without its final weights"):
        copy.model()
    with pytest.raises(TrimmedRecord):
        dict(copy.weights)
    loaded = gk.load_or_train(config, root=tmp_path / "b", progress=False)  # the cache knows how to train it
    assert torch.equal(loaded.model().state_dict()["embed.weight"], whole.weights["embed.weight"])
    assert loaded.trimmed == [] and Run.load(tmp_path / "b" / key).trimmed == []
    # a run that says it was published without its weights but holds them is corrupt
    path = cache.run_dir(config, root=tmp_path / "a")
    info = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**info, "trimmed": [WEIGHTS]}))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["config.json"] = hashlib.sha256((path / "config.json").read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptRun, match="must hold none"):
        Run.load(path)
