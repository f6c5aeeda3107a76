"""A chapter's start (grokkit.book.colab): the profile from the device, its measured time, Drive."""

import json
import os
import shutil
import subprocess
import sys
import types
import zipfile

import pytest
from conftest import ROOT

from grokkit.book import colab, times
from grokkit.config import FAST
from grokkit.store.repo import NotACheckout
from grokkit.training.cache import run_dir


def test_auto_profile_follows_the_device():
    assert colab.resolve_profile("auto", cuda=True) == "paper"
    assert colab.resolve_profile("auto", cuda=False) == "default"
    assert colab.resolve_profile("smoke", cuda=True) == "smoke"
    with pytest.raises(ValueError, match="profile must be one of"):
        colab.resolve_profile("fast")


def test_a_built_wheel_ships_the_recorded_chapter_times(tmp_path, monkeypatch):
    """A wheel (what Colab's `pip install git+...` builds) carries chapter_times.json, equal to what
    results/chapters/ records; the checkout itself holds no copy, and outside a checkout the packaged
    times are the ones quoted."""
    assert not (ROOT / "grokkit" / "book" / times.PACKAGED).exists()
    src = tmp_path / "src"  # a copy, so that the build leaves nothing in the checkout
    for name in ("pyproject.toml", "setup.py", "README.md", "grokkit", "results/chapters"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path)]
    subprocess.run([*pip, str(src)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("grokkit-*.whl")
    with zipfile.ZipFile(wheel) as z:
        shipped = json.loads(z.read("grokkit/book/chapter_times.json"))
    recorded = times.chapter_times(ROOT / "results")
    assert shipped == recorded and recorded["default"]["01_grokking"]["wall_time_s"] > 0
    monkeypatch.setattr(colab, "results_dir", lambda: (_ for _ in ()).throw(NotACheckout("no checkout")))
    monkeypatch.setattr(colab, "packaged_times", lambda: shipped)
    assert colab.chapter_time("01_grokking", "default") == recorded["default"]["01_grokking"]


def test_start_prints_the_measured_time_only_for_this_kind_of_device(capsys):
    t = colab.chapter_time("04_holographic", "default")
    assert t["wall_time_s"] <= colab.AUTO_BUDGET_S  # a chapter that fits the auto budget on a CPU
    assert colab.start("04_holographic", "auto", cuda=False) == "default"
    out = capsys.readouterr().out
    assert f"{colab._minutes(t['wall_time_s'])} at this profile on {t['machine']}" in out
    assert colab.start("04_holographic", "auto", cuda=True) == "default"  # paper not timed; the CPU time bounds it
    assert "an upper bound for a GPU" in capsys.readouterr().out
    assert colab.start("01_grokking", "default", cuda=True) == "default"
    assert "has not been timed at this profile on a GPU" in capsys.readouterr().out  # a CPU time is no GPU's


def test_auto_never_starts_a_long_chapter_unannounced(monkeypatch, capsys):
    long = colab.chapter_time("01_grokking", "default")["wall_time_s"]
    assert long > colab.AUTO_BUDGET_S
    assert colab.start("01_grokking", "auto", cuda=False) == "smoke"
    out = capsys.readouterr().out
    assert f"'default' ≈ {colab._minutes(long)} here" in out and "profile='default'" in out
    # published runs that save enough training bring it within the budget; all of them published: chosen
    part = {"01_grokking-default": {"keys": ["k"], "dropped": [{"key": "j"}], "train_s": long, "size": 1e8}}
    assert colab.choose_auto("01_grokking", False, part)[0] == "default"
    whole = {"01_grokking-default": {"keys": ["k"], "dropped": [], "train_s": 0, "size": 1e8}}
    profile, why = colab.choose_auto("01_grokking", False, whole)
    assert profile == "default" and "published" in why
    assert colab.choose_auto("01_grokking", True, {"01_grokking-paper": whole["01_grokking-default"]})[0] == "paper"
    assert colab.estimate_s("01_grokking", "paper", False) is None  # not timed


def test_drive_opt_in_moves_the_run_cache(tmp_path, monkeypatch, capsys):
    mounted = []
    drive = types.SimpleNamespace(mount=lambda where: mounted.append(where))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.SimpleNamespace(drive=drive))
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path / "local"))
    monkeypatch.setattr(colab, "MOUNT", str(tmp_path / "drive"))
    colab.start("04_holographic", "smoke", drive=True, cuda=False)
    out = capsys.readouterr().out

    assert mounted == [str(tmp_path / "drive")] and "Runtime > Change runtime type" in out
    want = str(tmp_path / "drive" / "MyDrive" / "grokkit" / "runs")
    assert os.environ["GROKKIT_RUNS"] == want and str(run_dir(FAST)).startswith(want)
