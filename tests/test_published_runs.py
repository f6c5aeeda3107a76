"""The book's published runs (grokkit.store.published): a chapter's bundle and index written by the build, a
chapter's start registering it, and a missing run imported from it (checked), or refused in one line."""

import hashlib
import json

import pytest
import torch

import grokkit as gk
import grokkit.training.cache as cache
from grokkit.book import colab, prose
from grokkit.book.execute import publish_runs
from grokkit.store import published
from grokkit.store.bundle import import_bundle
from grokkit.store.runs import CorruptRun, Run, TrimmedRecord

TINY = gk.presets.FAST.replace(max_steps=40, stop_threshold=None)
OTHER = TINY.replace(seed=1)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(site folder with runs/index.json and the 01_x-smoke bundle, the cache it came from, [the config the
    bundle holds, the one left out over the budget], the index entry): the chapter looked up two tiny runs
    and a missing key; the budget holds one run."""
    root = tmp_path_factory.mktemp("built") / "runs"
    for c in (TINY, OTHER):
        gk.load_or_train(c, root=root, progress=False)
    keys = [cache.run_key(TINY), cache.run_key(OTHER)]
    one = sum(p.stat().st_size for p in (root / keys[0]).iterdir())
    out = tmp_path_factory.mktemp("site")
    made = publish_runs(out / "runs", "smoke", {"01_x": keys + ["missing-key"]}, root, 1.5 * one / 1e6)
    entry = made["01_x-smoke"]
    configs = [TINY, OTHER] if entry["keys"] == keys[:1] else [OTHER, TINY]
    return out, root, configs, entry


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    published.forget()
    monkeypatch.delenv("GROKKIT_SITE", raising=False)
    yield
    published.forget()


@pytest.fixture
def no_training(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("should have come from the published runs")

    monkeypatch.setattr(cache, "train", boom)


def test_the_index_states_each_bundle_and_what_was_left_out(site):
    out, root, (kept, left), entry = site
    index = json.loads((out / "runs" / "index.json").read_text())
    assert index["format"] == published.FORMAT and index["bundles"]["01_x-smoke"] == entry
    assert entry["keys"] == [cache.run_key(kept)] and entry["size"] == (out / "runs" / entry["file"]).stat().st_size
    assert sorted((d["key"], d["why"]) for d in entry["dropped"]) == sorted(
        [(cache.run_key(left), "over the size budget"), ("missing-key", "not in the run cache")]
    )
    saved = {c: json.loads((root / cache.run_key(c) / "config.json").read_text())["wall_time_s"] for c in (kept, left)}
    assert entry["train_s"] == round(saved[kept], 1) and len(entry["sha256"]) == 64
    assert any(d.get("train_s") == round(saved[left], 1) for d in entry["dropped"])


def test_a_registered_chapter_loads_its_runs_instead_of_training(site, tmp_path, no_training, capsys):
    out, _, (kept, left), _ = site
    key = cache.run_key(kept)
    src = published.register("01_x", "smoke", site=out.as_uri())
    assert src is not None and src.keys == {key}
    run = gk.load_or_train(kept, root=tmp_path, progress=False)
    assert run.info["key"] == key and src.state == "imported" and src.imported == [key]
    assert "1 published run(s) of 01_x-smoke imported" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="published"):  # a run the bundle does not hold trains
        gk.load_or_train(left, root=tmp_path, progress=False)


def test_start_registers_unless_retrain_and_says_so(site, monkeypatch, capsys):
    out = site[0]
    monkeypatch.setenv("GROKKIT_SITE", str(out))  # a folder works too
    colab.start("01_x", "smoke", cuda=False)
    assert "published runs: 1 of this chapter's runs load from" in capsys.readouterr().out
    assert [s.name for s in published.registered()] == ["01_x-smoke"]
    colab.start("01_x", "smoke", cuda=False, retrain=True)
    assert "retrain=True" in capsys.readouterr().out and published.registered() == []
    colab.start("02_y", "smoke", cuda=False)
    assert "no published runs for 02_y-smoke" in capsys.readouterr().out
    monkeypatch.setenv("GROKKIT_SITE", "off")
    colab.start("01_x", "smoke", cuda=False)
    assert "published" not in capsys.readouterr().out


def _served(site, tmp_path, change):
    """A copy of the site whose bundle `change(path, entry)` altered."""
    out = tmp_path / "site"
    (out / "runs").mkdir(parents=True)
    index = json.loads((site[0] / "runs" / "index.json").read_text())
    entry = index["bundles"]["01_x-smoke"]
    data = (site[0] / "runs" / entry["file"]).read_bytes()
    (out / "runs" / entry["file"]).write_bytes(data)
    change(out / "runs" / entry["file"], entry)
    (out / "runs" / "index.json").write_text(json.dumps(index))
    return out


def _flip(path, entry):
    b = bytearray(path.read_bytes())
    b[len(b) // 2] ^= 1
    path.write_bytes(bytes(b))


def _truncate(path, entry):
    path.write_bytes(path.read_bytes()[:-1000])


def _longer(path, entry):
    path.write_bytes(path.read_bytes() + b"\0" * 512)


def _huge(path, entry):
    entry["size"] = published.MAX_DOWNLOAD_BYTES + 1


@pytest.mark.parametrize(
    "change,said",
    [(_flip, "sha256"), (_truncate, "truncated"), (_longer, "longer than"), (_huge, "over the")],
    ids=["tampered", "truncated", "longer", "oversized"],
)
def test_a_bad_bundle_is_refused_in_one_line_and_the_run_trains(site, tmp_path, change, said, capsys):
    out = _served(site, tmp_path, change)
    src = published.register("01_x", "smoke", site=out.as_uri())
    kept = site[2][0]
    run = gk.load_or_train(kept, root=tmp_path / "cache", progress=False)  # trained, not imported
    assert run.info["key"] == cache.run_key(kept) and src.state == "refused"
    lines = [x for x in capsys.readouterr().out.splitlines() if "published" in x]
    assert len(lines) == 1 and said in lines[0] and "training instead" in lines[0]
    assert not list((tmp_path / "cache").glob("*.tmp-*"))  # nothing staged is left behind


def test_offline_or_a_bad_index_is_one_line(tmp_path, capsys):
    assert published.register("01_x", "smoke", site="http://127.0.0.1:9/") is None  # nothing listens on port 9
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "index.json").write_text('{"format": "something else"}')
    assert published.register("01_x", "smoke", site=tmp_path.as_uri()) is None
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all("published runs not available" in x for x in lines)


# --- runs published trimmed to what the chapter read ------------------------------------------------


def test_a_chapter_records_which_tensor_series_it_reads(tmp_path):
    run = gk.load_or_train(TINY, root=tmp_path / "runs", progress=False)
    key = run.info["key"]
    prose.READ_TENSORS.pop(key, None)
    run.save(tmp_path / "copy")  # writing a run is not reading it
    assert key not in prose.READ_TENSORS
    run.trajectory("theta")
    run.attention_trajectory()
    read = prose.READ_TENSORS[key]
    assert "theta" in read and any(n.startswith("attn/") for n in read) and read <= set(run.tensors)
    saved = prose.save_records(str(tmp_path / "metrics.json"))
    assert sorted(read) == saved["run_tensors"][key]
    assert json.loads((tmp_path / "metrics.json").read_text())["run_tensors"][key] == sorted(read)


def test_runs_publish_trimmed_and_a_fuller_copy_replaces_a_trimmed_one(tmp_path, monkeypatch):
    root, reader, out = tmp_path / "built", tmp_path / "reader", tmp_path / "site"
    run = gk.load_or_train(TINY, root=root, progress=False)
    key, others = run.info["key"], sorted(n for n in run.tensors if n != "theta")
    made = publish_runs(out / "runs", "smoke", {"01_x": [key], "02_y": [key]}, root, 100, {"01_x": {key: ["theta"]}})
    small, whole = made["01_x-smoke"], made["02_y-smoke"]
    assert small["trimmed"] == {key: others} and whole["trimmed"] == {} and small["size"] < whole["size"]
    assert Run.load(root / key).trimmed == []  # the build's own cache keeps the whole run
    monkeypatch.setattr(cache, "train", lambda *a, **k: pytest.fail("should have come from the published runs"))

    published.register("01_x", "smoke", site=out.as_uri())  # Chapter 1 first: the trimmed copy
    first = gk.load_or_train(TINY, root=reader, progress=False)
    assert first.trimmed == others and torch.equal(first.trajectory("theta")[1], run.trajectory("theta")[1])
    with pytest.raises(TrimmedRecord, match="published without its 'attn/"):
        Run.load(reader / key).attention_trajectory()  # loaded outside the cache: it cannot train itself
    published.register("02_y", "smoke", site=out.as_uri())  # a chapter whose bundle holds more of it
    second = gk.load_or_train(TINY, root=reader, progress=False)
    assert second.trimmed == [] and set(second.tensors) == set(run.tensors)
    published.forget()
    published.register("01_x", "smoke", site=out.as_uri())  # a trimmed copy never replaces a fuller one
    assert gk.load_or_train(TINY, root=reader, progress=False).trimmed == []
    assert import_bundle(out / "runs" / small["file"], root=reader) == [] and Run.load(reader / key).trimmed == []


def test_a_trimmed_list_naming_a_series_the_run_holds_is_corrupt(tmp_path):
    path = gk.load_or_train(TINY, root=tmp_path, progress=False) and cache.run_dir(TINY, root=tmp_path)
    info = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**info, "trimmed": ["theta"]}))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["config.json"] = hashlib.sha256((path / "config.json").read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptRun, match="'trimmed' must list"):
        Run.load(path)


def test_a_prose_template_reads_as_a_paragraph_with_named_numbers():
    text = prose.fill(
        """
        **Reading.** {n} of {cells} cells grokked
        (fastest {fast:,} steps).

        A second paragraph: {{literal braces}}, {share:.0%}.
        """,
        n=3,
        cells=40,
        fast=1200,
        share=0.125,
    )
    assert text == (
        "**Reading.** 3 of 40 cells grokked (fastest 1,200 steps).\n\nA second paragraph: {literal braces}, 12%."
    )
    with pytest.raises(KeyError, match="cells"):
        prose.fill("{n} of {cells}", n=3)
