"""The course kit: student/instructor notebooks (`make assignments`) and the grader (`python -m grokkit grade`).

Grading executes Chapter 4 (the cheapest) at the smoke profile, with the run cache of the environment
($GROKKIT_RUNS, as `make test` sets it): a few tens of seconds per grading once the cache holds its runs.
"""

import ast
import copy
import hashlib
import json
import time

import nbformat
import pytest
import torch
from conftest import ROOT

from grokkit import cli, exercises
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


@pytest.mark.grader
def test_edited_checks_in_a_submission_change_nothing_and_a_missing_function_is_reported(kit, tmp_path, grading_record):
    sub = nbformat.read(kit / "instructor" / f"{CH4}.ipynb", as_version=4)
    sub.cells = [c for c in sub.cells if not assignments.defines(c.source, "prune")]  # 4.3 missing
    for c in sub.cells:
        if "checker" in c.metadata.get("tags", []):
            c.source = "print('✓ all checks passed')"  # edited checks must not matter
    sub = _replace(sub, "truncate", "def truncate(M, r):\n    return M\n")
    nbformat.write(sub, tmp_path / f"{CH4}.ipynb")
    report = grader.grade(tmp_path / f"{CH4}.ipynb")
    assert [(e["id"], e["function"], e["status"]) for e in report["exercises"]] == [
        ("4.1", "stable_rank", "passed"),
        ("4.2", "truncate", "failed"),
        ("4.3", "prune", "missing"),
    ]


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


# ---- Gradescope's results.json ----------------------------------------------------------------------

_GS_TOP = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
_GS_TEST = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
_GS_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def _valid_gradescope(results):
    """Check results against the fields of Gradescope's autograder spec; return it."""
    assert json.loads(json.dumps(results)) == results and set(results) <= _GS_TOP
    assert isinstance(results["score"], float) and isinstance(results["output"], str) and results["output"]
    assert isinstance(results["execution_time"], int) and results["stdout_visibility"] in _GS_VISIBILITY
    for t in results["tests"]:
        assert set(t) <= _GS_TEST and isinstance(t["name"], str) and isinstance(t["output"], str) and t["output"]
        assert t["status"] in {"passed", "failed"} and t["visibility"] in _GS_VISIBILITY
        assert t["max_score"] == 1.0 and t["score"] == (1.0 if t["status"] == "passed" else 0.0)
    assert results["score"] == sum(t["score"] for t in results["tests"])
    return results


def _report(statuses, graded=True, reason=None):
    exs = [
        {"id": f"4.{i + 1}", "function": f"f{i + 1}", "status": s, "message": f"f{i + 1}: {s}"}
        for i, s in enumerate(statuses)
    ]
    passed = sum(s == "passed" for s in statuses)
    return {
        "submission": "s.ipynb",
        "chapter": CH4,
        "graded": graded,
        "reason": reason,
        "exercises": exs,
        "passed": passed,
        "total": len(exs),
        "elapsed_s": 41.6,
        "report": "s.grade.json",
    }


def test_gradescope_results_when_all_pass():
    results = _valid_gradescope(grader.gradescope(_report(["passed"] * 3)))
    assert results["score"] == 3.0 and results["execution_time"] == 42
    assert "3 of 3 exercises passed" in results["output"]
    assert [(t["name"], t["number"], t["output"]) for t in results["tests"]] == [
        (f"Exercise 4.{i}: f{i}", f"4.{i}", f"f{i}: passed") for i in (1, 2, 3)
    ]


def test_gradescope_results_when_some_fail():
    statuses = ["passed", "failed", "not attempted", "missing", "error"]
    results = _valid_gradescope(grader.gradescope(_report(statuses, reason="the kernel died")))
    assert results["score"] == 1.0 and "1 of 5 exercises passed" in results["output"]
    assert "the kernel died" in results["output"]
    assert [t["status"] for t in results["tests"]] == ["passed"] + ["failed"] * 4
    assert [t["output"] for t in results["tests"]] == [f"f{i + 1}: {s}" for i, s in enumerate(statuses)]


@pytest.mark.parametrize("statuses", [[], ["not graded"] * 3], ids=["no-exercises", "run-stopped"])
def test_gradescope_results_when_nothing_could_be_graded(statuses):
    reason = "not a Jupyter notebook (JSONDecodeError: ...)"
    results = _valid_gradescope(grader.gradescope(_report(statuses, graded=False, reason=reason)))
    assert results["score"] == 0.0 and results["output"] == f"Could not grade this submission: {reason}"
    assert len(results["tests"]) == len(statuses) and all(t["status"] == "failed" for t in results["tests"])


def test_cli_writes_gradescope_results_even_when_it_cannot_grade(tmp_path, capsys):
    path = tmp_path / f"{CH4}.ipynb"
    path.write_text("this is not json")
    assert cli.main(["grade", str(path), "--format", "gradescope"]) == 2
    results = _valid_gradescope(json.loads((tmp_path / "results.json").read_text()))
    assert results["score"] == 0.0 and results["tests"] == [] and "not a Jupyter notebook" in results["output"]
    assert (tmp_path / f"{CH4}.grade.json").exists() and "gradescope results:" in capsys.readouterr().out
    (tmp_path / "results.json").unlink()
    target = tmp_path / "autograder" / "results" / "results.json"
    assert cli.main(["grade", str(path), "--format", "gradescope", "--report", str(target)]) == 2
    assert _valid_gradescope(json.loads(target.read_text()))["score"] == 0.0
    assert not (tmp_path / "results.json").exists()
    assert cli.main(["grade", str(path), "--report", str(tmp_path / "r.json")]) == 2  # default: grokkit's report
    assert "exercises" in json.loads((tmp_path / "r.json").read_text())


# ---- the expected-output figure under each check -----------------------------------------------------


def _check_call(source):
    calls = [
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and ast.unparse(n.func) == "gk.exercises.check"
    ]
    assert len(calls) == 1, source
    return calls[0]


@pytest.mark.parametrize("src", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_shows_the_expected_output(src):
    """Each exercise's trusted check draws the reference's answers (figure=True) before its verdict."""
    nb = nbformat.read(src, as_version=4)
    exs = assignments.exercises(nb)
    assert exs and all(e.checker is not None for e in exs)
    for e in exs:
        kw = {k.arg: k.value for k in _check_call(nb.cells[e.checker].source).keywords}
        assert isinstance(kw.get("figure"), ast.Constant) and kw["figure"].value is True, e


def test_expected_figure_is_drawn_from_the_reference_by_kind():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = exercises.expected(lambda x: None if x < 0 else x * 2.0, [1, 2, -1], name="double")
    (ax,) = fig.axes
    assert [p.get_height() for p in ax.patches] == [2.0, 4.0, 0.0] and "None" in [t.get_text() for t in ax.texts]
    assert "a correct double" in fig._suptitle.get_text()
    M = torch.randn(5, 6, generator=torch.Generator().manual_seed(0))
    fig = exercises.expected(lambda M, r: M[:r] if r else M, [(M, 0), (M, 2), (M[0], 1)] + [(M, 0)] * 3)
    images = [ax for ax in fig.axes if ax.images]  # heatmaps for matrices, lines for vectors
    assert len(images) == 3 and len([ax for ax in fig.axes if ax.lines]) == 1
    assert "first 4 of 6" in fig._suptitle.get_text() and fig.axes[0].get_title().startswith("case 0: 5×6 tensor")
    assert torch.allclose(torch.as_tensor(images[0].images[0].get_array()), M.double())
    plt.close("all")


def test_check_shows_the_figure_first_and_never_fails_on_it(monkeypatch):
    import IPython
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # as in a notebook
    monkeypatch.setattr(IPython.display, "display", lambda fig: shown.append(fig))

    def stub(x):
        raise NotImplementedError

    with pytest.raises(exercises.ExerciseFailed, match="not attempted"):
        exercises.check(stub, lambda x: x + 1, [1, 2], figure=True)
    assert len(shown) == 1 and [p.get_height() for p in shown[0].axes[0].patches] == [2.0, 3.0]
    assert not plt.get_fignums()  # displayed, then closed
    assert exercises.check(lambda x: x + 1, lambda x: x + 1, [1, 2]) and len(shown) == 1  # figure=False
    monkeypatch.setattr(exercises, "expected", lambda *a, **k: 1 / 0)
    with pytest.warns(UserWarning, match="expected-output figure was not drawn"):
        assert exercises.check(lambda x: x + 1, lambda x: x + 1, [1, 2], figure=True)


@pytest.mark.grader
def test_grader_passes_the_instructor_copy(kit, tmp_path, capsys):
    """Also with Gradescope's results.json, which leaves the grokkit report in its default place."""
    path = tmp_path / f"{CH4}.ipynb"
    path.write_bytes((kit / "instructor" / path.name).read_bytes())
    assert cli.main(["grade", str(path), "--format", "gradescope"]) == 0
    report = json.loads((tmp_path / f"{CH4}.grade.json").read_text())
    assert report["graded"] and report["reason"] is None and report["passed"] == report["total"] == 3
    assert [e["id"] for e in report["exercises"]] == ["4.1", "4.2", "4.3"]
    assert all(e["status"] == "passed" and "checks passed" in e["message"] for e in report["exercises"])
    assert "3 of 3 passed" in capsys.readouterr().out
    results = _valid_gradescope(json.loads((tmp_path / "results.json").read_text()))
    assert results["score"] == 3.0 and [t["status"] for t in results["tests"]] == ["passed"] * 3
    assert [t["output"] for t in results["tests"]] == [e["message"] for e in report["exercises"]]


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
def test_hostile_submission_gives_a_report_in_time(kit, tmp_path, grading_record):
    """An endless loop, sys.exit() and os._exit(), one per exercise: a report, no traceback."""
    nb = nbformat.read(kit / "student" / f"{CH4}.ipynb", as_version=4)
    nb = _replace(nb, "stable_rank", "def stable_rank(M):\n    return 1.0\nwhile True:\n    pass\n")
    nb = _replace(nb, "truncate", "import sys\ndef truncate(M, r):\n    return M\nsys.exit()\n")
    nb = _replace(nb, "prune", "import os\ndef prune(theta0, theta1, keep):\n    return theta1\nos._exit(1)\n")
    nbformat.write(nb, tmp_path / f"{CH4}.ipynb")
    t = time.monotonic()
    report = grader.grade(tmp_path / f"{CH4}.ipynb", cell_timeout=5, timeout=300)
    assert time.monotonic() - t < 120
    assert report["graded"] and grader.exit_code(report) == 1
    assert _statuses(report) == {"stable_rank": "error", "truncate": "failed", "prune": "error"}
    msgs = [e["message"] for e in report["exercises"]]
    assert "your cell did not finish within the per-exercise limit of 5 s" in msgs[0]
    assert "case 0 gives" in msgs[1] and "called sys.exit" in msgs[1] and "exit code 1" in msgs[2]


@pytest.mark.grader
def test_overall_timeout_stops_the_run(kit, tmp_path, grading_record):
    nb = nbformat.read(kit / "instructor" / f"{CH4}.ipynb", as_version=4)
    nb = _replace(nb, "stable_rank", "def stable_rank(M):\n    while True:\n        pass\n")
    nbformat.write(nb, tmp_path / f"{CH4}.ipynb")
    t = time.monotonic()
    report = grader.grade(tmp_path / f"{CH4}.ipynb", timeout=6)
    assert time.monotonic() - t < 30
    assert "overall limit of 6 s" in report["reason"] and grader.exit_code(report) == 1
    assert _statuses(report) == {"stable_rank": "error", "truncate": "not graded", "prune": "not graded"}


@pytest.mark.grader
@pytest.mark.slow
def test_code_that_ignores_the_limit_is_killed_with_everything_it_started(kit, tmp_path, grading_record):
    psutil = pytest.importorskip("psutil")
    nb = nbformat.read(kit / "student" / f"{CH4}.ipynb", as_version=4)
    nb = _replace(
        nb,
        "stable_rank",
        "import subprocess, time\nsubprocess.Popen(['sleep', '1000'])\ndef stable_rank(M):\n    return 1.0\n"
        "while True:\n    try:\n        time.sleep(100)\n    except BaseException:\n        pass\n",
    )
    nbformat.write(nb, tmp_path / f"{CH4}.ipynb")
    report = grader.grade(tmp_path / f"{CH4}.ipynb", cell_timeout=5, timeout=90)
    assert _statuses(report) == {"stable_rank": "error", "truncate": "not attempted", "prune": "not attempted"}
    assert "did not finish within 35 s and was stopped" in report["exercises"][0]["message"]
    time.sleep(1)
    left = [p for p in psutil.process_iter(["cmdline"]) if _mine(p.info["cmdline"], tmp_path)]
    assert not left, f"a grading process survived: {left}"


def _mine(cmdline, tmp_path):
    text = " ".join(cmdline or [])
    return "course/harness.py" in text or "sleep 1000" in text


def test_sources_are_unchanged(sources, kit):
    assert _digest() == sources
