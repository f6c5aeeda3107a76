"""The course kit: student/instructor notebooks (`make assignments`) and the grader (`python -m grokkit grade`).

Grading executes Chapter 4 (the cheapest) at the smoke profile, with the run cache of the environment
($GROKKIT_RUNS, as `make test` sets it): a few tens of seconds per grading once the cache holds its runs.
"""

import copy
import hashlib
import json
import time

import nbformat
import pytest
from conftest import ROOT

from grokkit import cli
from grokkit.course import assignments, grader

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CH4 = "04_holographic"
STATUSES = {"passed", "failed", "not attempted", "missing", "error", "not graded"}


def _digest():
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS}


@pytest.fixture(scope="module")
def sources():
    """The sources' bytes before anything in this module ran."""
    return _digest()


@pytest.fixture(scope="module")
def kit(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    assert cli.main(["assignments", "--out", str(out)]) == 0
    return out


def _code(nb, tag):
    return [c.source for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


def _replace(nb, function, source):
    """A copy of nb whose cells defining `function` hold `source` instead."""
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        if c.cell_type == "code" and assignments.defines(c.source, function):
            c.source = source
    return nb


def _statuses(report):
    return {e["function"]: e["status"] for e in report["exercises"]}


@pytest.mark.parametrize("src", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_copy_has_no_solutions_but_every_stub_check_and_hint(kit, src):
    source = nbformat.read(src, as_version=4)
    student = nbformat.read(kit / "student" / src.name, as_version=4)
    instructor = nbformat.read(kit / "instructor" / src.name, as_version=4)
    text = [c.source for c in student.cells]
    solutions = _code(source, "solution")
    assert solutions and not any(s in t for s in solutions for t in text)
    assert not _code(student, "solution")
    assert _code(student, "exercise") == _code(source, "exercise")
    assert _code(student, "checker") == _code(source, "checker")
    hints = [c.source for c in source.cells if c.cell_type == "markdown" and "**Exercise" in c.source]
    assert len(hints) == len(solutions) and all(h in text for h in hints)
    assert len(student.cells) == len(source.cells) - len(solutions)
    assert [c.source for c in instructor.cells] == [c.source for c in source.cells]
    for nb in (student, instructor):
        assert not any(c.get("outputs") or c.get("execution_count") for c in nb.cells if c.cell_type == "code")
        nbformat.validate(nb)


def test_readme_lists_every_exercise(kit):
    readme = (kit / "README.md").read_text()
    for src in NOTEBOOKS:
        exs = assignments.exercises(nbformat.read(src, as_version=4))
        assert len(exs) >= 3 and f"## {src.stem}" in readme
        for e in exs:
            assert f"| {e.id} | `{e.function}` |" in readme and e.id.startswith(src.stem[1] + ".")


def test_grading_notebook_uses_trusted_checks_and_keeps_missing_stubs(kit):
    trusted = nbformat.read(ROOT / "notebooks" / f"{CH4}.ipynb", as_version=4)
    sub = nbformat.read(kit / "instructor" / f"{CH4}.ipynb", as_version=4)
    sub.cells = [c for c in sub.cells if not assignments.defines(c.source, "prune")]  # 4.3 missing
    for c in sub.cells:
        if "checker" in c.metadata.get("tags", []):
            c.source = "print('✓ all checks passed')"  # edited checks must not matter
    nb, entries = grader.grading_notebook(trusted, sub, "n0nce")
    assert [(e["id"], e["function"], e["status"]) for e in entries] == [
        ("4.1", "stable_rank", "not graded"),
        ("4.2", "truncate", "not graded"),
        ("4.3", "prune", "missing"),
    ]
    assert not _code(nb, "solution")
    checks = _code(nb, "checker")
    assert len(checks) == 3 and all("grader-ok:n0nce" in s and "gk.exercises.check(" in s for s in checks)
    assert sum("def prune(" in c.source for c in nb.cells) == 1 and "raise NotImplementedError" in next(
        c.source for c in nb.cells if "def prune(" in c.source
    )
    student = [c for c in nb.cells if c.metadata.get("grader", {}).get("role") == "student"]
    assert len(student) == 2 and all("raises-exception" in c.metadata["tags"] for c in student)


def test_chapter_is_detected_from_name_or_title(tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / f"{CH4}.ipynb", as_version=4)
    assert grader.detect_chapter(tmp_path / f"smith_{CH4}.ipynb", nbformat.v4.new_notebook()) == CH4
    assert grader.detect_chapter(tmp_path / "homework.ipynb", nb) == CH4
    assert grader.detect_chapter(tmp_path / "homework.ipynb", nbformat.v4.new_notebook()) is None


@pytest.mark.parametrize(
    "content",
    ["this is not json", '{"cells": [', '{"a": 1}', "\x00\xff"],
    ids=["text", "truncated", "not-a-notebook", "binary"],
)
def test_non_notebook_gives_a_report_and_exit_code_2(tmp_path, capsys, content):
    path = tmp_path / f"{CH4}.ipynb"
    path.write_text(content)
    assert cli.main(["grade", str(path)]) == 2
    report = json.loads((tmp_path / f"{CH4}.grade.json").read_text())
    assert not report["graded"] and "not a Jupyter notebook" in report["reason"] and report["exercises"] == []
    assert "could not grade" in capsys.readouterr().out


def test_unknown_chapter_gives_a_report(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# 9. An essay"), nbformat.v4.new_code_cell("def f(x):\n    return x")]
    )
    nbformat.write(nb, tmp_path / "essay.ipynb")
    report = grader.grade(tmp_path / "essay.ipynb")
    assert not report["graded"] and "chapter" in report["reason"] and grader.exit_code(report) == 2
    report = grader.grade(tmp_path / "essay.ipynb", chapter="99_nope", report=tmp_path / "r.json")
    assert not report["graded"] and "unknown chapter" in report["reason"] and (tmp_path / "r.json").exists()


@pytest.mark.grader
def test_grader_passes_the_instructor_copy(kit, tmp_path, capsys):
    path = tmp_path / f"{CH4}.ipynb"
    path.write_bytes((kit / "instructor" / path.name).read_bytes())
    assert cli.main(["grade", str(path)]) == 0
    report = json.loads((tmp_path / f"{CH4}.grade.json").read_text())
    assert report["graded"] and report["reason"] is None and report["passed"] == report["total"] == 3
    assert [e["id"] for e in report["exercises"]] == ["4.1", "4.2", "4.3"]
    assert all(e["status"] == "passed" and "checks passed" in e["message"] for e in report["exercises"])
    assert "3 of 3 passed" in capsys.readouterr().out


@pytest.mark.grader
def test_grader_fails_the_student_copy_per_exercise(kit, tmp_path):
    path = tmp_path / f"student_{CH4}.ipynb"
    path.write_bytes((kit / "student" / f"{CH4}.ipynb").read_bytes())
    report = grader.grade(path)
    assert report["graded"] and grader.exit_code(report) == 1
    assert _statuses(report) == {"stable_rank": "not attempted", "truncate": "not attempted", "prune": "not attempted"}


@pytest.mark.grader
def test_one_wrong_exercise_fails_alone_even_if_it_patches_the_checker(kit, tmp_path):
    nb = nbformat.read(kit / "instructor" / f"{CH4}.ipynb", as_version=4)
    nb = _replace(
        nb,
        "truncate",
        "gk.exercises.check = lambda *a, **k: print('✓ truncate: all 4 checks passed')\n"
        "def truncate(M, r):\n    return M.double()\n",
    )
    nbformat.write(nb, tmp_path / f"{CH4}.ipynb")
    report = grader.grade(tmp_path / f"{CH4}.ipynb")
    assert _statuses(report) == {"stable_rank": "passed", "truncate": "failed", "prune": "passed"}
    msg = report["exercises"][1]["message"]
    assert "truncate: case 0" in msg and "Hint:" in msg and grader.exit_code(report) == 1


@pytest.mark.grader
def test_hostile_submission_gives_a_report_in_time(kit, tmp_path):
    """An endless loop, sys.exit() and a dying kernel, one per exercise: a report, no traceback."""
    nb = nbformat.read(kit / "student" / f"{CH4}.ipynb", as_version=4)
    nb = _replace(nb, "stable_rank", "def stable_rank(M):\n    return 1.0\nwhile True:\n    pass\n")
    nb = _replace(nb, "truncate", "import sys\ndef truncate(M, r):\n    return M\nsys.exit()\n")
    nb = _replace(nb, "prune", "import os\ndef prune(theta0, theta1, keep):\n    return theta1\nos._exit(1)\n")
    nbformat.write(nb, tmp_path / f"{CH4}.ipynb")
    t = time.monotonic()
    report = grader.grade(tmp_path / f"{CH4}.ipynb", cell_timeout=5, timeout=300)
    assert time.monotonic() - t < 300
    assert report["graded"] and grader.exit_code(report) == 1
    assert _statuses(report) == {"stable_rank": "error", "truncate": "error", "prune": "error"}
    msgs = [e["message"] for e in report["exercises"]]
    assert "per-cell limit of 5 s" in msgs[0] and "sys.exit" in msgs[1] and "kernel died" in msgs[2]


@pytest.mark.grader
def test_overall_timeout_stops_the_run(kit, tmp_path):
    path = tmp_path / f"{CH4}.ipynb"
    path.write_bytes((kit / "instructor" / path.name).read_bytes())
    t = time.monotonic()
    report = grader.grade(path, timeout=4)
    assert time.monotonic() - t < 30
    assert not report["graded"] and "overall limit of 4 s" in report["reason"] and grader.exit_code(report) == 2
    assert {e["status"] for e in report["exercises"]} == {"not graded"}


@pytest.mark.grader
@pytest.mark.slow
def test_a_kernel_that_ignores_interrupts_is_killed_at_the_overall_limit(kit, tmp_path):
    psutil = pytest.importorskip("psutil")
    nb = nbformat.read(kit / "student" / f"{CH4}.ipynb", as_version=4)
    nb = _replace(
        nb,
        "stable_rank",
        "import time\ndef stable_rank(M):\n    return 1.0\nwhile True:\n    try:\n"
        "        time.sleep(100)\n    except KeyboardInterrupt:\n        pass\n",
    )
    nbformat.write(nb, tmp_path / f"{CH4}.ipynb")
    report = grader.grade(tmp_path / f"{CH4}.ipynb", cell_timeout=5, timeout=90)
    assert _statuses(report) == {"stable_rank": "error", "truncate": "not graded", "prune": "not graded"}
    assert "overall limit" in report["exercises"][0]["message"]
    time.sleep(1)
    assert not [p for p in psutil.process_iter() if "grokkit-grade-" in _cwd(p)], "a grading process survived"


def _cwd(p):
    try:
        return p.cwd()
    except Exception:
        return ""


def test_sources_are_unchanged(sources, kit):
    assert _digest() == sources
