"""The grader under attack (issue: grades a lecturer can trust). Each attack that once scored a wrong
answer full marks is a submission here, graded for marks under bubblewrap: it must score 0 for the
wrong answer, leave the trusted files, the run cache and the report alone, and give a clear status.

The chapter's checks are recorded once per session (a trusted smoke run of Chapter 4, the cheapest);
each grading then takes a few seconds (one sandbox per exercise).
"""

import copy
import hashlib
import json
import math
import time

import nbformat
import pytest
import torch
from conftest import ROOT

from grokkit import cli
from grokkit.course import assignments, grader, record, sandbox, values
from grokkit.data import make_dataset

CH4 = "04_holographic"
TRUSTED = ROOT / "notebooks" / f"{CH4}.ipynb"
pytestmark = pytest.mark.skipif(sandbox.unavailable() is not None, reason=str(sandbox.unavailable()))


@pytest.fixture(scope="module")
def recorded(grading_record):
    """The grading record's folder (the session's record of Chapter 4's checks)."""
    names = [c.name for c in grading_record.values()]
    assert sorted(grading_record) == [0, 1, 2] and names == ["stable_rank", "truncate", "prune"]
    return record.cache_root()


def _submission(tmp_path, cells: dict, name=f"sub_{CH4}.ipynb"):
    """The instructor copy of Chapter 4 with the cells defining the given functions replaced."""
    nb = copy.deepcopy(nbformat.read(TRUSTED, as_version=4))
    for c in nb.cells:
        for fn, src in cells.items():
            if c.cell_type == "code" and assignments.defines(c.source, fn):
                c.source = src
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _statuses(report):
    return {e["function"]: e["status"] for e in report["exercises"]}


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


WRONG = {
    "stable_rank": "def stable_rank(M):\n    return 1.0\n",
    "truncate": "def truncate(M, r):\n    return M.double()\n",
    "prune": "def prune(theta0, theta1, keep):\n    return theta1\n",
}


@pytest.mark.grader
def test_patching_what_the_checks_use_scores_zero(recorded, tmp_path):
    """torch.allclose / math.isclose patched, a fake grokkit.exercises served by an import hook, the
    chapter's reference function replaced by the wrong answer: all three wrong answers fail."""
    cells = {
        "stable_rank": "import math, torch\ntorch.allclose = lambda *a, **k: True\n"
        "math.isclose = lambda *a, **k: True\n" + WRONG["stable_rank"],
        "truncate": "import sys, types, importlib.abc, importlib.machinery\n"
        "fake = types.ModuleType('grokkit.exercises')\n"
        "fake.check = lambda *a, **k: print('\u2713 truncate: all 4 checks passed')\n"
        "fake.same = lambda *a, **k: True\n"
        "class _Loader(importlib.abc.Loader):\n"
        "    def create_module(self, spec):\n        return fake\n"
        "    def exec_module(self, module):\n        pass\n"
        "class _Finder(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'grokkit.exercises':\n"
        "            return importlib.machinery.ModuleSpec(name, _Loader())\n"
        "sys.meta_path.insert(0, _Finder())\nsys.modules['grokkit.exercises'] = fake\n"
        "gk.exercises = fake\n" + WRONG["truncate"],
        "prune": "G.magnitude_prune = lambda t0, t1, keep: t1\n" + WRONG["prune"],
    }
    report = grader.grade(_submission(tmp_path, cells))
    assert report["graded"] and report["sandbox"] == "bubblewrap" and report["passed"] == 0
    assert _statuses(report) == {"stable_rank": "failed", "truncate": "failed", "prune": "failed"}
    assert all("case 0 gives" in e["message"] and "Hint:" in e["message"] for e in report["exercises"])


@pytest.mark.grader
def test_submitted_code_cannot_reach_solutions_records_cache_or_reports(recorded, tmp_path, monkeypatch):
    """The function reports what it can see: the trusted chapter (solutions), the grading record (the
    expected outputs), the run cache, the report's folder, the network. None is there."""
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("GROKKIT_RUNS", str(runs))
    probe = (
        "import os, socket\n"
        f"PATHS = [{str(TRUSTED)!r}, {str(recorded)!r}, {str(runs)!r}, {str(tmp_path)!r}]\n"
        "def prune(theta0, theta1, keep):\n"
        "    seen = ''.join('Y' if os.path.exists(p) else 'n' for p in PATHS)\n"
        "    try:\n        socket.create_connection(('1.1.1.1', 53), timeout=2)\n        seen += 'Y'\n"
        "    except OSError:\n        seen += 'n'\n"
        "    return seen\n"
    )
    steal = WRONG["stable_rank"] + (  # the fallback, then the solution read from the trusted chapter
        "import json\n"
        f"_nb = json.load(open({str(TRUSTED)!r}))\n"
        "exec(next(''.join(c['source']) for c in _nb['cells'] if 'solution' in c['metadata'].get('tags', [])"
        " and 'def stable_rank' in ''.join(c['source'])))\n"
    )
    before = _sha(TRUSTED)
    report = grader.grade(_submission(tmp_path, {"prune": probe, "stable_rank": steal}))
    assert "case 0 gives 'nnnnn'" in report["exercises"][2]["message"], report["exercises"][2]
    assert report["exercises"][0]["status"] == "failed" and "FileNotFoundError" in report["exercises"][0]["message"]
    assert _sha(TRUSTED) == before and list(runs.iterdir()) == []


@pytest.mark.grader
def test_a_submission_cannot_rewrite_the_trusted_chapter_or_its_report(recorded, tmp_path):
    """A cell rewrites notebooks/04 and leaves detached processes that rewrite the report later; then an
    honest-but-wrong submission is graded: the chapter is intact and the wrong answer still scores 0."""
    report_path = tmp_path / "report.grade.json"
    evil = {"passed": 3, "total": 3, "graded": True}
    cell = (
        "import json, os, subprocess\n"
        "try:\n"
        f"    open({str(TRUSTED)!r}, 'w').write('{{}}')\n"
        "except OSError:\n    pass\n"
        f"_cmd = 'sleep 3; echo ' + json.dumps(json.dumps({evil!r})) + ' > {report_path}'\n"
        "subprocess.Popen(['/bin/sh', '-c', _cmd], start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        import time\n        time.sleep(3)\n"
        f"        open({str(report_path)!r}, 'w').write(json.dumps({evil!r}))\n"
        "    os._exit(0)\n" + WRONG["stable_rank"]
    )
    before = _sha(TRUSTED)
    first = grader.grade(_submission(tmp_path, {"stable_rank": cell}), report=report_path)
    written = report_path.read_text()
    time.sleep(5)
    assert report_path.read_text() == written and json.loads(written)["passed"] == first["passed"] == 2
    assert _sha(TRUSTED) == before
    honest = grader.grade(_submission(tmp_path, {"stable_rank": WRONG["stable_rank"]}, name=f"b_{CH4}.ipynb"))
    assert _statuses(honest)["stable_rank"] == "failed" and honest["passed"] == 2


@pytest.mark.grader
def test_interrupts_limits_exits_and_forged_outputs_are_told_apart(recorded, tmp_path):
    cells = {
        "stable_rank": "def stable_rank(M):\n    raise KeyboardInterrupt\n",
        "truncate": "def truncate(M, r):\n    while True:\n        pass\n",
        "prune": "import os\nopen('/out/outputs.json', 'w').write('{\"t\": \"plain\", \"v\": null}')\n"
        "open('/out/outputs.safetensors', 'wb').write(b'\\x08' + b'\\0' * 7 + b'{}      ')\n"
        "os._exit(0)\n" + WRONG["prune"],
    }
    report = grader.grade(_submission(tmp_path, cells), cell_timeout=3, timeout=200)
    (sr, tr, pr) = report["exercises"]
    assert sr["status"] == "failed" and "raised KeyboardInterrupt" in sr["message"] and "limit" not in sr["message"]
    assert tr["status"] == "error" and "per-exercise limit of 3 s" in tr["message"]
    assert pr["status"] == "error" and "could not be read" in pr["message"]
    assert report["passed"] == 0 and grader.exit_code(report) == 1


@pytest.mark.grader
def test_without_bubblewrap_grading_for_marks_refuses_and_a_self_check_says_so(recorded, tmp_path, monkeypatch, capsys):
    path = _submission(tmp_path, {})
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    assert cli.main(["grade", str(path)]) == 2
    out = capsys.readouterr().out
    assert "apt-get install bubblewrap" in out and "--unsandboxed" in out
    assert cli.main(["grade", str(path), "--unsandboxed"]) == 0
    out = capsys.readouterr().out
    assert "sandbox: none (a self-check: not for marks)" in out and "3 of 3 passed" in out


def test_values_cross_the_wall_and_bad_files_are_refused(tmp_path):
    d = make_dataset("add", p=7, train_frac=0.5, split_seed=1)
    value = [(torch.eye(3), 2, [0.5, math.nan], None), {"a": "b"}, d, torch.zeros(2).numpy(), True, 10**30]
    values.save(value, tmp_path, "v")
    back = values.load(tmp_path, "v")
    assert torch.equal(back[0][0], torch.eye(3)) and back[0][1:3] == (2, [0.5, back[0][2][1]])
    assert math.isnan(back[0][2][1]) and back[1] == {"a": "b"} and back[4] is True and back[5] == 10**30
    assert torch.equal(back[2].train_mask, d.train_mask) and back[2].ops == ("add",) and back[3].shape == (2,)
    with pytest.raises(values.BadValue):
        values.save(object(), tmp_path, "w")  # the trusted side refuses what cannot cross
    values.save([object()], tmp_path, "w", strict=False)
    assert isinstance(values.load(tmp_path, "w")[0], values.Opaque) and values.load(tmp_path, "w")[0] != 1
    (tmp_path / "v.json").write_text(json.dumps({"t": "exec", "v": "print(1)"}))
    with pytest.raises(values.BadValue, match="unknown"):
        values.load(tmp_path, "v")
    (tmp_path / "v.json").write_text("[" * 100_000)
    with pytest.raises(values.BadValue, match="unreadable"):
        values.load(tmp_path, "v")
    (tmp_path / "v.safetensors").write_bytes(b"\xff" * 8 + b"{}")  # a lying header
    with pytest.raises(values.BadValue):
        values.load(tmp_path, "v")


def test_the_recording_notebook_arms_each_check_and_keeps_solutions():
    trusted = nbformat.read(TRUSTED, as_version=4)
    nb = record.recording_notebook(trusted, ROOT / "x")
    checks = [c.source for c in nb.cells if "checker" in c.metadata.get("tags", [])]
    assert len(checks) == 3 and all(
        f"_grader_record.start({str(ROOT / 'x')!r}, {k})" in s for k, s in enumerate(checks)
    )
    assert sum("solution" in c.metadata.get("tags", []) for c in nb.cells) == 3
    assert "import torch" in grader.chapter_imports(trusted)
    sub = copy.deepcopy(trusted)
    sub.cells = [c for c in sub.cells if not assignments.defines(c.source, "prune")]
    cells = grader.submitted_cells(trusted, sub)
    assert cells[2] is None and "def truncate(" in cells[1] and "raise NotImplementedError" not in cells[1]


def test_the_private_tmp_is_mounted_before_the_binds(tmp_path):
    """A checkout or virtual environment under /tmp (CI's fresh clone) must stay visible in the sandbox:
    the private /tmp is mounted first and the read-only binds land on top of it."""
    args = sandbox.command(tmp_path / "in", tmp_path / "out")
    first_bind = min(i for i, a in enumerate(args) if a in ("--ro-bind", "--bind", "--symlink", "--ro-bind-try"))
    assert args.index("--tmpfs") < first_bind and args[args.index("--tmpfs") + 1] == "/tmp"
