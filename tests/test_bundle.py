import functools
import hashlib
import http.server
import io
import json
import os
import tarfile
import threading

import pytest
import torch

import grokkit as gk
import grokkit.training.cache as cache
from grokkit.cli import main
from grokkit.store import bundle
from grokkit.store.bundle import BundleError, export_bundle, import_bundle
from grokkit.store.runs import Run

TINY = gk.presets.FAST.replace(max_steps=40, stop_threshold=None)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(cache root holding one tiny run, its key, a bundle of it)."""
    root = tmp_path_factory.mktemp("src") / "runs"
    gk.load_or_train(TINY, root=root, progress=False)
    key = cache.run_key(TINY)
    return root, key, export_bundle([root / key], tmp_path_factory.mktemp("out") / "runs.tar")


@pytest.fixture
def no_training(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("should have come from the bundle")

    monkeypatch.setattr(cache, "train", boom)


def _members(path) -> dict:
    with tarfile.open(path) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers()}


def _write(path, members: dict, links=()):
    with tarfile.open(path, "w") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            t.addfile(info)
    return path


def _relist(members: dict) -> dict:
    """bundle.json rewritten to list `members` as they now are (a consistent forgery)."""
    index = json.loads(members["bundle.json"])
    index["members"] = {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in members.items() if n != "bundle.json"
    }
    return {**members, "bundle.json": json.dumps(index).encode()}


def test_a_bundle_is_a_listed_tar_of_run_files(saved):
    root, key, out = saved
    m = _members(out)
    assert sorted(m) == sorted(["bundle.json"] + [f"{key}/{f}" for f in bundle.RUN_FILES])
    index = json.loads(m["bundle.json"])
    assert (index["format"], index["version"], index["grokkit"]) == ("grokkit-bundle", 1, gk.__version__)
    w = index["members"][f"{key}/weights.safetensors"]
    assert w == {"sha256": hashlib.sha256(m[f"{key}/weights.safetensors"]).hexdigest(), "size": w["size"]}
    assert export_bundle([root / key], out.with_name("again.tar")).read_bytes() == out.read_bytes()  # deterministic
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # a plain file (a web server reads the published ones)


def test_load_or_train_imports_the_run_from_a_file_url_without_training(saved, tmp_path, no_training):
    root, key, out = saved
    empty = tmp_path / "empty"
    run = gk.load_or_train(TINY, root=empty, bundle=out.as_uri(), progress=False)
    orig = Run.load(root / key)
    assert sorted(p.name for p in empty.iterdir()) == [key]  # no leftover temporary directories
    assert run.history == orig.history and run.info == orig.info
    assert run.weights.keys() == orig.weights.keys()
    assert all(torch.equal(run.weights[k], v) for k, v in orig.weights.items())
    assert import_bundle(out, root=empty) == []  # a valid entry is left alone


def test_a_bundle_without_the_run_falls_back_to_training(saved, tmp_path, capsys):
    other = TINY.replace(seed=7, max_steps=20)
    run = gk.load_or_train(other, root=tmp_path / "r", bundle=saved[2], progress=False)
    assert run.info["final_step"] == 20 and "does not hold run" in capsys.readouterr().out
    assert (tmp_path / "r" / saved[1]).is_dir()  # what the bundle held was imported all the same


def test_an_http_url_is_downloaded(saved, tmp_path, no_training):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(saved[2].parent))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{saved[2].name}"
        assert import_bundle(url, root=tmp_path / "r") == [saved[1]]
        with pytest.raises(BundleError, match="download failed"):
            import_bundle(url + ".missing", root=tmp_path / "r")
    finally:
        server.shutdown()


def _flip(d: dict, name: str) -> dict:
    data = bytearray(d[name])
    data[-10] ^= 0xFF
    return {**d, name: bytes(data)}


def _disagreeing_manifest(d: dict, key: str) -> dict:
    manifest = json.loads(d[f"{key}/manifest.json"])
    manifest["weights.safetensors"] = "0" * 64
    return _relist({**d, f"{key}/manifest.json": json.dumps(manifest).encode()})


def _resized(d: dict, key: str) -> dict:
    index = json.loads(d["bundle.json"])
    index["members"][f"{key}/config.json"]["size"] += 1
    return {**d, "bundle.json": json.dumps(index).encode()}


TAMPERED = {  # name: (members -> tampered members, links, what the refusal names)
    "flipped weight byte": (lambda d, k: _flip(d, f"{k}/weights.safetensors"), (), r"weights\.safetensors'.*sha256"),
    "parent path": (lambda d, k: {**d, "../evil": b"x"}, (), r"'\.\./evil'"),
    "absolute path": (lambda d, k: {**d, "/tmp/evil": b"x"}, (), r"'/tmp/evil'"),
    "unlisted member": (lambda d, k: {**d, "0000000000000000/config.json": b"{}"}, (), "not listed"),
    "unknown file name": (lambda d, k: {**d, f"{k}/model.pkl": b"\x80\x04."}, (), r"model\.pkl"),
    "symlink": (lambda d, k: {n: v for n, v in d.items() if n != f"{k}/config.json"}, "config.json", "link"),
    "listed but missing": (lambda d, k: {n: v for n, v in d.items() if n != f"{k}/metrics.json"}, (), "missing"),
    "size mismatch": (_resized, (), r"config\.json': size"),
    "run manifest disagrees": (_disagreeing_manifest, (), r"manifest\.json' disagrees"),
    "no bundle.json": (lambda d, k: {n: v for n, v in d.items() if n != "bundle.json"}, (), "bundle.json"),
}


@pytest.mark.parametrize("case", TAMPERED)
def test_a_tampered_bundle_is_refused_and_nothing_is_written(saved, tmp_path, case):
    _, key, out = saved
    tamper, link, message = TAMPERED[case]
    links = [(f"{key}/{link}", "/etc/passwd")] if link else []
    bad = _write(tmp_path / "bad.tar", tamper(_members(out), key), links)
    root = tmp_path / "root"
    with pytest.raises(BundleError, match=message):
        gk.load_or_train(TINY, root=root, bundle=bad, progress=False)
    assert not root.exists() or list(root.iterdir()) == []


def test_export_refuses_a_corrupt_run(saved, tmp_path):
    root, key, _ = saved
    bad = tmp_path / key
    bad.mkdir()
    for f in bundle.RUN_FILES:
        (bad / f).write_bytes((root / key / f).read_bytes())
    (bad / "metrics.json").write_text("{ truncated")
    with pytest.raises(BundleError, match="corrupt"):
        export_bundle([bad], tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()


def test_cli_round_trip(saved, tmp_path, capsys, no_training):
    root, key, _ = saved
    out = tmp_path / "b.tar"
    assert main(["bundle", "export", key, "--root", str(root), "-o", str(out)]) == 0
    assert f"exported 1 run(s) to {out}" in capsys.readouterr().out
    assert main(["bundle", "import", out.as_uri(), "--root", str(tmp_path / "r")]) == 0
    assert key in capsys.readouterr().out
    assert gk.load_or_train(TINY, root=tmp_path / "r").history == Run.load(root / key).history
    with pytest.raises(SystemExit, match="neither a run directory nor a run key"):
        main(["bundle", "export", "nope", "--root", str(root), "-o", str(out)])
    _write(tmp_path / "evil.tar", {"../evil": b"x"})
    with pytest.raises(SystemExit, match="evil"):
        main(["bundle", "import", str(tmp_path / "evil.tar"), "--root", str(tmp_path / "r")])


def test_the_cache_root_is_read_from_the_environment_at_call_time(saved, tmp_path, monkeypatch, no_training):
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path / "a"))
    assert cache.run_dir(TINY).parent == tmp_path / "a" == gk.default_root()
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path / "b"))
    assert cache.run_dir(TINY).parent == tmp_path / "b"
    assert import_bundle(saved[2]) == [saved[1]] and (tmp_path / "b" / saved[1]).is_dir()
    assert gk.load_or_train(TINY).history == Run.load(saved[0] / saved[1]).history
    monkeypatch.delenv("GROKKIT_RUNS")
    assert cache.default_root().parts[-3:] == (".cache", "grokkit", "runs")


def test_chapter1_phase_grid_loads_a_bundle_and_falls_back_without_one(tmp_path, monkeypatch):
    """Source (a) of Chapter 1's phase diagram is a bundle of the papers'-model grid; here a CPU-made one."""
    from types import SimpleNamespace

    base = gk.presets.FAST.replace(max_steps=40, snapshot_every=0, checkpoint_every=0)
    settings = SimpleNamespace(
        weight_decays=[0.0, 1.0], train_fracs=[0.5], grid_base=base.replace(max_steps=20), grid_note="t"
    )
    made = tmp_path / "made"
    grid = gk.sweep(
        base, weight_decay=settings.weight_decays, train_frac=settings.train_fracs, seed=[42], root=made, progress=False
    )
    dirs = [gk.run_dir(c, (), made) for c in grid.configs]
    full, partial = gk.export_bundle(dirs, tmp_path / "phase.tar"), gk.export_bundle(dirs[:1], tmp_path / "part.tar")
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path / "fresh"))
    loaded, source = gk.book.phase_grid(settings, "default", bundle=full, base=base, seeds=(42,), progress=False)
    assert "from phase.tar" in source and "their curves only" in source and loaded.values["seed"] == [42]
    for a, b in zip(loaded.runs, grid.runs):  # loaded, not retrained
        assert a.info["key"] == b.info["key"] and a.info["wall_time_s"] == b.info["wall_time_s"]
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path / "fresh2"))  # a machine that has only the partial bundle
    own, source = gk.book.phase_grid(settings, "default", bundle=partial, base=base, seeds=(42,), progress=False)
    assert "trained on this machine" in source and own.runs[0].config.max_steps == 20  # a cell missing
    smoke, source = gk.book.phase_grid(settings, "smoke", bundle=full, base=base, seeds=(42,), progress=False)
    assert "trained on this machine" in source
