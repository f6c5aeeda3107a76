"""A chapter's start (grokkit.book.colab): the profile from the device, its measured time, Drive."""

import json
import os
import sys
import types

import pytest
from conftest import ROOT

from grokkit.book import colab
from grokkit.book.execute import chapter_times
from grokkit.cache import run_dir
from grokkit.config import FAST


def test_auto_profile_follows_the_device():
    assert colab.resolve_profile("auto", cuda=True) == "paper"
    assert colab.resolve_profile("auto", cuda=False) == "default"
    assert colab.resolve_profile("smoke", cuda=True) == "smoke"
    with pytest.raises(ValueError, match="profile must be one of"):
        colab.resolve_profile("fast")


def test_packaged_chapter_times_are_the_recorded_ones():
    """chapter_times.json (shipped in the package for Colab) is what results/chapters/ records."""
    assert json.loads(colab.TIMES.read_text()) == chapter_times(ROOT / "results")


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
