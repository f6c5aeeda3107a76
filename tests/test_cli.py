import subprocess
import sys

import pytest
from conftest import ROOT

from grokkit.config import FAST


def _cli(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "grokkit", *args], capture_output=True, text=True, cwd=ROOT, timeout=300, **kw
    )


def test_help_documents_the_train_command():
    out = _cli("--help")
    assert out.returncode == 0 and "train" in out.stdout
    out = _cli("train", "--help")
    assert "--weight-decay" in out.stdout and "--seed" in out.stdout and "--op" in out.stdout


def test_train_prints_the_grok_step_and_saves(tmp_path):
    out = _cli("train", "--preset", "fast", "--seed", "42", "--quiet", "--runs-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "add: grokked at step" in out.stdout and "saved:" in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks", FAST.key()]  # the run, and the per-key locks
    again = _cli("train", "--preset", "fast", "--seed", "42", "--quiet", "--runs-dir", str(tmp_path))
    assert again.stdout.splitlines()[1] == out.stdout.splitlines()[1]


def test_bad_input_is_a_clear_error():
    out = _cli("train", "--op", "div")
    assert out.returncode != 0 and "choose from" in out.stderr + out.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--weight-decay", "-1"], "weight_decay must be >= 0"),
        (["--lr", "0"], "lr must be > 0"),
        (["--seed", "abc"], "--seed expects an integer, got 'abc'"),
        (["--grad-clip", "x"], "--grad-clip expects a number or none"),
        (["--stop-threshold", "1.5"], "stop_threshold must lie in (0, 1]"),
    ],
)
def test_out_of_range_and_mistyped_values_name_the_valid_range(args, message):
    out = _cli("train", "--preset", "fast", "--no-cache", "--max-steps", "1", *args)
    assert out.returncode != 0
    assert message in out.stderr + out.stdout and "<lambda>" not in out.stderr
