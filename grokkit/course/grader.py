"""Grade a submitted chapter notebook (`python -m grokkit grade SUBMISSION.ipynb`).

The submission is never executed as handed in. The grader takes the trusted chapter from notebooks/,
removes its solutions and puts, in place of each exercise stub, the submission's last code cell that
defines the same function. It executes that notebook at the smoke profile (papermill, in a temporary
directory, in a subprocess with a wall-clock limit) and reads each exercise's verdict from the outputs
of its trusted check: a marker with a per-run nonce means passed. Statuses: passed, failed,
not attempted, missing, error, not graded. Exit codes: 0 all passed, 1 some not, 2 could not grade.
`gradescope(report)` converts a report into Gradescope's autograder results.json.
This guards against mistakes and crashes, not against a determined attacker: it is not a sandbox.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from grokkit.course import runner
from grokkit.course.assignments import defines, exercises, tags, title
from grokkit.course.gradescope import gradescope  # noqa: F401  (grader.gradescope: the conversion)
from grokkit.repo import repo_root

_RELOAD = (
    "import importlib as _grader_il, sys as _grader_sys  # grader: a fresh, unpatched checker\n"
    "_grader_sys.modules.pop('grokkit.exercises', None)\n"
    "gk = _grader_il.import_module('grokkit')\n"
    "gk.exercises = _grader_il.import_module('grokkit.exercises')\n"
)


def _entry(ex, status="not graded", message=""):
    return {"id": ex.id, "function": ex.function, "status": status, "message": message}


def load_submission(path: Path):
    """The submission as a v4 notebook; raise ValueError with a readable reason if it is not one."""
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.read(path, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
        for cell in nb.cells:
            if not isinstance(cell.get("source"), str) or cell.get("cell_type") not in ("code", "markdown", "raw"):
                raise ValueError("it has a malformed cell")
        return nb
    except Exception as e:  # JSON, encoding, nbformat or structure errors
        raise ValueError(f"not a Jupyter notebook ({type(e).__name__}: {str(e)[:200]})") from None


def detect_chapter(path: Path, nb, notebooks: Path | None = None) -> str | None:
    """The chapter stem from the file name, else from the submission's markdown title."""
    notebooks = Path(notebooks or repo_root() / "notebooks")
    stems = sorted(p.stem for p in notebooks.glob("*.ipynb"))
    named = [s for s in stems if s in path.name]
    if named:
        return max(named, key=len)
    head = title(nb)
    for s in stems:
        if head and head == title(nbformat.read(Path(notebooks) / f"{s}.ipynb", as_version=4)):
            return s
    m = re.match(r"#\s*(\d+)\.", head)
    numbered = [s for s in stems if m and s.split("_")[0].lstrip("0") == m.group(1)]
    return numbered[0] if len(numbered) == 1 else None


def grading_notebook(trusted, submission, nonce: str):
    """The trusted chapter with the submitted exercise cells, guarded checks, no solutions."""
    exs, nb = exercises(trusted), copy.deepcopy(trusted)
    code = [c.source for c in submission.cells if c.cell_type == "code"]
    entries, drop = [], {e.solution for e in exs}
    for k, ex in enumerate(exs):
        entries.append(_entry(ex))
        mine = next((s for s in reversed(code) if defines(s, ex.function)), None)
        if mine is None:
            entries[-1].update(status="missing", message=f"no code cell defines {ex.function}(...); the stub was kept")
        else:
            nb.cells[ex.stub] = nbformat.v4.new_code_cell(
                mine, metadata={"tags": ["raises-exception"], "grader": {"role": "student", "exercise": k}}
            )
        if ex.checker is not None:
            cell = nb.cells[ex.checker]
            cell.source = f"{_RELOAD}{cell.source}\nprint('grader-ok:{nonce}')\n"
            cell.metadata["tags"] = tags(cell) + ["raises-exception"]
            cell.metadata["grader"] = {"role": "checker", "exercise": k}
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in drop]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb, entries


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the runner, the kernel (its own session) and their descendants' process groups."""
    pids = [proc.pid]
    try:
        import psutil

        pids += [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    except Exception:
        pass
    for pid in pids:
        try:
            if os.getpgid(pid) != os.getpgrp():
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        except OSError:
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait()


def _execute(nb, tmp: Path, timeout: float, cell_timeout: int) -> str | None:
    """Run the grading notebook in tmp/work; return a problem that cut the run short, or None."""
    work = tmp / "work"
    work.mkdir()
    nbformat.write(nb, tmp / "grading.ipynb")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(repo_root()), os.environ.get("PYTHONPATH")])))
    # `python -I` (isolated: no cwd on sys.path, no user site) runs the runner module's file as a script
    args = [
        sys.executable,
        "-I",
        runner.__file__,
        str(tmp / "grading.ipynb"),
        str(tmp / "executed.ipynb"),
        str(work),
        str(tmp / "metrics.json"),
        str(tmp / "status.json"),
        str(int(cell_timeout)),
        str(int(timeout) + 60),
    ]
    with open(tmp / "runner.log", "wb") as log:
        proc = subprocess.Popen(
            args, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"the run was stopped at the overall limit of {timeout:g} s"
        finally:
            if proc.poll() is None:
                _kill_tree(proc)
    try:
        status = json.loads((tmp / "status.json").read_text())
    except (OSError, ValueError):
        tail = (tmp / "runner.log").read_text(errors="replace").strip().splitlines()[-3:]
        return f"the runner stopped with exit code {proc.returncode} ({' | '.join(tail)[-300:]})"
    if status["ok"]:
        return None
    if status["kind"] == "DeadKernelError":
        return "the kernel died"
    return f"the run stopped ({status['kind']}: {status['message']})"


def _error(cell):
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _describe(err, cell_timeout) -> str:
    if err["ename"] == "KeyboardInterrupt":
        return f"did not finish within the per-cell limit of {cell_timeout} s (interrupted)"
    if err["ename"] == "SystemExit":
        return f"called sys.exit({err['evalue']})"
    return ("raised " + (f"{err['ename']}: {err['evalue']}" if err.get("evalue") else err["ename"]))[:500]


def _verdicts(executed, entries, nonce, problem, cell_timeout) -> str | None:
    """Fill each entry's status from its student and checker cells; return what cut the run short."""
    cells = {}
    for cell in executed.cells:
        g = cell.get("metadata", {}).get("grader")
        if g:
            cells[(g["exercise"], g["role"])] = cell
    started = [c for c in executed.cells if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    last = started[-1] if started else None
    chapter_error = next((c for c in started if not c.metadata.get("grader") and _error(c)), None)
    if problem is None and chapter_error is not None:
        problem = f"the chapter's own code failed ({_describe(_error(chapter_error), cell_timeout)})"
    ran = lambda c: c is not None and bool(c.get("metadata", {}).get("papermill", {}).get("start_time"))
    for k, e in enumerate(entries):
        mine, check = cells.get((k, "student")), cells.get((k, "checker"))
        if e["status"] == "missing":
            continue
        if problem and last is not None and (last is mine or last is check):  # cut short right here
            where = "your cell" if last is mine else "the check of your function"
            e.update(status="error", message=f"{problem} while running {where}")
            continue
        if not ran(check):
            e.update(status="not graded", message=f"not run: {problem or 'the chapter has no check for it'}")
            continue
        err, mine_err, text = _error(check), _error(mine) if mine is not None else None, _text(check)
        if err is None and f"grader-ok:{nonce}" in text:
            done = [ln for ln in text.splitlines() if ln.startswith("\u2713")]
            note = f" (note: your cell {_describe(mine_err, cell_timeout)})" if mine_err else ""
            e.update(status="passed", message=(done[-1] if done else "all checks passed") + note)
        elif mine_err is not None:
            e.update(status="error", message=f"your cell {_describe(mine_err, cell_timeout)}")
        elif err is not None and err["ename"] == "ExerciseFailed" and "not attempted" in err.get("evalue", ""):
            e.update(status="not attempted", message=err["evalue"][:500])
        elif err is not None:
            msg = err["evalue"] if err["ename"] == "ExerciseFailed" else "the check " + _describe(err, cell_timeout)
            e.update(status="failed", message=msg[:500])
        else:
            e.update(status="failed", message="the check did not confirm success")
    return problem


def grade(
    submission,
    chapter: str | None = None,
    timeout: float = 600,
    cell_timeout: int = 120,
    report: str | Path | None = None,
    notebooks: Path | None = None,
) -> dict:
    """Grade one submission; write the JSON report (default <stem>.grade.json beside it) and return it.
    `notebooks`: the trusted chapters (default: the checkout's notebooks/, found by grokkit.repo)."""
    if not (timeout > 0 and cell_timeout > 0):  # 0 or less would interrupt every cell (or never limit one)
        raise ValueError(f"timeout and cell_timeout must be positive seconds, got {timeout} and {cell_timeout}")
    t0, path = time.monotonic(), Path(submission)
    notebooks = Path(notebooks or repo_root() / "notebooks")
    out = {"submission": str(path), "chapter": chapter, "graded": False, "reason": None, "exercises": []}
    try:
        nb = load_submission(path)
        out["chapter"] = chapter = chapter or detect_chapter(path, nb, notebooks)
        if chapter is None or not (Path(notebooks) / f"{chapter}.ipynb").is_file():
            raise ValueError(
                f"unknown chapter {chapter!r}"
                if chapter
                else "could not tell the chapter from the file name or the title; pass --chapter"
            )
        trusted = nbformat.read(Path(notebooks) / f"{chapter}.ipynb", as_version=4)
        nonce = secrets.token_hex(16)
        graded_nb, entries = grading_notebook(trusted, nb, nonce)
        out["exercises"] = entries
        with tempfile.TemporaryDirectory(prefix="grokkit-grade-", ignore_cleanup_errors=True) as tmp:
            problem = _execute(graded_nb, Path(tmp), timeout, cell_timeout)
            try:
                executed = nbformat.read(Path(tmp) / "executed.ipynb", as_version=4)
            except Exception:
                executed = nbformat.v4.new_notebook()
                problem = problem or "the run produced no notebook"
            problem = _verdicts(executed, entries, nonce, problem, cell_timeout)
        out["reason"] = problem
        out["graded"] = any(e["status"] != "not graded" for e in entries)
    except ValueError as e:
        out["reason"] = str(e)
    out["passed"] = sum(e["status"] == "passed" for e in out["exercises"])
    out["total"] = len(out["exercises"])
    out["elapsed_s"] = round(time.monotonic() - t0, 1)
    target = Path(report) if report else path.with_name(f"{path.stem}.grade.json")
    try:
        target.write_text(json.dumps(out, indent=1, ensure_ascii=False))
        out["report"] = str(target)
    except OSError as e:
        out["report"] = None
        print(f"grokkit grade: could not write the report to {target}: {e}", file=sys.stderr)
    return out


def exit_code(report: dict) -> int:
    if not report["graded"]:
        return 2
    return 0 if report["passed"] == report["total"] else 1


def summary(report: dict) -> str:
    """A few lines for the terminal."""
    lines = [f"grade: {report['submission']} (chapter {report['chapter'] or '?'}, {report['elapsed_s']:.0f} s)"]
    if report["reason"]:
        lines.append(f"  {'note' if report['graded'] else 'could not grade'}: {report['reason']}")
    for e in report["exercises"]:
        lines.append(f"  {e['id']:<5} {e['function']:<20} {e['status']:<14} {e['message']}".rstrip())
    if report["exercises"]:
        lines.append(f"  {report['passed']} of {report['total']} passed")
    if report.get("report"):
        lines.append(f"  report: {report['report']}")
    return "\n".join(lines)
