"""Grade a submitted chapter notebook (`python -m grokkit grade SUBMISSION.ipynb`).

The submission is never executed as handed in, and never in the process that judges it. For each
exercise the grader takes the submission's last code cell that defines the exercise's function and
runs it in a sandbox (`sandbox`: bubblewrap, one per exercise, per-exercise and overall time limits)
on the inputs of the chapter's own check, recorded once from a trusted run of the chapter (`record`).
Only the function's outputs come back (`values`: JSON and safetensors, size-capped, no pickle); this
process compares them with the reference's outputs. Statuses: passed, failed, not attempted, missing,
error, not graded. Exit codes: 0 all passed, 1 some not, 2 could not grade (bubblewrap missing
included). `gradescope(report)` converts a report into Gradescope's autograder results.json.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from grokkit import exercises as exercises_mod
from grokkit.course import record, sandbox, values
from grokkit.course.assignments import defines, exercises, title
from grokkit.course.gradescope import gradescope  # noqa: F401  (grader.gradescope: the conversion)
from grokkit.store.repo import repo_root

_GRACE_S = 30  # start-up of a sandbox (Python, torch, grokkit) on top of the per-exercise limit


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


def submitted_cells(trusted, submission) -> list[str | None]:
    """For each exercise, the submission's last code cell that defines its function (None: missing)."""
    code = [c.source for c in submission.cells if c.cell_type == "code"]
    return [next((s for s in reversed(code) if defines(s, ex.function)), None) for ex in exercises(trusted)]


def chapter_imports(trusted) -> list[str]:
    """The chapter's top-level import statements, in order: the namespace a submitted cell runs in."""
    out = []
    for cell in trusted.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # a cell with notebook magics
            continue
        out += [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return list(dict.fromkeys(out))


def _describe(d: dict) -> str:
    if d["raised"] == "SystemExit":
        return f"called sys.exit({d['message']})"
    return ("raised " + (f"{d['raised']}: {d['message']}" if d["message"] else d["raised"]))[:500]


def judge(check: record.Check, outputs: dict, limit: float) -> tuple[str, str]:
    """(status, message) of one exercise from its function's outputs, compared in this process."""
    top = outputs.get("top_error")
    if outputs.get("stopped") in ("cell", "function"):
        where = f"your {outputs['stopped']}"
        return "error", f"{where} did not finish within the per-exercise limit of {limit:g} s (interrupted)"
    if not outputs.get("defined"):
        why = f"your cell {_describe(top)} before defining {check.name}" if top else "the function is not defined"
        return "error", why
    note = f" (note: your cell {_describe(top)} after defining it)" if top else ""
    expected = check.expected()
    for i, (case, want) in enumerate(zip(outputs["cases"], expected)):
        if "raised" in case:
            if case["raised"] == "NotImplementedError":
                return "not attempted", f"{check.name}: not attempted yet (the stub still raises NotImplementedError)"
            return "failed", f"{check.name}: case {i} {_describe(case)}{note}"
        try:
            ok = bool(exercises_mod.same(case["ok"], want, check.atol))
        except Exception as e:  # e.g. an array whose truth value is ambiguous
            ok, note = False, f" (it could not be compared: {type(e).__name__}){note}"
        if not ok:
            return "failed", exercises_mod.mismatch(check.name, i, case["ok"], want, check.hint) + note
    if len(outputs["cases"]) != check.n or len(expected) != check.n:
        return "error", f"your function's outputs cover {len(outputs['cases'])} of {check.n} cases"
    return "passed", f"\u2713 {check.name}: all {check.n} checks passed{note}"


def _run_one(check, source, imports, tmp: Path, k: int, limit: float, wall: float, sandboxed: bool):
    inp, out = tmp / f"in{k}", tmp / f"out{k}"
    inp.mkdir()
    out.mkdir()
    for f in check.inputs():
        shutil.copyfile(f, inp / f.name.split(".", 1)[1])  # inputs.json, inputs.safetensors
    job = {"function": check.name, "source": source, "imports": imports, "limit_s": limit}
    (inp / "job.json").write_text(json.dumps(job))
    problem = sandbox.run(inp, out, wall, sandboxed)
    if problem is not None and not (out / "outputs.json").is_file():
        return "error", f"your code {problem}"
    try:
        outputs = values.load(out, "outputs")
        if not (isinstance(outputs, dict) and isinstance(outputs.get("cases"), list)):
            raise values.BadValue("not the harness's layout")
        if not all(isinstance(c, dict) and ("ok" in c or isinstance(c.get("raised"), str)) for c in outputs["cases"]):
            raise values.BadValue("a malformed case")
    except values.BadValue as e:
        return "error", f"your function's outputs could not be read ({e})"
    return judge(check, outputs, limit)


def grade(
    submission,
    chapter: str | None = None,
    timeout: float = 600,
    cell_timeout: int = 120,
    report: str | Path | None = None,
    notebooks: Path | None = None,
    sandboxed: bool = True,
) -> dict:
    """Grade one submission; write the JSON report (default <stem>.grade.json beside it) and return it.
    `notebooks`: the trusted chapters (default: the checkout's notebooks/, found by grokkit.store.repo).
    sandboxed=False: a self-check without bubblewrap (the report says so; not for marks)."""
    if not (timeout > 0 and cell_timeout > 0):  # 0 or less would interrupt every cell (or never limit one)
        raise ValueError(f"timeout and cell_timeout must be positive seconds, got {timeout} and {cell_timeout}")
    t0, path = time.monotonic(), Path(submission)
    notebooks = Path(notebooks or repo_root() / "notebooks")
    out = {"submission": str(path), "chapter": chapter, "graded": False, "reason": None, "exercises": [],
           "sandbox": "bubblewrap" if sandboxed else "none (a self-check: not for marks)"}  # fmt: skip
    try:
        nb = load_submission(path)
        out["chapter"] = chapter = chapter or detect_chapter(path, nb, notebooks)
        if chapter is None or not (Path(notebooks) / f"{chapter}.ipynb").is_file():
            raise ValueError(
                f"unknown chapter {chapter!r}"
                if chapter
                else "could not tell the chapter from the file name or the title; pass --chapter"
            )
        trusted_path = Path(notebooks) / f"{chapter}.ipynb"
        trusted = nbformat.read(trusted_path, as_version=4)
        exs, sources = exercises(trusted), submitted_cells(trusted, nb)
        out["exercises"] = entries = [_entry(ex) for ex in exs]
        if sandboxed and (why := sandbox.unavailable()):
            raise ValueError(f"{why}. A student's own self-check may run without it: --unsandboxed")
        checks = record.reference(trusted_path, timeout)
        out["reason"] = _grade_all(checks, sources, chapter_imports(trusted), entries, timeout, cell_timeout, sandboxed)
        out["graded"] = any(e["status"] != "not graded" for e in entries)
    except (ValueError, record.RecordError) as e:
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


def _grade_all(checks, sources, imports, entries, timeout, cell_timeout, sandboxed) -> str | None:
    """Fill the entries, one sandbox per exercise; return what cut the grading short, or None."""
    deadline, problem = time.monotonic() + timeout, None
    with tempfile.TemporaryDirectory(prefix="grokkit-grade-", ignore_cleanup_errors=True) as tmp:
        for k, (e, source) in enumerate(zip(entries, sources)):
            if source is None:
                e.update(status="missing", message=f"no code cell defines {e['function']}(...)")
                continue
            if k not in checks:
                e.update(message="not run: the chapter has no check for it")
                continue
            left = deadline - time.monotonic()
            if left < 1:
                problem = problem or f"the grading was stopped at the overall limit of {timeout:g} s"
                e.update(message=f"not run: {problem}")
                continue
            wall = min(cell_timeout + _GRACE_S, left)
            status, message = _run_one(checks[k], source, imports, Path(tmp), k, cell_timeout, wall, sandboxed)
            if status == "error" and wall < cell_timeout + _GRACE_S and "did not finish" in message:
                problem = f"the grading was stopped at the overall limit of {timeout:g} s"
                message = f"{problem} while running your code"
            e.update(status=status, message=message)
    return problem


def exit_code(report: dict) -> int:
    if not report["graded"]:
        return 2
    return 0 if report["passed"] == report["total"] else 1


def summary(report: dict) -> str:
    """A few lines for the terminal."""
    lines = [f"grade: {report['submission']} (chapter {report['chapter'] or '?'}, {report['elapsed_s']:.0f} s)"]
    if not report.get("sandbox", "").startswith("bubblewrap"):
        lines.append(f"  sandbox: {report.get('sandbox')}")
    if report["reason"]:
        lines.append(f"  {'note' if report['graded'] else 'could not grade'}: {report['reason']}")
    for e in report["exercises"]:
        lines.append(f"  {e['id']:<5} {e['function']:<20} {e['status']:<14} {e['message']}".rstrip())
    if report["exercises"]:
        lines.append(f"  {report['passed']} of {report['total']} passed")
    if report.get("report"):
        lines.append(f"  report: {report['report']}")
    return "\n".join(lines)
