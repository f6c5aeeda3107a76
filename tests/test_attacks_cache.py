"""Attacks on bundles and the run cache: each gives one clear error, a correct result, or the documented
behaviour; never an internal traceback, never a silent wrong load. And a run whose loss is NaN or inf
stops and is stored as diverged."""

import hashlib
import io
import json
import math
import multiprocessing as mp
import os
import pickle
import re
import shutil
import struct
import tarfile
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import grokkit as gk
import grokkit.training.cache as cache
from grokkit import cli
from grokkit.hooks.base import Hook
from grokkit.store import bundle
from grokkit.store.bundle import BundleError, export_bundle, import_bundle
from grokkit.store.rootdir import RunsDirError
from grokkit.store.runs import FILES, CorruptRun, Run
from grokkit.training.stopping import StopRule

TINY = gk.presets.FAST.replace(
    p=11, max_steps=40, stop_threshold=None, snapshot_every=0, checkpoint_every=0, device="cpu"
)
OTHER = TINY.replace(seed=7)  # another config: another key
DIVERGING = TINY.replace(lr=1e30, max_steps=400)  # AdamW with lr 1e30: NaN weights after a step or two


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """(a cache root holding one run of TINY, its key, a bundle of it)."""
    root = tmp_path_factory.mktemp("src") / "runs"
    gk.load_or_train(TINY, root=root, progress=False)
    key = cache.run_key(TINY)
    return root, key, export_bundle([root / key], tmp_path_factory.mktemp("out") / "runs.tar")


@pytest.fixture
def trains(monkeypatch):
    """The calls of grokkit.training.cache.train, which still trains."""
    calls, real = [], cache.train
    monkeypatch.setattr(cache, "train", lambda c, *a, **k: calls.append(c) or real(c, *a, **k))
    return calls


def _members(path) -> dict:
    with tarfile.open(path) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers()}


def _tar(path, members: dict, specials=(), mode="w"):
    with tarfile.open(path, mode) as t:
        for info in specials:
            t.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _consistent(members: dict, key: str) -> dict:
    """The run's manifest and bundle.json rewritten to match its files as they now are (a careful forger)."""
    run = {f: members[f"{key}/{f}"] for f in FILES}
    members = {**members, f"{key}/manifest.json": json.dumps({f: _sha(d) for f, d in run.items()}).encode()}
    index = json.loads(members["bundle.json"])
    index["members"] = {n: {"sha256": _sha(d), "size": len(d)} for n, d in members.items() if n != "bundle.json"}
    return {**members, "bundle.json": json.dumps(index).encode()}


def _lying_header(_: bytes) -> bytes:  # claims a 1000x1000 tensor the file does not hold
    h = json.dumps({"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4_000_000]}}).encode()
    return struct.pack("<Q", len(h)) + h + bytes(16)


def _wrong_shapes(_: bytes) -> bytes:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"grokkit-test-{os.getpid()}.safetensors"
    save_file({n: p.detach() for n, p in gk.build_model(TINY.replace(d_model=32)).named_parameters()}, path)
    data = path.read_bytes()
    path.unlink()
    return data


def _edit_json(f):
    return lambda data: json.dumps(f(json.loads(data))).encode()


BAD_FILES = {  # name: (run file, its new content from the old)
    "lying safetensors header": ("weights.safetensors", _lying_header),
    "pickle posing as safetensors": ("weights.safetensors", lambda _: pickle.dumps({"w": torch.zeros(3)})),
    "weights of another shape": ("weights.safetensors", _wrong_shapes),
    "unknown config field": ("config.json", _edit_json(lambda d: {**d, "config": {**d["config"], "evil": 1}})),
    "config claims another key": ("config.json", _edit_json(lambda d: {**d, "key": "0123456789abcdef"})),
    "metrics without history": ("metrics.json", _edit_json(lambda d: {"records": d["records"]})),
    "history of another length": (
        "metrics.json",
        _edit_json(lambda d: {**d, "history": {**d["history"], "step": [0]}}),
    ),
    "split out of range": (
        "split.safetensors",
        lambda _: _st({"train_idx": torch.arange(200), "test_idx": torch.arange(1)}),
    ),
}


def _st(tensors: dict) -> bytes:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"grokkit-test-{os.getpid()}.safetensors"
    save_file(tensors, path)
    data = path.read_bytes()
    path.unlink()
    return data


# --- 1. a bundle's claims are recomputed ---------------------------------------------------------


def test_a_bundle_cannot_put_a_run_under_another_configs_key(stored, tmp_path, trains):
    root, key, out = stored
    other = cache.run_key(OTHER)
    m = _members(out)
    moved = _consistent({n.replace(key, other): d for n, d in m.items()}, other)  # run A, filed as B's
    bad = _tar(tmp_path / "moved.tar", moved)
    with pytest.raises(BundleError, match=f"run '{other}': its config.json is the run of key {key}, not {other}"):
        gk.load_or_train(OTHER, root=tmp_path / "r", bundle=bad, progress=False)
    assert trains == [] and (not (tmp_path / "r").exists() or list((tmp_path / "r").iterdir()) == [])
    claims = _edit_json(lambda d: {**d, "key": other})  # and config.json saying so is not believed either
    moved[f"{other}/config.json"] = claims(moved[f"{other}/config.json"])
    with pytest.raises(BundleError, match=f"config and hooks give cache key {key}, it says '{other}'"):
        import_bundle(_tar(tmp_path / "claims.tar", _consistent(moved, other)), root=tmp_path / "r")


def test_a_cache_entry_holding_another_configs_run_is_retrained(stored, tmp_path, trains, capsys):
    root, key, _ = stored
    path = cache.run_dir(OTHER, root=tmp_path)
    shutil.copytree(root / key, path)
    run = gk.load_or_train(OTHER, root=tmp_path, progress=False)
    assert f"it holds run {key}, not {path.name}" in capsys.readouterr().out
    assert trains == [OTHER] and run.config == OTHER and Run.load(path).config == OTHER


# --- 2. damaged, forged and oversized bundles: BundleError, nothing written ----------------------


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_consistently_forged_run_file_is_a_bundle_error(stored, tmp_path, case):
    _, key, out = stored
    f, forge = BAD_FILES[case]
    m = _members(out)
    m[f"{key}/{f}"] = forge(m[f"{key}/{f}"])
    with pytest.raises(BundleError, match=rf"'{key}/manifest.json' disagrees with its run, or it does not load"):
        import_bundle(_tar(tmp_path / "bad.tar", _consistent(m, key)), root=tmp_path / "r")
    assert list((tmp_path / "r").iterdir()) == []


def _cut_points(path) -> dict:
    with tarfile.open(path) as t:
        ms = t.getmembers()
    end = ms[-1].offset_data + -(-ms[-1].size // 512) * 512  # after the last member: no end-of-archive blocks
    return {"in a header": ms[3].offset + 100, "in a member's data": ms[-1].offset_data + ms[-1].size // 2, "end": end}


@pytest.mark.parametrize("where", ["in a header", "in a member's data", "a gzipped bundle, halved"])
def test_a_truncated_bundle_is_a_bundle_error(stored, tmp_path, where):
    data = stored[2].read_bytes()
    if where.startswith("a gzipped"):
        data = _tar(tmp_path / "b.tar.gz", _members(stored[2]), mode="w:gz").read_bytes()
        n = len(data) // 2
    else:
        n = _cut_points(stored[2])[where]
    (tmp_path / "cut.tar").write_bytes(data[:n])
    with pytest.raises(BundleError, match="damaged or truncated tar archive|is missing"):  # a cut header ends a tar
        import_bundle(tmp_path / "cut.tar", root=tmp_path / "r")
    assert not (tmp_path / "r").exists() or list((tmp_path / "r").iterdir()) == []
    if not where.startswith("a gzipped"):  # cut after its last member, a tar is whole: it imports (sha256-checked)
        (tmp_path / "whole.tar").write_bytes(data[: _cut_points(stored[2])["end"]])
        assert import_bundle(tmp_path / "whole.tar", tmp_path / "r") == [stored[1]]


def test_the_unpacked_size_is_capped_on_the_headers_before_anything_is_written(stored, tmp_path, monkeypatch):
    _, key, out = stored
    huge = tarfile.TarInfo(f"{key}/trajectory.safetensors")
    huge.size = 1 << 40  # a header claiming 1 TB, with no data behind it
    (tmp_path / "tb.tar").write_bytes(huge.tobuf(tarfile.PAX_FORMAT))
    with pytest.raises(BundleError, match=r"1,099,511,627,776 bytes, over the cap of 4,294,967,296 per file"):
        import_bundle(tmp_path / "tb.tar", root=tmp_path / "r")
    zeros = {f"{key}/{f}": bytes(4 << 20) for f in FILES[:3]}  # 12 MB of zeros: a ~12 KB .tar.gz
    bomb = _tar(tmp_path / "bomb.tar.gz", zeros, mode="w:gz")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(BundleError, match=rf"'{key}/split.safetensors': the bundle unpacks to more than 10,000,000"):
        import_bundle(bomb, root=tmp_path / "r", max_bytes=10_000_000)
    size = sum(len(d) for d in _members(out).values())
    monkeypatch.setattr(bundle, "MAX_UNPACKED_BYTES", size - 1)  # the default cap: a module constant
    with pytest.raises(BundleError, match="unpacks to more than"):
        gk.load_or_train(TINY, root=tmp_path / "r", bundle=out, progress=False)
    monkeypatch.setattr(bundle, "MAX_MEMBERS", 3)
    with pytest.raises(BundleError, match="more than 3 members"):
        import_bundle(out, root=tmp_path / "r", max_bytes=1 << 30)
    assert not (tmp_path / "r").exists()  # every refusal came before the root was even made
    monkeypatch.undo()
    assert import_bundle(out, root=tmp_path / "r") == [key]


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


def test_only_regular_files_and_run_directories_are_members(stored, tmp_path):
    _, key, out = stored
    m = _members(out)
    kept = {n: d for n, d in m.items() if n != f"{key}/config.json"}
    for kind, link in [(tarfile.LNKTYPE, f"{key}/metrics.json"), (tarfile.CHRTYPE, ""), (tarfile.FIFOTYPE, "")]:
        with pytest.raises(BundleError, match="a link, device or directory"):
            import_bundle(_tar(tmp_path / "x.tar", kept, [_special(f"{key}/config.json", kind, link)]), tmp_path / "r")
    with pytest.raises(BundleError, match=r"refusing member '\.\./runs'"):
        import_bundle(_tar(tmp_path / "x.tar", m, [_special("../runs/", tarfile.DIRTYPE)]), tmp_path / "r")
    assert not (tmp_path / "r").exists()
    dirs = _tar(tmp_path / "dirs.tar", m, [_special(f"{key}/", tarfile.DIRTYPE)])  # as `tar cf` writes a folder
    assert import_bundle(dirs, root=tmp_path / "r") == [key]


# --- 3. two processes, one run --------------------------------------------------------------------


class _Killed(Exception):
    pass


class _Interrupt(Hook):  # no key: the run keeps its cache key
    def on_eval(self, ctx):
        if ctx.step >= 100:
            raise _Killed


def _child(root, config, marks, barrier, out):
    """One process asking the cache for `config`; a file in `marks` for each training it starts."""
    torch.set_num_threads(1)
    real = cache.train
    cache.train = lambda *a, **k: (Path(marks) / str(os.getpid())).touch() or real(*a, **k)
    if barrier is not None:
        barrier.wait(timeout=300)
    try:
        run = cache.load_or_train(config, root=root, progress=False)
        out.put((os.getpid(), {k: v.numpy() for k, v in run.weights.items()}, run.info, None))
    except BaseException as e:  # reported to the test, which fails on it
        out.put((os.getpid(), None, None, f"{type(e).__name__}: {e}"))


@pytest.mark.parametrize("start", ["together", "staggered"])
def test_two_processes_asking_for_one_run_train_it_once(tmp_path, start):
    config, root, marks = TINY.replace(max_steps=200), tmp_path / "runs", tmp_path / "marks"
    marks.mkdir()
    partial = cache.run_dir(config, root=root).with_name(cache.run_key(config) + ".partial")
    with pytest.raises(_Killed):  # an interrupted training: both processes would resume it
        gk.train(config, [_Interrupt()], progress=False, resume_dir=partial, resume_every_s=0)
    assert (partial / "state.pt").exists()
    ctx = mp.get_context("spawn")
    out, barrier = ctx.Queue(), ctx.Barrier(2) if start == "together" else None
    procs = [ctx.Process(target=_child, args=(root, config, marks, barrier, out)) for _ in range(2)]
    procs[0].start()
    t0 = time.time()
    while start == "staggered" and not any(marks.iterdir()) and procs[0].is_alive() and time.time() - t0 < 300:
        time.sleep(0.05)  # the second starts while the first trains
    procs[1].start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [r[3] for r in results] == [None, None] and [p.exitcode for p in procs] == [0, 0]
    assert len(list(marks.iterdir())) == 1  # exactly one trained
    (_, w1, info1, _), (_, w2, info2, _) = results
    assert info1 == info2 and w1.keys() == w2.keys() and all((w1[k] == w2[k]).all() for k in w1)
    assert sorted(p.name for p in root.iterdir()) == sorted([".locks", cache.run_key(config)])  # no partial, no tmp


# --- 4. a runs dir that cannot take a run ---------------------------------------------------------


def _unwritable(tmp_path, kind) -> Path:
    (tmp_path / "file").write_text("not a directory")
    if kind == "a file":
        return tmp_path / "file"
    if kind == "under a file":
        return tmp_path / "file" / "runs"
    if os.geteuid() != 0:
        (tmp_path / "ro").mkdir(mode=0o555)
        return tmp_path / "ro"
    if os.access("/sys/kernel", os.F_OK):  # root writes to any mode-0555 directory; not to sysfs
        return Path("/sys/kernel")
    pytest.skip("no read-only directory for root here")


@pytest.mark.parametrize("kind", ["a file", "under a file", "read-only"])
def test_an_unwritable_runs_dir_is_refused_before_training(tmp_path, monkeypatch, kind, capsys):
    bad = _unwritable(tmp_path, kind)
    boom = lambda *a, **k: pytest.fail("trained although the run could not be stored")
    monkeypatch.setattr(cache, "train", boom)
    monkeypatch.setattr(cli, "train", boom)
    monkeypatch.setenv("GROKKIT_RUNS", str(bad))
    with pytest.raises(RunsDirError, match=f"the runs directory {bad} is not a writable directory"):
        gk.load_or_train(TINY, progress=False)
    with pytest.raises(RunsDirError, match="not a writable directory"):
        gk.sweep(TINY, seed=[1, 2], engine="sequential", progress=False)
    for extra in ([], ["--no-cache", "--save"]):
        with pytest.raises(SystemExit) as e:
            cli.main(["train", "--preset", "fast", "--quiet", "--max-steps", "20", *extra])
        assert str(e.value).startswith(f"grokkit: the runs directory {bad} is not") and "\n" not in str(e.value)


# --- 5. a checksum-consistent but invalid cache entry ---------------------------------------------


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_checksum_consistent_invalid_entry_is_corrupt_and_retrained(stored, tmp_path, monkeypatch, case, capsys):
    root, key, _ = stored
    path = tmp_path / key
    shutil.copytree(root / key, path)
    f, forge = BAD_FILES[case]
    (path / f).write_bytes(forge((path / f).read_bytes()))
    manifest = {g: _sha((path / g).read_bytes()) for g in FILES}
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptRun, match=re.escape(str(path))):
        Run.load(path)
    calls = []
    monkeypatch.setattr(cache, "train", lambda c, *a, **k: calls.append(c) or Run.load(root / key))  # a fast "training"
    run = gk.load_or_train(TINY, root=tmp_path, progress=False)
    assert calls == [TINY] and "cached run is corrupt, retraining" in capsys.readouterr().out
    assert all(torch.equal(run.weights[k], v) for k, v in Run.load(path).weights.items())  # replaced by the retrained


# --- 6. divergence --------------------------------------------------------------------------------


def test_the_stop_rule_stops_at_a_nan_or_inf_loss():
    c = TINY.replace(stop_threshold=0.9, stop_patience=1, steps_after_stop=100, max_steps=1000)
    s = StopRule(c)
    s.update(20, [0.5], [1.0, 2.0])
    assert (s.end, s.diverged_at, s.info()) == (1000, None, {})
    s.update(40, [0.95], [0.1, 0.2])  # the criterion: the run would end at 140 ...
    s.update(60, [0.95], [float("inf"), 0.2])  # ... but diverges at 60
    assert (s.end, s.done(60), s.diverged_at, s.stopped_early, s.info()) == (60, True, 60, True, {"diverged_at": 60})
    s.update(80, [0.1], [float("nan")] * 2)
    assert s.diverged_at == 60


def test_a_diverging_run_stops_and_is_stored_as_diverged(tmp_path, monkeypatch):
    run = gk.load_or_train(DIVERGING, root=tmp_path, progress=False)
    assert run.diverged_at == run.info["final_step"] == run.steps[-1] == 20  # the first evaluation; not 400
    assert math.isnan(run.history["train_loss"][-1][0])
    assert "diverged at step 20" in run.summary()
    monkeypatch.setattr(cache, "train", lambda *a, **k: pytest.fail("should load"))
    again = gk.load_or_train(DIVERGING, root=tmp_path, progress=False)
    assert (
        again.diverged_at == 20
        and json.loads((tmp_path / run.info["key"] / "config.json").read_text())["diverged_at"] == 20
    )
    late = gk.train(DIVERGING.replace(max_steps=30, eval_every=100), progress=False)  # no evaluation after step 0
    assert late.diverged_at == late.info["final_step"] == 30 and late.steps == [0]


def test_normal_runs_carry_no_divergence_and_keep_their_history(stored):
    root, key, _ = stored
    run = Run.load(root / key)
    assert run.diverged_at is None and "diverged_at" not in run.info and run.steps == [0, 20, 40]
    assert key == TINY.key() and run.info["stopped_early"] is False


def test_an_ensemble_member_that_diverges_stops_alone():
    ok, bad = gk.train_ensemble(
        [TINY.replace(max_steps=60), DIVERGING.replace(max_steps=60)], device="cpu", progress=False
    )
    assert (ok.diverged_at, ok.info["final_step"], bad.diverged_at, bad.info["final_step"]) == (None, 60, 20, 20)
    assert "diverged_at" not in ok.info


def test_the_train_command_says_the_run_diverged(tmp_path, capsys):
    argv = ["train", "--preset", "fast", "--quiet", "--runs-dir", str(tmp_path), "--p", "11", "--lr", "1e30"]
    argv += ["--max-steps", "400", "--stop-threshold", "none", "--snapshot-every", "0", "--checkpoint-every", "0"]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "add: did not grok" in out and "diverged: a loss became NaN or inf at step 20; training stopped there" in out
    assert "20 steps in" in out
