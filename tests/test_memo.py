"""Measurements made once (grokkit.book.memo, grokkit.store.measures): a memoized measurement is computed
once per input, read back exactly (types, tensors, the generator it drew from), published beside a
chapter's runs and read from there by a reader, refused when altered; its reads do not count as the
chapter's; and a run published without a series such a measurement reads trains in full when the
published value does not apply."""

import json
import math

import numpy as np
import pytest
import torch

import grokkit as gk
import grokkit.training.cache as cache
from grokkit.book import measured, memo, prose
from grokkit.book.execute import publish_runs
from grokkit.store import measures, published
from grokkit.store.runs import Run, TrimmedRecord

TINY = gk.presets.FAST.replace(max_steps=40, stop_threshold=None)


@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path):
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path / "cache"))
    monkeypatch.delenv("GROKKIT_MEMO", raising=False)
    monkeypatch.delenv("GROKKIT_SITE", raising=False)
    published.forget()
    yield
    published.forget()


def counted(fn):
    calls = []

    def f(*a, **k):
        calls.append(1)
        return fn(*a, **k)

    f.__qualname__ = f"counted_{fn.__name__}_{id(calls)}"
    return memo.memoized(f), calls


def test_values_round_trip_exactly():
    value = {
        "floats": [0.1, 1 / 3, float("nan"), float("inf"), -float("inf"), 1e-300],
        "tuple_keys": {(0, "W_Q"): 0.5, (1, "W_O"): (1, None, True)},
        "tensors": [torch.randn(3, 4, dtype=torch.float64), torch.arange(5), torch.zeros(0, 3), torch.tensor(True)],
        "array": np.linspace(0, 1, 7, dtype=np.float32),
        "np": [np.float64(0.25), np.int64(3)],
        "nested": [[1, "a"], {"b": None}],
    }
    back = measures.decode(json.loads(json.dumps(measures.encode(value), allow_nan=False)))
    assert (
        back["floats"][:2] == [0.1, 1 / 3]
        and math.isnan(back["floats"][2])
        and back["floats"][3:] == [float("inf"), -float("inf"), 1e-300]
    )
    assert back["tuple_keys"] == {(0, "W_Q"): 0.5, (1, "W_O"): (1, None, True)}
    for a, b in zip(value["tensors"], back["tensors"]):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    assert back["array"].dtype == np.float32 and np.array_equal(back["array"], value["array"])
    assert back["np"] == [0.25, 3] and back["nested"] == [[1, "a"], {"b": None}]


@pytest.mark.parametrize(
    "bad, why",
    [
        ({"__tensor__": "torch.float32", "shape": [2], "data": "AAAA"}, "bytes for a"),
        ({"__tensor__": "object", "shape": [1], "data": ""}, "not one that is kept"),
        ({"__ndarray__": "object", "shape": [1], "data": ""}, "not one that is kept"),
        ({"__float__": "1e5"}, "non-finite"),
        ({"__tensor__": "torch.float32", "shape": [-1], "data": ""}, "negative"),
        ({"__dict__": [[{"a": 1}, 2]]}, "malformed"),
        ({"__tensor__": "torch.float32", "shape": [1], "data": "not base64!"}, "malformed"),
    ],
)
def test_a_value_that_does_not_decode_is_refused(bad, why):
    with pytest.raises(measures.MeasureError, match=why):
        measures.decode({"x": [bad]})


def test_a_type_that_is_not_kept_is_computed_every_time():
    f, calls = counted(lambda x: object())
    f(1), f(1)
    assert len(calls) == 2 and not list(measures.local_dir().glob("*.json"))
    g, calls = counted(lambda x: 2)
    g(object()), g(object())  # an argument that is not keyed: an ordinary call
    assert len(calls) == 2


def test_a_measurement_is_computed_once_per_input_and_its_generator_is_left_as_computing_left_it():
    def draw(t, n, generator):
        return {"sum": float(t.sum()), "noise": torch.randn(n, generator=generator, dtype=torch.float64)}

    f, calls = counted(draw)
    t = torch.arange(6.0)
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    first = f(t, 3, generator=g1)
    after_first = torch.randn(4, generator=g1)
    second = f(t, 3, generator=g2)  # read back, the generator moved as the computation moves it
    assert len(calls) == 1 and torch.equal(first["noise"], second["noise"]) and first["sum"] == second["sum"]
    assert torch.equal(torch.randn(4, generator=g2), after_first)
    f(t, 4, generator=torch.Generator().manual_seed(7))  # another argument
    f(t + 1e-7, 3, generator=torch.Generator().manual_seed(7))  # other bytes
    f(t, 3, generator=torch.Generator().manual_seed(8))  # another generator state
    assert len(calls) == 4


def test_memo_off_computes_and_a_corrupt_local_entry_is_recomputed(monkeypatch):
    f, calls = counted(lambda x: [x, x])
    assert f(2) == [2, 2] and f(2) == [2, 2] and len(calls) == 1
    (path,) = measures.local_dir().glob("*.json")
    path.write_text(path.read_text()[:-5])
    assert f(2) == [2, 2] and len(calls) == 2 and json.loads(path.read_text())["value"] == [2, 2]
    monkeypatch.setenv("GROKKIT_MEMO", "off")
    f(2)
    assert len(calls) == 3


def test_a_run_is_keyed_by_its_trained_bits_and_reads_inside_do_not_count(tmp_path):
    run = gk.load_or_train(TINY, root=tmp_path / "runs", progress=False)
    key = run.info["key"]
    prose.READ_TENSORS.pop(key, None)
    first = measured.weight_norms(run)
    assert key not in prose.READ_TENSORS  # read inside a memoized measurement: not the chapter's read
    assert first == gk.geometry.weight_norms(run) and isinstance(first, tuple)
    assert "theta" in prose.READ_TENSORS[key]  # the same read outside one counts
    other = Run.load(tmp_path / "runs" / key)
    other.weights = {n: v + 1e-6 if n == sorted(other.weights)[0] else v for n, v in other.weights.items()}
    assert memo.call_key("f", (run,), {}) != memo.call_key("f", (other,), {})  # same key, other bits
    assert memo.call_key("f", (run,), {}) == memo.call_key("f", (Run.load(tmp_path / "runs" / key),), {})


def test_a_chapter_publishes_its_measurements_and_a_reader_reads_them(tmp_path, monkeypatch):
    root, reader, out = tmp_path / "built", tmp_path / "reader", tmp_path / "site"
    monkeypatch.setenv("GROKKIT_RUNS", str(root))
    run = gk.load_or_train(TINY, root=root, progress=False)
    key = run.info["key"]
    prose.USED_MEASURES.clear()
    value = measured.weight_norms(run)
    used = list(prose.USED_MEASURES)
    assert len(used) == 1 and prose.save_records(None)["measure_keys"] == used
    made = publish_runs(out / "runs", "smoke", {"01_x": [key]}, root, 100, {"01_x": {key: []}}, {"01_x": used})
    entry = made["01_x-smoke"]
    assert entry["measures"]["n"] == 1 and entry["trimmed"][key] == sorted(run.tensors)  # θ only read inside

    monkeypatch.setenv("GROKKIT_RUNS", str(reader))
    monkeypatch.setattr(cache, "train", lambda *a, **k: pytest.fail("should have come from the published runs"))
    assert published.register("01_x", "smoke", site=out.as_uri()) is not None
    copy = gk.load_or_train(TINY, root=reader, progress=False)
    assert copy.trimmed and measured.weight_norms(copy) == value  # the published value: no θ needed
    assert len(list(measures.local_dir(reader).glob("*.json"))) == 1  # kept here too
    published.forget()  # opened again offline: the kept value, still no θ needed
    assert measured.weight_norms(copy) == value and copy.trimmed


def test_altered_published_measurements_are_refused_in_one_line(tmp_path, monkeypatch):
    root, out = tmp_path / "built", tmp_path / "site"
    monkeypatch.setenv("GROKKIT_RUNS", str(root))
    run = gk.load_or_train(TINY, root=root, progress=False)
    prose.USED_MEASURES.clear()
    measured.weight_norms(run)
    publish_runs(out / "runs", "smoke", {"01_x": [run.info["key"]]}, root, 100, None, {"01_x": prose.USED_MEASURES})
    path = out / "runs" / "01_x-smoke.measures.json"
    text = path.read_text()
    blob = json.loads(text)
    (e,) = blob["entries"].values()
    e["value"] = measures.encode(([0], [123.0]))
    altered = json.dumps(blob)
    for body, why in ((altered.ljust(len(text)), "sha256"), (text[:-9], "truncated")):
        path.write_text(body)  # the same size, another value; then a short file
        said = []
        published.forget()
        assert published.register("01_x", "smoke", site=out.as_uri(), log=said.append) is not None
        assert len(said) == 1 and "not used" in said[0] and why in said[0]
        assert measures.lookup(e["key"], root=tmp_path / "elsewhere") is None


def test_a_trimmed_run_trains_in_full_when_a_published_value_does_not_apply(tmp_path, monkeypatch):
    root, reader, out = tmp_path / "built", tmp_path / "reader", tmp_path / "site"
    run = gk.load_or_train(TINY, root=root, progress=False)
    key = run.info["key"]
    publish_runs(out / "runs", "smoke", {"01_x": [key]}, root, 100, {"01_x": {key: []}})  # no measurements
    published.register("01_x", "smoke", site=out.as_uri())
    monkeypatch.setenv("GROKKIT_RUNS", str(reader))
    copy = gk.load_or_train(TINY, root=reader, progress=False)
    assert copy.trimmed and "theta" in copy.trimmed
    with pytest.raises(TrimmedRecord):  # a copy loaded without the cache's callback cannot restore itself
        Run.load(reader / key).trajectory("theta")
    value = measured.weight_norms(copy)  # not published: θ is needed, so the run trains here in full
    assert value == gk.geometry.weight_norms(run) and copy.trimmed == []
    assert Run.load(reader / key).trimmed == [] and set(Run.load(reader / key).tensors) == set(run.tensors)
    published.forget()
    published.register("01_x", "smoke", site=out.as_uri())
    again = gk.load_or_train(TINY, root=tmp_path / "second", progress=False)
    steps, attn = again.attention_trajectory()  # no attention series at all in the copy: trained, then read
    assert again.trimmed == [] and torch.equal(attn[(0, "W_Q")], run.attention_trajectory()[1][(0, "W_Q")])


def test_the_chapters_geometry_is_grokkit_geometry_with_its_costly_measurements_memoized():
    for name in gk.geometry.__all__:
        f, g = getattr(measured, name), getattr(gk.geometry, name)
        if name in measured.MEMOIZED:
            assert f.memoized and f.__wrapped__ is g
        else:
            assert f is g
    assert set(measured.MEMOIZED) <= set(gk.geometry.__all__)
